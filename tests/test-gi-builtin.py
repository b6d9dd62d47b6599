#!/usr/bin/python3
"""The BuiltIn (Gemini) executor through PyGObject, against a loopback HTTP server."""

import http.server
import json
import os
import queue
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("AgentExec", "1.0")
gi.require_version("Json", "1.0")
from gi.repository import AgentExec, GLib, Json  # noqa: E402

from tap import run, test  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "builtin")
KEY = "AIzaPY-test-key-do-not-leak"

for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
    os.environ.pop(name, None)


def data(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


class Server:
    """Answers each POST with the next canned (status, headers, chunks, pause)."""

    def __init__(self):
        self.responses = queue.Queue()
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                outer.requests.append((self.path, dict(self.headers), body))
                status, headers, chunks, pause = outer.responses.get_nowait()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Connection", "close")
                self.end_headers()
                for chunk in chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    time.sleep(pause)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = "http://127.0.0.1:%d/v1beta" % self.httpd.server_address[1]

    def answer(self, status, body, content_type="application/json", headers=None, pause=0.0):
        chunks = body if isinstance(body, list) else [body]
        h = {"Content-Type": content_type}
        h.update(headers or {})
        self.responses.put((status, h, chunks, pause))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_executor(server, **props):
    executor = AgentExec.BuiltInExecutor(base_url=server.base_url, api_key=KEY, **props)
    return executor


def run_python(executor, code):
    return executor.execute_code(None, AgentExec.ExecutionInput.new(code, "python"), None)


def expect_error(fn, code):
    try:
        fn()
    except GLib.Error as e:
        assert e.matches(AgentExec.error_quark(), code), (e.domain, e.code, e.message)
        return e
    raise AssertionError("no error raised")


@test
def class_and_properties():
    executor = AgentExec.BuiltInExecutor.new()
    assert isinstance(executor, AgentExec.BaseExecutor)
    assert isinstance(executor, AgentExec.CodeExecutor)
    assert executor.props.model == "gemini-2.5-flash"
    assert executor.props.base_url == "https://generativelanguage.googleapis.com/v1beta"
    assert executor.props.request_timeout_ms == 0
    assert not executor.props.streaming
    assert not executor.has_api_key()
    executor.set_api_key("k")
    assert executor.has_api_key()
    executor.set_model("models/gemini-2.0-flash")
    assert executor.dup_model() == "models/gemini-2.0-flash"
    # The key is write-only.
    spec = AgentExec.BuiltInExecutor.find_property("api-key")
    assert not (spec.flags & 1)  # G_PARAM_READABLE


@test
def process_llm_request_adds_tool_once():
    executor = AgentExec.BuiltInExecutor.new()
    request = {"model": "gemini-2.0-flash", "contents": [{"role": "user",
                                                          "parts": [{"text": "hi"}]}],
               "config": {"tools": [{"googleSearch": {}}], "temperature": 0.2}}
    node = Json.from_string(json.dumps(request))
    for _ in range(3):
        assert executor.process_llm_request(node.get_object())
    got = json.loads(Json.to_string(node, False))
    request["config"]["tools"].append({"codeExecution": {}})
    assert got == request, got


@test
def process_llm_request_rejects_old_models():
    executor = AgentExec.BuiltInExecutor.new()
    node = Json.from_string('{"model": "gemini-1.5-flash", "contents": []}')
    e = expect_error(lambda: executor.process_llm_request(node.get_object()),
                     AgentExec.Error.INVALID_INPUT)
    assert e.message == "Gemini code execution tool is not supported for model gemini-1.5-flash"


@test
def process_llm_request_without_model_fails_as_adk():
    executor = AgentExec.BuiltInExecutor.new()
    assert not executor.props.model_fallback
    node = Json.from_string('{"contents": []}')
    e = expect_error(lambda: executor.process_llm_request(node.get_object()),
                     AgentExec.Error.INVALID_INPUT)
    assert e.message == "Gemini code execution tool is not supported for model None"
    executor.props.model_fallback = True
    assert executor.process_llm_request(node.get_object())
    assert json.loads(Json.to_string(node, False)) == {
        "contents": [], "config": {"tools": [{"codeExecution": {}}]}}


@test
def execute_success_and_request():
    server = Server()
    try:
        server.answer(200, data("success.json"))
        result = run_python(make_executor(server), "print(sum(range(10)))")
        assert result.props.outcome == AgentExec.Outcome.OK
        assert result.props.stdout == "45\n"
        assert result.props.language == "python"
        path, headers, body = server.requests[0]
        assert path == "/v1beta/models/gemini-2.5-flash:generateContent"
        assert headers.get("x-goog-api-key") == KEY
        sent = json.loads(body)
        assert sent["tools"] == [{"codeExecution": {}}]
        assert "print(sum(range(10)))" in sent["contents"][0]["parts"][-1]["text"]
    finally:
        server.close()


@test
def execute_failure_and_image():
    server = Server()
    try:
        server.answer(200, data("failure.json"))
        server.answer(200, data("image.json"))
        executor = make_executor(server)
        failed = run_python(executor, "print(1 / 0)")
        assert failed.props.outcome == AgentExec.Outcome.FAILED
        assert "ZeroDivisionError" in failed.props.stderr
        plot = run_python(executor, "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\n"
                                    "plt.show()")
        files = plot.get_output_files()
        assert [f.props.mime_type for f in files] == ["image/png", "image/png", "text/csv"]
        assert files[0].get_content().get_data()[:4] == b"\x89PNG"
        assert files[2].props.name == "table.csv"
    finally:
        server.close()


@test
def http_errors_map_and_hide_the_key():
    server = Server()
    try:
        echo = json.dumps({"error": {"code": 403, "message": "bad key %s" % KEY,
                                     "status": "PERMISSION_DENIED"}}).encode()
        server.answer(403, echo)
        server.answer(404, data("error-404.json"))
        server.answer(500, data("error-500.json"))
        executor = make_executor(server)
        e = expect_error(lambda: run_python(executor, "print(1)"),
                         AgentExec.Error.PERMISSION_DENIED)
        assert KEY not in e.message and "[redacted]" in e.message
        e = expect_error(lambda: run_python(executor, "print(1)"), AgentExec.Error.FAILED)
        assert "gemini-2.5-flash" in e.message
        expect_error(lambda: run_python(executor, "print(1)"),
                     AgentExec.Error.BACKEND_UNAVAILABLE)
    finally:
        server.close()


@test
def retries_honour_retry_after():
    server = Server()
    try:
        server.answer(429, data("error-429.json"), headers={"Retry-After": "1"})
        server.answer(200, data("success.json"))
        executor = make_executor(server, max_retries=2, retry_delay_ms=10)
        start = time.monotonic()
        result = run_python(executor, "print(sum(range(10)))")
        assert time.monotonic() - start >= 0.95
        assert result.props.attempts == 2
    finally:
        server.close()


@test
def unsupported_language_and_no_key():
    executor = AgentExec.BuiltInExecutor(base_url="http://127.0.0.1:9/v1beta")
    js = AgentExec.ExecutionInput.new("console.log(1)", "javascript")
    expect_error(lambda: executor.execute_code(None, js, None),
                 AgentExec.Error.UNSUPPORTED_LANGUAGE)
    e = expect_error(lambda: run_python(executor, "print(1)"), AgentExec.Error.FAILED)
    assert "GEMINI_API_KEY" in e.message


@test
def streaming_output_signal_async():
    server = Server()
    try:
        events = [data("stream-%d.sse" % i) for i in range(1, 6)]
        server.answer(200, events, content_type="text/event-stream", pause=0.05)
        executor = make_executor(server)
        chunks = []
        executor.connect("output", lambda ex, inp, stream, chunk:
                         chunks.append((stream, chunk.get_data().decode())))
        loop = GLib.MainLoop()
        outcome = {}

        def done(source, res):
            try:
                outcome["result"] = source.execute_code_finish(res)
            except GLib.Error as e:  # pragma: no cover - reported below
                outcome["error"] = e
            loop.quit()

        inp = AgentExec.ExecutionInput.new("for i in range(3):\n    print(i)\n", "python")
        executor.execute_code_async(None, inp, None, done)
        GLib.timeout_add_seconds(20, loop.quit)
        loop.run()
        assert "error" not in outcome, outcome.get("error")
        assert outcome["result"].props.stdout == "0\n1\n2\n"
        assert chunks == [(AgentExec.Stream.STDOUT, "0\n1\n"), (AgentExec.Stream.STDOUT, "2\n")]
        assert server.requests[0][0].endswith(":streamGenerateContent?alt=sse")
    finally:
        server.close()


def cli(args, env_extra, stdin):
    import subprocess
    tool = os.path.join(os.environ.get("AGENTEXEC_BUILD_DIR", "."), "tools", "agentexec")
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    env.update(env_extra)
    return subprocess.run([tool] + args, input=stdin.encode(), env=env, capture_output=True,
                          timeout=60)


@test
def cli_builtin_backend():
    done = cli(["run", "--backend", "builtin", "-"], {}, "print(1)\n")
    assert done.returncode == 3, done
    assert b"GEMINI_API_KEY" in done.stderr
    server = Server()
    try:
        server.answer(200, data("success.json"))
        done = cli(["run", "--backend", "builtin", "--language", "python", "-"],
                   {"GEMINI_API_KEY": KEY, "AGENTEXEC_GEMINI_BASE_URL": server.base_url,
                    "AGENTEXEC_GEMINI_MODEL": "gemini-2.0-flash"},
                   "print(sum(range(10)))\n")
        assert done.returncode == 0, done
        assert done.stdout == b"45\n", done.stdout
        assert KEY.encode() not in done.stdout + done.stderr
        path, headers, _ = server.requests[0]
        assert path.startswith("/v1beta/models/gemini-2.0-flash:"), path
        assert headers.get("x-goog-api-key") == KEY
    finally:
        server.close()


if __name__ == "__main__":
    run()
