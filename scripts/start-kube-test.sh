#!/usr/bin/env bash
# Starts the test-only Kubernetes API server of tests/kube/ (pods are real
# `agentexec serve` processes from the built tree) and prints, as its last line,
# the path of a kubeconfig for it:
#
#   scripts/start-kube-test.sh [--build DIR] [--dir STATE] [--owner-pid PID]
#                                       start (idempotent; with PID: stop when it exits)
#   scripts/start-kube-test.sh --stop [--dir STATE]          stop it and its pods
#
#   kubectl --kubeconfig "$(scripts/start-kube-test.sh | tail -1)" get pods
#   agentexec run --backend kubernetes --kubeconfig PATH code.py
#
# Contexts in the kubeconfig: agentexec-test (client certificate, all rights, the
# default), executor (bearer token with exactly the verbs of docs/kubernetes.md),
# readonly, nopatch, noproxy (missing verbs) and bad-token (401). Namespace
# `agentexec`. This is a test double, not a cluster: see docs/kubernetes.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
state=${AGENTEXEC_KUBE_TEST_DIR:-/tmp/agentexec-kube-test}
build=${AGENTEXEC_BUILD_DIR:-$root/_build}
stop=0
owner=0
while [ $# -gt 0 ]; do
  case "$1" in
    --stop) stop=1 ;;
    --dir) state="$2"; shift ;;
    --build) build="$2"; shift ;;
    --owner-pid) owner="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "start-kube-test: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

pidfile=$state/server.pid
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

if [ "$stop" = 1 ]; then
  if running; then
    pid=$(cat "$pidfile")
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
  echo "start-kube-test: stopped"
  exit 0
fi

if running && [ -f "$state/port" ]; then
  echo "$state/kubeconfig"
  exit 0
fi
agentexec=$build/tools/agentexec
[ -x "$agentexec" ] || { echo "start-kube-test: $agentexec is missing: build first (meson setup _build && ninja -C _build)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "start-kube-test: openssl is missing: apt-get install openssl" >&2; exit 1; }
mkdir -p "$state"
rm -f "$state/port"
nohup /usr/bin/python3 "$root/tests/kube/kube-test-apiserver.py" --dir "$state" \
  --image "agentexec-runtime:latest=$agentexec" \
  --image "${AGENTEXEC_KUBE_IMAGE:-agentexec-kube:latest}=$agentexec" --owner-pid "$owner" \
  >"$state/server.log" 2>&1 </dev/null &
echo $! >"$pidfile"
for _ in $(seq 1 100); do [ -f "$state/port" ] && break; running || break; sleep 0.1; done
if [ ! -f "$state/port" ]; then
  echo "start-kube-test: the server did not start; see $state/server.log" >&2
  tail -20 "$state/server.log" >&2
  exit 1
fi
echo "start-kube-test: listening on https://127.0.0.1:$(cat "$state/port") (log $state/server.log)"
echo "$state/kubeconfig"
