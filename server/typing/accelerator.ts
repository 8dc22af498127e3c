// The typing layer in front of the completion service. Per request, in order:
//  1. typing-through: the user typed characters that match the suggestion on screen → its rest;
//  2. the LRU of completions by exact document context (backspace, re-trigger, accepted or
//     partially accepted suggestions, prefetched states);
//  3. a prefetch already computing this very state → wait for it instead of starting over;
//  4. the model, through the service's "latest wins" gate.
// After a suggestion is shown it schedules a prefetch of the completion that follows its
// acceptance (prefetch.ts). With `typing.reuse` off (the benchmark's baseline) it empties the KV
// cache before every request, serialising requests itself so that no forward pass is in flight.
import type { InitializeResult } from 'vscode-languageserver';
import type { CompletionRequest, CompletionResult } from '../completion-service';
import type { Log } from '../model-host';
import { nothingReason, withheldReason, type CompletionStats, type DidPartiallyAcceptParams, type DidShowParams, type StatsResult, type TypingStatsResult } from '../protocol';
import { TypingRhythm } from './debounce-policy';
import { IdleUnloader, realTimers, type Timers } from './idle-unload';
import { CompletionMemory, type CacheEntry, type EntryOrigin, type Shown } from './memory';
import { Prefetcher } from './prefetch';
import { parseTypingConfig, unwrapSection, type TypingConfig } from './settings';
import type { ModelSlot, ModelView, TypingBackend } from './types';

export type { ModelSlot, ModelView, TypingBackend } from './types';

export interface AcceleratorOptions {
  timers?: Timers;
  /**
   * Start a prefetch this long after the suggestion was returned, ms. Default: 1.5 × the user's
   * gap between keystrokes (seen in document changes), 100–400 ms — a user who types on off the
   * suggestion cancels it before it costs anything; one who reads it and accepts gets it.
   */
  prefetchDelayMs?: number;
  /**
   * Most prompt tokens a prefetch may have to prefill beyond what the KV cache holds (default
   * 2 × maxTokens + 32: the suggestion itself re-tokenized, plus the re-tokenized prefix end).
   */
  maxPrefetchPrefill?: number;
}


export class TypingAccelerator<M extends ModelView> {
  config: TypingConfig = parseTypingConfig({});
  private readonly memory: CompletionMemory;
  private readonly idle: IdleUnloader;
  private readonly timers: Timers;
  private readonly prefetchDelayMs: number | undefined;
  private readonly rhythm = new TypingRhythm();
  private readonly prefetch: Prefetcher<M>;
  /** Aborters of user requests running in the model (or waiting to). */
  private readonly userRuns = new Set<AbortController>();
  /** Every backend call in flight, user or prefetch (the baseline's serialisation waits on them). */
  private readonly backendRuns = new Set<Promise<unknown>>();
  private ticket = 0;
  private readonly n = { requests: 0, typeThrough: 0, cacheHits: 0, prefetchHits: 0, modelRuns: 0, cancelled: 0, shown: 0, partialAccepts: 0 };

  constructor(
    private readonly backend: TypingBackend<M>,
    private readonly host: ModelSlot<M>,
    private readonly log: Log,
    options: AcceleratorOptions = {},
  ) {
    this.timers = options.timers ?? realTimers;
    this.prefetchDelayMs = options.prefetchDelayMs;
    this.memory = new CompletionMemory(this.config.typing.cacheEntries);
    this.idle = new IdleUnloader(() => this.unloadIdle(), () => this.busy, this.timers);
    this.prefetch = new Prefetcher(
      backend,
      host,
      this.memory,
      this.timers,
      log,
      {
        userBusy: () => this.userRuns.size > 0,
        unloaded: () => this.idle.unloaded,
        enabled: () => this.config.typing.prefetch && this.config.typing.cache,
        delayMs: () => this.prefetchDelayMs ?? Math.min(400, Math.max(100, 1.5 * (this.rhythm.intervalMs ?? 200))),
        track: (p) => this.track(p),
        entryOf: (result) => this.entryOf(result, 'prefetch'),
      },
      options.maxPrefetchPrefill,
    );
  }

  get busy(): boolean {
    return this.userRuns.size > 0 || this.prefetch.active;
  }

  initialize(options: unknown): InitializeResult {
    const result = this.backend.initialize(options);
    const raw = typeof options === 'object' && options !== null ? (options as Record<string, unknown>)['settings'] : undefined;
    this.applyConfig(parseTypingConfig(raw));
    return result;
  }

  async updateSettings(raw: unknown): Promise<void> {
    this.prefetch.cancel();
    this.applyConfig(parseTypingConfig(unwrapSection(raw)));
    await this.backend.updateSettings(raw);
    this.refreshFingerprint();
  }

  /** For callers that parse settings themselves (tests, CLI). */
  applyConfig(config: TypingConfig): void {
    this.config = config;
    this.refreshFingerprint();
    this.idle.configure(config.idleUnloadMinutes);
    if (!config.typing.prefetch) this.prefetch.cancel();
  }

  stats(): StatsResult {
    return this.backend.stats();
  }

  async shutdown(): Promise<void> {
    this.idle.dispose();
    this.prefetch.cancel();
    for (const c of this.userRuns) c.abort();
    await this.backend.shutdown();
  }

  /** Forget everything remembered (e.g. the workspace changed under monitor-guided decoding). */
  clear(): void {
    this.memory.clear();
  }

  /**
   * `trigger` 'invoke' (the user asked explicitly, e.g. Alt+\\) skips typing-through and the
   * entries derived from it: those are the rest of an earlier suggestion, which a fresh completion
   * of this state may not reproduce token for token (the prompt tokenizes the typed text anew).
   */
  async complete(request: CompletionRequest, signal?: AbortSignal, trigger: 'automatic' | 'invoke' = 'automatic'): Promise<CompletionResult> {
    const tStartMs = performance.now();
    this.n.requests++;
    this.idle.touch();
    if (!this.backend.settings.enabled) return this.backend.complete(request, signal);
    this.refreshFingerprint();
    const t = this.config.typing;

    const exact = trigger === 'invoke';
    if (t.typeThrough && !exact) {
      const hit = this.memory.typeThrough(request);
      if (hit !== undefined) {
        this.n.typeThrough++;
        if (t.cache) this.memory.store(request, { texts: hit.rests, origin: 'type-through' });
        this.prefetch.schedule(hit.base);
        return this.served(hit.rests, 'type-through', tStartMs);
      }
    }
    if (t.cache) {
      const entry = this.memory.lookup(request);
      // An explicit request takes what the model gave here, unless that run left parse retries
      // for an explicit request (entry.deferred).
      if (entry !== undefined && (!exact || ((entry.origin === 'model' || entry.origin === 'prefetch') && entry.deferred !== true))) {
        this.n.cacheHits++;
        if (entry.origin === 'prefetch') this.n.prefetchHits++;
        return this.show(request, entry, tStartMs);
      }
    }
    // Only await when there is something to adopt: otherwise the request must reach the gate
    // synchronously, before a prefetch could start under it.
    if (this.prefetch.runsFor(request)) {
      const adopted = await this.prefetch.adopt(request, signal);
      if (adopted !== undefined && !(exact && adopted.deferred === true)) {
        this.n.modelRuns++;
        return this.show(request, adopted, tStartMs);
      }
      if (signal?.aborted === true) return this.cancelled();
    }
    this.prefetch.cancel();
    return this.runModel({ ...request, trigger }, signal);
  }

  /**
   * Call on every document change, with the new text (before the request for it arrives), instead
   * of the service's `documentChanged`.
   */
  documentChanged(uri: string, text: string): void {
    this.backend.history?.update(uri, text);
    this.rhythm.key(performance.now());
    this.memory.documentChanged(uri, text);
    // What runs was computed for text that no longer exists, unless it is a prefetch that typing
    // along the suggestion still leads to.
    for (const c of this.userRuns) c.abort();
    if (this.prefetch.target?.uri === uri && this.memory.shown(uri) === undefined) this.prefetch.cancel();
  }

  didShow(params: DidShowParams): void {
    this.n.shown++;
    const base = this.memory.shown(params.uri);
    if (base !== undefined && base.texts.some((t) => t.endsWith(params.text))) this.prefetch.schedule(base);
  }

  didPartiallyAccept(params: DidPartiallyAcceptParams): void {
    this.n.partialAccepts++;
    if (this.config.typing.cache) this.memory.partialAccept(params.uri, params.text, params.acceptedLength);
  }

  async typingStats(): Promise<TypingStatsResult> {
    const model = this.host.current.state === 'ready' && !this.idle.unloaded ? await this.host.acquire() : undefined;
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const result: TypingStatsResult = {
      nRequests: this.n.requests,
      nTypeThrough: this.n.typeThrough,
      nCacheHits: this.n.cacheHits,
      nPrefetchHits: this.n.prefetchHits,
      nModelRuns: this.n.modelRuns,
      nCancelled: this.n.cancelled,
      prefetch: { ...this.prefetch.counts },
      nCacheEntries: this.memory.nEntries,
      nShown: this.n.shown,
      nPartialAccepts: this.n.partialAccepts,
      nIdleUnloads: this.idle.nUnloads,
      busy: this.busy,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
    };
    if (model !== undefined) result.model = { nForward: model.lm.counters.nForward, nTokens: model.lm.counters.nTokens };
    return result;
  }

  /** Resolves once no user request or prefetch is running or scheduled (tests, benchmarks). */
  async whenIdle(): Promise<void> {
    while (this.busy) {
      const waits: Promise<unknown>[] = [...this.backendRuns];
      const prefetching = this.prefetch.done;
      if (prefetching !== undefined) waits.push(prefetching);
      if (waits.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      else await Promise.all(waits.map((w) => w.catch(() => undefined)));
    }
  }

  private async runModel(request: CompletionRequest, signal: AbortSignal | undefined): Promise<CompletionResult> {
    const ticket = ++this.ticket;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    if (signal?.aborted === true) controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.userRuns.add(controller);
    try {
      if (!this.config.typing.reuse) {
        // Baseline: no KV reuse. Let every other call stop first so no forward is in flight, then
        // empty the cache; nothing else touches the model until this request's prefill starts.
        for (const c of this.userRuns) if (c !== controller) c.abort();
        this.prefetch.cancel();
        while (this.backendRuns.size > 0) await Promise.all([...this.backendRuns].map((p) => p.catch(() => undefined)));
        if (ticket !== this.ticket || controller.signal.aborted) return this.cancelled();
        const model = await this.host.acquire();
        if (ticket !== this.ticket || controller.signal.aborted) return this.cancelled();
        model?.lm.truncate(0);
      }
      this.n.modelRuns++;
      const result = await this.track(this.backend.complete(request, controller.signal));
      if (result.kind === 'cancelled') return this.cancelled();
      const entry = this.entryOf(result, 'model');
      if (entry !== undefined) {
        if (this.config.typing.cache) this.memory.store(request, entry);
        this.remember(request, entry);
      }
      return result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.userRuns.delete(controller);
    }
  }

  private entryOf(result: CompletionResult, origin: EntryOrigin): CacheEntry | undefined {
    const deferred = result.kind !== 'cancelled' && result.stats?.parseRetriesDeferred === true ? { deferred: true as const } : {};
    if (result.kind === 'ok') return { texts: result.texts, origin, ...deferred };
    // The model wrote nothing, or the parse check withheld what it wrote: deterministic answers
    // worth remembering (the same text around the cursor gets the same one); other empties are not.
    if (result.kind === 'empty' && (result.reason.startsWith(nothingReason) || result.reason.startsWith(withheldReason))) return { texts: [], origin, ...deferred };
    return undefined;
  }

  /** Serve a remembered entry for `request` and make it the suggestion on screen. */
  private show(request: CompletionRequest, entry: CacheEntry, tStartMs: number): CompletionResult {
    this.remember(request, entry);
    if (entry.texts.length === 0) return { kind: 'empty', reason: `${nothingReason} (cached)` };
    return this.served(entry.texts, entry.origin === 'model' ? 'cache' : entry.origin, tStartMs);
  }

  private remember(request: CompletionRequest, entry: CacheEntry): void {
    const shown: Shown = { uri: request.uri, languageId: request.languageId, prefix: request.prefix, suffix: request.suffix, texts: entry.texts, origin: entry.origin };
    this.memory.remember(shown);
    if (entry.texts.length > 0) this.prefetch.schedule(shown);
  }

  private served(texts: string[], how: string, tStartMs: number): CompletionResult {
    const stats: CompletionStats = {
      totalMs: performance.now() - tStartMs,
      prefillMs: 0,
      decodeMs: 0,
      promptTokens: 0,
      reusedTokens: 0,
      generatedTokens: 0,
      tokensPerSecond: 0,
      nForward: 0,
      stopReason: how,
    };
    return { kind: 'ok', texts, tokens: [], stats };
  }

  private cancelled(): CompletionResult {
    this.n.cancelled++;
    return { kind: 'cancelled' };
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.backendRuns.add(p);
    void p.finally(() => this.backendRuns.delete(p)).catch(() => undefined);
    return p;
  }

  // ---- idle unload and settings ----

  private async unloadIdle(): Promise<void> {
    this.prefetch.cancel();
    this.memory.clear();
    this.log(`Unloading the model after ${this.config.idleUnloadMinutes} minutes without completions; the next request loads it again`);
    await this.host.unload();
  }

  private refreshFingerprint(): void {
    const { enabled: _enabled, ...shaping } = this.backend.settings;
    this.memory.setFingerprint(JSON.stringify(shaping), this.config.typing.cacheEntries);
  }
}
