// The typing layer over the real completion service and the real embedded model: what it serves
// from memory equals what the model produces for that state from a cold KV cache, and cancelled
// requests and prefetches leave the KV cache consistent with what the model holds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CompletionRequest, CompletionResult } from '../../server/completion-service';
import type { LoadedModel } from '../../server/runtime/load-model';
import { TypingAccelerator } from '../../server/typing/accelerator';
import { parseTypingConfig } from '../../server/typing/settings';
import { startService, type ServiceUnderTest } from './service-helpers';

const base: CompletionRequest = {
  uri: 'file:///typing/queue.py',
  languageId: 'python',
  prefix: 'class Queue:\n    def __init__(self):\n        self.items = []\n\n    def put(self, item):\n        self.items.append(item)\n\n    def get(self):\n        return self.',
  suffix: '\n\n    def __len__(self):\n        return len(self.items)\n',
};

const texts = (r: CompletionResult): string[] | string => (r.kind === 'ok' ? r.texts : r.kind === 'empty' ? [] : r.kind);

describe('typing layer with the real model', () => {
  let sut: ServiceUnderTest;
  let model: LoadedModel;
  let acc: TypingAccelerator<LoadedModel>;
  let previous: TypingAccelerator<LoadedModel> | undefined;
  /** The model's answer for a state from an empty KV cache and no typing memory. */
  const cold = async (r: CompletionRequest): Promise<string[] | string> => {
    await acc.whenIdle();
    model.lm.truncate(0);
    return texts(await sut.service.complete(r));
  };
  const fresh = (typing: Record<string, unknown> = {}): void => {
    // The previous test's accelerator must not prefetch into this one's requests (the service's
    // gate lets the latest request win, whoever sent it).
    previous?.applyConfig(parseTypingConfig({ typing: { prefetch: false }, idleUnloadMinutes: 0 }));
    acc = new TypingAccelerator<LoadedModel>(sut.service, sut.host, () => undefined);
    previous = acc;
    acc.applyConfig(parseTypingConfig({ typing, idleUnloadMinutes: 0 }));
  };

  before(async () => {
    sut = await startService((s) => ({ ...s, completion: { ...s.completion, maxTokens: 24, maxLines: 2 } }));
    const loaded = await sut.host.acquire();
    assert.ok(loaded);
    model = loaded;
  });
  after(async () => sut.service.shutdown());

  it('a cache hit equals the cold answer for that state', async () => {
    fresh({ prefetch: false });
    const states = [base, { ...base, prefix: `${base.prefix}it` }, { ...base, prefix: `${base.prefix}items.p` }];
    const first: (string[] | string)[] = [];
    for (const s of states) first.push(texts(await acc.complete(s)));
    const nRuns = (await acc.typingStats()).nModelRuns;
    for (const [i, s] of states.entries()) {
      const hit = await acc.complete(s, undefined, 'invoke');
      assert.equal(hit.kind === 'ok' ? hit.stats.stopReason : hit.kind === 'empty' ? 'empty' : '', hit.kind === 'ok' ? 'cache' : 'empty');
      assert.deepEqual(texts(hit), first[i]);
      assert.deepEqual(texts(hit), await cold(s), `state ${i}`);
    }
    assert.equal((await acc.typingStats()).nModelRuns, nRuns, 'no model run for cached states');
  });

  it('a prefetched suggestion equals the cold answer for the accepted state', async () => {
    fresh();
    const shown = await acc.complete(base);
    assert.equal(shown.kind, 'ok', 'the model suggests something at the base state');
    await acc.whenIdle();
    const accepted = { ...base, prefix: base.prefix + (shown.texts[0] ?? '') };
    const served = await acc.complete(accepted);
    const stats = await acc.typingStats();
    assert.ok(stats.prefetch.nDone + stats.prefetch.nSkipped >= 1);
    assert.equal(stats.prefetch.nDone, 1, JSON.stringify(stats.prefetch));
    assert.equal(served.kind === 'ok' ? served.stats.stopReason : served.kind, served.kind === 'ok' ? 'prefetch' : 'empty');
    assert.deepEqual(texts(served), await cold(accepted));
  });

  it('typing through serves the rest of the suggestion without the model', async () => {
    fresh({ prefetch: false });
    const shown = await acc.complete(base);
    assert.equal(shown.kind, 'ok', 'the model suggests something at the base state');
    const text = shown.texts[0] ?? '';
    const nForward = model.lm.counters.nForward;
    for (let k = 1; k < text.length; k++) {
      const r = await acc.complete({ ...base, prefix: base.prefix + text.slice(0, k) });
      assert.deepEqual(texts(r), [text.slice(k)]);
    }
    assert.equal(model.lm.counters.nForward, nForward);
    // An explicit request for a typed-through state is computed fresh: it equals the cold answer.
    const mid = { ...base, prefix: base.prefix + text.slice(0, Math.ceil(text.length / 2)) };
    assert.deepEqual(texts(await acc.complete(mid, undefined, 'invoke')), await cold(mid));
  });

  it('a request cancelled mid-decode leaves the KV cache consistent', async () => {
    fresh({ prefetch: false, cache: false });
    const kinds: string[] = [];
    for (const nForwardBeforeAbort of [1, 3, 6]) {
      const controller = new AbortController();
      const start = model.lm.counters.nForward;
      const poll = setInterval(() => {
        if (model.lm.counters.nForward - start >= nForwardBeforeAbort) controller.abort();
      }, 1);
      const state = { ...base, prefix: `${base.prefix}items[${nForwardBeforeAbort}` };
      const cancelled = await acc.complete(state, controller.signal);
      clearInterval(poll);
      kinds.push(cancelled.kind);
      // Whatever the KV cache kept must be exactly what `cached` says: the next completion, warm,
      // equals the cold one.
      const next = { ...base, prefix: `${base.prefix}items[${nForwardBeforeAbort}]` };
      const warm = texts(await acc.complete(next));
      assert.deepEqual(warm, await cold(next), `after ${cancelled.kind} at ${nForwardBeforeAbort} passes`);
    }
    assert.equal(kinds[0], 'cancelled', kinds.join());
  });

  it('a prefetch aborted by a user request leaves the KV cache consistent', async () => {
    fresh({ cache: true });
    const shown = await acc.complete(base);
    assert.equal(shown.kind, 'ok', 'the model suggests something here (greedy, fixed prompt)');
    // Wait until the prefetch runs (it starts after a short delay), let it decode a pass or two,
    // then ask for a state off the suggestion: that aborts it.
    // Only the prefetch runs the model now. Each pass is slowed down so the abort surely lands
    // in the middle of it (the follow-up completion may be only a pass or two long): after its
    // first pass, ask for a state off the suggestion.
    const lm = model.lm;
    const forward = lm.forward.bind(lm);
    lm.forward = async (tokens) => {
      await new Promise((resolve) => setTimeout(resolve, 40));
      return forward(tokens);
    };
    const other = { ...base, prefix: `${base.prefix}__` };
    try {
      const tEndMs = Date.now() + 20_000;
      const start = lm.counters.nForward;
      while (lm.counters.nForward - start < 1 && Date.now() < tEndMs) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      lm.forward = forward;
    }
    const warm = texts(await acc.complete(other));
    const prefetchCounts = (await acc.typingStats()).prefetch;
    assert.equal(prefetchCounts.nCancelled, 1, JSON.stringify({ prefetchCounts, shown: texts(shown) }));
    assert.deepEqual(warm, await cold(other));
  });

  it('the no-reuse baseline gives the same answers as reuse', async () => {
    fresh({ cache: false, typeThrough: false, prefetch: false, reuse: false });
    const states = [base, { ...base, prefix: `${base.prefix}it` }, { ...base, prefix: `${base.prefix}ite` }];
    const naive: (string[] | string)[] = [];
    for (const s of states) naive.push(texts(await acc.complete(s)));
    fresh({ cache: false, typeThrough: false, prefetch: false });
    for (const [i, s] of states.entries()) assert.deepEqual(texts(await acc.complete(s)), naive[i]);
  });

  it('idle unload frees the model and the next request loads it again with the same answer', async () => {
    fresh({ prefetch: false, cache: false });
    const before = texts(await acc.complete(base));
    await sut.host.unload();
    const again = texts(await acc.complete(base));
    assert.deepEqual(again, before);
    const reloaded = await sut.host.acquire();
    assert.ok(reloaded);
    model = reloaded;
  });
});
