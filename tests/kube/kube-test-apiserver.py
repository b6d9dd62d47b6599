#!/usr/bin/python3
# kube-test-apiserver.py: a test-only Kubernetes API server for libagentexec
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# It implements exactly the subset of the Kubernetes REST API that the
# Kubernetes backend uses (and that kubectl and python3-kubernetes need to be
# pointed at it): discovery, pods create/get/list/watch/patch/delete with
# resourceVersion and 409 semantics, the pods/proxy subresource, TLS with
# bearer-token and client-certificate authentication, RBAC-like 403 answers and
# a pod-count quota. Its pods are REAL processes: the container's command and
# args from the pod spec run on this machine (the image is mapped to a root
# directory, by default the built tree), each pod on a loopback address of its
# own (127.0.1.N) so that every pod can listen on the same port, with readiness
# from the pod's readinessProbe (httpGet) and deletion by signals.
#
#   kube-test-apiserver.py --dir DIR [--port N] [--image NAME=AGENTEXEC] ...
#
# DIR receives the certificates, kubeconfig (DIR/kubeconfig), pod logs and a
# file DIR/port once the server listens. Fault injection for tests:
# POST /_test/faults (admin only) with a JSON object, see Faults below.
# Nothing here is production code; it is not installed.

import argparse
import base64
import copy
import datetime
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

VERBS_ALL = ["create", "get", "list", "watch", "patch", "update", "delete", "deletecollection"]
HISTORY_MAX = 2000
NODE_CPU_MILLI = 64000
NODE_MEMORY = 256 * 1024 ** 3


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def log(*args):
    print("kube-test-apiserver:", *args, file=sys.stderr, flush=True)


def parse_cpu(text):
    text = str(text)
    if text.endswith("m"):
        return int(float(text[:-1]))
    return int(float(text) * 1000)


UNITS = {"Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4,
         "k": 1000, "M": 1000 ** 2, "G": 1000 ** 3, "T": 1000 ** 4}


def parse_memory(text):
    text = str(text)
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(float(text))


def truthy(text):
    return (text or "").lower() in ("1", "true")


def status_object(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return body


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.body = status_object(code, reason, message, details)
        self.headers = headers or {}


# Selectors (equality- and set-based label selectors; the field selectors the
# clients use)

def parse_label_selector(text):
    requirements = []
    if not text:
        return requirements
    for part in re.split(r",(?![^()]*\))", text):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$", part)
        if m:
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            requirements.append((m.group(2), m.group(1), values))
        elif part.startswith("!"):
            requirements.append(("!exists", part[1:], None))
        elif "!=" in part:
            key, value = part.split("!=", 1)
            requirements.append(("!=", key.strip(), value.strip()))
        elif "==" in part or "=" in part:
            key, value = re.split("==?", part, maxsplit=1)
            requirements.append(("=", key.strip(), value.strip()))
        elif re.match(r"^[\w./-]+$", part):
            requirements.append(("exists", part, None))
        else:
            raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % part)
    return requirements


def labels_match(requirements, labels):
    for op, key, value in requirements:
        present = key in labels
        if op == "=" and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
        if op == "in" and labels.get(key) not in value:
            return False
        if op == "notin" and present and labels.get(key) in value:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


FIELDS = {
    "metadata.name": lambda p: p["metadata"]["name"],
    "metadata.namespace": lambda p: p["metadata"]["namespace"],
    "status.phase": lambda p: p.get("status", {}).get("phase", ""),
    "spec.nodeName": lambda p: p.get("spec", {}).get("nodeName", ""),
}


def parse_field_selector(text):
    requirements = []
    if not text:
        return requirements
    for part in text.split(","):
        if "!=" in part:
            key, value = part.split("!=", 1)
            negate = True
        elif "=" in part:
            key, value = re.split("==?", part, maxsplit=1)
            negate = False
        else:
            raise ApiError(400, "BadRequest", "invalid field selector: %r" % part)
        if key not in FIELDS:
            raise ApiError(400, "BadRequest",
                           '"%s" is not a known field selector: only "%s"'
                           % (key, ", ".join(FIELDS)))
        requirements.append((FIELDS[key], value, negate))
    return requirements


def fields_match(requirements, pod):
    return all((getter(pod) == value) != negate for getter, value, negate in requirements)


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# The fake kubelet: runs a pod's container as a process group

class Kubelet:
    def __init__(self, store, root_map, workdir):
        self.store = store
        self.root_map = root_map          # image -> executable of `agentexec`
        self.workdir = workdir
        self.next_ip = 1
        self.ip_lock = threading.Lock()

    def allocate_ip(self):
        with self.ip_lock:
            n = self.next_ip
            self.next_ip += 1
        return "127.0.%d.%d" % (1 + n // 250, 1 + n % 250)

    def start(self, key):
        threading.Thread(target=self.run_pod, args=(key,), daemon=True,
                         name="kubelet-" + key[1]).start()

    def schedule(self, pod):
        cpu = mem = 0
        for c in pod["spec"].get("containers", []):
            req = c.get("resources", {}).get("requests", {})
            cpu += parse_cpu(req.get("cpu", "0"))
            mem += parse_memory(req.get("memory", "0"))
        if cpu > NODE_CPU_MILLI:
            return "0/1 nodes are available: 1 Insufficient cpu."
        if mem > NODE_MEMORY:
            return "0/1 nodes are available: 1 Insufficient memory."
        rc = pod["spec"].get("runtimeClassName")
        if rc and rc not in self.store.runtime_classes:
            return 'RuntimeClass "%s" not found' % rc
        return None

    def run_pod(self, key):
        pod = self.store.get_raw(key)
        if pod is None:
            return
        problem = self.schedule(pod)
        if problem is not None:
            self.store.update_status(key, lambda s: s.update({
                "phase": "Pending",
                "conditions": [{"type": "PodScheduled", "status": "False",
                                "reason": "Unschedulable", "message": problem,
                                "lastTransitionTime": now_rfc3339()}]}))
            return
        container = pod["spec"]["containers"][0]
        image = container.get("image", "")
        ip = self.allocate_ip()
        self.store.update_status(key, lambda s: s.update({
            "phase": "Pending", "hostIP": "127.0.0.1", "podIP": ip,
            "podIPs": [{"ip": ip}], "startTime": now_rfc3339(),
            "conditions": [{"type": "PodScheduled", "status": "True",
                            "lastTransitionTime": now_rfc3339()}],
            "containerStatuses": [{"name": container["name"], "ready": False,
                                   "restartCount": 0, "image": image, "imageID": "",
                                   "state": {"waiting": {"reason": "ContainerCreating"}}}]}))
        if image not in self.root_map:
            self.image_pull_failure(key, container["name"], image)
            return
        self.launch(key, pod, container, ip)

    def image_pull_failure(self, key, name, image):
        message = ('Failed to pull image "%s": rpc error: code = Unknown desc = pull access '
                   'denied, repository does not exist or may require authorization' % image)
        for reason in ("ErrImagePull", "ImagePullBackOff"):
            self.store.update_status(key, lambda s, r=reason: s.update({
                "containerStatuses": [{"name": name, "ready": False, "restartCount": 0,
                                       "image": image, "imageID": "",
                                       "state": {"waiting": {"reason": r,
                                                             "message": message}}}]}))
            time.sleep(0.2)

    def pod_root(self, key, pod, container):
        """What the image and the pod's volumes would give the container: a
        directory per pod with `agentexec` (the image's program, from the
        built tree) on PATH and a host directory for each emptyDir volume."""
        root = os.path.join(self.workdir, "pods", "%s-%s" % key)
        os.makedirs(os.path.join(root, "bin"), exist_ok=True)
        link = os.path.join(root, "bin", "agentexec")
        if not os.path.lexists(link):
            os.symlink(self.root_map[container["image"]], link)
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        mounts = {}
        for mount in container.get("volumeMounts", []):
            volume = volumes.get(mount["name"], {})
            if "emptyDir" not in volume:
                raise ValueError("volume %s: only emptyDir volumes are emulated" % mount["name"])
            host = os.path.join(root, "volumes", mount["name"])
            os.makedirs(host, exist_ok=True)
            mounts[mount["mountPath"]] = host
        return root, mounts

    @staticmethod
    def translate(text, ip, mounts):
        if mounts:
            pattern = "|".join(re.escape(p) for p in sorted(mounts, key=len, reverse=True))
            text = re.sub("(?:%s)(?=/|\\b|$)" % pattern, lambda m: mounts[m.group(0)], text)
        return text.replace("0.0.0.0", ip)

    def command_of(self, container, ip, mounts):
        argv = list(container.get("command", [])) + list(container.get("args", []))
        if not argv:
            raise ValueError("the image has no entrypoint: the pod must give a command")
        return [self.translate(a, ip, mounts) for a in argv]

    def launch(self, key, pod, container, ip):
        try:
            root, mounts = self.pod_root(key, pod, container)
        except (OSError, ValueError) as e:
            root, mounts = self.workdir, {}
            container = dict(container, command=[], args=[])
            log("pod %s/%s: %s" % (key[0], key[1], e))
        env = {"PATH": os.path.join(root, "bin") + ":/usr/local/bin:/usr/bin:/bin",
               "LANG": "C.UTF-8", "HOME": mounts.get("/tmp", root),
               "TMPDIR": mounts.get("/tmp", root), "KUBERNETES_POD_NAME": key[1]}
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = self.translate(item["value"], ip, mounts)
        for name in ("LSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        cwd = self.translate(container.get("workingDir", root), ip, mounts)
        os.makedirs(os.path.join(self.workdir, "logs"), exist_ok=True)
        logpath = os.path.join(self.workdir, "logs", "%s-%s.log" % key)
        try:
            argv = self.command_of(container, ip, mounts)
            with open(logpath, "wb") as logfile:
                process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                           stdout=logfile, stderr=subprocess.STDOUT,
                                           cwd=cwd if os.path.isdir(cwd) else root,
                                           start_new_session=True)
        except (OSError, ValueError) as e:
            self.store.update_status(key, lambda s: s.update({
                "phase": "Failed",
                "containerStatuses": [{"name": container["name"], "ready": False,
                                       "restartCount": 0, "image": container["image"],
                                   "imageID": "agentexec-test://" + container["image"],
                                       "state": {"terminated": {"exitCode": 128,
                                                                "reason": "StartError",
                                                                "message": str(e)}}}]}))
            return
        if not self.store.attach_process(key, process):
            self.kill(process, 0)
            return
        started = now_rfc3339()
        self.store.update_status(key, lambda s: s.update({
            "phase": "Running",
            "containerStatuses": [{"name": container["name"], "ready": False,
                                   "restartCount": 0, "image": container["image"],
                                   "imageID": "agentexec-test://" + container["image"],
                                   "started": True,
                                   "state": {"running": {"startedAt": started}}}]}))
        deadline = pod["spec"].get("activeDeadlineSeconds")
        deadline = time.monotonic() + deadline if deadline else None
        probe = container.get("readinessProbe", {}).get("httpGet")
        ready = probe is None
        if ready:
            self.set_ready(key, container, started)
        while process.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                self.kill(process, 1)
                self.store.update_status(key, lambda s: s.update({
                    "phase": "Failed", "reason": "DeadlineExceeded",
                    "message": "Pod was active on the node longer than the specified "
                               "deadline"}))
                return
            if not ready and self.probe(ip, probe, container):
                ready = True
                self.set_ready(key, container, started)
            time.sleep(0.1 if not ready else 0.25)
        code = process.returncode
        if self.store.get_raw(key) is None or self.store.is_deleting(key):
            return
        self.store.update_status(key, lambda s: s.update({
            "phase": "Succeeded" if code == 0 else "Failed",
            "conditions": [{"type": "Ready", "status": "False",
                            "lastTransitionTime": now_rfc3339()}],
            "containerStatuses": [{"name": container["name"], "ready": False,
                                   "restartCount": 0, "image": container["image"],
                                   "imageID": "agentexec-test://" + container["image"],
                                   "state": {"terminated": {
                                       "exitCode": code if code >= 0 else 128 - code,
                                       "reason": "Completed" if code == 0 else "Error"}}}]}))

    def probe(self, ip, probe, container):
        port = probe.get("port")
        if isinstance(port, str):
            port = next((p["containerPort"] for p in container.get("ports", [])
                         if p.get("name") == port), None)
        try:
            conn = http.client.HTTPConnection(ip, int(port), timeout=1)
            conn.request("GET", probe.get("path", "/"))
            ok = 200 <= conn.getresponse().status < 400
            conn.close()
            return ok
        except (OSError, http.client.HTTPException, TypeError, ValueError):
            return False

    def set_ready(self, key, container, started):
        def change(s):
            t = now_rfc3339()
            s["conditions"] = [{"type": "PodScheduled", "status": "True", "lastTransitionTime": t},
                               {"type": "Initialized", "status": "True", "lastTransitionTime": t},
                               {"type": "ContainersReady", "status": "True",
                                "lastTransitionTime": t},
                               {"type": "Ready", "status": "True", "lastTransitionTime": t}]
            s["containerStatuses"][0]["ready"] = True
        self.store.update_status(key, change)

    @staticmethod
    def kill(process, grace):
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=max(grace, 0.05))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        # Whatever the container started in its group goes too.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# The store: pods, resourceVersions, watch history

class Store:
    def __init__(self):
        self.lock = threading.Condition()
        self.pods = {}            # (ns, name) -> pod
        self.processes = {}       # (ns, name) -> Popen
        self.deleting = set()
        self.rv = 1000
        self.history = []         # (rv, type, pod copy)
        self.runtime_classes = {"runc", "gvisor"}
        self.kubelet = None
        self.closed = False

    def bump(self):
        self.rv += 1
        return str(self.rv)

    def record(self, kind, pod):
        self.history.append((int(pod["metadata"]["resourceVersion"]), kind, copy.deepcopy(pod)))
        if len(self.history) > HISTORY_MAX:
            del self.history[: len(self.history) - HISTORY_MAX]
        self.lock.notify_all()

    def get_raw(self, key):
        with self.lock:
            pod = self.pods.get(key)
            return copy.deepcopy(pod) if pod is not None else None

    def is_deleting(self, key):
        with self.lock:
            return key in self.deleting

    def attach_process(self, key, process):
        with self.lock:
            if key not in self.pods or key in self.deleting:
                return False
            self.processes[key] = process
            return True

    def update_status(self, key, change):
        with self.lock:
            pod = self.pods.get(key)
            if pod is None or key in self.deleting:
                return
            status = pod.setdefault("status", {})
            change(status)
            pod["metadata"]["resourceVersion"] = self.bump()
            self.record("MODIFIED", pod)

    def create(self, ns, pod):
        with self.lock:
            meta = pod.setdefault("metadata", {})
            name = meta.get("name")
            if not name and meta.get("generateName"):
                name = meta["generateName"] + uuid.uuid4().hex[:5]
            if not name or not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", name) \
                    or len(name) > 253:
                raise ApiError(422, "Invalid", 'Pod "%s" is invalid: metadata.name: Invalid '
                               'value: a lowercase RFC 1123 subdomain must consist of lower case '
                               'alphanumeric characters' % (name or ""))
            if meta.get("namespace", ns) != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does "
                               "not match the namespace sent on the request")
            key = (ns, name)
            if key in self.pods:
                raise ApiError(409, "AlreadyExists", 'pods "%s" already exists' % name,
                               {"name": name, "kind": "pods"})
            containers = pod.get("spec", {}).get("containers")
            if not containers:
                raise ApiError(422, "Invalid", 'Pod "%s" is invalid: spec.containers: '
                               'Required value' % name)
            meta.update({"name": name, "namespace": ns, "uid": str(uuid.uuid4()),
                         "creationTimestamp": now_rfc3339(), "resourceVersion": self.bump()})
            pod["apiVersion"] = "v1"
            pod["kind"] = "Pod"
            pod["spec"].setdefault("restartPolicy", "Always")
            pod["spec"].setdefault("nodeName", "agentexec-test-node")
            pod["status"] = {"phase": "Pending", "qosClass": "Burstable"}
            self.pods[key] = pod
            self.record("ADDED", pod)
            result = copy.deepcopy(pod)
        self.kubelet.start(key)
        return result

    def list(self, ns, labels, fields):
        with self.lock:
            items = [copy.deepcopy(p) for k, p in sorted(self.pods.items())
                     if (ns is None or k[0] == ns) and
                     labels_match(labels, p["metadata"].get("labels", {})) and
                     fields_match(fields, p)]
            return items, str(self.rv)

    def get(self, ns, name):
        pod = self.get_raw((ns, name))
        if pod is None:
            raise ApiError(404, "NotFound", 'pods "%s" not found' % name,
                           {"name": name, "kind": "pods"})
        return pod

    def patch(self, ns, name, patch):
        with self.lock:
            key = (ns, name)
            pod = self.pods.get(key)
            if pod is None:
                raise ApiError(404, "NotFound", 'pods "%s" not found' % name,
                               {"name": name, "kind": "pods"})
            meta = patch.get("metadata", {}) if isinstance(patch, dict) else {}
            wanted_rv = meta.get("resourceVersion")
            if wanted_rv is not None and wanted_rv != pod["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on pods "%s": '
                               'the object has been modified; please apply your changes to the '
                               'latest version and try again' % name,
                               {"name": name, "kind": "pods"})
            wanted_uid = meta.get("uid")
            if wanted_uid is not None and wanted_uid != pod["metadata"]["uid"]:
                raise ApiError(409, "Conflict", 'Precondition failed: UID in precondition: %s, '
                               'UID in object meta: %s' % (wanted_uid, pod["metadata"]["uid"]))
            patched = merge_patch(pod, patch)
            for immutable in ("name", "namespace", "uid", "creationTimestamp"):
                patched["metadata"][immutable] = pod["metadata"][immutable]
            if patched.get("spec") != pod.get("spec"):
                raise ApiError(422, "Invalid", 'Pod "%s" is invalid: spec: Forbidden: pod '
                               'updates may not change fields other than image and '
                               'activeDeadlineSeconds' % name)
            patched["status"] = pod["status"]
            patched["metadata"]["resourceVersion"] = self.bump()
            self.pods[key] = patched
            self.record("MODIFIED", patched)
            return copy.deepcopy(patched)

    def delete(self, ns, name, grace):
        with self.lock:
            key = (ns, name)
            pod = self.pods.get(key)
            if pod is None:
                raise ApiError(404, "NotFound", 'pods "%s" not found' % name,
                               {"name": name, "kind": "pods"})
            if key in self.deleting:
                return copy.deepcopy(pod)
            self.deleting.add(key)
            pod["metadata"]["deletionTimestamp"] = now_rfc3339()
            pod["metadata"]["deletionGracePeriodSeconds"] = grace
            pod["metadata"]["resourceVersion"] = self.bump()
            self.record("MODIFIED", pod)
            result = copy.deepcopy(pod)
            process = self.processes.get(key)
        threading.Thread(target=self.finish_delete, args=(key, process, grace),
                         daemon=True).start()
        return result

    def finish_delete(self, key, process, grace):
        if process is not None:
            Kubelet.kill(process, min(grace, 2))
        shutil.rmtree(os.path.join(self.kubelet.workdir, "pods", "%s-%s" % key),
                      ignore_errors=True)
        with self.lock:
            pod = self.pods.pop(key, None)
            self.processes.pop(key, None)
            self.deleting.discard(key)
            if pod is not None:
                pod["metadata"]["resourceVersion"] = self.bump()
                self.record("DELETED", pod)

    def shutdown(self):
        with self.lock:
            self.closed = True
            processes = list(self.processes.values())
            self.lock.notify_all()
        for process in processes:
            Kubelet.kill(process, 1)


class Faults:
    """What tests ask for through POST /_test/faults:
    {"fail": [{"method": "POST", "path": "regex", "status": 500, "count": 1,
               "retry_after": 1}],     # answer the next matching requests so
     "drop_watch_after": N,            # end the next watch stream after N events, mid-chunk
     "quota_pods": N | null,           # the namespace quota on pods
     "reset": true}
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.fail = []
        self.drop_watch_after = None
        self.quota_pods = None

    def update(self, body):
        with self.lock:
            if body.get("reset"):
                self.reset()
            self.fail.extend(body.get("fail", []))
            if "drop_watch_after" in body:
                self.drop_watch_after = body["drop_watch_after"]
            if "quota_pods" in body:
                self.quota_pods = body["quota_pods"]

    def take_failure(self, method, path):
        with self.lock:
            for rule in self.fail:
                if rule.get("method", method) == method and re.search(rule.get("path", ""), path):
                    rule["count"] = rule.get("count", 1) - 1
                    if rule["count"] <= 0:
                        self.fail.remove(rule)
                    return rule
        return None

    def take_watch_drop(self):
        with self.lock:
            n = self.drop_watch_after
            self.drop_watch_after = None
            return n


# Discovery documents for kubectl and python3-kubernetes

def api_resource_list():
    pod_verbs = ["create", "delete", "get", "list", "patch", "watch"]
    return {
        "kind": "APIResourceList", "groupVersion": "v1",
        "resources": [
            {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
             "verbs": pod_verbs, "shortNames": ["po"], "categories": ["all"]},
            {"name": "pods/proxy", "singularName": "", "namespaced": True,
             "kind": "PodProxyOptions", "verbs": ["create", "delete", "get", "patch", "update"]},
            {"name": "pods/status", "singularName": "", "namespaced": True, "kind": "Pod",
             "verbs": ["get"]},
        ]}


def openapi_v3_core():
    """Just enough OpenAPI v3 for kubectl to see that the server validates
    fields itself (?fieldValidation=Strict), so that it needs no schemas."""
    gvk = {"group": "", "version": "v1", "kind": "Pod"}
    param = {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
    operation = {"x-kubernetes-group-version-kind": gvk, "parameters": [param],
                 "responses": {"200": {"description": "OK"}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes (agentexec test subset)",
                                         "version": "v1.30.0"},
            "paths": {"/api/v1/namespaces/{namespace}/pods/{name}": {"patch": operation},
                      "/api/v1/namespaces/{namespace}/pods": {"post": operation}},
            "components": {"schemas": {}}}


def pod_table(items, rv, include_object):
    rows = []
    for pod in items:
        statuses = pod.get("status", {}).get("containerStatuses", [])
        ready = sum(1 for s in statuses if s.get("ready"))
        status = pod.get("status", {}).get("phase", "Pending")
        for s in statuses:
            waiting = s.get("state", {}).get("waiting")
            if waiting and waiting.get("reason") not in (None, "ContainerCreating"):
                status = waiting["reason"]
        if pod["metadata"].get("deletionTimestamp"):
            status = "Terminating"
        row = {"cells": [pod["metadata"]["name"],
                         "%d/%d" % (ready, len(pod["spec"]["containers"])),
                         status, 0, "1s"]}
        if include_object:
            row["object"] = {"kind": "PartialObjectMetadata",
                             "apiVersion": "meta.k8s.io/v1", "metadata": pod["metadata"]}
        rows.append(row)
    columns = [("Name", "string"), ("Ready", "string"), ("Status", "string"),
               ("Restarts", "integer"), ("Age", "string")]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": rv},
            "columnDefinitions": [{"name": n, "type": t, "format": "name" if n == "Name" else "",
                                   "description": n, "priority": 0} for n, t in columns],
            "rows": rows}


POD_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+))?(?:/(.*))?$")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-test-apiserver/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            log("%s %s" % (self.address_string(), fmt % args))

    # Plumbing

    def send_json(self, code, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        # Read once, up front (handle_any): an answer given before the body
        # was looked at must not leave it in a kept-alive connection.
        if getattr(self, "body", None) is not None:
            body, self.body = self.body, b""
            return body
        return self.read_raw_body()

    def read_raw_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(length) if length > 0 else b""

    def read_json(self):
        raw = self.read_body()
        try:
            return json.loads(raw or b"{}")
        except ValueError as e:
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown "
                           "format: %s" % e)

    # Authentication and authorisation

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            user = self.server.tokens.get(auth[len("Bearer "):].strip())
            if user is None:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            return user
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        if cert:
            subject = dict(x[0] for x in cert.get("subject", ()))
            name = subject.get("commonName")
            if name in self.server.users:
                return name
        raise ApiError(401, "Unauthorized", "Unauthorized")

    def authorize(self, user, verb, resource, ns, name=None):
        allowed = self.server.users[user]
        if verb in allowed.get(resource, []) or "*" in allowed.get(resource, []):
            return
        what = 'pods "%s"' % name if name else resource
        raise ApiError(403, "Forbidden",
                       '%s is forbidden: User "%s" cannot %s resource "%s" in API group "" in '
                       'the namespace "%s"' % (what, user, verb, resource, ns),
                       {"name": name or "", "kind": resource})

    # Dispatch

    def handle_any(self, method):
        try:
            self.body = None
            self.body = self.read_raw_body()
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            user = self.authenticate()
            rule = self.server.faults.take_failure(method, url.path)
            if rule is not None:
                self.read_body()
                headers = {"Retry-After": rule["retry_after"]} if "retry_after" in rule else {}
                code = rule.get("status", 500)
                reason = {409: "Conflict", 410: "Gone", 429: "TooManyRequests",
                          500: "InternalError", 503: "ServiceUnavailable"}.get(code, "Unknown")
                raise ApiError(code, reason, rule.get("message", "injected failure (%d)" % code),
                               headers=headers)
            self.route(method, url.path, query, user)
        except ApiError as e:
            self.send_json(e.code, e.body, e.headers)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def route(self, method, path, query, user):
        if path == "/_test/faults" and method == "POST":
            if user != "admin":
                raise ApiError(403, "Forbidden", "only admin may inject faults")
            self.server.faults.update(self.read_json())
            self.send_json(200, {"ok": True})
            return
        if path in ("/version", "/version/"):
            self.send_json(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-agentexec-test",
                                 "platform": "linux/amd64", "goVersion": "none",
                                 "compiler": "none", "buildDate": "2026-01-01T00:00:00Z",
                                 "gitCommit": "0", "gitTreeState": "clean"})
            return
        if path == "/api":
            self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                 "serverAddressByClientCIDRs": [
                                     {"clientCIDR": "0.0.0.0/0",
                                      "serverAddress": "127.0.0.1:%d" % self.server.port}]})
            return
        if path == "/apis":
            self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
            return
        if path == "/api/v1":
            self.send_json(200, api_resource_list())
            return
        if path == "/openapi/v3":
            self.send_json(200, {"paths": {"api/v1": {
                "serverRelativeURL": "/openapi/v3/api/v1?hash=agentexec"}}})
            return
        if path == "/openapi/v3/api/v1":
            self.send_json(200, openapi_v3_core())
            return
        if path == "/api/v1/pods" and method == "GET":
            self.authorize(user, "watch" if truthy(query.get("watch")) else "list",
                           "pods", "")
            self.list_or_watch(None, query)
            return
        m = POD_PATH.match(path)
        if not m:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        ns, name, sub = m.group(1), m.group(2), m.group(3)
        if name is None:
            self.collection(method, ns, query, user)
        elif sub is None:
            self.item(method, ns, urllib.parse.unquote(name), query, user)
        elif sub == "proxy" or sub.startswith("proxy/"):
            self.proxy(method, ns, urllib.parse.unquote(name), sub[len("proxy"):] or "/", query,
                       user)
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def collection(self, method, ns, query, user):
        if method == "GET":
            watch = truthy(query.get("watch"))
            self.authorize(user, "watch" if watch else "list", "pods", ns)
            self.list_or_watch(ns, query)
        elif method == "POST":
            self.authorize(user, "create", "pods", ns)
            body = self.read_json()
            quota = self.server.faults.quota_pods
            if quota is not None:
                used = len(self.server.store.list(ns, [], [])[0])
                if used >= quota:
                    name = body.get("metadata", {}).get("name") or \
                        body.get("metadata", {}).get("generateName", "") + "xxxxx"
                    raise ApiError(403, "Forbidden",
                                   'pods "%s" is forbidden: exceeded quota: agentexec-quota, '
                                   'requested: pods=1, used: pods=%d, limited: pods=%d'
                                   % (name, used, quota), {"name": name, "kind": "pods"})
            if query.get("dryRun"):
                self.send_json(201, body)
                return
            self.send_json(201, self.server.store.create(ns, body))
        else:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on "
                           "the requested resource")

    def list_or_watch(self, ns, query):
        labels = parse_label_selector(query.get("labelSelector", ""))
        fields = parse_field_selector(query.get("fieldSelector", ""))
        if truthy(query.get("watch")):
            self.watch(ns, labels, fields, query)
            return
        items, rv = self.server.store.list(ns, labels, fields)
        accept = self.headers.get("Accept", "")
        if "as=Table" in accept:
            self.send_json(200, pod_table(items, rv, "includeObject=Object" in accept or True))
            return
        self.send_json(200, {"kind": "PodList", "apiVersion": "v1",
                             "metadata": {"resourceVersion": rv}, "items": items})

    def item(self, method, ns, name, query, user):
        store = self.server.store
        if method == "GET":
            self.authorize(user, "get", "pods", ns, name)
            pod = store.get(ns, name)
            if "as=Table" in self.headers.get("Accept", ""):
                self.send_json(200, pod_table([pod], pod["metadata"]["resourceVersion"], True))
            else:
                self.send_json(200, pod)
        elif method == "PATCH":
            self.authorize(user, "patch", "pods", ns, name)
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
            if ctype not in ("application/merge-patch+json",
                             "application/strategic-merge-patch+json"):
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted "
                               "media types include: application/merge-patch+json, "
                               "application/strategic-merge-patch+json")
            self.send_json(200, store.patch(ns, name, self.read_json()))
        elif method == "DELETE":
            self.authorize(user, "delete", "pods", ns, name)
            body = self.read_json()
            grace = body.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
            grace = int(grace) if grace is not None else 30
            pre = body.get("preconditions") or {}
            pod = store.get(ns, name)
            if pre.get("uid") not in (None, pod["metadata"]["uid"]) or \
                    pre.get("resourceVersion") not in (None, pod["metadata"]["resourceVersion"]):
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on pods "%s": '
                               "the precondition does not hold" % name)
            self.send_json(200, store.delete(ns, name, grace))
        else:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on "
                           "the requested resource")

    # Watch: chunked JSON lines, from the history after resourceVersion

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, ns, labels, fields, query):
        store = self.server.store
        timeout = float(query.get("timeoutSeconds") or 1800)
        end = time.monotonic() + timeout
        bookmarks = truthy(query.get("allowWatchBookmarks"))
        drop_after = self.server.faults.take_watch_drop()
        rv_text = query.get("resourceVersion", "")
        with store.lock:
            if rv_text in ("", "0"):
                initial = [("ADDED", copy.deepcopy(p)) for p in store.pods.values()]
                since = store.rv
            else:
                since = int(rv_text)
                oldest = store.history[0][0] if store.history else store.rv
                initial = []
                if since < oldest - 1 and since < store.rv:
                    initial = None
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if initial is None:
            gone = status_object(410, "Expired", "too old resource version: %d (%d)"
                                 % (since, store.history[0][0]))
            self.write_chunk(json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n")
            self.write_chunk(b"")
            return
        sent = 0
        events = [e for e in initial if self.selected(e[1], ns, labels, fields)]
        last_bookmark = time.monotonic()
        while True:
            for kind, pod in events:
                line = json.dumps({"type": kind, "object": pod}).encode() + b"\n"
                if drop_after is not None and sent >= drop_after:
                    # Half a chunk, then the connection goes: a watch dropped mid-stream.
                    self.wfile.write(b"%x\r\n%s" % (len(line), line[: len(line) // 2]))
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.write_chunk(line)
                sent += 1
            with store.lock:
                while not store.closed:
                    fresh = [(rv, k, p) for rv, k, p in store.history if rv > since]
                    if fresh or time.monotonic() > end:
                        break
                    if bookmarks and time.monotonic() - last_bookmark > 1:
                        break
                    store.lock.wait(0.5)
                if store.closed or time.monotonic() > end:
                    break
                events = []
                for rv, kind, pod in fresh:
                    since = rv
                    if self.selected(pod, ns, labels, fields):
                        events.append((kind, copy.deepcopy(pod)))
                current = store.rv
            if not events and bookmarks:
                last_bookmark = time.monotonic()
                events = [("BOOKMARK", {"kind": "Pod", "apiVersion": "v1",
                                        "metadata": {"resourceVersion": str(current)}})]
        self.write_chunk(b"")

    @staticmethod
    def selected(pod, ns, labels, fields):
        return (ns is None or pod["metadata"]["namespace"] == ns) and \
            labels_match(labels, pod["metadata"].get("labels", {})) and fields_match(fields, pod)

    # pods/proxy: forwards to the pod's IP, streaming the answer as it comes

    def proxy(self, method, ns, name_port, rest, query, user):
        name, _, port = name_port.partition(":")
        scheme = "http"
        if name in ("http", "https") and port:
            scheme, _, name_port = name_port.partition(":")
            name, _, port = name_port.partition(":")
        verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}[method]
        self.authorize(user, verb, "pods/proxy", ns, name)
        pod = self.server.store.get(ns, name)
        ip = pod.get("status", {}).get("podIP")
        if pod["status"].get("phase") != "Running" or not ip:
            raise ApiError(503, "ServiceUnavailable",
                           'error trying to reach service: pod "%s" is not running' % name)
        if not port:
            ports = pod["spec"]["containers"][0].get("ports", [])
            port = str(ports[0]["containerPort"]) if ports else "80"
        body = self.read_body() if method in ("POST", "PUT", "PATCH") else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("authorization", "connection", "keep-alive",
                                        "transfer-encoding", "host", "content-length",
                                        "proxy-authorization", "te", "upgrade")}
        target = rest + ("?" + urllib.parse.urlencode(query) if query else "")
        try:
            conn = http.client.HTTPConnection(ip, int(port), timeout=3600)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.request(method, target, body=body, headers=headers)
            answer = conn.getresponse()
        except (OSError, http.client.HTTPException, ValueError) as e:
            raise ApiError(503, "ServiceUnavailable",
                           "error trying to reach service: dial tcp %s:%s: %s" % (ip, port, e))
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding",
                                 "content-length"):
                self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while True:
                data = answer.read1(65536)
                if not data:
                    break
                self.write_chunk(data)
            self.write_chunk(b"")
        except (OSError, http.client.HTTPException):
            # The pod went away mid-answer: drop the connection like a real proxy does.
            self.close_connection = True
        finally:
            conn.close()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def get_request(self):
        # Small writes (headers, then a chunk) must not wait for delayed ACKs.
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


# Certificates and kubeconfig

def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certificates(directory):
    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.crt")
    if not os.path.exists(ca):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
                "-days", "30", "-subj", "/CN=kube-test-ca")
    def issue(stem, subject, ext=None):
        key, csr, crt = (os.path.join(directory, stem + s) for s in (".key", ".csr", ".crt"))
        if os.path.exists(crt):
            return
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                "-subj", subject)
        args = ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                "-out", crt, "-days", "30"]
        if ext:
            extfile = os.path.join(directory, stem + ".ext")
            with open(extfile, "w") as f:
                f.write(ext)
            args += ["-extfile", extfile]
        openssl(*args)
    issue("server", "/CN=kube-apiserver",
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    issue("admin", "/O=system:masters/CN=admin", "extendedKeyUsage=clientAuth\n")
    issue("stranger", "/CN=stranger", "extendedKeyUsage=clientAuth\n")


def b64file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def write_kubeconfig(directory, port, tokens):
    server = "https://127.0.0.1:%d" % port
    ca = b64file(os.path.join(directory, "ca.crt"))
    by_user = {user: token for token, user in tokens.items()}
    users = [{"name": "admin", "user": {
        "client-certificate-data": b64file(os.path.join(directory, "admin.crt")),
        "client-key-data": b64file(os.path.join(directory, "admin.key"))}}]
    contexts = [{"name": "agentexec-test",
                 "context": {"cluster": "agentexec-test", "user": "admin",
                             "namespace": "agentexec"}}]
    for user in ("executor", "readonly", "nopatch", "noproxy"):
        users.append({"name": user, "user": {"token": by_user[user]}})
        contexts.append({"name": user, "context": {"cluster": "agentexec-test", "user": user,
                                                   "namespace": "agentexec"}})
    users.append({"name": "bad-token", "user": {"token": "not-a-valid-token"}})
    contexts.append({"name": "bad-token", "context": {"cluster": "agentexec-test",
                                                      "user": "bad-token",
                                                      "namespace": "agentexec"}})
    # YAML is a superset of JSON, but kubeconfig files are YAML in practice:
    # write YAML so that the clients' YAML readers are what gets tested.
    lines = ["apiVersion: v1", "kind: Config", "preferences: {}",
             "current-context: agentexec-test", "clusters:",
             "- name: agentexec-test", "  cluster:", "    server: %s" % server,
             "    certificate-authority-data: %s" % ca, "users:"]
    for u in users:
        lines.append("- name: %s" % u["name"])
        lines.append("  user:")
        for k, v in u["user"].items():
            lines.append("    %s: %s" % (k, v))
    lines.append("contexts:")
    for c in contexts:
        lines.append("- name: %s" % c["name"])
        lines.append("  context:")
        for k, v in c["context"].items():
            lines.append("    %s: %s" % (k, v))
    path = os.path.join(directory, "kubeconfig")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path + ".tmp", 0o600)
    os.rename(path + ".tmp", path)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--image", action="append", default=[],
                        help="NAME=PATH: pods of image NAME run `agentexec` as PATH")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--owner-pid", type=int, default=0,
                        help="stop (with every pod) when this process is gone")
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    make_certificates(args.dir)
    root_map = {}
    for item in args.image:
        name, _, path = item.partition("=")
        root_map[name] = os.path.abspath(path)

    tokens = {}
    for user in ("executor", "readonly", "nopatch", "noproxy", "admin"):
        tokens[base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")] = user
    pods_all = ["create", "get", "list", "watch", "patch", "delete"]
    users = {
        "admin": {"pods": ["*"], "pods/proxy": ["*"]},
        "executor": {"pods": pods_all, "pods/proxy": ["create", "get"]},
        "readonly": {"pods": ["get", "list", "watch"], "pods/proxy": []},
        "nopatch": {"pods": [v for v in pods_all if v != "patch"], "pods/proxy": ["create"]},
        "noproxy": {"pods": pods_all, "pods/proxy": []},
        "stranger": {},
    }

    store = Store()
    store.kubelet = Kubelet(store, root_map, args.dir)
    server = Server(("127.0.0.1", args.port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(args.dir, "server.crt"),
                            os.path.join(args.dir, "server.key"))
    context.load_verify_locations(os.path.join(args.dir, "ca.crt"))
    context.verify_mode = ssl.CERT_OPTIONAL
    # No session resumption: Python's server side does not always report the
    # client certificate of a resumed TLS 1.3 session (seen as a spurious 401
    # for certificate users). Every connection does a full handshake.
    context.options |= ssl.OP_NO_TICKET
    context.num_tickets = 0
    server.socket = context.wrap_socket(server.socket, server_side=True,
                                         do_handshake_on_connect=False)
    server.port = server.server_address[1]
    server.store = store
    server.faults = Faults()
    server.tokens = tokens
    server.users = users
    server.verbose = args.verbose

    config = write_kubeconfig(args.dir, server.port, tokens)
    with open(os.path.join(args.dir, "tokens.json"), "w") as f:
        json.dump({user: token for token, user in tokens.items()}, f)
    with open(os.path.join(args.dir, "port.tmp"), "w") as f:
        f.write("%d\n" % server.port)
    os.rename(os.path.join(args.dir, "port.tmp"), os.path.join(args.dir, "port"))

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.owner_pid > 0:
        def watch_owner():
            while True:
                time.sleep(0.5)
                try:
                    os.kill(args.owner_pid, 0)
                except ProcessLookupError:
                    log("owner %d is gone: stopping" % args.owner_pid)
                    server.shutdown()
                    return
        threading.Thread(target=watch_owner, daemon=True).start()
    log("listening on https://127.0.0.1:%d, kubeconfig %s" % (server.port, config))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        store.shutdown()
        os.unlink(os.path.join(args.dir, "port"))


if __name__ == "__main__":
    main()
