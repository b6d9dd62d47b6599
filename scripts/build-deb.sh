#!/usr/bin/env bash
# Builds the Debian packages of libagentexec from this checkout and checks them.
#
#   scripts/build-deb.sh [--no-check] [OUTDIR]      (default OUTDIR: _build-deb)
#
# 1. installs the build dependencies that are missing (debian/control's
#    Build-Depends, with apt), 2. copies the checkout's files (tracked and new,
#    not ignored ones such as build directories) into a temporary tree and runs
#    `dpkg-buildpackage -us -uc -b` there, 3. runs lintian on the result and
#    fails on any error, 4. unless --no-check, scripts/check-deb.sh installs the
#    packages into a throwaway Debian root and runs the demo's extraction there.
# The .deb, .changes and .buildinfo files end up in OUTDIR.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
check=1
if [ "${1:-}" = "--no-check" ]; then check=0; shift; fi
out=${1:-$top/_build-deb}
note() { echo "build-deb: $*"; }

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
for tool in dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || { $sudo apt-get install -y -qq --no-install-recommends \
    dpkg-dev debhelper lintian >/dev/null; break; }
done
if ! (cd "$top" && dpkg-checkbuilddeps) 2>/dev/null; then
  missing=$( (cd "$top" && dpkg-checkbuilddeps 2>&1 || true) | sed -n 's/.*Unmet build dependencies: //p' |
            sed 's/([^)]*)//g')
  note "installing the build dependencies: $missing"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing \
    >/dev/null
fi

version=$(cd "$top" && dpkg-parsechangelog -S Version)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/libagentexec-$version
mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
   xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
   tar --null -T - -cf -) | tar -xf - -C "$src"

note "dpkg-buildpackage -us -uc -b in $src"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
   dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 || {
  tail -40 "$tmp/build.log"; note "dpkg-buildpackage failed (log above)"; exit 1; }

mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out"/
cp "$tmp/build.log" "$out/build.log"
note "built: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"

changes=$(ls "$out"/*.changes)
note "lintian $changes"
if ! lintian --fail-on error --display-level '>=warning' "$changes" >"$out/lintian.log" 2>&1; then
  cat "$out/lintian.log"
  note "lintian found errors (above; lintian --info explains each tag)"
  exit 1
fi
cat "$out/lintian.log"
note "lintian: no errors"

if [ "$check" = 1 ]; then
  "$top/scripts/check-deb.sh" "$out"
fi
