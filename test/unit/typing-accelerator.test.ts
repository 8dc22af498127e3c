// The typing layer over a scripted backend that uses the real RequestGate: typing-through and
// cache answers equal the backend's fresh answers, prefetch yields to user requests and is adopted
// by a request for its own state, KV-friendliness, the no-reuse baseline, idle unload.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompletionRequest, CompletionResult } from '../../server/completion-service';
import { withheldReason, defaultSettings, type SpecterSettings } from '../../server/protocol';
import { RequestGate } from '../../server/request-gate';
import { TypingAccelerator, type ModelView } from '../../server/typing/accelerator';
import type { Timers } from '../../server/typing/idle-unload';
import { parseTypingConfig } from '../../server/typing/settings';

/** The "model" completes any prefix of `script` with its next `n` characters; one char = one token. */
const script = 'function add(a, b) {\n  return a + b;\n}\n\nfunction sub(a, b) {\n  return a - b;\n}\n';
const n = 8;

class FakeLm implements ModelView {
  ids: number[] = [];
  lm = {
    get cached(): readonly number[] {
      return fake.ids;
    },
    truncate: (k: number): void => {
      this.ids.length = Math.min(k, this.ids.length);
    },
    counters: { nForward: 0, nTokens: 0 },
  };
}
let fake = new FakeLm();

class FakeBackend {
  settings: SpecterSettings = defaultSettings;
  readonly gate = new RequestGate();
  readonly log: string[] = [];
  nCalls = 0;
  reused: number[] = [];
  initialize(): never {
    throw new Error('unused');
  }
  async updateSettings(): Promise<void> {}
  stats(): never {
    throw new Error('unused');
  }
  async shutdown(): Promise<void> {}
  promptIds(_m: FakeLm, r: CompletionRequest): number[] {
    return [...r.prefix].map((c) => c.charCodeAt(0));
  }
  fresh(prefix: string): string {
    return script.startsWith(prefix) ? script.slice(prefix.length, prefix.length + n) : '';
  }
  async complete(r: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult> {
    this.nCalls++;
    const gated = await this.gate.run(signal, async (inner) => {
      const ids = this.promptIds(fake, r);
      let k = 0;
      while (k < ids.length - 1 && fake.ids[k] === ids[k]) k++;
      this.reused.push(k);
      fake.ids.length = k;
      fake.ids.push(...ids.slice(k));
      this.log.push(`start ${r.prefix.length}`);
      const text = this.fresh(r.prefix);
      for (const c of text) {
        await new Promise((resolve) => setImmediate(resolve));
        if (inner.aborted) {
          this.log.push(`abort ${r.prefix.length}`);
          return { kind: 'cancelled' } as const;
        }
        fake.ids.push(c.charCodeAt(0));
        fake.lm.counters.nForward++;
      }
      this.log.push(`done ${r.prefix.length}`);
      return text === '' ? ({ kind: 'empty', reason: 'model produced nothing (eos)' } as const) : ({ kind: 'ok', texts: [text], tokens: [], stats: {} } as unknown as CompletionResult);
    });
    return gated.kind === 'superseded' ? { kind: 'cancelled' } : gated.value;
  }
}

class ManualTimers implements Timers {
  pending = new Map<number, () => void>();
  private next = 0;
  set(fn: () => void): unknown {
    const id = this.next++;
    this.pending.set(id, fn);
    return id;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fire(): void {
    const fns = [...this.pending.values()];
    this.pending.clear();
    for (const fn of fns) fn();
  }
}

function setup(typing: Record<string, unknown> = {}, idleUnloadMinutes = 0): { acc: TypingAccelerator<FakeLm>; backend: FakeBackend; host: { nUnloads: number }; timers: ManualTimers } {
  fake = new FakeLm();
  const backend = new FakeBackend();
  const host = {
    current: { state: 'ready' },
    nUnloads: 0,
    acquire: async () => fake,
    unload: async () => {
      host.nUnloads++;
    },
  };
  const timers = new ManualTimers();
  const acc = new TypingAccelerator<FakeLm>(backend, host, () => undefined, { timers, maxPrefetchPrefill: 32 });
  acc.applyConfig(parseTypingConfig({ typing, idleUnloadMinutes }));
  return { acc, backend, host, timers };
}

const req = (prefix: string): CompletionRequest => ({ uri: 'file:///s.ts', languageId: 'typescript', prefix, suffix: '' });
const texts = (r: CompletionResult): string[] | string => (r.kind === 'ok' ? r.texts : r.kind);

async function settle(acc: TypingAccelerator<FakeLm>, timers: ManualTimers): Promise<void> {
  while (acc.busy) {
    timers.fire();
    await acc.whenIdle().catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    if (timers.pending.size === 0 && !acc.busy) break;
  }
}

describe('TypingAccelerator', () => {
  it('typing through the suggestion is served without the backend and equals a fresh answer', async () => {
    const { acc, backend } = setup({ prefetch: false });
    const first = await acc.complete(req('function a'));
    assert.deepEqual(texts(first), [backend.fresh('function a')]);
    const nCalls = backend.nCalls;
    for (let k = 1; k < n; k++) {
      const prefix = 'function a' + backend.fresh('function a').slice(0, k);
      const served = await acc.complete(req(prefix));
      assert.equal(served.kind === 'ok' ? served.stats.stopReason : '', 'type-through');
      // The scripted model is consistent, so the rest equals the full answer's prefix.
      assert.ok(backend.fresh(prefix).startsWith((served.kind === 'ok' ? served.texts[0] : '') ?? ''));
    }
    assert.equal(backend.nCalls, nCalls);
  });

  it('a non-matching character ends typing-through; backspace is a cache hit', async () => {
    const { acc, backend } = setup({ prefetch: false });
    await acc.complete(req('function a'));
    acc.documentChanged('file:///s.ts', 'function aX');
    const off = await acc.complete(req('function aX'));
    assert.equal(off.kind, 'empty');
    const nCalls = backend.nCalls;
    acc.documentChanged('file:///s.ts', 'function a');
    const back = await acc.complete(req('function a'));
    assert.equal(back.kind === 'ok' ? back.stats.stopReason : '', 'cache');
    assert.deepEqual(texts(back), [backend.fresh('function a')]);
    assert.equal(backend.nCalls, nCalls);
  });

  it('a suggestion the parse check withheld is remembered like "nothing": the same state does not run the model again', async () => {
    const { acc, backend } = setup({ prefetch: false });
    const complete = backend.complete.bind(backend);
    backend.complete = async (r, signal) => {
      const out = await complete(r, signal);
      return out.kind === 'ok' ? { kind: 'empty', reason: `${withheldReason} "x": it adds parse errors`, stats: out.stats } : out;
    };
    const first = await acc.complete(req('function a'));
    assert.equal(first.kind, 'empty');
    const nCalls = backend.nCalls;
    acc.documentChanged('file:///s.ts', 'function aX');
    await acc.complete(req('function aX'));
    acc.documentChanged('file:///s.ts', 'function a');
    const again = await acc.complete(req('function a'));
    assert.equal(again.kind, 'empty');
    assert.equal(backend.nCalls, nCalls + 1, 'only the new state ran the model');
  });

  it('the trigger reaches the backend; an explicit request reruns a state whose automatic run left parse retries to it, and takes other answers from the cache', async () => {
    const { acc, backend } = setup({ prefetch: false });
    const triggers: (string | undefined)[] = [];
    const complete = backend.complete.bind(backend);
    backend.complete = async (r, signal) => {
      triggers.push(r.trigger);
      const out = await complete(r, signal);
      // The scripted model's answer after `function a` had parse errors that only sampled retries might mend.
      return out.kind === 'ok' && r.prefix === 'function a' && r.trigger === 'automatic' ? { ...out, stats: { ...out.stats, parseRetries: 1, parseRetriesDeferred: true } } : out;
    };
    await acc.complete(req('function a'));
    assert.deepEqual(triggers, ['automatic']);
    // Automatic again: the cached answer, deferred or not.
    const cached = await acc.complete(req('function a'));
    assert.equal(cached.kind === 'ok' ? cached.stats.stopReason : '', 'cache');
    assert.equal(backend.nCalls, 1);
    const explicit = await acc.complete(req('function a'), undefined, 'invoke');
    assert.equal(backend.nCalls, 2, 'the deferred entry did not satisfy the explicit request');
    assert.deepEqual(triggers, ['automatic', 'invoke']);
    assert.deepEqual(texts(explicit), [backend.fresh('function a')]);
    // The explicit run stored a complete answer: the next explicit request is a cache hit.
    const again = await acc.complete(req('function a'), undefined, 'invoke');
    assert.equal(again.kind === 'ok' ? again.stats.stopReason : '', 'cache');
    assert.equal(backend.nCalls, 2);
    // A state whose automatic run deferred nothing serves explicit requests from the cache.
    const other = 'function add(a, b) {\n  re';
    acc.documentChanged('file:///s.ts', other);
    await acc.complete(req(other));
    const nCalls = backend.nCalls;
    assert.equal(nCalls, 3, 'a model run, not typing-through');
    const hit = await acc.complete(req(other), undefined, 'invoke');
    assert.equal(hit.kind === 'ok' ? hit.stats.stopReason : '', 'cache');
    assert.equal(backend.nCalls, nCalls);
  });

  it('prefetches the state after acceptance and serves it from the cache', async () => {
    const { acc, backend, timers } = setup();
    const first = await acc.complete(req('function a'));
    await settle(acc, timers);
    const accepted = 'function a' + backend.fresh('function a');
    const nCalls = backend.nCalls;
    const next = await acc.complete(req(accepted));
    assert.equal(next.kind === 'ok' ? next.stats.stopReason : '', 'prefetch');
    assert.deepEqual(texts(next), [backend.fresh(accepted)]);
    assert.equal(backend.nCalls, nCalls);
    assert.ok(first.kind === 'ok');
    // Chained: the prefetched answer on screen prefetches the one after it.
    await settle(acc, timers);
    const stats = await acc.typingStats();
    assert.equal(stats.prefetch.nDone, 2);
    assert.equal(stats.nPrefetchHits, 1);
  });

  it('a user request aborts a running prefetch at its next token', async () => {
    const { acc, backend, timers } = setup();
    await acc.complete(req('function a'));
    timers.fire();
    await new Promise((resolve) => setImmediate(resolve));
    const accepted = 'function a' + backend.fresh('function a');
    assert.ok(backend.log.includes(`start ${accepted.length}`), 'prefetch started');
    // Backspace: not on the suggestion's path, so the model runs.
    const user = await acc.complete(req('funct'));
    assert.deepEqual(texts(user), [backend.fresh('funct')]);
    const iAbort = backend.log.indexOf(`abort ${accepted.length}`);
    assert.ok(iAbort >= 0 && iAbort < backend.log.indexOf(`start ${'funct'.length}`), backend.log.join(', '));
  });

  it('a request for the state a prefetch computes waits for it instead of starting over', async () => {
    const { acc, backend, timers } = setup();
    await acc.complete(req('function a'));
    timers.fire();
    await new Promise((resolve) => setImmediate(resolve));
    const accepted = 'function a' + backend.fresh('function a');
    const nCalls = backend.nCalls;
    const served = await acc.complete(req(accepted));
    assert.deepEqual(texts(served), [backend.fresh(accepted)]);
    assert.equal(backend.nCalls, nCalls);
    assert.equal((await acc.typingStats()).prefetch.nAdopted, 1);
  });

  it('an edit off the suggestion cancels the prefetch; typing along it keeps it', async () => {
    const { acc, backend, timers } = setup();
    await acc.complete(req('function a'));
    timers.fire();
    await new Promise((resolve) => setImmediate(resolve));
    acc.documentChanged('file:///s.ts', 'function a' + backend.fresh('function a').slice(0, 2));
    assert.ok(acc.busy);
    acc.documentChanged('file:///s.ts', 'function aZ');
    await acc.whenIdle();
    assert.equal((await acc.typingStats()).prefetch.nCancelled, 1);
  });

  it('skips a prefetch whose prompt does not extend the KV cache', async () => {
    const { acc, timers } = setup();
    await acc.complete(req(script.slice(0, 48)));
    fake.ids = [1, 2, 3];
    timers.fire();
    await acc.whenIdle();
    assert.equal((await acc.typingStats()).prefetch.nSkipped, 1);
  });

  it('reuse=false empties the KV cache before every request', async () => {
    const { acc, backend } = setup({ reuse: false, cache: false, typeThrough: false, prefetch: false });
    await acc.complete(req('function a'));
    await acc.complete(req('function ad'));
    await acc.complete(req('function ad'));
    assert.deepEqual(backend.reused, [0, 0, 0]);
    const warm = setup({ cache: false, typeThrough: false, prefetch: false });
    await warm.acc.complete(req('function a'));
    await warm.acc.complete(req('function ad'));
    assert.ok((warm.backend.reused[1] ?? 0) > 5);
  });

  it('reuse=false still lets the newest of overlapping requests win', async () => {
    const { acc, backend } = setup({ reuse: false, cache: false, typeThrough: false, prefetch: false });
    const results = await Promise.all([acc.complete(req('function a')), acc.complete(req('function ad')), acc.complete(req('function add'))]);
    assert.deepEqual(results.map(texts), ['cancelled', 'cancelled', [backend.fresh('function add')]]);
  });

  it('unloads after the idle time, never under a running request, and reloads on demand', async () => {
    const { acc, host, timers } = setup({ prefetch: false }, 15);
    assert.equal(timers.pending.size, 1);
    timers.fire();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(host.nUnloads, 1);
    assert.equal(timers.pending.size, 0, 'no timer while unloaded');
    await acc.complete(req('function a'));
    assert.equal(timers.pending.size, 1, 're-armed by the request');
    const running = acc.complete(req('funct'));
    timers.fire();
    assert.equal(host.nUnloads, 1, 'busy: deferred');
    await running;
    assert.equal((await acc.typingStats()).nIdleUnloads, 1);
    const never = setup({}, 0);
    assert.equal(never.timers.pending.size, 0);
  });
});
