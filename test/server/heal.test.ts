// Token healing through the completion service with the real model: the first generated token
// re-spells the prefix's last token, the result is what follows it, and turning it off changes
// completions (it is not a no-op).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { healingFor } from '../../server/context/heal';
import { midWordPrompts, midWordRequest } from './heal-prompts';
import { firstText, goldenSettings, startService, type ServiceUnderTest } from './service-helpers';


void describe('token healing through the completion service (real model)', () => {
  let on: ServiceUnderTest;
  let off: ServiceUnderTest;
  before(async () => {
    on = await startService((s) => { const g = goldenSettings(s); return { ...g, completion: { ...g.completion, tokenHealing: true } }; });
    off = await startService(goldenSettings);
  });
  after(async () => {
    await on.service.shutdown();
    await off.service.shutdown();
  });

  void it('the first token re-spells the healed text; the completion is what follows it', async () => {
    const tok = (await on.host.acquire())?.tokenizer;
    assert.ok(tok);
    let nDiffer = 0;
    for (const [i, p] of midWordPrompts.entries()) {
      const request = midWordRequest(p, i, 'heal');
      const h = healingFor(tok, p.prefix);
      assert.ok(h, p.prefix);
      const r = await on.service.complete(request);
      const r0 = await off.service.complete(request);
      const text = firstText(r);
      const text0 = firstText(r0);
      if (text !== text0) nDiffer++;
      if (r.kind !== 'ok') continue;
      const first = r.tokens[0];
      assert.ok(first !== undefined);
      assert.ok(tok.decode([first]).startsWith(h.text), `${JSON.stringify(tok.decode([first]))} starts with ${JSON.stringify(h.text)}`);
      assert.ok(tok.decode(r.tokens).startsWith(h.text + text), JSON.stringify({ healed: h.text, text, all: tok.decode(r.tokens) }));
    }
    assert.ok(nDiffer > 0, 'healing changed at least one completion');
  });

  void it('at a line\'s indentation the completion starts with code, not with more indentation', async () => {
    const tok = (await on.host.acquire())?.tokenizer;
    assert.ok(tok);
    const atIndent = [
      { languageId: 'python', uri: 'file:///w/i0.py', prefix: 'def read_lines(path):\n    ', suffix: '\n' },
      { languageId: 'python', uri: 'file:///w/i1.py', prefix: 'class Stack:\n    def __init__(self):\n        ', suffix: '\n' },
      { languageId: 'typescript', uri: 'file:///w/i2.ts', prefix: 'export function add(a: number, b: number): number {\n  ', suffix: '\n}\n' },
      { languageId: 'typescript', uri: 'file:///w/i3.ts', prefix: 'class A {\n    run(x: string): void {\n        ', suffix: '\n    }\n}\n' },
    ];
    let nText = 0;
    for (const p of atIndent) {
      const h = healingFor(tok, p.prefix);
      assert.ok(h?.indent, p.prefix);
      const r = await on.service.complete(p);
      if (r.kind !== 'ok') continue;
      const text = r.texts[0] ?? '';
      nText += text === '' ? 0 : 1;
      assert.ok(!/^[ \t]/.test(text), `${JSON.stringify(p.prefix)} → ${JSON.stringify(text)}`);
      assert.ok(tok.decode(r.tokens).startsWith(h.text + text));
    }
    assert.ok(nText >= 2, 'most of these prompts get a completion');
  });
});
