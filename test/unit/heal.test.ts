// Token healing (server/context/heal.ts) over the embedded model's real tokenizer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealConstraint, healingFor } from '../../server/context/heal';
import { realTokenizer } from '../fixtures/monitor/docs';

const tok = realTokenizer();
const textOf = (id: number): string => new TextDecoder().decode(tok.tokenBytes(id));

void describe('token healing', () => {
  void it('the healed text is the prefix\'s last token, when it is text on the cursor\'s line', () => {
    for (const prefix of ['const folders = workspace.workspaceFol', 'def read_li', 'x = foo(', '    return self.']) {
      const h = healingFor(tok, prefix);
      assert.ok(h, prefix);
      const ids = tok.encode(prefix);
      assert.equal(h.text, textOf(ids[ids.length - 1] as number), prefix);
      assert.ok(prefix.endsWith(h.text) && h.text.length < prefix.length);
    }
    // Nothing to heal: an empty prefix, a prefix that is one token, a line break, a partial character.
    for (const prefix of ['', 'x', 'foo()\n', 'const s = "\u{1F600}'.slice(0, -1)]) assert.equal(healingFor(tok, prefix), undefined, JSON.stringify(prefix));
  });

  void it('the constraint: the first token must start with the healed text; then anything', () => {
    const h = healingFor(tok, 'const folders = workspace.workspaceFol');
    assert.ok(h);
    const c = new HealConstraint(tok, h);
    const allowed = new Uint8Array(tok.vocabSize);
    assert.ok(c.mask(allowed));
    let n = 0;
    for (let id = 0; id < tok.vocabSize; id++) {
      const ok: boolean = tok.tokenBytes(id).length > 0 && textOf(id).startsWith(h.text);
      assert.equal(allowed[id] === 1, ok, textOf(id));
      assert.equal(c.check(id), ok);
      n += ok ? 1 : 0;
    }
    assert.ok(n >= 1);
    assert.equal(c.canStop(), false, 'it may not end before re-spelling the text');
    const other = tok.encode(' = 1')[0] as number;
    c.advance(tok.encode(h.text)[0] as number);
    assert.equal(c.check(other), true);
    assert.equal(c.canStop(), true);
    c.rollback(1);
    assert.equal(c.check(other), false);
  });
});
