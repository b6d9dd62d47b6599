#!/bin/sh
# demo.sh: one command from a fresh Debian 12 checkout to a model reply whose
# code blocks are extracted, executed and returned as ADK-formatted results.
#
#   scripts/demo.sh [REPLY.md]        (AGENTEXEC_DEMO_BUILD: build dir, default _build)
#
# Steps: scripts/setup.sh (installs what is missing), a build in _build, then
# `agentexec reply` on the bundled sample reply (scripts/demo-reply.md) with
# the best backend available: the Container backend when a Docker engine
# answers and the agentexec-runtime image exists, else the Local backend in
# its kernel sandbox (namespaces, seccomp, Landlock; no network), no daemon.
set -eu

cd "$(dirname "$0")/.."
reply=${1:-scripts/demo-reply.md}

say () { printf '\n== %s\n' "$*"; }

say "Setting up (scripts/setup.sh installs what is missing)"
if [ ! -x scripts/setup.sh ]; then
  echo "demo: scripts/setup.sh is missing or not executable; run it from a full checkout" >&2
  exit 1
fi
scripts/setup.sh

build=${AGENTEXEC_DEMO_BUILD:-_build}
say "Building in $build"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build"
fi
ninja -C "$build" tools/agentexec

agentexec=$build/tools/agentexec

docker_answers () {
  if command -v curl >/dev/null 2>&1 && [ -S /var/run/docker.sock ]; then
    curl -fsS --max-time 3 --unix-socket /var/run/docker.sock http://localhost/_ping \
      >/dev/null 2>&1
  elif command -v docker >/dev/null 2>&1; then
    docker info >/dev/null 2>&1
  else
    return 1
  fi
}

image_exists () {
  if command -v docker >/dev/null 2>&1; then
    docker image inspect agentexec-runtime:latest >/dev/null 2>&1
  else
    curl -fsS --max-time 3 --unix-socket /var/run/docker.sock \
      http://localhost/images/agentexec-runtime:latest/json >/dev/null 2>&1
  fi
}

backend_built () {
  "$agentexec" --help | grep -q "^  $1 "
}

if backend_built container && docker_answers && image_exists; then
  backend=container
  say "Backend: container (Docker engine answers, image agentexec-runtime:latest present)"
  set -- --backend container
else
  backend=local
  say "Backend: local, sandboxed (no Docker engine with the agentexec-runtime image here)"
  echo "The code runs in the Local backend's kernel sandbox: its own pid, mount and network"
  echo "namespaces, a read-only minimal view of the system with only its work directory"
  echo "writable, no network, no capabilities, seccomp and Landlock. No daemon is needed."
  set -- --backend local
fi

say "The model reply ($reply)"
cat "$reply"

out=$(mktemp -d "${TMPDIR:-/tmp}/agentexec-demo-XXXXXX")
say "Extract -> execute ($backend) -> formatted results"
status=0
"$agentexec" reply "$@" --timeout 60 --output-dir "$out" "$reply" || status=$?

say "Files the code wrote (saved in $out)"
ls -l "$out"
echo
if [ "$status" -eq 1 ]; then
  echo "demo: done (exit status 1 is expected: the last block divides by zero on purpose)"
  exit 0
fi
exit "$status"
