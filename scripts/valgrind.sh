#!/usr/bin/env bash
# Runs C test suites under valgrind memcheck (definite leaks and memory errors fail).
#
#   scripts/valgrind.sh SUITE...   e.g. scripts/valgrind.sh core context parser
#   scripts/valgrind.sh TEST...    e.g. scripts/valgrind.sh test-kubernetes test-local
#
# A name starting with test- is one test (a suite such as kubernetes also
# holds Python and shell tests, which valgrind should not wrap). Give suites
# or tests, not both: meson then runs only the tests that are in both.
#
# Environment:
#   AGENTEXEC_BUILD          the build directory (default: _build)
#   AGENTEXEC_TEST_JOBS      how many suites run at once (default: 2)
#   AGENTEXEC_VALGRIND_OPTS  more valgrind options, e.g. "--track-fds=yes --num-callers=30"
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${AGENTEXEC_BUILD:-$top/_build}
[ $# -gt 0 ] || { echo "usage: scripts/valgrind.sh SUITE|TEST..." >&2; exit 2; }
args=()
for s in "$@"; do
  case $s in
    test-*) args+=("$s") ;;
    *) args+=(--suite "$s") ;;
  esac
done
G_SLICE=always-malloc meson test -C "$build" --print-errorlogs \
  --num-processes "${AGENTEXEC_TEST_JOBS:-2}" --timeout-multiplier 10 \
  --wrap="valgrind -q --child-silent-after-fork=yes --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 --suppressions=$top/tests/valgrind.supp ${AGENTEXEC_VALGRIND_OPTS:-}" \
  "${args[@]}"
