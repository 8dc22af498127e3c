// The arithmetic of superposed decoding, kept apart so it can be tested on fixed inputs:
// log-sum-exp, the superposition of token embeddings weighted by normalised draft probabilities,
// the interpolated n-gram probability q from the user's own code, and the interpolation
// log s = (1 − α)·log p + α·log q used to rank draft × token candidates.
import type { NGramIndex } from './ngram';

/** log Σ exp(row) over the first `n` entries (-Infinity and NaN entries count as 0). */
export function logSumExp(row: ArrayLike<number>, n: number = row.length): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if ((row[i] as number) > max) max = row[i] as number;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = row[i] as number;
    if (v !== -Infinity && !Number.isNaN(v)) sum += Math.exp(v - max);
  }
  return max + Math.log(sum);
}

/** Indices of the `m` largest values among the first `n`, largest first; lower index wins ties. */
export function topIndices(values: ArrayLike<number>, m: number, n: number = values.length): number[] {
  const top: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    if (top.length === m && v <= (values[top[m - 1] as number] as number)) continue;
    let at = top.length;
    while (at > 0 && v > (values[top[at - 1] as number] as number)) at--;
    top.splice(at, 0, i);
    if (top.length > m) top.pop();
  }
  return top;
}

/** Normalised draft probabilities from their log scores (softmax): the superposition weights. */
export function mixingWeights(logScores: readonly number[]): Float64Array {
  const w = new Float64Array(logScores.length);
  const max = Math.max(...logScores);
  if (!Number.isFinite(max)) {
    w.fill(1 / Math.max(1, logScores.length));
    return w;
  }
  let sum = 0;
  logScores.forEach((s, i) => {
    w[i] = Math.exp(s - max);
    sum += w[i] as number;
  });
  for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) / sum;
  return w;
}

/** A token-embedding table, [nRows, hidden] row-major. */
export interface EmbeddingTableLike {
  readonly data: Float32Array;
  readonly nRows: number;
  readonly hidden: number;
}

/** Σᵢ wᵢ · E[idᵢ]: one input embedding [hidden] standing for all drafts at once. */
export function superpose(table: EmbeddingTableLike, ids: readonly number[], weights: ArrayLike<number>): Float32Array {
  const h = table.hidden;
  const out = new Float32Array(h);
  if (ids.length === 1) {
    // One draft: exactly its row (no rounding through the weighted sum).
    out.set(embeddingRow(table, ids[0] as number));
    return out;
  }
  ids.forEach((id, i) => {
    const w = weights[i] as number;
    const row = embeddingRow(table, id);
    for (let j = 0; j < h; j++) out[j] = (out[j] as number) + w * (row[j] as number);
  });
  return out;
}

export function embeddingRow(table: EmbeddingTableLike, id: number): Float32Array {
  if (id < 0 || id >= table.nRows) throw new RangeError(`token ${id} has no embedding row (table has ${table.nRows})`);
  return table.data.subarray(id * table.hidden, (id + 1) * table.hidden);
}

/** log s = (1 − α)·log p + α·log q. */
export function interpolate(logP: number, logQ: number, alpha: number): number {
  return (1 - alpha) * logP + alpha * logQ;
}

export interface NGramScoring {
  /** n-gram orders used (context = n − 1 tokens); paper: 2–6. */
  orders: readonly number[];
  /** Weight of each order in the mixture, same length as `orders` (higher orders say more). */
  orderWeights: readonly number[];
  /** log q for a token no order supports (the penalty). */
  unsupportedLogQ: number;
  /** Occurrences scanned per context. */
  maxScan: number;
}

export const defaultNGramScoring: NGramScoring = {
  orders: [2, 3, 4, 5, 6],
  orderWeights: [1, 2, 3, 4, 5],
  unsupportedLogQ: Math.log(1e-3),
  maxScan: 256,
};

/** Per order, the followers of a draft's context; computed once per draft and step. */
export type NGramContext = { order: number; weight: number; counts: ReadonlyMap<number, number>; total: number }[];

/** `tail`: the last tokens of prompt + draft (at least max(orders) − 1 when available). */
export function ngramContext(index: NGramIndex, tail: readonly number[], scoring: NGramScoring): NGramContext {
  const ctx: NGramContext = [];
  scoring.orders.forEach((order, i) => {
    const length = order - 1;
    if (length < 1 || length > tail.length || !index.lengths.includes(length)) return;
    const { counts, total } = index.continuations(tail, tail.length, length, scoring.maxScan);
    if (total > 0) ctx.push({ order, weight: scoring.orderWeights[i] ?? 1, counts, total });
  });
  return ctx;
}

/**
 * Interpolated n-gram log probability of `token` after the context: Σₙ λₙ·qₙ / Σₙ λₙ over the
 * orders whose context occurs in the index; `unsupportedLogQ` when no order has seen the token
 * after its context.
 */
export function ngramLogQ(ctx: NGramContext, token: number, unsupportedLogQ: number): number {
  let num = 0;
  let den = 0;
  for (const o of ctx) {
    num += o.weight * ((o.counts.get(token) ?? 0) / o.total);
    den += o.weight;
  }
  return num > 0 ? Math.log(num / den) : unsupportedLogQ;
}
