import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopySpecDrafter } from '../../server/engine/copyspec';
import { emptyDrafterStats, type Drafter } from '../../server/engine/drafter';
import { findPromptMatch, PromptLookupDrafter } from '../../server/engine/prompt-lookup';
import { DraftScheduler } from '../../server/engine/speculation';
import { PrefixDrafter } from '../../server/engine/prefix-drafter';

const ids = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const str = (xs: readonly number[]): string => String.fromCharCode(...xs);

describe('prompt lookup', () => {
  // [name, sequence, minN, maxN, nMax, expected draft]
  const cases: [string, string, number, number, number, string][] = [
    ['tail n-gram found earlier', 'abcdXabc', 1, 3, 3, 'dXa'],
    ['longest match wins over a shorter earlier one', 'xbcQ abcR abc', 1, 3, 5, 'R abc'],
    ['earliest occurrence on ties', 'abX abY ab', 2, 2, 1, 'X'],
    ['no self-match', 'abc', 1, 3, 4, ''],
    ['overlapping occurrence is fine', 'aaaa', 2, 2, 4, 'aa'],
    ['below minN nothing', 'aXbY a', 2, 3, 2, ''],
    ['minN 1 allows a single token', 'aXbY a', 1, 3, 2, 'Xb'],
    ['continuation stops at the sequence end', 'abcab', 2, 2, 5, 'cab'],
    ['maxN bounds the match length', 'pqrsT qrsU pqrs', 1, 3, 1, 'T'],
  ];
  for (const [name, seq, minN, maxN, nMax, expected] of cases) {
    it(name, () => {
      const d = new PromptLookupDrafter({ minN, maxN });
      d.begin();
      assert.equal(str(d.draft(ids(seq), nMax)), expected);
    });
  }
  it('reports the match length', () => {
    assert.deepEqual(findPromptMatch(ids('xbcQ abcR abc'), 1, 3), { n: 3, next: 8 });
  });
});

describe('CopySpec', () => {
  // [name, gamma, history docs, prompt, nMax, expected]
  const cases: [string, number, string[], string, number, string][] = [
    ['copies from the live sequence', 4, [], 'abcdefg abcd', 3, 'efg'],
    ['no self-match', 4, [], 'abcd', 4, ''],
    ['shorter than γ', 4, [], 'abc', 4, ''],
    ['copies from another document', 3, ['function foo() { return 1; }'], 'function foo() {', 10, ' return '], // initial copy length 8
    ['prefers the occurrence with the longer left context', 4, [], 'XYabcd1 ZWabcd2 XYabcd', 1, '1'],
    ['equal context: the most recent occurrence', 4, [], 'Pabcd1 Qabcd2 Rabcd', 1, '2'],
    ['most recent document on equal context', 3, ['k=abc1', 'k=abc2'], 'k=abc', 1, '2'],
    ['live sequence beats a document with less context', 3, ['zzabc9'], 'q=abc1; q=abc', 1, '1'],
  ];
  for (const [name, gamma, docs, prompt, nMax, expected] of cases) {
    it(name, () => {
      const d = new CopySpecDrafter({ gamma });
      docs.forEach((doc, i) => d.setDocument(`doc${i}`, ids(doc)));
      d.begin(ids(prompt));
      assert.equal(str(d.draft(ids(prompt), nMax)), expected);
    });
  }

  it('collision safety: a hash that collides everywhere never proposes an unmatched copy', () => {
    const d = new CopySpecDrafter({ gamma: 3, hash: () => 0 });
    d.setDocument('doc', ids('the quick brown fox'));
    d.begin(ids('lazy dog xyz'));
    assert.deepEqual(d.draft(ids('lazy dog xyz'), 8), []);
    d.begin(ids('a quick'));
    assert.equal(str(d.draft(ids('a quick'), 6)), ' brown');
  });

  it('copies chain across rounds while the model agrees, and the length adapts', () => {
    const doc = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const d = new CopySpecDrafter({ gamma: 2, minCopy: 2, maxCopy: 16 });
    d.setDocument('doc', ids(doc));
    let seq = ids('ab');
    d.begin(seq);
    const lengths: number[] = [];
    for (let round = 0; round < 4; round++) {
      const draft = d.draft(seq, 100);
      lengths.push(draft.length);
      d.accept(draft, draft.length);
      // The model accepts everything and its own next token continues the copy.
      seq = [...seq, ...draft];
      seq.push(doc.charCodeAt(seq.length));
      assert.equal(str(seq), doc.slice(0, seq.length));
    }
    assert.deepEqual(lengths, [8, 16, 16, 16]);
    // Early rejection: the chain breaks and the length shrinks.
    const draft = d.draft(seq, 100);
    d.accept(draft, 1);
    seq = [...seq, draft[0] as number, ids('!')[0] as number];
    assert.ok(d.draft(seq, 100).length <= 8);
  });

  it('earlier completions join the history', () => {
    const d = new CopySpecDrafter({ gamma: 3 });
    const prompt = ids('const x = ');
    d.begin(prompt);
    d.draft([...prompt, ...ids('computeTotal(items);')], 4);
    d.begin(ids('let y = computeT'));
    assert.equal(str(d.draft(ids('let y = computeT'), 8)), 'otal(ite');
  });

  it('documents can be replaced and removed; history is bounded', () => {
    const d = new CopySpecDrafter({ gamma: 3, maxHistoryTokens: 30 });
    d.setDocument('a', ids('hello world'));
    d.setDocument('a', ids('hello there'));
    d.begin(ids('hello'));
    assert.equal(str(d.draft(ids('hello'), 6)), ' there');
    d.removeDocument('a');
    d.begin(ids('hello'));
    assert.deepEqual(d.draft(ids('hello'), 6), []);
    for (let i = 0; i < 10; i++) d.setDocument(`f${i}`, ids(`file number ${i}`));
    assert.ok(d.nHistoryTokens <= 30);
  });
});

describe('draft scheduler adaptivity', () => {
  /** A drafter that always proposes `nMax` tokens; records what it was asked for. */
  function greedyDrafter(asked: number[]): Drafter {
    return { name: 'd', stats: emptyDrafterStats(), begin: () => undefined, draft: (_s, nMax) => (asked.push(nMax), new Array<number>(nMax).fill(0)), accept: () => undefined };
  }
  // [name, outcomes per round: 'all' | 'none' | number accepted, expected draft sizes (0 = rested)]
  const cases: [string, ('all' | 'none' | number)[], number[]][] = [
    ['full acceptance keeps the maximum', ['all', 'all', 'all'], [8, 8, 8]],
    ['misses halve the draft, then rest it', ['none', 'none', 'none', 'none', 'none', 'none'], [8, 4, 2, 0, 0, 0]],
    ['a partial acceptance keeps the size and resets the misses', ['none', 3, 'none', 'none', 'all'], [8, 4, 4, 2, 1]],
    ['growth after full acceptance', ['none', 'none', 'all', 'all'], [8, 4, 2, 4]],
    ['a short acceptance shrinks towards twice what was useful', [1, 'all', 2], [8, 4, 8]],
  ];
  for (const [name, outcomes, expected] of cases) {
    it(name, () => {
      const asked: number[] = [];
      const drafter = greedyDrafter(asked);
      const scheduler = new DraftScheduler([drafter], () => 0, { maxDraftTokens: 8, restTokens: 4 });
      scheduler.begin([]);
      const sizes: number[] = [];
      let length = 10;
      for (const outcome of outcomes) {
        const proposal = scheduler.propose(new Array<number>(length).fill(0), 100);
        sizes.push(proposal?.tokens.length ?? 0);
        if (proposal === undefined) {
          length += 1;
          continue;
        }
        const n = outcome === 'all' ? proposal.tokens.length : outcome === 'none' ? 0 : Math.min(outcome, proposal.tokens.length);
        length += n + 1;
        scheduler.feedback(proposal, n, length);
      }
      assert.deepEqual(sizes, expected);
    });
  }

  it('a rested drafter comes back after the rest', () => {
    const asked: number[] = [];
    const scheduler = new DraftScheduler([greedyDrafter(asked)], () => 0, { maxDraftTokens: 8, restTokens: 4, nMissesBeforeRest: 1 });
    scheduler.begin([]);
    const p = scheduler.propose([0], 100);
    assert.ok(p !== undefined);
    scheduler.feedback(p, 0, 2);
    assert.equal(scheduler.propose([0, 0, 0, 0, 0], 100), undefined);
    assert.ok(scheduler.propose([0, 0, 0, 0, 0, 0], 100) !== undefined);
  });
});

describe('retry prefix (parse retries)', () => {
  const prompt = [7, 8, 9];
  const earlier = [1, 2, 3, 4, 5];
  const cases: { name: string; generated: number[]; nMax: number; expected: number[] }[] = [
    { name: 'at the start: the earlier tokens, up to nMax', generated: [], nMax: 3, expected: [1, 2, 3] },
    { name: 'all of them when nMax allows', generated: [], nMax: 16, expected: [1, 2, 3, 4, 5] },
    { name: 'following along: the rest', generated: [1, 2], nMax: 16, expected: [3, 4, 5] },
    { name: 'the prefix written in full: nothing more', generated: [1, 2, 3, 4, 5], nMax: 16, expected: [] },
    { name: 'past it: nothing', generated: [1, 2, 3, 4, 5, 6], nMax: 16, expected: [] },
    { name: 'departed from it: nothing', generated: [1, 9], nMax: 16, expected: [] },
    { name: 'nMax 0: nothing', generated: [], nMax: 0, expected: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = new PrefixDrafter(earlier);
      d.begin(prompt);
      assert.deepEqual(d.draft([...prompt, ...c.generated], c.nMax), c.expected);
    });
  }
  it('positions count from the prompt given to begin', () => {
    const d = new PrefixDrafter(earlier);
    d.begin([7]);
    assert.deepEqual(d.draft([7, 1, 2], 2), [3, 4]);
    d.begin([7, 8, 9, 10]);
    assert.deepEqual(d.draft([7, 8, 9, 10], 2), [1, 2]);
  });
});
