// Superposed decoding ("Superposed Decoding: Multiple Generations from a Single Autoregressive
// Inference Pass"): k drafts for about the cost of one. After the prompt, every step feeds ONE
// position whose input embedding is the superposition Σᵢ wᵢ·E[last token of draft i], wᵢ the
// drafts' normalised probabilities; the one distribution p it returns is shared by all drafts.
// Each draft × each of p's top-m tokens is scored log s = (1 − α)·log p + α·log q, q an n-gram
// model of the user's own code (NGramIndex, shared with CopySpec), and the k best continue.
// KV cache: the prompt's positions are reused across requests (prefillWithReuse); the mixed
// positions appended while decoding are cut off at the end, so the next request's LCP reuse sees
// the prompt only. With k = 1 the single draft's input is its own token: plain greedy decoding.
//
// Models without an inputs_embeds path, or whose token-embedding table cannot be read (no
// model.safetensors, as in the packaged extension), get `branch` mode: the top-k first tokens,
// each continued greedily on its own after cutting the cache back to the prompt — k distinct
// deterministic drafts, prefill shared, but k times the decode steps (no superposition).
import type { CausalLM, Logits, TokenizerLike } from './model';
import { logitsRow } from './model';
import type { NGramIndex } from './ngram';
import type { LogitsProcessor } from './processors';
import { prefillWithReuse } from './prefill';
import type { StopCriterion } from './stopping';
import { DraftState, type DraftStopReason } from './superposed-draft';
import {
  defaultNGramScoring,
  interpolate,
  logSumExp,
  mixingWeights,
  ngramContext,
  ngramLogQ,
  superpose,
  topIndices,
  type EmbeddingTableLike,
  type NGramContext,
  type NGramScoring,
} from './superposed-score';

/** The extra model surface superposed decoding needs (server/runtime's OnnxCausalLM has it). */
export interface EmbeddingLM extends CausalLM {
  /** False when the model directory has no onnx/model_embeds.onnx. */
  readonly hasEmbedsPath: boolean;
  /** Runs positions given as input embeddings, `embeds` [nTokens, hidden]; they join the cache. */
  forwardEmbeds(embeds: Float32Array, nTokens: number): Promise<Logits>;
  /** Token-embedding table [rows, hidden]. */
  embeddingTable(): Promise<{ ok: true; value: EmbeddingTableLike } | { ok: false; error: { message: string } }>;
}

export function isEmbeddingLM(lm: CausalLM): lm is EmbeddingLM {
  const x = lm as Partial<EmbeddingLM>;
  return typeof x.forwardEmbeds === 'function' && typeof x.embeddingTable === 'function' && x.hasEmbedsPath === true;
}

export type SuperposedMode = 'superposed' | 'branch';

export interface SuperposedRequest {
  /** Prompt ids (non-empty). */
  prompt: readonly number[];
  /** Generated tokens at most, per draft. */
  maxTokens: number;
  /** Drafts (≥ 1). */
  k: number;
  /** n-gram interpolation weight α; paper default 0.54. 0 = the model alone. */
  alpha?: number;
  /** Tokens of p considered per draft and step; defaults to k. */
  topM?: number;
  /** The user's code as an n-gram index; without one q is not used (α is ignored). */
  ngram?: NGramIndex;
  scoring?: Partial<NGramScoring>;
  /**
   * Edits of the shared logits row before ranking (e.g. suppressIds for FIM control tokens). The
   * row is shared by every draft, so a processor sees the prompt as `sequence`: processors that
   * depend on the generated tokens belong in `draftProcessors`.
   */
  processors?: readonly LogitsProcessor[];
  /**
   * Edits of each live draft's own copy of the row, after `processors`, given the prompt and that
   * draft's tokens as `sequence` (the context cache: what follows a copy depends on what the draft
   * has copied so far). Each draft then ranks its own top-m tokens; the pass stays shared.
   */
  draftProcessors?: readonly LogitsProcessor[];
  /**
   * Edits of the prefill row only, besides `processors`: they choose among every draft's first
   * token (token healing's mask: the first token must re-spell the prompt's backed-up text).
   */
  firstStep?: readonly LogitsProcessor[];
  /** Fresh stopping criteria for one draft (called once per draft and fork). The tokenizer's
   * stop ids are always checked first. */
  stops: () => StopCriterion[];
  signal?: AbortSignal;
  /** ms; defaults to performance.now. */
  clock?: () => number;
  prefillChunk?: number;
  /**
   * Force a mode; default: superposed when the model has an embeds path and its embedding table
   * can be read, else branch (stats.fallbackReason says why superposed was not used).
   */
  mode?: SuperposedMode;
  /** Feed a lone draft as a superposition of one embedding row too (tests the embeds path). */
  alwaysEmbeds?: boolean;
  /** Called after every step with every draft so far (live ones first): streaming to the panel. */
  onProgress?: (drafts: readonly DraftProgress[]) => void;
}

export interface DraftProgress {
  text: string;
  done: boolean;
}

export interface DraftResult {
  text: string;
  tokens: number[];
  stopReason: DraftStopReason;
  /** Σ log s and Σ log p over the draft's tokens. */
  logScore: number;
  logP: number;
}

export interface SuperposedStats {
  mode: SuperposedMode;
  /**
   * Set when the mode was not forced, the model has an embeds path, and yet branch mode ran
   * because the token-embedding table could not be read (e.g. no model.safetensors).
   */
  fallbackReason?: string;
  promptTokens: number;
  reusedTokens: number;
  /** Forward passes: prefill chunks + decode passes. */
  nForward: number;
  nForwardDecode: number;
  /** Drafts (and candidates) dropped because they were empty or repeated another draft. */
  nDropped: number;
  tPrefillMs: number;
  tDecodeMs: number;
  tTotalMs: number;
}

export type SuperposedOutcome =
  | { kind: 'done'; drafts: DraftResult[]; stats: SuperposedStats }
  | { kind: 'cancelled'; drafts: DraftResult[]; stats: SuperposedStats }
  | { kind: 'error'; message: string };

interface Run {
  lm: CausalLM;
  tok: TokenizerLike;
  req: SuperposedRequest;
  nVocab: number;
  alpha: number;
  scoring: NGramScoring;
  clock: () => number;
  finished: DraftState[];
  /** Candidates that would have finished empty or as a repeat (their slot went to the next one). */
  nSkipped: number;
  nForwardDecode: number;
}

export async function superposedDecode(lm: CausalLM, tok: TokenizerLike, req: SuperposedRequest): Promise<SuperposedOutcome> {
  const clock = req.clock ?? (() => performance.now());
  const tStartMs = clock();
  if (req.prompt.length === 0) return { kind: 'error', message: 'empty prompt' };
  if (req.prompt.length > lm.contextLength) {
    return { kind: 'error', message: `prompt of ${req.prompt.length} tokens exceeds the model's context of ${lm.contextLength}` };
  }
  const k = Math.max(1, Math.floor(req.k));
  const embedding = isEmbeddingLM(lm) ? lm : undefined;
  let mode: SuperposedMode = req.mode ?? (embedding !== undefined ? 'superposed' : 'branch');
  let table: EmbeddingTableLike | undefined;
  let fallbackReason: string | undefined;
  if (mode === 'superposed') {
    if (embedding === undefined) return { kind: 'error', message: 'superposed mode needs a model with an inputs_embeds path (onnx/model_embeds.onnx); run `npm run convert-model -- DIR`' };
    const t = await embedding.embeddingTable();
    if (t.ok) table = t.value;
    else if (req.mode === 'superposed') return { kind: 'error', message: t.error.message };
    else {
      // Not forced: k drafts by branching beat no drafts at all (the packaged extension ships
      // without model.safetensors).
      mode = 'branch';
      fallbackReason = t.error.message;
    }
  }
  const run: Run = {
    lm,
    tok,
    req,
    nVocab: Math.min(lm.vocabSize, tok.vocabSize),
    alpha: req.ngram === undefined ? 0 : (req.alpha ?? 0.54),
    scoring: { ...defaultNGramScoring, ...req.scoring },
    clock,
    finished: [],
    nSkipped: 0,
    nForwardDecode: 0,
  };
  try {
    const pre = await prefillWithReuse(lm, req.prompt, { signal: req.signal, chunk: req.prefillChunk });
    const tPrefillEndMs = clock();
    const stats = (nDropped: number): SuperposedStats => {
      const tEndMs = clock();
      return {
        mode,
        ...(fallbackReason === undefined ? {} : { fallbackReason }),
        promptTokens: req.prompt.length,
        reusedTokens: pre.reusedTokens,
        nForward: pre.nForward + run.nForwardDecode,
        nForwardDecode: run.nForwardDecode,
        nDropped: nDropped + run.nSkipped,
        tPrefillMs: tPrefillEndMs - tStartMs,
        tDecodeMs: tEndMs - tPrefillEndMs,
        tTotalMs: tEndMs - tStartMs,
      };
    };
    if (pre.kind === 'cancelled') return { kind: 'cancelled', drafts: [], stats: stats(0) };
    if (req.ngram !== undefined && run.alpha > 0) req.ngram.setDocument('superposed:prompt', req.prompt, { pinned: true });
    const root = newDraft(run);
    let prefillRow = logitsRow(pre.logits, pre.logits.nRows - 1);
    if (req.firstStep !== undefined && req.firstStep.length > 0) {
      prefillRow = Float32Array.from(prefillRow);
      for (const p of req.firstStep) p.process(prefillRow, req.prompt);
    }
    const loopCancelled =
      mode === 'superposed'
        ? await superposedLoop(run, prefillRow, root, k, table as EmbeddingTableLike)
        : await branchLoop(run, prefillRow, root, k);
    // A stop criterion watching the signal (makeStopCriteria({ signal })) ends the drafts with
    // 'cancelled' before the loop looks at the signal: that is a cancelled request, not k short
    // drafts (returned as 'done', they were cached and shown as if they were whole suggestions).
    const cancelled = loopCancelled || req.signal?.aborted === true || run.finished.some((d) => d.stop?.reason === 'cancelled');
    lm.truncate(req.prompt.length);
    const { drafts, nDropped } = results(run.finished, k);
    return cancelled ? { kind: 'cancelled', drafts, stats: stats(nDropped) } : { kind: 'done', drafts, stats: stats(nDropped) };
  } catch (error) {
    lm.truncate(Math.min(lm.cached.length, req.prompt.length));
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}

function newDraft(run: Run): DraftState {
  return new DraftState(run.tok, run.req.stops, { maxTokens: run.req.maxTokens, promptLength: run.req.prompt.length, contextLength: run.lm.contextLength });
}

/** One shared pass per step for all live drafts. Returns true when cancelled. */
async function superposedLoop(run: Run, prefillRow: Float32Array, root: DraftState, k: number, table: EmbeddingTableLike): Promise<boolean> {
  const lm = run.lm as EmbeddingLM;
  let alive = expand(run, prefillRow, [root], k, firstM(run, k));
  while (alive.length > 0) {
    if (run.req.signal?.aborted === true) return cancelAll(run, alive);
    let logits: Logits;
    const last = alive.map((d) => d.last as number);
    if (alive.length === 1 && run.req.alwaysEmbeds !== true) {
      logits = await lm.forward(last);
    } else {
      const weights = mixingWeights(alive.map((d) => d.logScore));
      logits = await lm.forwardEmbeds(superpose(table, last, weights), 1);
    }
    run.nForwardDecode++;
    const nSlots = k - run.finished.length;
    alive = expand(run, logitsRow(logits, 0), alive, nSlots, alive.length === 1 ? Math.max(nSlots, run.req.topM ?? k) : (run.req.topM ?? k));
  }
  return false;
}

/** Without embeddings: the top-k first tokens, each continued greedily by itself. */
async function branchLoop(run: Run, prefillRow: Float32Array, root: DraftState, k: number): Promise<boolean> {
  // Up to firstM first tokens in rank order; branches are decoded until k distinct drafts exist,
  // so a branch that ends as a repeat of another hands its place to the next first token.
  const m = firstM(run, k);
  const firsts = expand(run, prefillRow, [root], m, m);
  for (let i = 0; i < firsts.length; i++) {
    if (new Set(run.finished.filter((d) => d.finalText() !== '').map((d) => draftKey(d.finalText()))).size >= k) break;
    let alive = [firsts[i] as DraftState];
    run.lm.truncate(run.req.prompt.length);
    while (alive.length > 0) {
      if (run.req.signal?.aborted === true) return cancelAll(run, [...alive, ...firsts.slice(i + 1)]);
      const logits = await run.lm.forward([(alive[0] as DraftState).last as number]);
      run.nForwardDecode++;
      alive = expand(run, logitsRow(logits, 0), alive, 1, 1);
    }
  }
  return false;
}

/** Candidates for the first token: spares replace drafts that would end empty at once. */
function firstM(run: Run, k: number): number {
  return k === 1 ? 1 : Math.max(2 * k, run.req.topM ?? k);
}

function cancelAll(run: Run, alive: readonly DraftState[]): true {
  for (const d of alive) {
    d.stop = { reason: 'cancelled', keepChars: d.text.length };
    run.finished.push(d);
  }
  return true;
}

interface Candidate {
  parent: number;
  token: number;
  logS: number;
  logP: number;
  score: number;
}

/**
 * Ranks every (draft, top-m token of the shared row) pair and keeps the best `nSlots`: forks the
 * parents, commits the tokens, moves stopped drafts to `run.finished`, returns the live ones.
 */
function expand(run: Run, raw: Float32Array, alive: readonly DraftState[], nSlots: number, m: number): DraftState[] {
  const processors = run.req.processors ?? [];
  const sharedRow = processors.length === 0 ? raw : Float32Array.from(raw);
  for (const p of processors) p.process(sharedRow, run.req.prompt);
  // Only the top-m tokens need log p: rank the logits (same order), normalise those few.
  const ranking = (r: Float32Array): { row: Float32Array; logZ: number; top: number[] } => ({ row: r, logZ: logSumExp(r, run.nVocab), top: topIndices(r, m, run.nVocab) });
  const perDraft = run.req.draftProcessors ?? [];
  const shared = perDraft.length === 0 ? ranking(sharedRow) : undefined;
  const rerank = run.alpha > 0 && run.req.ngram !== undefined && alive.length * m > 1;
  const candidates: Candidate[] = [];
  alive.forEach((d, parent) => {
    const { row, logZ, top } = shared ?? ranking(draftRow(run, sharedRow, d, perDraft));
    const ctx = rerank ? draftContext(run, d) : undefined;
    for (const token of top) {
      // A token a processor masked out (fewer allowed tokens than m) is no candidate.
      if (row[token] === -Infinity) continue;
      const logP = (row[token] as number) - logZ;
      const logS = ctx === undefined ? logP : interpolate(logP, ngramLogQ(ctx, token, run.scoring.unsupportedLogQ), run.alpha);
      candidates.push({ parent, token, logS, logP, score: d.logScore + logS });
    }
  });
  // Stable: equal scores keep draft order, then p's order.
  const ranked = candidates.map((c, i) => ({ c, i })).sort((a, b) => b.c.score - a.c.score || a.i - b.i).map((x) => x.c);

  // Best first, each on its own fork of the parent; a candidate that would finish as an empty
  // draft or repeat a finished one gives its slot to the next candidate.
  const nowMs = run.clock();
  const next: DraftState[] = [];
  const finishedTexts = new Set(run.finished.map((d) => draftKey(d.finalText())));
  let nTaken = 0;
  for (const c of ranked) {
    if (nTaken >= nSlots) break;
    const child = (alive[c.parent] as DraftState).fork();
    if (child.commit(c.token, c.logS, c.logP, nowMs) === undefined) {
      next.push(child);
      nTaken++;
      continue;
    }
    const text = child.finalText();
    const key = draftKey(text);
    if (text === '' || finishedTexts.has(key)) {
      run.nSkipped++;
      continue;
    }
    finishedTexts.add(key);
    run.finished.push(child);
    nTaken++;
  }
  run.req.onProgress?.([...next.map((d) => ({ text: d.text, done: false })), ...run.finished.map((d) => ({ text: d.finalText(), done: true }))]);
  return next;
}

/** `row` as the draft's own processors edit it, given the prompt and the draft's tokens. */
function draftRow(run: Run, row: Float32Array, d: DraftState, processors: readonly LogitsProcessor[]): Float32Array {
  const own = Float32Array.from(row);
  const sequence = d.tokens.length === 0 ? run.req.prompt : [...run.req.prompt, ...d.tokens];
  for (const p of processors) p.process(own, sequence);
  return own;
}

function draftContext(run: Run, d: DraftState): NGramContext {
  const need = Math.max(...run.scoring.orders) - 1;
  const fromDraft = d.tokens.slice(-need);
  const fromPrompt = fromDraft.length < need ? run.req.prompt.slice(Math.max(0, run.req.prompt.length - (need - fromDraft.length))) : [];
  return ngramContext(run.req.ngram as NGramIndex, [...fromPrompt, ...fromDraft], run.scoring);
}

/** Best first (mean score per token), without empty texts and repeats. */
/**
 * What makes two drafts the same suggestion: their text with runs of white space folded and the
 * ends trimmed (alternatives that differ only in spacing are not worth a slot). A blank draft keeps
 * its exact text as key: with k = 1 the draft must be greedy's text, white space included.
 */
export function draftKey(text: string): string {
  const folded = text.replace(/\s+/g, ' ').trim();
  return folded === '' ? text : folded;
}

function results(finished: readonly DraftState[], k: number): { drafts: DraftResult[]; nDropped: number } {
  const ranked = [...finished].sort((a, b) => b.logScore / Math.max(1, b.tokens.length) - a.logScore / Math.max(1, a.tokens.length));
  const seen = new Set<string>();
  const drafts: DraftResult[] = [];
  for (const d of ranked) {
    const text = d.finalText();
    const key = draftKey(text);
    if (text === '' || seen.has(key)) continue;
    seen.add(key);
    drafts.push({ text, tokens: [...d.tokens], stopReason: d.stop?.reason ?? 'max-tokens', logScore: d.logScore, logP: d.logP });
  }
  drafts.splice(k);
  return { drafts, nDropped: finished.length - drafts.length };
}
