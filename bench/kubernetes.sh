#!/usr/bin/env bash
# Kubernetes backend benchmark, against the test API server of tests/kube/ (its pods
# are real `agentexec serve` processes of the release build): claim + first result
# from a warm pod vs a cold start, and the stateful round trip through the pod proxy.
#
#   bench/kubernetes.sh [--runs N] [--round-trips M]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${AGENTEXEC_BENCH_BUILD:-$top/_build-bench}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" bench/bench-kubernetes tools/agentexec >/dev/null
state=$(mktemp -d)
chmod 755 "$state"
trap '"$top/scripts/start-kube-test.sh" --stop --dir "$state" >/dev/null; rm -rf "$state"' EXIT
config=$("$top/scripts/start-kube-test.sh" --dir "$state" --build "$build" --owner-pid $$ | tail -1)
"$build/bench/bench-kubernetes" "$config" "$@"
