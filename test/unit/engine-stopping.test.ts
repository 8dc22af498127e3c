import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cancellation,
  finishText,
  allowsMultiline,
  indentScope,
  lineScope,
  maxLines,
  makeStopCriteria,
  maxTokens,
  midLineSingleLine,
  repetitionLoop,
  stopTokens,
  suffixDuplicate,
  timeCapAfterNewline,
  trailingBlankLines,
  type StopCriterion,
} from '../../server/engine/stopping';

/**
 * Feeds `text` one character per "token" (token id = char code, `stopId` for '\u0000'), like the
 * decode loop, and returns the final completion: trimmed by the first decision, else by finish().
 */
function run(criteria: StopCriterion[], text: string, nowMs: (i: number) => number = () => 0): { text: string; reason: string } {
  const tokens: number[] = [];
  let acc = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    tokens.push(ch === '\u0000' ? -1 : ch.charCodeAt(0));
    const visible = ch === '\u0000' ? '' : ch;
    acc += visible;
    for (const c of criteria) {
      const d = c.check({ tokens, text: acc, nNewChars: visible.length, nowMs: nowMs(i) });
      if (d !== undefined) return { text: finishText(criteria, acc.slice(0, d.keepChars)), reason: d.reason };
    }
  }
  return { text: finishText(criteria, acc), reason: 'end' };
}

describe('stop tokens, max tokens, max lines, cancellation', () => {
  it('stop token ends without adding text', () => {
    assert.deepEqual(run([stopTokens(new Set([-1]))], 'abc\u0000def'), { text: 'abc', reason: 'stop-token' });
  });
  it('max tokens', () => {
    assert.deepEqual(run([maxTokens(3)], 'abcdef'), { text: 'abc', reason: 'max-tokens' });
  });
  const lineCases: [number, string, string, string][] = [
    [1, 'foo()\nbar()', 'foo()', 'max-lines'],
    [2, 'a\nb\nc\n', 'a\nb', 'max-lines'],
    [3, 'a\nb', 'a\nb', 'end'],
  ];
  for (const [n, input, expected, reason] of lineCases) {
    it(`max lines ${n}: ${JSON.stringify(input)}`, () => assert.deepEqual(run([maxLines(n)], input), { text: expected, reason }));
  }
  it('cancellation is checked at every token', () => {
    const controller = new AbortController();
    const c = cancellation(controller.signal);
    assert.equal(c.check({ tokens: [1], text: 'a', nNewChars: 1, nowMs: 0 }), undefined);
    controller.abort();
    assert.deepEqual(c.check({ tokens: [1, 2], text: 'ab', nNewChars: 1, nowMs: 0 }), { reason: 'cancelled', keepChars: 2 });
  });
});

describe('time cap after the first newline', () => {
  // One "token" per char, 10 ms apart.
  const cases: [string, number, string, string][] = [
    ['abc', 5, 'abc', 'end'],
    ['ab\ncdefgh', 25, 'ab', 'time-cap'],
    ['ab\ncd\nefghijkl', 35, 'ab\ncd', 'time-cap'],
    ['ab\ncd', 1000, 'ab\ncd', 'end'],
  ];
  for (const [input, capMs, expected, reason] of cases) {
    it(`${JSON.stringify(input)} cap ${capMs} ms`, () => {
      assert.deepEqual(run([timeCapAfterNewline(capMs)], input, (i) => i * 10), { text: expected, reason });
    });
  }
});

describe('indentation scope', () => {
  // [name, prefix, completion, expected, reason]
  const cases: [string, string, string, string, string][] = [
    ['blank indented line: dedent ends', 'function f() {\n  if (x) {\n    ', 'a();\n    b();\n  }\n  c();', 'a();\n    b();', 'indent-scope'],
    ['blank line at column 0 never dedents', 'x = 1\n', 'y = 2\nz = 3', 'y = 2\nz = 3', 'end'],
    ['block opener keeps the closing line', 'function f() {', '\n  return 1;\n}\nfunction g() {}', '\n  return 1;\n}', 'indent-scope'],
    ['python opener: next statement at base is dropped', 'def f(x):', '\n    return x\ndef g():\n    pass', '\n    return x', 'indent-scope'],
    ['mid-line call with args', '  foo(', 'a,\n    b,\n  );\n  bar();', 'a,\n    b,\n  );', 'indent-scope'],
    ['same indentation continues in a plain block', '  a();\n  ', 'b();\n  c();', 'b();\n  c();', 'end'],
    ['blank lines are ignored', '    ', 'a();\n\n    b();', 'a();\n\n    b();', 'end'],
    ['tabs count as tab stops', '\t\t', 'a();\n    b();\n\t\tc();', 'a();', 'indent-scope'],
    ['a comment ending with a colon opens nothing', '    // steps:', '\n    a();\n    b();', '\n    a();\n    b();', 'end'],
    ['closing line at base finishes at end of text', 'if (x) {', '\n  y();\n}', '\n  y();\n}', 'end'],
    // The cursor at column 0 of the empty line after an opener (no auto-indent): that block's body.
    ['column 0 after an opener: the closing line is kept, the next function dropped', 'function f() {\n', '  return 1;\n}\nfunction g() {}', '  return 1;\n}', 'indent-scope'],
    ['column 0 after a python opener: the next statement at its base ends it', '    def f(self):\n', '        pass\n    elif x:\n        y()', '        pass', 'indent-scope'],
    ['column 0 after a line that opens nothing: no scope, as before', '  x = 1\n', '  y = 2\nz = 3', '  y = 2\nz = 3', 'end'],
    ['column 0 after an opener that is a comment: no scope', '# steps:\n', 'a()\nb()', 'a()\nb()', 'end'],
  ];
  for (const [name, prefix, completion, expected, reason] of cases) {
    it(name, () => assert.deepEqual(run([indentScope({ prefix, suffix: '' })], completion), { text: expected, reason }));
  }
});

describe('no duplication of the suffix', () => {
  // [name, prefix, suffix, completion, expected, reason]
  const cases: [string, string, string, string, string, string][] = [
    ['mid-line: model repeats `)` then ends', 'foo(', ')\n', 'a, b)', 'a, b', 'end'],
    ['mid-line: model repeats `)` then newline', 'foo(', ')\nbar();\n', 'a, b)\nbaz', 'a, b', 'suffix-duplicate'],
    ['mid-line: own brackets kept', 'foo(', ')\n', 'g(x)', 'g(x)', 'end'],
    ['mid-line: own call then the repeated `)`', 'foo(', ')\n', 'g(x))', 'g(x)', 'end'],
    ['mid-line: `);` repeated', 'const x = foo(', ');\n', '1, 2);', '1, 2', 'end'],
    ['mid-line: no repetition', 'foo(', ')\n', 'a, b', 'a, b', 'end'],
    ['next line repeated after a new line', 'function f() {\n  ', '\n  return x;\n}\n', 'const x = 1;\n  return x;\n}', 'const x = 1;', 'suffix-duplicate'],
    ['first line equals the next suffix line (with cursor line text)', '  ', '\n  return x;\n', 'return x;\n', '', 'suffix-duplicate'],
    ['a begun line completed into a copy of the next one stays (a list of equal lines)', '  V4UUID._random', '\n  V4UUID._randomHex(),\n', 'Hex(),', 'Hex(),', 'end'],
    ['cursor before `}`: completion ends with it', 'if (a) {\n  b();\n', '}\n', '  c();\n}', '  c();\n', 'end'],
    ['cursor before `}`: its own block is kept', 'if (a) {\n', '}\n', '  if (b) {\n    c();\n  }', '  if (b) {\n    c();\n  }', 'end'],
    ['cursor before `}`: repeated `}` line then more', 'if (a) {\n', '}\n', '  c();\n}\nd();', '  c();\n', 'suffix-duplicate'],
    ['mid-line `;`', 'const x = ', ';\n', 'foo();', 'foo()', 'end'],
    ['multi-line args then the repeated `)`', 'foo(', ')\n', '\n  a,\n  b)\nbar', '\n  a,\n  b', 'suffix-duplicate'],
    ['different indentation is not a repeat', 'if (a) {\n  ', '\n}\n', 'if (b) {\n    c();\n  }', 'if (b) {\n    c();\n  }', 'end'],
    ['blank suffix lines are skipped', 'a();\n', '\n\n  z();\n', 'y();\n  z();\n', 'y();', 'suffix-duplicate'],
  ];
  for (const [name, prefix, suffix, completion, expected, reason] of cases) {
    it(name, () => assert.deepEqual(run([suffixDuplicate({ prefix, suffix })], completion), { text: expected, reason }));
  }
  it('a line begun with a word that healing moved into the completion is begun', () => {
    const o = { prefix: '  ', suffix: '\n  return x;\n' };
    assert.deepEqual(run([suffixDuplicate(o)], 'return x;\n'), { text: '', reason: 'suffix-duplicate' });
    assert.deepEqual(run([suffixDuplicate({ ...o, healed: 'ret' })], 'return x;'), { text: 'return x;', reason: 'end' });
  });
});

describe('mid-line: one line only', () => {
  // [suffix, completion, expected]
  const cases: [string, string, string][] = [
    [' + y;\n', 'x\nfoo', 'x'],
    [')\n', 'a,\n  b', 'a,\n  b'],
    ['"];\n', 'abc\ndef', 'abc\ndef'],
    ['\nnext();', 'a\nb', 'a\nb'],
    ['', 'a\nb', 'a\nb'],
  ];
  for (const [suffix, completion, expected] of cases) {
    it(`suffix ${JSON.stringify(suffix)}`, () => assert.equal(run([midLineSingleLine({ prefix: 'x = ', suffix })], completion).text, expected));
  }
});

describe('multiline policy', () => {
  // [text before the cursor, multi-line allowed under auto]
  const auto: [string, boolean][] = [
    ['', true],
    ['x = 1\n', true],
    ['x = 1\n    ', true],
    ['function f(a) {', true],
    ['function f(a) { ', true],
    ['  if x:', true],
    ['const xs = [', true],
    ['call(', true],
    ['const f = (a) =>', true],
    ['const total = a +', false],
    ['  retu', false],
    ['foo();', false],
    ['x = obj.', false],
    ['// see {', false],
    ['# items:', false],
  ];
  for (const [prefix, expected] of auto) {
    it(`auto after ${JSON.stringify(prefix)}: ${expected ? 'several lines' : 'one line'}`, () => assert.equal(allowsMultiline(prefix, 'auto'), expected));
  }
  it('always and never ignore the line', () => {
    assert.equal(allowsMultiline('  retu', 'always'), true);
    assert.equal(allowsMultiline('', 'never'), false);
  });
  it('healed text counts as the cursor line\'s (a line whose only word was healed is not blank)', () => {
    // The prefix as healing left it: `    WorkspaceFoldersN` with ` WorkspaceFoldersN` moved into the completion.
    const o = { prefix: 'x = 1\n   ', suffix: '\n', multiline: 'auto' as const };
    const text = ' WorkspaceFoldersNotification = {};\n   next();';
    assert.deepEqual(run([lineScope({ ...o, healed: ' WorkspaceFoldersN' })], text), { text: ' WorkspaceFoldersNotification = {};', reason: 'single-line' });
    assert.deepEqual(run(makeStopCriteria({ ...o, healed: ' WorkspaceFoldersN', maxLines: 8, timeCapAfterNewlineMs: 1e9 }), text), { text: ' WorkspaceFoldersNotification = {};', reason: 'single-line' });
    assert.deepEqual(run([lineScope(o)], text), { text, reason: 'end' }, 'without it the line reads as blank');
  });
  it('one line: stops at the first newline and drops it', () => {
    assert.deepEqual(run([lineScope({ prefix: '  retu', suffix: '', multiline: 'auto' })], 'rn x;\n  }\n'), { text: 'rn x;', reason: 'single-line' });
  });
  it('several lines: no decision of its own', () => {
    assert.deepEqual(run([lineScope({ prefix: 'if (a) {', suffix: '', multiline: 'auto' })], '\n  b();\n}'), { text: '\n  b();\n}', reason: 'end' });
  });
  it('makeStopCriteria defaults to several lines and honours auto', () => {
    const base = { prefix: 'const total = a +', suffix: '', maxLines: 8, timeCapAfterNewlineMs: 1e9 };
    assert.equal(run(makeStopCriteria(base), ' b;\nfoo();').text, ' b;\nfoo();');
    assert.deepEqual(run(makeStopCriteria({ ...base, multiline: 'auto' }), ' b;\nfoo();'), { text: ' b;', reason: 'single-line' });
  });
});

describe('trailing blank lines', () => {
  const cases: [string, string][] = [
    ['foo();\n    ', 'foo();'],
    ['foo();\n\n', 'foo();'],
    ['a, ', 'a, '],
    ['\n', ''],
  ];
  for (const [completion, expected] of cases) {
    it(JSON.stringify(completion), () => assert.equal(run([trailingBlankLines()], completion).text, expected));
  }
});

describe('loops', () => {
  // [name, prefix, completion, expected, reason]
  const cases: [string, string, string, string, string][] = [
    ['a short unit four times: the first copy stays', 'f(', 'a, k, k, k, k, k, k', 'a, k', 'repetition'],
    ['three copies of a short unit are not a loop', 'f(', 'a, k, k, k', 'a, k, k, k', 'end'],
    ['a parameter list that repeats itself', 'type D = (desc', 'riptor: T, token: T, token: T, token: T, token: T,', 'riptor: T', 'repetition'],
    ['the same line three times: the first is kept', '  ', 'x = f();\n  y = this._c;\n  y = this._c;\n  y = this._c;\n', 'x = f();\n  y = this._c;', 'repetition'],
    ['the same line twice is not a loop', '  ', 'y = g();\n  y = g();\n  z();', 'y = g();\n  y = g();\n  z();', 'end'],
    ['two alternating lines three times', '', 'a(1);\nb(2);\na(1);\nb(2);\na(1);\nb(2);\n', 'a(1);\nb(2);', 'repetition'],
    ['a group of lines twice: the first copy is kept', '    ', "elif op == 'a':\n        def f(): pass\n    elif op == 'a':\n        def f(): pass\n    elif op", "elif op == 'a':\n        def f(): pass", 'repetition'],
    ['one line twice stays (the unit spans one line)', '', 'self.a = None\nself.a = None\nb()', 'self.a = None\nself.a = None\nb()', 'end'],
    ['a short group of lines twice stays', '', 'a();\nb();\na();\nb();\n', 'a();\nb();\na();\nb();\n', 'end'],
    ['short lines need four copies', '', 'a();\nb();\na();\nb();\na();\nb();\n', 'a();\nb();\na();\nb();\na();\nb();\n', 'end'],
    ['digits without letters need 8 copies', 'n = ', '2000000000000000000000', '20', 'repetition'],
    ['a long number is not a loop', 'n = ', '1000000;', '1000000;', 'end'],
    ['a hex constant is not a loop', 'mask = ', '0x00000000;', '0x00000000;', 'end'],
    ['separators never loop', '# ', '------------------------------------------', '------------------------------------------', 'end'],
    ['blank runs never loop', '', 'a\n\n\n\n\n\n\n\n\n        \n', 'a\n\n\n\n\n\n\n\n\n        \n', 'end'],
    ['doc comment stars never loop', '/**', '\n *\n *\n *\n *\n *\n *\n *\n *\n *\n *', '\n *\n *\n *\n *\n *\n *\n *\n *\n *\n *', 'end'],
    ['the document repeats it before the cursor: not a loop', 'zeros = [0, 0, 0, 0, 0, 0, 0, 0, ', '0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];', '0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];', 'end'],
    ['in another phase too', 'row = [k, k, ', ', k, k, k, k, k]', ', k, k, k, k, k]', 'end'],
    ['once in the document is not enough', 'f(k, ', 'k, k, k, k, k, k', 'k', 'repetition'],
    ['no repetition', 'const x = ', 'compute(a, b, c) + other(d);', 'compute(a, b, c) + other(d);', 'end'],
  ];
  for (const [name, prefix, completion, expected, reason] of cases) {
    it(name, () => assert.deepEqual(run([repetitionLoop({ prefix })], completion), { text: expected, reason }));
  }
  it('makeStopCriteria stops loops unless stopLoops is false', () => {
    const base = { prefix: 'f(', suffix: '', maxLines: 3, timeCapAfterNewlineMs: 1e9 };
    assert.equal(run(makeStopCriteria(base), 'k, k, k, k, k, k').text, 'k');
    assert.equal(run(makeStopCriteria({ ...base, stopLoops: false }), 'k, k, k, k, k, k').text, 'k, k, k, k, k, k');
  });
});

describe('makeStopCriteria', () => {
  // [name, prefix, suffix, completion, expected]
  const cases: [string, string, string, string, string][] = [
    ['block body, then the closing brace the suffix has', 'function f(a) {\n  ', '\n}\n', 'return a + 1;\n}\n\nfunction g() {', 'return a + 1;'],
    ['mid-line argument list', 'console.log(', ');\n', '"hi", name);\nfoo', '"hi", name'],
    ['at most maxLines lines', '', '', 'a\nb\nc\nd\ne', 'a\nb\nc'],
  ];
  for (const [name, prefix, suffix, completion, expected] of cases) {
    it(name, () => {
      const criteria = makeStopCriteria({ prefix, suffix, maxLines: 3, timeCapAfterNewlineMs: 1e9, stopIds: [-1] });
      assert.equal(run(criteria, completion).text, expected);
    });
  }
});
