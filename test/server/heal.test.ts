// Token healing through the completion service with the real model: the first generated tokens
// re-spell the word at the cursor (span word, the default: the prompt's own tokens of it up to a
// cut, then one token that starts with the rest) or the prefix's last token (span token); the
// result is what follows; turning it off, or the span, changes completions (neither is a no-op).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { healingFor } from '../../server/context/heal';
import { midWordPrompts, midWordRequest } from './heal-prompts';
import { firstText, goldenSettings, startService, type ServiceUnderTest } from './service-helpers';


void describe('token healing through the completion service (real model)', () => {
  let on: ServiceUnderTest;
  let onToken: ServiceUnderTest;
  let off: ServiceUnderTest;
  before(async () => {
    on = await startService((s) => { const g = goldenSettings(s); return { ...g, completion: { ...g.completion, tokenHealing: true } }; });
    onToken = await startService((s) => { const g = goldenSettings(s); return { ...g, completion: { ...g.completion, tokenHealing: true, tokenHealingSpan: 'token' } }; });
    off = await startService(goldenSettings);
  });
  after(async () => {
    await on.service.shutdown();
    await onToken.service.shutdown();
    await off.service.shutdown();
  });

  void it('span token: the first token re-spells the healed text; the completion is what follows it', async () => {
    const tok = (await onToken.host.acquire())?.tokenizer;
    assert.ok(tok);
    let nDiffer = 0;
    for (const [i, p] of midWordPrompts.entries()) {
      const request = midWordRequest(p, i, 'heal');
      const h = healingFor(tok, p.prefix, 'token');
      assert.ok(h, p.prefix);
      const r = await onToken.service.complete(request);
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

  void it('span word: the word is re-spelled as the prompt spelled it up to a cut, then by one token; the completion is what follows it', async () => {
    const tok = (await on.host.acquire())?.tokenizer;
    assert.ok(tok);
    const textOf = (id: number): string => tok.decode([id]);
    let nDiffer = 0;
    let nWords = 0;
    for (const [i, p] of midWordPrompts.entries()) {
      const request = midWordRequest(p, i, 'heal');
      const h = healingFor(tok, p.prefix);
      assert.ok(h, p.prefix);
      nWords += h.cuts.length > 0 ? 1 : 0;
      const r = await on.service.complete(request);
      const rToken = await onToken.service.complete(request);
      const text = firstText(r);
      if (text !== firstText(rToken)) nDiffer++;
      if (r.kind !== 'ok') continue;
      assert.ok(tok.decode(r.tokens).startsWith(h.text + text), JSON.stringify({ healed: h.text, text, all: tok.decode(r.tokens) }));
      // The re-spelling: whole pieces of the prompt's spelling, ending at a cut, then a token that covers the rest.
      let done = 0;
      let k = 0;
      for (; done < h.text.length; k++) {
        const t = textOf(r.tokens[k] as number);
        if (t.startsWith(h.text.slice(done))) break;
        done += t.length;
        assert.ok(h.text.startsWith(t, done - t.length) && h.cuts.includes(new TextEncoder().encode(h.text.slice(0, done)).length), `${JSON.stringify(p.prefix)}: token ${k} ${JSON.stringify(t)} ends at no cut of ${JSON.stringify(h.text)}`);
      }
      assert.ok(k < r.tokens.length, 'a token finishes the word');
    }
    assert.ok(nWords >= 3, `${nWords} prompts end in a word of several tokens`);
    assert.ok(nDiffer > 0, 'the span changed at least one completion');
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

void describe('a healed word does not make the cursor line blank (real model)', () => {
  // The cursor line's only word is healed away (`    DidChangeN` → `   `): the stopping rules
  // read the healed prefix, where a blank line lets a completion span lines. Mid-line in the
  // document, the completion keeps to the line.
  const prefix = [
    'var DidChangeWorkspaceFoldersNotification;',
    '(function (DidChangeWorkspaceFoldersNotification) {',
    "    DidChangeWorkspaceFoldersNotification.method = 'workspace/didChangeWorkspaceFolders';",
    '    DidChangeWorkspaceFoldersNotification.messageDirection = messages_1.MessageDirection.clientToServer;',
    '    DidChangeWorkspaceFoldersNotification.type = new messages_1.ProtocolNotificationType(DidChangeWorkspaceFoldersNotification.method);',
    '})(DidChangeWorkspaceFoldersNotification || (exports.DidChangeWorkspaceFoldersNotification = DidChangeWorkspaceFoldersNotification = {}));',
    'var WorkspaceFoldersRequest;',
    '(function (WorkspaceFoldersRequest) {',
    '    WorkspaceFoldersN',
  ].join('\n');
  const suffix = '\n})(WorkspaceFoldersRequest || (exports.WorkspaceFoldersRequest = WorkspaceFoldersRequest = {}));\n';
  let sut: ServiceUnderTest;
  before(async () => {
    sut = await startService((s) => ({ ...s, completion: { ...s.completion, multiline: 'auto' } }));
  });
  after(async () => {
    await sut.service.shutdown();
  });

  void it('the completion of a line whose only word is healed stays on that line', async () => {
    const tok = (await sut.host.acquire())?.tokenizer;
    assert.ok(tok);
    assert.equal(healingFor(tok, prefix)?.text, ' WorkspaceFoldersN', 'the whole word is healed, leaving the indentation');
    const r = await sut.service.complete({ uri: 'file:///w/wf.js', languageId: 'javascript', prefix, suffix });
    assert.equal(r.kind, 'ok', JSON.stringify(r));
    const text = firstText(r);
    assert.ok(text.length > 0);
    assert.ok(!text.includes('\n'), JSON.stringify(text));
  });
});
