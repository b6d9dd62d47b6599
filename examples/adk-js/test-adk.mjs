// End to end: ADK-JS extracts the canned model's code, `agentexec serve` runs it
// (local backend), the result goes back to the model as the next turn. TAP output.
//
//   node test-adk.mjs      (run by meson: AGENTEXEC_BUILD_DIR set)
import { startServer, tap, assert, assertEqual } from '../../tests/e2b/serve.mjs';
import { runAgent } from './agent.mjs';

const server = await startServer(process.argv[2] || 'local', ['--no-access-log']);
const t = tap();
let run;

t.test('the agent runs to its final answer', async () => {
  run = await runAgent({ sandboxUrl: server.url });
  const last = run.events[run.events.length - 1];
  assertEqual(last.content.parts[0].text, 'The digit sum is 27.', 'final answer');
});

t.test('ADK executed both code blocks through the server, in one stateful context', async () => {
  const results = run.events.flatMap((e) => e.content?.parts ?? [])
    .filter((p) => p.codeExecutionResult);
  assertEqual(results.length, 2, 'two code execution results');
  assertEqual(results.map((p) => p.codeExecutionResult.outcome),
    ['OUTCOME_OK', 'OUTCOME_OK'], 'outcomes');
  assert(results[0].text.startsWith('Code execution result:\n12! = 479001600\n'),
    `first result: ${JSON.stringify(results[0].text)}`);
  // `answer` from the first block is still defined in the second.
  assert(results[1].text.startsWith('Code execution result:\n27\n'),
    `second result: ${JSON.stringify(results[1].text)}`);
});

t.test('each result was fed back to the model as the next turn', async () => {
  assertEqual(run.requests.length, 3, 'three model calls');
  const secondTurn = JSON.stringify(run.requests[1]);
  assert(secondTurn.includes('12! = 479001600'), 'the 2nd request holds the 1st result');
  const thirdTurn = JSON.stringify(run.requests[2]);
  assert(thirdTurn.includes('Code execution result:\\n27'), 'the 3rd request holds the 2nd');
});

t.test('the agent removed its context', async () => {
  const res = await fetch(`${server.url}/contexts`);
  const contexts = await res.json();
  assertEqual(contexts, [], 'no context left');
});

const failed = await t.run();
const status = await server.stop();
process.exit(failed > 0 || status !== 0 ? 1 : 0);
