#!/bin/sh
# readme-example.sh README OUTDIR: writes the README's first ```c block to
# OUTDIR/example.c, so the tests compile exactly what the README shows.
set -eu
readme=$1
out=$2/example.c
awk '/^```c$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' \
  "$readme" >"$out"
if ! grep -q 'main' "$out"; then
  echo "readme-example.sh: no \`\`\`c block with a main() in $readme" >&2
  exit 1
fi
