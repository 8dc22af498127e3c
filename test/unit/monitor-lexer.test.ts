import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialLexState, languageSyntax, lexBytes } from '../../server/monitor/lexer';

/** `|` marks where a trigger must fire (just after the operator); the text is the rest. */
const cases: [language: string, marked: string][] = [
  ['typescript', 'obj.|'],
  ['typescript', 'a.|b.|c'],
  ['typescript', 'f().|'],
  ['typescript', 'a[0].|x'],
  ['typescript', 'x?.|y'],
  ['typescript', 'a ? b : c'],
  ['typescript', 'x = 1.5'],
  ['typescript', 'x = 1.'],
  ['typescript', '1.5.toFixed()'],
  ['typescript', 'f(...rest)'],
  ['typescript', 'x = "a.b"; y.|'],
  ['typescript', "x = 'obj.'"],
  ['typescript', 'x = "\\".";'],
  ['typescript', '// obj.x\nz.|'],
  ['typescript', '/* obj. */ a.|'],
  ['typescript', '/*/ a. */ b.|'],
  ['typescript', '`${obj.|x}` + `obj.x`'],
  ['typescript', '`a ${ f({k: 1}).|k } b.c`.|length'],
  ['typescript', '"s".|length'],
  ['typescript', 'a .b'],
  ['typescript', 'a\n  .|b()\n  .|c'],
  ['typescript', 'foo1.|'],
  ['typescript', '$el.|'],
  ['typescript', 'this.|x = super.|y'],
  ['python', 'self.|x'],
  ['python', '# a.b\nc.|'],
  ['python', 'from . import x'],
  ['python', 'from .mod import x'],
  ['python', '"""doc a.b"""\nx.|'],
  ["python", "'''a.b\n'c.d'''\ne.|"],
  ['python', 'x = ""\ny.|'],
  ['python', 'x = 1.'],
  ['python', "f'{a.b}'"],
  ["python", "''.|join(x)"],
  ['python', 'x?.y'],
  ['cpp', 'p->|next; std::|vector; a.|b'],
  ['cpp', 'x-->0; a - >b'],
  ['c', 'p->|x; a::b'],
  ['rust', "fn f<'a>(x: &'a T) { Vec::|new(); x.|" ],
  ['php', '$this->|x . $y; Foo::|bar'],
];

void describe('monitor lexer: dereference triggers', () => {
  for (const [language, marked] of cases) {
    void it(`${language}: ${JSON.stringify(marked)}`, () => {
      const text = marked.replaceAll('|', '');
      const expected: number[] = [];
      let n = 0;
      for (const part of marked.split('|').slice(0, -1)) expected.push((n += part.length));
      const got = lexBytes(initialLexState(), new TextEncoder().encode(text), languageSyntax(language));
      assert.deepEqual(got, expected);
    });
  }
});
