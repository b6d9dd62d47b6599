#!/usr/bin/env bash
# Starts Podman's Docker-compatible API service on a unix socket and makes sure it
# holds the runtime image, so the container suite can run against Podman as well.
#
#   scripts/start-podman.sh [SOCKET]     default /tmp/agentexec-podman.sock
#
# Prints the DOCKER_HOST to use. Exit 0 when the service answers with the image.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sock=${1:-/tmp/agentexec-podman.sock}
log=${AGENTEXEC_PODMAN_LOG:-/tmp/agentexec-podman.log}
image=agentexec-runtime:latest

answers() {
  curl -fsS --max-time 3 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
}

command -v podman >/dev/null || { echo "start-podman: podman is not installed (apt-get install podman)" >&2; exit 1; }
if ! answers; then
  rm -f "$sock"
  # Podman's conmon writes state files (an "oom" marker after an OOM kill) into
  # its working directory: give it one of its own, never the checkout.
  rundir=${AGENTEXEC_PODMAN_DIR:-/tmp/agentexec-podman}
  mkdir -p "$rundir"
  cd "$rundir" || exit 1
  nohup podman system service --time=0 "unix://$sock" >"$log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || { echo "start-podman: the service did not answer; see $log" >&2; tail -20 "$log" >&2; exit 1; }
fi
if ! podman image exists "$image"; then
  # From the Docker engine's copy when there is one, else built from Debian packages.
  if docker image inspect "$image" >/dev/null 2>&1; then
    docker save "$image" | podman load -q >/dev/null || exit 1
  else
    DOCKER=podman "$here/build-runtime-image.sh" >&2 || exit 1
  fi
fi
echo "unix://$sock"
