// `agentexec serve` through the real E2B SDK: the stateful runCode("x += 1")
// round trip (median, p90) and throughput with 1, 8 and 32 contexts.
//
//   node bench/serve.mjs BACKEND ROUND_TRIPS     (bench/serve.sh runs it)
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const top = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const e2b = path.join(top, 'tests', 'e2b');
const { Sandbox } = await import(
  path.join(e2b, 'node_modules', '@e2b', 'code-interpreter', 'dist', 'index.mjs'));
const { startServer } = await import(path.join(e2b, 'serve.mjs'));

const backend = process.argv[2] || 'local';
const roundTrips = Number(process.argv[3] || 1000);
const server = await startServer(backend, ['--no-access-log']);
process.env.E2B_DEBUG = 'true';
process.env.E2B_SANDBOX_URL = server.url;
const sbx = await Sandbox.create();

const ms = () => Number(process.hrtime.bigint()) / 1e6;
const pct = (s, p) => s[Math.min(s.length - 1, Math.floor(s.length * p))];

const ctx = await sbx.createCodeContext({ language: 'python' });
await sbx.runCode('x = 0', { context: ctx });
for (let i = 0; i < 20; i++) await sbx.runCode('x += 1', { context: ctx });
const samples = [];
for (let i = 0; i < roundTrips; i++) {
  const t = ms();
  await sbx.runCode('x += 1', { context: ctx });
  samples.push(ms() - t);
}
samples.sort((a, b) => a - b);
const check = await sbx.runCode('x', { context: ctx });
if (check.text !== String(roundTrips + 20)) throw new Error(`x is ${check.text}`);
console.log(`sdk_median_ms ${pct(samples, 0.5).toFixed(3)} p90 ${pct(samples, 0.9).toFixed(3)}`);

for (const n of [1, 8, 32]) {
  const contexts = await Promise.all(
    Array.from({ length: n }, () => sbx.createCodeContext({ language: 'python' })));
  await Promise.all(contexts.map((c) => sbx.runCode('x = 0', { context: c })));
  const perContext = Math.max(4, Math.floor(256 / n));
  const start = ms();
  await Promise.all(contexts.map(async (c) => {
    for (let i = 0; i < perContext; i++) await sbx.runCode('x += 1', { context: c });
  }));
  const seconds = (ms() - start) / 1000;
  console.log(`throughput ${n} ${(n * perContext / seconds).toFixed(1)} ${n * perContext}`);
  await Promise.all(contexts.map((c) => sbx.removeCodeContext(c)));
}
await server.stop();
