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

min_seconds () {   # fastest run of "$@" in seconds (the least disturbed one)
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --min-runs 10 --export-json "$tmp/h.json" "$*" >/dev/null 2>&1
    /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["min"])' "$tmp/h.json"
  else
    local s e
    local best=999999999999 s e
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N)
      [ $((e - s)) -lt "$best" ] && best=$((e - s))
    done
    echo "$best / 1000000000" | bc -l
  fi
}

: > "$tmp/empty.txt"
ours0=$(min_seconds "$build/tools/agentexec-extract" --json "$tmp/empty.txt")
gfm0=$(min_seconds cmark-gfm "$tmp/empty.txt")
printf 'start-up on an empty file: agentexec-extract %.2f ms, cmark-gfm %.2f ms\n' \
  "$(echo "$ours0 * 1000" | bc -l)" "$(echo "$gfm0 * 1000" | bc -l)"
printf '%-28s %10s %10s %10s %10s %7s %7s\n' "input (whole program)" "ours ms" "ours MB/s" \
  "gfm ms" "gfm MB/s" "ratio" "net"
for f in "$tmp"/*.md; do
  name=$(basename "$f" .md)
  size=$(stat -c %s "$f")
  ours=$(min_seconds "$build/tools/agentexec-extract" --json "$f")
  gfm=$(min_seconds cmark-gfm "$f")
  /usr/bin/python3 - "$name" "$size" "$ours" "$gfm" "$ours0" "$gfm0" <<'PY'
import sys
name, size = sys.argv[1], int(sys.argv[2])
ours, gfm, ours0, gfm0 = (float(x) for x in sys.argv[3:7])
net = '%6.1fx' % ((gfm - gfm0) / (ours - ours0)) if ours - ours0 > 5e-4 else '     -'
print('%-28s %10.2f %10.1f %10.2f %10.1f %6.1fx %s' % (name, ours * 1e3, size / 1e6 / ours,
      gfm * 1e3, size / 1e6 / gfm, gfm / ours, net))
PY
done
echo "Fastest of >= 10 runs (hyperfine min). ratio = cmark-gfm time / ours; net = the same with"
echo "each program's empty-file start-up subtracted (- when ours is within 0.5 ms of it)."
echo "In process (table 1) vs cmark-gfm: compare the MB/s columns."
