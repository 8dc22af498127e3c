// The adaptive debounce policy: a table of cursor situations and typing rhythms.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adaptiveDebounce, ShownSuggestion, TypingRhythm, type DebounceInput } from '../../server/typing/debounce-policy';

const wait = (input: DebounceInput): number => {
  const d = adaptiveDebounce(input);
  assert.equal(d.kind, 'wait');
  return d.kind === 'wait' ? d.ms : NaN;
};

describe('adaptiveDebounce', () => {
  it('asks at once where the user pauses', () => {
    const table: [string, string, string][] = [
      ['after a dot at line end', '    self.', ''],
      ['after an open paren with an auto-closed one after', '    print(', ')'],
      ['on a fresh indented line', '        ', ''],
      ['after a keyword and a space', '    return ', ''],
      ['after = at line end', '  const x =', ''],
    ];
    for (const [name, lineBefore, lineAfter] of table) assert.equal(wait({ lineBefore, lineAfter, typingIntervalMs: 120 }), 0, name);
  });

  it('waits longer in the middle of a word than after punctuation, longer mid-line than at line end', () => {
    const word = wait({ lineBefore: '    resul', lineAfter: '', typingIntervalMs: 120 });
    const space = wait({ lineBefore: '    x + ', lineAfter: '', typingIntervalMs: 120 });
    const midLine = wait({ lineBefore: '    resul', lineAfter: ' = 1', typingIntervalMs: 120 });
    assert.ok(word > space, `${word} > ${space}`);
    assert.ok(midLine > word, `${midLine} > ${word}`);
    // A word is not "after a keyword": `returned` mid-word waits.
    assert.ok(wait({ lineBefore: '    returned', lineAfter: '' }) > 0);
  });

  it('follows the typing speed: a faster typist gets a shorter wait mid-word', () => {
    const fast = wait({ lineBefore: 'foo', lineAfter: '', typingIntervalMs: 70 });
    const slow = wait({ lineBefore: 'foo', lineAfter: '', typingIntervalMs: 200 });
    assert.ok(fast < slow);
    assert.ok(fast > 70, 'longer than the gap between keys: the request goes out when the user pauses');
    assert.ok(slow <= 400, 'capped');
  });

  it('after a trigger: at once while answers beat the next key, after a typing gap when they cannot', () => {
    const fast = wait({ lineBefore: '    self.', lineAfter: '', typingIntervalMs: 120, latencyMs: 60 });
    const slow = wait({ lineBefore: '    self.', lineAfter: '', typingIntervalMs: 120, latencyMs: 900 });
    assert.equal(fast, 0);
    assert.ok(slow >= 120 && slow < 200, String(slow));
    assert.ok(wait({ lineBefore: 'x + ', lineAfter: '', typingIntervalMs: 120, latencyMs: 900 }) >= 120);
  });

  it('asks sooner when completions are much faster than typing', () => {
    const slowModel = wait({ lineBefore: 'foo', lineAfter: '', typingIntervalMs: 150, latencyMs: 400 });
    const fastModel = wait({ lineBefore: 'foo', lineAfter: '', typingIntervalMs: 150, latencyMs: 10 });
    assert.ok(fastModel < slowModel);
  });

  it('manual mode never asks; a fixed setting overrides the policy', () => {
    assert.deepEqual(adaptiveDebounce({ lineBefore: 'x.', lineAfter: '', mode: 'manual' }), { kind: 'manual' });
    assert.equal(wait({ lineBefore: 'x.', lineAfter: '', fixedMs: 75 }), 75);
    assert.equal(wait({ lineBefore: 'x.', lineAfter: '', fixedMs: null }), 0);
  });
});

describe('TypingRhythm', () => {
  it('averages gaps between keys, ignoring pauses, and latencies', () => {
    const r = new TypingRhythm(0.5, 1000);
    assert.equal(r.intervalMs, undefined);
    for (const t of [0, 100, 200, 3000, 3100]) r.key(t);
    assert.equal(r.intervalMs, 100);
    r.key(3300);
    assert.equal(r.intervalMs, 150);
    r.observeLatency(40);
    r.observeLatency(20);
    assert.equal(r.latencyMs, 30);
  });
});

describe('ShownSuggestion', () => {
  it('a keystroke that types the next characters of the suggestion on screen asks at once', () => {
    const s = new ShownSuggestion();
    s.show('file:///a.ts', 3, 9, 'Length(x);');
    const cases: [string, string, number, number, string, boolean][] = [
      ['one character typed through', 'file:///a.ts', 3, 10, '  foo.getL', true],
      ['three typed through', 'file:///a.ts', 3, 12, '  foo.getLen', true],
      ['a character that differs', 'file:///a.ts', 3, 10, '  foo.getX', false],
      ['the whole suggestion typed: nothing left to show', 'file:///a.ts', 3, 19, '  foo.getLength(x);', false],
      ['another line', 'file:///a.ts', 4, 10, '  foo.getL', false],
      ['another document', 'file:///b.ts', 3, 10, '  foo.getL', false],
      ['cursor at or before where it was shown', 'file:///a.ts', 3, 9, '  foo.get', false],
    ];
    for (const [name, uri, line, character, lineText, expected] of cases) assert.equal(s.typesThrough(uri, line, character, lineText), expected, name);
    s.clear();
    assert.equal(s.typesThrough('file:///a.ts', 3, 10, '  foo.getL'), false);
    s.show('file:///a.ts', 3, 9, '');
    assert.equal(s.typesThrough('file:///a.ts', 3, 10, '  foo.getL'), false, 'an empty answer shows nothing');
  });

  it('typing through waits nothing, even mid-word and with slow completions', () => {
    assert.equal(wait({ lineBefore: '    resul', lineAfter: ' = 1', typingIntervalMs: 120, latencyMs: 500, typesThrough: true }), 0);
    assert.ok(wait({ lineBefore: '    resul', lineAfter: ' = 1', typingIntervalMs: 120, latencyMs: 500 }) > 0);
  });
});
