// The context cache (engine/context-cache.ts): which earlier places vote and how much, the mixture
// it writes into a logits row, what the model directory asks for (runtime/context-cache-meta.ts)
// and the setting that picks it (completion-service.ts contextCacheFor).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheVotes, contextCache, defaultContextCache, historyVotes, measureLimit, weightAt, type ContextCacheOptions } from '../../server/engine/context-cache';
import { readContextCacheMeta } from '../../server/runtime/context-cache-meta';
import { contextCacheFor } from '../../server/completion-service';
import { NGramIndex } from '../../server/engine/ngram';
import { decode } from '../../server/engine/decode';
import { createRng } from '../../server/engine/rng';
import { PromptLookupDrafter } from '../../server/engine/prompt-lookup';
import { FakeLM, FakeTokenizer, hash } from './fakes';

const opts: ContextCacheOptions = { minN: 2, maxN: 8, weight: 0.8, growth: 2 };
const obj = (m: Map<number, number>): Record<number, number> => Object.fromEntries([...m].map(([t, p]) => [t, Math.round(p * 1e6) / 1e6]));

describe('cacheVotes: which earlier places vote', () => {
  const distinct = Array.from({ length: 40 }, (_, i) => 100 + i);
  const cases: { name: string; seq: number[]; o?: Partial<ContextCacheOptions>; allowed?: (t: number) => boolean; votes: Record<number, number>; longest: number }[] = [
    { name: 'no earlier occurrence: no votes', seq: [1, 2, 3, 4], votes: {}, longest: 0 },
    { name: 'a match shorter than minN does not vote', seq: [7, 3, 9, 1, 3], votes: {}, longest: 0 },
    { name: 'one occurrence votes for what followed it', seq: [5, 2, 3, 9, 1, 2, 3], votes: { 9: 1 }, longest: 2 },
    { name: 'the match length is measured back to the start of the sequence', seq: [1, 2, 3, 9, 1, 2, 3], votes: { 9: 1 }, longest: 3 },
    { name: 'the tail never matches itself (a repeated token votes for itself only from earlier places)', seq: [4, 4, 4], votes: { 4: 1 }, longest: 2 },
    { name: 'a longer match counts growth^(m − minN) times more', seq: [1, 2, 3, 8, 0, 2, 3, 9, 1, 2, 3], votes: { 8: 2 / 3, 9: 1 / 3 }, longest: 3 },
    { name: 'equal matches split the vote by count', seq: [2, 3, 8, 2, 3, 8, 2, 3, 9, 6, 2, 3], votes: { 8: 2 / 3, 9: 1 / 3 }, longest: 2 },
    { name: 'matches are measured past maxN (up to measureLimit tokens)', seq: [1, 2, 3, 4, 5, 9, 0, 2, 3, 4, 5, 7, 1, 2, 3, 4, 5], o: { maxN: 3 }, votes: { 9: 2 / 3, 7: 1 / 3 }, longest: 5 },
    // A 40-token match and a 34-token one both count as measureLimit: they vote equally.
    { name: `…but no further than measureLimit (${measureLimit})`, seq: [...distinct, 9, 0, ...distinct.slice(6), 7, 5, ...distinct], votes: { 9: 0.5, 7: 0.5 }, longest: measureLimit },
    { name: 'minN 1: a single token votes', seq: [6, 4, 5, 4], o: { minN: 1 }, votes: { 5: 1 }, longest: 1 },
    { name: 'continuations `allowed` rejects do not vote', seq: [2, 3, 8, 2, 3, 9, 2, 3], allowed: (t) => t !== 8, votes: { 9: 1 }, longest: 2 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = cacheVotes(c.seq, { ...opts, ...c.o }, c.allowed);
      assert.deepEqual(obj(r.votes), obj(new Map(Object.entries(c.votes).map(([k, v]) => [Number(k), v]))));
      assert.equal(r.longest, c.longest);
    });
  }

  it('weightAt: nothing below minN, growing linearly to weight at maxN, capped there', () => {
    assert.deepEqual([1, 2, 3, 5, 8, 12].map((n) => Math.round(weightAt(opts, n) * 1e6) / 1e6), [0, 0.114286, 0.228571, 0.457143, 0.8, 0.8]);
  });
});

describe('votes from other documents (HistoryVotes)', () => {
  it('cacheVotes adds them with the same weights, checked by `allowed`, the match capped at measureLimit', () => {
    const history = (_seq: readonly number[], vote: (next: number, match: number) => void): void => {
      vote(7, 3);
      vote(8, 2);
      vote(9, 5);
      vote(6, 1);
      vote(5, measureLimit + 10);
    };
    const r = cacheVotes([1, 2, 3], opts, (t) => t !== 9, history);
    // Weights 2^(m − 2): 7 → 2, 8 → 1, 9 not allowed, 6 below minN, 5 → 2^30.
    const total = 2 + 1 + 2 ** (measureLimit - 2);
    assert.deepEqual(obj(r.votes), obj(new Map([[7, 2 / total], [8, 1 / total], [5, 2 ** (measureLimit - 2) / total]])));
    assert.equal(r.longest, measureLimit);
  });

  it('historyVotes reads an NGramIndex: other documents vote, the document being completed and pinned entries do not', () => {
    const index = new NGramIndex({ lengths: [1, 2, 3, 4, 5] });
    index.setDocument('file:///other.py', [50, 1, 2, 3, 4, 60, 70]);
    index.setDocument('file:///current.py', [1, 2, 3, 4, 61]);
    index.setDocument('superposed:prompt', [1, 2, 3, 4, 62], { pinned: true });
    const votes = historyVotes(index, 'file:///current.py');
    assert.ok(votes);
    const seen: [number, number][] = [];
    votes([9, 50, 1, 2, 3, 4], (next, m) => seen.push([next, m]));
    assert.deepEqual(seen, [[60, 5]], 'one vote, from other.py, its match measured back over 50');
    const p = contextCache(opts, votes);
    const row = new Float32Array(100);
    p.process(row, [9, 50, 1, 2, 3, 4]);
    assert.equal(row.indexOf(Math.max(...row)), 60);
  });
});

describe('contextCache: the mixture it writes into a row', () => {
  const softmax = (row: Float32Array): number[] => {
    const max = Math.max(...row);
    const e = [...row].map((x) => Math.exp(x - max));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  };

  it('softmax of the processed row is (1 − λ)·p_model + λ·p_cache', () => {
    const row = Float32Array.from([1.5, -0.3, 2.2, 0.1, -1, 0.7, 0.2, 0, 0.4, 1.1]);
    const seq = [1, 2, 3, 8, 0, 2, 3, 9, 1, 2, 3];
    const p = softmax(row);
    const out = Float32Array.from(row);
    contextCache(opts).process(out, seq);
    const lambda = weightAt(opts, 3);
    const want = p.map((x, t) => (1 - lambda) * x + lambda * (t === 8 ? 2 / 3 : t === 9 ? 1 / 3 : 0));
    softmax(out).forEach((x, t) => assert.ok(Math.abs(x - (want[t] as number)) < 1e-6, `token ${t}: ${x} vs ${want[t]}`));
  });

  it('a long match makes the copied token the argmax; without one the row is unchanged', () => {
    const row = Float32Array.from([3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const seq = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8];
    const out = Float32Array.from(row);
    contextCache(opts).process(out, seq);
    assert.equal(out.indexOf(Math.max(...out)), 9);
    const untouched = Float32Array.from(row);
    contextCache(opts).process(untouched, [1, 2, 3, 4]);
    assert.deepEqual(untouched, row);
  });

  it('a token masked to −∞ before it stays masked (no vote revives it)', () => {
    const row = Float32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, -Infinity]);
    const out = Float32Array.from(row);
    contextCache(opts).process(out, [1, 2, 3, 9, 1, 2, 3]);
    assert.equal(out[9], -Infinity);
    assert.deepEqual(out, row, 'the only vote went to the masked token: nothing else changes');
  });

  it('speculative greedy decoding with the cache equals plain greedy decoding with it', async () => {
    const tok = new FakeTokenizer();
    // Soft logits from the last two tokens: the cache's votes decide many steps, prompt lookup drafts.
    const lm = new FakeLM({ vocabSize: 256, score: (seq) => Float32Array.from({ length: 256 }, (_, t) => (hash(seq[seq.length - 1] ?? 0, seq[seq.length - 2] ?? 0, t) % 1000) / 400) });
    const prompt = [...'def f(a, b):\n    return a + b\n\ndef g(a, b):\n    ret'].map((c) => c.charCodeAt(0));
    const base = { prompt, maxTokens: 40, sampling: { temperature: 0, topP: 1 }, stops: [] };
    const without = await decode(lm, tok, { ...base, rng: createRng(0) });
    lm.truncate(0);
    Object.assign(base, { processors: [contextCache(opts)] });
    const plain = await decode(lm, tok, { ...base, rng: createRng(0) });
    lm.truncate(0);
    const spec = await decode(lm, tok, { ...base, rng: createRng(0), drafters: [new PromptLookupDrafter()], speculation: { maxDraftTokens: 8 } });
    assert.equal(plain.kind, 'done');
    assert.equal(spec.kind, 'done');
    if (plain.kind !== 'done' || spec.kind !== 'done') return;
    assert.deepEqual(spec.tokens, plain.tokens);
    assert.ok((spec.speculation?.nAccepted ?? 0) > 0, 'something was drafted and accepted');
    assert.ok(without.kind === 'done' && JSON.stringify(without.tokens) !== JSON.stringify(plain.tokens), 'the cache changed the greedy output');
    assert.ok(tok.decode(plain.tokens).startsWith('urn a + b'), tok.decode(plain.tokens));
  });
});

describe('the model directory and the setting', () => {
  const meta = (cc: unknown): Record<string, unknown> => ({ specter: { context_cache: cc } });
  it('readContextCacheMeta: valid metadata, absent metadata, malformed metadata (with a warning naming the field)', () => {
    assert.deepEqual(readContextCacheMeta(meta({ min_n: 2, max_n: 8, weight: 0.8, growth: 2 })), { options: { minN: 2, maxN: 8, weight: 0.8, growth: 2 } });
    assert.deepEqual(readContextCacheMeta({}), {});
    assert.deepEqual(readContextCacheMeta({ specter: {} }), {});
    const bad: [unknown, RegExp][] = [
      [[1, 2], /is not an object/],
      [{ min_n: 2, max_n: 8, weight: 1, growth: 2 }, /weight must be a number in \[0, 0\.99\], got 1/],
      [{ min_n: 2.5, max_n: 8, weight: 0.5, growth: 2 }, /min_n must be an integer/],
      [{ min_n: 4, max_n: 3, weight: 0.5, growth: 2 }, /max_n 3 below min_n 4/],
      [{ min_n: 2, max_n: 8, weight: 0.5 }, /growth must be/],
    ];
    for (const [cc, re] of bad) {
      const r = readContextCacheMeta(meta(cc));
      assert.equal(r.options, undefined);
      assert.match(r.warning ?? '', re);
      assert.match(r.warning ?? '', /specter\.completion\.contextCache/);
    }
  });

  it('contextCacheFor: auto follows the model, on falls back to the defaults, off is off', () => {
    const seq = [1, 2, 3, 9, 1, 2, 3];
    const effect = (p: ReturnType<typeof contextCacheFor>): number | undefined => {
      if (p === undefined) return undefined;
      const row = new Float32Array(10);
      p.process(row, seq);
      return Math.round((row[9] as number) * 1e4) / 1e4;
    };
    const mine: ContextCacheOptions = { minN: 2, maxN: 3, weight: 0.5, growth: 2 };
    assert.equal(contextCacheFor({}, 'auto'), undefined);
    assert.equal(contextCacheFor({ contextCache: mine }, 'off'), undefined);
    assert.equal(effect(contextCacheFor({ contextCache: mine }, 'auto')), effect(contextCache(mine)));
    assert.equal(effect(contextCacheFor({}, 'on')), effect(contextCache(defaultContextCache)));
    assert.notEqual(effect(contextCache(mine)), effect(contextCache(defaultContextCache)));
  });
});
