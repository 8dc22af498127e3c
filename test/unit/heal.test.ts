// Token healing (server/context/heal.ts) over the embedded model's real tokenizer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealConstraint, healingFor, healingMask, oneTokenHealing } from '../../server/context/heal';
import { realTokenizer } from '../fixtures/monitor/docs';

const tok = realTokenizer();
const textOf = (id: number): string => new TextDecoder().decode(tok.tokenBytes(id));

void describe('token healing', () => {
  void it('span token: the healed text is the prefix\'s last token, when it is text on the cursor\'s line', () => {
    for (const prefix of ['const folders = workspace.workspaceFol', 'def read_li', 'x = foo(', '    return self.']) {
      const h = healingFor(tok, prefix, 'token');
      assert.ok(h, prefix);
      const ids = tok.encode(prefix);
      assert.equal(h.text, textOf(ids[ids.length - 1] as number), prefix);
      assert.ok(prefix.endsWith(h.text) && h.text.length < prefix.length);
    }
    // Nothing to heal: an empty prefix, a prefix that is one token, a line break, a partial character.
    for (const prefix of ['', 'x', 'foo()\n', 'const s = "\u{1F600}'.slice(0, -1)]) assert.equal(healingFor(tok, prefix), undefined, JSON.stringify(prefix));
  });

  void it('span word (the default): the healed text is the word the cursor is in, with the prompt\'s token ends as cuts', () => {
    const cases: [string, string][] = [
      ['const folders = workspace.workspaceFol', '.workspaceFol'],
      ['    r = this.getRegistr', '.getRegistr'],
      ['def read_li', '_li'],
      ['    getRegistr', ' getRegistr'],
      ['const DEFAULT_TIMEO', '_TIMEO'],
      // Not a word: the last token, as with span token.
      ['x = foo(', '('],
      ['total = 12', '2'],
    ];
    for (const [prefix, healed] of cases) {
      const h = healingFor(tok, prefix);
      assert.ok(h, prefix);
      assert.equal(h.text, healed, prefix);
      assert.equal(h.indent, false);
      // The cuts are where the prompt's own tokens of the word end.
      const ids = tok.encode(prefix);
      const ends: number[] = [];
      let at = new TextEncoder().encode(prefix).length;
      for (let i = ids.length - 1; at > new TextEncoder().encode(prefix).length - h.bytes.length; i--) {
        at -= tok.tokenBytes(ids[i] as number).length;
        ends.unshift(at - (new TextEncoder().encode(prefix).length - h.bytes.length));
      }
      assert.deepEqual([0, ...h.cuts], ends, prefix);
      if (healed.length > 2) assert.ok(h.cuts.length > 0, `${prefix}: the prompt spells ${JSON.stringify(healed)} in several tokens`);
    }
    // A long letter run (a base64 literal) heals its last 8 tokens only.
    const blob = 'const data = "' + 'QmFzZTY0IGVuY29kZWQgdGV4dCB0aGF0IGlzIGxvbmcgZW5vdWdo'.replace(/[0-9]/g, 'x');
    const long = healingFor(tok, blob);
    assert.ok(long);
    assert.equal(long.cuts.length, 7, `${JSON.stringify(long.text)}: 8 tokens`);
    assert.ok(blob.endsWith(long.text) && long.text.length < blob.length - 'const data = "'.length);
    // A word that is the whole prefix is not healed whole: its first token stays in the prompt.
    assert.equal(healingFor(tok, 'getRegistr')?.text, 'getRegistr'.slice(textOf(tok.encode('getRegistr')[0] as number).length));
  });

  void it('a healed word is re-spelled as the prompt spelled it up to a cut, then by a token that starts with the rest', () => {
    const h = healingFor(tok, '    r = this.getRegistr');
    assert.ok(h && h.cuts.length >= 2);
    const c = new HealConstraint(tok, h);
    const allowedAt = (done: number): Set<number> => {
      const rest = h.text.slice(done);
      const ok = new Set<number>();
      for (let id = 0; id < tok.vocabSize; id++) {
        const t = textOf(id);
        if (t.length > 0 && (t.startsWith(rest) || (t.length < rest.length && rest.startsWith(t) && h.cuts.includes(done + t.length)))) ok.add(id);
      }
      return ok;
    };
    let done = 0;
    for (const cut of [...h.cuts]) {
      const expected = allowedAt(done);
      const mask = new Uint8Array(tok.vocabSize);
      assert.ok(c.mask(mask));
      for (let id = 0; id < tok.vocabSize; id++) {
        assert.equal(mask[id] === 1, expected.has(id), `at ${done}: ${JSON.stringify(textOf(id))}`);
        assert.equal(c.check(id), expected.has(id));
      }
      assert.equal(c.canStop(), false);
      // Re-spell up to the next cut with the prompt's own token.
      const piece = h.text.slice(done, cut);
      const [id] = tok.encode(piece);
      assert.ok(id !== undefined && textOf(id) === piece, piece);
      c.advance(id);
      done = cut;
    }
    // A split the prompt does not have is refused (`.` `g` for `.get`), a finishing token is allowed.
    c.rollback(h.cuts.length);
    assert.equal(c.check(tok.encode('.')[0] as number), tok.encode(h.text.slice(0, h.cuts[0]))[0] === tok.encode('.')[0]);
    const last = h.text.slice(h.cuts[h.cuts.length - 1]);
    for (const id of [tok.encode('ation')[0] as number]) assert.equal(c.check(id), false, 'text that does not re-spell the word');
    assert.ok(last.length > 0);
  });

  void it('the constraint: the first token must start with the healed text; then anything', () => {
    const h = healingFor(tok, 'const folders = workspace.workspaceFol', 'token');
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

  void it('an indent is re-spelled exactly: several tokens may share it, none may add a blank after it', () => {
    const ids = (text: string): number => {
      const e = tok.encode(text);
      assert.equal(e.length, 1, `${JSON.stringify(text)} is one token`);
      return e[0] as number;
    };
    const h = healingFor(tok, 'def read(path):\n    ');
    assert.ok(h);
    assert.deepEqual([h.text, h.indent], ['    ', true]);
    for (const prefix of ['x = foo(', 'a = 1  ', '    return self.']) assert.equal(healingFor(tok, prefix)?.indent, false, prefix);
    const three = ids('   ');
    const word = ids(' return');
    const c = new HealConstraint(tok, h);
    assert.equal(c.check(ids('       ')), false, 'a deeper indent');
    assert.equal(c.check(three), true, 'part of the indent');
    assert.equal(c.check(ids(' ')), true, 'part of the indent');
    assert.equal(c.check(word), false, 'the word comes one space too early');
    const allowed = new Uint8Array(tok.vocabSize);
    c.mask(allowed);
    for (let id = 0; id < tok.vocabSize; id++) assert.equal(allowed[id] === 1, c.check(id), textOf(id));
    c.advance(three);
    assert.equal(c.canStop(), false);
    assert.equal(c.check(word), true, 'the last space and the word');
    assert.equal(c.check(ids('  ')), false, 'one space too many');
    c.advance(word);
    assert.equal(c.canStop(), true);
    assert.equal(c.check(ids('  ')), true, 'anything once the indent is re-spelled');
    c.rollback(2);
    assert.equal(c.check(ids('       ')), false);
    // One token re-spelling the indent exactly: the next one may not start with a blank.
    c.advance(ids('    '));
    assert.equal(c.canStop(), true);
    assert.equal(c.check(word), false);
    assert.equal(c.check(ids('return')), true);
    assert.equal(c.check(ids('\n')), true);
    c.mask(allowed.fill(0));
    for (let id = 0; id < tok.vocabSize; id++) assert.equal(allowed[id] === 1, c.check(id), textOf(id));
    c.advance(ids('return'));
    assert.equal(c.check(word), true);
    c.rollback(1);
    assert.equal(c.check(word), false);
  });

  void it('spaces inside a line may be re-spelled over several tokens, and a longer run is allowed there', () => {
    const h = healingFor(tok, 'x = 1;      ');
    assert.ok(h);
    assert.equal(h.indent, false);
    const c = new HealConstraint(tok, h);
    const [longer] = tok.encode(h.text + '  ');
    assert.ok(longer !== undefined && textOf(longer).startsWith(h.text) && textOf(longer).length > h.text.length);
    assert.equal(c.check(longer), true);
    assert.equal(c.check(tok.encode(' ')[0] as number), true);
  });

  void it('oneTokenHealing (multi-draft): the longest tail of a word, from one of its cuts, that some token starts with', () => {
    const h = healingFor(tok, '    r = this.getRegistr');
    assert.ok(h && h.cuts.length > 0);
    const one = oneTokenHealing(tok, h);
    assert.deepEqual(one.cuts, []);
    assert.ok(h.text.endsWith(one.text) && one.text.length < h.text.length, one.text);
    const startsWithIt = (text: string): boolean => {
      for (let id = 0; id < tok.vocabSize; id++) if (tok.tokenBytes(id).length > 0 && textOf(id).startsWith(text)) return true;
      return false;
    };
    assert.ok(startsWithIt(one.text), `a token starts with ${JSON.stringify(one.text)}`);
    // No longer tail from a cut (or the whole word) has a token that starts with it.
    const bytes = new TextDecoder();
    for (const start of [0, ...h.cuts]) {
      const tail = bytes.decode(h.bytes.slice(start));
      if (tail.length > one.text.length) assert.equal(startsWithIt(tail), false, tail);
    }
    assert.equal(one.text, 'Registr', 'the model spells the word ` get` `Registration`');
    // Healings of one token come back unchanged.
    const single = healingFor(tok, 'x = foo(');
    assert.ok(single);
    assert.equal(oneTokenHealing(tok, single), single);
  });

  void it('healingMask (multi-draft first step) leaves exactly the tokens that start with the whole healed text', () => {
    for (const prefix of ['const folders = workspace.workspaceFol', 'x = 1;      ']) {
      const h = healingFor(tok, prefix, 'token');
      assert.ok(h, prefix);
      const row = new Float32Array(tok.vocabSize);
      healingMask(tok, h).process(row, []);
      let n = 0;
      for (let id = 0; id < tok.vocabSize; id++) {
        const ok: boolean = tok.tokenBytes(id).length > 0 && textOf(id).startsWith(h.text);
        assert.equal(row[id] === 0, ok, `${prefix}: ${JSON.stringify(textOf(id))}`);
        n += ok ? 1 : 0;
      }
      assert.ok(n >= 1);
    }
  });
});
