#!/usr/bin/python3
"""Core types through PyGObject: construction, errors, a Python CodeExecutor."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("AgentExec", "1.0")
gi.require_version("Json", "1.0")
from gi.repository import AgentExec, GLib, GObject, Json  # noqa: E402

from tap import run, test  # noqa: E402


class EchoExecutor(GObject.Object, AgentExec.CodeExecutor):
    """An executor written in Python: echoes the code, streams it, fails on 'fail'."""

    def do_execute_code(self, context, execution_input, cancellable):
        code = execution_input.props.code
        self.emit_output(execution_input, AgentExec.Stream.STDOUT, GLib.Bytes.new(code.encode()))
        if code.startswith("fail"):
            return AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, "", code, 1, None)
        return AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, code, "", 0, None)


class ShoutExecutor(AgentExec.BaseExecutor):
    """A BaseExecutor subclass: gets the common properties and language detection."""

    def do_run(self, context, execution_input, language, cancellable):
        return AgentExec.ExecutionResult.new(
            AgentExec.Outcome.OK, language.upper(), "", 0, None)


@test
def result_type_and_fields():
    f = AgentExec.File.new("a.bin", None, GLib.Bytes.new(b"\x00\x01\xff"))
    r = AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, "out", "", 0, [f])
    assert r.props.stdout == "out"
    assert r.props.exit_code == 0
    assert r.props.outcome == AgentExec.Outcome.OK
    assert r.props.attempts == 1
    assert not r.is_error()
    files = r.get_output_files()
    assert len(files) == 1 and files[0].props.name == "a.bin"
    failed = AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, "", "", 2, None)
    assert failed.props.outcome == AgentExec.Outcome.FAILED
    assert failed.is_error()


@test
def file_json_round_trip_binary():
    data = bytes([0, 1, 2, 255, 0, 10])
    f = AgentExec.File.new("x.dat", None, GLib.Bytes.new(data))
    node = f.to_json()
    back = AgentExec.File.new_from_json(node)
    assert back.get_content().get_data() == data
    assert back.equal(f)
    assert Json.to_string(node, False).find('"mime_type":"application/octet-stream"') >= 0


@test
def input_properties():
    inp = AgentExec.ExecutionInput(code="print(1)", language="PY", execution_id="s1")
    inp.props.timeout_ms = 250
    inp.set_argv(["a", "b"])
    inp.add_file(AgentExec.File.new("d.csv", "text/csv", GLib.Bytes.new(b"a,b\n")))
    assert inp.get_argv() == ["a", "b"]
    assert inp.props.timeout_ms == 250
    assert inp.get_files()[0].props.mime_type == "text/csv"


@test
def languages():
    assert AgentExec.language_resolve("Python3") == "python"
    assert AgentExec.language_resolve("node") == "javascript"
    assert AgentExec.language_resolve("tool_code") == "python"
    assert AgentExec.language_detect("#!/bin/bash\necho 1\n") == "bash"
    assert "python" in AgentExec.language_get_supported()


@test
def error_matching():
    try:
        AgentExec.language_resolve("cobol")
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), AgentExec.Error.UNSUPPORTED_LANGUAGE)
        assert "cobol" in e.message and "python" in e.message
    else:
        raise AssertionError("no error")


@test
def formatter_round_trip():
    fmt = AgentExec.ResultFormatter.new()
    r = AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, "x\n```\ny", "", 0, None)
    text = fmt.format_inline_result(r)
    assert text.startswith("````tool_output\n")
    assert fmt.extract_execution_results("before\n" + text + "\nafter") == [fmt.format_result(r)]


@test
def python_executor_sync():
    ex = EchoExecutor()
    chunks = []
    ex.connect("output", lambda _e, _i, stream, chunk: chunks.append(chunk.get_data()))
    r = ex.execute_code(None, AgentExec.ExecutionInput.new("hello", None), None)
    assert r.props.stdout == "hello"
    assert chunks == [b"hello"]
    r = ex.execute_code(None, AgentExec.ExecutionInput.new("fail!", None), None)
    assert r.props.outcome == AgentExec.Outcome.FAILED and r.props.stderr == "fail!"


@test
def python_executor_async():
    ex = EchoExecutor()
    loop = GLib.MainLoop()
    got = {}
    chunks = []
    ex.connect("output", lambda _e, _i, _s, chunk: chunks.append(chunk.get_data()))

    def done(source, res):
        got["result"] = source.execute_code_finish(res)
        loop.quit()

    ex.execute_code_async(None, AgentExec.ExecutionInput.new("async!", None), None, done)
    GLib.timeout_add_seconds(10, loop.quit)
    loop.run()
    assert got["result"].props.stdout == "async!"
    assert chunks == [b"async!"]


@test
def base_executor_subclass_defaults():
    ex = ShoutExecutor()
    assert ex.props.error_retry_attempts == 2
    assert ex.props.timeout_ms == 60000
    assert ex.props.max_output_bytes == 1024 * 1024
    assert ex.props.code_block_delimiters == ["```tool_code\n", "\n```", "```python\n", "\n```"]
    assert ex.props.execution_result_delimiters == ["```tool_output\n", "\n```"]
    r = ex.execute_code(None, AgentExec.ExecutionInput.new("console.log(1);", None), None)
    assert r.props.stdout == "JAVASCRIPT"
    assert r.props.language == "javascript"
    try:
        ex.execute_code(None, AgentExec.ExecutionInput.new("x", "klingon"), None)
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), AgentExec.Error.UNSUPPORTED_LANGUAGE)
    else:
        raise AssertionError("no error")


@test
def context_adk_keys():
    ctx = AgentExec.ExecutorContext.new_from_json('{"_code_executor_error_counts": {"inv": 1}}')
    assert ctx.get_error_count("inv") == 1
    ctx.increment_error_count("inv")
    ctx.set_execution_id("abc")
    delta = ctx.get_state_delta()
    assert delta.get_object_member("_code_execution_context").get_string_member(
        "execution_session_id") == "abc"


if __name__ == "__main__":
    run()
