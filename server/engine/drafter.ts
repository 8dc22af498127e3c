// Drafters propose tokens that the model will probably generate next; the decode loop verifies
// them in one forward pass and keeps the longest agreeing run (llama.cpp `common/speculative`
// style). A drafter never sees logits and never touches the KV cache.

export interface DrafterStats {
  /** Drafts proposed (non-empty). */
  nDrafts: number;
  /** Tokens proposed over all drafts. */
  nDrafted: number;
  /** Draft tokens the model agreed with. */
  nAccepted: number;
  /** [position] drafts that reached this position / were accepted there. */
  draftedAt: number[];
  acceptedAt: number[];
  /** Time spent inside `draft`, ms. */
  tDraftMs: number;
}

export interface Drafter {
  readonly name: string;
  readonly stats: DrafterStats;
  /** A new request starts from `prompt` (the sequence only grows until the next `begin`). */
  begin(prompt: readonly number[]): void;
  /** Up to `nMax` tokens likely to follow `sequence` (prompt + generated). May be empty. */
  draft(sequence: readonly number[], nMax: number): number[];
  /** The model accepted the first `nAccepted` tokens of the last draft. */
  accept(draft: readonly number[], nAccepted: number): void;
}

export function emptyDrafterStats(): DrafterStats {
  return { nDrafts: 0, nDrafted: 0, nAccepted: 0, draftedAt: [], acceptedAt: [], tDraftMs: 0 };
}

/** Adds one verified draft to `stats`. */
export function recordDraft(stats: DrafterStats, nDrafted: number, nAccepted: number): void {
  stats.nDrafts++;
  stats.nDrafted += nDrafted;
  stats.nAccepted += nAccepted;
  for (let i = 0; i < nDrafted; i++) {
    stats.draftedAt[i] = (stats.draftedAt[i] ?? 0) + 1;
    if (i < nAccepted) stats.acceptedAt[i] = (stats.acceptedAt[i] ?? 0) + 1;
  }
}

export interface DrafterSummary {
  nDrafts: number;
  nDrafted: number;
  nAccepted: number;
  /** Accepted / drafted tokens. */
  acceptanceRate: number;
  /** τ: mean accepted tokens per draft. */
  meanAccepted: number;
  /** [position] acceptance rate at that draft position. */
  acceptanceAt: number[];
  tDraftMs: number;
}

export function summarize(stats: DrafterStats): DrafterSummary {
  return {
    nDrafts: stats.nDrafts,
    nDrafted: stats.nDrafted,
    nAccepted: stats.nAccepted,
    acceptanceRate: stats.nDrafted > 0 ? stats.nAccepted / stats.nDrafted : 0,
    meanAccepted: stats.nDrafts > 0 ? stats.nAccepted / stats.nDrafts : 0,
    acceptanceAt: stats.draftedAt.map((n, i) => (n > 0 ? (stats.acceptedAt[i] ?? 0) / n : 0)),
    tDraftMs: stats.tDraftMs,
  };
}
