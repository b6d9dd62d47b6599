#!/usr/bin/env bash
# Builds the libagentexec runtime image from Debian packages, with no registry:
# mmdebstrap makes a bookworm root filesystem, `docker import` turns it into an image.
#
#   scripts/build-runtime-image.sh [--minimal] [--tag NAME] [--force]
#
# The image holds python3 (full standard library) with the data libraries
# python3-numpy, python3-pandas and python3-matplotlib, nodejs, bash and coreutils,
# and a non-root user `runner` (uid 1000) owning /workspace. --minimal leaves the
# data libraries out (the image is then about a quarter of the size);
# --with-data-libs is accepted and is the default. MPLCONFIGDIR points into the
# tmpfs /tmp, the only writable place besides /workspace under a read-only root.
# Users with a registry can build images/runtime/Dockerfile instead.
set -euo pipefail

tag=agentexec-runtime:latest
data_libs=",python3-numpy,python3-pandas,python3-matplotlib"
extra=$data_libs
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --minimal) extra="" ;;
    --with-data-libs) extra=$data_libs ;;
    --tag) tag="$2"; shift ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-runtime-image: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

docker=${DOCKER:-docker}
if [ "$force" = 0 ] && $docker image inspect "$tag" >/dev/null 2>&1; then
  echo "build-runtime-image: $tag already present (use --force to rebuild)"
  exit 0
fi
command -v mmdebstrap >/dev/null || { echo "build-runtime-image: mmdebstrap is missing: apt-get install mmdebstrap" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mmdebstrap --quiet --variant=apt --format=tar \
  --include="python3,nodejs,bash,coreutils,ca-certificates${extra}" \
  --customize-hook='chroot "$1" useradd --uid 1000 --user-group --create-home --shell /bin/bash runner' \
  --customize-hook='mkdir -p "$1/workspace" && chroot "$1" chown runner:runner /workspace' \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
  bookworm "$tmp/rootfs.tar"
$docker import \
  --change 'WORKDIR /workspace' \
  --change 'USER 1000:1000' \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/home/runner MPLCONFIGDIR=/tmp/matplotlib' \
  --change 'CMD ["/bin/bash"]' \
  "$tmp/rootfs.tar" "$tag" >/dev/null
echo "build-runtime-image: built $tag"
