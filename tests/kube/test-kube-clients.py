#!/usr/bin/python3
# test-kube-clients.py: the test API server of tests/kube/, checked by clients
# nobody here wrote: kubectl (get/create/wait/delete, label, a 409 on a stale
# resourceVersion, RBAC and auth refusals) and Debian's python3-kubernetes
# (list + watch, a merge patch with a resourceVersion precondition). TAP output.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("AGENTEXEC_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("AGENTEXEC_BUILD_DIR", os.path.join(SOURCE, "_build"))
CI = os.environ.get("CI") == "true"

results = []


def tap(name, fn):
    try:
        fn()
        results.append(True)
        print("ok %d - %s" % (len(results), name), flush=True)
    except Exception as e:  # the report names the failure; the run goes on
        results.append(False)
        print("not ok %d - %s" % (len(results), name), flush=True)
        for line in str(e).splitlines() or [repr(e)]:
            print("# " + line, flush=True)


def kubectl(config, *args, context=None, check=True, timeout=60):
    argv = ["kubectl", "--kubeconfig", config, "--request-timeout=30s"]
    if context:
        argv += ["--context", context]
    argv += list(args)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(args), proc.returncode, proc.stderr))
    return proc


POD = """apiVersion: v1
kind: Pod
metadata:
  name: %(name)s
  labels:
    app: kubectl-check
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: agentexec-runtime:latest
    command: ["/bin/sh", "-c", "echo kubectl-check-token-0123456789 > /run/t/token && exec
      agentexec serve --listen 0.0.0.0:49999 --backend local --allow-unsafe --health-port 0
      --token-file /run/t/token"]
    readinessProbe:
      httpGet: {path: /health, port: 49999}
    volumeMounts:
    - {name: t, mountPath: /run/t}
  volumes:
  - name: t
    emptyDir: {}
"""


def main():
    if shutil.which("kubectl") is None:
        print("1..0 # SKIP kubectl is not installed" if not CI else "Bail out! kubectl missing")
        return 0 if not CI else 1
    state = tempfile.mkdtemp(prefix="kube-clients-")
    os.chmod(state, 0o755)
    script = os.path.join(SOURCE, "scripts", "start-kube-test.sh")
    out = subprocess.run([script, "--dir", state, "--build", BUILD, "--owner-pid",
                          str(os.getpid())], capture_output=True, text=True)
    if out.returncode != 0:
        print("Bail out! start-kube-test.sh failed: " + out.stderr)
        return 1
    config = out.stdout.strip().splitlines()[-1]
    try:
        run_checks(config, state)
    finally:
        subprocess.run([script, "--stop", "--dir", state], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


def run_checks(config, state):
    manifest = os.path.join(state, "pod.yaml")

    def write_pod(name):
        with open(manifest, "w") as f:
            f.write(POD % {"name": name})

    def kubectl_get_empty():
        p = kubectl(config, "get", "pods")
        assert "No resources found in agentexec namespace" in p.stderr, p.stderr + p.stdout

    def kubectl_create_get_wait_delete():
        write_pod("kubectl-pod")
        p = kubectl(config, "create", "-f", manifest)
        assert "pod/kubectl-pod created" in p.stdout, p.stdout
        p = kubectl(config, "wait", "--for=condition=Ready", "pod/kubectl-pod", "--timeout=60s",
                    timeout=90)
        assert "condition met" in p.stdout, p.stdout
        p = kubectl(config, "get", "pods", "-l", "app=kubectl-check")
        assert "kubectl-pod" in p.stdout and "1/1" in p.stdout and "Running" in p.stdout, p.stdout
        p = kubectl(config, "get", "pod", "kubectl-pod", "-o", "json")
        pod = json.loads(p.stdout)
        assert pod["status"]["phase"] == "Running"
        assert pod["status"]["podIP"].startswith("127.0.")
        p = kubectl(config, "create", "-f", manifest, check=False)
        assert p.returncode != 0 and "AlreadyExists" in p.stderr, p.stderr
        p = kubectl(config, "label", "pod", "kubectl-pod", "checked=yes")
        assert "labeled" in p.stdout, p.stdout
        p = kubectl(config, "get", "pods", "-l", "checked=yes", "-o", "name")
        assert p.stdout.strip() == "pod/kubectl-pod", p.stdout
        # A merge patch carrying a stale resourceVersion is refused with 409.
        p = kubectl(config, "patch", "pod", "kubectl-pod", "--type=merge", "-p",
                    '{"metadata":{"resourceVersion":"1","labels":{"x":"y"}}}', check=False)
        assert p.returncode != 0 and "Conflict" in p.stderr and "modified" in p.stderr, p.stderr
        # Through the pods/proxy subresource, to the real in-pod server.
        p = kubectl(config, "get", "--raw",
                    "/api/v1/namespaces/agentexec/pods/kubectl-pod:49999/proxy/health")
        assert p.returncode == 0, p.stderr
        p = kubectl(config, "delete", "pod", "kubectl-pod", timeout=90)
        assert 'pod "kubectl-pod" deleted' in p.stdout, p.stdout
        p = kubectl(config, "get", "pod", "kubectl-pod", check=False)
        assert "NotFound" in p.stderr, p.stderr

    def kubectl_refusals():
        p = kubectl(config, "get", "pods", context="bad-token", check=False)
        assert p.returncode != 0 and "Unauthorized" in p.stderr, p.stderr
        write_pod("refused")
        p = kubectl(config, "create", "-f", manifest, "--validate=false", context="readonly",
                    check=False)
        assert p.returncode != 0 and "cannot create resource \"pods\"" in p.stderr, p.stderr
        p = kubectl(config, "auth", "can-i", "list", "pods", check=False)
        # can-i needs SelfSubjectAccessReview, which the subset leaves out: a
        # clear refusal, not a crash.
        assert p.returncode != 0

    def python_list_and_watch():
        from kubernetes import client, config as kconfig, watch
        kconfig.load_kube_config(config_file=config, context="executor")
        v1 = client.CoreV1Api()
        listed = v1.list_namespaced_pod("agentexec", label_selector="app=py-check")
        assert listed.items == []
        rv = listed.metadata.resource_version
        body = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"generateName": "py-", "labels": {"app": "py-check"}},
                "spec": {"restartPolicy": "Never", "containers": [{
                    "name": "main", "image": "agentexec-runtime:latest",
                    "command": ["/bin/sh", "-c", "exec sleep 300"]}]}}
        created = v1.create_namespaced_pod("agentexec", body)
        name = created.metadata.name
        assert name.startswith("py-")
        seen = []
        done = []
        w = watch.Watch()
        for event in w.stream(v1.list_namespaced_pod, "agentexec", label_selector="app=py-check",
                              resource_version=rv, timeout_seconds=60):
            pod = event["object"]
            seen.append((event["type"], pod.status.phase))
            ready = any(c.type == "Ready" and c.status == "True"
                        for c in (pod.status.conditions or []))
            if ready and not pod.metadata.deletion_timestamp and not done:
                done.append(True)
                # A merge patch with the current resourceVersion wins; a stale one gets 409.
                current = pod.metadata.resource_version
                v1.patch_namespaced_pod(name, "agentexec", {"metadata": {
                    "resourceVersion": current, "labels": {"claimed": "yes"}}})
                try:
                    v1.patch_namespaced_pod(name, "agentexec", {"metadata": {
                        "resourceVersion": current, "labels": {"claimed": "twice"}}})
                    raise AssertionError("a stale resourceVersion was accepted")
                except client.exceptions.ApiException as e:
                    assert e.status == 409, e
                v1.delete_namespaced_pod(name, "agentexec")
            if event["type"] == "DELETED":
                w.stop()
        types = [t for t, _ in seen]
        assert types[0] == "ADDED" and types[-1] == "DELETED", seen
        assert ("MODIFIED", "Running") in seen, seen

    def python_watch_gone():
        from kubernetes import client, config as kconfig, watch
        kconfig.load_kube_config(config_file=config)
        v1 = client.CoreV1Api()
        try:
            for _ in watch.Watch().stream(v1.list_namespaced_pod, "agentexec",
                                          resource_version="1", timeout_seconds=5):
                pass
            raise AssertionError("an expired resourceVersion was accepted")
        except client.exceptions.ApiException as e:
            assert e.status == 410, e

    def serve_on_kubernetes():
        # `agentexec serve --backend kubernetes`: an E2B server whose contexts
        # are pods; deleting a context deletes its pod, SIGTERM deletes all.
        import re
        import time
        import urllib.request
        env = dict(os.environ, KUBECONFIG=config, AGENTEXEC_KUBE_CONTEXT="executor")
        proc = subprocess.Popen([os.path.join(BUILD, "tools", "agentexec"), "serve", "--backend",
                                 "kubernetes", "--listen", "127.0.0.1:0", "--health-port", "0",
                                 "--no-access-log"], env=env, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stderr.readline()
            m = re.search(r"http://(127\.0\.0\.1:\d+)", line)
            assert m, line
            base = "http://" + m.group(1)

            def post(path, body):
                req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                             method="POST")
                return urllib.request.urlopen(req, timeout=120).read().decode()
            context = json.loads(post("/contexts", {"language": "python"}))["id"]
            post("/execute", {"code": "x = 41", "context_id": context})
            events = [json.loads(l) for l in post("/execute", {"code": "print(x + 1)",
                                                              "context_id": context}).splitlines()]
            assert {"type": "stdout", "text": "42\n"}.items() <= events[1].items(), events
            assert events[-1]["type"] == "end_of_execution", events
            names = kubectl(config, "get", "pods", "-o", "name").stdout.split()
            assert len(names) >= 1, names
            req = urllib.request.Request(base + "/contexts/" + context, method="DELETE")
            assert urllib.request.urlopen(req, timeout=60).status == 204
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        for _ in range(300):
            if "No resources found" in kubectl(config, "get", "pods").stderr:
                return
            time.sleep(0.1)
        raise AssertionError("pods left after serve stopped: " + kubectl(config, "get", "pods").stdout)

    tap("kubectl get pods on an empty namespace", kubectl_get_empty)
    tap("kubectl create, get, wait, label, patch 409, proxy, delete", kubectl_create_get_wait_delete)
    tap("kubectl sees 401 and RBAC 403", kubectl_refusals)
    tap("python3-kubernetes list, create, watch, patch with resourceVersion, delete",
        python_list_and_watch)
    tap("python3-kubernetes watch from an expired resourceVersion gets 410", python_watch_gone)
    tap("agentexec serve --backend kubernetes: contexts are pods", serve_on_kubernetes)


if __name__ == "__main__":
    sys.exit(main())
