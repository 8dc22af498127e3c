// Per-workload figures of the speculation benchmark: tokens/s both ways (aggregate and per task),
// speed-up ratios with spread, forward passes per token, acceptance, τ and where tokens came from.
import { fmt, fmtSpread, spread, table, type Spread } from '../report';
import { identical, type SideRun, type TaskRuns } from './measure';

/** Per-task ratios need a few decode steps: one- to three-token completions are timer noise. */
const minTokensForRatio = 4;

export interface WorkloadSummary {
  nTasks: number;
  /** Tasks whose completion was empty on both sides (no statistics). */
  nEmpty: number;
  /** Tasks whose text or tokens differed between speculation on and off, or between repetitions. */
  nMismatch: number;
  mismatchIds: string[];
  /** Generated tokens over all measured tasks and repetitions (the same on both sides). */
  nTokens: number;
  tokensPerSecond: { off: number; on: number };
  /** Aggregate tokens/s on / off. */
  speedup: number;
  perTaskTokensPerSecond: { off: Spread; on: Spread };
  /** Per task (≥ 4 tokens): decode time off / on, summed over repetitions. */
  perTaskSpeedup: Spread;
  /** Per task: whole-completion latency off / on (prefill included). */
  perTaskLatencyRatio: Spread;
  decodeForwardsPerToken: { off: number; on: number };
  nDrafts: number;
  nDrafted: number;
  nAccepted: number;
  acceptanceRate: number;
  /** τ: mean accepted tokens per verified draft. */
  meanAccepted: number;
  /** Share of generated tokens: accepted from each drafter, and the model's own (one per forward pass). */
  tokenShare: Record<string, number>;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export function summarize(runs: readonly TaskRuns[]): WorkloadSummary {
  const mismatched = runs.filter((t) => !identical(t));
  const measured = runs.filter((t) => identical(t) && t.off[0]?.empty === undefined);
  const sides = (pick: (t: TaskRuns) => SideRun[]): SideRun[] => measured.flatMap(pick);
  const on = sides((t) => t.on);
  const off = sides((t) => t.off);
  const nTokens = sum(on.map((s) => s.tokens.length));
  const decodeOn = sum(on.map((s) => s.decodeMs));
  const decodeOff = sum(off.map((s) => s.decodeMs));
  const ratioTasks = measured.filter((t) => (t.off[0]?.tokens.length ?? 0) >= minTokensForRatio);
  const perTaskTps = (pick: (t: TaskRuns) => SideRun[]): Spread => spread(ratioTasks.map((t) => (1000 * sum(pick(t).map((s) => s.tokens.length))) / sum(pick(t).map((s) => s.decodeMs))));
  const drafters = [...new Set(on.flatMap((s) => Object.keys(s.byDrafter)))];
  const counts = (name: string, key: 'nDrafts' | 'nDrafted' | 'nAccepted'): number => sum(on.map((s) => s.byDrafter[name]?.[key] ?? 0));
  const nDrafts = sum(drafters.map((d) => counts(d, 'nDrafts')));
  const nDrafted = sum(drafters.map((d) => counts(d, 'nDrafted')));
  const nAccepted = sum(drafters.map((d) => counts(d, 'nAccepted')));
  const tokenShare: Record<string, number> = {};
  for (const d of drafters) tokenShare[d] = nTokens > 0 ? counts(d, 'nAccepted') / nTokens : 0;
  tokenShare['model'] = nTokens > 0 ? (nTokens - nAccepted) / nTokens : 0;
  return {
    nTasks: runs.length,
    nEmpty: runs.filter((t) => identical(t) && t.off[0]?.empty !== undefined).length,
    nMismatch: mismatched.length,
    mismatchIds: mismatched.map((t) => t.task.id),
    nTokens,
    tokensPerSecond: { off: (1000 * nTokens) / decodeOff, on: (1000 * nTokens) / decodeOn },
    speedup: decodeOff / decodeOn,
    perTaskTokensPerSecond: { off: perTaskTps((t) => t.off), on: perTaskTps((t) => t.on) },
    perTaskSpeedup: spread(ratioTasks.map((t) => sum(t.off.map((s) => s.decodeMs)) / sum(t.on.map((s) => s.decodeMs)))),
    perTaskLatencyRatio: spread(measured.map((t) => sum(t.off.map((s) => s.totalMs)) / sum(t.on.map((s) => s.totalMs)))),
    decodeForwardsPerToken: { off: sum(off.map((s) => s.nDecodeForward)) / nTokens, on: sum(on.map((s) => s.nDecodeForward)) / nTokens },
    nDrafts,
    nDrafted,
    nAccepted,
    acceptanceRate: nDrafted > 0 ? nAccepted / nDrafted : 0,
    meanAccepted: nDrafts > 0 ? nAccepted / nDrafts : 0,
    tokenShare,
  };
}

export interface WorkloadRow {
  name: string;
  /** Goal on the aggregate speed-up, if this row has one. */
  goal?: number;
  s: WorkloadSummary;
}

const pct = (x: number): string => `${fmt(100 * x, 0)}%`;

function goalCell(r: WorkloadRow): string {
  const floor = r.s.speedup >= 0.95 ? '' : ' ✘ below 0.95×';
  if (r.goal === undefined) return floor === '' ? '≥ 0.95× ✔' : floor.trim();
  return `≥ ${r.goal}× ${r.s.speedup >= r.goal ? '✔' : '✘'}${floor}`;
}

export function speedTable(rows: readonly WorkloadRow[]): string {
  return table(
    ['workload', 'tasks (measured / empty)', 'tokens', 'tokens/s plain, per task', 'tokens/s speculative, per task', 'speed-up, all tokens', 'speed-up per task', 'goal', 'latency speed-up per task'],
    rows.map((r) => [
      r.name,
      `${r.s.nTasks - r.s.nEmpty - r.s.nMismatch} / ${r.s.nEmpty}`,
      String(r.s.nTokens),
      fmtSpread(r.s.perTaskTokensPerSecond.off, 0),
      fmtSpread(r.s.perTaskTokensPerSecond.on, 0),
      `**${fmt(r.s.speedup, 2)}×**`,
      `${fmtSpread(r.s.perTaskSpeedup, 2)}× (n = ${r.s.perTaskSpeedup.n})`,
      goalCell(r),
      `${fmtSpread(r.s.perTaskLatencyRatio, 2)}×`,
    ]),
  );
}

export function mechanicsTable(rows: readonly WorkloadRow[]): string {
  const drafters = [...new Set(rows.flatMap((r) => Object.keys(r.s.tokenShare)))].filter((d) => d !== 'model');
  return table(
    ['workload', 'forward passes / token, plain → speculative', 'drafts', 'acceptance', 'τ (accepted / draft)', ...drafters.map((d) => `tokens from ${d}`), 'tokens from the model', 'mismatches on/off'],
    rows.map((r) => [
      r.name,
      `${fmt(r.s.decodeForwardsPerToken.off, 2)} → ${fmt(r.s.decodeForwardsPerToken.on, 2)}`,
      String(r.s.nDrafts),
      pct(r.s.acceptanceRate),
      fmt(r.s.meanAccepted, 2),
      ...drafters.map((d) => pct(r.s.tokenShare[d] ?? 0)),
      pct(r.s.tokenShare['model'] ?? 0),
      r.s.nMismatch === 0 ? '0' : `**${r.s.nMismatch}** (${r.s.mismatchIds.slice(0, 5).join(', ')})`,
    ]),
  );
}
