#!/usr/bin/env bash
# Builds the pod image of the Kubernetes backend from Debian packages and the built
# tree, with no registry: mmdebstrap makes a bookworm root filesystem holding the
# interpreters and the libraries agentexec links to, `meson install` puts the built
# tree into /usr/local, and the result is imported into Podman (and the Docker engine
# when one answers) as agentexec-kube:latest.
#
#   scripts/build-kube-image.sh [--build DIR] [--tag NAME] [--force] [--with-data-libs]
#
# The image runs as the non-root user `runner` (uid 1000); its pods start
# `agentexec serve` (see the manifest from agentexec_kubernetes_executor_dup_pod_manifest).
# On a real cluster, push it to your registry (podman push) and set the image property.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$root/_build
tag=agentexec-kube:latest
force=0
extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift ;;
    --tag) tag="$2"; shift ;;
    --force) force=1 ;;
    --with-data-libs) extra=",python3-numpy,python3-pandas,python3-matplotlib" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build-kube-image: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$force" = 0 ] && podman image exists "$tag" 2>/dev/null; then
  echo "build-kube-image: $tag already present (use --force to rebuild)"
  exit 0
fi
command -v mmdebstrap >/dev/null || { echo "build-kube-image: mmdebstrap is missing: apt-get install mmdebstrap" >&2; exit 1; }
command -v podman >/dev/null || { echo "build-kube-image: podman is missing: apt-get install podman" >&2; exit 1; }
[ -x "$build/tools/agentexec" ] || { echo "build-kube-image: $build/tools/agentexec is missing: build first" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The built tree, as `meson install` lays it out under /usr/local.
DESTDIR="$tmp/stage" meson install -C "$build" --no-rebuild --quiet --skip-subprojects >/dev/null
rm -rf "$tmp/stage/usr/local/include" "$tmp/stage/usr/local/share/gir-1.0" \
       "$tmp/stage/usr/local/share/doc"
libs="libglib2.0-0,libjson-glib-1.0-0,libsoup-3.0-0,libcurl4,libpcre2-8-0,libarchive13,libyaml-0-2"
mmdebstrap --quiet --variant=apt --format=tar \
  --include="python3,nodejs,bash,coreutils,ca-certificates,${libs}${extra}" \
  --customize-hook='chroot "$1" useradd --uid 1000 --user-group --create-home --shell /bin/bash runner' \
  --customize-hook='mkdir -p "$1/workspace" "$1/run/agentexec" && chroot "$1" chown runner:runner /workspace /run/agentexec' \
  --customize-hook="cp -a '$tmp/stage/usr/local/.' \"\$1/usr/local/\"" \
  --customize-hook='chroot "$1" ldconfig' \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
  bookworm "$tmp/rootfs.tar"
podman import \
  --change 'WORKDIR /workspace' \
  --change 'USER 1000:1000' \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/home/runner' \
  --change 'CMD ["agentexec", "serve", "--help"]' \
  "$tmp/rootfs.tar" "$tag" >/dev/null
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  docker import \
    --change 'WORKDIR /workspace' --change 'USER 1000:1000' \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/home/runner' \
    "$tmp/rootfs.tar" "$tag" >/dev/null || true
fi
echo "build-kube-image: built $tag"
