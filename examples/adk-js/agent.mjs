// An ADK-JS agent whose code executor runs the model's code in `agentexec serve`.
//
//   agentexec serve --backend container &      # or: --backend local (kernel sandbox)
//   npm ci && node agent.mjs                   # E2B_SANDBOX_URL overrides http://localhost:49999
//
// The model here is canned (no network): its first reply holds a ```python block,
// which ADK extracts, AgentExecServerExecutor runs through the E2B SDK against the
// server, and ADK feeds the result back; the second reply quotes what the code printed.
//
// Two ADK-JS 2.0 details: LlmAgent wires no code-execution *response* processor by
// default (only the request one), so the agent adds ADK's own; and ADK's result part
// carries the output in `text` only, which its history rewrite does not read (fixed up
// below, or the model would be told "undefined").
import { BaseCodeExecutor, BaseLlm, InMemoryRunner, LlmAgent } from '@google/adk';
import { Sandbox } from '@e2b/code-interpreter';

// ADK's own code-execution response processor. Its package does not export it; the
// file is reached next to the package's entry point (the same module instance).
const { responseProcessor: adkResponseProcessor } = await import(
  new URL('./agents/processors/code_execution_request_processor.js',
    import.meta.resolve('@google/adk')).href);

// ADK-JS 2.0 puts a result's output in the part's `text`, while its own history
// rewrite reads `codeExecutionResult.output` (and sends the model "undefined"):
// the output goes in both places.
const codeExecutionResponseProcessor = {
  async *runAsync(invocationContext, llmResponse) {
    for await (const event of adkResponseProcessor.runAsync(invocationContext, llmResponse)) {
      for (const part of event.content?.parts ?? [])
        if (part.codeExecutionResult && part.codeExecutionResult.output === undefined)
          part.codeExecutionResult.output = part.text;
      yield event;
    }
  },
};

// Runs ADK's code through the E2B code-interpreter API: one server context per
// ADK execution id, so variables persist across the turns of a session.
export class AgentExecServerExecutor extends BaseCodeExecutor {
  constructor({ sandboxUrl, token } = {}) {
    super();
    this.stateful = true;
    this.sandboxUrl = sandboxUrl;
    this.token = token;
    this.contexts = new Map();
    this.sandbox = null;
  }

  async connect() {
    if (this.sandbox) return this.sandbox;
    if (this.sandboxUrl) process.env.E2B_SANDBOX_URL = this.sandboxUrl;
    process.env.E2B_DEBUG = 'true';
    this.sandbox = await Sandbox.create();
    if (this.token) this.sandbox.trafficAccessToken = this.token;
    return this.sandbox;
  }

  async contextFor(executionId) {
    const sandbox = await this.connect();
    if (!executionId) return undefined;
    if (!this.contexts.has(executionId))
      this.contexts.set(executionId, await sandbox.createCodeContext({ language: 'python' }));
    return this.contexts.get(executionId);
  }

  async executeCode({ codeExecutionInput }) {
    const sandbox = await this.connect();
    const context = await this.contextFor(codeExecutionInput.executionId);
    const execution = await sandbox.runCode(codeExecutionInput.code, context ? { context } : {});
    let stderr = execution.logs.stderr.join('');
    if (execution.error && !stderr.includes(execution.error.value))
      stderr += `${execution.error.name}: ${execution.error.value}\n`;
    const outputFiles = execution.results
      .filter((r) => r.png)
      .map((r, i) => ({ name: `figure_${i + 1}.png`, content: r.png, mimeType: 'image/png' }));
    return { stdout: execution.logs.stdout.join(''), stderr, outputFiles };
  }

  async close() {
    if (!this.sandbox) return;
    for (const context of this.contexts.values())
      await this.sandbox.removeCodeContext(context).catch(() => {});
    this.contexts.clear();
  }
}

// A model that answers from a script: the first turn writes code, the next
// turn reads the code's result out of the request ADK built.
export class CannedLlm extends BaseLlm {
  constructor() {
    super({ model: 'canned-model' });
    this.requests = [];
  }

  async *generateContentAsync(llmRequest) {
    this.requests.push(structuredClone(llmRequest.contents));
    const last = llmRequest.contents[llmRequest.contents.length - 1];
    const lastText = (last?.parts ?? []).map((p) => p.text ?? '').join('');
    const turn = this.requests.length;
    let text;
    if (turn === 1)
      text = 'I will compute it.\n```python\nimport math\nanswer = math.factorial(12)\n' +
        'print("12! =", answer)\n```\n';
    else if (turn === 2)
      text = 'Now the digits.\n```python\nprint(sum(int(d) for d in str(answer)))\n```\n';
    else {
      const printed = /Code execution result:\n([^\n]*)/.exec(lastText);
      text = `The digit sum is ${printed ? printed[1].trim() : 'unknown'}.`;
    }
    yield { content: { role: 'model', parts: [{ text }] }, turnComplete: true };
  }

  async connect() {
    throw new Error('CannedLlm has no live mode');
  }
}

export async function runAgent({ sandboxUrl, token, question = 'What is 12! and its digit sum?' } = {}) {
  const executor = new AgentExecServerExecutor({ sandboxUrl, token });
  const model = new CannedLlm();
  const agent = new LlmAgent({
    name: 'calculator',
    model,
    instruction: 'Answer with Python code when computing.',
    codeExecutor: executor,
    responseProcessors: [codeExecutionResponseProcessor],
  });
  const runner = new InMemoryRunner({ agent, appName: 'agentexec-example' });
  const session = await runner.sessionService.createSession({
    appName: 'agentexec-example', userId: 'user',
  });
  const events = [];
  for await (const event of runner.runAsync({
    userId: 'user',
    sessionId: session.id,
    newMessage: { role: 'user', parts: [{ text: question }] },
  }))
    events.push(event);
  await executor.close();
  return { events, requests: model.requests };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { events } = await runAgent({ sandboxUrl: process.env.E2B_SANDBOX_URL });
  for (const event of events)
    for (const part of event.content?.parts ?? [])
      console.log(`[${event.author}${part.codeExecutionResult ? ' result' : ''}] ${part.text ?? ''}`);
}
