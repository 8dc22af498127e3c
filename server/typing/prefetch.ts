// Prefetch on show: after a suggestion is shown, compute in the background the completion that
// follows its acceptance and put it in the cache. Rules that keep it from hurting the user:
//  - it starts after a delay (a user typing on cancels it before it costs anything) and only
//    while no user request runs; any user request aborts it through the service's "latest wins"
//    gate, at the decode loop's next token;
//  - it only starts when its prompt extends what the KV cache holds by a bounded number of tokens:
//    it then costs little to abort, and the cache afterwards still starts with the current prompt,
//    so the next keystroke's prefill is as short as without it. A multi-line suggestion that moves
//    the prompt window's start fails this check (prefetching would evict the cache the next
//    keystroke needs).
import type { CompletionRequest, CompletionResult } from '../completion-service';
import { guardInput } from '../input-guard';
import type { Log } from '../model-host';
import type { Timers } from './idle-unload';
import type { CacheEntry, CompletionMemory, ContextRequest, Shown } from './memory';
import type { ModelSlot, ModelView, TypingBackend } from './types';

export interface PrefetchHooks {
  /** A user request runs or waits in the gate: never start under it. */
  userBusy(): boolean;
  /** The model was unloaded for idleness: do not load it for a prefetch. */
  unloaded(): boolean;
  enabled(): boolean;
  delayMs(): number;
  /** Registers a backend call in flight. */
  track<T>(p: Promise<T>): Promise<T>;
  entryOf(result: CompletionResult): CacheEntry | undefined;
}

interface Running {
  request: CompletionRequest;
  controller: AbortController;
  done: Promise<CacheEntry | undefined>;
}

export function sameState(a: ContextRequest, b: ContextRequest): boolean {
  return a.uri === b.uri && a.languageId === b.languageId && a.prefix === b.prefix && a.suffix === b.suffix;
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class Prefetcher<M extends ModelView> {
  readonly counts = { nStarted: 0, nDone: 0, nCancelled: 0, nSkipped: 0, nAdopted: 0 };
  private running: Running | undefined;
  private pending: { request: CompletionRequest; handle: unknown } | undefined;

  constructor(
    private readonly backend: TypingBackend<M>,
    private readonly host: ModelSlot<M>,
    private readonly memory: CompletionMemory,
    private readonly timers: Timers,
    private readonly log: Log,
    private readonly hooks: PrefetchHooks,
    /** Most prompt tokens beyond the KV cache's content (default 2 × maxTokens + 32). */
    private readonly maxPrefill?: number,
  ) {}

  get active(): boolean {
    return this.running !== undefined || this.pending !== undefined;
  }

  /** The running prefetch's completion, for idle waits. */
  get done(): Promise<unknown> | undefined {
    return this.running?.done;
  }

  /** The request a running or scheduled prefetch is for. */
  get target(): CompletionRequest | undefined {
    return this.running?.request ?? this.pending?.request;
  }

  /** The acceptance of the first of `base`'s suggestions. */
  schedule(base: Shown): void {
    const first = base.texts[0];
    if (!this.hooks.enabled() || first === undefined || first === '') return;
    const request: CompletionRequest = { uri: base.uri, languageId: base.languageId, prefix: base.prefix + first, suffix: base.suffix };
    if (this.memory.has(request)) return;
    if (this.running !== undefined) {
      if (sameState(this.running.request, request)) return;
      // It computes the acceptance of a suggestion no longer on screen.
      this.running.controller.abort();
    }
    if (this.pending !== undefined) {
      if (sameState(this.pending.request, request)) return;
      this.timers.clear(this.pending.handle);
    }
    const handle = this.timers.set(() => void this.start(), this.hooks.delayMs());
    this.pending = { request, handle };
  }

  cancel(): void {
    if (this.pending !== undefined) this.timers.clear(this.pending.handle);
    this.pending = undefined;
    this.running?.controller.abort();
  }

  /** A prefetch runs for `request`'s very state. */
  runsFor(request: ContextRequest): boolean {
    return this.running !== undefined && sameState(this.running.request, request);
  }

  /**
   * When a prefetch runs for `request`'s very state: waits for it (or for `signal`) and returns its
   * entry; undefined when there is none or it was aborted.
   */
  async adopt(request: ContextRequest, signal: AbortSignal | undefined): Promise<CacheEntry | undefined> {
    const running = this.running;
    if (running === undefined || !sameState(running.request, request)) return undefined;
    let entry: CacheEntry | undefined;
    if (signal === undefined) entry = await running.done;
    else if (!signal.aborted) {
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<undefined>((resolve) => {
        onAbort = () => resolve(undefined);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        entry = await Promise.race([running.done, aborted]);
      } finally {
        if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
      }
    }
    if (entry !== undefined) this.counts.nAdopted++;
    return entry;
  }

  private async start(): Promise<void> {
    const pending = this.pending;
    if (pending === undefined) return;
    // An aborted prefetch stops at its next token.
    if (this.running !== undefined) await this.running.done;
    if (this.pending !== pending) return;
    this.pending = undefined;
    // A user request runs: it wins; its own result schedules the next prefetch.
    if (this.hooks.userBusy() || this.running !== undefined || this.hooks.unloaded()) return;
    const request = pending.request;
    const model = this.host.current.state === 'ready' ? await this.host.acquire() : undefined;
    if (model === undefined || !this.kvFriendly(model, request)) {
      this.counts.nSkipped++;
      return;
    }
    // Re-check after the await: starting now must not abort a user request in the gate.
    if (this.hooks.userBusy() || this.running !== undefined || !this.hooks.enabled()) return;
    this.counts.nStarted++;
    const controller = new AbortController();
    const done = this.hooks.track(this.backend.complete({ ...request, trigger: 'automatic' }, controller.signal)).then(
      (result) => {
        const entry = this.hooks.entryOf(result);
        if (entry === undefined) {
          if (result.kind === 'cancelled') this.counts.nCancelled++;
          return undefined;
        }
        this.counts.nDone++;
        this.memory.store(request, entry);
        return entry;
      },
      (error: unknown) => {
        this.log(`Prefetch failed: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      },
    );
    const running: Running = { request, controller, done };
    this.running = running;
    void done.finally(() => {
      if (this.running === running) this.running = undefined;
    });
  }

  private kvFriendly(model: M, request: CompletionRequest): boolean {
    const c = this.backend.settings.completion;
    const guarded = guardInput(request.prefix, request.suffix, c.maxPrefixTokens, c.maxSuffixTokens);
    if (!guarded.ok) return false;
    try {
      const ids = this.backend.promptIds(model, { ...request, ...guarded.text });
      const maxNew = this.maxPrefill ?? 2 * c.maxTokens + 32;
      return ids.length - commonPrefixLength(model.lm.cached, ids) <= maxNew;
    } catch {
      return false;
    }
  }
}
