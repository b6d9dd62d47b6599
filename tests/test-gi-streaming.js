// Per-call output through GJS: execute_code_with_output(_async) with 8
// concurrent calls on one executor; each callback sees only its own call.
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import AgentExec from 'gi://AgentExec?version=1.0';
import System from 'system';

Gio._promisify(AgentExec.CodeExecutor.prototype, 'execute_code_with_output_async',
    'execute_code_with_output_finish');

const N_CALLS = 8;
const PYTHON = '/usr/bin/python3';
const tests = [];
const test = (name, fn) => tests.push([name, fn]);
const assert = (cond, what) => {
    if (!cond)
        throw new Error(`assertion failed: ${what}`);
};
const decoder = new TextDecoder();

function localExecutor(stateful = false) {
    const ex = AgentExec.LocalExecutor.new(true);
    ex.set_interpreter('python', PYTHON);
    ex.stateful = stateful;
    return ex;
}

function chattyCode(i) {
    return 'import sys, time\n' +
        'for k in range(4):\n' +
        `    print('call-${i} line', k, flush=True)\n` +
        `    print('call-${i} err', k, file=sys.stderr, flush=True)\n` +
        '    time.sleep(0.02)\n';
}

function expected(i, what) {
    let s = '';
    for (let k = 0; k < 4; k++)
        s += `call-${i} ${what} ${k}\n`;
    return s;
}

// What one call's output function received.
class Collector {
    constructor(input) {
        this.input = input;
        this.out = '';
        this.err = '';
        this.done = false;
        this.late = false;
        this.wrongInput = false;
    }

    get func() {
        return (input, stream, chunk) => {
            this.wrongInput ||= input !== this.input;
            this.late ||= this.done;
            const text = decoder.decode(chunk.toArray());
            if (stream === AgentExec.Stream.STDOUT)
                this.out += text;
            else
                this.err += text;
        };
    }

    check(i, result) {
        assert(!this.wrongInput, `call ${i} got another input's output`);
        assert(!this.late, `call ${i} got output after it returned`);
        assert(this.out === expected(i, 'line'), `call ${i} stdout: ${JSON.stringify(this.out)}`);
        assert(this.err === expected(i, 'err'), `call ${i} stderr: ${JSON.stringify(this.err)}`);
        assert(result.stdout === this.out, `call ${i} result stdout`);
    }
}

async function runConcurrently(ex, ids) {
    const inputs = [];
    const collectors = [];
    for (let i = 0; i < N_CALLS; i++) {
        const input = AgentExec.ExecutionInput.new(chattyCode(i), 'python');
        if (ids)
            input.execution_id = `session-${i}`;
        inputs.push(input);
        collectors.push(new Collector(input));
    }
    const results = await Promise.all(inputs.map(async (input, i) => {
        const r = await ex.execute_code_with_output_async(null, input, collectors[i].func, null);
        // Every chunk was delivered before the call completed.
        assert(collectors[i].out === expected(i, 'line'), `call ${i} complete at return`);
        collectors[i].done = true;
        return r;
    }));
    for (let i = 0; i < N_CALLS; i++)
        collectors[i].check(i, results[i]);
}

test('8 concurrent async calls, stateless', async () => {
    const ex = localExecutor(false);
    await runConcurrently(ex, false);
    ex.close();
});

test('8 concurrent async calls, stateful sessions', async () => {
    const ex = localExecutor(true);
    await runConcurrently(ex, true);
    ex.close();
});

test('the output signal still sees every call', async () => {
    const ex = localExecutor(false);
    const byInput = new Map();
    const id = ex.connect('output', (_e, input, stream, chunk) => {
        if (stream === AgentExec.Stream.STDOUT)
            byInput.set(input, (byInput.get(input) || '') + decoder.decode(chunk.toArray()));
    });
    await runConcurrently(ex, false);
    ex.disconnect(id);
    const seen = [...byInput.values()].sort();
    const want = [...Array(N_CALLS).keys()].map(i => expected(i, 'line')).sort();
    assert(JSON.stringify(seen) === JSON.stringify(want), `signal saw ${JSON.stringify(seen)}`);
});

test('a sync call while async calls run sees only its own output', async () => {
    const ex = localExecutor(false);
    const pending = [];
    const collectors = [];
    for (let i = 1; i < N_CALLS; i++) {
        const input = AgentExec.ExecutionInput.new(chattyCode(i), 'python');
        const c = new Collector(input);
        collectors.push([i, c]);
        pending.push(ex.execute_code_with_output_async(null, input, c.func, null).then(r => {
            c.done = true;
            return [i, c, r];
        }));
    }
    const input = AgentExec.ExecutionInput.new(chattyCode(0), 'python');
    const mine = new Collector(input);
    const r = ex.execute_code_with_output(null, input, mine.func, null);
    mine.done = true;
    mine.check(0, r);
    for (const [i, c, result] of await Promise.all(pending))
        c.check(i, result);
});

// An executor written in JavaScript (GJS 1.74 can implement only the sync
// vfunc): its emit_output() chunks reach the per-call function of a sync call.
const ChunkyExecutor = GObject.registerClass({
    Implements: [AgentExec.CodeExecutor],
}, class ChunkyExecutor extends GObject.Object {
    vfunc_execute_code(context, input, cancellable) {
        const i = Number(/call-(\d+)/.exec(input.code)[1]);
        const enc = new TextEncoder();
        const out = expected(i, 'line').split(/(?<=\n)/);
        const err = expected(i, 'err').split(/(?<=\n)/);
        for (let k = 0; k < out.length; k++) {
            this.emit_output(input, AgentExec.Stream.STDOUT, new GLib.Bytes(enc.encode(out[k])));
            this.emit_output(input, AgentExec.Stream.STDERR, new GLib.Bytes(enc.encode(err[k])));
        }
        return AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, out.join(''), err.join(''),
            0, null);
    }
});

test('a JavaScript executor: per-call output of sync calls', () => {
    const ex = new ChunkyExecutor();
    for (let i = 0; i < N_CALLS; i++) {
        const input = AgentExec.ExecutionInput.new(chattyCode(i), 'python');
        const c = new Collector(input);
        const r = ex.execute_code_with_output(null, input, c.func, null);
        c.done = true;
        c.check(i, r);
    }
});

test('an uninitialised executor refuses the per-call paths', async () => {
    const ex = new AgentExec.LocalExecutor({allow_unsafe: true});
    const input = AgentExec.ExecutionInput.new("print('ran')", 'python');
    const never = () => {
        throw new Error('output from an uninitialised executor');
    };
    for (const call of [
        () => ex.execute_code_with_output(null, input, never, null),
        () => ex.execute_code_with_output_async(null, input, never, null),
    ]) {
        let refused = null;
        try {
            await call();
        } catch (e) {
            refused = e;
        }
        assert(refused && refused.matches(AgentExec.error_quark(),
            AgentExec.Error.NOT_INITIALIZED), `not refused: ${refused}`);
    }
});

async function runAll() {
    print(`1..${tests.length}`);
    let failed = 0;
    let i = 0;
    for (const [name, fn] of tests) {
        i++;
        try {
            await fn();
            print(`ok ${i} - ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${i} - ${name}\n# ${e}\n# ${(e.stack || '').split('\n').join('\n# ')}`);
        }
    }
    return failed;
}

const loop = new GLib.MainLoop(null, false);
let status = 0;
runAll().then(failed => {
    status = failed ? 1 : 0;
    loop.quit();
}).catch(e => {
    print(`Bail out! ${e}`);
    status = 1;
    loop.quit();
});
loop.run();
System.exit(status);
