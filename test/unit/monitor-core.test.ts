import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spellings } from '../../server/monitor/canonical';
import { Monitor, type MonitorOptions } from '../../server/monitor/monitor';
import { fakeTokenizer, TableSource } from '../fixtures/monitor/fakes';

const vocab = [
  '', '.', '.length', '.push', '.x', '?.', 'len', 'gth', 'gth(', 'length', 'length(', 'push', 'pu', 'sh', '(', ')', ');',
  ';', ' ', 'x', 'obj', '"', 'y', 'get', 'X', '1', '\n', 'a', 'b', '.(',
];
const tok = fakeTokenizer(vocab);
const members = { 'obj.': ['length', 'push', 'get', 'getX'], 'obj?.': ['length'], 'x.': [] };

function monitor(prefix: string, source: TableSource, over: Partial<MonitorOptions> = {}): Monitor {
  return new Monitor({
    languageId: 'typescript', uri: 'file:///w/a.ts', prefix, suffix: '\n}\n', tokenizer: tok, source, log: () => {}, budgetMs: 1000,
    canonical: false, // the byte rule alone; canonical spelling has its own cases below
    ...over,
  });
}

/** The tokens the monitor allows now (check, one by one). */
function allowed(m: Monitor): string[] {
  return vocab.flatMap((t, id) => (m.check(id) ? [t] : []));
}

function masked(m: Monitor): string[] | undefined {
  const a = new Uint8Array(tok.vocabSize);
  if (!m.mask(a)) return undefined;
  return vocab.filter((_, id) => a[id] === 1);
}

void describe('Monitor', () => {
  void it('cursor right after `obj.`: waits for the answer, then allows only member prefixes', async () => {
    const src = new TableSource(members);
    const m = monitor('function f() {\n  obj.', src);
    const wait = m.pending();
    assert.ok(wait);
    await wait;
    assert.equal(m.pending(), undefined);
    assert.deepEqual(allowed(m), ['len', 'length', 'length(', 'push', 'pu', 'get']);
    assert.deepEqual(masked(m), allowed(m));
    assert.equal(m.canStop(), false);
    assert.equal(src.queries.length, 1);
    assert.equal(src.queries[0]?.trigger, '.');
    assert.deepEqual(src.queries[0]?.position, { line: 1, character: 6 });
  });

  void it('multi-token identifier, then release at the break character', async () => {
    const m = monitor('obj.', new TableSource(members));
    await m.pending();
    m.advance(tok.id('len'));
    assert.deepEqual(allowed(m), ['gth', 'gth(']);
    m.advance(tok.id('gth'));
    assert.equal(m.canStop(), true);
    assert.ok(m.check(tok.id(');')));
    assert.ok(!m.check(tok.id('x')));
    m.advance(tok.id('('));
    assert.deepEqual(allowed(m), vocab, 'released: everything allowed');
    assert.equal(m.current(), undefined);
  });

  void it('a whole identifier followed by more identifier text is rejected; by a break it is allowed', async () => {
    const m = monitor('obj.', new TableSource(members));
    await m.pending();
    m.advance(tok.id('get'));
    assert.ok(m.check(tok.id('X')));
    assert.ok(m.check(tok.id('(')));
    assert.ok(!m.check(tok.id('y')));
    assert.ok(m.check(tok.id('')), 'end of text after a whole identifier');
  });

  void it('trigger in generated text; rollback restores the exact state', async () => {
    const src = new TableSource(members);
    const m = monitor('const n = ', src);
    m.advance(tok.id('obj'));
    assert.equal(m.pending(), undefined);
    m.advance(tok.id('.'));
    await m.pending();
    assert.deepEqual(m.current()?.identifiers, ['get', 'getX', 'length', 'push']);
    const before = allowed(m);
    m.advance(tok.id('pu'));
    m.advance(tok.id('sh'));
    m.advance(tok.id('('));
    m.rollback(3);
    assert.deepEqual(allowed(m), before);
    m.rollback(1);
    assert.deepEqual(allowed(m), vocab.filter((t) => t !== '.x' && t !== '.('), 'after `obj` the answer for `obj.` is known');
    m.advance(tok.id('.'));
    assert.equal(m.pending(), undefined, 'same text before the operator: cached answer');
    assert.equal(src.queries.length, 1);
    assert.throws(() => m.rollback(5), RangeError);
  });

  void it('after rollback past the operator, a cached answer judges `.` followed by a break', async () => {
    const m = monitor('obj', new TableSource(members));
    m.advance(tok.id('.'));
    await m.pending?.();
    m.rollback(1);
    assert.ok(m.check(tok.id('.')));
    assert.ok(!m.check(tok.id('.x')));
    assert.ok(!m.check(tok.id('.(')), 'an empty identifier cannot end');
  });

  void it('`?.` triggers with its own query', async () => {
    const src = new TableSource(members);
    const m = monitor('obj', src);
    m.advance(tok.id('?.'));
    await m.pending();
    assert.equal(src.queries[0]?.trigger, '?.');
    assert.deepEqual(allowed(m), ['len', 'length', 'length(']);
  });

  void it('no legal candidates (empty answer) → unconstrained', async () => {
    const m = monitor('x.', new TableSource(members));
    await m.pending();
    assert.deepEqual(allowed(m), vocab);
    assert.equal(masked(m), undefined);
    assert.equal(m.stats.nEmpty, 1);
  });

  void it('a late answer → unconstrained, with one log line', async () => {
    const lines: string[] = [];
    const src = new TableSource(members, 'manual');
    const m = monitor('obj.', src, { budgetMs: 5, log: (l) => lines.push(l) });
    await m.pending();
    assert.equal(m.stats.nLate, 1);
    assert.deepEqual(allowed(m), vocab);
    src.waiting.forEach((release) => release());
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /no answer within 5 ms/);
  });

  void it('the budget counts from when decoding waits, not from the query', async () => {
    const src = new TableSource(members, 'manual');
    const m = monitor('obj.', src, { budgetMs: 5 });
    // Prompt building and prefill run meanwhile: longer than the budget.
    await new Promise((r) => setTimeout(r, 30));
    src.waiting.forEach((release) => release());
    await m.pending();
    assert.equal(m.stats.nLate, 0);
    assert.deepEqual(allowed(m), ['len', 'length', 'length(', 'push', 'pu', 'get']);
  });

  void it('typed text that fits no member → unconstrained', async () => {
    const m = monitor('obj.', new TableSource(members, 'manual'), { budgetMs: 1000 });
    // The loop did not await: tokens pass while the answer is out.
    assert.ok(m.check(tok.id('x')));
    m.advance(tok.id('x'));
    // Free text, except operator+identifier tokens while their (new) answer is out.
    assert.deepEqual(allowed(m), vocab.filter((t) => !['.length', '.push', '.x'].includes(t)));
  });

  void it('no trigger inside strings, comments or numbers', () => {
    for (const prefix of ['s = "obj', '// obj', 'n = 1']) {
      const m = monitor(prefix, new TableSource(members));
      m.advance(tok.id('.'));
      assert.equal(m.pending(), undefined, prefix);
    }
  });

  void it('operator+identifier token, synchronous source: judged at once', () => {
    const m = monitor('obj', new TableSource(members, 'sync'));
    assert.ok(m.check(tok.id('.length')));
    assert.ok(m.check(tok.id('.push')));
    assert.ok(!m.check(tok.id('.x')));
    assert.deepEqual(masked(m), vocab.filter((t) => t !== '.x'));
    m.advance(tok.id('.length'));
    assert.equal(m.canStop(), true);
    assert.ok(m.check(tok.id('(')));
    assert.ok(!m.check(tok.id('y')));
  });

  void it('a mask asks nothing new: operator+identifier tokens without an answer are left out, the operator alone stays', () => {
    const src = new TableSource(members, 'sync');
    const m = monitor('obj', src);
    const a = masked(m);
    assert.equal(src.queries.length, 0, 'no static-analysis call from a mask');
    assert.deepEqual(a, vocab.filter((t) => !['.length', '.push', '.x'].includes(t)));
    assert.ok(m.check(tok.id('.push')), 'the sampled token is asked about');
    assert.equal(src.queries.length, 1);
    assert.deepEqual(masked(m), vocab.filter((t) => t !== '.x'), 'judged by the answer now in');
  });

  void it('operator+identifier token, asynchronous source: split at the operator until the answer is in', async () => {
    const src = new TableSource(members, 'manual');
    const m = monitor('obj', src);
    assert.ok(!m.check(tok.id('.length')));
    assert.equal(m.stats.nSplit, 1);
    assert.deepEqual(masked(m), vocab.filter((t) => !['.length', '.push', '.x'].includes(t)));
    src.waiting.forEach((release) => release());
    m.advance(tok.id('.'));
    await m.pending();
    assert.deepEqual(allowed(m), ['len', 'length', 'length(', 'push', 'pu', 'get']);
    m.rollback(1);
    assert.ok(m.check(tok.id('.push')), 'the answer is in now');
    assert.ok(!m.check(tok.id('.x')));
  });

  void it('anticipated operator (token healing moved `.` into the completion): asked at once, awaited before the first step, then `.length` is judged whole', async () => {
    const src = new TableSource(members, 'manual');
    const m = monitor('obj', src, { anticipate: '.' });
    assert.equal(src.waiting.length, 1, 'asked before any token');
    const wait = m.pending();
    assert.ok(wait, 'the first step waits for the answer');
    src.waiting.forEach((release) => release());
    await wait;
    assert.equal(src.queries[0]?.offset, 'obj.'.length);
    assert.ok(m.check(tok.id('.length')));
    assert.ok(!m.check(tok.id('.x')));
    assert.equal(m.stats.nSplit, 0);
    m.advance(tok.id('.length'));
    assert.equal(m.pending(), undefined);
    assert.equal(src.queries.length, 1, 'the same query serves the generated operator');
    // Healed text without an operator at its end, or the cursor already after one: nothing anticipated.
    const none = new TableSource(members, 'manual');
    assert.equal(monitor('obj', none, { anticipate: 'ect' }).pending(), undefined);
    assert.equal(none.waiting.length, 0);
  });

  void it('cursorNames (a retry without a rejected name): the cursor access is constrained to them and not asked again; later accesses are', async () => {
    const src = new TableSource(members);
    const m = monitor('obj.', src, { cursorNames: ['length', 'get', 'getX'] });
    assert.equal(m.pending(), undefined, 'known at once');
    assert.deepEqual(allowed(m), ['len', 'length', 'length(', 'get']);
    assert.ok(!m.check(tok.id('push')) && !m.check(tok.id('pu')), 'the rejected name is gone');
    assert.deepEqual(m.cursorMembers(), ['get', 'getX', 'length']);
    assert.equal(src.queries.length, 0);
    m.advance(tok.id('get'));
    m.advance(tok.id(';'));
    m.advance(tok.id('obj'));
    m.advance(tok.id('.'));
    await m.pending();
    assert.equal(src.queries.length, 1, 'an access in the generated text is asked as usual');
    assert.ok(m.check(tok.id('push')));
    // Healing moved the operator into the completion: the anticipated access takes the names.
    const healed = new TableSource(members, 'manual');
    const h = monitor('obj', healed, { anticipate: '.', cursorNames: ['push'] });
    assert.equal(healed.waiting.length, 0);
    assert.equal(h.pending(), undefined);
    assert.ok(h.check(tok.id('.push')));
    assert.ok(!h.check(tok.id('.length')));
  });

  void it('speculative draft checked token by token, rejected positions roll back', async () => {
    const m = monitor('obj.', new TableSource(members));
    await m.pending();
    const draft = tok.ids('pu', 'sh', '(', 'x', ')');
    let nAccepted = 0;
    for (const t of draft) {
      if (!m.check(t)) break;
      m.advance(t);
      nAccepted++;
    }
    assert.equal(nAccepted, draft.length);
    m.rollback(2);
    assert.ok(m.check(tok.id('x')));
    m.rollback(3);
    assert.ok(!m.check(tok.id('x')));
  });

  void it('draft positions never start a query: a member access with no answer yet ends the draft', async () => {
    const src = new TableSource(members, 'sync');
    const m = monitor('const n = ', src);
    // `obj` then `.length` / `.`: no query for `obj.` yet — a draft stops here, the model's own token may ask.
    m.advance(tok.id('obj'));
    assert.equal(m.checkDraft(tok.id('.length')), false);
    assert.equal(m.checkDraft(tok.id('.')), false);
    assert.equal(src.queries.length, 0, 'checking a draft asked nothing');
    assert.equal(m.check(tok.id('.length')), true, 'the chosen token asks (in-process source: at once)');
    assert.equal(src.queries.length, 1);
    // With the answer in, drafts are judged by it.
    assert.equal(m.checkDraft(tok.id('.length')), true);
    assert.equal(m.checkDraft(tok.id('.x')), false);
    assert.equal(m.checkDraft(tok.id('.')), true);
    await Promise.resolve();
  });
});

void describe('Monitor: canonical spelling', () => {
  const canonical = (prefix: string, source: TableSource, over: Partial<MonitorOptions> = {}): Monitor => monitor(prefix, source, { canonical: true, ...over });
  const text = (chunks: Uint8Array[][]): string[][] => chunks.map((c) => c.map((b) => new TextDecoder().decode(b)));

  void it('spells a name as the tokenizer does, after the operator and alone', () => {
    assert.deepEqual(text(spellings(tok, '.', 'getX')), [['get', 'X']]);
    assert.deepEqual(text(spellings(tok, '.', 'length')), [['length']], '`.length` merges operator and name; the name part is the same chunk');
    assert.deepEqual(text(spellings(tok, '', 'push')), [['push']]);
  });

  void it('after `obj.`: only the first token of some legal name as the tokenizer writes it (no `len`, no `pu`)', async () => {
    const m = canonical('obj.', new TableSource(members));
    await m.pending();
    assert.deepEqual(allowed(m), ['length', 'length(', 'push', 'get']);
    assert.deepEqual(masked(m), allowed(m));
  });

  void it('follows the spelling token by token; a whole name may still end or go on to a longer one', async () => {
    const m = canonical('obj.', new TableSource(members));
    await m.pending();
    m.advance(tok.id('get'));
    assert.ok(m.check(tok.id('X')), '`getX` is spelled get + X');
    assert.ok(m.check(tok.id('(')), '`get` is a whole name');
    assert.ok(!m.check(tok.id('y')));
  });

  void it('off every canonical path (a forced or typed `pu`), the byte rule alone applies', async () => {
    const m = canonical('obj.', new TableSource(members));
    await m.pending();
    m.advance(tok.id('pu'));
    assert.deepEqual(allowed(m), ['sh']);
    const typed = canonical('obj.len', new TableSource(members));
    await typed.pending();
    assert.deepEqual(allowed(typed), ['gth', 'gth('], 'the user typed `len`: finish it in any tokens that fit');
  });

  void it('an operator+identifier token is judged by the spelling of its identifier part', async () => {
    const m = canonical('const n = ', new TableSource(members, 'sync'));
    m.advance(tok.id('obj'));
    assert.equal(m.check(tok.id('.length')), true);
    assert.equal(m.check(tok.id('.push')), true);
    assert.equal(m.check(tok.id('.x')), false);
  });

  void it('a tokenizer that cannot spell the names leaves the byte rule in charge', async () => {
    const broken = { ...tok, encode: (): number[] => { throw new Error('no encoder'); } };
    const m = canonical('obj.', new TableSource(members), { tokenizer: broken });
    await m.pending();
    assert.deepEqual(allowed(m), ['len', 'length', 'length(', 'push', 'pu', 'get']);
  });

  void it('document prior: favours the next token of legal names the document already uses, by how often and how near, nothing else', async () => {
    const doc = 'function f() {\n  obj.push(1);\n  obj.push(2);\n  obj.getX();\n  obj.';
    const m = canonical(doc, new TableSource(members), { documentPrior: 3 });
    await m.pending();
    const bias = (mm: Monitor): [string, number][] => [...(mm.bias() ?? new Map<number, number>())].map(([id, v]): [string, number] => [vocab[id] as string, v]).sort();
    // Each use scores 1 / (1 + lines to the cursor / 20): push 3 and 2 lines away, getX 1 line away.
    const push = 1 / (1 + 3 / 20) + 1 / (1 + 2 / 20);
    const getX = 1 / (1 + 1 / 20);
    const got = bias(m);
    assert.deepEqual(got.map(([t]) => t), ['get', 'push'], '`push` and `getX` (spelled get + X) appear in the document; `length` does not');
    assert.equal(got[1]?.[1], 3, 'the best-scored name gets the whole amount');
    assert.ok(Math.abs((got[0]?.[1] ?? 0) - (3 * getX) / push) < 1e-9, `getX: its share of the best score (${got[0]?.[1]})`);
    // One use each: the nearer one comes first.
    const near = canonical('function f() {\n  obj.push(1);\n  obj.getX();\n  obj.', new TableSource(members), { documentPrior: 3 });
    await near.pending();
    assert.ok((bias(near)[0]?.[1] ?? 0) > (bias(near)[1]?.[1] ?? 0), 'getX (1 line away) over push (2 lines away)');
    m.advance(tok.id('get'));
    assert.equal(bias(m)[0]?.[0], 'X');
    m.advance(tok.id('X'));
    assert.equal(m.bias(), undefined, 'a whole name: nothing more to favour');
    // Used after another receiver only: half the weight. A bare word is no use at all.
    const elsewhere = canonical('x.length;\npush = 1;\nobj.', new TableSource(members), { documentPrior: 3 });
    await elsewhere.pending();
    assert.deepEqual(bias(elsewhere), [['length', 1.5]]);
    // Without the setting, no bias.
    const off = canonical(doc, new TableSource(members));
    await off.pending();
    assert.equal(off.bias(), undefined);
    // Healing moved the operator into the completion: operator and first chunk in one token.
    const healed = canonical('obj.push(1);\nobj', new TableSource(members), { documentPrior: 3, anticipate: '.' });
    await healed.pending();
    assert.deepEqual(bias(healed), [['.push', 3]]);
  });
});
