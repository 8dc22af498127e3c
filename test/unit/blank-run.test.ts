// The blank-run cap (server/engine/constraints/blank-run.ts) on a byte-level fake tokenizer:
// runs that span tokens, tokens with blanks on either side, masks equal to checks, rollback.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBlankRunConstraint, trailingBlankRun } from '../../server/engine/constraints/blank-run';
import { FakeTokenizer } from './fakes';

const tok = new FakeTokenizer({ pieces: ['  ', '\n  ', 'a ', ' b', '    ', 'x'], specials: ['<|endoftext|>'] });
const id = (piece: string): number => {
  const ids = tok.encode(piece);
  assert.equal(ids.length, 1, piece);
  return ids[0] as number;
};

/** Feeds pieces one by one; the index of the first rejected piece, or -1. */
function run(before: string, cap: number, pieces: string[]): number {
  const c = createBlankRunConstraint(tok, before, cap);
  for (const [i, p] of pieces.entries()) {
    if (!c.check(id(p))) return i;
    c.advance(id(p));
  }
  return -1;
}

describe('blank-run cap', () => {
  // [text before, cap, pieces, first rejected piece or -1]
  const cases: [string, number, string[], number][] = [
    ['{', 4, ['  ', '  ', 'x'], -1],
    ['{', 4, ['  ', '  ', ' '], 2],
    ['{', 4, ['    ', 'x', '    '], -1],
    ['{\n', 4, ['    '], 0], // the text before the cursor ends with a blank: it counts
    ['{', 4, ['a ', '  ', ' b'], -1], // "a " leaves a run of 1, "  " makes 3, " b" starts with the 4th
    ['{', 3, ['a ', '  ', ' b'], 2],
    ['{', 3, ['\n  ', 'x'], -1],
    ['{', 2, ['\n  '], 0],
  ];
  for (const [before, cap, pieces, expected] of cases) {
    it(`${JSON.stringify(before)} cap ${cap}: ${JSON.stringify(pieces)}`, () => assert.equal(run(before, cap, pieces), expected));
  }

  it('mask agrees with check; rollback restores the run; special tokens end a run', () => {
    const c = createBlankRunConstraint(tok, 'x', 4);
    c.advance(id('    '));
    const mask = new Uint8Array(tok.vocabSize);
    assert.equal(c.mask(mask), true);
    for (let t = 0; t < tok.vocabSize; t++) assert.equal(mask[t] === 1, c.check(t), `id ${t}`);
    assert.equal(c.check(id(' b')), false);
    c.rollback(1);
    assert.equal(c.check(id(' b')), true);
    c.advance(id('    '));
    c.advance(tok.specialTokens.get('<|endoftext|>') as number);
    assert.equal(c.check(id('    ')), true);
    assert.equal(c.canStop(), true);
  });

  it('trailingBlankRun counts spaces, tabs and newlines at the end', () => {
    assert.equal(trailingBlankRun('a \t\n '), 4);
    assert.equal(trailingBlankRun('a'), 0);
    assert.equal(trailingBlankRun(''), 0);
  });
});
