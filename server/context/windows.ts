// Token-budgeted windows of the text before and after the cursor, cut at line boundaries.
//
// Stability: the prefix window starts at every `snapLines`-th line of the file, chosen from the
// completed lines only (everything before the cursor's line) with a reserve of `maxTokens / 8` for
// the cursor's line. While the user types, consecutive prompts therefore start at the same place
// and share their KV cache; the start jumps by whole snapped blocks, and only on Enter or edits
// above (token counts of the cursor's line go up and down as BPE merges a word being typed).
//
// Speed: tokenizers in JS run at ~1 µs per character, so token counts of snapped blocks are
// memoized by their text, and the completed part of the window is encoded once and reused while
// only the cursor's line changes — when the tokenizer splits at newlines (checked once per
// tokenizer), the window's ids are those ids plus the cursor line's.
import type { TokenizerLike } from '../engine/model';

/** Upper bound on characters per token for the code tokenizers we know (long space runs). */
const maxCharsPerToken = 16;

export interface PrefixWindow {
  /** Character offset in the prefix where the window starts. */
  start: number;
  ids: number[];
}

export interface SuffixWindow {
  /** Character offset in the suffix where the window ends (exclusive). */
  end: number;
  ids: number[];
}

interface TokenizerMemo {
  /** encode(a + b) == encode(a) ++ encode(b) when a ends with '\n' and b has none. */
  splitsAtNewline: boolean;
  blockCounts: Map<string, number>;
  completed?: { text: string; ids: number[] };
  suffix?: { text: string; maxTokens: number; window: SuffixWindow };
}

const memos = new WeakMap<TokenizerLike, TokenizerMemo>();
const maxMemoBlocks = 8192;

function memoFor(tok: TokenizerLike): TokenizerMemo {
  let memo = memos.get(tok);
  if (memo === undefined) {
    memo = { splitsAtNewline: checkSplitsAtNewline(tok), blockCounts: new Map() };
    memos.set(tok, memo);
  }
  return memo;
}

/** SentencePiece-style tokenizers add a word-start marker to each encode: they fail this. */
function checkSplitsAtNewline(tok: TokenizerLike): boolean {
  const samples: [string, string][] = [
    ['x = 1\n', '    y'],
    ['a\n\n', 'b'],
    ['foo  \n', '  '],
    ['if (x) {\n', '\treturn'],
    ['\n', 'é'],
    ['end;\r\n', ' z'],
  ];
  return samples.every(([a, b]) => {
    const whole = tok.encode(a + b);
    const parts = [...tok.encode(a), ...tok.encode(b)];
    return whole.length === parts.length && whole.every((id, i) => id === parts[i]);
  });
}

function blockCount(tok: TokenizerLike, memo: TokenizerMemo, text: string): number {
  let n = memo.blockCounts.get(text);
  if (n === undefined) {
    n = tok.encode(text).length;
    if (memo.blockCounts.size >= maxMemoBlocks) memo.blockCounts.clear();
    memo.blockCounts.set(text, n);
  }
  return n;
}

/** ids of prefix[start:], reusing the encoded completed lines when the tokenizer allows it. */
function encodeWindow(tok: TokenizerLike, memo: TokenizerMemo, prefix: string, start: number, cursorLineStart: number): number[] {
  if (!memo.splitsAtNewline || start >= cursorLineStart) return tok.encode(prefix.slice(start));
  const completed = prefix.slice(start, cursorLineStart);
  if (memo.completed?.text !== completed) memo.completed = { text: completed, ids: tok.encode(completed) };
  return [...memo.completed.ids, ...tok.encode(prefix.slice(cursorLineStart))];
}

/** The largest index in [lo, hi] for which `fits` holds, assuming it is monotone (true…true false…). */
function lastTrue(lo: number, hi: number, fits: (i: number) => boolean): number | undefined {
  let found: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The last at most `maxTokens` tokens of `prefix`, starting at a snapped line when possible, else
 * at any line start, else (one huge line) at a token boundary of its last characters.
 */
export function prefixWindow(tok: TokenizerLike, prefix: string, maxTokens: number, snapLines = 16): PrefixWindow {
  if (maxTokens <= 0 || prefix === '') return { start: prefix.length, ids: [] };
  const memo = memoFor(tok);
  const charCap = maxTokens * maxCharsPerToken;
  const lowest = Math.max(0, prefix.length - charCap);
  const cursorLineStart = prefix.lastIndexOf('\n') + 1;
  const snapped: number[] = [];
  const any: number[] = [];
  for (let line = 0, start = 0; ; line++) {
    if (start >= lowest) {
      any.push(start);
      if (line % snapLines === 0) snapped.push(start);
    }
    const newline = prefix.indexOf('\n', start);
    if (newline < 0) break;
    start = newline + 1;
  }

  // Earliest snapped start whose completed lines fit the budget minus the cursor line's reserve,
  // counting block by block from the cursor backwards.
  const reserve = Math.max(1, Math.floor(maxTokens / 8));
  let first = snapped.length;
  let total = 0;
  for (let k = snapped.length - 1; k >= 0; k--) {
    const from = snapped[k] as number;
    const to = k + 1 < snapped.length ? (snapped[k + 1] as number) : cursorLineStart;
    total += from < to ? blockCount(tok, memo, prefix.slice(from, to)) : 0;
    if (total > maxTokens - reserve) break;
    first = k;
  }
  // Then the first of those whose whole window (with the cursor line) fits: usually `first` itself.
  for (let k = first; k < snapped.length; k++) {
    const start = snapped[k] as number;
    const ids = encodeWindow(tok, memo, prefix, start, cursorLineStart);
    if (ids.length <= maxTokens) return { start, ids };
  }
  // Long lines: any line start (binary search; later starts give fewer tokens).
  const j = lastTrue(0, any.length - 1, (j) => tok.encode(prefix.slice(any[any.length - 1 - j] as number)).length <= maxTokens);
  if (j !== undefined) {
    const start = any[any.length - 1 - j] as number;
    return { start, ids: encodeWindow(tok, memo, prefix, start, cursorLineStart) };
  }
  // The cursor's line alone is over budget: its last tokens, from a 1 KiB-aligned offset.
  const from = Math.max(0, prefix.length - charCap) & ~1023;
  const ids = tok.encode(prefix.slice(from));
  return { start: from, ids: ids.slice(Math.max(0, ids.length - maxTokens)) };
}

/** The first at most `maxTokens` tokens of `suffix`, ending at a line end when possible. */
export function suffixWindow(tok: TokenizerLike, suffix: string, maxTokens: number): SuffixWindow {
  if (maxTokens <= 0 || suffix === '') return { end: 0, ids: [] };
  const charCap = maxTokens * maxCharsPerToken;
  const memo = memoFor(tok);
  // Typing before the suffix leaves it unchanged: reuse the last answer.
  const head = suffix.slice(0, charCap + 1);
  if (memo.suffix !== undefined && memo.suffix.maxTokens === maxTokens && memo.suffix.text === head) return memo.suffix.window;
  const window = computeSuffixWindow(tok, suffix, maxTokens, charCap);
  memo.suffix = { text: head, maxTokens, window };
  return window;
}

function computeSuffixWindow(tok: TokenizerLike, suffix: string, maxTokens: number, charCap: number): SuffixWindow {
  const ends: number[] = [];
  for (let i = suffix.indexOf('\n'); i >= 0 && i < charCap; i = suffix.indexOf('\n', i + 1)) ends.push(i + 1);
  if (suffix.length <= charCap && !suffix.endsWith('\n')) ends.push(suffix.length);
  const cache = new Map<number, number[]>();
  const fits = (j: number): boolean => {
    const end = ends[j] as number;
    const ids = tok.encode(suffix.slice(0, end));
    cache.set(end, ids);
    return ids.length <= maxTokens;
  };
  const j = lastTrue(0, ends.length - 1, fits);
  if (j !== undefined) {
    const end = ends[j] as number;
    return { end, ids: cache.get(end) ?? tok.encode(suffix.slice(0, end)) };
  }
  // The first line alone is over budget: its first tokens.
  const ids = tok.encode(suffix.slice(0, Math.min(suffix.length, charCap))).slice(0, maxTokens);
  return { end: Math.min(suffix.length, charCap), ids };
}
