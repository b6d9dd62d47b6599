// agent-loop.js: the GJS twin of agent-loop.c, through the GI bindings
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The "model" is a file of canned replies (examples/data/agent-loop.json), so
// the loop runs offline. Each reply goes through AgentExec.CodeExecutionFlow:
// the first code block runs on the host's Python (AgentExec.LocalExecutor, an
// explicit opt-in), the result goes back into the conversation, and the loop
// stops on a reply without code (the final answer) or when the retry gate
// holds after repeated code errors.
//
//   gjs -m examples/agent-loop.js [REPLIES.json]
//
// Run it from a build tree with GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing at
// <build>/libagentexec (meson devenv does that).

import GLib from 'gi://GLib';
import Json from 'gi://Json?version=1.0';
import AgentExec from 'gi://AgentExec?version=1.0';
import System from 'system';

const here = GLib.path_get_dirname(GLib.filename_from_uri(import.meta.url)[0]);

function say(label, text) {
    text.split('\n').forEach((line, i) => print(`${(i === 0 ? label : '').padEnd(8)}│ ${line}`));
}

// One reply of the scripted model; false when the task is over.
function handleReply(flow, context, invocation, reply, messages) {
    say('model', reply);
    const step = flow.process_text(context, invocation, reply, null);
    if (step.get_executed()) {
        const result = step.get_execution_result();
        say('run', `${step.get_language()}, exit ${result.get_exit_code()}, ` +
            `${(result.get_duration_us() / 1000).toFixed(1)} ms, attempt ${result.get_attempts()}`);
        say('result', step.get_result_text());
        // The model sees its text up to the block, then the result.
        messages.push({role: 'assistant', content: step.get_text()});
        return true;
    }
    messages.push({role: 'assistant', content: reply});
    if (step.get_gated()) {
        say('gate', `${context.get_error_count(invocation)} code errors in a row ` +
            `(error-retry-attempts ${flow.get_error_retry_attempts()}): ` +
            'the reply passes through unexecuted');
    } else {
        say('done', 'no code: this is the final answer');
    }
    return false;
}

function runTask(flow, context, task, messages) {
    print(`\n══ ${task.invocation} ══`);
    say('user', task.question);
    messages.push({role: 'user', content: task.question});
    for (const reply of task.replies) {
        if (!handleReply(flow, context, task.invocation, reply, messages))
            return;
    }
    say('end', 'the scripted model ran out of replies');
}

function main(argv) {
    const path = argv[0] ?? GLib.build_filenamev([here, 'data', 'agent-loop.json']);
    const [, bytes] = GLib.file_get_contents(path);
    const tasks = JSON.parse(new TextDecoder().decode(bytes)).tasks;

    // Host execution is an explicit opt-in: these replies are ours.
    const executor = new AgentExec.LocalExecutor({allow_unsafe: true, timeout_ms: 10000});
    executor.init(null);
    const flow = AgentExec.CodeExecutionFlow.new(executor);
    const context = AgentExec.ExecutorContext.new(null);
    const messages = [];
    try {
        for (const task of tasks)
            runTask(flow, context, task, messages);
    } catch (e) {
        printerr(`agent-loop.js: ${e.message}`);
        return 1;
    } finally {
        executor.close();
    }
    print(`\n${messages.length} messages in the conversation. Session state:`);
    for (const task of tasks) {
        const runs = context.get_code_execution_results(task.invocation).get_length();
        print(`  ${task.invocation}: ${runs} runs in _code_execution_results, ` +
              `error count ${context.get_error_count(task.invocation)}`);
    }
    const delta = Json.Node.alloc().init_object(context.get_state_delta());
    print(`  state delta: ${Json.to_string(delta, false)}`);
    return 0;
}

System.exit(main(ARGV));
