// KV reuse through the completion service with the real model: after typing one more character
// only the new prompt tokens run, and the completion equals a cold start's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CompletionRequest } from '../../server/completion-service';
import { startService, type ServiceUnderTest } from './service-helpers';

const base: CompletionRequest = {
  uri: 'reuse/stack.py',
  languageId: 'python',
  prefix: 'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        self.items.append(item)\n\n    def pop(self):\n        return self.items.p',
  suffix: '\n\n    def __len__(self):\n        return len(self.items)\n',
};

const typed: readonly string[] = ['o', 'op', 'op(', 'op()'];

describe('KV-cache reuse while typing', () => {
  let sut: ServiceUnderTest;
  before(async () => {
    // Speculation off: verification passes also run rejected draft tokens, which this token
    // accounting would count as prompt work (speculation has its own lossless test).
    sut = await startService((s) => ({ ...s, speculation: { ...s.speculation, enabled: false } }));
  });
  after(async () => sut.service.shutdown());

  for (const chars of typed) {
    it(`typing ${JSON.stringify(chars)} reuses the cache and matches a cold start`, async () => {
      const model = await sut.host.acquire();
      assert.ok(model);
      const before = { ...base, prefix: base.prefix + chars.slice(0, -1) };
      const after = { ...base, prefix: base.prefix + chars };
      await sut.service.complete(before);
      const nTokensBefore = model.lm.counters.nTokens;
      const warm = await sut.service.complete(after);
      const nRun = model.lm.counters.nTokens - nTokensBefore;
      assert.ok(warm.kind !== 'cancelled');
      const stats = warm.stats;
      const nPrompt = sut.service.promptIds(model, after).length;
      // Every token the model generated (a parse check may have cut the returned ones).
      const nGenerated = warm.stats?.generatedTokens ?? 0;
      // Only the last few prompt tokens (the re-tokenised end of the prefix) run again.
      assert.ok(nRun - nGenerated <= 8, `ran ${nRun - nGenerated} prompt tokens of ${nPrompt}`);
      if (stats !== undefined) assert.ok(stats.reusedTokens >= nPrompt - 8);

      model.lm.truncate(0);
      const cold = await sut.service.complete(after);
      assert.deepEqual(
        cold.kind === 'ok' ? [cold.texts, cold.tokens] : cold.kind,
        warm.kind === 'ok' ? [warm.texts, warm.tokens] : warm.kind,
      );
    });
  }
});
