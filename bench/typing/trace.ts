// Typing traces: a region of a real source file retyped character by character with a seeded
// RNG — gaps of 60–200 ms between keys, pauses after lines and punctuation, occasional typos fixed
// with a backspace. After Enter the editor's auto-indent inserts the indentation with the newline.
import { createRng } from '../../server/engine/rng';

export type KeyEvent = { gapMs: number; kind: 'insert'; text: string } | { gapMs: number; kind: 'delete' };

export interface Trace {
  name: string;
  uri: string;
  languageId: string;
  /** The document before typing: the file with the region cut out. */
  initial: string;
  /** Offset of the cursor (region start) in `initial`. */
  offset: number;
  /** The region's text: what `events` type. */
  region: string;
  events: KeyEvent[];
}

export interface TraceOptions {
  seed: number;
  /** Region to retype: from the line containing `startFraction` of the file, about `nChars` long. */
  startFraction: number;
  nChars: number;
  typoRate?: number;
}

const letters = 'abcdefghijklmnopqrstuvwxyz';

export function makeTrace(name: string, uri: string, languageId: string, text: string, o: TraceOptions): Trace {
  const rng = createRng(o.seed);
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * rng.next();
  // Gaps: a skewed distribution between 60 and 200 ms (most keys ~90–140 ms).
  const keyGap = (): number => Math.round(60 + 140 * Math.pow(rng.next(), 1.6));
  const lineStart = text.lastIndexOf('\n', Math.floor(text.length * o.startFraction)) + 1;
  let end = text.indexOf('\n', lineStart + o.nChars);
  if (end < 0) end = text.length;
  else end += 1;
  const region = text.slice(lineStart, end);
  const events: KeyEvent[] = [];
  let pendingPause = 0;
  for (let i = 0; i < region.length; ) {
    const c = region[i] as string;
    const gapMs = keyGap() + pendingPause;
    pendingPause = 0;
    if (c === '\n') {
      let j = i + 1;
      while (j < region.length && (region[j] === ' ' || region[j] === '\t')) j++;
      events.push({ gapMs, kind: 'insert', text: region.slice(i, j) });
      i = j;
      // Thinking about the next line.
      if (rng.next() < 0.3) pendingPause = Math.round(uniform(500, 2500));
      continue;
    }
    if (/[a-z]/i.test(c) && rng.next() < (o.typoRate ?? 0.02)) {
      const wrong = letters[Math.floor(rng.next() * letters.length)] ?? 'x';
      events.push({ gapMs, kind: 'insert', text: wrong === c ? 'q' : wrong });
      events.push({ gapMs: keyGap() + 150, kind: 'delete' });
      events.push({ gapMs: keyGap(), kind: 'insert', text: c });
    } else {
      events.push({ gapMs, kind: 'insert', text: c });
    }
    if ('.(,;:='.includes(c) && rng.next() < 0.08) pendingPause = Math.round(uniform(300, 1200));
    i++;
  }
  return { name, uri, languageId, initial: text.slice(0, lineStart) + text.slice(end), offset: lineStart, region, events };
}

/** Keystrokes a trace contains (an auto-indented newline counts as one). */
export function nKeys(trace: Trace): number {
  return trace.events.length;
}
