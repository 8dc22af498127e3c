// The one completion service behind both the language server and the CLI: settings, model
// acquisition, input guards, prompt building, decoding and statistics. Failures come back as
// typed results; nothing here throws at the caller for an expected situation.
import type { InitializeResult } from 'vscode-languageserver';
import { TextDocumentSyncKind } from 'vscode-languageserver';
import { buildPrompt } from './context/prompt';
import { discoverFimTemplate } from './context/fim';
import { decode, type DecodeOutcome } from './engine/decode';
import { createRng } from './engine/rng';
import { guardInput } from './input-guard';
import type { HostStatus, Log, ModelHost } from './model-host';
import type { LoadedModel } from './runtime/load-model';
import {
  defaultSettings,
  type CompletionStats,
  type PanelCompletionsResult,
  type PanelDraft,
  nothingReason,
  withheldReason,
  type PanelProgressParams,
  type SpecterSettings,
  type StatsResult,
  type StatusParams,
} from './protocol';
import { RequestGate } from './request-gate';
import { parseSettings } from './settings';
import { StatsBook } from './stats';
import { makeStopCriteria, type MultilinePolicy } from './engine/stopping';
import { CopySpecDrafter } from './engine/copyspec';
import type { Drafter } from './engine/drafter';
import { createDrafters } from './engine/speculation';
import { SpeculationMemory } from './engine/draft-memory';
import { PrefixDrafter } from './engine/prefix-drafter';
import { DocumentHistory, type HistorySink } from './history';
import type { NGramIndex } from './engine/ngram';
import { completeDrafts, createSharedNGramIndex, type DraftsResult } from './engine/superposed-drafts';
import { createMonitor, createMonitorSources, usesMember, warmMonitor, type MonitorSource } from './monitor/index';
import { fileURLToPath } from 'node:url';
import { createConstraints, prepareConstraints } from './grammar/index';
import { checkCompletion, cutBack, ParseChecker, tokenEnds, type ParseCheckResult } from './grammar/parse-check';
import { BanConstraint, type Ban } from './engine/constraints/ban';
import { typeCheck, type ErrorsOf } from './monitor/type-check';
import { HealConstraint, healingFor, healingMask, oneTokenHealing, unhealText } from './context/heal';
import { intersect, type Constraint } from './engine/constraint';
import { contextCache, defaultContextCache, historyVotes, type HistoryVotes } from './engine/context-cache';
import type { LogitsProcessor } from './engine/processors';

export interface CompletionRequest {
  uri: string;
  languageId: string;
  prefix: string;
  suffix: string;
  /**
   * 'automatic': asked while the user types (and prefetches): at most one parse retry runs
   * (parseRetryLimit). Undefined or 'invoke': the user asked (Alt+\), or an offline caller
   * (eval, benchmarks): all of specter.constraints.parseRetries.
   */
  trigger?: 'automatic' | 'invoke';
  /**
   * The suffix stops before the document does: a caller with part of a file only (eval and
   * benchmark tasks cut from held-out files). The syntax constraint then does not read the
   * suffix's end as the document's. Editors send whole documents and leave this unset.
   */
  suffixCut?: boolean;
}

export type CompletionResult =
  | { kind: 'ok'; texts: string[]; tokens: number[]; stats: CompletionStats }
  /** `stats` when the model ran and its text was withheld (parse check) or empty. */
  | { kind: 'empty'; reason: string; stats?: CompletionStats }
  | { kind: 'cancelled' };

/** What the type check found on a completion's lines: no error, errors, or no answer in time. */
type TypeCheckOutcome = NonNullable<CompletionStats['typeCheck']>;

/** A completion's text with its tokens. */
interface Checked {
  text: string;
  tokens: number[];
  /** What the parse check found, when it ran. */
  parse?: ParseCheckResult;
}

/**
 * What the type check left of a completion: `check`, what it found on the completion's lines
 * (undefined: no type check applies); `member`, the verified member name the completion starts with.
 */
type TypeChecked = Checked & { check: TypeCheckOutcome | undefined; member?: string };

/** One decode of a completion with its checks. */
type Attempt =
  | { done: false; outcome: Exclude<DecodeOutcome, { kind: 'done' }>; typed?: undefined; cursorMembers?: undefined }
  | { done: true; outcome: Extract<DecodeOutcome, { kind: 'done' }>; parsed: Checked; typed: TypeChecked; cursorMembers: readonly string[] | undefined };

/** Temperature of the decodes a parse retry samples (specter.constraints.parseRetries) when completions are greedy. */
const parseRetryTemperature = 0.6;

/**
 * Parse retries a request may run. While the user types (trigger 'automatic'), at most one: the
 * greedy decode without the token the errors start after, or one sample. The sampled ones after it
 * buy 2.5 validity points for the slowest completions' time (BENCHMARKS.md, constraints, session
 * 11); an explicit request, which the user waits for, runs them all.
 */
export function parseRetryLimit(trigger: CompletionRequest['trigger'], parseRetries: number): number {
  return trigger === 'automatic' ? Math.min(1, parseRetries) : parseRetries;
}

/**
 * The context cache a completion runs with (specter.completion.contextCache): auto = what the model
 * directory asks for (none: off); on = that, else Specter's defaults; off = none. `history` is
 * only asked for when there is a cache (it brings the open documents' index up to date).
 */
export function contextCacheFor(model: Pick<LoadedModel, 'contextCache'>, mode: SpecterSettings['completion']['contextCache'], history?: () => HistoryVotes | undefined): LogitsProcessor | undefined {
  if (mode === 'off') return undefined;
  const options = model.contextCache ?? (mode === 'on' ? defaultContextCache : undefined);
  return options === undefined ? undefined : contextCache(options, history?.());
}

export class CompletionService {
  settings: SpecterSettings = defaultSettings;
  private readonly gate = new RequestGate();
  private readonly book = new StatsBook();
  private hostStatus: HostStatus;
  /** The user's code as an n-gram index for this model (superposed drafts rank with it). */
  private userCode: { model: LoadedModel; copySpec: CopySpecDrafter | undefined; index: NGramIndex; sink: HistorySink } | undefined;
  private lastSkipReason: string | undefined;
  readonly history = new DocumentHistory();
  /** Drafters live as long as the model they serve (CopySpec's history is in token ids). */
  private drafters: { model: LoadedModel; key: string; list: Drafter[] } | undefined;
  /** What speculation learned on this model (draft survival, pass cost); outlives drafter sets. */
  private speculationMemory: { model: LoadedModel; memory: SpeculationMemory } | undefined;
  /**
   * Start each request's drafts at the length the memory says pays off (true), or at the largest
   * allowed, as before the memory (false: for the side-by-side benchmark only).
   */
  learnDraftStart = true;
  /** Static-analysis sources for monitor-guided decoding, built once per server and settings. */
  private monitorSources: { key: string; list: MonitorSource[] } | undefined;
  /** Models whose multi-draft fallback to branch mode was already logged (once per model). */
  private readonly branchFallbackLogged = new WeakSet<LoadedModel>();
  /** specter.constraints.parseCheck: tree-sitter parsers, loaded per language on first use. */
  readonly parseChecker = new ParseChecker((m) => this.log(m));
  /** Workspace trust from the client: no configured executable runs in an untrusted workspace. */
  private trusted = false;
  /** The type check's "no answer" was logged; reset by the next answer. */
  private loggedUnchecked = false;
  /** The editor's typescript.js, from the client's initialization options. */
  private typescriptPath: string | undefined;

  constructor(
    private readonly host: ModelHost,
    private readonly log: Log,
    private readonly publish: (status: StatusParams) => void,
  ) {
    this.hostStatus = host.current;
  }

  initialize(options: unknown): InitializeResult {
    const init = typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {};
    this.settings = parseSettings(init['settings']);
    this.logDraftsChange(defaultSettings, this.settings);
    this.trusted = init['trusted'] === true;
    this.typescriptPath = typeof init['typescriptPath'] === 'string' && init['typescriptPath'] !== '' ? init['typescriptPath'] : undefined;
    return {
      capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental, inlineCompletionProvider: true },
      serverInfo: { name: 'specter', version: '0.1.0' },
    };
  }

  async updateSettings(raw: unknown): Promise<void> {
    // didChangeConfiguration carries { specter: {...} } when the client syncs the section.
    const section = typeof raw === 'object' && raw !== null && 'specter' in raw ? (raw as { specter: unknown }).specter : raw;
    const before = this.settings;
    this.settings = parseSettings(section);
    this.logDraftsChange(before, this.settings);
    this.gate.cancelAll();
    await this.host.configure(this.settings);
  }

  /** One log line when the number of suggestions per completion changes (says which path runs). */
  private logDraftsChange(before: SpecterSettings, after: SpecterSettings): void {
    const k = (s: SpecterSettings): number => (s.drafts.enabled ? s.drafts.count : 1);
    if (k(before) === k(after)) return;
    this.log(k(after) > 1 ? `Multi-draft: ${k(after)} suggestions per completion` : 'Multi-draft off: one suggestion per completion');
  }

  statusParams(status: HostStatus): StatusParams {
    this.hostStatus = status;
    const params: StatusParams = { ...status };
    const last = this.book.snapshot().last;
    if (last !== undefined) params.last = last;
    return params;
  }

  stats(): StatsResult {
    return this.book.snapshot(this.gate.nActive);
  }

  documentChanged(uri: string, text: string): void {
    // A running completion was computed for text that no longer exists.
    this.gate.cancelAll();
    this.history.update(uri, text);
  }

  documentClosed(uri: string): void {
    this.history.remove(uri);
  }

  async shutdown(): Promise<void> {
    this.gate.cancelAll();
    for (const s of this.monitorSources?.list ?? []) s.dispose?.();
    this.monitorSources = undefined;
    await this.host.unload();
  }

  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult> {
    const gated = await this.gate.run(signal, (inner) => this.completeNow(request, inner));
    if (gated.kind === 'superseded') {
      this.book.recordCancelled();
      return { kind: 'cancelled' };
    }
    return gated.value;
  }

  private async completeNow(request: CompletionRequest, signal: AbortSignal): Promise<CompletionResult> {
    const tStartMs = performance.now();
    const settings = this.settings;
    if (!settings.enabled) return { kind: 'empty', reason: 'disabled' };
    const model = await this.host.acquire();
    if (model === undefined) return { kind: 'empty', reason: this.host.current.message };
    if (signal.aborted) return this.cancelled();
    const guarded = guardInput(request.prefix, request.suffix, settings.completion.maxPrefixTokens, settings.completion.maxSuffixTokens);
    if (!guarded.ok) return this.skip(request.uri, guarded.reason);
    try {
      const c = settings.completion;
      const d = settings.drafts;
      if (d.enabled && d.count > 1) {
        const r = await this.drafts(model, request, guarded.text, d.count, c.multiline, signal);
        if (r.kind !== 'ok') return r.kind === 'cancelled' ? this.cancelled() : { kind: 'empty', reason: r.kind === 'empty' ? r.reason : r.message };
        return { kind: 'ok', texts: r.texts, tokens: r.drafts[0]?.tokens ?? [], stats: this.recordDrafts(r.stats) };
      }
      // Token healing (context/heal.ts): the word at the cursor (or the prefix's last token) moves
      // into the completion, which must start by re-spelling it; every step below sees the
      // shortened prefix (the stopping rules also the healed text), and the healed text is
      // stripped from the result.
      const healing = c.tokenHealing ? healingFor(model.tokenizer, guarded.text.prefix, c.tokenHealingSpan) : undefined;
      const nHeal = healing?.text.length ?? 0;
      const req = beforeHealed(request, nHeal);
      const around = beforeHealed(guarded.text, nHeal);
      const unheal = (x: { text: string; tokens: number[] }): { text: string; tokens: number[] } => {
        const text = unhealText(healing, x.text);
        return text === undefined || (text === '' && healing !== undefined) ? { text: '', tokens: [] } : { text, tokens: x.tokens };
      };
      const promptIds = this.promptIds(model, { ...req, ...around });
      const drafters = this.draftersFor(model, settings);
      const cache = this.contextCache(model, c.contextCache, request.uri);
      /**
       * One decode with its checks; `cursorNames`: the member access at the cursor may take only
       * these. `retry.prefix`: tokens this decode is known to begin with (drafted first).
       */
      const attempt = async (cursorNames?: readonly string[], retry?: { ban?: Ban; prefix?: readonly number[]; sample?: { temperature: number; seed: number } }): Promise<Attempt> => {
        const monitor = this.monitorFor(req, model, settings, healing?.text, cursorNames);
        const grammar = await this.grammarFor(req, model, settings);
        const banned = retry?.ban !== undefined ? new BanConstraint([retry.ban]) : undefined;
        const parts = [healing !== undefined ? new HealConstraint(model.tokenizer, healing) : undefined, grammar, monitor, banned].filter((c): c is Constraint => c !== undefined);
        const constraint = parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : intersect(parts);
        const these = retry?.prefix !== undefined && retry.prefix.length > 0 ? [new PrefixDrafter(retry.prefix), ...drafters] : drafters;
        const outcome = await decode(model.lm, model.tokenizer, {
          ...(cache !== undefined ? { processors: [cache] } : {}),
          ...(constraint !== undefined ? { constraint } : {}),
          ...(these.length > 0 ? { drafters: these, speculation: { maxDraftTokens: settings.speculation.maxDraftTokens, ...(this.learnDraftStart ? { memory: this.memoryFor(model) } : {}) } } : {}),
          prompt: promptIds,
          maxTokens: c.maxTokens,
          sampling: { temperature: retry?.sample?.temperature ?? c.temperature, topP: c.topP },
          rng: createRng(retry?.sample?.seed ?? c.seed),
          stops: makeStopCriteria({ prefix: around.prefix, healed: healing?.text ?? '', suffix: around.suffix, maxLines: c.maxLines, multiline: c.multiline, timeCapAfterNewlineMs: c.timeCapAfterNewlineMs, stopLoops: c.stopLoops, signal }),
          signal,
        });
        const monitorTriggered = (monitor?.stats.nTriggers ?? 0) > 0;
        const cursorMembers = monitor?.cursorMembers();
        monitor?.dispose();
        (grammar as { dispose?: () => void } | undefined)?.dispose?.();
        if (outcome.kind !== 'done') return { done: false, outcome };
        // The check reads the document, not the text kept for the prompt: its wide windows reach
        // further than maxPrefixTokens / maxSuffixTokens keep.
        const parsed = await this.parseChecked(req.languageId, { prefix: req.prefix, suffix: req.suffix }, outcome.text, outcome.tokens, model, settings);
        const typed = monitorTriggered ? await this.typeChecked(req, parsed, model, settings, signal, cursorMembers) : { ...parsed, check: undefined };
        return { done: true, outcome, parsed, typed, cursorMembers };
      };
      let chosen = await attempt();
      let nRetries = 0;
      /** Decoding time of every attempt, ms. */
      let tAttemptsMs = chosen.outcome.kind === 'done' ? chosen.outcome.tTotalMs : 0;
      // specter.monitor.typeRetries: the type check found errors in a completion that starts with a
      // member name static analysis gave; decode again without that name (and any rejected before),
      // and take the first completion whose lines are clean. None clean: the first, cut back.
      if (chosen.typed?.check === 'errors' && chosen.cursorMembers !== undefined) {
        const legal = chosen.cursorMembers;
        const rejected = new Set<string>();
        let last: Attempt = chosen;
        while (nRetries < settings.monitor.typeRetries && !signal.aborted) {
          const name = last.typed?.member;
          if (name === undefined) break;
          rejected.add(name);
          const rest = legal.filter((n) => !rejected.has(n));
          if (rest.length === 0) break;
          nRetries++;
          last = await attempt(rest);
          if (last.outcome.kind === 'cancelled') return this.cancelled();
          if (last.outcome.kind === 'done') tAttemptsMs += last.outcome.tTotalMs;
          if (last.typed?.check === 'clean') {
            chosen = last;
            break;
          }
          if (last.typed?.check !== 'errors') break;
        }
      }
      // specter.constraints.parseRetries: the completion as decoded has parse errors on its lines.
      // Where the check cut it back to text whose lines parse (or to nothing, which parses), one
      // decode more without the token after which the errors start may do better. Where what the
      // check leaves still has errors, cutting back cannot mend it (the code around the cursor needs
      // text the decode did not write: the rest of a statement, a block's `}`): decode again up to
      // parseRetries times, first without that token, then sampling (temperature
      // parseRetryTemperature unless completions sample anyway; seeds seed+1…). A retry is shown
      // only when all its lines parse; none does: the first completion, cut back. Retries after
      // the first start only while the completion has taken less than parseRetryBudgetMs.
      let nParseRetries = 0;
      let budgetSpent = false;
      /** Retries the trigger left out (an automatic request); an explicit one may do better. */
      let deferred = false;
      const firstParse = chosen.done ? chosen.parsed.parse : undefined;
      if (chosen.done && nRetries === 0 && firstParse !== undefined && firstParse.errorsFull > 0) {
        const temperature = c.temperature > 0 ? c.temperature : parseRetryTemperature;
        let ban = banAfterParseErrors(chosen, model.tokenizer);
        const nWanted = firstParse.errorsKept > 0 ? settings.constraints.parseRetries : ban !== undefined ? Math.min(1, settings.constraints.parseRetries) : 0;
        const nMax = Math.min(nWanted, parseRetryLimit(request.trigger, settings.constraints.parseRetries));
        deferred = nMax < nWanted;
        // Up to the banned token a greedy retry repeats the first decode: it drafts that part.
        const prefix = ban !== undefined && c.temperature === 0 ? chosen.outcome.tokens.slice(0, ban.at) : undefined;
        while (nParseRetries < nMax && !signal.aborted) {
          if (nParseRetries > 0 && performance.now() - tStartMs >= settings.constraints.parseRetryBudgetMs) {
            budgetSpent = true;
            break;
          }
          nParseRetries++;
          const next = await attempt(undefined, ban !== undefined ? { ban, ...(prefix !== undefined ? { prefix } : {}) } : { sample: { temperature, seed: c.seed + nParseRetries } });
          ban = undefined;
          if (next.outcome.kind === 'cancelled') return this.cancelled();
          if (!next.done) break;
          tAttemptsMs += next.outcome.tTotalMs;
          if (next.parsed.parse?.errorsFull === 0 && next.typed.text.trim() !== '') {
            chosen = next;
            deferred = false;
            break;
          }
        }
      }
      if (!chosen.done) {
        const failed = chosen.outcome;
        if (failed.kind === 'cancelled') return this.cancelled();
        this.book.recordError();
        this.log(`Completion failed: ${failed.message}`);
        return { kind: 'empty', reason: failed.message };
      }
      const { outcome, parsed, typed } = chosen;
      const checked = unheal(typed);
      const stats: CompletionStats = {
        totalMs: tAttemptsMs,
        prefillMs: outcome.tPrefillMs,
        decodeMs: outcome.tDecodeMs,
        promptTokens: outcome.promptTokens,
        reusedTokens: outcome.reusedTokens,
        generatedTokens: outcome.tokens.length,
        tokensPerSecond: outcome.tDecodeMs > 0 ? (1000 * outcome.tokens.length) / outcome.tDecodeMs : 0,
        nForward: outcome.nForward,
        stopReason: outcome.stopReason,
      };
      if (nRetries > 0) stats.typeRetries = nRetries;
      if (nParseRetries > 0) stats.parseRetries = nParseRetries;
      if (deferred) stats.parseRetriesDeferred = true;
      if (budgetSpent) stats.parseRetryBudgetSpent = true;
      if (typed.check !== undefined) stats.typeCheck = typed.check;
      if (outcome.nFinishTokens !== undefined) stats.finishTokens = outcome.nFinishTokens;
      const spec = outcome.speculation;
      if (spec !== undefined && spec.nDrafts > 0) {
        stats.speculation = { nDrafted: spec.nDrafted, nAccepted: spec.nAccepted, acceptanceRate: spec.acceptanceRate, meanAccepted: spec.meanAccepted };
      }
      this.book.recordCompletion(stats);
      this.lastSkipReason = undefined;
      this.publish({ ...this.hostStatus, last: stats });
      if (checked.text.length > 0) return { kind: 'ok', texts: [checked.text], tokens: checked.tokens, stats };
      const written = outcome.text.slice(nHeal);
      if (written.trim().length > 0) {
        const shown = preview(written);
        const why = parsed.text.length > nHeal ? 'it adds type errors (specter.monitor.typeCheck)' : 'it adds parse errors (tree-sitter check, specter.constraints.parseCheck)';
        return { kind: 'empty', reason: `${withheldReason} ${JSON.stringify(shown)}: ${why}`, stats };
      }
      return { kind: 'empty', reason: `${nothingReason} (${outcome.stopReason})`, stats };
    } catch (error) {
      // Boundary: an unexpected failure becomes an empty completion and a log line, never a crash.
      this.book.recordError();
      this.log(`Completion failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return { kind: 'empty', reason: 'internal error (see the Specter log)' };
    }
  }

  /**
   * `specter/panelCompletions`: k drafts (at least 2) for the Completions Panel, streamed through
   * `progress` (at most every 50 ms), through the same gate as inline completions.
   */
  async panelCompletions(id: string, request: CompletionRequest, k: number | undefined, progress: (p: PanelProgressParams) => void, signal?: AbortSignal): Promise<PanelCompletionsResult> {
    const gated = await this.gate.run(signal, async (inner): Promise<PanelCompletionsResult> => {
      const settings = this.settings;
      if (!settings.enabled) return { id, drafts: [], reason: 'Completions are turned off (specter.enabled).' };
      const model = await this.host.acquire();
      if (model === undefined) return { id, drafts: [], reason: this.host.current.message };
      const guarded = guardInput(request.prefix, request.suffix, settings.completion.maxPrefixTokens, settings.completion.maxSuffixTokens);
      if (!guarded.ok) return { id, drafts: [], reason: guarded.reason };
      let tLastMs = 0;
      // The drafts so far: a cancelled request returns them (protocol.ts), marked not done.
      let soFar: PanelDraft[] = [];
      const onProgress = (drafts: readonly { text: string; done: boolean }[]): void => {
        soFar = drafts.map((x) => ({ text: x.text, done: false }));
        const tNowMs = performance.now();
        if (tNowMs - tLastMs < 50) return;
        tLastMs = tNowMs;
        progress({ id, drafts: drafts.map((x) => ({ text: x.text, done: x.done })) });
      };
      const nDrafts = Math.min(8, Math.max(1, Math.round(k ?? Math.max(2, settings.drafts.count))));
      try {
        // The panel is asked for on purpose: its drafts may always run over several lines.
        const r = await this.drafts(model, request, guarded.text, nDrafts, 'always', inner, onProgress);
        if (r.kind === 'cancelled') return { id, drafts: soFar, cancelled: true };
        if (r.kind === 'error') return { id, drafts: [], reason: r.message };
        if (r.kind === 'empty') return { id, drafts: [], reason: r.reason };
        return { id, drafts: r.drafts.map((x) => ({ text: x.text, done: true, stopReason: x.stopReason })), mode: r.stats.mode, stats: this.recordDrafts(r.stats) };
      } catch (error) {
        this.book.recordError();
        this.log(`Panel completion failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return { id, drafts: [], reason: 'internal error (see the Specter log)' };
      }
    });
    return gated.kind === 'superseded' ? { id, drafts: [], cancelled: true } : gated.value;
  }

  /**
   * k drafts by superposed decoding (branch mode on models without an embeds path) for `request`
   * (its text already guarded). Token healing as for one completion, on the first step: every
   * draft's first token re-spells the prefix's last token, which is then stripped (a line's
   * indentation is not healed here: re-spelling it may take several tokens). Each draft then goes
   * through the parse check like a single completion: cut back where it adds parse errors, dropped
   * when nothing is left or it repeats a draft before it. (Streamed progress shows drafts unchecked.)
   */
  private async drafts(
    model: LoadedModel,
    request: CompletionRequest,
    around: { prefix: string; suffix: string },
    k: number,
    multiline: MultilinePolicy,
    signal: AbortSignal,
    onProgress?: (drafts: readonly { text: string; done: boolean }[]) => void,
  ): Promise<DraftsResult> {
    const c = this.settings.completion;
    // The first step alone is constrained here (healingMask): one token must re-spell the healed text.
    const found = c.tokenHealing ? healingFor(model.tokenizer, around.prefix, c.tokenHealingSpan) : undefined;
    const healing = found === undefined || found.indent ? undefined : oneTokenHealing(model.tokenizer, found);
    const nHeal = healing?.text.length ?? 0;
    // The prompt and the stops read the text kept for the prompt (guardInput); the parse check
    // reads the document, as for a single completion: its wide windows reach further.
    const text = beforeHealed(around, nHeal);
    const document = beforeHealed(request, nHeal);
    // The context cache, as for one completion, on each draft's own row: a draft that copies goes on copying.
    const cache = this.contextCache(model, c.contextCache, request.uri);
    const r = await completeDrafts(model, this.promptIds(model, { ...request, ...text }), k, {
      maxTokens: c.maxTokens,
      ...(cache !== undefined ? { draftProcessors: [cache] } : {}),
      alpha: this.settings.drafts.alpha,
      ngram: this.userCodeFor(model).index,
      ...(healing === undefined ? {} : { firstStep: [healingMask(model.tokenizer, healing)] }),
      stops: () => makeStopCriteria({ prefix: text.prefix, healed: healing?.text ?? '', suffix: text.suffix, maxLines: c.maxLines, multiline, timeCapAfterNewlineMs: c.timeCapAfterNewlineMs, stopLoops: c.stopLoops, signal }),
      signal,
      ...(onProgress === undefined ? {} : { onProgress: (drafts) => onProgress(drafts.map((d) => ({ text: unhealText(healing, d.text) ?? '', done: d.done }))) }),
    });
    if (r.kind === 'error') {
      this.book.recordError();
      this.log(`Completion failed: ${r.message}`);
    }
    const fallbackReason = r.kind === 'ok' || r.kind === 'empty' ? r.stats?.fallbackReason : undefined;
    if (fallbackReason !== undefined && !this.branchFallbackLogged.has(model)) {
      this.branchFallbackLogged.add(model);
      this.log(`Multi-draft: branch mode instead of superposed decoding for ${model.name}: ${fallbackReason}`);
    }
    if (r.kind !== 'ok') return r;
    const kept: typeof r.drafts = [];
    let nCut = 0;
    for (const d of r.drafts) {
      const checked = await this.parseChecked(request.languageId, document, d.text, d.tokens, model, this.settings);
      if (checked.text !== d.text) nCut++;
      const shown = unhealText(healing, checked.text);
      if (shown === undefined || shown.trim() === '' || kept.some((x) => x.text === shown)) continue;
      kept.push({ ...d, text: shown, tokens: checked.tokens });
    }
    if (kept.length === 0 && nCut === 0) return { kind: 'empty', reason: `${nothingReason} (the drafts only re-spelled the text before the cursor)`, stats: r.stats };
    if (kept.length === 0) {
      const shown = preview(unhealText(healing, r.drafts[0]?.text ?? '') ?? '');
      const others = r.drafts.length > 1 ? ` and the other ${r.drafts.length - 1} drafts: all add` : ': it adds';
      return { kind: 'empty', reason: `${withheldReason} ${JSON.stringify(shown)}${others} parse errors (tree-sitter check, specter.constraints.parseCheck)`, stats: r.stats };
    }
    return { ...r, texts: kept.map((x) => x.text), drafts: kept };
  }

  /** The context cache for a completion of `uri` (specter.completion.contextCache), voting from the other open documents too. */
  private contextCache(model: LoadedModel, mode: SpecterSettings['completion']['contextCache'], uri: string): LogitsProcessor | undefined {
    return contextCacheFor(model, mode, () => historyVotes(this.userCodeFor(model).index, uri));
  }

  /** Books a multi-draft completion; returns its CompletionStats. */
  private recordDrafts(s: Extract<DraftsResult, { kind: 'ok' }>['stats']): CompletionStats {
    const { mode: _mode, fallbackReason: _fallbackReason, nDrafts: _nDrafts, nDropped: _nDropped, draftTokens: _draftTokens, ...stats } = s;
    this.book.recordCompletion(stats);
    this.lastSkipReason = undefined;
    this.publish({ ...this.hostStatus, last: stats });
    return stats;
  }

  /**
   * The shared n-gram index of the user's code for this model, fed by DocumentHistory. Until
   * CopySpec reads this index itself (CopySpecOptions.index), documents go to both.
   */
  private userCodeFor(model: LoadedModel): NonNullable<CompletionService['userCode']> {
    const copySpec = this.drafters?.model === model ? this.drafters.list.find((d): d is CopySpecDrafter => d instanceof CopySpecDrafter) : undefined;
    let u = this.userCode;
    if (u === undefined || u.model !== model || u.copySpec !== copySpec) {
      const index = createSharedNGramIndex(this.settings.speculation.gamma);
      const sink: HistorySink =
        copySpec === undefined
          ? index
          : {
              setDocument: (key, ids) => {
                index.setDocument(key, ids);
                copySpec.setDocument(key, ids);
              },
              removeDocument: (key) => {
                index.removeDocument(key);
                copySpec.removeDocument(key);
              },
            };
      u = { model, copySpec, index, sink };
      this.userCode = u;
    }
    this.history.sync(model.tokenizer, u.sink, Date.now());
    return u;
  }

  /** The prompt token ids for a request (FIM template from the model's tokenizer, token budgets). */
  promptIds(model: LoadedModel, request: CompletionRequest): number[] {
    const c = this.settings.completion;
    const template = discoverFimTemplate(model.tokenizer, model.config.fim);
    const prompt = buildPrompt(
      model.tokenizer,
      template,
      { path: request.uri, languageId: request.languageId, prefix: request.prefix, suffix: request.suffix },
      // Leave room in the model's context for the completion itself.
      { maxPrefixTokens: c.maxPrefixTokens, maxSuffixTokens: c.maxSuffixTokens, maxPromptTokens: Math.max(64, model.lm.contextLength - c.maxTokens) },
    );
    return prompt.ids;
  }

  /** The drafters for this model and settings, kept across requests; documents synced into CopySpec. */
  private draftersFor(model: LoadedModel, settings: SpecterSettings): Drafter[] {
    const sp = settings.speculation;
    if (!sp.enabled || sp.drafters.length === 0) return [];
    const key = JSON.stringify(sp);
    if (this.drafters === undefined || this.drafters.model !== model || this.drafters.key !== key) {
      this.drafters = { model, key, list: createDrafters(sp, model.draftTable) };
    }
    this.userCodeFor(model);
    return this.drafters.list;
  }

  private sources(settings: SpecterSettings): MonitorSource[] {
    const key = JSON.stringify(settings.monitor);
    if (this.monitorSources === undefined || this.monitorSources.key !== key) {
      for (const s of this.monitorSources?.list ?? []) s.dispose?.();
      const monitorSettings = { ...settings.monitor, useEditor: false };
      this.monitorSources = { key, list: createMonitorSources({
          settings: monitorSettings,
          trusted: this.trusted,
          log: this.log,
          ...(this.typescriptPath !== undefined ? { typescriptPath: this.typescriptPath } : {}),
        }) };
    }
    return this.monitorSources.list;
  }

  /** Starts static analysis for a just-opened document in the background. */
  documentOpened(uri: string, languageId: string, text: string): void {
    this.history.update(uri, text);
    void this.prepareGrammar(uri, languageId, text);
    if (this.settings.constraints.mode !== 'off' && this.settings.constraints.parseCheck !== 'off') void this.parseChecker.load(languageId);
    if (!this.settings.monitor.enabled) return;
    warmMonitor(this.sources(this.settings), { languageId, uri: filePath(uri), text });
  }

  /**
   * Compiles the grammar a just-opened document needs (JSON Schema, user grammar) in the background,
   * so that its completions do not start with the syntax constraint alone. Resolves when compiled,
   * failed or none applies; never rejects. Does nothing for other documents (no model load for them).
   */
  async prepareGrammar(uri: string, languageId: string, text: string): Promise<void> {
    const c = this.settings.constraints;
    if (c.mode !== 'all' || (languageId !== 'json' && languageId !== 'jsonc' && c.grammars[languageId] === undefined)) return;
    try {
      const model = await this.host.acquire();
      if (model === undefined) return;
      const path = uri.startsWith('file:') ? filePath(uri) : undefined;
      await prepareConstraints(
        { languageId, text, tokenizer: model.tokenizer, settings: { mode: c.mode, maskBudgetMs: c.maskBudgetMs, grammars: c.grammars, jsonSchemas: [] }, ...(path !== undefined ? { documentPath: path } : {}) },
        this.log,
      );
    } catch (error) {
      this.log(`Grammar for ${uri} not prepared: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * specter.constraints.parseCheck: the completion cut back where tree-sitter finds that it adds
   * parse errors to the code around the cursor (server/grammar/parse-check.ts), with its tokens.
   * The first completion in a language waits for its parser (tens of milliseconds, once); a
   * language without one, or a parser that failed to load, leaves the completion as it is.
   */
  private async parseChecked(languageId: string, around: { prefix: string; suffix: string }, text: string, tokens: number[], model: LoadedModel, settings: SpecterSettings): Promise<Checked> {
    const c = settings.constraints;
    if (c.mode === 'off' || c.parseCheck === 'off' || text.trim() === '') return { text, tokens };
    const parser = this.parseChecker.parserNow(languageId) ?? (await this.parseChecker.load(languageId));
    if (parser === undefined) return { text, tokens };
    const checked = checkCompletion(this.parseChecker, parser, model.tokenizer, around, text, tokens, c.parseCheck, languageId);
    return { text: checked.text, tokens: checked.tokens, parse: checked.result };
  }

  /**
   * specter.monitor.typeCheck, for completions in which the monitor met a member access: the
   * completion cut back where the monitor's source finds that it adds errors on its lines
   * (server/monitor/type-check.ts). The in-process TypeScript service answers synchronously; a
   * language server (pyright) through its diagnostics, within a larger budget. Skipped when the
   * source cannot check now (project loading, no server); nothing is shown when the budget runs out.
   */
  private async typeChecked(
    request: CompletionRequest, checked: Checked, model: LoadedModel, settings: SpecterSettings, signal: AbortSignal, cursorMembers: readonly string[] | undefined,
  ): Promise<TypeChecked> {
    const c: TypeChecked = { ...checked, check: undefined };
    const mode = settings.monitor.typeCheck;
    if (!settings.monitor.enabled || mode === 'off' || c.text.trim() === '') return c;
    const source = this.sources(settings).find((s) => s.supports(request.languageId));
    if (source === undefined) return c;
    const doc = { languageId: request.languageId, uri: filePath(request.uri) };
    const ends = tokenEnds(model.tokenizer, c.tokens);
    // The floor: the verified member name, when the document itself uses that name after a member
    // operator somewhere. A name nothing in the file vouches for gets no floor: when what follows
    // it does not type-check, the model's pick is more likely wrong than the statement unfinished.
    const member = verifiedMember(request.prefix, c.text, cursorMembers);
    if (member !== undefined) c.member = member.name;
    const floorChars = member !== undefined && (usesMember(request.prefix, member.name) || usesMember(request.suffix, member.name)) ? member.end : 0;
    const input = { prefix: request.prefix, suffix: request.suffix, text: c.text, boundaries: ends, floorChars };
    // An in-process source answers at once within the check's default budget; a language server
    // gets its own, shared by all of its checks for this completion; the TypeScript worker cuts
    // back within its own budget, each check bounded by the server one.
    let errorsOf: ErrorsOf;
    let budgetMs: number | undefined;
    let waitMs: number | undefined;
    if (source.errorsSync !== undefined) {
      const sync = source.errorsSync.bind(source);
      errorsOf = (text) => sync({ ...doc, text });
    } else if (source.errors !== undefined) {
      const errors = source.errors.bind(source);
      waitMs = settings.monitor.serverTypeCheckBudgetMs;
      budgetMs = source.cutBudgetMs ?? waitMs;
      const tEnd = performance.now() + waitMs;
      errorsOf = (text) => errors({ ...doc, text }, Math.max(1, tEnd - performance.now()), signal);
    } else return c;
    const result = await typeCheck(errorsOf, budgetMs === undefined ? input : { ...input, budgetMs }, mode);
    if (result === undefined) {
      // Shown unchecked (the source is still loading the project, busy, or slower than its budget).
      if (!this.loggedUnchecked) this.log(`Type check: ${source.name} gave no answer${waitMs === undefined ? '' : ` within ${waitMs} ms (specter.monitor.serverTypeCheckBudgetMs)`} — completions are shown unchecked until it does`);
      this.loggedUnchecked = true;
      return { ...c, check: 'unchecked' };
    }
    this.loggedUnchecked = false;
    const check = result.errorsOnLines === 0 ? 'clean' : 'errors';
    if (result.keepChars >= c.text.length) return { ...c, check };
    // The member stays known when the check cuts back to it: type retries decode again without it.
    return { ...cutBack(c.text, c.tokens, ends, result.keepChars), check, ...(c.member !== undefined ? { member: c.member } : {}) };
  }

  private grammarFor(request: CompletionRequest, model: LoadedModel, settings: SpecterSettings): Promise<Constraint | undefined> {
    const c = settings.constraints;
    if (c.mode === 'off') return Promise.resolve(undefined);
    const path = request.uri.startsWith('file:') ? filePath(request.uri) : undefined;
    return createConstraints(
      {
        languageId: request.languageId,
        prefix: request.prefix,
        suffix: request.suffix,
        suffixCut: request.suffixCut === true,
        tokenizer: model.tokenizer,
        settings: { mode: c.mode, maskBudgetMs: c.maskBudgetMs, grammars: c.grammars, jsonSchemas: [] },
        ...(path !== undefined ? { documentPath: path } : {}),
      },
      this.log,
    );
  }

  private monitorFor(request: CompletionRequest, model: LoadedModel, settings: SpecterSettings, anticipate?: string, cursorNames?: readonly string[]): ReturnType<typeof createMonitor> {
    if (!settings.monitor.enabled) return undefined;
    return createMonitor({
      languageId: request.languageId,
      uri: filePath(request.uri),
      prefix: request.prefix,
      suffix: request.suffix,
      tokenizer: model.tokenizer,
      sources: this.sources(settings),
      log: this.log,
      budgetMs: settings.monitor.budgetMs,
      canonical: settings.monitor.canonicalSpelling,
      documentPrior: settings.monitor.documentPrior,
      ...(anticipate !== undefined ? { anticipate } : {}),
      ...(cursorNames !== undefined ? { cursorNames } : {}),
    });
  }

  private memoryFor(model: LoadedModel): SpeculationMemory {
    if (this.speculationMemory?.model !== model) this.speculationMemory = { model, memory: new SpeculationMemory() };
    return this.speculationMemory.memory;
  }

  /** Cumulative drafter statistics of the current model, by drafter name (for `specter/stats`). */
  drafterStats(): Record<string, Drafter['stats']> {
    return Object.fromEntries((this.drafters?.list ?? []).map((d) => [d.name, d.stats]));
  }

  private cancelled(): CompletionResult {
    this.book.recordCancelled();
    return { kind: 'cancelled' };
  }

  private skip(uri: string, reason: string): CompletionResult {
    if (this.lastSkipReason !== reason) {
      this.log(`No completion for ${uri}: ${reason}`);
      this.lastSkipReason = reason;
      this.publish({ ...this.hostStatus, warning: reason });
    }
    return { kind: 'empty', reason };
  }
}

/**
 * The member name that `text` writes for the access at the cursor, when it is one of `members`
 * (static analysis gave it), and `end`: the characters at the start of `text` that finish the
 * access with it (`join` after `sep.`; `.join` when healing moved the operator into the
 * completion; `in` after `sep.jo`) — the type check's floor. Undefined otherwise.
 */
export function verifiedMember(prefix: string, text: string, members: readonly string[] | undefined): { name: string; end: number } | undefined {
  if (members === undefined || members.length === 0) return undefined;
  const typed = /[\p{L}\p{N}_$]*$/u.exec(prefix)?.[0] ?? '';
  let name: string;
  let end: number;
  if (/(\?\.|\.|->|::)$/.test(prefix.slice(0, prefix.length - typed.length))) {
    // The operator is in the prefix: the name is what was typed after it plus the completion's start.
    const rest = /^[\p{L}\p{N}_$]*/u.exec(text)?.[0] ?? '';
    name = typed + rest;
    end = rest.length;
  } else {
    // Healing moved the operator (and what the token held before it, like `".`) into the completion.
    const m = /^[^\p{L}\p{N}_$\s]*?(?:\?\.|\.|->|::)([\p{L}\p{N}_$]+)/u.exec(text);
    if (m === null) return undefined;
    name = m[1] ?? '';
    end = m[0].length;
  }
  return end > 0 && members.includes(name) ? { name, end } : undefined;
}

/** A file path for static analysis: file URIs become paths; anything else is used as given. */
/** A withheld suggestion as the reason quotes it: at most 60 characters. */
function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function filePath(uri: string): string {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  } catch {
    return uri;
  }
}

/** `t` with the last `nHeal` characters of its prefix (what token healing moved into the completion) removed. */
function beforeHealed<T extends { prefix: string }>(t: T, nHeal: number): T {
  return nHeal === 0 ? t : { ...t, prefix: t.prefix.slice(0, t.prefix.length - nHeal) };
}

/** The token of a completion right after the place the parse check cut it back to (none when it was not cut). */

function banAfterParseErrors(a: Extract<Attempt, { done: true }>, tokenizer: LoadedModel['tokenizer']): Ban | undefined {
  const p = a.parsed.parse;
  if (p === undefined || p.keepChars >= a.outcome.text.length) return undefined;
  const at = tokenEnds(tokenizer, a.outcome.tokens).findIndex((e) => e > p.keepChars);
  const token = at < 0 ? undefined : a.outcome.tokens[at];
  return token === undefined ? undefined : { at, token };
}
