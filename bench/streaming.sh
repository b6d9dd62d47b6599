#!/usr/bin/env bash
# Per-call output benchmark: delivery cost per chunk (sync and async) of the
# per-call function next to the ::output signal, and a Local run writing
# 20000 flushed lines with each kind of listener.
#
#   bench/streaming.sh [--runs N] [--chunks M] [--python PATH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${AGENTEXEC_BENCH_BUILD:-$top/_build-bench}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" bench/bench-streaming >/dev/null
exec "$build/bench/bench-streaming" "$@"
