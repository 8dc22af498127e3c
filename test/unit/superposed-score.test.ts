import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NGramIndex } from '../../server/engine/ngram';
import {
  interpolate,
  logSumExp,
  mixingWeights,
  ngramContext,
  ngramLogQ,
  superpose,
  topIndices,
  defaultNGramScoring,
} from '../../server/engine/superposed-score';

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

describe('superposed arithmetic', () => {
  const cases: number[][] = [[0], [0, 0, 0], [-1.5, 2, 0.25], [-700, 0, 3], [12, 11.9, -40, 3.3], [-Infinity, 1, 2]];
  for (const scores of cases) {
    it(`mixing weights sum to 1 and follow the scores: ${JSON.stringify(scores)}`, () => {
      const w = mixingWeights(scores);
      close(w.reduce((s, x) => s + x, 0), 1, 1e-12);
      for (let i = 0; i < scores.length; i++) {
        for (let j = 0; j < scores.length; j++) if ((scores[i] as number) > (scores[j] as number)) assert.ok((w[i] as number) >= (w[j] as number));
      }
    });
  }

  it('mixing weights are the normalised probabilities', () => {
    const p = [0.5, 0.3, 0.05];
    const w = mixingWeights(p.map(Math.log));
    p.forEach((x, i) => close(w[i] as number, x / 0.85, 1e-12));
  });

  it('superposes embedding rows with the weights; one draft gives its row exactly', () => {
    const table = { data: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.25, -1]), nRows: 4, hidden: 3 };
    assert.deepEqual([...superpose(table, [3], [1])], [0.5, 0.25, -1]);
    const mixed = superpose(table, [0, 1, 3], [0.5, 0.3, 0.2]);
    [0.5 + 0.1, 0.3 + 0.05, -0.2].forEach((v, i) => close(mixed[i] as number, v, 1e-6));
    assert.throws(() => superpose(table, [4], [1]), RangeError);
  });

  it('log-sum-exp normalises the logits and ignores -Infinity', () => {
    close(logSumExp(Float32Array.from([1, 2, -Infinity, 3])), Math.log(Math.E + Math.E ** 2 + Math.E ** 3), 1e-12);
    close(logSumExp([1000, 1000]), 1000 + Math.log(2), 1e-9);
    assert.equal(logSumExp([-Infinity]), -Infinity);
    close(logSumExp([5, 1, 9], 2), Math.log(Math.exp(5) + Math.exp(1)), 1e-12);
  });

  it('top indices: largest first, lower id on ties, NaN never', () => {
    assert.deepEqual(topIndices([0.1, 0.5, NaN, 0.5, 0.9], 3), [4, 1, 3]);
    assert.deepEqual(topIndices([3, 2, 1], 5), [0, 1, 2]);
    assert.deepEqual(topIndices([3, 2, 1, 9], 2, 3), [0, 1]);
  });

  const formula: [number, number, number][] = [[-0.1, -2, 0.54], [-3, -0.5, 0.54], [-1, -1, 0], [-1, -4, 1], [-0.7, Math.log(1e-3), 0.3]];
  for (const [logP, logQ, alpha] of formula) {
    it(`interpolation is (1 − α)·log p + α·log q: ${logP}, ${logQ.toFixed(3)}, α=${alpha}`, () => {
      close(interpolate(logP, logQ, alpha), (1 - alpha) * logP + alpha * logQ, 1e-15);
    });
  }

  it('n-gram q on a fixed history: interpolated orders, penalty without support', () => {
    // History "a b c a b d a b c": after "a b", c twice and d once; after "b", c twice and d once.
    const [a, b, c, d, e] = [1, 2, 3, 4, 5];
    const index = new NGramIndex({ lengths: [1, 2] });
    index.setDocument('doc', [a, b, c, a, b, d, a, b, c]);
    const scoring = { ...defaultNGramScoring, orders: [2, 3], orderWeights: [1, 3] };
    const ctx = ngramContext(index, [a, b], scoring);
    assert.deepEqual(ctx.map((o) => [o.order, o.total]), [[2, 3], [3, 3]]);
    // q(c) = (1·2/3 + 3·2/3) / 4 = 2/3; q(d) = 1/3.
    close(ngramLogQ(ctx, c, -9), Math.log(2 / 3), 1e-12);
    close(ngramLogQ(ctx, d, -9), Math.log(1 / 3), 1e-12);
    assert.equal(ngramLogQ(ctx, e, -9), -9);
    // After "e" nothing is known: every token gets the penalty.
    assert.equal(ngramLogQ(ngramContext(index, [e], scoring), c, -9), -9);
    // The full score of a candidate.
    close(interpolate(Math.log(0.2), ngramLogQ(ctx, d, -9), 0.54), 0.46 * Math.log(0.2) + 0.54 * Math.log(1 / 3), 1e-12);
  });
});
