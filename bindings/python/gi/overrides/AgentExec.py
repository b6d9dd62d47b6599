# AgentExec.py: PyGObject overrides for libagentexec
#
# SPDX-License-Identifier: LGPL-2.1-or-later

"""Pythonic AgentExec: safe construction, keyword runs, asyncio, plain JSON.

PyGObject loads this module by itself when a program imports
``gi.repository.AgentExec``; it changes nothing for code written against
the plain introspected API, except where noted below.

- Constructing any executor runs ``init()``: ``AgentExec.LocalExecutor()``
  raises ``GLib.Error`` right there when the kernel refuses its sandbox (or,
  with ``sandbox=AgentExec.LocalSandbox.NONE``, without ``allow_unsafe=True``), and a
  container executor that cannot reach its engine fails at construction,
  not at the first run. Every executor is a context manager whose exit
  calls ``close()``.
- ``executor.run(code, language=..., execution_id=..., files={...},
  timeout=..., argv=[...], env={...}, on_output=...)`` and
  ``await executor.run_async(...)`` (the same keywords; it never blocks
  the asyncio event loop).
- Results expose their properties as attributes (``r.stdout``,
  ``r.exit_code``, ``r.outcome``, ``r.files``) and files their content as
  ``bytes`` (``f.content``).
- Every function or method that takes JSON (``process_llm_request``, the
  flow's requests and contents, the genai helpers, ``ExecutorContext.new``)
  also takes a plain ``dict``; everything that returns JSON (context state
  and delta, step contents, genai parts, ``to_json()``) returns plain
  ``dict``/``list`` values. Where the C API changes its ``JsonObject`` in
  place (``process_llm_request``, ``preprocess_request``, the genai
  rewriters), a ``dict`` given is updated in place the same way.
- The streaming flow: ``flow.stream_text(context, invocation_id,
  on_step=...)`` gives a stream that takes ``feed(str or bytes)`` and
  returns its steps from ``end()`` (or as a context manager); from asyncio,
  ``flow.stream_text_asyncio(...)`` with ``await stream.end()``.

Example::

    from gi.repository import AgentExec

    with AgentExec.ContainerExecutor(stateful=True) as ex:
        r = ex.run("x = 6 * 7\\nprint(x)", language="python",
                   execution_id="s1", files={"data.csv": b"a,b\\n1,2\\n"},
                   timeout=5.0,
                   on_output=lambda stream, text: print(stream, text, end=""))
        print(r.stdout, r.outcome, r.exit_code, [f.name for f in r.files])
"""

import asyncio
import codecs
import json
import threading

import gi
from gi.module import get_introspection_module
from gi.overrides import override

gi.require_version("Json", "1.0")
from gi.repository import Gio, GLib, Json  # noqa: E402

AgentExec = get_introspection_module("AgentExec")

__all__ = []

_STREAM_NAMES = {
    AgentExec.Stream.STDOUT: "stdout",
    AgentExec.Stream.STDERR: "stderr",
}


# JSON: plain Python values in, plain Python values out


def _json_object(value, what):
    """A Json.Object for a dict (a new one) or a Json.Object (itself)."""
    if isinstance(value, Json.Object):
        return value
    if not isinstance(value, dict):
        raise TypeError("%s must be a dict (or a Json.Object), not %s"
                        % (what, type(value).__name__))
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError("%s is not JSON data: %s" % (what, e)) from None
    return Json.from_string(text).get_object()


def _python(value):
    """The plain Python value of a Json.Node, Json.Object or Json.Array."""
    if value is None:
        return None
    if isinstance(value, Json.Node):
        node = value
    elif isinstance(value, Json.Object):
        node = Json.Node.alloc().init_object(value)
    elif isinstance(value, Json.Array):
        node = Json.Node.alloc().init_array(value)
    else:
        return value
    return json.loads(Json.to_string(node, False))


def _write_back(target, json_object):
    """Copies a changed Json.Object back into the dict it was made from."""
    if isinstance(target, dict):
        updated = _python(json_object)
        target.clear()
        target.update(updated)


# Inputs, files and output


def _bytes(value, what):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, GLib.Bytes):
        return value.get_data() or b""
    raise TypeError("%s must be bytes or str, not %s" % (what, type(value).__name__))


def _file_list(files):
    """A list of AgentExec.File from {name: bytes|str|File} or [File]."""
    if files is None:
        return []
    if isinstance(files, dict):
        items = []
        for name, content in files.items():
            if isinstance(content, AgentExec.File):
                items.append(content)
            else:
                data = _bytes(content, "the content of file %r" % name)
                items.append(AgentExec.File.new(name, None, GLib.Bytes.new(data)))
        return items
    items = list(files)
    for item in items:
        if not isinstance(item, AgentExec.File):
            raise TypeError("files must be a dict of name: bytes or a list of "
                            "AgentExec.File, not a list holding %s" % type(item).__name__)
    return items


def _env_list(env):
    if env is None:
        return None
    if isinstance(env, dict):
        return ["%s=%s" % (k, v) for k, v in env.items()]
    return [str(item) for item in env]


def _timeout_ms(timeout):
    if timeout is None:
        return None
    if timeout <= 0:
        raise ValueError("timeout is in seconds and must be positive, not %r" % (timeout,))
    return max(1, int(round(timeout * 1000)))


def _make_input(code, language=None, execution_id=None, files=None, timeout=None,
                argv=None, env=None):
    """An ExecutionInput from run()'s arguments (or the one given as code)."""
    if isinstance(code, AgentExec.ExecutionInput):
        return code
    if not isinstance(code, str):
        raise TypeError("code must be a str (or an AgentExec.ExecutionInput), not %s"
                        % type(code).__name__)
    return ExecutionInput(code, language, execution_id=execution_id, files=files,
                          timeout=timeout, argv=argv, env=env)


class _OutputRelay:
    """The per-call output function: decodes each stream's chunks as UTF-8
    (a character split across chunks is kept for the next one) and calls
    on_output(stream, text) with stream "stdout" or "stderr". An exception
    raised by on_output is kept and raised when the run returns."""

    def __init__(self, on_output, deliver=None):
        if not callable(on_output):
            raise TypeError("on_output must be callable(stream, text)")
        self._on_output = on_output
        self._deliver = deliver
        self._decoders = {}
        self.error = None

    def _emit(self, stream, text):
        if self._deliver is not None:
            self._deliver(self._call, stream, text)
        else:
            self._call(stream, text)

    def _call(self, stream, text):
        if self.error is not None:
            return
        try:
            self._on_output(stream, text)
        except BaseException as e:  # noqa: BLE001 - re-raised by finish()
            self.error = e

    def __call__(self, execution_input, stream, chunk, *user_data):
        name = _STREAM_NAMES.get(stream, str(stream))
        decoder = self._decoders.get(name)
        if decoder is None:
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            self._decoders[name] = decoder
        text = decoder.decode(chunk.get_data() or b"")
        if text:
            self._emit(name, text)

    def flush(self):
        for name, decoder in self._decoders.items():
            text = decoder.decode(b"", final=True)
            if text:
                self._emit(name, text)

    def raise_error(self):
        if self.error is not None:
            error, self.error = self.error, None
            raise error


class _GLibThread:
    """One thread running a GLib main loop of its own, where run_async()
    starts its GIO calls; results and output reach asyncio through
    loop.call_soon_threadsafe, in order."""

    _lock = threading.Lock()
    _instance = None

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self):
        self.context = GLib.MainContext.new()
        self.loop = GLib.MainLoop.new(self.context, False)
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,),
                                       name="agentexec-glib", daemon=True)
        self.thread.start()
        started.wait()

    def _run(self, started):
        self.context.push_thread_default()
        started.set()
        self.loop.run()

    def invoke(self, func):
        """Runs func() in the GLib thread, after what was invoked before."""
        def call(*args):
            func()
            return GLib.SOURCE_REMOVE
        self.context.invoke_full(GLib.PRIORITY_DEFAULT, call)

    def call(self, func):
        """Runs func() in the GLib thread and returns its value (or raises)."""
        if threading.current_thread() is self.thread:
            return func()
        done = threading.Event()
        out = {}

        def run():
            try:
                out["value"] = func()
            except BaseException as e:  # noqa: BLE001 - raised in the caller
                out["error"] = e
            done.set()
        self.invoke(run)
        done.wait()
        if "error" in out:
            raise out["error"]
        return out["value"]


def _resolve(future, result, error):
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


# Executors


@override
class CodeExecutor(AgentExec.CodeExecutor):
    """Every executor: run(), run_async(), a context manager, plain-dict
    process_llm_request()."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def run(self, code, *, language=None, execution_id=None, files=None, timeout=None,
            argv=None, env=None, on_output=None, context=None, cancellable=None):
        """Runs code and returns its AgentExec.ExecutionResult.

        :param code: the source (str), or an AgentExec.ExecutionInput
        :param language: "python", "javascript", "bash", "r", "java" or an
            alias; detected from the code when omitted
        :param execution_id: the stateful session to run in
        :param files: {name: bytes or str} (or a list of AgentExec.File)
            placed in the working directory
        :param timeout: seconds (float) before the code is killed
        :param argv: command-line arguments for the program
        :param env: extra environment variables, {name: value}
        :param on_output: callable(stream, text) called with each piece of
            this run's output ("stdout" or "stderr", decoded UTF-8), in
            order, in this thread, before run() returns; never with the
            output of another run
        :param context: an AgentExec.ExecutorContext
        :param cancellable: a Gio.Cancellable that kills the code
        :raises GLib.Error: when the code could not be run at all (a
            failing program is a result, not an error)
        """
        execution_input = _make_input(code, language, execution_id, files, timeout, argv, env)
        if on_output is None:
            return self.execute_code(context, execution_input, cancellable)
        relay = _OutputRelay(on_output)
        try:
            result = self.execute_code_with_output(context, execution_input, relay, None,
                                                   cancellable)
        finally:
            relay.flush()
        relay.raise_error()
        return result

    async def run_async(self, code, *, language=None, execution_id=None, files=None,
                        timeout=None, argv=None, env=None, on_output=None, context=None):
        """Like run(), awaited: the run happens in the background and the
        event loop keeps running. on_output is called in the event loop's
        thread, every piece before the await returns. Cancelling the
        awaiting task kills the code."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        execution_input = _make_input(code, language, execution_id, files, timeout, argv, env)
        cancellable = Gio.Cancellable()

        def deliver(func, *args):
            loop.call_soon_threadsafe(func, *args)

        relay = _OutputRelay(on_output, deliver) if on_output is not None else None

        def done(source, res, *user_data):
            try:
                result, error = source.execute_code_with_output_finish(res), None
            except GLib.Error as e:
                result, error = None, e
            if relay is not None:
                relay.flush()
            loop.call_soon_threadsafe(_resolve, future, result, error)

        def start():
            # PyGObject 3.42 treats the trailing user_data as *args and then
            # expects the data of the other callback (output_func) to be a
            # tuple already: None there gives "expected tuple for callback
            # user_data" at each chunk, () gives the function no extra argument.
            self.execute_code_with_output_async(context, execution_input, relay, (),
                                                cancellable, done)

        _GLibThread.get().invoke(start)
        try:
            result = await future
        except asyncio.CancelledError:
            cancellable.cancel()
            raise
        if relay is not None:
            relay.raise_error()
        return result

    def process_llm_request(self, request):
        """Adjusts a model request (a dict, changed in place; or a
        Json.Object) before it is sent, and returns it. The BuiltIn
        executor adds Gemini's code-execution tool."""
        json_request = _json_object(request, "request")
        AgentExec.CodeExecutor.process_llm_request(self, json_request)
        _write_back(request, json_request)
        return request


__all__.append("CodeExecutor")


@override
class BaseExecutor(AgentExec.BaseExecutor):
    """The base of the built-in backends. Constructing one that needs
    initialisation (a Gio.Initable: Local, Container) runs init() and
    raises GLib.Error if it fails, so no executor exists that skipped its
    safety checks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if isinstance(self, Gio.Initable):
            self.init(None)

    def run(self, *args, **kwargs):
        """run(code, *, language=None, ...): see CodeExecutor.run().

        The C method of the same name (one attempt, no retries or language
        detection: ``run(context, input, language, cancellable)``) is still
        reachable with those four positional arguments, or as run_once()."""
        if len(args) == 4 and not kwargs and not isinstance(args[0], str) \
                and isinstance(args[1], AgentExec.ExecutionInput):
            return self.run_once(*args)
        return CodeExecutor.run(self, *args, **kwargs)

    def run_once(self, context, execution_input, language, cancellable=None):
        """Runs execution_input once as language, without the retry policy
        (agentexec_base_executor_run)."""
        return AgentExec.BaseExecutor.run(self, context, execution_input, language, cancellable)


__all__.append("BaseExecutor")


@override
class ExecutionInput(AgentExec.ExecutionInput):
    """What to run: ExecutionInput(code, language=None, execution_id=None,
    files={name: bytes}, timeout=seconds, argv=[...], env={name: value})."""

    def __init__(self, code=None, language=None, *, execution_id=None, files=None,
                 timeout=None, argv=None, env=None, **kwargs):
        if code is not None:
            kwargs["code"] = code
        if language is not None:
            kwargs["language"] = language
        if execution_id is not None:
            kwargs["execution_id"] = execution_id
        timeout_ms = _timeout_ms(timeout)
        if timeout_ms is not None:
            kwargs["timeout_ms"] = timeout_ms
        super().__init__(**kwargs)
        for item in _file_list(files):
            self.add_file(item)
        if argv is not None:
            self.set_argv([str(a) for a in argv])
        if env is not None:
            self.set_env(_env_list(env))

    @property
    def files(self):
        """The input files, a list of AgentExec.File."""
        return list(self.get_files() or [])


__all__.append("ExecutionInput")


@override
class File(AgentExec.File):
    """A file with its content as bytes (f.content)."""

    @property
    def name(self):
        return self.get_name()

    @property
    def mime_type(self):
        return self.get_mime_type()

    @property
    def content(self):
        """The content, as bytes."""
        data = self.get_content()
        return (data.get_data() or b"") if data is not None else b""

    def __bytes__(self):
        return self.content

    def __repr__(self):
        return "<AgentExec.File %r (%s, %d bytes)>" % (self.name, self.mime_type,
                                                      len(self.content))

    def to_json(self):
        """The file as a plain dict ({"name", "mime_type", "content"})."""
        return _python(AgentExec.File.to_json(self))

    @classmethod
    def new_from_json(cls, value):
        """A file from its JSON form, a dict (or a Json.Node)."""
        if isinstance(value, dict):
            value = Json.from_string(json.dumps(value))
        return AgentExec.File.new_from_json(value)


__all__.append("File")


def _result_property(name):
    def getter(self):
        return self.get_property(name)
    getter.__doc__ = "The %s property." % name
    return property(getter)


@override
class ExecutionResult(AgentExec.ExecutionResult):
    """The outcome of a run, its properties as attributes: stdout, stderr,
    exit_code, signal, outcome, files, duration_us, stdout_truncated,
    stderr_truncated, attempts, language, session_restarted."""

    stdout = _result_property("stdout")
    stderr = _result_property("stderr")
    exit_code = _result_property("exit-code")
    signal = _result_property("signal")
    outcome = _result_property("outcome")
    duration_us = _result_property("duration-us")
    stdout_truncated = _result_property("stdout-truncated")
    stderr_truncated = _result_property("stderr-truncated")
    attempts = _result_property("attempts")
    language = _result_property("language")
    session_restarted = _result_property("session-restarted")

    @property
    def files(self):
        """The files the code wrote, a list of AgentExec.File."""
        return list(self.get_output_files() or [])

    def to_json(self):
        """The result as a plain dict."""
        return _python(AgentExec.ExecutionResult.to_json(self))

    def __repr__(self):
        return "<AgentExec.ExecutionResult %s exit_code=%d>" % (
            self.outcome.value_nick, self.exit_code)


__all__.append("ExecutionResult")


# Context, flow, steps


@override
class ExecutorContext(AgentExec.ExecutorContext):
    """The code-execution state of an ADK session, in plain dicts."""

    @classmethod
    def new(cls, session_state=None):
        """A context over session_state (a dict, or a Json.Object)."""
        if session_state is None:
            return AgentExec.ExecutorContext.new(None)
        return AgentExec.ExecutorContext.new(_json_object(session_state, "session_state"))

    def get_session_state(self):
        """The session state, a dict."""
        return _python(AgentExec.ExecutorContext.get_session_state(self))

    def get_state_delta(self):
        """What changed since the context was made, a dict."""
        return _python(AgentExec.ExecutorContext.get_state_delta(self))

    def get_code_execution_results(self, invocation_id):
        """The code and results recorded for an invocation, a list of dicts."""
        return _python(AgentExec.ExecutorContext.get_code_execution_results(
            self, invocation_id)) or []

    def add_input_files(self, files):
        """Adds files ({name: bytes} or a list of AgentExec.File)."""
        AgentExec.ExecutorContext.add_input_files(self, _file_list(files))

    @property
    def session_state(self):
        return self.get_session_state()

    @property
    def state_delta(self):
        return self.get_state_delta()


__all__.append("ExecutorContext")


@override
class CodeExecutionStep(AgentExec.CodeExecutionStep):
    """One step of the flow; its contents and delta are dicts."""

    def get_model_content(self):
        return _python(AgentExec.CodeExecutionStep.get_model_content(self))

    def get_result_content(self):
        return _python(AgentExec.CodeExecutionStep.get_result_content(self))

    def get_state_delta(self):
        return _python(AgentExec.CodeExecutionStep.get_state_delta(self))

    executed = property(lambda self: self.get_executed(), doc="Whether code ran.")
    gated = property(lambda self: self.get_gated(),
                     doc="Whether the error-retry gate stopped the code.")
    code = property(lambda self: self.get_code(), doc="The code block found, or None.")
    language = property(lambda self: self.get_language())
    text = property(lambda self: self.get_text())
    result_text = property(lambda self: self.get_result_text())
    execution_result = property(lambda self: self.get_execution_result())
    model_content = property(get_model_content, doc="The model's content, a dict.")
    result_content = property(get_result_content, doc="The result's content, a dict.")
    state_delta = property(get_state_delta, doc="The state delta, a dict.")

    @property
    def saved_artifacts(self):
        return list(self.get_saved_artifacts() or [])


__all__.append("CodeExecutionStep")


def _wrap_callback(callback, target, json_value):
    def ready(source, res, *user_data):
        _write_back(target, json_value)
        if callback is not None:
            callback(source, res, *user_data)
    return ready


@override
class CodeExecutionFlow(AgentExec.CodeExecutionFlow):
    """ADK's code-execution request/response processing, on plain dicts."""

    def __init__(self, executor=None, **kwargs):
        if executor is not None:
            kwargs["executor"] = executor
        super().__init__(**kwargs)

    def preprocess_request(self, context, invocation_id, request, cancellable=None):
        """Prepares a request (a dict, changed in place) and returns the
        data files it processed."""
        json_request = _json_object(request, "request")
        files = AgentExec.CodeExecutionFlow.preprocess_request(
            self, context, invocation_id, json_request, cancellable)
        _write_back(request, json_request)
        return list(files or [])

    def preprocess_request_async(self, context, invocation_id, request, cancellable,
                                 callback, *user_data):
        """The async preprocess_request(); a dict request is updated before
        callback runs."""
        json_request = _json_object(request, "request")
        AgentExec.CodeExecutionFlow.preprocess_request_async(
            self, context, invocation_id, json_request, cancellable,
            _wrap_callback(callback, request, json_request), *user_data)

    def postprocess_response(self, context, invocation_id, content, partial=False,
                             cancellable=None):
        """Runs the code of a model content (a dict; not changed: the
        truncated reply is the step's model_content) and returns the
        AgentExec.CodeExecutionStep."""
        return AgentExec.CodeExecutionFlow.postprocess_response(
            self, context, invocation_id, _json_object(content, "content"), partial, cancellable)

    def postprocess_response_async(self, context, invocation_id, content, partial,
                                   cancellable, callback, *user_data):
        """The async postprocess_response(); content may be a dict."""
        AgentExec.CodeExecutionFlow.postprocess_response_async(
            self, context, invocation_id, _json_object(content, "content"), partial,
            cancellable, callback, *user_data)


    def stream_text(self, context, invocation_id, cancellable=None, on_step=None):
        """A CodeExecutionStream for a reply that is still being written;
        on_step(step) is connected to its ::step signal."""
        stream = AgentExec.CodeExecutionFlow.stream_text(self, context, invocation_id,
                                                         cancellable)
        if on_step is not None:
            stream.connect("step", lambda _s, step: on_step(step))
        return stream

    def stream_text_asyncio(self, context, invocation_id, on_step=None, cancellable=None):
        """An AsyncCodeExecutionStream (call it in a running asyncio loop)."""
        return AsyncCodeExecutionStream(self, context, invocation_id, on_step, cancellable)


__all__.append("CodeExecutionFlow")


# The streaming flow


@override
class CodeExecutionStream(AgentExec.CodeExecutionStream):
    """A model reply fed to the flow while it is written: each code block
    runs the moment its closing fence is fed (ADK's first block only, or
    every block with the flow's all_blocks). feed() takes str or bytes;
    end() waits for the runs and returns the steps, a list. As a context
    manager, leaving the block without an exception calls end().

    The stream belongs to the main context of the thread that made it (a
    GLib main loop drives its runs); from asyncio use
    CodeExecutionFlow.stream_text_asyncio()."""

    def feed(self, delta):
        """Feeds the next piece of the reply (str, or bytes of UTF-8)."""
        if getattr(self, "_ended", False):
            raise ValueError("the stream has ended: feed it before end()")
        if isinstance(delta, (bytes, bytearray, memoryview)):
            AgentExec.CodeExecutionStream.feed_full(self, bytes(delta))
        else:
            AgentExec.CodeExecutionStream.feed(self, delta)

    def end(self):
        """Ends the reply, runs the main context until every block ran,
        and returns the steps (a list); raises GLib.Error when a block
        could not be run."""
        if getattr(self, "_ended", False):
            raise ValueError("the stream has already ended")
        self._ended = True
        return list(AgentExec.CodeExecutionStream.end(self) or [])

    def end_async(self, callback, *user_data):
        """end() without blocking; callback(stream, result) calls end_finish()."""
        if getattr(self, "_ended", False):
            raise ValueError("the stream has already ended")
        self._ended = True
        AgentExec.CodeExecutionStream.end_async(self, callback, *user_data)

    def end_finish(self, result):
        return list(AgentExec.CodeExecutionStream.end_finish(self, result) or [])

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and not getattr(self, "_ended", False):
            self.end()
        return False

    steps = property(lambda self: list(self.get_steps() or []),
                     doc="The steps settled so far, a list.")
    text = property(lambda self: self.get_text(),
                    doc="The reply for the conversation, once ended.")
    pending = property(lambda self: self.get_pending(),
                       doc="How many blocks are waiting or running.")
    all_blocks = property(lambda self: self.get_all_blocks())
    invocation_id = property(lambda self: self.get_invocation_id())


__all__.append("CodeExecutionStream")


class AsyncCodeExecutionStream:
    """The asyncio face of a CodeExecutionStream: the stream lives in the
    overrides' GLib thread, feed() hands it each delta in order without
    blocking, on_step(step) runs in the event loop for each block as it
    completes, and ``await end()`` returns the steps. Also an async context
    manager (``async with``): leaving it without an exception awaits end()."""

    def __init__(self, flow, context, invocation_id, on_step=None, cancellable=None):
        self._loop = asyncio.get_running_loop()
        self._glib = _GLibThread.get()
        self._on_step = on_step
        self._ended = False
        self._stream = self._glib.call(
            lambda: self._create(flow, context, invocation_id, cancellable))
        self.text = None

    def _create(self, flow, context, invocation_id, cancellable):
        stream = AgentExec.CodeExecutionFlow.stream_text(flow, context, invocation_id,
                                                         cancellable)
        if self._on_step is not None:
            stream.connect("step", lambda _s, step: self._loop.call_soon_threadsafe(
                self._on_step, step))
        return stream

    def feed(self, delta):
        """Hands the next piece of the reply (str or bytes) to the stream."""
        if self._ended:
            raise ValueError("the stream has ended: feed it before end()")
        self._glib.invoke(lambda: self._stream.feed(delta))

    async def end(self):
        """Ends the reply; returns the steps once every block ran."""
        if self._ended:
            raise ValueError("the stream has already ended")
        self._ended = True
        future = self._loop.create_future()

        def done(stream, res, *user_data):
            try:
                steps, error = stream.end_finish(res), None
            except GLib.Error as e:
                steps, error = None, e
            text = stream.get_text()
            self._loop.call_soon_threadsafe(self._settle, future, steps, text, error)

        self._glib.invoke(lambda: self._stream.end_async(done))
        return await future

    def _settle(self, future, steps, text, error):
        self.text = text
        _resolve(future, steps, error)

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        if exc_type is None and not self._ended:
            await self.end()
        return False


__all__.append("AsyncCodeExecutionStream")


# genai helpers


def genai_build_executable_code_part(code):
    """A genai executable_code part for code, a dict."""
    return _python(AgentExec.genai_build_executable_code_part(code))


def genai_build_code_execution_result_part(result):
    """A genai code_execution_result part for an ExecutionResult, a dict."""
    return _python(AgentExec.genai_build_code_execution_result_part(result))


def genai_build_content(role, part):
    """A genai content of role holding part (a dict), a dict."""
    return _python(AgentExec.genai_build_content(role, _json_object(part, "part")))


def genai_convert_code_execution_parts(content, code_block_delimiter,
                                       execution_result_delimiters):
    """Rewrites the code-execution parts of content (a dict, changed in
    place) as text; returns whether it changed."""
    json_content = _json_object(content, "content")
    changed = AgentExec.genai_convert_code_execution_parts(
        json_content, code_block_delimiter, execution_result_delimiters)
    _write_back(content, json_content)
    return changed


def genai_extract_code_and_truncate_content(content, code_block_delimiters):
    """Returns the first code block of content (a dict, truncated in place
    after it), or None."""
    json_content = _json_object(content, "content")
    code = AgentExec.genai_extract_code_and_truncate_content(json_content,
                                                             code_block_delimiters)
    _write_back(content, json_content)
    return code


__all__ += [
    "genai_build_executable_code_part",
    "genai_build_code_execution_result_part",
    "genai_build_content",
    "genai_convert_code_execution_parts",
    "genai_extract_code_and_truncate_content",
]
