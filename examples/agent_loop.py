#!/usr/bin/python3
# agent_loop.py: the Python twin of agent-loop.c, through the GI bindings and
# their Python overrides (bindings/python/gi/overrides/AgentExec.py)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The "model" is a file of canned replies (examples/data/agent-loop.json), so
# the loop runs offline. Each reply goes through AgentExec.CodeExecutionFlow:
# the first code block runs on the host's Python (AgentExec.LocalExecutor, an
# explicit opt-in), the result goes back into the conversation, and the loop
# stops on a reply without code (the final answer) or when the retry gate
# holds after repeated code errors.
#
#   /usr/bin/python3 examples/agent_loop.py [REPLIES.json]
#
# Run it from a build tree with GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing at
# <build>/libagentexec and PYTHONPATH at bindings/python (meson devenv does
# that); an installed libagentexec needs none of them.

import json
import os
import sys

import gi

gi.require_version("AgentExec", "1.0")
from gi.repository import AgentExec, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def say(label, text):
    for i, line in enumerate(text.split("\n")):
        print(f"{label if i == 0 else '':<8}│ {line}")


def handle_reply(flow, context, invocation, reply, messages):
    """One reply of the scripted model; False when the task is over."""
    say("model", reply)
    step = flow.process_text(context, invocation, reply, None)
    if step.executed:
        result = step.execution_result
        say("run", f"{step.language}, exit {result.exit_code}, "
                   f"{result.duration_us / 1000:.1f} ms, attempt {result.attempts}")
        say("result", step.result_text)
        # The model sees its text up to the block, then the result.
        messages.append({"role": "assistant", "content": step.text})
        return True
    messages.append({"role": "assistant", "content": reply})
    if step.gated:
        say("gate", f"{context.get_error_count(invocation)} code errors in a row "
                    f"(error-retry-attempts {flow.get_error_retry_attempts()}): "
                    "the reply passes through unexecuted")
    else:
        say("done", "no code: this is the final answer")
    return False


def run_task(flow, context, task, messages):
    invocation = task["invocation"]
    print(f"\n══ {invocation} ══")
    say("user", task["question"])
    messages.append({"role": "user", "content": task["question"]})
    for reply in task["replies"]:
        if not handle_reply(flow, context, invocation, reply, messages):
            return
    say("end", "the scripted model ran out of replies")


def main(argv):
    path = argv[1] if len(argv) > 1 else os.path.join(HERE, "data", "agent-loop.json")
    with open(path) as f:
        tasks = json.load(f)["tasks"]

    # The Local backend runs the code in its kernel sandbox (the default);
    # allow_unsafe=True would only matter with sandbox=LocalSandbox.NONE.
    messages = []
    context = AgentExec.ExecutorContext.new()
    try:
        with AgentExec.LocalExecutor(allow_unsafe=True, timeout_ms=10000) as executor:
            flow = AgentExec.CodeExecutionFlow(executor)
            for task in tasks:
                run_task(flow, context, task, messages)
    except GLib.Error as e:
        print(f"agent_loop.py: {e.message}", file=sys.stderr)
        return 1
    print(f"\n{len(messages)} messages in the conversation. Session state:")
    for task in tasks:
        invocation = task["invocation"]
        runs = len(context.get_code_execution_results(invocation))
        print(f"  {invocation}: {runs} runs in _code_execution_results, "
              f"error count {context.get_error_count(invocation)}")
    print(f"  state delta: {json.dumps(context.state_delta, separators=(',', ':'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
