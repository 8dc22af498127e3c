// Prompt-lookup drafting: the longest n-gram at the end of the sequence (n in [minN, maxN]) that
// also occurs earlier proposes the tokens that followed it there. Earliest occurrence on ties;
// the sequence's own ending never matches itself (a match must leave at least one token after it).
import { emptyDrafterStats, type Drafter, type DrafterStats } from './drafter';

export interface PromptLookupOptions {
  /** n-gram bounds, tokens. */
  minN?: number;
  maxN?: number;
}

/** The longest tail n-gram with an earlier occurrence: n and the index right after its earliest occurrence. */
export function findPromptMatch(sequence: readonly number[], minN: number, maxN: number): { n: number; next: number } | undefined {
  const length = sequence.length;
  for (let n = Math.min(maxN, length - 1); n >= minN; n--) {
    const tail = length - n;
    // Occurrence at i needs i + n < length: a continuation token that is not the tail itself.
    for (let i = 0; i + n < length; i++) {
      let k = 0;
      while (k < n && sequence[i + k] === sequence[tail + k]) k++;
      if (k === n) return { n, next: i + n };
    }
  }
  return undefined;
}

export class PromptLookupDrafter implements Drafter {
  readonly name = 'prompt-lookup';
  readonly stats: DrafterStats = emptyDrafterStats();
  private readonly minN: number;
  private readonly maxN: number;

  constructor(options: PromptLookupOptions = {}) {
    this.minN = Math.max(1, options.minN ?? 2);
    this.maxN = Math.max(this.minN, options.maxN ?? 4);
  }

  begin(): void {}

  draft(sequence: readonly number[], nMax: number): number[] {
    const match = findPromptMatch(sequence, this.minN, this.maxN);
    if (match === undefined) return [];
    return sequence.slice(match.next, Math.min(sequence.length, match.next + nMax));
  }

  accept(): void {}
}
