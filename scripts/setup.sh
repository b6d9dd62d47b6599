#!/usr/bin/env bash
# Installs (apt) exactly the build and test dependencies that are missing.
# Idempotent: does nothing when everything is present.
#
#   scripts/setup.sh            build + test dependencies
#   scripts/setup.sh --build    only what building the library needs
set -euo pipefail

build_pkgs=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libjson-glib-dev libpcre2-dev libcurl4-openssl-dev libarchive-dev libseccomp-dev libyaml-dev
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 gir1.2-json-1.0
  libsoup-3.0-dev
)
run_pkgs=(python3 nodejs bash coreutils procps curl)
test_pkgs=(
  python3-gi gjs libcmark-dev cmark-gfm valgrind clang libclang-rt-14-dev
  python3-matplotlib docker.io mmdebstrap socat podman hyperfine bubblewrap
  gi-docgen scdoc man-db systemd
  python3-kubernetes openssl kubectl catatonit
)
# scripts/build-deb.sh: the Debian packages (it also installs debian/control's
# Build-Depends that are missing).
deb_pkgs=(dpkg-dev debhelper dh-python lintian fakeroot)
# npm trees of the JS tests (lockfiles committed): the real E2B SDK, ADK-JS.
npm_dirs=(tests/e2b examples/adk-js)

npm_ci() {
  [ "${1:-}" = "--build" ] && return 0
  cd "$(dirname "$0")/.."
  command -v npm >/dev/null || { echo "setup: npm is missing (it comes with Node.js 20)" >&2; return 1; }
  for d in "${npm_dirs[@]}"; do
    if [ ! -d "$d/node_modules" ] || [ "$d/package-lock.json" -nt "$d/node_modules" ]; then
      echo "setup: npm ci in $d"
      (cd "$d" && npm ci --no-audit --no-fund --loglevel=error) && touch "$d/node_modules"
    fi
  done
}

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
[ "${1:-}" = "--build" ] || want+=("${test_pkgs[@]}" "${deb_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#want[@]} packages present"
  npm_ci "${1:-}"
  exit 0
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
npm_ci "${1:-}"
echo "setup: done"
