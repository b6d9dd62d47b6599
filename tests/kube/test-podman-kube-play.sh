#!/usr/bin/env bash
# test-podman-kube-play.sh: the pod manifest the Kubernetes backend generates, run
# for real under `podman kube play` with the image of scripts/build-kube-image.sh;
# executions reach the in-pod `agentexec serve`, and the pod's security settings
# hold inside it. TAP output.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -uo pipefail
source_dir=${AGENTEXEC_SOURCE_DIR:?}
build_dir=${AGENTEXEC_BUILD_DIR:?}
manifest_tool=$build_dir/tests/kube-manifest
image=${AGENTEXEC_KUBE_TEST_IMAGE:-agentexec-kube:latest}
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }

if ! command -v podman >/dev/null; then
  if [ "${CI:-}" = "true" ]; then echo "Bail out! podman is not installed"; exit 1; fi
  echo "1..0 # SKIP podman is not installed"; exit 0
fi
pod=agentexec-kube-play-$$
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
tmp=$(mktemp -d)
cleanup() { podman kube down "$tmp/pod.json" >/dev/null 2>&1; podman pod rm -f "$pod" >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
# Podman 4.3 on hosts with a low hard nofile limit cannot apply its default
# rlimits (runc: "error setting rlimits"): a containers.conf of the test's own
# sets ones the host allows. The manifest itself is untouched.
hard_nofile=$(ulimit -Hn)
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
cat >"$tmp/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$hard_nofile:$hard_nofile", "nproc=4096:4096"]
CONF
export CONTAINERS_CONF=$tmp/containers.conf
# The image must run this tree's server (serve --token-env, the Local
# backend's /proc probe) with binaries that start in it; otherwise it is
# rebuilt from this build, unless this is a sanitizer build, whose binaries
# need runtime libraries the image does not have: then the plain build's
# run (scripts/test.sh runs it first) must have made it.
image_usable() {
  podman image exists "$image" &&
    podman run --rm --entrypoint sh "$image" -c \
      'agentexec --version >/dev/null && agentexec serve --help | grep -q -- --token-env &&
       grep -qs "fresh /proc" /usr/local/lib/*/libagentexec-1.so.*' >/dev/null 2>&1
}
if ! image_usable; then
  if ldd "$build_dir/tools/agentexec" 2>/dev/null | grep -Eq 'lib(a|ub|t)san'; then
    echo "Bail out! $image is missing or stale, and this sanitizer build cannot make it: run this test from the plain build first (scripts/test.sh does)"
    exit 1
  fi
  "$source_dir/scripts/build-kube-image.sh" --build "$build_dir" --tag "$image" --force >&2 ||
    { echo "Bail out! the image could not be built"; exit 1; }
fi

# Podman 4.3 publishes containerPorts on the host: a port of the test's own.
port=$((30000 + RANDOM % 20000))
"$manifest_tool" "$pod" "$token" "$image" "$port" >"$tmp/pod.json" || { echo "Bail out! kube-manifest failed"; exit 1; }

if out=$(podman kube play "$tmp/pod.json" 2>&1); then ok "podman kube play accepts the generated manifest"
else not_ok "podman kube play accepts the generated manifest" "$out"; echo "1..$n"; exit 1; fi
ctr="$pod-sandbox"

# The in-pod server: ready on /health, then a real execution through /execute.
ready=0
for _ in $(seq 1 100); do
  if podman exec "$ctr" python3 -c 'import urllib.request,sys; sys.exit(0 if urllib.request.urlopen("http://127.0.0.1:%s/health" % sys.argv[1], timeout=2).status == 200 else 1)' "$port" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
if [ "$ready" = 1 ]; then ok "agentexec serve answers /health in the pod"
else not_ok "agentexec serve answers /health in the pod" "$(podman logs "$ctr" 2>&1 | tail -5)"; fi

execute='import json, sys, urllib.request
req = urllib.request.Request("http://127.0.0.1:%s/execute" % sys.argv[3], method="POST",
    data=json.dumps({"code": sys.argv[1], "language": "python"}).encode(),
    headers={"Content-Type": "application/json", "E2B-Traffic-Access-Token": sys.argv[2]})
try:
    events = [json.loads(line) for line in urllib.request.urlopen(req, timeout=60)]
    sys.stdout.write("".join(e["text"] for e in events if e["type"] in ("stdout", "stderr")))
    sys.stdout.write("".join("%s: %s\n" % (e["name"], e["value"]) for e in events if e["type"] == "error"))
    print("END" if events[-1]["type"] == "end_of_execution" else "TRUNCATED")
except urllib.error.HTTPError as e:
    print("HTTP", e.code)'
out=$(podman exec "$ctr" python3 -c "$execute" 'import os; print(6 * 7, os.getuid())' "$token" "$port" 2>&1)
if [ "$out" = "$(printf '42 1000\nEND')" ]; then
  ok "an execution reaches the in-pod server and runs as uid 1000"
else not_ok "an execution reaches the in-pod server and runs as uid 1000" "$out"; fi

# The pod is the sandbox (the server runs --no-sandbox): the Local sandbox's
# fresh /proc is refused in a container whose /proc is masked, and the local
# executor says so when it is created, instead of failing every run.
out=$(echo 'print(1)' | podman exec -i "$ctr" agentexec run --backend local --language python - 2>&1)
status=$?
if [ "$status" != 0 ] && printf '%s' "$out" | grep -q "fresh /proc" && ! printf '%s' "$out" | grep -qx 1; then
  ok "in the pod, the sandboxed local backend refuses at creation, naming /proc"
else not_ok "in the pod, the sandboxed local backend refuses at creation, naming /proc" "status $status" "$out"; fi

out=$(podman exec "$ctr" python3 -c "$execute" 'print(1)' wrong-token-wrong-token "$port" 2>&1)
if echo "$out" | grep -qE '^HTTP 40[13]'; then ok "a wrong token is refused"
else not_ok "a wrong token is refused" "$out"; fi

out=$(podman exec "$ctr" python3 -c "$execute" 'open("/etc/x", "w")' "$token" "$port" 2>&1)
if echo "$out" | grep -qE 'Read-only file system|Permission denied'; then ok "the root file system is read-only"
else not_ok "the root file system is read-only" "$out"; fi

out=$(podman exec "$ctr" python3 -c "$execute" 'print(" ".join(l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "NoNewPrivs", "Seccomp:"))))' "$token" "$port" 2>&1)
if [ "$out" = "$(printf '0000000000000000 1 2\nEND')" ]; then
  ok "no capabilities, no new privileges, a seccomp filter"
else not_ok "no capabilities, no new privileges, a seccomp filter" "$out"; fi

if podman kube down "$tmp/pod.json" >/dev/null 2>&1 && ! podman pod exists "$pod"; then ok "podman kube down removes the pod"
else not_ok "podman kube down removes the pod"; fi
echo "1..$n"
exit $failed
