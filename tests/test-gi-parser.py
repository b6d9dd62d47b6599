#!/usr/bin/python3
# Binding test: the code-block parser and stream from Python (PyGObject).
# Prints TAP; exits non-zero on failure. The delimiter mode is compared with
# ADK's own regular expression (extract_code_and_truncate_content) on
# generated replies.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import random
import re
import sys
import traceback

import gi
gi.require_version('AgentExec', '1.0')
from gi.repository import AgentExec  # noqa: E402

tests = []


def test(fn):
    tests.append(fn)
    return fn


def fields(block):
    return (block.props.language, block.props.info, block.props.code,
            block.props.start, block.props.end, block.props.closed)


REPLY = ('Sure:\n\n1. Install:\n   ```bash\n   pip install x\n   ```\n'
         '2. Run:\n\n> ```python\n> print("hi")\n> ```\n\n```js\nconsole.log(1)\n')


@test
def commonmark_blocks():
    parser = AgentExec.CodeBlockParser.new()
    assert parser.get_commonmark()
    blocks = parser.extract_code_blocks(REPLY)
    assert [b.props.language for b in blocks] == ['bash', 'python', 'js'], blocks
    assert blocks[0].props.code == 'pip install x\n'
    assert blocks[1].props.code == 'print("hi")\n'
    assert blocks[1].props.closed and not blocks[2].props.closed
    assert blocks[2].props.end == len(REPLY.encode())
    # Offsets are bytes: the line of the opening fence.
    assert REPLY.encode()[blocks[0].props.start:].startswith(b'   ```bash')


@test
def commonmark_first_block():
    parser = AgentExec.CodeBlockParser()
    first = parser.extract_first_code_block(REPLY)
    assert first.props.code == 'pip install x\n'
    assert parser.extract_first_code_block('no code') is None


@test
def adk_delimiters_default():
    parser = AgentExec.CodeBlockParser.new_with_delimiters(None)
    assert not parser.get_commonmark()
    text = 'Let me run it.\n```tool_code\nprint(1 + 1)\n```\nand more'
    block = parser.extract_first_code_block(text)
    assert block.props.code == 'print(1 + 1)'
    assert block.props.language == 'python' and block.props.info == 'tool_code'
    assert text[:block.props.start] == 'Let me run it.\n'
    assert parser.get_delimiters() == ['```tool_code\n', '\n```', '```python\n', '\n```']


def adk_extract(text, delimiters):
    """ADK's CodeExecutionUtils.extract_code_and_truncate_content, on text."""
    leading = '|'.join(d[0] for d in delimiters)
    trailing = '|'.join(d[1] for d in delimiters)
    pattern = re.compile(
        (rf'(?P<prefix>.*?)({leading})(?P<code>.*?)({trailing})(?P<suffix>.*?)$').encode(),
        re.DOTALL)
    m = pattern.search(text.encode())
    if m is None or not m.group('code'):
        return None
    return m.group('code').decode(), len(m.group('prefix')), m.end(4)


@test
def adk_delimiters_match_adk_regex():
    rng = random.Random(1234)
    pieces = ['```tool_code\n', '```python\n', '\n```', '```', '\n', 'x', 'print(1)',
              ' ', '`', 'python', 'tool_code', '```py\n']
    delimiters = [('```tool_code\n', '\n```'), ('```python\n', '\n```')]
    parser = AgentExec.CodeBlockParser.new_with_delimiters(None)
    for _ in range(3000):
        text = ''.join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        expected = adk_extract(text, delimiters)
        block = parser.extract_first_code_block(text)
        got = None if block is None else (block.props.code, block.props.start, block.props.end)
        assert got == expected, (text, got, expected)


@test
def custom_delimiters():
    parser = AgentExec.CodeBlockParser.new_with_delimiters(['<run>', '</run>', '[[', ']]'])
    blocks = parser.extract_code_blocks('a <run>x = 1</run> b [[y]] <run></run>')
    assert [b.props.code for b in blocks] == ['x = 1', 'y']
    assert blocks[0].props.language == '' and blocks[0].props.info == ''


@test
def filter_by_language():
    parser = AgentExec.CodeBlockParser.new()
    blocks = parser.extract_code_blocks('```Python3\na\n```\n```node\nb\n```\n```text\nc\n```\n')
    kept = AgentExec.CodeBlockParser.filter_by_language(blocks, ['py', 'TEXT'])
    assert [b.props.code for b in kept] == ['a\n', 'c\n']


@test
def stream_signal_and_splits():
    parser = AgentExec.CodeBlockParser.new()
    whole = [fields(b) for b in parser.extract_code_blocks(REPLY)]
    for size in (1, 2, 3, 7, 64):
        stream = AgentExec.CodeBlockStream.new(parser)
        seen = []
        stream.connect('block', lambda s, block: seen.append(fields(block)))
        for i in range(0, len(REPLY), size):
            stream.feed(REPLY[i:i + size])
        assert len(seen) == 2, seen            # the open tail waits for finish
        stream.finish()
        assert seen == whole, (size, seen)
        assert [fields(b) for b in stream.get_blocks()] == whole


@test
def stream_emits_before_end():
    stream = AgentExec.CodeBlockStream.new(None)
    seen = []
    stream.connect('block', lambda s, block: seen.append(block.props.code))
    stream.feed('```python\nprint(1)\n```')
    assert seen == []
    stream.feed('\nmore')
    assert seen == ['print(1)\n']
    stream.finish()
    assert stream.is_finished()


@test
def stream_delimiters():
    parser = AgentExec.CodeBlockParser.new_with_delimiters(None)
    text = 'a```tool_code\nb\n```c```python\nd\n```'
    stream = AgentExec.CodeBlockStream(parser=parser)
    codes = []
    stream.connect('block', lambda s, block: codes.append(block.props.code))
    for ch in text:
        stream.feed(ch)
    stream.finish()
    assert codes == ['b', 'd'], codes


@test
def bytes_with_nul():
    parser = AgentExec.CodeBlockParser.new()
    blocks = parser.extract_code_blocks_full(b'```\nx\x00y\n```\n')
    assert blocks[0].props.code == 'x\ufffdy\n'


def main():
    print('1..%d' % len(tests))
    failed = 0
    for i, fn in enumerate(tests, 1):
        try:
            fn()
            print('ok %d - %s' % (i, fn.__name__))
        except Exception:
            failed += 1
            print('not ok %d - %s' % (i, fn.__name__))
            for line in traceback.format_exc().splitlines():
                print('# ' + line)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
