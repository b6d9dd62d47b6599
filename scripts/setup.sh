#!/usr/bin/env bash
# Installs (apt) exactly the build and test dependencies that are missing.
# Idempotent: does nothing when everything is present.
#
#   scripts/setup.sh            build + test dependencies
#   scripts/setup.sh --build    only what building the library needs
set -euo pipefail

build_pkgs=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libjson-glib-dev libpcre2-dev libcurl4-openssl-dev libarchive-dev libyaml-dev
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 gir1.2-json-1.0
)
run_pkgs=(python3 nodejs bash coreutils procps curl)
test_pkgs=(
  python3-gi gjs libcmark-dev cmark-gfm valgrind clang libclang-rt-14-dev
  python3-matplotlib docker.io mmdebstrap socat podman hyperfine
  python3-kubernetes openssl kubectl catatonit
)

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
[ "${1:-}" = "--build" ] || want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
