#!/usr/bin/env bash
# Container backend benchmark: a stateless run vs `docker run --rm` and vs one
# `docker exec` per call, interleaved in one run, with ratios. Needs a running
# engine and agentexec-runtime:latest (scripts/build-runtime-image.sh).
#
#   bench/container.sh [--runs N] [--concurrency C] [--image IMAGE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${AGENTEXEC_BENCH_BUILD:-$top/_build-bench}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" bench/bench-container >/dev/null
# AGENTEXEC_BENCH_IMAGE: another image than agentexec-runtime:latest.
exec "$build/bench/bench-container" ${AGENTEXEC_BENCH_IMAGE:+--image "$AGENTEXEC_BENCH_IMAGE"} "$@"
