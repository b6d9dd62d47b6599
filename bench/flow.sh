#!/usr/bin/env bash
# Streaming flow benchmark: delay from a code block's closing fence being fed
# to the backend's run (dispatch) and to the code running (local backend,
# stateless and stateful), and a simulated model reply streamed vs waited for.
#
#   bench/flow.sh [--runs N] [--python PATH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${AGENTEXEC_BENCH_BUILD:-$top/_build-bench}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" bench/bench-flow >/dev/null
exec "$build/bench/bench-flow" "$@"
