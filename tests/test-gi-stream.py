#!/usr/bin/python3
"""The streaming flow (CodeExecutionStream) through PyGObject: a reply fed a
byte at a time gives the same steps as the whole reply, and as process_text."""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("AgentExec", "1.0")
from gi.repository import AgentExec, GLib  # noqa: E402

from tap import run, test  # noqa: E402

PYTHON = shutil.which("python3", path="/usr/bin:/bin") or "/usr/bin/python3"

REPLIES = [
    "Let me compute.\n```python\nprint 42\n```\nThe answer follows.",
    "No code at all.",
    "```python\n\n```\nthen ```python\nprint late\n```",
    "First:\n```tool_code\nprint one\nerror warn\n```\nSecond:\n```python\nprint two\n```\nbye",
    "```python\nprint never closed",
    "utf-8 \u00e9\u2713\n```python\nprint \u2713\n```",
]


class ScriptExecutor(AgentExec.BaseExecutor):
    """A fake backend: 'print X' → stdout, 'error X' → stderr and exit 1."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.codes = []

    def do_run(self, context, execution_input, language, cancellable):
        code = execution_input.props.code
        self.codes.append(code)
        out, err, status = [], [], 0
        for line in code.split("\n"):
            if line.startswith("print "):
                out.append(line[6:] + "\n")
            elif line.startswith("error "):
                err.append(line[6:] + "\n")
                status = 1
        return AgentExec.ExecutionResult.new(
            AgentExec.Outcome.OK, "".join(out), "".join(err), status, None)


def summary(step):
    result = step.get_execution_result()
    return (step.get_executed(), step.get_gated(), step.get_code(), step.get_language(),
            step.get_text(), step.get_result_text(),
            None if result is None else (result.props.stdout, result.props.stderr,
                                         result.props.exit_code))


def stream(reply, chunk, all_blocks=False):
    executor = ScriptExecutor()
    flow = AgentExec.CodeExecutionFlow.new(executor)
    flow.props.all_blocks = all_blocks
    context = AgentExec.ExecutorContext.new(None)
    s = flow.stream_text(context, "inv", None)
    signalled = []
    s.connect("step", lambda _s, step: signalled.append(summary(step)))
    data = reply.encode()
    size = chunk or len(data)
    for at in range(0, len(data), size):
        s.feed_full(data[at:at + size])
    steps = [summary(step) for step in s.end()]
    assert signalled == steps, (signalled, steps)
    return steps, s.get_text(), executor.codes, context.get_error_count("inv")


@test
def byte_at_a_time_equals_whole_reply_and_process_text():
    for reply in REPLIES:
        whole = stream(reply, 0)
        assert stream(reply, 1) == whole, reply
        assert stream(reply, 5) == whole, reply
        executor = ScriptExecutor()
        flow = AgentExec.CodeExecutionFlow.new(executor)
        context = AgentExec.ExecutorContext.new(None)
        step = flow.process_text(context, "inv", reply, None)
        steps, text, codes, errors = whole
        assert steps == [summary(step)], (steps, summary(step))
        assert text == step.get_text()
        assert codes == executor.codes
        assert errors == context.get_error_count("inv")


@test
def all_blocks_run_in_order():
    for reply in REPLIES:
        assert stream(reply, 1, True) == stream(reply, 0, True), reply
    steps, text, codes, errors = stream(REPLIES[3], 1, True)
    assert codes == ["print one\nerror warn", "print two"], codes
    assert [s[0] for s in steps] == [True, True]
    assert errors == 0
    assert text.endswith("```tool_output\nCode execution result:\ntwo\n\n\n```\nbye"), text


@test
def runs_before_the_reply_ends_in_a_main_loop():
    executor = ScriptExecutor()
    flow = AgentExec.CodeExecutionFlow.new(executor)
    context = AgentExec.ExecutorContext.new(None)
    s = flow.stream_text(context, "inv", None)
    loop = GLib.MainLoop()
    seen = []

    def on_step(_s, step):
        seen.append(step.get_result_text())
        loop.quit()

    s.connect("step", on_step)
    s.feed("Here:\n```python\nprint early\n``")
    assert s.get_pending() == 0
    s.feed("`")
    assert s.get_pending() == 1
    GLib.timeout_add_seconds(30, loop.quit)
    loop.run()
    assert seen == ["```tool_output\nCode execution result:\nearly\n\n\n```"], seen
    s.feed("\nand more text")
    done = {}

    def ended(source, res):
        done["steps"] = source.end_finish(res)
        loop.quit()

    s.end_async(ended)
    loop.run()
    assert len(done["steps"]) == 1
    assert s.get_text().endswith("early\n\n\n```")


@test
def local_executor_byte_at_a_time():
    executor = AgentExec.LocalExecutor.new(True)
    executor.set_interpreter("python", PYTHON)
    flow = AgentExec.CodeExecutionFlow.new(executor)
    context = AgentExec.ExecutorContext.new(None)
    s = AgentExec.CodeExecutionStream.new(flow, context, "inv", None)
    for byte in "Sure.\n```python\nx = 6 * 7\nprint(x)\n```\nDone.".encode():
        s.feed_full(bytes([byte]))
    steps = s.end()
    assert steps[0].get_execution_result().props.stdout == "42\n"
    assert s.get_text().endswith("```tool_output\nCode execution result:\n42\n\n\n```")


@test
def unreachable_backend_is_an_error():
    class Down(AgentExec.BaseExecutor):
        def do_run(self, context, execution_input, language, cancellable):
            raise GLib.Error.new_literal(AgentExec.error_quark(), "engine down",
                                         AgentExec.Error.BACKEND_UNAVAILABLE)

    flow = AgentExec.CodeExecutionFlow.new(Down())
    s = flow.stream_text(AgentExec.ExecutorContext.new(None), "inv", None)
    s.feed("```python\nprint 1\n```")
    try:
        s.end()
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), AgentExec.Error.BACKEND_UNAVAILABLE), e
        assert "engine down" in e.message
    else:
        raise AssertionError("no error")


if __name__ == "__main__":
    run()
