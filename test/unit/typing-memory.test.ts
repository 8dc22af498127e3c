// The typing layer's memory: LRU order and eviction, exact-context keys, typing-through along the
// shown suggestion, invalidation by any edit off its path, partial acceptance.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lru } from '../../server/typing/lru';
import { CompletionMemory, type ContextRequest } from '../../server/typing/memory';

const state: ContextRequest = { uri: 'file:///a.py', languageId: 'python', prefix: 'def add(a, b):\n    ret', suffix: '\n\nprint(add(1, 2))\n' };
const at = (typed: string): ContextRequest => ({ ...state, prefix: state.prefix + typed });

describe('Lru', () => {
  it('evicts the least recently used entry; get and set refresh recency', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    assert.equal(lru.get('a'), 1);
    lru.set('d', 4);
    assert.deepEqual(lru.keys(), ['c', 'a', 'd']);
    lru.set('c', 30);
    lru.set('e', 5);
    assert.deepEqual(lru.keys(), ['d', 'c', 'e']);
    assert.equal(lru.peek('d'), 4);
    lru.resize(1);
    assert.deepEqual(lru.keys(), ['e']);
  });
});

describe('CompletionMemory cache', () => {
  it('hits only the exact context under the same fingerprint', () => {
    const m = new CompletionMemory(8);
    m.setFingerprint('settings-1', 8);
    m.store(state, { texts: ['urn a + b'], origin: 'model' });
    assert.deepEqual(m.lookup(state)?.texts, ['urn a + b']);
    const cases: [string, ContextRequest][] = [
      ['one more character', at('u')],
      ['other suffix', { ...state, suffix: state.suffix + ' ' }],
      ['other language', { ...state, languageId: 'javascript' }],
      ['other document', { ...state, uri: 'file:///b.py' }],
      ['an edit far above', { ...state, prefix: `#\n${state.prefix}` }],
      ['prefix/suffix split elsewhere', { ...state, prefix: state.prefix + '\n', suffix: state.suffix.slice(1) }],
    ];
    for (const [name, r] of cases) assert.equal(m.lookup(r), undefined, name);
    m.setFingerprint('settings-2', 8);
    assert.equal(m.lookup(state), undefined, 'settings changed');
  });

  it('evicts the oldest context beyond its capacity', () => {
    const m = new CompletionMemory(2);
    m.store(at('1'), { texts: ['1'], origin: 'model' });
    m.store(at('2'), { texts: ['2'], origin: 'model' });
    assert.ok(m.lookup(at('1')));
    m.store(at('3'), { texts: ['3'], origin: 'model' });
    assert.equal(m.lookup(at('2')), undefined);
    assert.ok(m.lookup(at('1')));
    assert.ok(m.lookup(at('3')));
    assert.equal(m.nEntries, 2);
  });
});

describe('CompletionMemory typing-through', () => {
  const shown = { ...state, texts: ['urn a + b'], origin: 'model' as const };

  it('serves the rest while typed characters match the suggestion', () => {
    const m = new CompletionMemory(8);
    m.remember(shown);
    const table: [string, string[] | undefined][] = [
      ['', undefined], // the state itself: the cache's business
      ['u', ['rn a + b']],
      ['urn a', [' + b']],
      ['urn a + ', ['b']],
      ['urn a + b', undefined], // all typed: nothing left to show
      ['x', undefined],
      ['urn b', undefined],
    ];
    for (const [typed, rests] of table) assert.deepEqual(m.typeThrough(at(typed))?.rests, rests, JSON.stringify(typed));
    assert.equal(m.typeThrough({ ...at('u'), suffix: '' }), undefined, 'suffix changed');
  });

  it('keeps every multi-draft alternative that still matches', () => {
    const m = new CompletionMemory(8);
    m.remember({ ...shown, texts: ['urn a + b', 'urn a - b', 'urn None'] });
    assert.deepEqual(m.typeThrough(at('urn a'))?.rests, [' + b', ' - b']);
  });

  it('is invalidated by any edit off the suggestion, kept along it', () => {
    const m = new CompletionMemory(8);
    m.remember(shown);
    const doc = (typed: string): string => state.prefix + typed + state.suffix;
    m.documentChanged(state.uri, doc('ur'));
    assert.ok(m.shown(state.uri));
    m.documentChanged('file:///other.py', 'x');
    assert.ok(m.shown(state.uri), 'other documents do not matter');
    m.documentChanged(state.uri, doc('urx'));
    assert.equal(m.shown(state.uri), undefined);
    // Going back to a matching text does not resurrect it: a non-matching edit ended it.
    m.documentChanged(state.uri, doc('ur'));
    assert.equal(m.typeThrough(at('ur')), undefined);
  });

  it('an edit elsewhere in the document invalidates too', () => {
    const m = new CompletionMemory(8);
    m.remember(shown);
    m.documentChanged(state.uri, `# header\n${state.prefix}u${state.suffix}`);
    assert.equal(m.shown(state.uri), undefined);
  });

  it('stores the rest under the state after a partial accept', () => {
    const m = new CompletionMemory(8);
    m.remember(shown);
    const after = m.partialAccept(state.uri, 'urn a + b', 4);
    assert.deepEqual(after, at('urn '));
    assert.deepEqual(m.lookup(at('urn '))?.texts, ['a + b']);
    // Reported on a typed-through rest: offsets count from the rest.
    const again = m.partialAccept(state.uri, 'rn a + b', 3);
    assert.deepEqual(again, at('urn '));
    assert.equal(m.partialAccept(state.uri, 'unknown', 2), undefined);
    assert.equal(m.partialAccept(state.uri, 'urn a + b', 9), undefined, 'all accepted: no rest');
  });
});
