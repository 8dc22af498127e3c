// Running statistics over recent completions for the status bar and `specter/stats`.
import type { CompletionStats, StatsResult } from './protocol';

const nWindow = 200;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] ?? 0;
}

export class StatsBook {
  private recent: CompletionStats[] = [];
  private nCompletions = 0;
  private nCancelled = 0;
  private nErrors = 0;
  private nPromptTokens = 0;
  private nReusedTokens = 0;
  private nDrafted = 0;
  private nAccepted = 0;

  recordCompletion(stats: CompletionStats): void {
    this.nCompletions++;
    this.nPromptTokens += stats.promptTokens;
    this.nReusedTokens += stats.reusedTokens;
    this.nDrafted += stats.speculation?.nDrafted ?? 0;
    this.nAccepted += stats.speculation?.nAccepted ?? 0;
    this.recent.push(stats);
    if (this.recent.length > nWindow) this.recent.shift();
  }
  recordCancelled(): void {
    this.nCancelled++;
  }
  recordError(): void {
    this.nErrors++;
  }

  snapshot(nActive = 0): StatsResult {
    const latencies = this.recent.map((s) => s.totalMs).sort((a, b) => a - b);
    const speeds = this.recent.filter((s) => s.generatedTokens > 0).map((s) => s.tokensPerSecond).sort((a, b) => a - b);
    const result: StatsResult = {
      nCompletions: this.nCompletions,
      nCancelled: this.nCancelled,
      nErrors: this.nErrors,
      latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
      tokensPerSecond: { p50: percentile(speeds, 0.5) },
      cacheReuseRate: this.nPromptTokens === 0 ? 0 : this.nReusedTokens / this.nPromptTokens,
      nActive,
      draftAcceptance: this.nDrafted === 0 ? 0 : this.nAccepted / this.nDrafted,
    };
    const last = this.recent[this.recent.length - 1];
    if (last !== undefined) result.last = last;
    return result;
  }
}
