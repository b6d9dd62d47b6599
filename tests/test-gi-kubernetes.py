#!/usr/bin/python3
"""The Kubernetes backend through PyGObject, against the test API server of
tests/kube/ (scripts/start-kube-test.sh), whose pods are real `agentexec serve`.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("AgentExec", "1.0")
from gi.repository import AgentExec, GLib  # noqa: E402

from tap import run, test  # noqa: E402

SOURCE = os.environ["AGENTEXEC_SOURCE_DIR"]
BUILD = os.environ["AGENTEXEC_BUILD_DIR"]
STATE = tempfile.mkdtemp(prefix="gi-kube-")
os.chmod(STATE, 0o755)
SCRIPT = os.path.join(SOURCE, "scripts", "start-kube-test.sh")
KUBECONFIG = subprocess.run([SCRIPT, "--dir", STATE, "--build", BUILD, "--owner-pid",
                             str(os.getpid())], check=True, capture_output=True,
                            text=True).stdout.strip().splitlines()[-1]


def new_executor(**props):
    executor = AgentExec.KubernetesExecutor(kubeconfig=KUBECONFIG, pool_size=0, **props)
    executor.init(None)
    return executor


def run_code(executor, code, execution_id=None):
    execution_input = AgentExec.ExecutionInput.new(code, "python")
    if execution_id:
        execution_input.props.execution_id = execution_id
    return executor.execute_code(None, execution_input, None)


@test
def runs_in_a_pod():
    executor = new_executor()
    assert executor.get_namespace() == "agentexec"
    assert executor.get_server().startswith("https://127.0.0.1:")
    result = run_code(executor, "import sys\nprint('out')\nprint('err', file=sys.stderr)")
    assert result.props.stdout == "out\n", result.props.stdout
    assert result.props.stderr == "err\n", result.props.stderr
    executor.close()


@test
def stateful_sessions():
    executor = new_executor(stateful=True)
    run_code(executor, "x = 20", "a")
    result = run_code(executor, "print(x * 2 + 2)", "a")
    assert result.props.stdout == "42\n", result.props.stdout
    executor.close()


@test
def streamed_output_reaches_python():
    executor = new_executor()
    chunks = []
    executor.connect("output", lambda _e, _i, stream, data: chunks.append(data.get_data()))
    result = run_code(executor, "for i in range(3): print(i, flush=True)")
    assert b"".join(chunks) == b"0\n1\n2\n", chunks
    assert result.props.stdout == "0\n1\n2\n"
    executor.close()


@test
def errors_carry_the_domain():
    try:
        AgentExec.KubernetesExecutor(kubeconfig="/nonexistent/kubeconfig").init(None)
        raise AssertionError("init succeeded")
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), AgentExec.Error.BACKEND_UNAVAILABLE), e
        assert "/nonexistent/kubeconfig does not exist" in e.message


@test
def manifest_without_a_cluster():
    executor = AgentExec.KubernetesExecutor(runtime_class="gvisor")
    manifest = json.loads(executor.dup_pod_manifest("tok"))
    assert manifest["spec"]["runtimeClassName"] == "gvisor"
    assert manifest["spec"]["automountServiceAccountToken"] is False


try:
    run()
finally:
    subprocess.run([SCRIPT, "--stop", "--dir", STATE], capture_output=True)
    shutil.rmtree(STATE, ignore_errors=True)
