import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../server/engine/rng';
import { applyTopP, argmax, distribution, pickToken, residual, sampleIndex, softmax } from '../../server/engine/sampler';

describe('rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const draw = (seed: number): number[] => {
      const rng = createRng(seed);
      return Array.from({ length: 8 }, () => rng.next());
    };
    assert.deepEqual(draw(1), draw(1));
    assert.notDeepEqual(draw(1), draw(2));
    for (const x of draw(0)) assert.ok(x >= 0 && x < 1);
  });

  it('is roughly uniform', () => {
    const rng = createRng(42);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Math.floor(rng.next() * 10)]!++;
    for (const b of buckets) assert.ok(Math.abs(b - 10_000) < 500, `bucket ${b}`);
  });
});

describe('argmax', () => {
  const cases: [number[], number | undefined, number][] = [
    [[1, 3, 2], undefined, 1],
    [[5, 5, 5], undefined, 0],
    [[1, 7, 7, 2], undefined, 1],
    [[0, 1, 9], 2, 1],
    [[NaN, 1, NaN], undefined, 1],
    [[-Infinity, -Infinity], undefined, 0],
  ];
  for (const [row, n, expected] of cases) {
    it(`${JSON.stringify(row)} n=${n} → ${expected}`, () => assert.equal(argmax(row, n), expected));
  }
});

describe('softmax and top-p', () => {
  it('softmax sums to 1 and respects temperature', () => {
    const p1 = softmax([1, 2, 3], 1);
    const pCold = softmax([1, 2, 3], 0.1);
    assert.ok(Math.abs(p1.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.ok((pCold[2] as number) > 0.99);
    assert.equal(softmax([0, -Infinity], 1)[1], 0);
  });

  it('top-p keeps the smallest nucleus reaching p, renormalised', () => {
    const probs = Float64Array.of(0.5, 0.3, 0.15, 0.05);
    const kept = applyTopP(Float64Array.from(probs), 0.8);
    assert.deepEqual([...kept].map((x) => +x.toFixed(6)), [0.625, 0.375, 0, 0]);
    assert.deepEqual([...applyTopP(Float64Array.from(probs), 1)], [...probs]);
    assert.deepEqual([...applyTopP(Float64Array.from(probs), 0.01)], [1, 0, 0, 0]);
  });

  it('greedy distribution is one-hot on the argmax', () => {
    assert.deepEqual([...distribution([1, 4, 4, 0], { temperature: 0, topP: 1 })], [0, 1, 0, 0]);
  });

  it('residual removes the rejected token', () => {
    assert.deepEqual([...residual(Float64Array.of(0.5, 0.25, 0.25), 0)!], [0, 0.5, 0.5]);
    assert.equal(residual(Float64Array.of(1, 0), 0), undefined);
  });
});

describe('sampling', () => {
  it('same seed, same tokens', () => {
    const row = [0.1, 0.5, 0.2, 0.9, 0.3];
    const run = (seed: number): number[] => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => pickToken(row, { temperature: 1, topP: 0.9 }, rng));
    };
    assert.deepEqual(run(7), run(7));
    assert.notDeepEqual(run(7), run(8));
  });

  it('empirical frequencies match the distribution', () => {
    const probs = Float64Array.of(0.1, 0.6, 0.3);
    const rng = createRng(3);
    const counts = [0, 0, 0];
    const n = 60_000;
    for (let i = 0; i < n; i++) counts[sampleIndex(probs, rng)]!++;
    counts.forEach((c, i) => assert.ok(Math.abs(c / n - (probs[i] as number)) < 0.01, `id ${i}: ${c / n}`));
  });

  it('greedy ignores the rng', () => {
    assert.equal(pickToken([0, 2, 1], { temperature: 0, topP: 1 }, createRng(1)), 1);
  });
});
