import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NGramIndex } from '../../server/engine/ngram';
import { createSharedNGramIndex } from '../../server/engine/superposed-drafts';
import { FakeTokenizer } from './fakes';

describe('NGramIndex', () => {
  it('finds verified occurrences most recent first, across documents', () => {
    const index = new NGramIndex({ lengths: [2, 4] });
    index.setDocument('x', [1, 2, 3, 1, 2, 4]);
    index.setDocument('y', [9, 1, 2, 5]);
    const found = [...index.occurrences([7, 1, 2], 3, 2)].map((o) => [o.doc.key, o.pos]);
    assert.deepEqual(found, [['y', 1], ['x', 3], ['x', 0]]);
    assert.throws(() => [...index.occurrences([1, 2, 3], 3, 3)], RangeError);
  });

  it('counts continuations and survives hash collisions', () => {
    const index = new NGramIndex({ lengths: [1, 2], hash: () => 7 });
    index.setDocument('x', [1, 2, 1, 3, 1, 2, 4, 2]);
    const c = index.continuations([1], 1, 1);
    assert.equal(c.total, 3);
    assert.deepEqual([...c.counts].sort(), [[2, 2], [3, 1]]);
    assert.equal(index.continuations([5], 1, 1).total, 0);
  });

  it('appends incrementally exactly like indexing the whole document', () => {
    const ids = [4, 5, 6, 4, 5, 7, 4, 5, 6, 8, 4, 5];
    const whole = new NGramIndex();
    whole.setDocument('d', ids);
    const grown = new NGramIndex();
    grown.setDocument('d', ids.slice(0, 3));
    for (let i = 3; i < ids.length; i += 2) grown.append('d', ids.slice(i, i + 2));
    for (const n of [1, 2, 3, 4, 5]) {
      for (let end = n; end <= ids.length; end++) {
        const a = whole.continuations(ids, end, n);
        const b = grown.continuations(ids, end, n);
        assert.equal(a.total, b.total);
        assert.deepEqual([...a.counts].sort(), [...b.counts].sort());
      }
    }
  });

  it('removed and evicted documents stop counting; pinned ones stay', () => {
    const index = new NGramIndex({ lengths: [1], maxHistoryTokens: 10 });
    index.setDocument('live', [1, 2, 1, 2], { pinned: true });
    index.setDocument('old', [1, 3, 1, 3]);
    assert.equal(index.continuations([1], 1, 1).total, 4);
    index.setDocument('new', [1, 4, 1, 4]); // 12 tokens > 10: 'old' goes, 'live' is pinned
    assert.equal(index.getDocument('old'), undefined);
    assert.deepEqual([...index.continuations([1], 1, 1).counts].sort(), [[2, 2], [4, 2]]);
    index.removeDocument('new');
    assert.deepEqual([...index.continuations([1], 1, 1).counts], [[2, 2]]);
  });

  it('compacts after many removals without losing live entries', () => {
    const index = new NGramIndex({ lengths: [1, 2] });
    index.setDocument('keep', [1, 2, 3]);
    for (let i = 0; i < 50; i++) index.setDocument(`tmp${i % 3}`, Array.from({ length: 200 }, (_, j) => (j % 7) + 10));
    for (let i = 0; i < 3; i++) index.removeDocument(`tmp${i}`);
    assert.deepEqual([...index.continuations([1], 1, 1).counts], [[2, 1]]);
    assert.equal(index.continuations([10], 1, 1).total, 0);
  });
});

describe('createSharedNGramIndex', () => {
  it('indexes the n-gram orders and CopySpec\'s γ', () => {
    assert.deepEqual(createSharedNGramIndex().lengths, [1, 2, 3, 4, 5]);
    assert.deepEqual(createSharedNGramIndex(8).lengths, [1, 2, 3, 4, 5, 8]);
    // A HistorySink for DocumentHistory: setDocument(key, ids) / removeDocument(key).
    const index = createSharedNGramIndex();
    const tok = new FakeTokenizer();
    index.setDocument('file:///a.ts', tok.encode('abab'));
    assert.deepEqual([...index.continuations([97], 1, 1).counts], [[98, 2]]);
    index.removeDocument('file:///a.ts');
    assert.equal(index.continuations([97], 1, 1).total, 0);
  });
});
