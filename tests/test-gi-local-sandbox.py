#!/usr/bin/python3
"""The Local backend's sandbox through PyGObject, attacked (as root and as an ordinary user)."""

import os
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("AgentExec", "1.0")
from gi.repository import AgentExec, GLib, GObject  # noqa: E402

from tap import run, test  # noqa: E402

PYTHON = "/usr/bin/python3"


def executor(stateful=False, **props):
    # No allow-unsafe: the sandbox is the default and needs no opt-in.
    ex = AgentExec.LocalExecutor.new(False)
    ex.set_interpreter("python", PYTHON)
    ex.props.stateful = stateful
    for name, value in props.items():
        ex.set_property(name.replace("_", "-"), value)
    return ex


def run_code(ex, code, language="python", execution_id=None, files=(), timeout_ms=60000):
    execution_input = AgentExec.ExecutionInput.new(code, language)
    execution_input.props.timeout_ms = timeout_ms
    if execution_id is not None:
        execution_input.props.execution_id = execution_id
    for f in files:
        execution_input.add_file(f)
    return ex.execute_code(None, execution_input, None)


def prints(ex, code, expected, **kw):
    result = run_code(ex, code, **kw)
    assert result.props.stderr == "", result.props.stderr
    assert result.props.stdout == expected, (result.props.stdout, expected)
    return result


@test
def sandbox_is_the_default():
    ex = executor()
    assert ex.props.sandbox == AgentExec.LocalSandbox.NAMESPACES
    assert not ex.props.network
    assert not ex.props.allow_unsafe
    prints(ex, "import os\nprint(os.getuid() != 0, os.getpid(), os.uname().nodename)\n",
           "True 2 agentexec\n")
    # none still needs the opt-in
    ex = GObject.new(AgentExec.LocalExecutor, sandbox=AgentExec.LocalSandbox.NONE)
    try:
        ex.init(None)
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), AgentExec.Error.UNSAFE_NOT_ALLOWED), e
    else:
        raise AssertionError("sandbox none without allow-unsafe")


@test
def host_listener_unreachable_and_no_dns():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    connect = ("import socket\n"
               "try:\n"
               "    socket.create_connection(('127.0.0.1', %d), timeout=5); print('connected')\n"
               "except OSError as e:\n"
               "    print(type(e).__name__)\n" % port)
    dns = ("try:\n"
           "    socket.getaddrinfo('pypi.org', 443); print('resolved')\n"
           "except socket.gaierror:\n"
           "    print('no dns')\n")
    prints(executor(), connect + dns, "ConnectionRefusedError\nno dns\n")
    # network=True shares the host's network namespace (documented)
    prints(executor(network=True), connect, "connected\n")
    listener.close()


@test
def host_files_invisible_and_read_only():
    secret_dir = tempfile.mkdtemp(prefix="agentexec-secret-")
    os.chmod(secret_dir, 0o755)
    with open(os.path.join(secret_dir, "key"), "w") as f:
        f.write("hunter2")
    os.chmod(os.path.join(secret_dir, "key"), 0o644)
    import pwd
    home = pwd.getpwuid(os.getuid()).pw_dir
    checkout = os.environ.get("AGENTEXEC_SOURCE_DIR", os.path.dirname(os.path.abspath(__file__)))
    paths = ["/etc/shadow", secret_dir, os.path.join(home, ".ssh"), checkout,
             "/var/run/docker.sock", "/root", "/home"]
    code = ("import os\n"
            "print([p for p in %r if os.path.exists(p)])\n"
            "try:\n"
            "    open('/proc/1/environ').read(); print('environ read')\n"
            "except OSError:\n"
            "    print('environ refused')\n"
            "bad = []\n"
            "for p in ('/usr/x', '/etc/x', '/x', '/dev/x'):\n"
            "    try:\n"
            "        open(p, 'w'); bad.append(p)\n"
            "    except OSError:\n"
            "        pass\n"
            "print(bad)\n" % (paths,))
    prints(executor(), code, "[]\nenviron refused\n[]\n")
    os.unlink(os.path.join(secret_dir, "key"))
    os.rmdir(secret_dir)


@test
def refused_system_calls():
    code = ("import ctypes, errno, os, subprocess\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "def e(r):\n"
            "    return errno.errorcode[ctypes.get_errno()] if r == -1 else 'ok'\n"
            "print(e(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)),\n"
            "      e(libc.unshare(0x10000000)), e(libc.ptrace(0, 0, 0, 0)))\n"
            "p = subprocess.run(['unshare', '-U', 'true'], capture_output=True, text=True)\n"
            "print(p.returncode, 'Operation not permitted' in p.stderr)\n"
            "print(e(libc.kill(%d, 9)))\n" % os.getpid())
    prints(executor(), code, "EPERM EPERM EPERM\n1 True\nESRCH\n")


@test
def fork_bomb_and_grandchild_contained():
    ex = executor(max_processes=64)
    marker = "agentexec-py-marker-%d" % os.getpid()
    result = run_code(ex, "import os, subprocess\n"
                          "subprocess.Popen(['bash', '-c', 'exec -a %s sleep 1000'],\n"
                          "                 start_new_session=True)\n"
                          "while True:\n"
                          "    try:\n"
                          "        os.fork()\n"
                          "    except OSError:\n"
                          "        pass\n" % marker, timeout_ms=3000)
    assert result.props.outcome == AgentExec.Outcome.DEADLINE_EXCEEDED, result.props.outcome
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                assert marker.encode() not in f.read(), "left behind: %s" % pid
        except OSError:
            pass
    prints(ex, "print('alive')", "alive\n")


@test
def files_figure_and_session():
    data = AgentExec.File.new("in.csv", "text/csv", GLib.Bytes.new(b"a\n1\n2\n"))
    ex = executor(stateful=True)
    result = prints(ex, "import matplotlib.pyplot as plt\n"
                        "rows = open('in.csv').read().split()[1:]\n"
                        "plt.plot([int(r) for r in rows])\n"
                        "open('out.txt', 'w').write(str(len(rows)))\n"
                        "n = len(rows)\nprint('ok')\n", "ok\n", execution_id="s", files=[data],
                    timeout_ms=120000)
    names = {f.props.name: f for f in result.get_output_files()}
    assert names["out.txt"].props.content.get_data() == b"2", names
    assert names["figure_1.png"].props.content.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
    prints(ex, "print(n * 21)", "42\n", execution_id="s")
    ex.close()


if __name__ == "__main__":
    run()
