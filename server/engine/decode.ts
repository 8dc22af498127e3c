// The decode loop: prefill with KV reuse, then one loop that (optionally) drafts, runs
// [last token, draft…] in one forward pass, verifies the draft position by position, appends the
// chosen tokens, checks the stopping criteria after every token and cuts rejected positions from
// the KV cache. Without drafters every pass is a single token and this is plain decoding.
import { Detokenizer } from './detokenizer';
import type { Drafter } from './drafter';
import { logitsRow, type CausalLM, type Logits, type TokenizerLike } from './model';
import { prefillWithReuse } from './prefill';
import type { LogitsProcessor } from './processors';
import type { Rng } from './rng';
import { argmax, distribution, isGreedy, residual, sampleIndex, type SamplingParams } from './sampler';
import { DraftScheduler, type SpeculationOptions, type SpeculationSummary } from './speculation';
import { checkStop, finishText, stopTokens, type StopCriterion, type StopDecision, type StopReason } from './stopping';
import type { Constraint } from './constraint';
import { endWhereAllowed } from './constraint-end';

export interface DecodeRequest {
  /** Prompt ids (non-empty). */
  prompt: readonly number[];
  /** Generated tokens at most; 0 = prefill only (warms the KV cache for the next request). */
  maxTokens: number;
  sampling: SamplingParams;
  rng: Rng;
  /** Checked in order after every token, after the tokenizer's stop ids; fresh objects per
   * request (some keep state). */
  stops: readonly StopCriterion[];
  processors?: readonly LogitsProcessor[];
  /** Checked between prefill chunks and before every forward pass. */
  signal?: AbortSignal;
  /** ms; defaults to performance.now. */
  clock?: () => number;
  /** Prefill tokens per forward pass. */
  prefillChunk?: number;
  /** Drafters in priority order; none = plain decoding. */
  drafters?: readonly Drafter[];
  speculation?: SpeculationOptions;
  /** Grammar constraints and monitors (combine several with `intersect`). */
  constraint?: Constraint;
}

export interface DecodeStats {
  /** Generated ids (may run past the trimmed text: a stop criterion can drop text). */
  tokens: number[];
  promptTokens: number;
  /** Prompt tokens whose KV came from the cache. */
  reusedTokens: number;
  /** Forward passes: prefill chunks + decode passes. */
  nForward: number;
  nForwardDecode: number;
  tPrefillMs: number;
  tDecodeMs: number;
  tTotalMs: number;
  speculation?: SpeculationSummary;
  /** Characters the constraint's end rule cut off: decoding ended where the constraint does not allow it. */
  nCutChars?: number;
  /** Tokens the finishing step added to close what the completion left open (finishCompletion). */
  nFinishTokens?: number;
}

export type DecodeOutcome =
  | ({ kind: 'done'; text: string; stopReason: StopReason } & DecodeStats)
  | ({ kind: 'cancelled'; text: string } & DecodeStats)
  | { kind: 'error'; message: string };

export async function decode(lm: CausalLM, tok: TokenizerLike, req: DecodeRequest): Promise<DecodeOutcome> {
  const clock = req.clock ?? (() => performance.now());
  const tStartMs = clock();
  if (req.prompt.length === 0) return { kind: 'error', message: 'empty prompt' };
  if (req.prompt.length > lm.contextLength) {
    return { kind: 'error', message: `prompt of ${req.prompt.length} tokens exceeds the model's context of ${lm.contextLength}` };
  }
  try {
    const pre = await prefillWithReuse(lm, req.prompt, { signal: req.signal, chunk: req.prefillChunk });
    const tPrefillEndMs = clock();
    const stats: DecodeStats = {
      tokens: [],
      promptTokens: req.prompt.length,
      reusedTokens: pre.reusedTokens,
      nForward: pre.nForward,
      nForwardDecode: 0,
      tPrefillMs: tPrefillEndMs - tStartMs,
      tDecodeMs: 0,
      tTotalMs: 0,
    };
    const scheduler = req.drafters !== undefined && req.drafters.length > 0 ? new DraftScheduler(req.drafters, clock, req.speculation) : undefined;
    const finish = (): DecodeStats => {
      const tEndMs = clock();
      return { ...stats, tDecodeMs: tEndMs - tPrefillEndMs, tTotalMs: tEndMs - tStartMs, ...(scheduler ? { speculation: scheduler.summary() } : {}) };
    };
    if (pre.kind === 'cancelled') return { kind: 'cancelled', text: '', ...finish() };
    if (req.maxTokens <= 0) return { kind: 'done', text: '', stopReason: 'max-tokens', ...finish() };
    return await generate(lm, tok, req, pre.logits, stats, scheduler, clock, finish);
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}

async function generate(
  lm: CausalLM,
  tok: TokenizerLike,
  req: DecodeRequest,
  prefillLogits: Logits,
  stats: DecodeStats,
  scheduler: DraftScheduler | undefined,
  clock: () => number,
  finish: () => DecodeStats,
): Promise<DecodeOutcome> {
  // Padded embedding rows beyond the tokenizer's vocabulary are never candidates.
  const nVocab = Math.min(lm.vocabSize, tok.vocabSize);
  const sequence = [...req.prompt];
  const detok = new Detokenizer(tok);
  const stops = [stopTokens(tok.stopIds), ...req.stops];
  scheduler?.begin(req.prompt);

  const constraint = req.constraint;
  const choose = (row: Float32Array, draftToken: number | undefined): number => {
    const processed = processRow(row, req.processors, sequence);
    if (constraint !== undefined) return chooseConstrained(processed, constraint, req, nVocab, tok.stopIds);
    if (isGreedy(req.sampling)) return argmax(processed, nVocab);
    const p = distribution(processed, req.sampling, nVocab);
    if (draftToken === undefined) return sampleIndex(p, req.rng);
    // Speculative sampling with a deterministic drafter (q one-hot): accept with p(draft),
    // otherwise draw from the residual p without the draft token. Output law is unchanged.
    if (req.rng.next() < (p[draftToken] ?? 0)) return draftToken;
    const rest = residual(p, draftToken);
    return rest === undefined ? draftToken : sampleIndex(rest, req.rng);
  };

  // Appends a chosen token and asks the stopping criteria.
  const commit = (token: number): StopDecision | undefined => {
    sequence.push(token);
    stats.tokens.push(token);
    constraint?.advance(token);
    const nNewChars = detok.push(token).length;
    const decision = checkStop(stops, { tokens: stats.tokens, text: detok.text, nNewChars, nowMs: clock() });
    if (decision !== undefined) return decision;
    if (constraint?.shouldStop?.() === true) return { reason: 'constraint', keepChars: detok.text.length };
    if (stats.tokens.length >= req.maxTokens) return { reason: 'max-tokens', keepChars: detok.text.length };
    if (sequence.length >= lm.contextLength) return { reason: 'context-full', keepChars: detok.text.length };
    return undefined;
  };

  let logits = prefillLogits;
  let draft: readonly number[] = [];
  let proposal: ReturnType<DraftScheduler['propose']>;
  // Cache length before the last forward ran [last, …draft]; only set once decoding passes run.
  let cachedBefore = -1;
  let stop: StopDecision | undefined;
  while (true) {
    // logits rows [first … first + draft.length]: row `first + i` predicts the token after
    // draft[i - 1] (i = 0: after the last committed token).
    const first = logits.nRows - 1 - draft.length;
    let nAccepted = 0;
    for (let i = 0; i <= draft.length && stop === undefined; i++) {
      // A monitor may need an answer from static analysis before this position is decided.
      const waiting = constraint?.pending?.();
      if (waiting !== undefined) await waiting;
      const token = choose(logitsRow(logits, first + i), draft[i]);
      if (token === endHere || token === finishHere) {
        stop = { reason: token === endHere ? 'constraint' : 'stop-token', keepChars: detok.text.length };
        break;
      }
      const accepted = i < draft.length && token === draft[i];
      if (accepted) nAccepted++;
      stop = commit(token);
      if (!accepted) break;
    }
    // Keep [last, accepted draft…] in the cache; the rejected tail never happened.
    if (cachedBefore >= 0) lm.truncate(cachedBefore + 1 + nAccepted);
    if (proposal !== undefined) scheduler?.feedback(proposal, nAccepted, sequence.length);
    if (stop !== undefined) break;
    if (req.signal?.aborted === true) {
      stop = { reason: 'cancelled', keepChars: detok.text.length };
      break;
    }
    // Room for the draft: the token budget and the context window (the bonus token needs no room).
    const nRoom = Math.min(req.maxTokens - stats.tokens.length - 1, lm.contextLength - sequence.length - 1);
    proposal = scheduler?.propose(sequence, nRoom);
    draft = constraint !== undefined && proposal !== undefined ? filterDraft(proposal.tokens, constraint) : (proposal?.tokens ?? []);
    cachedBefore = lm.cached.length;
    const memory = req.speculation?.memory;
    const tPassMs = memory !== undefined ? clock() : 0;
    logits = await lm.forward([sequence[sequence.length - 1] as number, ...draft]);
    memory?.recordPass(1 + draft.length, clock() - tPassMs);
    stats.nForward++;
    stats.nForwardDecode++;
  }

  const text = detok.text.slice(0, stop.keepChars);
  if (stop.reason === 'cancelled') return { kind: 'cancelled', text, ...finish() };
  const kept = finishText(stops, text);
  if (constraint === undefined) return { kind: 'done', text: kept, stopReason: stop.reason, ...finish() };
  // The stopping criteria, the budget or the context may have ended it where the constraint does
  // not allow: first a few tokens that close what is open, else the end rule cuts it back.
  const finished = await finishCompletion(lm, tok, req, constraint, sequence, stats, kept, nVocab);
  if (finished !== undefined) return { kind: 'done', text: finished, stopReason: stop.reason, ...finish() };
  const allowed = endWhereAllowed(constraint, tok, stats.tokens, kept);
  const nCutChars = kept.length - allowed.length;
  return { kind: 'done', text: allowed, stopReason: stop.reason, ...finish(), ...(nCutChars > 0 ? { nCutChars } : {}) };
}

/** chooseConstrained's answer when the constraint ends the completion instead. */
const endHere = -1;
/** chooseConstrained's answer when the model chose to end where the constraint does not allow it: finish there. */
const finishHere = -2;

const utf8 = new TextEncoder();

/** Most tokens the finishing step adds. */
const maxFinishTokens = 8;
/** Places (the end, then earlier token ends) the finishing step tries before it gives up. */
const maxFinishAttempts = 3;

/**
 * The finishing step. Decoding ended at `kept` where the constraint does not allow the completion
 * to end (a line limit with a bracket open, the token budget inside a string, the model choosing
 * to stop there). Instead of cutting back to the last place it may end — often nothing, when the
 * cursor is inside a bracket the rest of the line has to close — the model continues for at most
 * `maxFinishTokens` greedy tokens chosen among those the constraint's `finishMask` allows (they
 * only close), until the constraint may end. When that fails at the end, it is tried again from
 * earlier token ends where one such token ends the completion at once (`"key": {` where the model
 * wrote a string value but the suffix closes an object), at most `maxFinishAttempts` places in
 * all, none before the last place where the completion may end as it is. Returns the finished
 * text, or undefined (state restored: the constraint advanced over `stats.tokens`) when nothing
 * finished, or when `kept` ends inside a token and its rest does not encode back to the same
 * bytes.
 */
async function finishCompletion(
  lm: CausalLM,
  tok: TokenizerLike,
  req: DecodeRequest,
  constraint: Constraint,
  sequence: number[],
  stats: DecodeStats,
  kept: string,
  nVocab: number,
): Promise<string | undefined> {
  if (constraint.finishMask === undefined || req.signal?.aborted === true) return undefined;
  const tokens = stats.tokens;
  // The most tokens whose text `kept` starts with; the rest of `kept` (a criterion cut a token
  // short: `]` of a `]\n` token) is encoded again.
  const detok = new Detokenizer(tok);
  let n = 0;
  let covered = '';
  for (let i = 0; i < tokens.length; i++) {
    detok.push(tokens[i] as number);
    if (detok.text.length > kept.length || !kept.startsWith(detok.text)) break;
    n = i + 1;
    covered = detok.text;
  }
  const tail = kept.slice(covered.length);
  const tailIds = tail === '' ? [] : tok.encode(tail);
  let nTailBytes = 0;
  for (const id of tailIds) nTailBytes += tok.tokenBytes(id).length;
  if (nTailBytes !== utf8.encode(tail).length) return undefined;
  if (req.prompt.length + n < 1 || lm.cached.length < req.prompt.length + n - 1) return undefined;
  constraint.rollback(tokens.length - n);
  // The constraint is advanced over tokens[0, at); `restore` gives it all of `tokens` back.
  let at = n;
  const restore = (): undefined => {
    for (let i = at; i < tokens.length; i++) constraint.advance(tokens[i] as number);
    return undefined;
  };
  /** Feeds `ids` (each checked) and runs `body`; the constraint is back where it was afterwards. */
  const probe = <T>(ids: readonly number[], body: () => T): T | undefined => {
    let k = 0;
    try {
      for (const id of ids) {
        if (!constraint.check(id)) return undefined;
        constraint.advance(id);
        k++;
      }
      return body();
    } finally {
      constraint.rollback(k);
    }
  };
  // `kept` may end as it is (its rest is a token the end rule reads the same way).
  if (probe(tailIds, () => constraint.canStop()) === true) return restore();
  let nAttempts = 0;
  /** The tokens that may finish here (`oneStep`: only those that end it at once); undefined when there is none. */
  const finishable = (oneStep: boolean): Uint8Array | undefined => {
    const allowed = new Uint8Array(lm.vocabSize);
    if (constraint.finishMask?.(allowed) !== true) return undefined;
    if (!oneStep) return allowed;
    let any = false;
    for (let id = 0; id < nVocab; id++) {
      if (allowed[id] !== 1) continue;
      constraint.advance(id);
      const stops = constraint.canStop();
      constraint.rollback(1);
      if (stops) any = true;
      else allowed[id] = 0;
    }
    return any ? allowed : undefined;
  };
  /**
   * Finishing from tokens[0, b) + tail, where some token may finish (at the end), or one ends it
   * at once (earlier places); the finished text, or undefined with the constraint where it was.
   */
  const tryAt = async (b: number, tail: readonly number[]): Promise<string | undefined> => {
    // Earlier places start with a token that ends the completion at once.
    let first = probe(tail, () => finishable(b < n));
    if (first === undefined) return undefined;
    nAttempts++;
    const added: number[] = [];
    for (const id of tail) {
      constraint.advance(id);
      added.push(id);
    }
    const base = req.prompt.length + b;
    const seq = [...sequence.slice(0, base), ...tail];
    const finishing = new Detokenizer(tok);
    for (const id of seq.slice(req.prompt.length)) finishing.push(id);
    lm.truncate(base - 1);
    let feed = [seq[base - 1] as number, ...tail];
    for (let step = 0; step < maxFinishTokens; step++) {
      const logits = await lm.forward(feed);
      stats.nForward++;
      stats.nForwardDecode++;
      const row = processRow(logitsRow(logits, logits.nRows - 1), req.processors, seq);
      let allowed = first;
      first = undefined;
      if (allowed === undefined) {
        allowed = new Uint8Array(row.length);
        if (constraint.finishMask?.(allowed) !== true) break;
      }
      let best = -1;
      for (let id = 0; id < nVocab; id++) if (allowed[id] === 1 && (best < 0 || (row[id] as number) > (row[best] as number))) best = id;
      if (best < 0) break;
      constraint.advance(best);
      added.push(best);
      seq.push(best);
      finishing.push(best);
      feed = [best];
      if (constraint.canStop()) {
        stats.tokens = [...tokens.slice(0, b), ...added];
        stats.nFinishTokens = added.length - tail.length;
        return finishing.text;
      }
    }
    constraint.rollback(added.length);
    return undefined;
  };
  // At the end first, then back token by token, until a place where the completion may end as it
  // is (the end rule cuts back to there: nothing shorter is worth finishing).
  const atEnd = await tryAt(n, tailIds);
  if (atEnd !== undefined) return atEnd;
  while (nAttempts < maxFinishAttempts && at > 0 && !constraint.canStop()) {
    constraint.rollback(1);
    at--;
    const earlier = await tryAt(at, []);
    if (earlier !== undefined) return earlier;
  }
  return restore();
}

/**
 * The next token under a constraint: choose from the unconstrained row first and build the mask
 * only when the constraint rejects that token. For sampling this is exact: drawing from p and,
 * on rejection, from p restricted to the allowed set gives p(t)/Z for every allowed t. With a
 * constraint the draft token does not bias the choice; the loop accepts a draft token iff it
 * equals the choice, which keeps speculative decoding lossless. A rejection may instead end the
 * completion (`endHere`): the model closed what the text after the cursor closes (`shouldStop`)
 * at a place where it may end.
 */
function chooseConstrained(unbiased: Float32Array, constraint: Constraint, req: DecodeRequest, nVocab: number, stopIds: ReadonlySet<number>): number {
  const pick = (r: Float32Array): number => (isGreedy(req.sampling) ? argmax(r, nVocab) : sampleIndex(distribution(r, req.sampling, nVocab), req.rng));
  const row = biased(unbiased, constraint.bias?.());
  const token = pick(row);
  if (constraint.check(token)) return token;
  if (constraint.shouldStop?.() === true && constraint.canStop()) return endHere;
  // The model chose to end here, where the constraint does not allow it: close what is open.
  if (stopIds.has(token) && constraint.finishMask !== undefined) return finishHere;
  const allowed = new Uint8Array(row.length);
  // The constraint could not decide in its time budget: this step is unconstrained.
  if (!constraint.mask(allowed)) return token;
  const masked = Float32Array.from(row);
  let nAllowed = 0;
  for (let i = 0; i < masked.length; i++) {
    if (allowed[i] === 0) masked[i] = -Infinity;
    else if (i < nVocab) nAllowed++;
  }
  // Nothing allowed is a constraint bug; never stall the completion on it.
  return nAllowed === 0 ? token : pick(masked);
}

/** The row with the constraint's bias added (a copy), or the row itself when there is none. */
function biased(row: Float32Array, bias: ReadonlyMap<number, number> | undefined): Float32Array {
  if (bias === undefined || bias.size === 0) return row;
  const out = Float32Array.from(row);
  for (const [id, v] of bias) if (id >= 0 && id < out.length) out[id] = (out[id] as number) + v;
  return out;
}

/** The longest prefix of a draft the constraint accepts; its state is restored afterwards. */
function filterDraft(draft: readonly number[], constraint: Constraint): readonly number[] {
  let n = 0;
  for (const token of draft) {
    // An answer still pending (a monitor query) cannot be judged synchronously: cut the draft here.
    if (constraint.pending?.() !== undefined || !(constraint.checkDraft !== undefined ? constraint.checkDraft(token) : constraint.check(token))) break;
    constraint.advance(token);
    n++;
  }
  constraint.rollback(n);
  return n === draft.length ? draft : draft.slice(0, n);
}

/** A private copy of the row with the processors applied; the row itself when there are none. */
function processRow(row: Float32Array, processors: readonly LogitsProcessor[] | undefined, sequence: readonly number[]): Float32Array {
  if (processors === undefined || processors.length === 0) return row;
  const copy = Float32Array.from(row);
  for (const p of processors) p.process(copy, sequence);
  return copy;
}
