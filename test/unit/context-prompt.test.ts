import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discoverFimTemplate } from '../../server/context/fim';
import { buildPrompt, displayPath } from '../../server/context/prompt';
import { prefixWindow, suffixWindow } from '../../server/context/windows';
import { commonPrefixLength } from '../../server/engine/prefill';
import { createRng } from '../../server/engine/rng';
import { FakeTokenizer } from './fakes';

const pieces = ['    ', '  ', '\n  ', '\n    ', 'const ', 'return ', 'function ', ' = ', '();', 'this.', 'value', 'item'];
const specials = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|file_sep|>'];
const tok = new FakeTokenizer({ specials, pieces });
const specterFim = {
  psm: true,
  spm: true,
  psm_format: '<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}',
  spm_format: '<|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>{middle}',
};

/** A plausible source file of `nLines` lines. */
function sourceText(nLines: number, seed = 1): string {
  const rng = createRng(seed);
  const words = ['const ', 'return ', 'value', 'item', 'this.', '();', ' = ', 'x', 'y', '42', '{', '}'];
  const lines: string[] = [];
  for (let i = 0; i < nLines; i++) {
    const indent = '  '.repeat(Math.floor(rng.next() * 3));
    let line = indent;
    const n = 1 + Math.floor(rng.next() * 6);
    for (let w = 0; w < n; w++) line += words[Math.floor(rng.next() * words.length)];
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}

describe('prefix window', () => {
  const text = sourceText(400);
  const cases: [number, number][] = [[50, 16], [200, 16], [200, 4], [1000, 16], [5000, 16]];
  for (const [maxTokens, snapLines] of cases) {
    it(`≤ ${maxTokens} tokens, starts at a snapped line (every ${snapLines}), uses the budget`, () => {
      const w = prefixWindow(tok, text, maxTokens, snapLines);
      assert.ok(w.ids.length <= maxTokens);
      assert.deepEqual(w.ids, tok.encode(text.slice(w.start)));
      assert.ok(w.start === 0 || text[w.start - 1] === '\n');
      const lines = text.split('\n');
      const lineIndex = text.slice(0, w.start).split('\n').length - 1;
      const blockTokens = tok.encode(lines.slice(lineIndex - snapLines, lineIndex).join('\n')).length;
      if (blockTokens < maxTokens / 2) {
        assert.equal(lineIndex % snapLines, 0);
        // Not wastefully short: one more snapped block would not have fit, so the window holds at
        // least budget - reserve - one block (blocks are counted one by one: this tokenizer's
        // "\n  " piece cannot merge across a block boundary, one token of slack per block).
        const nBlocks = Math.ceil((lines.length - lineIndex) / snapLines);
        if (w.start > 0) assert.ok(w.ids.length + blockTokens + nBlocks > maxTokens - Math.floor(maxTokens / 8), `${w.ids.length} tokens`);
      }
    });
  }

  it('stays put while the user types, jumping by whole snapped blocks', () => {
    let prefix = sourceText(300, 2);
    const typed = sourceText(40, 3);
    const starts = new Set<number>();
    for (const ch of typed) {
      prefix += ch;
      starts.add(prefixWindow(tok, prefix, 300, 16).start);
    }
    // 40 typed lines at ~1 token per 1.5 chars: the window moves a few times, never per keystroke.
    assert.ok(starts.size <= 4, `window start changed ${starts.size} times`);
  });

  it('reusing the encoded completed lines gives the same ids as encoding the window', () => {
    // No piece crosses a newline: the tokenizer passes the split check, so the memo path runs.
    const lineTok = new FakeTokenizer({ pieces: ['    ', 'const ', 'return ', ' = ', 'value'] });
    let prefix = sourceText(200, 8);
    for (const ch of sourceText(10, 9)) {
      prefix += ch;
      const w = prefixWindow(lineTok, prefix, 300);
      assert.deepEqual(w.ids, lineTok.encode(prefix.slice(w.start)));
    }
  });

  it('a single huge line keeps its last tokens', () => {
    const prefix = 'x'.repeat(200_000);
    const w = prefixWindow(tok, prefix, 100);
    assert.equal(w.ids.length, 100);
  });

  it('empty prefix and zero budget', () => {
    assert.deepEqual(prefixWindow(tok, '', 100), { start: 0, ids: [] });
    assert.deepEqual(prefixWindow(tok, 'abc', 0), { start: 3, ids: [] });
  });
});

describe('suffix window', () => {
  const text = sourceText(200, 4);
  for (const maxTokens of [1, 20, 100, 10_000]) {
    it(`≤ ${maxTokens} tokens, ends at a line end`, () => {
      const w = suffixWindow(tok, text, maxTokens);
      assert.ok(w.ids.length <= maxTokens);
      if (maxTokens >= 20) {
        assert.equal(text[w.end - 1], '\n');
        assert.deepEqual(w.ids, tok.encode(text.slice(0, w.end)));
      }
    });
  }
  it('suffix without a trailing newline is kept whole when it fits', () => {
    assert.deepEqual(suffixWindow(tok, ')\nfoo()', 50), { end: 7, ids: tok.encode(')\nfoo()') });
  });
  it('a single huge line keeps its first tokens', () => {
    assert.equal(suffixWindow(tok, 'y'.repeat(100_000), 64).ids.length, 64);
  });
});

describe('buildPrompt', () => {
  const prefix = sourceText(300, 5);
  const suffix = sourceText(100, 6);
  const ctx = { path: 'src/app.ts', languageId: 'typescript', prefix, suffix };

  it('respects the budgets', () => {
    const p = buildPrompt(tok, discoverFimTemplate(tok, specterFim), ctx, { maxPrefixTokens: 256, maxSuffixTokens: 64 });
    assert.ok(p.nPrefixTokens <= 256 && p.nSuffixTokens <= 64);
    assert.equal(p.ids.length, p.nHeaderTokens + p.nPrefixTokens + p.nSuffixTokens + 3);
  });

  it('a whole-prompt cap shrinks the prefix window first', () => {
    const template = discoverFimTemplate(tok, specterFim);
    for (const maxPromptTokens of [100, 200, 300]) {
      const p = buildPrompt(tok, template, ctx, { maxPrefixTokens: 256, maxSuffixTokens: 64, maxPromptTokens });
      assert.ok(p.ids.length <= maxPromptTokens, `${p.ids.length} > ${maxPromptTokens}`);
      assert.ok(p.nSuffixTokens > 40);
    }
  });

  it('PSM keeps the suffix window small', () => {
    const p = buildPrompt(tok, discoverFimTemplate(tok), ctx, { maxPrefixTokens: 256, maxSuffixTokens: 192 });
    assert.equal(p.layout, 'psm');
    assert.ok(p.nSuffixTokens <= 64);
    const wide = buildPrompt(tok, discoverFimTemplate(tok), ctx, { maxPrefixTokens: 256, maxSuffixTokens: 192 }, { psmMaxSuffixTokens: 1000 });
    assert.ok(wide.nSuffixTokens > 64);
  });

  // Typing one character changes only the last few tokens (SPM: the last word of the prefix +
  // <|fim_middle|>; PSM: also the suffix window after it).
  const layouts = [
    ['spm', discoverFimTemplate(tok, specterFim)],
    ['psm', discoverFimTemplate(tok)],
    ['prefix-only', discoverFimTemplate(new FakeTokenizer({ pieces }))],
  ] as const;
  for (const [name, template] of layouts) {
    it(`${name}: prompt for prefix + one char shares all but the last tokens`, () => {
      const rng = createRng(9);
      const t = name === 'prefix-only' ? new FakeTokenizer({ pieces }) : tok;
      for (let trial = 0; trial < 200; trial++) {
        const cut = Math.floor(rng.next() * prefix.length);
        const before = { ...ctx, prefix: prefix.slice(0, cut), suffix: prefix.slice(cut) + suffix };
        const after = { ...before, prefix: before.prefix + (prefix[cut] ?? 'x') };
        const a = buildPrompt(t, template, before, { maxPrefixTokens: 200, maxSuffixTokens: 64 });
        const b = buildPrompt(t, template, after, { maxPrefixTokens: 200, maxSuffixTokens: 64 });
        if (a.prefixStart !== b.prefixStart) continue; // the window jumped: allowed, rarely
        const shared = commonPrefixLength(a.ids, b.ids);
        const tail = name === 'psm' ? a.nSuffixTokens + 2 : 0;
        // The last word's tokens may merge (greedy pieces here, BPE merges in real tokenizers).
        assert.ok(shared >= a.ids.length - tail - 8, `trial ${trial}: shared ${shared} of ${a.ids.length}`);
      }
    });
  }

  it('the window start rarely moves over a typing session', () => {
    const template = discoverFimTemplate(tok, specterFim);
    let nJumps = 0;
    let last: number | undefined;
    const typed = sourceText(30, 7);
    for (let i = 0; i < typed.length; i++) {
      const p = buildPrompt(tok, template, { ...ctx, prefix: prefix + typed.slice(0, i) }, { maxPrefixTokens: 400, maxSuffixTokens: 64 });
      if (last !== undefined && p.prefixStart !== last) nJumps++;
      last = p.prefixStart;
    }
    assert.ok(nJumps <= 3, `${nJumps} jumps over ${typed.length} keystrokes`);
  });
});

describe('displayPath', () => {
  const cases: [string, string][] = [
    ['file:///home/me/project/src/app.ts', 'project/src/app.ts'],
    ['file:///c%3A/work/My%20Files/a.py', 'work/My Files/a.py'],
    ['src/a.ts', 'src/a.ts'],
    ['untitled:Untitled-1', 'untitled:Untitled-1'],
  ];
  for (const [input, expected] of cases) it(input, () => assert.equal(displayPath(input), expected));
});
