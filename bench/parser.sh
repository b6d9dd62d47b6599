#!/usr/bin/env bash
# Parser throughput: libagentexec's code-block parser vs cmark-gfm on the same
# bytes. Run by bench/run (which builds $AGENTEXEC_BUILD_DIR / _build-bench).
#
# Two tables:
# 1. in process: extract_code_blocks on each input (median of 21 runs);
# 2. whole programs on the same files, timed by hyperfine:
#    `agentexec-extract --json FILE` vs `cmark-gfm FILE` (cmark-gfm parses
#    inlines and renders HTML; we only need block structure - that is the
#    point of the comparison). MB/s = file size / fastest run; ratio = their
#    time / ours; net = the same after subtracting each program's start-up.
#
# Goal rows (issue 17; collected by bench/run through AGENTEXEC_BENCH_GOALS):
# start-up on an empty file <= 1 ms; whole program >= 3x cmark-gfm on the
# 2 MB reply and >= 1.0x on every input.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${AGENTEXEC_BENCH_BUILD:-$top/_build-bench}
if [ ! -x "$build/bench/bench-parser" ]; then
  [ -f "$build/build.ninja" ] || meson setup "$build" "$top" --buildtype=release -Dtests=false >/dev/null
  ninja -C "$build" bench/bench-parser tools/agentexec-extract >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/bench/bench-parser" --write "$tmp"
echo

if ! command -v cmark-gfm >/dev/null; then
  echo "cmark-gfm not installed (apt-get install cmark-gfm): no comparison"
  exit 0
fi

min_seconds () {   # "MIN MEDIAN" of "$@" in seconds (min: the least disturbed run)
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --min-runs 10 --export-json "$tmp/h.json" "$*" >/dev/null 2>&1
    /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["min"], r["median"])' "$tmp/h.json"
  else
    local s e all=()
    for _ in 1 2 3 4 5 6 7 8 9 10 11; do
      s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N)
      all+=($((e - s)))
    done
    printf '%s\n' "${all[@]}" | sort -n | awk '{v[NR]=$1} END {printf "%.9f %.9f\n", v[1]/1e9, v[6]/1e9}'
  fi
}

: > "$tmp/empty.txt"
read -r ours0 ours0_med < <(min_seconds "$build/tools/agentexec-extract" --json "$tmp/empty.txt")
read -r gfm0 gfm0_med < <(min_seconds cmark-gfm "$tmp/empty.txt")
printf 'start-up on an empty file: agentexec-extract %.2f ms (median %.2f), cmark-gfm %.2f ms (median %.2f)\n' \
  "$(echo "$ours0 * 1000" | bc -l)" "$(echo "$ours0_med * 1000" | bc -l)" \
  "$(echo "$gfm0 * 1000" | bc -l)" "$(echo "$gfm0_med * 1000" | bc -l)"
ratios=$tmp/ratios
: > "$ratios"
printf '%-28s %10s %10s %10s %10s %7s %7s %9s\n' "input (whole program)" "ours ms" "ours MB/s" \
  "gfm ms" "gfm MB/s" "ratio" "net" "ratio med"
for f in "$tmp"/*.md; do
  name=$(basename "$f" .md)
  size=$(stat -c %s "$f")
  read -r ours ours_med < <(min_seconds "$build/tools/agentexec-extract" --json "$f")
  read -r gfm gfm_med < <(min_seconds cmark-gfm "$f")
  /usr/bin/python3 - "$name" "$size" "$ours" "$gfm" "$ours0" "$gfm0" "$ratios" "$ours_med" "$gfm_med" <<'PY'
import sys
name, size = sys.argv[1], int(sys.argv[2])
ours, gfm, ours0, gfm0 = (float(x) for x in sys.argv[3:7])
ours_med, gfm_med = float(sys.argv[8]), float(sys.argv[9])
net = '%6.1fx' % ((gfm - gfm0) / (ours - ours0)) if ours - ours0 > 5e-4 else '     -'
print('%-28s %10.2f %10.1f %10.2f %10.1f %6.1fx %s %8.1fx' % (name, ours * 1e3, size / 1e6 / ours,
      gfm * 1e3, size / 1e6 / gfm, gfm / ours, net, gfm_med / ours_med))
with open(sys.argv[7], 'a') as f:
    f.write('%s %.3f\n' % (name, gfm / ours))
PY
done
/usr/bin/python3 - "$ratios" "$ours0" "$gfm0" <<'PY'
import os, sys
ratios = dict((l.split()[0], float(l.split()[1])) for l in open(sys.argv[1]))
ours0, gfm0 = float(sys.argv[2]), float(sys.argv[3])
rows = []
reply = ratios.get('reply-2mb-2000-blocks', 0)
worst = min(ratios, key=ratios.get)
rows.append(('extract-ratio', 'agentexec-extract whole program vs cmark-gfm',
             '%.1fx on the 2 MB reply, lowest %.2fx (%s)' % (reply, ratios[worst], worst),
             '>= 3x on the 2 MB reply, >= 1.0x on every input',
             reply >= 3 and ratios[worst] >= 1.0))
rows.append(('extract-startup', 'agentexec-extract start-up, empty file',
             '%.2f ms (cmark-gfm %.2f ms)' % (ours0 * 1e3, gfm0 * 1e3), '<= 1 ms', ours0 <= 1e-3))
goals = os.environ.get('AGENTEXEC_BENCH_GOALS')
for id_, path, measured, goal, met in rows:
    print('goal: %s: %s (goal %s): %s' % (path, measured, goal, 'met' if met else 'not met'))
    if goals:
        with open(goals, 'a') as f:
            f.write('\t'.join((id_, path, measured, goal, 'met' if met else 'not met')) + '\n')
PY
echo "Fastest of >= 10 runs (hyperfine min); ratio med: the same with the medians. The goals use"
echo "the fastest runs (the least disturbed on a shared machine)."
echo "ratio = cmark-gfm time / ours; net = the same with"
echo "each program's empty-file start-up subtracted (- when ours is within 0.5 ms of it)."
echo "In process (table 1) vs cmark-gfm: compare the MB/s columns."
