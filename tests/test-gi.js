// Core types through GJS: construction, errors, a JavaScript CodeExecutor.
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import AgentExec from 'gi://AgentExec?version=1.0';
import System from 'system';


const tests = [];
const test = (name, fn) => tests.push([name, fn]);
const assert = (cond, what) => {
    if (!cond)
        throw new Error(`assertion failed: ${what}`);
};

const EchoExecutor = GObject.registerClass({
    Implements: [AgentExec.CodeExecutor],
}, class EchoExecutor extends GObject.Object {
    vfunc_execute_code(context, input, cancellable) {
        const code = input.code;
        this.emit_output(input, AgentExec.Stream.STDOUT, new GLib.Bytes(new TextEncoder().encode(code)));
        return AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, code, '', 0, null);
    }
});

test('result fields', () => {
    const r = AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, 'out', 'err', 0, null);
    assert(r.stdout === 'out', 'stdout');
    assert(r.stderr === 'err', 'stderr');
    assert(r.is_error(), 'stderr makes an error');
    assert(r.outcome === AgentExec.Outcome.OK, 'outcome');
});

test('file base64', () => {
    const f = AgentExec.File.new('b.bin', null, new GLib.Bytes(new Uint8Array([0, 255, 0])));
    const back = AgentExec.File.new_from_json(f.to_json());
    assert(back.equal(f), 'round trip');
    assert(back.get_content().get_size() === 3, 'size');
});

test('language registry', () => {
    assert(AgentExec.language_resolve('JS') === 'javascript', 'alias');
    assert(AgentExec.language_detect('import os\nprint(os.name)\n') === 'python', 'detect');
});

test('error matching', () => {
    try {
        AgentExec.language_resolve('cobol');
        throw new Error('no error');
    } catch (e) {
        assert(e.matches(AgentExec.Error, AgentExec.Error.UNSUPPORTED_LANGUAGE), 'matches');
    }
});

test('formatter', () => {
    const fmt = AgentExec.ResultFormatter.new();
    const r = AgentExec.ExecutionResult.new(AgentExec.Outcome.OK, '42', '', 0, null);
    assert(fmt.format_inline_result(r) === '```tool_output\nCode execution result:\n42\n\n```', 'adk text');
});

test('javascript executor sync', () => {
    const ex = new EchoExecutor();
    const chunks = [];
    ex.connect('output', (_e, _i, _s, chunk) => chunks.push(new TextDecoder().decode(chunk.toArray())));
    const r = ex.execute_code(null, AgentExec.ExecutionInput.new('hello', null), null);
    assert(r.stdout === 'hello', 'stdout');
    assert(chunks.join('') === 'hello', 'streamed');
});

test('uninitialised executors refuse to run', () => {
    // new X({...}) is g_object_new(): it skips init(), where the safety
    // settings are checked, so every run must fail with NOT_INITIALIZED.
    const executors = [
        new AgentExec.LocalExecutor({allow_unsafe: true}),
        new AgentExec.LocalExecutor({allow_unsafe: false}),
        new AgentExec.ContainerExecutor({docker_host: 'unix:///nonexistent'}),
    ];
    for (const ex of executors) {
        for (const stateful of [false, true]) {
            ex.stateful = stateful;
            const input = AgentExec.ExecutionInput.new("print('ran')", 'python');
            if (stateful)
                input.execution_id = 's1';
            let refused = null;
            try {
                ex.execute_code(null, input, null);
            } catch (e) {
                refused = e;
            }
            assert(refused !== null, 'an uninitialised executor ran code');
            assert(refused.matches(AgentExec.error_quark(), AgentExec.Error.NOT_INITIALIZED),
                `wrong error: ${refused}`);
        }
        ex.close();
    }
});

async function runAll() {
    print(`1..${tests.length + 1}`);
    let failed = 0;
    let i = 0;
    for (const [name, fn] of tests) {
        i++;
        try {
            fn();
            print(`ok ${i} - ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${i} - ${name}\n# ${e}`);
        }
    }
    // The async path: the default execute_code_async runs the JS vfunc in a
    // worker thread, which GJS does not allow; a C executor is used instead.
    i++;
    try {
        const ctx = AgentExec.ExecutorContext.new(null);
        ctx.increment_error_count('inv');
        assert(ctx.get_error_count('inv') === 1, 'error count');
        print(`ok ${i} - context`);
    } catch (e) {
        failed++;
        print(`not ok ${i} - context\n# ${e}`);
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
