// The integration surface of multi-draft generation for the completion service (LSP, CLI,
// completions panel): k drafts for a prompt as texts plus the figures the status bar and the
// eval output report. The shared n-gram index of the user's code is created here too.
import type { CompletionStats } from '../protocol';
import type { CausalLM, TokenizerLike } from './model';
import { NGramIndex } from './ngram';
import type { LogitsProcessor } from './processors';
import type { StopCriterion } from './stopping';
import { superposedDecode, type DraftProgress, type DraftResult, type SuperposedMode, type SuperposedStats } from './superposed';

/** Window lengths of the shared index: n-gram contexts of orders 2–6 (1–5 tokens); CopySpec's γ is added. */
export const sharedNGramLengths: readonly number[] = [1, 2, 3, 4, 5];

/**
 * The one index of the user's code (open documents, earlier completions, the live prompt), per
 * tokenizer: superposed ranking reads it, CopySpec copies from it, DocumentHistory feeds it (it
 * is a HistorySink: setDocument / removeDocument by key).
 */
export function createSharedNGramIndex(gamma = 4, maxHistoryTokens = 1 << 18): NGramIndex {
  return new NGramIndex({ lengths: [...sharedNGramLengths, gamma], maxHistoryTokens });
}

/** What completeDrafts needs of a loaded model (server/runtime's LoadedModel has it). */
export interface DraftModel {
  lm: CausalLM;
  tokenizer: TokenizerLike;
}

export interface CompleteDraftsOptions {
  maxTokens: number;
  /** n-gram weight α (0.54 by default); ignored without `ngram`. */
  alpha?: number;
  ngram?: NGramIndex;
  /** Sequence-independent logits edits, e.g. suppressIds(FIM control tokens). */
  processors?: readonly LogitsProcessor[];
  /** Edits of each draft's own row given its tokens (SuperposedRequest.draftProcessors: the context cache). */
  draftProcessors?: readonly LogitsProcessor[];
  /** Edits of the first step's row only (SuperposedRequest.firstStep: token healing). */
  firstStep?: readonly LogitsProcessor[];
  /** Fresh stopping criteria per draft, e.g. () => makeStopCriteria({...}). */
  stops: () => StopCriterion[];
  signal?: AbortSignal;
  /** Streaming: the drafts' texts after every step (for specter/panelProgress). */
  onProgress?: (drafts: readonly DraftProgress[]) => void;
  mode?: SuperposedMode;
  clock?: () => number;
}

/**
 * Figures about one multi-draft completion: CompletionStats' fields (generatedTokens counts the
 * decoded positions, i.e. the longest draft; stopReason is the best draft's), plus the drafts'.
 */
export interface DraftsStats extends Omit<CompletionStats, 'speculation'> {
  mode: SuperposedMode;
  /** Why branch mode ran on a model with an embeds path (SuperposedStats.fallbackReason). */
  fallbackReason?: string;
  nDrafts: number;
  /** Drafts removed as empty or duplicate. */
  nDropped: number;
  /** Tokens over all drafts. */
  draftTokens: number;
}

export type DraftsResult =
  | { kind: 'ok'; texts: string[]; drafts: DraftResult[]; stats: DraftsStats }
  | { kind: 'empty'; reason: string; stats?: DraftsStats }
  | { kind: 'cancelled' }
  | { kind: 'error'; message: string };

export async function completeDrafts(model: DraftModel, promptIds: readonly number[], k: number, options: CompleteDraftsOptions): Promise<DraftsResult> {
  const outcome = await superposedDecode(model.lm, model.tokenizer, {
    prompt: promptIds,
    maxTokens: options.maxTokens,
    k,
    stops: options.stops,
    ...(options.alpha === undefined ? {} : { alpha: options.alpha }),
    ...(options.ngram === undefined ? {} : { ngram: options.ngram }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.processors === undefined ? {} : { processors: options.processors }),
    ...(options.draftProcessors === undefined ? {} : { draftProcessors: options.draftProcessors }),
    ...(options.firstStep === undefined ? {} : { firstStep: options.firstStep }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  if (outcome.kind === 'error') return outcome;
  if (outcome.kind === 'cancelled') return { kind: 'cancelled' };
  const stats = draftsStats(outcome.stats, outcome.drafts);
  if (outcome.drafts.length === 0) return { kind: 'empty', reason: `model produced nothing (${outcome.stats.nDropped} empty or repeated drafts)`, stats };
  return { kind: 'ok', texts: outcome.drafts.map((d) => d.text), drafts: outcome.drafts, stats };
}

function draftsStats(s: SuperposedStats, drafts: readonly DraftResult[]): DraftsStats {
  const generatedTokens = Math.max(0, ...drafts.map((d) => d.tokens.length));
  return {
    totalMs: s.tTotalMs,
    prefillMs: s.tPrefillMs,
    decodeMs: s.tDecodeMs,
    promptTokens: s.promptTokens,
    reusedTokens: s.reusedTokens,
    generatedTokens,
    tokensPerSecond: s.tDecodeMs > 0 ? (1000 * generatedTokens) / s.tDecodeMs : 0,
    nForward: s.nForward,
    stopReason: drafts[0]?.stopReason ?? 'empty',
    mode: s.mode,
    ...(s.fallbackReason === undefined ? {} : { fallbackReason: s.fallbackReason }),
    nDrafts: drafts.length,
    nDropped: s.nDropped,
    draftTokens: drafts.reduce((n, d) => n + d.tokens.length, 0),
  };
}
