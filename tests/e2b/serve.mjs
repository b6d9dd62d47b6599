// Starts `agentexec serve` on a free port for a test, and stops it (SIGTERM).
//
// AGENTEXEC_BUILD_DIR locates the program; the backend comes from the
// caller (local runs in its kernel sandbox; container uses AGENTEXEC_E2B_IMAGE,
// default agentexec-runtime:latest, which has matplotlib: see
// scripts/build-runtime-image.sh).
import { spawn } from 'node:child_process';
import path from 'node:path';

export function agentexecPath() {
  const build = process.env.AGENTEXEC_BUILD_DIR;
  if (!build)
    throw new Error('AGENTEXEC_BUILD_DIR is not set: run this through meson test');
  return path.join(build, 'tools', 'agentexec');
}

export function backendArgs(backend) {
  if (backend === 'local')
    return ['--backend', 'local'];
  return ['--backend', 'container', '--image',
    process.env.AGENTEXEC_E2B_IMAGE || 'agentexec-runtime:latest'];
}

// Resolves to {url, port, proc, log(), stop()} once the server listens.
export function startServer(backend, extra = []) {
  const args = ['serve', '--listen', '127.0.0.1:0', '--health-port', '0',
    ...backendArgs(backend), ...extra];
  const proc = spawn(agentexecPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // No server outlives its test, even one that crashes.
  process.on('exit', () => { if (proc.exitCode === null) proc.kill('SIGKILL'); });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agentexec serve did not start:\n${log}`)),
      60000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /listening on http:\/\/([^:]+):(\d+)/.exec(log);
      if (m && timer) {
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({
          url: `http://127.0.0.1:${port}`,
          port,
          proc,
          log: () => log,
          stop: () => new Promise((done) => {
            if (proc.exitCode !== null) return done(proc.exitCode);
            proc.once('exit', (code, signal) => done(code ?? signal));
            proc.kill('SIGTERM');
          }),
        });
      }
    });
    proc.once('exit', (code) => reject(new Error(`agentexec serve exited (${code}):\n${log}`)));
  });
}

// A minimal TAP producer: test(name, fn) in order, then done().
export function tap() {
  const tests = [];
  return {
    test(name, fn) { tests.push([name, fn]); },
    async run() {
      console.log(`1..${tests.length}`);
      let failed = 0;
      for (let i = 0; i < tests.length; i++) {
        const [name, fn] = tests[i];
        try {
          await fn();
          console.log(`ok ${i + 1} - ${name}`);
        } catch (e) {
          failed++;
          console.log(`not ok ${i + 1} - ${name}`);
          for (const line of String(e && e.stack ? e.stack : e).split('\n'))
            console.log(`# ${line}`);
        }
      }
      return failed;
    },
  };
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}
