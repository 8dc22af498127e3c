import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowsToken, IdentifierSet, identJs, maskTokens, VocabIndex } from '../../server/monitor/trie';
import { fakeTokenizer } from '../fixtures/monitor/fakes';

const vocab = [
  '', 'l', 'le', 'len', 'length', 'lengthy', 'gth', 'gth(', 'length(', 'length);', 'length.', 'length\n', 'length ',
  'p', 'pu', 'push', 'sh', 'sh(', 'push(x', 'get', 'getX', 'X', 'X(', 't(', 'ge', 'x', '(', ')', ';', ' ', '.', '.length',
  '.push', '.x', 'é', 'caf', 'café', 'caf\xc3', '$', '$el', 'el', 'el.',
];
const tok = fakeTokenizer(vocab);
const index = VocabIndex.of(tok);
const legal = new IdentifierSet(['length', 'push', 'get', 'getX', 'café', '$el', '#secret', 'a-b', ''], identJs);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

void describe('monitor trie: allowsToken', () => {
  const cases: [p: string, token: string, allowed: boolean][] = [
    ['', 'len', true],
    ['', 'length', true],
    ['', 'length(', true],
    ['', 'length);', true],
    ['', 'length.', true],
    ['', 'length\n', true],
    ['', 'length ', true],
    ['', 'lengthy', false],
    ['', 'x', false],
    ['', '(', false],
    ['', ' ', false],
    ['', '', false],
    ['len', 'gth', true],
    ['len', 'gth(', true],
    ['l', 'e', true],
    ['l', 'x', false],
    ['pu', 'sh', true],
    ['pu', 'sh(', true],
    ['', 'push(x', true],
    ['get', '(', true],
    ['get', 'X', true],
    ['get', 'X(', true],
    ['ge', 't(', true],
    ['getX', '', true],
    ['length', '', true],
    ['length', ';', true],
    ['length', 'y', false],
    ['caf', 'é', true],
    ['', 'café', true],
    ['', '$el', true],
    ['$', 'el.', true],
    ['', 'el', false],
  ];
  for (const [p, token, allowed] of cases) {
    void it(`${JSON.stringify(p)} + ${JSON.stringify(token)} → ${allowed}`, () => {
      assert.equal(allowsToken(legal, enc(p), enc(token), identJs), allowed);
    });
  }

  void it('keeps only names made of identifier characters', () => {
    assert.deepEqual(legal.names, ['$el', 'café', 'get', 'getX', 'length', 'push']);
  });
});

void describe('monitor trie: maskTokens equals the rule token by token', () => {
  for (const p of ['', 'l', 'len', 'length', 'g', 'get', 'pu', 'caf', 'zz', '$']) {
    void it(`p = ${JSON.stringify(p)}`, () => {
      const allowed = new Uint8Array(tok.vocabSize + 3); // logits may be wider than the vocabulary
      const n = maskTokens(index, legal, enc(p), allowed, identJs);
      const expected = vocab.flatMap((_, id) => (allowsToken(legal, enc(p), tok.tokenBytes(id), identJs) ? [id] : []));
      const got = [...allowed].flatMap((v, id) => (v === 1 ? [id] : []));
      assert.deepEqual(got.map((id) => vocab[id]), expected.map((id) => vocab[id]));
      assert.equal(n, expected.length);
    });
  }

  void it('with a lead: operator+identifier tokens', () => {
    const allowed = new Uint8Array(tok.vocabSize);
    maskTokens(index, legal, enc(''), allowed, identJs, enc('.'));
    assert.deepEqual([...allowed].flatMap((v, id) => (v === 1 ? [vocab[id]] : [])), ['.length', '.push']);
  });

  void it('a partial UTF-8 token may continue a multi-byte identifier', () => {
    assert.equal(allowsToken(legal, enc(''), tok.tokenBytes(tok.id('caf\xc3')), identJs), false); // 'Ã' is U+00C3 → two other bytes
    assert.equal(allowsToken(legal, enc(''), Uint8Array.of(0x63, 0x61, 0x66, 0xc3), identJs), true);
    assert.equal(allowsToken(legal, Uint8Array.of(0x63, 0x61, 0x66, 0xc3), Uint8Array.of(0xa9, 0x28), identJs), true);
  });

  void it('builds one index per tokenizer', () => {
    assert.equal(VocabIndex.of(tok), index);
    assert.equal(index.sorted.length + index.empty.length, vocab.length);
  });
});
