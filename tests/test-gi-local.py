#!/usr/bin/python3
"""The Local backend through PyGObject: opt-in, runs, files, streaming, async, sessions."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("AgentExec", "1.0")
from gi.repository import AgentExec, Gio, GLib, GObject  # noqa: E402

from tap import run, test  # noqa: E402

PYTHON = "/usr/bin/python3"


def executor(stateful=False, **props):
    ex = AgentExec.LocalExecutor.new(True)
    ex.set_interpreter("python", PYTHON)
    ex.props.stateful = stateful
    for name, value in props.items():
        ex.set_property(name.replace("_", "-"), value)
    return ex


def make_input(code, language="python", timeout_ms=30000, execution_id=None):
    execution_input = AgentExec.ExecutionInput.new(code, language)
    execution_input.props.timeout_ms = timeout_ms
    if execution_id is not None:
        execution_input.props.execution_id = execution_id
    return execution_input


def run_code(ex, code, language="python", **kwargs):
    return ex.execute_code(None, make_input(code, language, **kwargs), None)


def run_async(ex, inputs, cancellable=None):
    """Starts every input at once; iterates the default main context until all end."""
    loop = GLib.MainLoop()
    results = {}

    def done(source, res, index):
        try:
            results[index] = source.execute_code_finish(res)
        except GLib.Error as e:
            results[index] = e
        if len(results) == len(inputs):
            loop.quit()

    for index, execution_input in enumerate(inputs):
        ex.execute_code_async(None, execution_input, cancellable, done, index)
    GLib.timeout_add_seconds(60, loop.quit)
    loop.run()
    return [results.get(i) for i in range(len(inputs))]


@test
def unsafe_needs_opt_in():
    # sandboxed (the default): no opt-in needed
    assert AgentExec.LocalExecutor.new(False).props.sandbox == AgentExec.LocalSandbox.NAMESPACES
    try:
        ex = GObject.new(AgentExec.LocalExecutor, allow_unsafe=False,
                         sandbox=AgentExec.LocalSandbox.NONE)
        ex.init(None)
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), AgentExec.Error.UNSAFE_NOT_ALLOWED), e
        assert "container" in e.message.lower(), e.message
    else:
        raise AssertionError("created without allow-unsafe")
    assert executor().props.allow_unsafe


def assert_not_initialised(error):
    assert isinstance(error, GLib.Error), error
    assert error.matches(AgentExec.error_quark(), AgentExec.Error.NOT_INITIALIZED), error
    assert "not initialised" in error.message, error.message


@test
def uninitialised_executor_refuses_every_path():
    """GObject.new() skips init(), where allow-unsafe is checked: nothing may run."""
    for allow_unsafe in (False, True):
        ex = GObject.new(AgentExec.LocalExecutor, allow_unsafe=allow_unsafe)
        ex.set_interpreter("python", PYTHON)
        for stateful in (False, True):
            ex.props.stateful = stateful
            execution_id = "s1" if stateful else None
            try:
                run_code(ex, "print('ran')", execution_id=execution_id)
            except GLib.Error as e:
                assert_not_initialised(e)
            else:
                raise AssertionError("an uninitialised executor ran code")
            (outcome,) = run_async(ex, [make_input("print('ran')", execution_id=execution_id)])
            assert_not_initialised(outcome)
            flow = AgentExec.CodeExecutionFlow.new(ex)
            context = AgentExec.ExecutorContext.new(None)
            try:
                flow.process_text(context, "inv", "```python\nprint('ran')\n```\n", None)
            except GLib.Error as e:
                assert_not_initialised(e)
            else:
                raise AssertionError("the flow ran code on an uninitialised executor")
        ex.close()
    # a failed init() leaves it refusing; a successful one lets it run
    ex = GObject.new(AgentExec.LocalExecutor, allow_unsafe=False,
                     sandbox=AgentExec.LocalSandbox.NONE)
    try:
        ex.init(None)
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), AgentExec.Error.UNSAFE_NOT_ALLOWED), e
    try:
        run_code(ex, "print('ran')")
    except GLib.Error as e:
        assert_not_initialised(e)
    else:
        raise AssertionError("ran after a failed init()")
    ex = GObject.new(AgentExec.LocalExecutor, allow_unsafe=True)
    ex.init(None)
    assert run_code(ex, "print(6 * 7)").props.stdout == "42\n"


@test
def runs_python_javascript_bash():
    ex = executor()
    for language, code in (("python", "print(6 * 7)"), ("js", "console.log(6 * 7)"),
                           ("sh", "echo $((6 * 7))")):
        result = run_code(ex, code, language)
        assert result.props.stdout == "42\n", (language, result.props.stdout)
        assert result.props.outcome == AgentExec.Outcome.OK
    failed = run_code(ex, "exit 7", "bash")
    assert failed.props.exit_code == 7 and failed.props.outcome == AgentExec.Outcome.FAILED


@test
def files_in_and_out():
    ex = executor()
    execution_input = make_input("data = open('in.bin', 'rb').read()\n"
                                 "open('out.bin', 'wb').write(data[::-1])\n")
    execution_input.add_file(AgentExec.File.new("in.bin", None, GLib.Bytes.new(b"\x00\x01\xff")))
    result = ex.execute_code(None, execution_input, None)
    files = {f.props.name: f for f in result.get_output_files()}
    assert list(files) == ["out.bin"], list(files)
    assert files["out.bin"].props.content.get_data() == b"\xff\x01\x00"


@test
def limits_are_properties():
    ex = executor(max_processes=32, max_memory_bytes=256 << 20, kill_grace_ms=100)
    assert ex.props.max_processes == 32
    assert ex.props.max_memory_bytes == 256 << 20
    start = time.monotonic()
    result = run_code(ex, "while True: pass", timeout_ms=500)
    assert result.props.outcome == AgentExec.Outcome.DEADLINE_EXCEEDED
    assert result.props.stderr.endswith("Code execution timed out after 0.5 seconds."), \
        result.props.stderr
    assert time.monotonic() - start < 1.5


@test
def nul_byte_in_code_is_refused_or_run():
    ex = executor()
    try:
        result = run_code(ex, "print(1)\x00print(2)")
    except (TypeError, ValueError):
        return  # PyGObject refuses strings with NUL for utf8 arguments
    assert result.props.outcome in (AgentExec.Outcome.OK, AgentExec.Outcome.FAILED)


@test
def streaming_sync():
    ex = executor()
    chunks = []
    threads = set()

    def on_output(_ex, _input, stream, chunk):
        chunks.append((stream, chunk.get_data(), time.monotonic()))
        threads.add(threading.get_ident())

    ex.connect("output", on_output)
    result = run_code(ex, "import time\nprint('a')\ntime.sleep(0.4)\nprint('b')")
    end = time.monotonic()
    data = b"".join(c[1] for c in chunks if c[0] == AgentExec.Stream.STDOUT)
    assert data == b"a\nb\n", data
    assert result.props.stdout == "a\nb\n"
    assert end - chunks[0][2] > 0.3, "the first chunk came only at the end"
    assert threads == {threading.get_ident()}


@test
def async_with_streaming_in_main_context():
    ex = executor()
    seen = []
    streamed = {}

    def on_output(_ex, execution_input, _stream, chunk):
        seen.append(threading.get_ident())
        code = execution_input.props.code
        streamed[code] = streamed.get(code, b"") + chunk.get_data()

    ex.connect("output", on_output)
    results = run_async(ex, [make_input("print('x')"), make_input("echo y", "bash")])
    assert [r.props.stdout for r in results] == ["x\n", "y\n"], results
    assert set(seen) == {threading.get_ident()}
    assert streamed == {"print('x')": b"x\n", "echo y": b"y\n"}, streamed


@test
def async_concurrent_callers():
    ex = executor()
    inputs = [make_input("print(%d)" % i) for i in range(16)]
    results = run_async(ex, inputs)
    assert [r.props.stdout for r in results] == ["%d\n" % i for i in range(16)]


@test
def async_cancel():
    ex = executor()
    cancellable = Gio.Cancellable()
    GLib.timeout_add(400, lambda: cancellable.cancel() or False)
    start = time.monotonic()
    (outcome,) = run_async(ex, [make_input("import time; time.sleep(30)")], cancellable)
    assert time.monotonic() - start < 2
    assert isinstance(outcome, GLib.Error) and outcome.matches(Gio.io_error_quark(),
                                                               Gio.IOErrorEnum.CANCELLED)


@test
def stateful_sessions():
    ex = executor(stateful=True)
    assert run_code(ex, "x = 41", execution_id="a").props.outcome == AgentExec.Outcome.OK
    assert run_code(ex, "print(x + 1)", execution_id="a").props.stdout == "42\n"
    other = run_code(ex, "print(x + 1)", execution_id="b")
    assert "NameError" in other.props.stderr
    assert ex.get_session_count() == 2
    ex.close()
    assert ex.get_session_count() == 0


@test
def stateful_timeout_restarts():
    ex = executor(stateful=True)
    run_code(ex, "x = 1", execution_id="t")
    hung = run_code(ex, "while True: pass", execution_id="t", timeout_ms=500)
    assert hung.props.outcome == AgentExec.Outcome.DEADLINE_EXCEEDED
    assert hung.props.session_restarted
    fresh = run_code(ex, "print('x' in dir())", execution_id="t")
    assert fresh.props.stdout == "False\n", fresh.props.stdout
    ex.close()


@test
def stateful_value_and_end_session():
    ex = executor(stateful=True)
    result = run_code(ex, "x = 6\nx * 7", execution_id="v")
    assert result.props.value == "42" and result.get_value() == "42", result.props.value
    assert run_code(ex, "x = 1", execution_id="v").props.value is None
    ex.end_session("v")
    assert ex.get_session_count() == 0
    gone = run_code(ex, "x", execution_id="v")
    assert "NameError" in gone.props.stderr and gone.props.value is None
    ex.close()


if __name__ == "__main__":
    run()
