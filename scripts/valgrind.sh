#!/usr/bin/env bash
# Runs C test suites under valgrind memcheck (definite leaks and memory errors fail).
#
#   scripts/valgrind.sh SUITE...     e.g. scripts/valgrind.sh core context parser
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || { echo "usage: scripts/valgrind.sh SUITE..." >&2; exit 2; }
args=()
for s in "$@"; do args+=(--suite "$s"); done
G_SLICE=always-malloc meson test -C "$top/_build" --print-errorlogs --num-processes 2 \
  --timeout-multiplier 10 \
  --wrap="valgrind -q --child-silent-after-fork=yes --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 --suppressions=$top/tests/valgrind.supp" \
  "${args[@]}"
