// Choosing the next token from a logits row: greedy argmax, or temperature + top-p sampling from
// the injected RNG. The probability helpers (`distribution`, `residual`) are shared with
// speculative verification, which needs p(token) and the residual distribution after a rejection.
import type { Rng } from './rng';

export interface SamplingParams {
  /** 0 (or below) = greedy. */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 keeps every token. */
  topP: number;
}

export function isGreedy(params: SamplingParams): boolean {
  return !(params.temperature > 0);
}

/** Index of the largest value among the first `n` entries; the lowest index wins ties, NaN never wins. */
export function argmax(row: ArrayLike<number>, n: number = row.length): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = row[i] as number;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** softmax(row / temperature) over the first `n` entries, in float64. -Infinity logits get 0. */
export function softmax(row: ArrayLike<number>, temperature: number, n: number = row.length): Float64Array {
  const probs = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = row[i] as number;
    if (v > max) max = v;
  }
  if (max === -Infinity) return probs;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = row[i] as number;
    const e = v === -Infinity || Number.isNaN(v) ? 0 : Math.exp((v - max) / temperature);
    probs[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) probs[i] = (probs[i] as number) / sum;
  return probs;
}

/**
 * Keeps the smallest set of most probable tokens whose mass reaches `topP` (ties broken by lower
 * id), zeroes the rest and renormalises, in place. Tokens below ε = (1 - topP) / (2n) together
 * weigh less than 1 - topP, so the nucleus never needs them: only the rest gets sorted.
 */
export function applyTopP(probs: Float64Array, topP: number): Float64Array {
  if (!(topP < 1)) return probs;
  const n = probs.length;
  const epsilon = (1 - topP) / (2 * n);
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if ((probs[i] as number) >= epsilon && (probs[i] as number) > 0) candidates.push(i);
  candidates.sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
  const keep = new Uint8Array(n);
  let mass = 0;
  for (const id of candidates) {
    keep[id] = 1;
    mass += probs[id] as number;
    if (mass >= topP) break;
  }
  for (let i = 0; i < n; i++) probs[i] = keep[i] === 1 ? (probs[i] as number) / mass : 0;
  return probs;
}

/** One-hot distribution on `id`. */
export function oneHot(n: number, id: number): Float64Array {
  const probs = new Float64Array(n);
  probs[id] = 1;
  return probs;
}

/**
 * The distribution the sampler draws from for this row: one-hot on the argmax when greedy,
 * otherwise softmax at the temperature, restricted to the top-p nucleus. `n` limits the ids
 * (logits rows may be wider than the tokenizer's vocabulary).
 */
export function distribution(row: ArrayLike<number>, params: SamplingParams, n: number = row.length): Float64Array {
  if (isGreedy(params)) return oneHot(n, argmax(row, n));
  return applyTopP(softmax(row, params.temperature, n), params.topP);
}

/** Draws an index from `probs` (sums to 1 up to rounding). Falls back to the last positive entry. */
export function sampleIndex(probs: Float64Array, rng: Rng): number {
  const u = rng.next();
  let cumulative = 0;
  let lastPositive = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    if (p <= 0) continue;
    cumulative += p;
    lastPositive = i;
    if (u < cumulative) return i;
  }
  return lastPositive;
}

/**
 * The residual after rejecting a deterministic draft token: p with `rejected` removed,
 * renormalised — max(0, p - q) / Σ for a one-hot q. Undefined when nothing else has mass.
 */
export function residual(probs: Float64Array, rejected: number): Float64Array | undefined {
  const rest = Float64Array.from(probs);
  rest[rejected] = 0;
  let mass = 0;
  for (let i = 0; i < rest.length; i++) mass += rest[i] as number;
  if (!(mass > 0)) return undefined;
  for (let i = 0; i < rest.length; i++) rest[i] = (rest[i] as number) / mass;
  return rest;
}

/** Picks the next token from a (processed) logits row: argmax when greedy, else a sample. */
export function pickToken(row: ArrayLike<number>, params: SamplingParams, rng: Rng, n: number = row.length): number {
  if (isGreedy(params)) return argmax(row, n);
  return sampleIndex(distribution(row, params, n), rng);
}
