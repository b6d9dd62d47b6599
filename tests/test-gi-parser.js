// Binding test: the code-block parser and stream from GJS.
// Run with `gjs -m`; prints TAP, exits non-zero on failure.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
import AgentExec from 'gi://AgentExec?version=1.0';
import System from 'system';

const tests = [];
const test = (name, fn) => tests.push([name, fn]);

function assert(cond, message) {
    if (!cond)
        throw new Error(`assertion failed: ${message}`);
}

function fields(b) {
    return JSON.stringify([b.language, b.info, b.code, b.start, b.end, b.closed]);
}

const REPLY = 'Sure:\n\n1. Install:\n   ```bash\n   pip install x\n   ```\n' +
    '2. Run:\n\n> ```python\n> print("hi")\n> ```\n\n```js\nconsole.log(1)\n';

test('commonmark blocks', () => {
    const parser = AgentExec.CodeBlockParser.new();
    const blocks = parser.extract_code_blocks(REPLY);
    assert(blocks.length === 3, `3 blocks, got ${blocks.length}`);
    assert(blocks.map(b => b.language).join() === 'bash,python,js', 'languages');
    assert(blocks[0].code === 'pip install x\n', 'list indentation removed');
    assert(blocks[1].closed && !blocks[2].closed, 'closed flags');
    assert(blocks[2].end === REPLY.length, 'end of an open block is the input length');
});

test('first block and no block', () => {
    const parser = new AgentExec.CodeBlockParser();
    assert(parser.extract_first_code_block(REPLY).code === 'pip install x\n', 'first');
    assert(parser.extract_first_code_block('plain text') === null, 'none');
});

test('ADK delimiters', () => {
    const parser = AgentExec.CodeBlockParser.new_with_delimiters(null);
    const text = 'Let me run it.\n```tool_code\nprint(1 + 1)\n```\nrest';
    const block = parser.extract_first_code_block(text);
    assert(block.code === 'print(1 + 1)', 'code between the delimiters');
    assert(block.language === 'python' && block.info === 'tool_code', 'tool_code is python');
    assert(text.slice(0, block.start) === 'Let me run it.\n', 'prefix');
    assert(parser.extract_first_code_block('```python\n```') === null, 'empty code');
});

test('filter by language', () => {
    const parser = AgentExec.CodeBlockParser.new();
    const blocks = parser.extract_code_blocks('```PY\na\n```\n```nodejs\nb\n```\n```\nc\n```\n');
    const kept = AgentExec.CodeBlockParser.filter_by_language(blocks, ['python3', 'JS']);
    assert(kept.map(b => b.code).join('') === 'a\nb\n', 'aliases resolved');
});

test('stream: same blocks for every chunk size', () => {
    const parser = AgentExec.CodeBlockParser.new();
    const whole = parser.extract_code_blocks(REPLY).map(fields).join('');
    for (const size of [1, 2, 5, 13, 100]) {
        const stream = AgentExec.CodeBlockStream.new(parser);
        const seen = [];
        stream.connect('block', (_s, block) => seen.push(fields(block)));
        for (let i = 0; i < REPLY.length; i += size)
            stream.feed(REPLY.slice(i, i + size));
        assert(seen.length === 2, 'closed blocks arrive before finish');
        stream.finish();
        assert(seen.join('') === whole, `chunk size ${size}`);
        assert(stream.get_blocks().length === 3, 'get_blocks');
    }
});

test('stream in delimiter mode', () => {
    const parser = AgentExec.CodeBlockParser.new_with_delimiters(['<run>', '</run>']);
    const stream = new AgentExec.CodeBlockStream({parser});
    const codes = [];
    stream.connect('block', (_s, block) => codes.push(block.code));
    for (const ch of 'x <run>a</run> y <run>b</ru')
        stream.feed(ch);
    assert(codes.join() === 'a', 'first block before the end');
    stream.feed('n>');
    stream.finish();
    assert(codes.join() === 'a,b', 'both blocks');
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
