// The real @e2b/code-interpreter SDK (debug mode) against `agentexec serve`.
//
//   node test-e2b.mjs local|container      (TAP on stdout; run by meson)
//
// In debug mode the SDK makes no cloud call; E2B_SANDBOX_URL points it at the
// server under test instead of http://localhost:49999.
import { Sandbox, NotFoundError, TimeoutError } from '@e2b/code-interpreter';
import { startServer, tap, assert, assertEqual } from './serve.mjs';

const backend = process.argv[2] || 'local';
const server = await startServer(backend, ['--no-access-log']);
process.env.E2B_DEBUG = 'true';
process.env.E2B_SANDBOX_URL = server.url;
const sbx = await Sandbox.create();
const t = tap();

t.test('print goes to logs.stdout', async () => {
  const execution = await sbx.runCode('print("hello from agentexec")');
  // (print() writes the text and the newline apart; the server sends both as one chunk)
  assertEqual(execution.logs.stdout, ['hello from agentexec\n'], 'stdout');
  assertEqual(execution.logs.stderr, [], 'stderr');
  assertEqual(execution.error, undefined, 'error');
  assert(execution.executionCount >= 1, 'executionCount is set');
});

t.test('variables persist in the default context; text is the last expression', async () => {
  await sbx.runCode('x = 41');
  const execution = await sbx.runCode('x += 1\nx');
  assertEqual(execution.text, '42', 'text');
  const main = execution.results.filter((r) => r.isMainResult);
  assertEqual(main.length, 1, 'one main result');
  const quiet = await sbx.runCode('x;');
  assertEqual(quiet.results.length, 0, 'a trailing ; shows no value');
  const none = await sbx.runCode('None');
  assertEqual(none.results.length, 0, 'None shows no value');
  const repr = await sbx.runCode('"é" * 2');
  assertEqual(repr.text, "'éé'", 'repr of a str, non-ASCII intact');
});

t.test('separate contexts do not share variables', async () => {
  const a = await sbx.createCodeContext({ language: 'python' });
  const b = await sbx.createCodeContext({ language: 'python' });
  assert(a.id !== b.id, 'distinct ids');
  assertEqual(a.language, 'python', 'language');
  await sbx.runCode('secret = "a"', { context: a });
  const inB = await sbx.runCode('secret', { context: b });
  assertEqual(inB.error?.name, 'NameError', 'b does not see a');
  const inA = await sbx.runCode('secret', { context: a });
  assertEqual(inA.text, "'a'", 'a keeps its own');
  await sbx.removeCodeContext(a);
  await sbx.removeCodeContext(b.id);
});

t.test('an exception becomes execution.error with name, value, traceback', async () => {
  const errors = [];
  const execution = await sbx.runCode('def f():\n    return 1 / 0\nf()', {
    onError: (e) => errors.push(e),
  });
  assertEqual(execution.error.name, 'ZeroDivisionError', 'name');
  assertEqual(execution.error.value, 'division by zero', 'value');
  assert(execution.error.traceback.includes('line 2, in f'), 'traceback names the frame');
  assertEqual(errors.length, 1, 'onError called once');
  const after = await sbx.runCode('x');
  assertEqual(after.text, '42', 'the context survives an exception');
});

t.test('output streams to the callbacks before runCode resolves', async () => {
  const seen = [];
  let resolved = false;
  const pending = sbx.runCode(
    'import sys, time\nprint("first", flush=True)\nsys.stderr.write("warn\\n")\n' +
    'time.sleep(1.5)\nprint("second")', {
      onStdout: (m) => seen.push(['out', m.line, resolved]),
      onStderr: (m) => seen.push(['err', m.line, resolved]),
    });
  pending.then(() => { resolved = true; });
  // The first stdout chunk arrives while the code still sleeps. (stdout and
  // stderr are separate pipes: their relative order is not kept.)
  const firstOut = () => seen.find(([s]) => s === 'out');
  const deadline = Date.now() + 20000;
  while (!firstOut() && !resolved && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert(firstOut() !== undefined, 'a stdout chunk arrived');
  assertEqual(firstOut(), ['out', 'first\n', false], 'first stdout chunk, while pending');
  const execution = await pending;
  assertEqual(execution.logs.stdout.join(''), 'first\nsecond\n', 'all stdout');
  assertEqual(execution.logs.stderr.join(''), 'warn\n', 'stderr');
  assert(seen.every(([, , r]) => r === false), 'no callback after resolution');
});

t.test('a matplotlib figure comes back as a PNG result', async () => {
  const execution = await sbx.runCode(
    'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()');
  assertEqual(execution.error, undefined, 'no error (matplotlib is installed)');
  const pngs = execution.results.filter((r) => r.png);
  assertEqual(pngs.length, 1, 'one figure');
  const bytes = Buffer.from(pngs[0].png, 'base64');
  assertEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    'PNG signature');
  assert(pngs[0].formats().includes('png'), 'formats() lists png');
  assertEqual(pngs[0].isMainResult, false, 'a displayed figure is not the main result');
});

t.test('env vars apply to one execution only', async () => {
  const execution = await sbx.runCode('import os\nos.environ.get("AE_GREETING")', {
    envs: { AE_GREETING: 'hi "there" é' },
  });
  assertEqual(execution.text, `'hi "there" é'`, 'value seen by the code');
  const after = await sbx.runCode('import os\nos.environ.get("AE_GREETING")');
  assertEqual(after.results.length, 0, 'unset again afterwards (None)');
  const js = await sbx.runCode('console.log(process.env.AE_JS)', {
    language: 'javascript', envs: { AE_JS: 'from-js' },
  });
  assertEqual(js.logs.stdout.join(''), 'from-js\n', 'javascript env');
  const sh = await sbx.runCode('echo "$AE_SH"', { language: 'bash', envs: { AE_SH: "it's" } });
  assertEqual(sh.logs.stdout.join(''), "it's\n", 'bash env');
  const sh2 = await sbx.runCode('echo "[${AE_SH-unset}]"', { language: 'bash' });
  assertEqual(sh2.logs.stdout.join(''), '[unset]\n', 'bash env restored');
});

t.test('a client timeout cancels the run and leaves the server usable', async () => {
  const ctx = await sbx.createCodeContext({ language: 'python' });
  const started = Date.now();
  let error;
  try {
    await sbx.runCode('import time\ntime.sleep(60)', { context: ctx, timeoutMs: 1500 });
  } catch (e) {
    error = e;
  }
  assert(error instanceof TimeoutError, `TimeoutError (got ${error})`);
  // The server noticed the disconnect and killed the sleep: the next run in
  // the same context starts at once.
  const next = await sbx.runCode('1 + 1', { context: ctx, timeoutMs: 30000 });
  assertEqual(next.text, '2', 'next run');
  assert(Date.now() - started < 30000, 'not stuck behind the sleep');
  const other = await sbx.runCode('x');
  assertEqual(other.text, '42', 'other contexts unaffected');
  await sbx.removeCodeContext(ctx);
});

t.test('restart gives a fresh interpreter with the same id; remove ends it', async () => {
  const ctx = await sbx.createCodeContext({ language: 'python' });
  await sbx.runCode('kept = 1', { context: ctx });
  await sbx.restartCodeContext(ctx);
  const after = await sbx.runCode('kept', { context: ctx });
  assertEqual(after.error?.name, 'NameError', 'state is gone after restart');
  const listed = await sbx.listCodeContexts();
  assert(listed.some((c) => c.id === ctx.id), 'still listed after restart');
  await sbx.removeCodeContext(ctx);
  const relisted = await sbx.listCodeContexts();
  assert(!relisted.some((c) => c.id === ctx.id), 'not listed after removal');
  let error;
  try {
    await sbx.runCode('1', { context: ctx });
  } catch (e) {
    error = e;
  }
  assert(error instanceof NotFoundError, `NotFoundError after removal (got ${error})`);
  let restartError;
  try {
    await sbx.restartCodeContext(ctx.id);
  } catch (e) {
    restartError = e;
  }
  assert(restartError instanceof NotFoundError, 'restart of a removed context: NotFoundError');
});

t.test('javascript and bash contexts keep state too', async () => {
  const js = await sbx.createCodeContext({ language: 'javascript' });
  await sbx.runCode('globalThis.n = 20', { context: js });
  const jsOut = await sbx.runCode('console.log(n + 1)', { context: js });
  assertEqual(jsOut.logs.stdout, ['21\n'], 'javascript state');
  const sh = await sbx.createCodeContext({ language: 'bash', cwd: '/tmp' });
  assertEqual(sh.cwd, '/tmp', 'cwd reported');
  await sbx.runCode('V=ok', { context: sh });
  const shOut = await sbx.runCode('echo "$V $PWD"', { context: sh });
  assertEqual(shOut.logs.stdout, ['ok /tmp\n'], 'bash state and cwd');
  const fail = await sbx.runCode('exit 3', { context: sh });
  assert(fail.error !== undefined, 'a failing bash command is an error');
  await sbx.removeCodeContext(js);
  await sbx.removeCodeContext(sh);
});

t.test('20 contexts run concurrently, each with its own state', async () => {
  const contexts = await Promise.all(
    Array.from({ length: 20 }, () => sbx.createCodeContext({ language: 'python' })));
  await Promise.all(contexts.map((c, i) => sbx.runCode(`mine = ${i}`, { context: c })));
  const values = await Promise.all(
    contexts.map((c) => sbx.runCode('import time\ntime.sleep(0.2)\nmine * 10', { context: c })));
  assertEqual(values.map((v) => v.text), contexts.map((_, i) => String(i * 10)), 'values');
  await Promise.all(contexts.map((c) => sbx.removeCodeContext(c)));
});

t.test('5 MB of output arrives whole', async () => {
  let chunks = 0;
  const execution = await sbx.runCode(
    'import sys\nfor i in range(5000):\n    sys.stdout.write(("%04d" % (i % 10000)) * 250)\n',
    { onStdout: () => { chunks++; }, timeoutMs: 120000 });
  const out = execution.logs.stdout.join('');
  assertEqual(out.length, 5000 * 1000, 'length');
  assertEqual(out.slice(0, 8), '00000000', 'start');
  assertEqual(out.slice(-4), '4999', 'end');
  assert(chunks > 1, 'streamed in several chunks');
});

const failed = await t.run();
const status = await server.stop();
if (status !== 0) {
  console.log(`# agentexec serve exited with ${status} after SIGTERM:\n# ${server.log()}`);
  process.exit(1);
}
process.exit(failed > 0 ? 1 : 0);
