// Stops a completion that has fallen into a loop: the same short text written again and again
// (`k, k, k, k, …`, `token: T, token: T, …`, one line three times, a group of lines twice). Small models do this when
// they run out of ideas; the loop then fills the token budget and the suggestion ends in the
// middle of it. The completion keeps the text up to the end of the loop's first copy.
import type { StopCriterion } from './stopping';

/** Longest repeated unit looked for, in characters (a whole line of code fits). */
const maxPeriod = 120;

/**
 * How many copies make a loop. A unit with a letter: 4 copies when shorter than 12 characters,
 * 3 when longer (three identical statements in a row are a loop, three `k, ` may be a list), and
 * 2 when it is longer and spans two lines or more (the same group of lines twice in a row: a
 * model that writes `elif …:` / `def …` / `pass` twice writes it again, and the third copy is
 * often cut mid-way, leaving a header without its body). A unit with digits but no letter (`00`,
 * `.0`): 8 copies and at least 16 characters, so `0x00000000` or `1000000` are not loops. Units
 * without letters or digits (`----`, blanks, ` *` comment lines) are never loops: separators and
 * indentation repeat on purpose.
 */
function copiesNeeded(unit: string): number | undefined {
  if (/\p{L}/u.test(unit)) return unit.length < 12 ? 4 : newlines(unit) >= 2 ? 2 : 3;
  if (/\p{N}/u.test(unit)) return Math.max(8, Math.ceil(16 / unit.length));
  return undefined;
}

function newlines(unit: string): number {
  let n = 0;
  for (let i = unit.indexOf('\n'); i >= 0; i = unit.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Watches a text that only grows (a decoder's output) for a loop at its end. Per period p it
 * keeps how many characters in a row at the end equal the one p before them, so each new
 * character costs one comparison per period and nothing is scanned again.
 */
export class LoopWatch {
  private readonly runs = new Int32Array(maxPeriod + 1);
  private seen = 0;

  /** Takes in the characters `text` has beyond those seen; a shorter text starts over. */
  update(text: string): void {
    if (text.length < this.seen) {
      this.runs.fill(0);
      this.seen = 0;
    }
    for (let i = this.seen; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      for (let p = 1; p <= maxPeriod; p++) this.runs[p] = i >= p && ch === text.charCodeAt(i - p) ? (this.runs[p] as number) + 1 : 0;
    }
    this.seen = text.length;
  }

  /**
   * The loop at the end of `text` (the text last given to `update`), if any: its period
   * (characters) and where it starts (its first copy is `text.slice(start, start + period)`).
   * Takes the shortest period that qualifies.
   */
  loop(text: string): { period: number; start: number } | undefined {
    const n = text.length;
    for (let p = 1; p <= maxPeriod; p++) {
      // The text is periodic with period p over its last `length` characters.
      const length = (this.runs[p] as number) + p;
      if (length < 2 * p) continue;
      const need = copiesNeeded(text.slice(n - p));
      if (need === undefined || length < need * p) continue;
      return { period: p, start: n - length };
    }
    return undefined;
  }
}

/** `LoopWatch`'s answer for a whole text at once. */
export function loopAtEnd(text: string): { period: number; start: number } | undefined {
  const watch = new LoopWatch();
  watch.update(text);
  return watch.loop(text);
}

const separator = /[,; ]/;

/**
 * Where to cut a loop: after its first copy, at a place a person would stop. A loop of lines
 * keeps whole lines: up to the end of the line the first copy ends on (the line before, when the
 * copy ends in a line's indentation). Within a line, before the
 * last separator (`,`, `;`, a blank) in the first copy that follows other text (`token: T, token:
 * T, …` keeps `token: T`); with none, exactly the first copy.
 */
export function loopCut(text: string, loop: { period: number; start: number }): number {
  const firstEnd = loop.start + loop.period;
  if (text.slice(loop.start, firstEnd).includes('\n')) {
    // The first copy ends in the indentation of a line: end at that line's start instead.
    const lineStart = text.lastIndexOf('\n', firstEnd - 1);
    if (lineStart >= loop.start && text.slice(lineStart + 1, firstEnd).trim() === '') return lineStart;
    const newline = text.indexOf('\n', firstEnd - 1);
    return newline < 0 ? firstEnd : newline;
  }
  for (let c = firstEnd; c > loop.start; c--) {
    if (separator.test(text[c] ?? '') && !separator.test(text[c - 1] ?? ' ')) return c;
  }
  return firstEnd;
}

/**
 * Ends the completion when it loops (see `LoopWatch`), keeping it up to the end of the loop's
 * first copy (`loopCut`). A loop the document itself writes just before the cursor (two copies in a row
 * among the prefix's last lines, in any phase: a table of zeros, `x, x, ` the user is typing)
 * is not one: the completion may go on with it.
 */
export function repetitionLoop(o: { prefix: string }): StopCriterion {
  const tail = o.prefix.slice(-2 * maxPeriod);
  const inPrefix = (unit: string): boolean => {
    for (let r = 0; r < unit.length; r++) {
      const rotated = unit.slice(r) + unit.slice(0, r);
      if (tail.includes(rotated + rotated)) return true;
    }
    return false;
  };
  const watch = new LoopWatch();
  return {
    check: (s) => {
      watch.update(s.text);
      if (s.nNewChars === 0) return undefined;
      const loop = watch.loop(s.text);
      if (loop === undefined || inPrefix(s.text.slice(s.text.length - loop.period))) return undefined;
      return { reason: 'repetition', keepChars: loopCut(s.text, loop) };
    },
  };
}
