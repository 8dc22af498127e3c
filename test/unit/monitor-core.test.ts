import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
    languageId: 'typescript', uri: 'file:///w/a.ts', prefix, suffix: '\n}\n', tokenizer: tok, source, log: () => {}, budgetMs: 1000, ...over,
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
