#!/usr/bin/env bash
# Runs every test suite of libagentexec, as CI does.
#
#   scripts/test.sh
#
# 1. installs what is missing (scripts/setup.sh), 2. makes sure a Docker engine
# answers (scripts/start-dockerd.sh) and the runtime image exists
# (scripts/build-runtime-image.sh), 3. builds in _build and runs every suite
# (C, Python, GJS), 4. builds the C suites again under ASan+UBSan in _build-asan
# and runs them (all but the real-engine container suite, which the plain build
# runs), 5. as root, runs the Local sandbox suites again as an ordinary user
# it creates (agentexec-test: the sandbox then takes a user namespace; logs
# in meson-logs/userlog-setpriv.json, meson names them after the wrapper),
# 6. prints `tests: N passed, N failed` counted from meson's testlog.json
# files, and exits non-zero on any failure.
#
# Under CI=true a missing Docker engine is a failure, never a skip.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export AGENTEXEC_DOCKERD_LOG=${AGENTEXEC_DOCKERD_LOG:-$top/_build-dockerd.log}
extra_failures=0
note() { echo "test.sh: $*"; }

if ! scripts/setup.sh; then
  note "installing dependencies failed"
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

engine=1
if ! scripts/start-dockerd.sh; then
  engine=0
  if [ "${CI:-}" = "true" ]; then
    note "no Docker engine answers: under CI this is a failure"
    extra_failures=$((extra_failures + 1))
  else
    note "no Docker engine: the container suite will skip (it would fail under CI=true)"
  fi
fi
if [ "$engine" = 1 ] && ! scripts/build-runtime-image.sh; then
  note "building the runtime image failed"
  extra_failures=$((extra_failures + 1))
fi
build() {  # build DIR [meson options...]
  local dir=$1; shift
  local log
  log=$(mktemp)
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >"$log" 2>&1
  else
    meson setup "$dir" "$@" >"$log" 2>&1
  fi || { tail -20 "$log"; rm -f "$log"; return 1; }
  rm -f "$log"
  ninja -C "$dir"
}

rm -f _build/meson-logs/testlog.json _build/meson-logs/podmanlog.json \
  _build/meson-logs/userlog-setpriv.json _build-asan/meson-logs/testlog.json \
  _build-asan/meson-logs/userlog-setpriv.json

sandbox_user=agentexec-test
sandbox_suites=(test-local-sandbox test-gi-local-sandbox.py)
# As root: an ordinary user for the sandbox's non-root mode, who can read
# the build tree (and every folder above it).
ensure_sandbox_user() {
  [ "$(id -u)" = 0 ] || return 1
  id "$sandbox_user" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$sandbox_user" || return 1
  local dir=$top
  chmod -R o+rX "$top" 2>/dev/null
  while [ "$dir" != / ]; do chmod o+x "$dir" || return 1; dir=$(dirname "$dir"); done
  setpriv --reuid="$sandbox_user" --regid="$sandbox_user" --clear-groups test -r "$top/meson.build"
}
run_as_user() {  # run_as_user BUILD_DIR [meson test options...]
  local dir=$1; shift
  meson test -C "$dir" --print-errorlogs --logbase userlog \
    --wrapper "setpriv --reuid=$sandbox_user --regid=$sandbox_user --clear-groups" "$@"
}

# -Ddocumentation=true: the API reference must build without a warning (a
# symbol without a doc comment or a broken link fails the build), and the
# 'install' suite then checks it is installed.
if build _build -Ddocumentation=true; then
  meson test -C _build --print-errorlogs --num-processes 2
  if [ "$engine" = 1 ]; then
    if podman_host=$(scripts/start-podman.sh); then
      note "container suites against Podman ($podman_host)"
      DOCKER_HOST=$podman_host meson test -C _build --print-errorlogs --logbase podmanlog \
        test-container test-gi-container.py test-streaming
    else
      note "Podman's API service did not start"
      extra_failures=$((extra_failures + 1))
    fi
  fi
  if ensure_sandbox_user; then
    note "Local sandbox suites again as the ordinary user $sandbox_user"
    run_as_user _build "${sandbox_suites[@]}"
  elif [ "$(id -u)" = 0 ]; then
    note "could not set up the ordinary user $sandbox_user for the sandbox suites"
    extra_failures=$((extra_failures + 1))
  else
    note "not root: the sandbox suites ran as an ordinary user only (root mode not covered)"
  fi
else
  note "the build failed"
  extra_failures=$((extra_failures + 1))
fi

export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=0
export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export G_SLICE=always-malloc
if build _build-asan -Db_sanitize=address,undefined -Db_lundef=false \
     -Dintrospection=disabled -Dbuildtype=debug; then
  mapfile -t asan_tests < <(meson test -C _build-asan --list 2>/dev/null |
                            sed 's/^.* \/ //' | grep -vx 'test-container')
  if [ ${#asan_tests[@]} -gt 0 ]; then
    meson test -C _build-asan --print-errorlogs --num-processes 2 \
      --timeout-multiplier 3 "${asan_tests[@]}"
  fi
  if [ "$(id -u)" = 0 ] && id "$sandbox_user" >/dev/null 2>&1; then
    run_as_user _build-asan --timeout-multiplier 3 test-local-sandbox
  fi
else
  note "the ASan build failed"
  extra_failures=$((extra_failures + 1))
fi
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

read -r passed failed skipped < <(python3 - "$extra_failures" _build _build-asan <<'PY'
import json, os, sys
passed, failed, skipped = 0, int(sys.argv[1]), 0
logs = [os.path.join(d, "meson-logs", name) for d in sys.argv[2:]
        for name in ("testlog.json", "podmanlog.json", "userlog-setpriv.json")]
for log in logs:
    if not os.path.exists(log):
        continue
    for line in open(log):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(passed, failed, skipped)
PY
)
if [ "${skipped:-0}" != 0 ]; then
  echo "tests: ${passed:-0} passed, ${failed:-1} failed, ${skipped} skipped"
else
  echo "tests: ${passed:-0} passed, ${failed:-1} failed"
fi
[ "${failed:-1}" = 0 ]
