// The streaming flow (CodeExecutionStream) through GJS, with the real local
// backend (a JavaScript executor cannot run in the executor's worker thread):
// a reply fed a byte at a time gives the same steps as the whole reply.
import GLib from 'gi://GLib';
import AgentExec from 'gi://AgentExec?version=1.0';
import System from 'system';

const tests = [];
const test = (name, fn) => tests.push([name, fn]);
const assert = (cond, what) => {
    if (!cond)
        throw new Error(`assertion failed: ${what}`);
};

const REPLIES = [
    'Let me compute.\n```python\nprint(6 * 7)\n```\nThe answer follows.',
    'No code here.',
    'First:\n```tool_code\nprint("one")\nimport sys; print("warn", file=sys.stderr)\n```\n' +
        'Second:\n```python\nprint("two")\n```\nbye',
    '```python\nprint("\u2713 utf-8")\n```',
];

const newFlow = allBlocks => {
    const executor = AgentExec.LocalExecutor.new(true);
    executor.set_interpreter('python', '/usr/bin/python3');
    const flow = AgentExec.CodeExecutionFlow.new(executor);
    flow.all_blocks = allBlocks;
    return flow;
};

const summary = step => {
    const r = step.get_execution_result();
    return JSON.stringify([step.get_executed(), step.get_gated(), step.get_code(),
        step.get_language(), step.get_text(), step.get_result_text(),
        r ? [r.stdout, r.stderr, r.exit_code] : null]);
};

// Feeds the reply in pieces of `chunk` bytes (0: whole), ends it and waits.
const streamReply = (reply, chunk, allBlocks) => {
    const flow = newFlow(allBlocks);
    const context = AgentExec.ExecutorContext.new(null);
    const stream = flow.stream_text(context, 'inv', null);
    const signalled = [];
    stream.connect('step', (_s, step) => signalled.push(summary(step)));
    const bytes = new TextEncoder().encode(reply);
    const size = chunk || bytes.length;
    for (let at = 0; at < bytes.length; at += size)
        stream.feed_full(bytes.slice(at, at + size));
    const steps = stream.end().map(summary);
    assert(JSON.stringify(signalled) === JSON.stringify(steps), 'signal delivered every step');
    return JSON.stringify([steps, stream.get_text(), context.get_error_count('inv')]);
};

test('byte at a time equals the whole reply and process_text', () => {
    for (const reply of REPLIES) {
        const whole = streamReply(reply, 0, false);
        assert(streamReply(reply, 1, false) === whole, `1-byte feed of ${reply}`);
        const context = AgentExec.ExecutorContext.new(null);
        const step = newFlow(false).process_text(context, 'inv', reply, null);
        assert(whole === JSON.stringify([[summary(step)], step.get_text(),
            context.get_error_count('inv')]), `process_text of ${reply}`);
    }
});

test('all blocks run in order', () => {
    const whole = streamReply(REPLIES[2], 0, true);
    assert(streamReply(REPLIES[2], 1, true) === whole, '1-byte feed');
    const [steps, text] = JSON.parse(whole);
    assert(steps.length === 2, 'two steps');
    assert(text.includes('Code execution result:\none\n') && text.includes('Error:\nwarn'),
        text);
    assert(text.endsWith('two\n\n\n```\nbye'), text);
});

test('the block runs while the reply goes on (main loop, end_async)', () => {
    const stream = newFlow(false).stream_text(AgentExec.ExecutorContext.new(null), 'inv', null);
    const loop = new GLib.MainLoop(null, false);
    const seen = [];
    stream.connect('step', (_s, step) => {
        seen.push(step.get_result_text());
        loop.quit();
    });
    stream.feed('Here:\n```python\nprint("early")\n``');
    assert(stream.get_pending() === 0, 'not complete yet');
    stream.feed('`');
    assert(stream.get_pending() === 1, 'started');
    const timeout = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 60, () => {
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    loop.run();
    assert(seen.length === 1 && seen[0].includes('early'), `result ${seen}`);
    stream.feed('\nmore text, never run: ```python\nprint("late")\n```');
    let steps = null;
    stream.end_async((source, res) => {
        steps = source.end_finish(res);
        loop.quit();
    });
    loop.run();
    GLib.source_remove(timeout);
    assert(steps.length === 1, 'one step');
    assert(!stream.get_text().includes('late'), 'text after the block dropped');
});

print(`1..${tests.length}`);
let failed = 0;
tests.forEach(([name, fn], i) => {
    try {
        fn();
        print(`ok ${i + 1} - ${name}`);
    } catch (e) {
        failed++;
        print(`not ok ${i + 1} - ${name}`);
        for (const line of `${e}\n${e.stack}`.split('\n'))
            print(`# ${line}`);
    }
});
System.exit(failed ? 1 : 0);
