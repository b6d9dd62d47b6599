#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock (or $DOCKER_HOST),
# starting dockerd when nothing does. Exit 0 when an engine answers, 1 otherwise.
#
#   scripts/start-dockerd.sh
#
# The engine runs with --iptables=false --bridge=none: the executor's
# containers use NetworkMode none, and this machine has no network to give.
set -uo pipefail
log=${AGENTEXEC_DOCKERD_LOG:-/tmp/agentexec-dockerd.log}
sock=/var/run/docker.sock

answers() {
  curl -fsS --max-time 3 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
}

if answers; then
  echo "start-dockerd: engine answers on $sock"
  exit 0
fi
if ! command -v dockerd >/dev/null; then
  echo "start-dockerd: dockerd is not installed (apt-get install docker.io)" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "start-dockerd: no engine on $sock and starting dockerd needs root" >&2
  exit 1
fi
# containerd may be left over from an earlier engine; dockerd starts its own.
cd / || exit 1
nohup dockerd --iptables=false --bridge=none >"$log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if answers; then
    echo "start-dockerd: started dockerd (log: $log)"
    exit 0
  fi
  sleep 0.5
done
echo "start-dockerd: dockerd did not answer within 30 s; see $log:" >&2
tail -20 "$log" >&2
exit 1
