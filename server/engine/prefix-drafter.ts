// Drafts what an earlier decode of the same prompt wrote. A parse retry that bans the token at
// position `at` (constraints/ban.ts) writes the same first `at` tokens as the decode before it —
// greedy decoding under the same constraints is deterministic up to the ban — so those tokens
// verify in a few wide passes instead of one pass each. The decode loop still verifies every
// token: the retry's output is exactly what it would be without this drafter.
import { emptyDrafterStats, type Drafter } from './drafter';

export class PrefixDrafter implements Drafter {
  readonly name = 'retry-prefix';
  readonly stats = emptyDrafterStats();
  private start = 0;

  /** `tokens`: what the earlier decode generated, as far as the retry will repeat it. */
  constructor(private readonly tokens: readonly number[]) {}

  begin(prompt: readonly number[]): void {
    this.start = prompt.length;
  }

  draft(sequence: readonly number[], nMax: number): number[] {
    const k = sequence.length - this.start;
    if (k < 0 || k >= this.tokens.length) return [];
    // Only while the retry has followed the earlier decode so far.
    for (let i = 0; i < k; i++) if (sequence[this.start + i] !== this.tokens[i]) return [];
    return this.tokens.slice(k, k + Math.max(0, nMax));
  }

  accept(): void {}
}
