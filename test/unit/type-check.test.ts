// The type check after decoding (server/monitor/type-check.ts) over a scripted error source: every
// "BAD" in the document is an error (key = the word after it, so two BADs can differ), and an
// unclosed "(" on a line is an error at the line's end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { typeCheck, type ErrorDiagnostic, type TypeCheckMode } from '../../server/monitor/type-check';

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
    void it(name, () => {
      const r = typeCheck(errorsOf, { prefix, suffix, text, boundaries: everywhere(text) }, mode);
      assert.ok(r);
      assert.equal(text.slice(0, r.keepChars).trimEnd(), kept.trimEnd());
    });
  }

  void it('cuts only at token ends', () => {
    const text = 'run(1, BADarg)';
    const r = typeCheck(errorsOf, { prefix: 'obj.', suffix: '', text, boundaries: [3, 5, 14] }, 'relative');
    assert.equal(r?.keepChars, 3);
  });

  void it('a clean completion costs one check; a source that cannot tell leaves the completion alone', () => {
    const r = typeCheck(errorsOf, { prefix: 'obj.', suffix: '', text: 'ok', boundaries: [2] }, 'relative');
    assert.equal(r?.nChecks, 1);
    assert.equal(typeCheck(() => undefined, { prefix: 'obj.', suffix: '', text: 'BAD', boundaries: [3] }, 'relative'), undefined);
  });

  void it('the budget ends the search: nothing is shown', () => {
    const slow = (t: string): ErrorDiagnostic[] => {
      const until = performance.now() + 5;
      while (performance.now() < until);
      return errorsOf(t);
    };
    const text = 'a(b(c(d(e(f(g(h(BAD';
    const r = typeCheck(slow, { prefix: 'obj.', suffix: '', text, boundaries: everywhere(text), budgetMs: 8 }, 'strict');
    assert.equal(r?.keepChars, 0);
    assert.ok((r?.nChecks ?? 0) < text.length, 'it stopped early');
  });
});
