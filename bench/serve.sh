#!/usr/bin/env bash
# `agentexec serve` benchmark: the stateful runCode("x += 1") round trip through
# the real E2B SDK (@e2b/code-interpreter, debug mode, over HTTP) vs the same call
# in process (goal: SDK median <= 1.5 ms on the local backend), and throughput with
# 1, 8 and 32 contexts running concurrently.
#
#   bench/serve.sh [--round-trips M] [--backend local|container]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${AGENTEXEC_BENCH_BUILD:-$top/_build-bench}
round_trips=1000
backend=local
while [ $# -gt 0 ]; do
  case "$1" in
    --round-trips) round_trips=$2; shift ;;
    --backend) backend=$2; shift ;;
    *) echo "serve.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$top" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" bench/bench-serve tools/agentexec >/dev/null
[ -d "$top/tests/e2b/node_modules" ] || (cd "$top/tests/e2b" && npm ci --no-audit --no-fund >/dev/null)

read -r _ in_median _ in_p90 < <("$build/bench/bench-serve" --round-trips "$round_trips")
sdk=$(AGENTEXEC_BUILD_DIR=$build node "$here/serve.mjs" "$backend" "$round_trips")
read -r _ sdk_median _ sdk_p90 < <(echo "$sdk" | grep '^sdk_median_ms')

printf '%-52s %9.3f ms  p90 %7.3f ms\n' "in process: local stateful x += 1, median" "$in_median" "$in_p90"
printf '%-52s %9.3f ms  p90 %7.3f ms  (goal <= 1.5 ms)\n' \
  "E2B SDK runCode(\"x += 1\") via serve ($backend), median" "$sdk_median" "$sdk_p90"
if [ -n "${AGENTEXEC_BENCH_GOALS:-}" ] && [ "$backend" = local ]; then
  met=$(echo "$sdk_median <= 1.5" | bc -l | sed 's/^1$/met/; s/^0$/not met/')
  printf 'serve-sdk-stateful\t%s\t%s ms median (in process %s ms)\t%s\t%s\n' \
    'E2B SDK runCode("x += 1") via agentexec serve (local)' "$sdk_median" "$in_median" \
    '<= 1.5 ms median' "$met" >> "$AGENTEXEC_BENCH_GOALS"
fi
printf '%-52s %9.2fx\n' "ratio SDK / in process" "$(echo "$sdk_median / $in_median" | bc -l)"
echo "$sdk" | grep '^throughput' | while read -r _ n rate runs; do
  printf '%-52s %9s runs/s (%s runs, %s cores)\n' "runCode(\"x += 1\"), $n concurrent context(s)" \
    "$rate" "$runs" "$(nproc)"
done
