// Context cache: a logits processor that mixes the model's next-token distribution with one read
// off the sequence itself (a cache language model, as in kNN-LM and the n-gram cache models of
// code): every earlier place where the sequence's last tokens occurred votes for the token that
// followed there, a longer match counting more; so may places in other open documents. A small
// model without induction heads cannot copy from its context; this lets it continue a near-copy,
// a name used above, a repeated call.
//
// p(t) = (1 − λ) · p_model(t) + λ · p_cache(t), λ growing with the longest match, applied to the
// row in log space (only the tokens the cache votes for change, up to a constant shift). It is a
// pure function of (row, sequence), so speculative verification sees exactly what plain decoding
// sees, and greedy output stays identical with and without drafting.
import type { NGramIndex } from './ngram';
import type { LogitsProcessor } from './processors';

export interface ContextCacheOptions {
  /** Shortest tail match that votes, tokens (≥ 1). */
  minN: number;
  /** Match length at which λ reaches `weight`, tokens. */
  maxN: number;
  /** Mixture weight λ once the longest match reaches `maxN`; shorter ones get less (see `weightAt`). */
  weight: number;
  /** Per token of match length a vote counts this many times more. */
  growth: number;
}

export const defaultContextCache: ContextCacheOptions = { minN: 2, maxN: 8, weight: 0.7, growth: 3 };

/** λ for a longest match of n tokens: `weight` · (n − minN + 1) / (maxN − minN + 1). */
export function weightAt(options: ContextCacheOptions, n: number): number {
  if (n < options.minN) return 0;
  const span = Math.max(1, options.maxN - options.minN + 1);
  return options.weight * Math.min(1, (n - options.minN + 1) / span);
}

/**
 * Votes from text outside the sequence (other open documents): calls `vote(next, m)` for each
 * place where the sequence's last m tokens occur there followed by `next`. Must not change while
 * a completion decodes (speculative and plain decoding must see the same votes).
 */
export type HistoryVotes = (sequence: readonly number[], vote: (next: number, match: number) => void) => void;

/**
 * Matches are measured up to this many tokens for a vote's weight (λ stops growing at maxN): inside
 * a run (`xxxxxxxx-xxxx`, a row of zeros) many places match the last maxN tokens, and only the
 * longer measure lets the one real copy outvote them.
 */
export const measureLimit = 32;

/**
 * The cache's votes after `sequence` (and from `history`): token → probability, and the longest
 * match (0: none). Only continuations `allowed` passes vote. O(length · measureLimit) worst case.
 */
export function cacheVotes(
  sequence: readonly number[],
  options: ContextCacheOptions,
  allowed: (token: number) => boolean = () => true,
  history?: HistoryVotes,
): { votes: Map<number, number>; longest: number } {
  const votes = new Map<number, number>();
  const length = sequence.length;
  let longest = 0;
  let total = 0;
  const vote = (next: number, m: number): void => {
    if (m < options.minN || !allowed(next)) return;
    const w = Math.pow(options.growth, Math.min(m, measureLimit) - options.minN);
    votes.set(next, (votes.get(next) ?? 0) + w);
    total += w;
    if (m > longest) longest = Math.min(m, measureLimit);
  };
  const last = sequence[length - 1];
  // Occurrence ending at i − 1 (continuation sequence[i]); i < length so it is never the tail itself.
  for (let i = options.minN; i < length; i++) {
    if (sequence[i - 1] !== last) continue;
    let m = 1;
    while (m < measureLimit && i - 1 - m >= 0 && sequence[i - 1 - m] === sequence[length - 1 - m]) m++;
    if (m >= options.minN) vote(sequence[i] as number, m);
  }
  history?.(sequence, vote);
  if (total > 0) for (const [t, w] of votes) votes.set(t, w / total);
  return { votes, longest };
}

export function contextCache(options: ContextCacheOptions = defaultContextCache, history?: HistoryVotes): LogitsProcessor {
  return {
    process(row, sequence) {
      const { votes, longest } = cacheVotes(sequence, options, (t) => t < row.length && row[t] !== -Infinity, history);
      const lambda = weightAt(options, longest);
      if (votes.size === 0 || lambda <= 0) return;
      let max = -Infinity;
      for (let i = 0; i < row.length; i++) if ((row[i] as number) > max) max = row[i] as number;
      let sum = 0;
      for (let i = 0; i < row.length; i++) sum += Math.exp((row[i] as number) - max);
      const lse = max + Math.log(sum);
      // Every row entry implicitly gets + log(1 − λ); subtracting it here keeps the rest unchanged.
      const keep = Math.log(1 - lambda);
      for (const [t, p] of votes) {
        const pModel = Math.exp((row[t] as number) - lse);
        row[t] = lse + Math.log((1 - lambda) * pModel + lambda * p) - keep;
      }
    },
  };
}

/** Occurrences of a sequence's last tokens in other documents that the context cache looks at. */
const historyScan = 64;

/**
 * The context cache's votes from the other open documents in the user-code index: where the
 * sequence's last `window` tokens occur there, what followed, with the match measured backwards.
 * The document being completed (its text is the prompt) and pinned scratch entries are skipped.
 */
export function historyVotes(index: NGramIndex, uri: string): HistoryVotes | undefined {
  const window = index.lengths.includes(4) ? 4 : index.lengths[index.lengths.length - 1];
  if (window === undefined) return undefined;
  return (sequence, vote) => {
    if (sequence.length < window) return;
    for (const { doc, pos } of index.occurrences(sequence, sequence.length, window, historyScan)) {
      if (doc.key === uri || doc.pinned) continue;
      const next = doc.ids[pos + window];
      if (next === undefined) continue;
      let m = window;
      while (m < measureLimit && pos + window - m - 1 >= 0 && sequence.length - m - 1 >= 0 && doc.ids[pos + window - m - 1] === sequence[sequence.length - m - 1]) m++;
      vote(next, m);
    }
  };
}
