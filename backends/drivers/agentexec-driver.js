// agentexec Node driver (DESIGN.md, "Interpreter driver protocol").
//
// Passed to the interpreter on its command line: node -e SOURCE serve IN_FD OUT_FD [TOKEN]
// Runs each request's code in one persistent global scope (vm.runInThisContext:
// var, let, const, functions and require()d modules persist). Requests and
// replies are frames "<length>\n<json>". Request {"code": str}; reply
// {"exit_code": int}. A promise returned by the code is awaited first.
// With OUT_FD 1 (one channel) the reply is preceded by TOKEN on stdout, and
// TOKEN + "\n" is written to stderr, so that the reader knows where the
// code's output ends.
'use strict';
const fs = require('fs');
const net = require('net');
const vm = require('vm');

const [mode, inArg, outArg, tokenArg] = process.argv.slice(1);
if (mode !== 'serve' || inArg === undefined || outArg === undefined) {
  process.stderr.write('usage: node -e DRIVER serve IN_FD OUT_FD [TOKEN]\n');
  process.exit(2);
}
const inFd = Number(inArg);
const outFd = Number(outArg);
const token = outFd === 1 && tokenArg ? Buffer.from(tokenArg) : Buffer.alloc(0);
let pending = Buffer.alloc(0);
let busy = false;
let status = 0;

globalThis.require = require;
globalThis.module = module;
process.argv.splice(1);

function reply(obj) {
  const body = Buffer.from(JSON.stringify(obj));
  if (token.length > 0)
    fs.writeSync(2, Buffer.concat([token, Buffer.from('\n')]));
  const frame = Buffer.concat([token, Buffer.from(`${body.length}\n`), body]);
  for (let off = 0; off < frame.length;)
    off += fs.writeSync(outFd, frame, off);
}

function report(e) {
  let text = e && e.stack ? String(e.stack) : String(e);
  // Drop the driver's own frames: the trace ends in the user's code.
  const cut = text.indexOf('\n    at Script.runInThisContext');
  if (cut >= 0)
    text = text.substring(0, cut);
  process.stderr.write(`${text}\n`);
}

function finish(code) {
  reply({exit_code: code});
  busy = false;
  pump();
}

function handle(request) {
  let value;
  busy = true;
  status = 0;
  try {
    value = vm.runInThisContext(request.code || '', {filename: 'code.js'});
  } catch (e) {
    report(e);
    finish(1);
    return;
  }
  if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
    value.then(() => finish(status), e => { report(e); finish(1); });
    return;
  }
  // Let callbacks queued by the code (process.nextTick, resolved promises) run first.
  setImmediate(() => finish(status));
}

function pump() {
  while (!busy) {
    const nl = pending.indexOf(10);
    if (nl < 0)
      return;
    const len = Number(pending.subarray(0, nl).toString());
    if (pending.length < nl + 1 + len)
      return;
    const body = pending.subarray(nl + 1, nl + 1 + len).toString();
    pending = pending.subarray(nl + 1 + len);
    handle(JSON.parse(body));
  }
}

process.on('uncaughtException', e => { report(e); status = 1; });
process.on('unhandledRejection', e => { report(e); status = 1; });

const input = new net.Socket({fd: inFd, readable: true, writable: false});
input.on('data', chunk => { pending = Buffer.concat([pending, chunk]); pump(); });
input.on('end', () => process.exit(0));
reply({ready: true, language: 'javascript', pid: process.pid, version: process.version});
