// Token healing in multi-draft completions (specter.drafts.count > 1) with the real model: every
// draft's first token re-spells the prefix's last token, the shown text is what follows it, and
// healing changes the drafts (it is not a no-op).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { healingFor, oneTokenHealing } from '../../server/context/heal';
import { midWordPrompts, midWordRequest } from './heal-prompts';
import { startService, type ServiceUnderTest } from './service-helpers';


void describe('token healing in multi-draft completions (real model)', () => {
  let on: ServiceUnderTest;
  let off: ServiceUnderTest;
  before(async () => {
    const drafts = (healing: boolean) => (s: ServiceUnderTest['service']['settings']): ServiceUnderTest['service']['settings'] => ({
      ...s,
      drafts: { ...s.drafts, count: 3 },
      completion: { ...s.completion, tokenHealing: healing, maxTokens: 24 },
    });
    on = await startService(drafts(true));
    off = await startService(drafts(false));
  });
  after(async () => {
    await on.service.shutdown();
    await off.service.shutdown();
  });

  void it('the first token of the drafts re-spells the healed text; the drafts shown are what follows it', async () => {
    const tok = (await on.host.acquire())?.tokenizer;
    assert.ok(tok);
    let nDiffer = 0;
    let nOk = 0;
    for (const [i, p] of midWordPrompts.entries()) {
      const request = midWordRequest(p, i, 'dh');
      // Drafts heal what one token can re-spell (their first step alone is constrained).
      const word = healingFor(tok, p.prefix);
      assert.ok(word, p.prefix);
      const h = oneTokenHealing(tok, word);
      assert.ok(h && !h.indent, p.prefix);
      const r = await on.service.complete(request);
      const r0 = await off.service.complete(request);
      if (JSON.stringify(r.kind === 'ok' ? r.texts : []) !== JSON.stringify(r0.kind === 'ok' ? r0.texts : [])) nDiffer++;
      if (r.kind !== 'ok') continue;
      nOk++;
      const first = r.tokens[0];
      assert.ok(first !== undefined);
      assert.ok(tok.decode([first]).startsWith(h.text), `${JSON.stringify(tok.decode([first]))} starts with ${JSON.stringify(h.text)}`);
      assert.ok(tok.decode(r.tokens).startsWith(h.text + r.texts[0]), JSON.stringify({ healed: h.text, text: r.texts[0], all: tok.decode(r.tokens) }));
      assert.equal(new Set(r.texts).size, r.texts.length);
    }
    assert.ok(nOk >= 3, `${nOk} prompts got drafts`);
    assert.ok(nDiffer > 0, 'healing changed the drafts of at least one prompt');
  });
});
