// The type check after decoding (server/monitor/type-check.ts) over a scripted error source: every
// "BAD" in the document is an error (key = the word after it, so two BADs can differ), and an
// unclosed "(" on a line is an error at the line's end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { typeCheck, type ErrorDiagnostic, type TypeCheckMode } from '../../server/monitor/type-check';
import { verifiedMember } from '../../server/completion-service';
import { usesMember } from '../../server/monitor/monitor';

const verifiedMemberChars = (prefix: string, text: string, members: readonly string[] | undefined): number => verifiedMember(prefix, text, members)?.end ?? 0;

function errorsOf(text: string): ErrorDiagnostic[] {
  const out: ErrorDiagnostic[] = [];
  for (const m of text.matchAll(/BAD(\w*)/g)) out.push({ start: m.index, key: `bad ${m[1] ?? ''}` });
  let lineStart = 0;
  for (const line of text.split('\n')) {
    let depth = 0;
    for (const ch of line) depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
    if (depth > 0) out.push({ start: lineStart + line.length, key: "')' expected" });
    lineStart += line.length + 1;
  }
  return out;
}

/** Token ends every character: the check may cut anywhere. */
const everywhere = (s: string): number[] => Array.from({ length: s.length }, (_, i) => i + 1);

// [name, prefix, completion, suffix, mode, kept]
const cases: [string, string, string, string, TypeCheckMode, string][] = [
  ['no error: unchanged', 'x = obj.', 'count + 1', '\nnext()', 'relative', 'count + 1'],
  ['an error in the completion: cut before it', 'x = obj.', 'run(1, BADarg)', '\nnext()', 'relative', 'run'],
  ['the cut before an error leaves "(" open: cut further, to the last clean token end', 'x = obj.', 'run(BADa)', '', 'relative', 'run'],
  ['an error the document already has on that line is not the completion\'s', 'x = BADold + obj.', 'total', '\n', 'relative', 'total'],
  ['...but a second one of the same kind is', 'x = BADold + obj.', 'total + BADold', '\n', 'relative', 'total + '],
  ['strict: the document\'s own error on the line counts too', 'x = BADold + obj.', 'total', '\n', 'strict', ''],
  ['an error on another line does not count', 'BADfar\nx = obj.', 'total', '\ny = 2\nBADlater', 'strict', 'total'],
  ['the completion\'s second line counts', 'x = obj.', 'total\ny = BADz', '\n', 'relative', 'total\ny = '],
  ['an error starting at the completion: nothing is left', 'x = obj.', 'BADname', '\n', 'relative', ''],
];

void describe('type check after decoding', () => {
  for (const [name, prefix, text, suffix, mode, kept] of cases) {
    void it(name, async () => {
      const r = await typeCheck(errorsOf, { prefix, suffix, text, boundaries: everywhere(text) }, mode);
      assert.ok(r);
      assert.equal(text.slice(0, r.keepChars).trimEnd(), kept.trimEnd());
    });
  }

  void it('a floor (the verified member name) is never cut into; its own errors are the baseline', async () => {
    // `BADname` alone has an error: without a floor nothing is left, with it the name stays.
    const input = { prefix: 'x = obj.', suffix: '\n', text: 'BADname(1, BADarg)', boundaries: everywhere('BADname(1, BADarg)') };
    assert.equal((await typeCheck(errorsOf, input, 'relative'))?.keepChars, 0);
    // Every cut after the name leaves "(" open: the floor is kept.
    assert.equal((await typeCheck(errorsOf, { ...input, floorChars: 7 }, 'relative'))?.keepChars, 7);
    // A clean cut after the floor is taken.
    assert.equal((await typeCheck(errorsOf, { ...input, text: 'BADname + q(', boundaries: [7, 11, 12], floorChars: 7 }, 'relative'))?.keepChars, 11);
    // Strict mode has no floor.
    assert.equal((await typeCheck(errorsOf, { ...input, floorChars: 7 }, 'strict'))?.keepChars, 0);
  });

  void it('errorsOnLines: any error on the whole completion\'s lines, the document\'s own included (retries take only clean completions)', async () => {
    const at = async (prefix: string, text: string, suffix: string): Promise<number | undefined> =>
      (await typeCheck(errorsOf, { prefix, suffix, text, boundaries: everywhere(text) }, 'relative'))?.errorsOnLines;
    assert.equal(await at('x = obj.', 'count + 1', '\nnext()'), 0);
    assert.equal(await at('x = obj.', 'run(1, BADarg)', '\nnext()'), 1);
    assert.equal(await at('x = BADold + obj.', 'total', '\n'), 1, 'relative mode keeps it, but it is not clean');
    assert.equal(await at('BADfar\nx = obj.', 'total', '\ny = 2\nBADlater'), 0, 'other lines do not count');
  });

  void it('cuts only at token ends', async () => {
    const text = 'run(1, BADarg)';
    const r = await typeCheck(errorsOf, { prefix: 'obj.', suffix: '', text, boundaries: [3, 5, 14] }, 'relative');
    assert.equal(r?.keepChars, 3);
  });

  void it('a clean completion costs one check; a source that cannot tell leaves the completion alone', async () => {
    const r = await typeCheck(errorsOf, { prefix: 'obj.', suffix: '', text: 'ok', boundaries: [2] }, 'relative');
    assert.equal(r?.nChecks, 1);
    assert.equal(await typeCheck(() => undefined, { prefix: 'obj.', suffix: '', text: 'BAD', boundaries: [3] }, 'relative'), undefined);
  });

  void it('the budget ends the search: nothing is shown', async () => {
    const slow = (t: string): ErrorDiagnostic[] => {
      const until = performance.now() + 5;
      while (performance.now() < until);
      return errorsOf(t);
    };
    const text = 'a(b(c(d(e(f(g(h(BAD';
    const r = await typeCheck(slow, { prefix: 'obj.', suffix: '', text, boundaries: everywhere(text), budgetMs: 8 }, 'strict');
    assert.equal(r?.keepChars, 0);
    assert.ok((r?.nChecks ?? 0) < text.length, 'it stopped early');
  });
});

void describe('the type check\'s floor: the member name the monitor verified', () => {
  const members = ['join', 'jo_x', 'split'];
  // [name, prefix, completion, floor]
  const table: [string, string, string, number][] = [
    ['operator in the prefix', 'return sep.', 'join(words)', 4],
    ['part of the name typed', 'return sep.jo', 'in(words)', 2],
    ['healing moved the operator into the completion', 'return sep', '.join(words)', 5],
    ['healing moved a quote and the operator', 'return "', '".join(words)', 6],
    ['a name static analysis did not give', 'return sep.', 'joint(words)', 0],
    ['a longer name that merely starts like one', 'return sep.', 'joinx', 0],
    ['not at a member access', 'return ', 'join(words)', 0],
    ['nothing of the name written', 'return sep.', '(words)', 0],
  ];
  for (const [name, prefix, text, floor] of table) {
    void it(name, () => assert.equal(verifiedMemberChars(prefix, text, members), floor));
  }
  void it('no answer, no floor', () => assert.equal(verifiedMemberChars('sep.', 'join', undefined), 0));
  void it('verifiedMember names the member (what a retry leaves out)', () => {
    assert.deepEqual(verifiedMember('return "', '".join(words)', members), { name: 'join', end: 6 });
    assert.deepEqual(verifiedMember('return sep.jo', 'in(words)', members), { name: 'join', end: 2 });
    assert.equal(verifiedMember('return sep.', 'joint(words)', members), undefined);
  });
});

void describe('usesMember: the document vouches for a member name (the floor applies only then)', () => {
  // [text, name, uses]
  const table: [string, string, boolean][] = [
    ['x = sep.join(words)', 'join', true],
    ['a?.join', 'join', true],
    ['p->next', 'next', true],
    ['std::move(x)', 'move', true],
    ['sep.joinx()', 'join', false],
    ['join(words)', 'join', false],
    ['sep.join', 'join', true],
    ['obj.$el + obj.$', '$', true],
    ['', 'join', false],
  ];
  for (const [text, name, uses] of table) {
    void it(`${JSON.stringify(text)} uses ${name}: ${uses}`, () => assert.equal(usesMember(text, name), uses));
  }
});
