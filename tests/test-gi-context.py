#!/usr/bin/python3
"""ExecutorContext, the genai helpers and CodeExecutionFlow through PyGObject."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("AgentExec", "1.0")
gi.require_version("Json", "1.0")
from gi.repository import AgentExec, GLib, Json  # noqa: E402

from tap import run, test  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


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


class FlakyExecutor(AgentExec.BaseExecutor):
    """Fails as an unreachable backend a number of times, then succeeds."""

    def __init__(self, failures, **kwargs):
        super().__init__(**kwargs)
        self.failures = failures
        self.runs = 0

    def do_run(self, context, execution_input, language, cancellable):
        self.runs += 1
        if self.runs <= self.failures:
            raise GLib.Error.new_literal(AgentExec.error_quark(), f"engine down ({self.runs})",
                                         AgentExec.Error.BACKEND_UNAVAILABLE)
        return AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, "up\n", "", 0, None)


def to_object(value):
    return Json.from_string(json.dumps(value)).get_object()


def to_python(obj):
    node = Json.Node.alloc().init_object(obj)
    return json.loads(Json.to_string(node, False))


def adk_state():
    with open(os.path.join(HERE, "data", "context", "adk-state.json")) as f:
        return f.read()


@test
def context_reads_adk_document():
    ctx = AgentExec.ExecutorContext.new_from_json(adk_state())
    assert ctx.get_execution_id() == "8c3a0f5e-6b1d-4c2e-9f0a-1d2e3f4a5b6c"
    assert ctx.get_processed_file_names() == ["data_1_1.csv"]
    files = ctx.get_input_files()
    assert len(files) == 1
    assert files[0].get_content().get_data() == b"city,temp\nOslo,3\nLima,19\n"
    assert ctx.get_error_count("e-7f3a21c0") == 1
    history = ctx.get_code_execution_results("e-7f3a21c0")
    assert history.get_length() == 2
    assert history.get_object_element(1).get_string_member("code") == "print(df.temp.mean())"


@test
def context_round_trip_is_exact():
    ctx = AgentExec.ExecutorContext.new_from_json(adk_state())
    assert json.loads(ctx.to_json()) == json.loads(adk_state())


@test
def context_counts_and_delta():
    ctx = AgentExec.ExecutorContext.new(None)
    ctx.increment_error_count("inv")
    ctx.increment_error_count("inv")
    assert ctx.get_error_count("inv") == 2
    ctx.reset_error_count("inv")
    assert ctx.get_error_count("inv") == 0
    ctx.add_processed_file_names(["data_1_1.csv"])
    delta = to_python(ctx.get_state_delta())
    assert delta == {"_code_execution_context": {"processed_input_files": ["data_1_1.csv"]}}


@test
def context_invalid_json_raises():
    try:
        AgentExec.ExecutorContext.new_from_json("[]")
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), AgentExec.Error.INVALID_INPUT)
        assert "JSON object" in e.message
    else:
        raise AssertionError("no error")


@test
def genai_result_part_rules():
    ok = AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, "4\n", "", 0, None)
    failed = AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, "", "boom\n", 1, None)
    assert to_python(AgentExec.genai_build_code_execution_result_part(ok)) == {
        "codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "Code execution result:\n4\n\n"}}
    assert to_python(AgentExec.genai_build_code_execution_result_part(failed)) == {
        "codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": "boom\n"}}


@test
def genai_extract_and_rewrite():
    content = to_object({"role": "model", "parts": [
        {"text": "Go:\n```python\nprint(1)\n```\nignored tail"}]})
    code = AgentExec.genai_extract_code_and_truncate_content(content, None)
    assert code == "print(1)"
    assert to_python(content)["parts"] == [
        {"text": "Go:\n"},
        {"executableCode": {"language": "PYTHON", "code": "print(1)"}}]
    assert AgentExec.genai_convert_code_execution_parts(content, None, None)
    assert to_python(content)["parts"][1] == {"text": "```tool_code\nprint(1)\n```"}


@test
def flow_postprocess_and_gate():
    executor = ScriptExecutor()
    flow = AgentExec.CodeExecutionFlow.new(executor)
    ctx = AgentExec.ExecutorContext.new(None)
    reply = to_object({"role": "model", "parts": [{"text": "```python\nerror NameError\n```"}]})
    for i in range(3):
        step = flow.postprocess_response(ctx, "inv", reply, False, None)
        assert step.get_executed() == (i < 2)
        assert step.get_gated() == (i == 2)
    assert len(executor.codes) == 2
    assert ctx.get_error_count("inv") == 2
    step = flow.postprocess_response(ctx, "other", to_object(
        {"role": "model", "parts": [{"text": "```python\nprint 7\n```"}]}), False, None)
    assert to_python(step.get_result_content()) == {"role": "model", "parts": [
        {"codeExecutionResult": {"outcome": "OUTCOME_OK",
                                 "output": "Code execution result:\n7\n\n"}}]}
    assert list(to_python(step.get_state_delta())) == ["_code_execution_context"]


@test
def flow_plain_text():
    executor = ScriptExecutor()
    flow = AgentExec.CodeExecutionFlow.new(executor)
    ctx = AgentExec.ExecutorContext.new(None)
    step = flow.process_text(ctx, "inv", "Sum:\n```python\nprint 3\n```\nrest", None)
    assert step.get_executed()
    assert step.get_text() == ("Sum:\n```python\nprint 3\n```\n"
                               "```tool_output\nCode execution result:\n3\n\n\n```")
    final = flow.process_text(ctx, "inv", "The answer is 3.", None)
    assert not final.get_executed() and final.get_text() == "The answer is 3."


@test
def flow_async():
    executor = ScriptExecutor()
    flow = AgentExec.CodeExecutionFlow.new(executor)
    ctx = AgentExec.ExecutorContext.new(None)
    loop = GLib.MainLoop()
    out = {}

    def done(source, res):
        out["step"] = source.process_text_finish(res)
        loop.quit()

    flow.process_text_async(ctx, "inv", "```python\nprint async\n```", None, done)
    loop.run()
    assert out["step"].get_result_text() == (
        "```tool_output\nCode execution result:\nasync\n\n\n```")


@test
def flow_preprocess_csv():
    executor = ScriptExecutor(optimize_data_file=True)
    flow = AgentExec.CodeExecutionFlow.new(executor)
    ctx = AgentExec.ExecutorContext.new(None)
    request = to_object({"contents": [{"role": "user", "parts": [
        {"inlineData": {"mimeType": "text/csv", "data": "YSxiCjEsMgo="}},
        {"text": "What is in it?"}]}]})
    steps = flow.preprocess_request(ctx, "inv", request, None)
    assert len(steps) == 1
    contents = to_python(request)["contents"]
    assert contents[0]["parts"][0] == {"text": "\nAvailable file: `data_1_1.csv`\n"}
    assert len(contents) == 3
    assert contents[1]["parts"][0] == {"text": "Processing input file: `data_1_1.csv`"}
    assert contents[2]["role"] == "user"
    assert [f.get_name() for f in ctx.get_input_files()] == ["data_1_1.csv"]
    assert "def explore_df(" in executor.codes[0]


@test
def retries_with_signal():
    executor = FlakyExecutor(2, max_retries=3, retry_delay_ms=1)
    seen = []
    executor.connect("retry",
                     lambda ex, inp, attempt, delay, err: seen.append((attempt, err.message)))
    result = executor.execute_code(None, AgentExec.ExecutionInput.new("x", "python"), None)
    assert result.props.attempts == 3
    assert seen == [(1, "engine down (1)"), (2, "engine down (2)")]


@test
def retries_exhausted():
    executor = FlakyExecutor(10, max_retries=1, retry_delay_ms=1)
    try:
        executor.execute_code(None, AgentExec.ExecutionInput.new("x", "python"), None)
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), AgentExec.Error.RETRIES_EXHAUSTED)
        assert "2 attempts" in e.message and "engine down (2)" in e.message
    else:
        raise AssertionError("no error")
    assert executor.runs == 2


if __name__ == "__main__":
    run()
