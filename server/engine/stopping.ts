// Stopping criteria as small composable units. The decode loop calls `check` after every generated
// token with the text so far; the first decision wins and may trim the text (e.g. drop a line that
// repeats the suffix). `finish` lets a criterion trim once more when generation ends for any other
// reason (EOS right after a duplicated `)`). Criteria may keep state: build fresh ones per request.
import { allowsMultiline, indentScope, lineScope, midLineSingleLine, singleLine, suffixDuplicate, trailingBlankLines, type MultilinePolicy } from './stopping-code';
import { repetitionLoop } from './stopping-repeat';

export type StopReason =
  | 'stop-token'
  | 'max-tokens'
  | 'max-lines'
  | 'single-line'
  | 'cancelled'
  | 'time-cap'
  | 'indent-scope'
  | 'suffix-duplicate'
  | 'repetition'
  | 'context-full'
  | 'constraint';

export interface StopState {
  /** Generated ids so far, newest last. */
  readonly tokens: readonly number[];
  /** Text of `tokens` (complete UTF-8 characters only). */
  readonly text: string;
  /** Characters the newest token added at the end of `text`. */
  readonly nNewChars: number;
  /** Clock reading for this token, ms. */
  readonly nowMs: number;
}

export interface StopDecision {
  readonly reason: StopReason;
  /** The completion is `text.slice(0, keepChars)`. */
  readonly keepChars: number;
}

export interface StopCriterion {
  check(state: StopState): StopDecision | undefined;
  /** Characters of the final `text` to keep when generation ended for another reason. */
  finish?(text: string): number;
}

/** Ends on EOS / FIM-end ids; a stop id with visible text (unusual) does not contribute it. */
export function stopTokens(ids: ReadonlySet<number>): StopCriterion {
  return {
    check: (s) => {
      const last = s.tokens[s.tokens.length - 1];
      return last !== undefined && ids.has(last) ? { reason: 'stop-token', keepChars: s.text.length - s.nNewChars } : undefined;
    },
  };
}

export function maxTokens(nMax: number): StopCriterion {
  return { check: (s) => (s.tokens.length >= nMax ? { reason: 'max-tokens', keepChars: s.text.length } : undefined) };
}

/** At most `nMax` lines: stops when the nMax-th newline appears and drops it. */
export function maxLines(nMax: number): StopCriterion {
  return {
    check: (s) => {
      const at = nthIndexOf(s.text, '\n', nMax);
      return at >= 0 ? { reason: 'max-lines', keepChars: at } : undefined;
    },
  };
}

/** Cancellation, checked at every token. The loop reports it as a `cancelled` outcome. */
export function cancellation(signal: AbortSignal): StopCriterion {
  return { check: (s) => (signal.aborted ? { reason: 'cancelled', keepChars: s.text.length } : undefined) };
}

/**
 * Once the completion has a newline, allow `capMs` more; then stop and keep whole lines only
 * (a half-written line is worse than none). Time comes from the loop's injected clock.
 */
export function timeCapAfterNewline(capMs: number): StopCriterion {
  let tFirstNewlineMs: number | undefined;
  return {
    check: (s) => {
      if (tFirstNewlineMs === undefined) {
        if (s.text.includes('\n')) tFirstNewlineMs = s.nowMs;
        return undefined;
      }
      if (s.nowMs - tFirstNewlineMs < capMs) return undefined;
      return { reason: 'time-cap', keepChars: Math.max(0, s.text.lastIndexOf('\n')) };
    },
  };
}

export interface CodeStopOptions {
  /** Document text before / after the cursor (only the lines near the cursor are used). */
  prefix: string;
  suffix: string;
  /** Columns per tab when comparing indentation. */
  tabSize?: number;
  /**
   * Text token healing moved from the end of the document's prefix into the completion, which
   * re-spells it first (context/heal.ts): `prefix` + `healed` is the document before the cursor.
   * Whether the completion may span lines and whether the cursor's line is blank are decided on
   * the document's line: a line whose only word was healed away (`    DidChangeN` → `   `) is
   * not blank. (indentScope reads `prefix`.)
   */
  healed?: string;
}

export interface StandardStopOptions extends CodeStopOptions {
  /** Extra ids that end generation (e.g. a template's FIM control tokens); the decode loop
   * always stops on the tokenizer's own `stopIds`. */
  stopIds?: Iterable<number>;
  maxLines: number;
  timeCapAfterNewlineMs: number;
  /** When the completion may span several lines; default `always` (only `maxLines` limits). */
  multiline?: MultilinePolicy;
  signal?: AbortSignal;
  /** End the completion where it starts looping (stopping-repeat.ts); default true. */
  stopLoops?: boolean;
}

/** The usual set for an inline completion, in priority order. */
export function makeStopCriteria(o: StandardStopOptions): StopCriterion[] {
  const criteria: StopCriterion[] = [];
  if (o.stopIds !== undefined) criteria.push(stopTokens(new Set(o.stopIds)));
  if (o.signal !== undefined) criteria.push(cancellation(o.signal));
  criteria.push(
    suffixDuplicate(o),
    singleLine({ ...o, multiline: o.multiline ?? 'always' }),
    indentScope(o),
    ...(o.stopLoops === false ? [] : [repetitionLoop(o)]),
    maxLines(o.maxLines),
    timeCapAfterNewline(o.timeCapAfterNewlineMs),
    trailingBlankLines(),
  );
  return criteria;
}

export { allowsMultiline, indentScope, lineScope, midLineSingleLine, repetitionLoop, suffixDuplicate, trailingBlankLines };
export type { MultilinePolicy };

/** Runs the criteria in order; the first decision wins. */
export function checkStop(criteria: readonly StopCriterion[], state: StopState): StopDecision | undefined {
  for (const c of criteria) {
    const d = c.check(state);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** Applies every criterion's `finish` trim (each may only shorten the text). */
export function finishText(criteria: readonly StopCriterion[], text: string): string {
  let out = text;
  for (const c of criteria) if (c.finish !== undefined) out = out.slice(0, Math.min(out.length, c.finish(out)));
  return out;
}

function nthIndexOf(text: string, needle: string, n: number): number {
  if (n <= 0) return -1;
  let at = -1;
  for (let i = 0; i < n; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) return -1;
  }
  return at;
}
