// Reads the text around the cursor once per completion: the lexical state at the cursor (from the
// text before it) and what the text after it expects of the completion. The suffix is lexed as if
// the completion had closed the top m frames, for m = 0, 1, …; the m that leaves the suffix with
// the fewest lexical errors (ties: the smallest m) says how many open frames the completion must
// close, and whether the suffix closes the rest (then the completion may close nothing else).
import { Cursor, K_INTERP, K_LINE_COMMENT, K_STR, run, type StepContext } from './lexer';
import type { LanguageSpec } from './languages';

export interface SuffixPlan {
  /** Frames at depth <= floor may not be closed by the completion (the suffix closes them). */
  readonly floor: number;
  /** The completion may stop once the open frames are exactly the cursor's frames up to this depth (or fewer, down to floor). */
  readonly stopDepth: number;
  /** The cursor is in a line comment that the suffix's newline ends: the completion may end inside it. */
  readonly stopInCursorComment: boolean;
  /** The rest of the cursor's line in the suffix is blank: a line comment the completion opens ends there. */
  readonly suffixLineBlank: boolean;
  /** Leading blanks of the suffix's first line, in columns (Python). */
  readonly suffixLead: number;
  /** Indentation of the first non-blank suffix line after the cursor's line, -1 if none (Python). */
  readonly nextIndent: number;
  /** How many frames the completion must close (diagnostics). */
  readonly nMustClose: number;
  /**
   * Brackets the completion must open and leave open: the suffix closes more than is open at the
   * cursor (a member value `{` whose members follow, a block the next lines are the body of).
   * While this is not 0, stopping is judged against the suffix read from that state (slow path).
   */
  readonly nMustOpen: number;
  /** Lexical errors the suffix has even so (diagnostics). */
  readonly nSuffixErrors: number;
  /**
   * Reference for the slow `canStop` test: the suffix's first bytes lexed from the planned stop
   * state have nErrors errors and leave `depth` frames open. A state whose suffix lexing does no
   * worse is a consistent place to stop (covers openers split by the cursor, like `'` + `''`).
   */
  readonly stopProbe: { readonly bytes: Uint8Array; readonly complete: boolean; readonly nErrors: number; readonly depth: number };
}

const utf8 = new TextEncoder();
/** How far into the suffix to look, in characters. */
const suffixWindow = 8192;
/** Most frames the completion is asked to close. */
const maxMustClose = 8;
/** Suffix bytes the slow canStop test lexes. */
const stopProbeBytes = suffixWindow;

/**
 * The lexical state at the cursor. `nLineFrames`: how many of the frames open at the cursor were
 * opened on the cursor's own line (the top ones).
 */
export function lexPrefix(lang: LanguageSpec, prefix: string): { cursor: Cursor; nErrors: number; nLineFrames: number } {
  const cursor = new Cursor();
  const x: StepContext = { lang, floor: 0, strict: false, own: false, indentation: lang.indentation, nErrors: 0 };
  const bytes = utf8.encode(prefix);
  const lineStart = bytes.lastIndexOf(10) + 1;
  run(cursor, bytes, x, 0, lineStart);
  let minDepth = cursor.depth;
  for (let i = lineStart; i < bytes.length; i++) {
    run(cursor, bytes, x, i, i + 1);
    minDepth = Math.min(minDepth, cursor.depth);
  }
  return { cursor, nErrors: x.nErrors, nLineFrames: cursor.depth - minDepth };
}

function popFrames(c: Cursor, m: number): Cursor {
  const out = c.clone();
  for (let i = 0; i < m && out.top !== undefined; i++) out.top = out.top.parent;
  if (m > 0) {
    out.pend = 0;
    out.pendFrame = undefined;
  }
  return out;
}

/** Lexes the suffix from `c` (mutated); counts errors and how the suffix treats the frames open at its start. */
export function probeSuffix(lang: LanguageSpec, c: Cursor, bytes: Uint8Array, complete: boolean): Probe {
  const baseDepth = c.depth;
  let minDepth = baseDepth;
  let nSoft = 0;
  let seenNewline = false;
  const x: StepContext = { lang, floor: 0, strict: false, own: true, indentation: false, nErrors: 0 };
  for (let i = 0; i < bytes.length; i++) {
    const before = c.top;
    const b = bytes[i] as number;
    run(c, bytes, x, i, i + 1);
    if (b === 10) seenNewline = true;
    if (c.depth < minDepth) {
      minDepth = c.depth;
      // `${ … }` that the suffix closes lines later: more likely the completion's to close.
      if (before?.kind === K_INTERP && seenNewline) nSoft++;
    }
  }
  let nUnclosed = 0;
  if (complete) {
    // A single-line string still open where the document ends is an error.
    if (c.top?.kind === K_STR && !c.top.multiline) x.nErrors++;
    for (let f = c.top; f !== undefined; f = f.parent) if (f.kind <= K_INTERP) nUnclosed++;
  }
  return { nErrors: x.nErrors, nClosed: baseDepth - minDepth, nSoft, nUnclosed, depth: c.depth };
}

export interface Probe {
  readonly nErrors: number;
  /** Frames open at the start that the suffix closes. */
  readonly nClosed: number;
  /** Unlikely readings (an interpolation closed lines later). */
  readonly nSoft: number;
  /** Brackets still open where the document ends. */
  readonly nUnclosed: number;
  /** Frames open after the suffix. */
  readonly depth: number;
}

/** `c` with `opener` lexed as the completion's own text. */
function openFrame(lang: LanguageSpec, c: Cursor, opener: number): Cursor {
  const out = c.clone();
  run(out, Uint8Array.of(opener), { lang, floor: 0, strict: false, own: true, indentation: false, nErrors: 0 });
  return out;
}

const openers = [123, 91, 40]; // { [ (
/** Most brackets the completion is asked to open. */
const maxMustOpen = 2;

/**
 * `nLineFrames`: the top frames at the cursor that its own line opened. One of them that the
 * suffix (as far as it is read) never closes is the completion's to close: a bracket opened on
 * the line, with the next statement after it. `mayAskToOpen`: the plan may ask the completion to
 * open brackets (SuffixPlan.nMustOpen); only when the prefix lexed cleanly. `suffixCut`: the
 * document goes on after `suffix` (its end is read like the end of the window, not of the file).
 */
export function planSuffix(lang: LanguageSpec, start: Cursor, suffix: string, nLineFrames = 0, mayAskToOpen = false, suffixCut = false): SuffixPlan {
  const text = suffix.slice(0, suffixWindow);
  const complete = !suffixCut && text.length === suffix.length;
  const bytes = utf8.encode(text);
  const nl = text.indexOf('\n');
  const firstLine = nl < 0 ? text : text.slice(0, nl);
  const suffixLineBlank = firstLine.trim() === '';
  // A line comment at the cursor whose line ends right away: the completion may end the comment
  // (newline) and go on with code; plan as if the comment were not there.
  const commentEndsHere = start.top?.kind === K_LINE_COMMENT && suffixLineBlank;
  const from = commentEndsHere ? popFrames(start, 1) : start;
  let best: { m: number; p: Probe; soft: number } | undefined;
  for (let m = 0; m <= Math.min(from.depth, maxMustClose); m++) {
    const p = probeSuffix(lang, popFrames(from, m), bytes, complete);
    // Brackets left open at the end count only when the suffix closes some: then the structure is
    // known. So do brackets of the cursor's line that the suffix leaves open.
    const lineLeftOpen = Math.max(0, nLineFrames - (commentEndsHere ? 1 : 0) - m - p.nClosed);
    const soft = p.nSoft + (p.nClosed > 0 ? p.nUnclosed : 0) + lineLeftOpen;
    if (best === undefined || p.nErrors < best.p.nErrors || (p.nErrors === best.p.nErrors && soft < best.soft)) best = { m, p, soft };
  }
  const chosen = best ?? { m: 0, p: { nErrors: 0, nClosed: 0, nSoft: 0, nUnclosed: 0, depth: 0 }, soft: 0 };
  const stopDepth = from.depth - chosen.m;
  // The suffix still has errors after any closing: does opening brackets (at most two) clear them
  // all? Then the completion has to open them (only asked when the prefix lexed cleanly).
  let stopState = popFrames(from, chosen.m);
  let nMustOpen = 0;
  if (mayAskToOpen && chosen.p.nErrors > 0) {
    let state = stopState;
    let errors = chosen.p.nErrors;
    for (let level = 0; level < maxMustOpen && errors > 0; level++) {
      let next: { c: Cursor; nErrors: number } | undefined;
      for (const opener of openers) {
        const c = openFrame(lang, state, opener);
        const p = probeSuffix(lang, c.clone(), bytes, complete);
        if (p.nErrors < (next?.nErrors ?? errors)) next = { c, nErrors: p.nErrors };
      }
      if (next === undefined) break;
      state = next.c;
      errors = next.nErrors;
      if (errors === 0) {
        stopState = state;
        nMustOpen = level + 1;
      }
    }
  }
  const probeBytes = bytes.subarray(0, stopProbeBytes);
  const ref = probeSuffix(lang, stopState.clone(), probeBytes, complete && probeBytes.length === bytes.length);
  return {
    floor: chosen.p.nClosed > 0 ? stopDepth : 0,
    stopDepth,
    stopInCursorComment: commentEndsHere,
    suffixLineBlank,
    suffixLead: leadColumns(firstLine),
    nextIndent: nextIndent(text, nl),
    nMustClose: chosen.m,
    nMustOpen,
    nSuffixErrors: chosen.p.nErrors,
    stopProbe: { bytes: probeBytes, complete: complete && probeBytes.length === bytes.length, nErrors: ref.nErrors, depth: ref.depth },
  };
}

function leadColumns(line: string): number {
  let col = 0;
  for (const ch of line) {
    if (ch === ' ') col++;
    else if (ch === '\t') col = (Math.floor(col / 8) + 1) * 8;
    else break;
  }
  return col;
}

function nextIndent(text: string, nl: number): number {
  if (nl < 0) return -1;
  for (const line of text.slice(nl + 1).split('\n')) {
    if (line.trim() === '') continue;
    return leadColumns(line);
  }
  return -1;
}
