#!/usr/bin/env bash
# Local backend benchmark: stateless print(1) vs `python3 -c 'print(1)'`
# spawned directly (ratio), the stateful round trip, and throughput with 1, 8
# and 32 concurrent callers, in one run.
#
#   bench/local.sh [--runs N] [--round-trips M] [--python PATH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${AGENTEXEC_BENCH_BUILD:-$top/_build-bench}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" bench/bench-local >/dev/null
exec "$build/bench/bench-local" "$@"
