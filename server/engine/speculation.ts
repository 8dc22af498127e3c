// Which drafter drafts, and how much: drafters are asked in priority order, each with its own
// adaptive budget. A drafter whose drafts keep failing is rested for a while (the rest doubles
// each time), so speculation costs almost nothing when the text does not repeat.
import { CopySpecDrafter } from './copyspec';
import type { SpeculationMemory } from './draft-memory';
import { emptyDrafterStats, recordDraft, summarize, type Drafter, type DrafterStats, type DrafterSummary } from './drafter';
import { TableDrafter, type DraftTable } from './draft-table';
import { PromptLookupDrafter } from './prompt-lookup';
import type { DrafterName } from '../protocol';

export interface DrafterSettings {
  /** Priority order. */
  drafters: readonly DrafterName[];
  /** Prompt-lookup n-gram bounds, tokens. */
  ngramMin: number;
  ngramMax: number;
  /** CopySpec key window γ, tokens. */
  gamma: number;
}

export const defaultDrafterSettings: DrafterSettings = { drafters: ['copyspec', 'prompt-lookup', 'table'], ngramMin: 2, ngramMax: 4, gamma: 4 };

/**
 * Drafters for the settings. Keep them across requests: CopySpec's history (earlier completions,
 * documents fed with `setDocument`) lives in the drafter. `table` drafts only for a model whose
 * directory has a draft table; without one it is left out.
 */
export function createDrafters(settings: DrafterSettings, table?: DraftTable): Drafter[] {
  const out: Drafter[] = [];
  for (const name of settings.drafters) {
    if (name === 'copyspec') out.push(new CopySpecDrafter({ gamma: settings.gamma }));
    else if (name === 'prompt-lookup') out.push(new PromptLookupDrafter({ minN: settings.ngramMin, maxN: settings.ngramMax }));
    else if (table !== undefined) out.push(new TableDrafter(table));
  }
  return out;
}

export interface SpeculationOptions {
  /** Largest draft verified in one forward pass, tokens. */
  maxDraftTokens?: number;
  /** Consecutive fully rejected drafts before a drafter is rested. */
  nMissesBeforeRest?: number;
  /** First and longest rest, in generated tokens. */
  restTokens?: number;
  maxRestTokens?: number;
  /**
   * What earlier requests learned (draft survival per drafter, pass cost by width). With it a
   * request's first draft from each drafter is as long as pays off; without it, maxDraftTokens.
   */
  memory?: SpeculationMemory;
}

export interface Proposal {
  readonly drafter: Drafter;
  readonly tokens: readonly number[];
}

interface Budget {
  nMax: number;
  nMisses: number;
  rest: number;
  /** Not asked again before the sequence reaches this length. */
  restUntil: number;
}

export interface SpeculationSummary {
  nDrafts: number;
  nDrafted: number;
  nAccepted: number;
  acceptanceRate: number;
  meanAccepted: number;
  tDraftMs: number;
  byDrafter: Record<string, DrafterSummary>;
}

export class DraftScheduler {
  private readonly budgets = new Map<Drafter, Budget>();
  /** This request only; the drafters' own `stats` accumulate across requests. */
  private readonly requestStats = new Map<Drafter, DrafterStats>();
  private readonly maxDraft: number;

  constructor(
    private readonly drafters: readonly Drafter[],
    private readonly clock: () => number,
    private readonly options: SpeculationOptions = {},
  ) {
    this.maxDraft = Math.max(1, options.maxDraftTokens ?? 16);
  }

  begin(prompt: readonly number[]): void {
    for (const d of this.drafters) {
      d.begin(prompt);
      const nStart = this.options.memory?.startLength(d.name, this.maxDraft) ?? this.maxDraft;
      this.budgets.set(d, { nMax: nStart, nMisses: 0, rest: this.options.restTokens ?? 4, restUntil: 0 });
      this.requestStats.set(d, emptyDrafterStats());
    }
  }

  /** The first non-empty draft of at most `nRoom` tokens, or undefined. */
  propose(sequence: readonly number[], nRoom: number): Proposal | undefined {
    if (nRoom <= 0) return undefined;
    for (const drafter of this.drafters) {
      const budget = this.budgets.get(drafter);
      if (budget === undefined || sequence.length < budget.restUntil) continue;
      const t0 = this.clock();
      const tokens = drafter.draft(sequence, Math.min(nRoom, budget.nMax)).slice(0, Math.min(nRoom, budget.nMax));
      const tDraftMs = this.clock() - t0;
      drafter.stats.tDraftMs += tDraftMs;
      const mine = this.requestStats.get(drafter);
      if (mine !== undefined) mine.tDraftMs += tDraftMs;
      if (tokens.length > 0) return { drafter, tokens };
    }
    return undefined;
  }

  /** The loop verified `proposal`: its first `nAccepted` tokens matched the model. */
  feedback(proposal: Proposal, nAccepted: number, sequenceLength: number): void {
    const { drafter, tokens } = proposal;
    drafter.accept(tokens, nAccepted);
    recordDraft(drafter.stats, tokens.length, nAccepted);
    this.options.memory?.recordDraft(drafter.name, tokens.length, nAccepted);
    const mine = this.requestStats.get(drafter);
    if (mine !== undefined) recordDraft(mine, tokens.length, nAccepted);
    const budget = this.budgets.get(drafter);
    if (budget === undefined) return;
    // Grow after full acceptance; after a rejection, shrink towards what was useful (a wide
    // verification pass is not free on larger models or GPUs).
    if (nAccepted === tokens.length) budget.nMax = Math.min(this.maxDraft, budget.nMax * 2);
    else if (nAccepted === 0) budget.nMax = Math.max(1, budget.nMax >> 1);
    else budget.nMax = Math.max(1, Math.min(budget.nMax, 2 * (nAccepted + 1)));
    if (nAccepted > 0) {
      budget.nMisses = 0;
      budget.rest = this.options.restTokens ?? 4;
      return;
    }
    budget.nMisses++;
    if (budget.nMisses >= (this.options.nMissesBeforeRest ?? 3)) {
      budget.restUntil = sequenceLength + budget.rest;
      budget.rest = Math.min(this.options.maxRestTokens ?? 64, budget.rest * 2);
      budget.nMisses = 0;
    }
  }

  summary(): SpeculationSummary {
    const byDrafter: Record<string, DrafterSummary> = {};
    let nDrafts = 0;
    let nDrafted = 0;
    let nAccepted = 0;
    let tDraftMs = 0;
    for (const [drafter, stats] of this.requestStats) {
      byDrafter[drafter.name] = summarize(stats);
      nDrafts += stats.nDrafts;
      nDrafted += stats.nDrafted;
      nAccepted += stats.nAccepted;
      tDraftMs += stats.tDraftMs;
    }
    return {
      nDrafts,
      nDrafted,
      nAccepted,
      acceptanceRate: nDrafted > 0 ? nAccepted / nDrafted : 0,
      meanAccepted: nDrafts > 0 ? nAccepted / nDrafts : 0,
      tDraftMs,
      byDrafter,
    };
  }
}
