// `specter.completion.stopLoops` on the real model: prompts where the embedded model falls into
// a loop (`self._w, self._w, …`, one line again and again). With the setting on (the default) the
// completion ends after the loop's first copy, from fewer generated tokens; off, it runs on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loopAtEnd } from '../../server/engine/stopping-repeat';
import { defaultSettings, type SpecterSettings } from '../../server/protocol';
import { firstText as text, goldenSettings, startService, type ServiceUnderTest } from './service-helpers';

const looping = [
  { uri: 'file:///w/a.py', languageId: 'python', prefix: 'class W:\n    def check(self):\n        raise ValueError("Cannot use %r" % (self._w, ', suffix: '\n' },
  { uri: 'file:///w/b.ts', languageId: 'typescript', prefix: 'export declare function handle(document: TextDocument, token: ', suffix: '\n' },
  { uri: 'file:///w/d.py', languageId: 'python', prefix: 'def f(ctx):\n    return g(ctx, ctx, c', suffix: '\n' },
  { uri: 'file:///w/f.py', languageId: 'python', prefix: 'class P:\n    def __init__(self):\n        self.defaults = None\n', suffix: '\n' },
];

/** Whether some prefix of `s` ends in a loop (the check the decoder makes after every token). */
function hasLoop(s: string): boolean {
  for (let n = 1; n <= s.length; n++) if (loopAtEnd(s.slice(0, n)) !== undefined) return true;
  return false;
}

describe('loops end after their first copy (real model)', () => {
  let sut: ServiceUnderTest;
  let base: SpecterSettings;
  const withLoops = (stopLoops: boolean): void => {
    sut.service.settings = { ...base, completion: { ...base.completion, stopLoops } };
  };
  before(async () => {
    sut = await startService(goldenSettings);
    base = sut.service.settings;
  });
  after(async () => sut.service.shutdown());

  it('is on by default', () => {
    assert.equal(defaultSettings.completion.stopLoops, true);
  });

  for (const request of looping) {
    it(`${request.uri}: the loop is cut, the text before it kept`, async () => {
      withLoops(false);
      const off = await sut.service.complete(request);
      withLoops(true);
      const on = await sut.service.complete(request);
      assert.ok(off.kind === 'ok' && on.kind === 'ok', `${off.kind} / ${on.kind}`);
      assert.ok(hasLoop(text(off)), `no loop without the setting: ${JSON.stringify(text(off))}`);
      assert.equal(on.stats.stopReason, 'repetition');
      assert.ok(text(on).trim() !== '', 'nothing left');
      assert.ok(text(off).startsWith(text(on)), `${JSON.stringify(text(on))} is not where ${JSON.stringify(text(off))} starts`);
      assert.ok(!hasLoop(text(on)), `still loops: ${JSON.stringify(text(on))}`);
      assert.ok(on.stats.generatedTokens < off.stats.generatedTokens, `${on.stats.generatedTokens} vs ${off.stats.generatedTokens} tokens`);
    });
  }
});
