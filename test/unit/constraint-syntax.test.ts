// The built-in syntax constraint: tables of allowed and rejected continuations per language (fake
// byte tokenizer and the real specter-tiny BPE), rollback exactness, and the property that a
// completion which is already valid (the original code) is never touched.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenizerLike } from '../../server/engine/model';
import { createSyntaxConstraint } from '../../server/engine/constraints/syntax';
import { R_SUFFIX_CLOSES } from '../../server/engine/constraints/lexer';
import { FakeByteTokenizer, realTokenizer } from '../fixtures/constraints/tokenizers';

const fake = new FakeByteTokenizer();

interface Case {
  lang: string;
  prefix: string;
  suffix: string;
  completion: string;
  /** 'ok': every token passes and the completion may end; 'open': every token passes, may not end yet; 'reject': some token is rejected. */
  want: 'ok' | 'open' | 'reject';
  /** For 'reject': the constraint asks to stop instead (the model closed what the suffix closes). */
  stop?: boolean;
}

function run(c: Case, tokenizer: TokenizerLike): { outcome: Case['want']; stop: boolean; at: number } {
  const k = createSyntaxConstraint({ languageId: c.lang, prefix: c.prefix, suffix: c.suffix, tokenizer });
  assert.ok(k, `no constraint for ${c.lang}`);
  const ids = tokenizer.encode(c.completion);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!k.check(id)) return { outcome: 'reject', stop: k.shouldStop(), at: i };
    k.advance(id);
  }
  return { outcome: k.canStop() ? 'ok' : 'open', stop: false, at: ids.length };
}

const cases: Case[] = [
  // TypeScript / JavaScript
  { lang: 'typescript', prefix: 'function f() {\n  foo(', suffix: ')\n}\n', completion: 'a, b', want: 'ok' },
  { lang: 'typescript', prefix: 'function f() {\n  foo(', suffix: ')\n}\n', completion: 'a, b)', want: 'reject', stop: true },
  { lang: 'typescript', prefix: 'function f() {\n  foo(', suffix: '\n}\n', completion: 'a, b);', want: 'ok' },
  { lang: 'typescript', prefix: 'function f() {\n  foo(', suffix: '\n}\n', completion: 'a, b', want: 'open' },
  { lang: 'typescript', prefix: 'function f() {\n  foo(', suffix: '\n}\n', completion: 'a, b]', want: 'reject' },
  { lang: 'typescript', prefix: 'function f() {\n  ', suffix: '\n}\n', completion: 'if (x) {\n    y();\n  }', want: 'ok' },
  { lang: 'typescript', prefix: 'function f() {\n  ', suffix: '\n}\n', completion: 'if (x) {\n    y();', want: 'open' },
  { lang: 'typescript', prefix: 'function f() {\n  ', suffix: '\n}\n', completion: 'y();\n}', want: 'reject', stop: true },
  { lang: 'typescript', prefix: 'function f() {\n  return 1;\n', suffix: '', completion: '}\n', want: 'ok' },
  { lang: 'typescript', prefix: 'const s = "hel', suffix: 'lo";\n', completion: 'lo', want: 'ok' },
  { lang: 'typescript', prefix: 'const s = "hel', suffix: 'lo";\n', completion: 'lo"', want: 'reject', stop: true },
  { lang: 'typescript', prefix: 'const s = "hel', suffix: '\n', completion: 'lo";', want: 'ok' },
  { lang: 'typescript', prefix: 'const s = "hel', suffix: '\n', completion: 'lo', want: 'open' },
  { lang: 'typescript', prefix: 'const s = "hel', suffix: '\n', completion: 'lo\n";', want: 'reject' },
  { lang: 'typescript', prefix: 'const s = `a ${', suffix: '}`;', completion: 'x + "}"', want: 'ok' },
  { lang: 'typescript', prefix: 'const s = `a ${', suffix: '}`;', completion: 'x }', want: 'reject', stop: true },
  { lang: 'typescript', prefix: 'const s = ', suffix: ';\n', completion: '`line\n${a ? `in${b}` : "}"}`', want: 'ok' },
  { lang: 'typescript', prefix: 'const re = ', suffix: ';', completion: '/[)"]\\//g', want: 'ok' },
  { lang: 'typescript', prefix: 'x = a ', suffix: ';', completion: '/ b)', want: 'reject' },
  { lang: 'typescript', prefix: 'x = ', suffix: ';', completion: '"a" /* ) */ + \'b\' // (', want: 'open' },
  { lang: 'typescript', prefix: 'x = ', suffix: '\n', completion: '"a" + \'b\' // (', want: 'ok' },
  { lang: 'typescript', prefix: '// compute the sum', suffix: '\nfoo();\n', completion: '\nfunction f() {}', want: 'ok' },
  { lang: 'typescript', prefix: '// compute', suffix: ' more\nfoo();\n', completion: '\nfunction f() {}', want: 'reject', stop: true },
  { lang: 'typescript', prefix: '/* note ', suffix: ' */\nx();\n', completion: 'text (', want: 'ok' },
  { lang: 'typescript', prefix: '/* note ', suffix: ' */\nx();\n', completion: 'text */', want: 'reject', stop: true },
  { lang: 'typescript', prefix: '/**\n * A ', suffix: '\n */\nx();\n', completion: 'note.\n */', want: 'reject', stop: true },
  { lang: 'javascript', prefix: 'const a = [1, ', suffix: '];', completion: '2, [3, 4]', want: 'ok' },
  { lang: 'javascript', prefix: 'const a = [1, ', suffix: '];', completion: '2, (3]', want: 'reject' },
  // `;` never directly inside `(` or `[`, except in a header's parentheses
  { lang: 'typescript', prefix: 'function f() {\n  foo(', suffix: '\n}\n', completion: 'a, b;', want: 'reject' },
  { lang: 'typescript', prefix: 'const a = [', suffix: '\n', completion: '1; 2];', want: 'reject' },
  { lang: 'typescript', prefix: 'function f(n) {\n  for (', suffix: '\n}\n', completion: 'let i = 0; i < n; i++) {}', want: 'ok' },
  { lang: 'typescript', prefix: 'function f(xs) {\n  for(', suffix: '\n}\n', completion: ';;) {}', want: 'ok' },
  { lang: 'typescript', prefix: 'run(', suffix: '\n', completion: '() => { a(); b(); });', want: 'ok' },
  { lang: 'typescript', prefix: 'const s = f(', suffix: '\n', completion: '"a;b", `c;${d}`);', want: 'ok' },
  // JSX text may hold `;` (an entity) inside `(`: no `;` rule in TSX/JSX.
  { lang: 'typescriptreact', prefix: 'function A() {\n  return (\n    <p>', suffix: '</p>\n  );\n}\n', completion: 'a&nbsp;b', want: 'ok' },
  { lang: 'typescript', prefix: 'function A() {\n  return (\n    <p>', suffix: '</p>\n  );\n}\n', completion: 'a&nbsp;b', want: 'reject' },
  // JSX: `</` closes a tag (in TypeScript, `/` after `<` would start a regex literal).
  { lang: 'typescriptreact', prefix: 'function A() {\n  return (\n    <div>\n      <p>hi', suffix: '\n    </div>\n  );\n}\n', completion: '</p>\n      <p>yo</p>', want: 'ok' },
  { lang: 'javascriptreact', prefix: 'const a = <ul>', suffix: '</ul>;\n', completion: '<li>1</li>\n<li>2</li>', want: 'ok' },
  { lang: 'typescriptreact', prefix: 'const r = x.replace(', suffix: ', "");\n', completion: '/a+/g', want: 'ok' },
  { lang: 'python', prefix: 'x = f(', suffix: '\n', completion: 'a; b)', want: 'reject' },
  { lang: 'python', prefix: 'x = 1', suffix: '\n', completion: '; y = [2]; z = (3)', want: 'ok' },
  { lang: 'java', prefix: 'class A {\n  void f() {\n    try (', suffix: '\n  }\n}\n', completion: 'var a = x(); var b = y()) {}', want: 'ok' },
  { lang: 'java', prefix: 'class A {\n  void f() {\n    g(', suffix: '\n  }\n}\n', completion: 'a; b);', want: 'reject' },
  { lang: 'cpp', prefix: 'int main() {\n  if (', suffix: '\n}\n', completion: 'int x = f(); x > 0) {}', want: 'ok' },
  { lang: 'go', prefix: 'func f() {\n\tg(', suffix: '\n}\n', completion: 'a; b)', want: 'reject' },
  { lang: 'rust', prefix: 'fn f() {\n    let a = [', suffix: '\n}\n', completion: '0; 3];', want: 'ok' },
  // Python
  { lang: 'python', prefix: 'def f(x):\n', suffix: '', completion: '    return x\n', want: 'ok' },
  { lang: 'python', prefix: 'def f(x):\n', suffix: '', completion: 'return x\n', want: 'reject' },
  { lang: 'python', prefix: 'def f(x):\n', suffix: '', completion: '', want: 'open' },
  { lang: 'python', prefix: 'def f(x):\n    y = 1\n', suffix: '', completion: '      return x\n', want: 'reject' },
  { lang: 'python', prefix: 'def f(x):\n    if x:\n        y = 1\n', suffix: '', completion: '  return x\n', want: 'reject' },
  { lang: 'python', prefix: 'def f(x):\n    if x:\n        y = 1\n', suffix: '', completion: '    return x\n', want: 'ok' },
  { lang: 'python', prefix: 'def f(x):\n    if x:\n', suffix: '', completion: '        y = (1 +\n  2)\n', want: 'ok' },
  { lang: 'python', prefix: 'def f(x):\n    ', suffix: '\n', completion: 'if x:\n', want: 'open' },
  { lang: 'python', prefix: 'def f(x):\n    ', suffix: '\n', completion: 'if x:\n        pass', want: 'ok' },
  { lang: 'python', prefix: 's = ', suffix: '\n', completion: '"""doc\n(string"""', want: 'ok' },
  { lang: 'python', prefix: 's = ', suffix: '\n', completion: "'''doc\n(string", want: 'open' },
  { lang: 'python', prefix: 's = "a', suffix: '"\n', completion: '\\"b # c', want: 'ok' },
  { lang: 'python', prefix: 'x = 1  # note', suffix: '\ny = 2\n', completion: '\nz = 3', want: 'ok' },
  { lang: 'python', prefix: 'x = 1', suffix: ')\n', completion: ')', want: 'reject' },
  { lang: 'python', prefix: 'def f():\n    """Doc ', suffix: '\n    """\n    return 1\n', completion: 'here.\n    """', want: 'reject', stop: true },
  // Go
  { lang: 'go', prefix: 'x := `raw', suffix: '`', completion: 'text\n(more', want: 'ok' },
  { lang: 'go', prefix: 'x := "s', suffix: '"', completion: 'a\nb', want: 'reject' },
  { lang: 'go', prefix: 'func f() {\n\t', suffix: '\n}\n', completion: "r := '('\n\tfmt.Println(r)", want: 'ok' },
  // Rust
  { lang: 'rust', prefix: "fn f<'a>(x: &'a str) -> char {\n    ", suffix: '\n}\n', completion: "let c = '(';", want: 'ok' },
  { lang: 'rust', prefix: "fn f<'a>(x: &'a str) -> char {\n    ", suffix: '\n}\n', completion: "let c = '(';\n}", want: 'reject', stop: true },
  { lang: 'rust', prefix: 'fn f() {\n    ', suffix: '\n}\n', completion: '/* a /* b */ ( */ let s = "x\ny";', want: 'ok' },
  // Java, C, C#
  { lang: 'java', prefix: 'class A {\n  void f() {\n    ', suffix: '\n  }\n}\n', completion: 'char c = \'}\';\n    String s = "{";', want: 'ok' },
  { lang: 'java', prefix: 'class A {\n  void f() {\n    ', suffix: '\n  }\n}\n', completion: 'g();\n  }', want: 'reject', stop: true },
  { lang: 'c', prefix: 'int main() {\n    ', suffix: '\n}\n', completion: 'printf("%d)\\n", x[0]);', want: 'ok' },
  { lang: 'cpp', prefix: 'int main() {\n    ', suffix: '\n}\n', completion: 'return f(x]);', want: 'reject' },
  { lang: 'csharp', prefix: 'var s = ', suffix: ';', completion: '@"a""b(" + $"{x}{{"', want: 'ok' },
  { lang: 'csharp', prefix: 'var s = $"{', suffix: '}";', completion: 'x + y', want: 'ok' },
  // JSON
  { lang: 'json', prefix: '{"a": [1, ', suffix: ']}', completion: '2, 3', want: 'ok' },
  { lang: 'json', prefix: '{"a": [1, ', suffix: ']}', completion: '2, 3]', want: 'reject', stop: true },
  { lang: 'json', prefix: '{"a": [1, ', suffix: ']}', completion: '2, {"b": "]"}', want: 'ok' },
  { lang: 'json', prefix: '{\n  "name": "', suffix: '\n}\n', completion: 'demo",\n  "version": "1.0.0"', want: 'ok' },
  { lang: 'json', prefix: '{\n  "name": "', suffix: '\n}\n', completion: 'demo', want: 'open' },
];

for (const [name, tokenizer] of [
  ['fake byte tokenizer', fake],
  ['specter-tiny BPE', realTokenizer()],
] as const) {
  describe(`syntax constraint cases (${name})`, () => {
    for (const c of cases) {
      it(`${c.lang}: ${JSON.stringify(c.prefix.slice(-24))} + ${JSON.stringify(c.completion)} → ${c.want}`, () => {
        const r = run(c, tokenizer);
        assert.equal(r.outcome, c.want, `token ${r.at}`);
        if (c.want === 'reject' && c.stop !== undefined && tokenizer === fake) assert.equal(r.stop, c.stop, 'shouldStop');
      });
    }
  });
}

describe('syntax constraint mechanics', () => {
  it('rollback restores the exact state (checks and masks agree before and after)', () => {
    const tokenizer = realTokenizer();
    const k = createSyntaxConstraint({ languageId: 'typescript', prefix: 'function f() {\n  ', suffix: '\n}\n', tokenizer, maskBudgetMs: 60_000 });
    assert.ok(k);
    const snapshot = (): string => {
      const m = new Uint8Array(tokenizer.vocabSize);
      k.mask(m);
      return `${Buffer.from(m).toString('base64')}/${k.canStop()}`;
    };
    const before = snapshot();
    const ids = tokenizer.encode('const s = `a ${b("(")} /* x');
    for (const id of ids) {
      assert.ok(k.check(id));
      k.advance(id);
    }
    const mid = snapshot();
    const more = tokenizer.encode('`; // )\n  if (x) {');
    for (const id of more) {
      assert.ok(k.check(id));
      k.advance(id);
    }
    k.rollback(more.length);
    assert.equal(snapshot(), mid);
    k.rollback(ids.length);
    assert.equal(snapshot(), before);
    assert.throws(() => k.rollback(1), RangeError);
  });

  it('mask agrees with check for every token', () => {
    const tokenizer = realTokenizer();
    for (const [languageId, prefix, suffix] of [
      ['typescript', 'foo(`a ${', '}`)'],
      ['python', 'def f():\n', ''],
      ['python', 'x = "a', '"\n'],
      ['rust', 'fn f() { let c = ', ' }'],
      ['json', '{"a": [', ']}'],
    ] as const) {
      // A generous budget: the wall-clock budget is not what this test is about (tests run in parallel).
      const k = createSyntaxConstraint({ languageId, prefix, suffix, tokenizer, maskBudgetMs: 60_000 });
      assert.ok(k);
      const m = new Uint8Array(tokenizer.vocabSize + 7); // padded logits width
      assert.equal(k.mask(m), true);
      for (let id = 0; id < tokenizer.vocabSize; id++) assert.equal(m[id] === 1, k.check(id), `${languageId} id ${id}`);
      for (let id = tokenizer.vocabSize; id < m.length; id++) assert.equal(m[id], 0);
    }
  });

  it('stop tokens are allowed exactly when the completion may end', () => {
    const tokenizer = realTokenizer();
    const [eos] = [...tokenizer.stopIds];
    assert.ok(eos !== undefined);
    const k = createSyntaxConstraint({ languageId: 'typescript', prefix: 'x = ', suffix: '\n', tokenizer });
    assert.ok(k);
    assert.equal(k.check(eos), true);
    for (const id of tokenizer.encode('"abc')) k.advance(id);
    assert.equal(k.check(eos), false);
    for (const id of tokenizer.encode('"')) k.advance(id);
    assert.equal(k.check(eos), true);
  });

  it('unknown languages get no constraint', () => {
    assert.equal(createSyntaxConstraint({ languageId: 'plaintext', prefix: '', suffix: '', tokenizer: fake }), undefined);
  });
});

/** Cut points in `text`: mid-line positions and line starts, deterministic. */
function cutPoints(text: string, n: number): number[] {
  const out: number[] = [];
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    out.push(seed % text.length);
  }
  return out;
}

const samplesDir = join(__dirname, '..', 'fixtures', 'constraints', 'samples');
const languageOf: Record<string, string> = { py: 'python', ts: 'typescript', go: 'go', rs: 'rust', java: 'java', c: 'c', cs: 'csharp', json: 'json' };

describe('a valid completion is never changed (original code as the completion)', () => {
  const tokenizer = realTokenizer();
  for (const file of readdirSync(samplesDir)) {
    const languageId = languageOf[file.split('.').pop() as string];
    if (languageId === undefined) continue;
    it(`${file}: mid-line and multi-line completions from the original text`, () => {
      const text = readFileSync(join(samplesDir, file), 'utf8');
      let nTokens = 0;
      let nCases = 0;
      let nCloseReopen = 0;
      for (const at of cutPoints(text, 120)) {
        for (const nLines of [0, 3]) {
          // The completion is the original text up to the end of the line (+ nLines more lines).
          let end = at;
          for (let l = 0; l <= nLines && end < text.length; l++) {
            const nl = text.indexOf('\n', end + (l === 0 ? 0 : 1));
            end = nl < 0 ? text.length : nl;
          }
          const prefix = text.slice(0, at);
          const completion = text.slice(at, end);
          const suffix = text.slice(end);
          const k = createSyntaxConstraint({ languageId, prefix, suffix, tokenizer });
          assert.ok(k);
          const ids = tokenizer.encode(completion);
          let closesSuffixBracket = false;
          for (let i = 0; i < ids.length; i++) {
            const id = ids[i] as number;
            const where = `${file}@${at}: ${JSON.stringify(prefix.slice(-30))} | ${JSON.stringify(completion)} token ${i} ${JSON.stringify(tokenizer.decode([id]))}`;
            if (!k.check(id)) {
              // By design: the completion closes a block the suffix closes, then opens another one
              // (it runs past the end of a function into the next). Counted, not allowed.
              assert.equal(k.diagnostics.lastReject, R_SUFFIX_CLOSES, `rejected ${where} (reason ${k.diagnostics.lastReject})`);
              closesSuffixBracket = true;
              break;
            }
            k.advance(id);
            nTokens++;
          }
          nCases++;
          if (closesSuffixBracket) {
            nCloseReopen++;
            continue;
          }
          assert.ok(k.canStop(), `may not stop: ${file}@${at} ${JSON.stringify(prefix.slice(-30))} | ${JSON.stringify(completion)} | ${JSON.stringify(suffix.slice(0, 20))}`);
        }
      }
      assert.ok(nTokens > 100);
      // Mid-line completions never hit this; only the 4-line ones that leave their block.
      assert.ok(nCloseReopen <= nCases * 0.1, `${nCloseReopen} of ${nCases} completions close a suffix-closed block and reopen`);
    });
  }
});

// The finishing step (Constraint.finishMask): when decoding ended where the completion may not end,
// which next tokens may close it. Single tokens of the specter-tiny BPE.
describe('finishing: the tokens that may close a completion that cannot end yet', () => {
  const tokenizer = realTokenizer();
  const finishCases: { lang: string; prefix: string; suffix: string; completion: string; allowed: string[]; rejected: string[] }[] = [
    // A call opened on the cursor's line: `)` closes it; `,` (a dangling comma) and `):` are not a way to end.
    { lang: 'typescript', prefix: 'function f() {\n  foo(', suffix: '\n}\n', completion: 'a, b', allowed: [')'], rejected: ['),', '):', ']', ';', '"'] },
    { lang: 'typescript', prefix: 'const s = "hel', suffix: '\n', completion: 'lo', allowed: ['"'], rejected: ["'", ')', '`'] },
    { lang: 'typescript', prefix: 'const s = ', suffix: ';\n', completion: '`one', allowed: ['`'], rejected: ['"', ')'] },
    // A block the suffix goes on with: ` {` may end the header.
    { lang: 'javascript', prefix: 'function f(a) {\n    if (a.equals(b', suffix: '\n        return 1;\n    }\n}\n', completion: '', allowed: ['))', ')'], rejected: ['),', '):'] },
    // Python: `):` only where the next line is the header's indented body.
    { lang: 'python', prefix: 'def f(x):\n    if g(x', suffix: '\n        return 1\n    return 2\n', completion: '', allowed: [')', '):'], rejected: ['),', ']:'] },
    { lang: 'python', prefix: 'def f(x):\n    y = g(x', suffix: '\n    return y\n', completion: '', allowed: [')'], rejected: ['):', '),'] },
    { lang: 'python', prefix: 'def f(args):\n    o = p.parse(args[', suffix: '\n\n    if o:\n        pass\n', completion: '0', allowed: [']', '])'], rejected: [')', '):'] },
    // JSON: a string value closes, and `",` separates it from the suffix's next member.
    { lang: 'json', prefix: '{\n  "name": "', suffix: '\n  "version": "1.0.0"\n}\n', completion: 'demo', allowed: ['",'], rejected: [')', '}'] },
  ];
  for (const c of finishCases) {
    it(`${c.lang}: ${JSON.stringify(c.prefix.slice(-20))} + ${JSON.stringify(c.completion)}: ${c.allowed.join(' ')} but not ${c.rejected.join(' ')}`, () => {
      const k = createSyntaxConstraint({ languageId: c.lang, prefix: c.prefix, suffix: c.suffix, tokenizer });
      assert.ok(k);
      for (const id of tokenizer.encode(c.completion)) {
        assert.ok(k.check(id), `completion token ${id}`);
        k.advance(id);
      }
      assert.equal(k.canStop(), false, 'the completion may not end here yet');
      const allowed = new Uint8Array(tokenizer.vocabSize);
      assert.equal(k.finishMask(allowed), true);
      const idOf = (s: string): number => {
        const ids = tokenizer.encode(s);
        assert.equal(ids.length, 1, `${JSON.stringify(s)} is one token`);
        return ids[0] as number;
      };
      for (const s of c.allowed) assert.equal(allowed[idOf(s)], 1, `${JSON.stringify(s)} allowed`);
      for (const s of c.rejected) assert.equal(allowed[idOf(s)], 0, `${JSON.stringify(s)} rejected`);
      // Every allowed token passes check, and none is text other than closers, blanks and one ender.
      for (let id = 0; id < allowed.length; id++) {
        if (allowed[id] !== 1) continue;
        assert.ok(k.check(id), `allowed ${JSON.stringify(tokenizer.decode([id]))} passes check`);
        assert.match(tokenizer.decode([id]), /^[\s)\]}"'`]*[;:{,]?[\s)\]}"'`]*$/);
      }
    });
  }

  it('a bracket its own line opened, which the suffix never closes, must be closed before the completion ends', () => {
    const open = (prefix: string, suffix: string, completion: string): boolean => {
      const k = createSyntaxConstraint({ languageId: 'python', prefix, suffix, tokenizer });
      assert.ok(k);
      for (const id of tokenizer.encode(completion)) k.advance(id);
      return !k.canStop();
    };
    // The next statement follows: `(` must close on this line.
    assert.equal(open('def f():\n    return g(a,', '\n\nc = 1\n', ' b'), true);
    assert.equal(open('def f():\n    return g(a,', '\n\nc = 1\n', ' b)'), false);
    // The suffix closes it on a later line (a call split over lines): the completion may end inside it.
    assert.equal(open('def f():\n    return g(a,', '\n        c)\n', ' b,'), false);
    // Opened on an earlier line and never closed in the text read: not the completion's to close.
    assert.equal(open('x = [\n    1,\n    ', '\n', '2,'), false);
  });
});

describe('the suffix plan when the suffix is only part of the rest of the document (suffixCut)', () => {
  // A line comment at the cursor in an interface whose `}` lies past the end of the suffix given.
  const prefix = 'export namespace T {\n  interface A {\n    x: number;\n    // y: never';
  const suffix = '\n    z: string;\n  }\n\n  interface B {\n    w: number;\n';
  const after = (suffixCut: boolean): { canStop: boolean; mustClose: number } => {
    const k = createSyntaxConstraint({ languageId: 'typescript', prefix, suffix, suffixCut, tokenizer: fake });
    assert.ok(k);
    for (const id of fake.encode(';')) {
      assert.ok(k.check(id));
      k.advance(id);
    }
    return { canStop: k.canStop(), mustClose: k.diagnostics.plan.nMustClose };
  };
  it('read as the end of the document, it leaves `interface B {` open: the completion is asked to close a bracket, and may not end in the comment', () => {
    assert.deepEqual(after(false), { canStop: false, mustClose: 1 });
  });
  it('marked as cut, its end is no evidence: `;` ends the comment line and the completion', () => {
    assert.deepEqual(after(true), { canStop: true, mustClose: 0 });
  });
});

describe('the suffix plan: brackets the completion must open', () => {
  const tokenizer = realTokenizer();
  const state = (lang: string, prefix: string, suffix: string, completion: string): { mustOpen: number; canStop: boolean } => {
    const k = createSyntaxConstraint({ languageId: lang, prefix, suffix, tokenizer });
    assert.ok(k);
    for (const id of tokenizer.encode(completion)) {
      assert.ok(k.check(id), `${JSON.stringify(completion)} token ${id}`);
      k.advance(id);
    }
    return { mustOpen: k.diagnostics.plan.nMustOpen, canStop: k.canStop() };
  };
  it('JSON: the rest of a key line whose object the suffix closes has to open it', () => {
    const prefix = '{\n  "a": 1,\n  ';
    const suffix = '\n    "b": 1\n  },\n  "c": 2\n}\n';
    assert.deepEqual(state('json', prefix, suffix, '"x": {'), { mustOpen: 1, canStop: true });
    assert.deepEqual(state('json', prefix, suffix, '"x": 1,'), { mustOpen: 1, canStop: false });
    // The same line with its object's members and `}` written out: nothing to open.
    assert.deepEqual(state('json', prefix, '\n  "c": 2\n}\n', '"x": 1,'), { mustOpen: 0, canStop: true });
  });
  it('JavaScript: a block header whose body and `}` follow has to open it', () => {
    const prefix = 'function f(a) {\n  ';
    const suffix = '\n    return 1;\n  }\n  return 2;\n}\n';
    assert.deepEqual(state('javascript', prefix, suffix, 'if (a) {'), { mustOpen: 1, canStop: true });
    assert.deepEqual(state('javascript', prefix, suffix, 'g();'), { mustOpen: 1, canStop: false });
  });
  it('a prefix the lexer reads with errors asks nothing to be opened', () => {
    assert.equal(state('javascript', 'x = ) + 1;\nfunction f(a) {\n  ', '\n    return 1;\n  }\n  return 2;\n}\n', 'g();').mustOpen, 0);
  });
  it('JSON values in finishing only beside a schema (jsonValues): alone a `:` after a key is not offered', () => {
    const prefix = '{\n  "a": 1,\n  ';
    const suffix = '\n  "c": 2\n}\n';
    const colon = tokenizer.encode(':');
    assert.equal(colon.length, 1);
    for (const jsonValues of [false, true]) {
      const k = createSyntaxConstraint({ languageId: 'json', prefix, suffix, tokenizer });
      assert.ok(k);
      k.jsonValues = jsonValues;
      for (const id of tokenizer.encode('"x"')) k.advance(id);
      const allowed = new Uint8Array(tokenizer.vocabSize);
      k.finishMask(allowed);
      assert.equal(allowed[colon[0] as number], jsonValues ? 1 : 0, `jsonValues ${jsonValues}`);
    }
  });
});
