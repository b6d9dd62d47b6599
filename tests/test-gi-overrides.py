#!/usr/bin/python3
"""The PyGObject overrides (bindings/python/gi/overrides/AgentExec.py), used
as a Python user would: no init(), no Json, keyword runs, asyncio, dicts.

Run with the source tree's bindings/python on PYTHONPATH (meson does)."""

import asyncio
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
N_CALLS = 8
SOURCE_DIR = os.environ.get("AGENTEXEC_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def local(**props):
    ex = AgentExec.LocalExecutor(allow_unsafe=True, **props)
    ex.set_interpreter("python", PYTHON)
    return ex


def expect_error(func, code):
    try:
        func()
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), code), (e.code, e.message)
        return e
    raise AssertionError("no GLib.Error")


def chatty_code(i):
    return ("import sys, time\n"
            "for k in range(4):\n"
            "    print('call-%d line', k, flush=True)\n"
            "    print('call-%d err', k, file=sys.stderr, flush=True)\n"
            "    time.sleep(0.02)\n" % (i, i))


def expected(i, what):
    return "".join("call-%d %s %d\n" % (i, what, k) for k in range(4))


class Collector:
    """What one run's on_output received, and in which thread."""

    def __init__(self):
        self.pieces = {"stdout": [], "stderr": []}
        self.threads = set()

    def __call__(self, stream, text):
        assert isinstance(text, str)
        self.pieces[stream].append(text)
        self.threads.add(threading.get_ident())

    def text(self, stream):
        return "".join(self.pieces[stream])


@test
def overrides_are_the_source_trees():
    module = sys.modules["gi.overrides.AgentExec"]
    assert os.path.realpath(module.__file__) == os.path.realpath(
        os.path.join(SOURCE_DIR, "bindings", "python", "gi", "overrides", "AgentExec.py"))
    assert module.__doc__ and AgentExec.CodeExecutor.run.__doc__
    assert AgentExec.CodeExecutor.run_async.__doc__


# Construction runs init()


@test
def local_without_opt_in_raises_at_construction():
    # Sandboxed (the default) needs no opt-in; unsandboxed raises without it.
    assert AgentExec.LocalExecutor().props.sandbox == AgentExec.LocalSandbox.NAMESPACES
    for kwargs in ({}, {"allow_unsafe": False}):
        e = expect_error(lambda: AgentExec.LocalExecutor(sandbox=AgentExec.LocalSandbox.NONE,
                                                         **kwargs),
                         AgentExec.Error.UNSAFE_NOT_ALLOWED)
        assert "allow-unsafe" in e.message


@test
def container_without_engine_raises_at_construction():
    e = expect_error(lambda: AgentExec.ContainerExecutor(
        docker_host="/nonexistent/agentexec-docker.sock", max_retries=0),
        AgentExec.Error.BACKEND_UNAVAILABLE)
    assert "agentexec-docker.sock" in e.message


@test
def constructed_executor_runs_and_c_refuses_what_skipped_init():
    ex = local()
    assert ex.run("print('ran')", language="python").stdout == "ran\n"
    # GObject.new() from Python bypasses the override's __init__, as
    # g_object_new() does in C: the library itself then refuses to run.
    raw = GObject.new(AgentExec.LocalExecutor, allow_unsafe=True)
    raw.set_interpreter("python", PYTHON)
    expect_error(lambda: raw.run("print('the code ran')", language="python"),
                 AgentExec.Error.NOT_INITIALIZED)


@test
def context_manager_closes():
    with local(stateful=True) as ex:
        assert ex.run("x = 6 * 7", language="python", execution_id="s1").exit_code == 0
        assert ex.run("print(x)", language="python", execution_id="s1").stdout == "42\n"
    # close() ended the session: the executor still works, from scratch.
    r = ex.run("print('x' in globals())", language="python", execution_id="s1")
    assert r.stdout == "False\n", r.stdout
    ex.close()


# run()


@test
def run_takes_every_keyword():
    code = ("import os, sys\n"
            "print(open('data.csv').read(), end='')\n"
            "print(sys.argv[1:])\n"
            "print(os.environ['AGENTEXEC_TEST'])\n"
            "print('warn', file=sys.stderr)\n"
            "open('out.bin', 'wb').write(bytes([0, 1, 255]))\n")
    collected = Collector()
    with local() as ex:
        r = ex.run(code, language="py", files={"data.csv": b"a,b\n1,2\n"}, timeout=20.0,
                   argv=["one", "two"], env={"AGENTEXEC_TEST": "yes"},
                   on_output=collected)
    assert r.stdout == "a,b\n1,2\n['one', 'two']\nyes\n", r.stdout
    assert r.stderr == "warn\n"
    assert r.outcome == AgentExec.Outcome.OK and r.exit_code == 0 and r.signal == 0
    assert r.language == "python" and r.attempts == 1 and r.duration_us > 0
    assert not r.stdout_truncated and not r.stderr_truncated and not r.session_restarted
    files = {f.name: f for f in r.files}
    assert files["out.bin"].content == bytes([0, 1, 255])
    assert bytes(files["out.bin"]) == bytes([0, 1, 255])
    assert files["out.bin"].mime_type == "application/octet-stream"
    assert collected.text("stdout") == r.stdout and collected.text("stderr") == r.stderr
    assert collected.threads == {threading.get_ident()}
    assert r.to_json()["stdout"] == r.stdout


@test
def base_executor_run_once_and_the_c_run():
    with local() as ex:
        inp = AgentExec.ExecutionInput("print('once')")
        # The C method (one attempt, no language detection) keeps its form.
        r = ex.run(None, inp, "python", None)
        assert r.stdout == "once\n" and r.attempts == 1
        assert ex.run_once(None, inp, "python").stdout == "once\n"
        assert ex.run(inp).stdout == "once\n"  # the Pythonic form, detecting the language


@test
def run_accepts_an_input_object():
    inp = AgentExec.ExecutionInput("print(len(open('f.txt').read()))", "python",
                                   files={"f.txt": "héllo"}, timeout=10)
    assert [f.name for f in inp.files] == ["f.txt"] and inp.props.timeout_ms == 10000
    with local() as ex:
        assert ex.run(inp).stdout == "5\n"


@test
def run_timeout_is_in_seconds():
    with local() as ex:
        start = time.monotonic()
        r = ex.run("import time\nprint('start', flush=True)\ntime.sleep(30)", language="python",
                   timeout=0.5)
    assert r.outcome == AgentExec.Outcome.DEADLINE_EXCEEDED
    assert r.stdout == "start\n"
    assert time.monotonic() - start < 20


@test
def run_rejects_bad_arguments():
    with local() as ex:
        for kwargs, exc in (({"timeout": -1}, ValueError),
                            ({"files": {"a": 3}}, TypeError),
                            ({"files": ["a"]}, TypeError),
                            ({"on_output": "print"}, TypeError)):
            try:
                ex.run("print(1)", language="python", **kwargs)
            except exc:
                pass
            else:
                raise AssertionError("no %s for %r" % (exc.__name__, kwargs))
        expect_error(lambda: ex.run("print(1)", language="cobol"),
                     AgentExec.Error.UNSUPPORTED_LANGUAGE)
        expect_error(lambda: ex.run("print(1)", language="python", files={"../x": b""}),
                     AgentExec.Error.INVALID_INPUT)


@test
def on_output_decodes_split_characters_and_raises_its_errors():
    code = ("import sys, time\n"
            "out = sys.stdout.buffer\n"
            "out.write(b'caf\\xc3'); out.flush(); time.sleep(0.2)\n"
            "out.write(b'\\xa9\\n'); out.flush()\n")
    collected = Collector()
    with local() as ex:
        r = ex.run(code, language="python", on_output=collected)
        assert r.stdout == "café\n"
        assert collected.text("stdout") == "café\n"
        assert all("\ufffd" not in piece for piece in collected.pieces["stdout"])

        def boom(stream, text):
            raise KeyError("from on_output")
        try:
            ex.run("print(1)", language="python", on_output=boom)
        except KeyError as e:
            assert "from on_output" in str(e)
        else:
            raise AssertionError("the exception of on_output was lost")


@test
def eight_concurrent_runs_in_threads_see_only_their_output():
    collectors = [Collector() for _ in range(N_CALLS)]
    results = [None] * N_CALLS
    with local() as ex:
        def worker(i):
            results[i] = ex.run(chatty_code(i), language="python", timeout=60,
                                on_output=collectors[i])
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(N_CALLS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for i in range(N_CALLS):
        assert results[i].stdout == expected(i, "line")
        assert collectors[i].text("stdout") == expected(i, "line")
        assert collectors[i].text("stderr") == expected(i, "err")
        assert collectors[i].threads == {threads[i].ident}


# run_async()


@test
def eight_concurrent_run_async_in_asyncio():
    collectors = [Collector() for _ in range(N_CALLS)]
    ticks = []

    async def ticker(stop):
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def one(ex, i):
        r = await ex.run_async(chatty_code(i), language="python", timeout=60,
                               on_output=collectors[i])
        # Every piece of this run's output arrived before the await returned.
        assert collectors[i].text("stdout") == expected(i, "line")
        return r

    async def main():
        stop = asyncio.Event()
        tick_task = asyncio.create_task(ticker(stop))
        with local() as ex:
            results = await asyncio.gather(*(one(ex, i) for i in range(N_CALLS)))
        stop.set()
        await tick_task
        return results

    loop_thread = threading.get_ident()
    start = time.monotonic()
    results = asyncio.run(main())
    elapsed = time.monotonic() - start
    for i in range(N_CALLS):
        assert results[i].stdout == expected(i, "line")
        assert collectors[i].text("stderr") == expected(i, "err")
        assert collectors[i].threads == {loop_thread}
    # The loop kept running while the code ran (no blocking call).
    assert len(ticks) >= 5 and elapsed > 0.08, (len(ticks), elapsed)


@test
def run_async_raises_glib_errors_and_cancels():
    async def main():
        with local() as ex:
            try:
                await ex.run_async("print(1)", language="cobol")
            except GLib.Error as e:
                assert e.matches(AgentExec.error_quark(), AgentExec.Error.UNSUPPORTED_LANGUAGE)
            else:
                raise AssertionError("no error")
            seen = Collector()
            task = asyncio.create_task(ex.run_async(
                "import time\nprint('started', flush=True)\ntime.sleep(60)",
                language="python", on_output=seen))
            while "\n" not in seen.text("stdout"):
                await asyncio.sleep(0.01)
            start = time.monotonic()
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            else:
                raise AssertionError("not cancelled")
            # The executor is free again at once, and the code was killed.
            r = await ex.run_async("print('after')", language="python")
            assert r.stdout == "after\n"
            assert time.monotonic() - start < 30

    asyncio.run(main())


# JSON as dicts


@test
def process_llm_request_takes_a_dict():
    ex = AgentExec.BuiltInExecutor()
    request = {"model": "gemini-2.5-flash",
               "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    assert ex.process_llm_request(request) is request
    assert request["config"]["tools"] == [{"codeExecution": {}}]
    ex.process_llm_request(request)
    assert request["config"]["tools"] == [{"codeExecution": {}}]
    e = expect_error(lambda: ex.process_llm_request({"model": "gemini-1.5-flash"}),
                     AgentExec.Error.INVALID_INPUT)
    assert "gemini-1.5-flash" in e.message
    for bad in (["not", "a", "dict"], {"x": float("nan")}, {"b": b"bytes"}):
        try:
            ex.process_llm_request(bad)
        except TypeError:
            pass
        else:
            raise AssertionError("no TypeError for %r" % (bad,))


@test
def context_state_and_delta_are_dicts():
    state = {"_code_execution_context": {"execution_session_id": "sess-1",
                                         "processed_input_files": ["a.csv"]},
             "_code_executor_error_counts": {"inv": 1}}
    ctx = AgentExec.ExecutorContext.new(state)
    assert ctx.get_execution_id() == "sess-1"
    assert ctx.get_error_count("inv") == 1
    assert ctx.session_state == ctx.get_session_state()
    assert ctx.get_session_state()["_code_execution_context"]["processed_input_files"] == \
        ["a.csv"]
    assert isinstance(ctx.state_delta, dict)
    ctx.add_processed_file_names(["b.csv"])
    ctx.add_input_files({"in.csv": b"x\n1\n"})
    assert [f.content for f in ctx.get_input_files()] == [b"x\n1\n"]
    delta = ctx.get_state_delta()
    assert delta["_code_execution_context"]["processed_input_files"] == ["a.csv", "b.csv"]
    ctx.update_code_execution_result("inv", "print(1)", "1\n", "")
    results = ctx.get_code_execution_results("inv")
    assert isinstance(results, list) and results[0]["code"] == "print(1)"
    assert ctx.get_code_execution_results("none") == []
    empty = AgentExec.ExecutorContext.new().get_session_state()
    assert isinstance(empty, dict) and empty.get("_code_execution_context") == {}, empty


@test
def flow_contents_are_dicts():
    with local() as ex:
        flow = AgentExec.CodeExecutionFlow(ex)
        ctx = AgentExec.ExecutorContext.new()
        content = {"role": "model", "parts": [
            {"text": "Sum:\n```python\nprint(1 + 2)\n```\nignored tail"}]}
        step = flow.postprocess_response(ctx, "inv", content)
        assert step.executed and not step.gated and step.code == "print(1 + 2)"
        assert step.execution_result.stdout == "3\n"
        assert len(content["parts"]) == 1  # not changed: the truncated reply is the step's
        assert step.model_content["parts"][0] == {"text": "Sum:\n"}
        assert step.model_content["parts"][-1] == {
            "executableCode": {"language": "PYTHON", "code": "print(1 + 2)"}}
        assert step.result_content == {"role": "model", "parts": [
            {"codeExecutionResult": {"outcome": "OUTCOME_OK",
                                     "output": "Code execution result:\n3\n\n"}}]}
        assert isinstance(step.state_delta, dict) and step.saved_artifacts == []
        assert step.get_result_content() == step.result_content
        assert step.language == "python"
        text_step = flow.process_text(ctx, "inv-text", "```python\nprint(5)\n```\nrest", None)
        assert text_step.result_text == "```tool_output\nCode execution result:\n5\n\n\n```"
        assert text_step.text.startswith("```python\nprint(5)\n```")


@test
def flow_preprocess_request_and_async_write_back():
    with local(optimize_data_file=True) as ex:
        flow = AgentExec.CodeExecutionFlow(ex)
        ctx = AgentExec.ExecutorContext.new()
        request = {"contents": [{"role": "user", "parts": [
            {"inlineData": {"mimeType": "text/csv", "data": "YSxiCjEsMgo="}},
            {"text": "What is in it?"}]}]}
        steps = flow.preprocess_request(ctx, "inv", request)
        assert len(steps) == 1
        assert request["contents"][0]["parts"][0] == {
            "text": "\nAvailable file: `data_1_1.csv`\n"}
        assert [f.name for f in ctx.get_input_files()] == ["data_1_1.csv"]

        loop = GLib.MainLoop()
        out = {}
        content = {"role": "model", "parts": [{"text": "```python\nprint(40 + 2)\n```\ntail"}]}

        def done(source, res):
            out["step"] = source.postprocess_response_finish(res)
            loop.quit()

        flow.postprocess_response_async(ctx, "inv2", content, False, None, done)
        loop.run()
        assert out["step"].execution_result.stdout == "42\n"
        assert out["step"].model_content["parts"][-1]["executableCode"]["code"] == \
            "print(40 + 2)"

        request2 = {"contents": [{"role": "user", "parts": [{"text": "no data"}]}]}

        def done2(source, res):
            out["files"] = source.preprocess_request_finish(res)
            loop.quit()

        flow.preprocess_request_async(ctx, "inv3", request2, None, done2)
        loop.run()
        assert len(out["files"]) == 0 and request2["contents"][0]["parts"][0]["text"] == "no data"


@test
def genai_parts_are_dicts():
    assert AgentExec.genai_build_executable_code_part("print(1)") == {
        "executableCode": {"language": "PYTHON", "code": "print(1)"}}
    ok = AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, "4\n", "", 0, None)
    part = AgentExec.genai_build_code_execution_result_part(ok)
    assert part == {"codeExecutionResult": {"outcome": "OUTCOME_OK",
                                            "output": "Code execution result:\n4\n\n"}}
    assert AgentExec.genai_build_content("model", part) == {"role": "model", "parts": [part]}
    content = {"role": "model", "parts": [{"text": "Go:\n```python\nprint(1)\n```\ntail"}]}
    assert AgentExec.genai_extract_code_and_truncate_content(content, None) == "print(1)"
    assert content["parts"] == [
        {"text": "Go:\n"}, {"executableCode": {"language": "PYTHON", "code": "print(1)"}}]
    assert AgentExec.genai_convert_code_execution_parts(content, None, None)
    assert content["parts"][1] == {"text": "```tool_code\nprint(1)\n```"}


@test
def files_and_results_to_json_are_dicts():
    f = AgentExec.File.new("x.dat", None, GLib.Bytes.new(bytes([0, 1, 255])))
    as_dict = f.to_json()
    assert as_dict["name"] == "x.dat" and as_dict["mime_type"] == "application/octet-stream"
    back = AgentExec.File.new_from_json(as_dict)
    assert back.content == bytes([0, 1, 255]) and back.equal(f)
    r = AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, "out", "", 0, [f])
    assert r.to_json()["stdout"] == "out" and r.files[0].name == "x.dat"
    assert "x.dat" in repr(f) and "ok" in repr(r)


@test
def python_executors_get_run_too():
    class Echo(GObject.Object, AgentExec.CodeExecutor):
        def do_execute_code(self, context, execution_input, cancellable):
            code = execution_input.props.code
            self.emit_output(execution_input, AgentExec.Stream.STDOUT,
                             GLib.Bytes.new(code.encode()))
            return AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, code, "", 0, None)

    collected = Collector()
    with Echo() as ex:
        assert ex.run("hello", on_output=collected).stdout == "hello"
    assert collected.text("stdout") == "hello"

    async def main():
        seen = Collector()
        r = await Echo().run_async("again", on_output=seen)
        return r, seen
    r, seen = asyncio.run(main())
    assert r.stdout == "again" and seen.text("stdout") == "again"


@test
def gio_cancellable_kills_a_sync_run():
    cancellable = Gio.Cancellable()
    with local() as ex:
        timer = threading.Timer(0.3, cancellable.cancel)
        start = time.monotonic()
        timer.start()
        try:
            ex.run("import time\ntime.sleep(30)", language="python", cancellable=cancellable)
        except GLib.Error as e:
            assert e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), e
        else:
            raise AssertionError("a cancelled run returned a result")
        assert time.monotonic() - start < 20
        timer.join()


# The streaming flow


@test
def stream_fed_byte_at_a_time_runs_blocks_as_they_close():
    reply = "Sure \u2713.\n```python\nprint(6 * 7)\n```\nDone."
    with local() as ex:
        flow = AgentExec.CodeExecutionFlow(ex)
        seen = []
        with flow.stream_text(AgentExec.ExecutorContext.new(), "inv", on_step=seen.append) as s:
            for byte in reply.encode():
                s.feed(bytes([byte]))  # splits the UTF-8 of the check mark
            assert s.pending == 1 and s.invocation_id == "inv" and not s.all_blocks
        assert len(seen) == 1 and seen[0].execution_result.stdout == "42\n"
        assert [step.code for step in s.steps] == ["print(6 * 7)"]
        assert s.text.startswith("Sure \u2713.\n```python\nprint(6 * 7)\n```")
        assert s.text.endswith("```tool_output\nCode execution result:\n42\n\n\n```")
        for misuse in (lambda: s.feed("more"), s.end):
            try:
                misuse()
            except ValueError:
                pass
            else:
                raise AssertionError("a stream used after its end")
        whole = flow.stream_text(AgentExec.ExecutorContext.new(), "inv")
        whole.feed(reply)
        assert [st.execution_result.stdout for st in whole.end()] == ["42\n"]
        assert whole.text == s.text


@test
def stream_in_asyncio_steps_arrive_while_feeding():
    async def main():
        with local() as ex:
            flow = AgentExec.CodeExecutionFlow(ex, all_blocks=True)
            seen = []
            ctx = AgentExec.ExecutorContext.new()
            async with flow.stream_text_asyncio(ctx, "inv", on_step=seen.append) as s:
                s.feed("First:\n```python\nprint('one')\n")
                s.feed("```\nSecond:\n")
                while not seen:  # the first block ran while the reply goes on
                    await asyncio.sleep(0.01)
                assert seen[0].execution_result.stdout == "one\n"
                s.feed("```python\nprint('two')\n```\nbye")
            return seen, s
    seen, s = asyncio.run(main())
    assert [st.execution_result.stdout for st in seen] == ["one\n", "two\n"]
    assert s.text.endswith("```tool_output\nCode execution result:\ntwo\n\n\n```\nbye"), s.text


@test
def stream_asyncio_end_returns_steps_and_raises():
    async def main():
        with local() as ex:
            flow = AgentExec.CodeExecutionFlow(ex)
            s = flow.stream_text_asyncio(AgentExec.ExecutorContext.new(), "inv")
            s.feed("```python\nprint(1 + 1)\n```")
            steps = await s.end()
            assert [st.execution_result.stdout for st in steps] == ["2\n"]
        raw = GObject.new(AgentExec.LocalExecutor, allow_unsafe=True)
        s = AgentExec.CodeExecutionFlow(raw).stream_text_asyncio(
            AgentExec.ExecutorContext.new(), "inv")
        s.feed("```python\nprint('the code ran')\n```")
        try:
            await s.end()
        except GLib.Error as e:
            assert e.matches(AgentExec.error_quark(), AgentExec.Error.NOT_INITIALIZED), e
        else:
            raise AssertionError("an uninitialised executor ran a streamed block")
    asyncio.run(main())


run()
