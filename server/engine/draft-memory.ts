// What speculation has learned across requests: how far each drafter's drafts survive
// verification, and what a verification pass costs by width. A request's first draft from each
// drafter is as long as these two say pays off, instead of the largest draft allowed: a completion
// is often a few tokens, and a wide pass full of a weak drafter's guesses costs more than the
// tokens it saves. Within a request the scheduler's own budget (grow on full acceptance, shrink on
// rejection) takes over from that start.
//
// Nothing here changes what is generated: the decode loop verifies every draft, so only the number
// and width of forward passes depend on it.

/** A drafter's decayed record: drafts that reached position i / had positions 0..i accepted. */
interface Profile {
  reached: number[];
  survived: number[];
}

export interface SpeculationMemoryOptions {
  /**
   * Cost of a pass verifying k draft tokens, relative to a one-token pass, before any pass was
   * timed (and blended with the timings while they are few): 1 + fixed + perToken·k for k ≥ 1.
   */
  priorCost?: { fixed: number; perToken: number };
  /** Survival of draft position i before any draft was verified: priorSurvival^(i+1). */
  priorSurvival?: number;
  /** Weight of the priors, in drafts (acceptance) and passes (cost). */
  priorWeight?: number;
  /** Counts are halved once a drafter's first position has been reached this often (so it follows the workload). */
  halfLife?: number;
  /** Pass-time averaging: weight of a new timing in the running mean (per width). */
  costAlpha?: number;
}

/** Per-model memory of speculation; keep one per loaded model (pass costs belong to it). */
export class SpeculationMemory {
  private readonly profiles = new Map<string, Profile>();
  /** [width] running mean pass time, ms, and how many passes it has seen (capped). */
  private readonly passMs: number[] = [];
  private readonly passN: number[] = [];
  private readonly priorCost: { fixed: number; perToken: number };
  private readonly priorSurvival: number;
  private readonly priorWeight: number;
  private readonly halfLife: number;
  private readonly costAlpha: number;

  constructor(options: SpeculationMemoryOptions = {}) {
    // A one-token pass of a small model on CPU is mostly fixed per-pass work; a second input row
    // costs ~15–20% more, each further one a few percent (BENCHMARKS.md, speculation, session 9).
    this.priorCost = options.priorCost ?? { fixed: 0.15, perToken: 0.035 };
    this.priorSurvival = options.priorSurvival ?? 0.5;
    this.priorWeight = options.priorWeight ?? 4;
    this.halfLife = options.halfLife ?? 400;
    this.costAlpha = options.costAlpha ?? 0.1;
  }

  /** One verified draft of `nDrafted` tokens by `drafter`, of which the first `nAccepted` matched. */
  recordDraft(drafter: string, nDrafted: number, nAccepted: number): void {
    if (nDrafted <= 0) return;
    let p = this.profiles.get(drafter);
    if (p === undefined) {
      p = { reached: [], survived: [] };
      this.profiles.set(drafter, p);
    }
    for (let i = 0; i < nDrafted; i++) {
      p.reached[i] = (p.reached[i] ?? 0) + 1;
      if (i < nAccepted) p.survived[i] = (p.survived[i] ?? 0) + 1;
    }
    if ((p.reached[0] ?? 0) >= this.halfLife) {
      p.reached = p.reached.map((n) => n / 2);
      p.survived = p.survived.map((n) => n / 2);
    }
  }

  /** A forward pass over `nTokens` inputs (1 + draft length) took `ms`. */
  recordPass(nTokens: number, ms: number): void {
    if (!(ms > 0) || !Number.isFinite(ms) || nTokens < 1) return;
    const n = this.passN[nTokens] ?? 0;
    const mean = this.passMs[nTokens];
    // A plain mean over the first passes, then a running one.
    this.passMs[nTokens] = mean === undefined ? ms : mean + (ms - mean) * Math.max(this.costAlpha, 1 / (n + 1));
    this.passN[nTokens] = Math.min(n + 1, 1000);
  }

  /** Estimated P(the first i + 1 tokens of a draft are all accepted), i = 0, 1, …; never rising. */
  survival(drafter: string, nPositions: number): number[] {
    const p = this.profiles.get(drafter);
    const out: number[] = [];
    let prev = 1;
    for (let i = 0; i < nPositions; i++) {
      const prior = this.priorSurvival ** (i + 1);
      const reached = p?.reached[i] ?? 0;
      const survived = p?.survived[i] ?? 0;
      const s = Math.min(prev, (survived + this.priorWeight * prior) / (reached + this.priorWeight));
      out.push(s);
      prev = s;
    }
    return out;
  }

  /**
   * Time of a pass verifying `nDraft` draft tokens, in units of the prior's one-token pass. Widths
   * never timed (with speculation on, few passes are a single token) follow the prior's shape,
   * scaled to the widths that were; timed widths blend their own mean with that.
   */
  passCost(nDraft: number): number {
    const prior = (k: number): number => (k <= 0 ? 1 : 1 + this.priorCost.fixed + this.priorCost.perToken * k);
    let timed = 0;
    let expected = 0;
    for (let w = 1; w < this.passMs.length; w++) {
      const n = this.passN[w] ?? 0;
      if (n === 0) continue;
      timed += n * (this.passMs[w] as number);
      expected += n * prior(w - 1);
    }
    if (expected === 0) return prior(nDraft);
    const msPerUnit = timed / expected;
    const n = this.passN[1 + nDraft] ?? 0;
    const mean = n > 0 ? (this.passMs[1 + nDraft] as number) / msPerUnit : prior(nDraft);
    return (n * mean + this.priorWeight * prior(nDraft)) / (n + this.priorWeight);
  }

  /**
   * The draft length in [1, nMax] with the most tokens per unit of pass cost,
   * (1 + Σ survival) / cost: the length a request's first draft from `drafter` gets.
   */
  startLength(drafter: string, nMax: number): number {
    if (nMax <= 1) return Math.max(1, nMax);
    const s = this.survival(drafter, nMax);
    let best = 1;
    let bestRate = 0;
    let expected = 1;
    for (let k = 1; k <= nMax; k++) {
      expected += s[k - 1] as number;
      const rate = expected / this.passCost(k);
      if (rate > bestRate + 1e-9) {
        bestRate = rate;
        best = k;
      }
    }
    return best;
  }
}
