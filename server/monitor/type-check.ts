// Type check after decoding (specter.monitor.typeCheck). The monitor keeps the identifier after a
// dereference to members that exist, but what the model writes after it (arguments, an operator,
// the member's use) is unconstrained, and a small model gets it wrong often. Static analysis that
// answers synchronously (the in-process TypeScript service) checks the document with the
// completion in it; a completion that adds errors on its lines is cut back to a token end where it
// does not, or withheld. Like the tree-sitter parse check (server/grammar/parse-check.ts), only
// errors that start on the lines the completion touches count, and "adds" is relative to the
// document without the completion.

import { nextCodeLineEnd } from '../grammar/parse-check';

export type TypeCheckMode = 'relative' | 'strict';

/** An error diagnostic: where it starts (UTF-16 offset in the document) and what it says (code and message). */
export interface ErrorDiagnostic {
  start: number;
  key: string;
}

/**
 * The error diagnostics of the whole document `text`; undefined = the source cannot tell now.
 * In-process sources answer synchronously, language servers through a promise.
 */
export type ErrorsOf = (text: string) => readonly ErrorDiagnostic[] | undefined | Promise<readonly ErrorDiagnostic[] | undefined>;

export interface TypeCheckInput {
  /** The whole document before and after the cursor. */
  prefix: string;
  suffix: string;
  /** The completion. */
  text: string;
  /** Character offsets in `text` where a token ends (places to cut back to). */
  boundaries: readonly number[];
  /** Stop looking for a shorter candidate after this long (then: nothing, or the floor). */
  budgetMs?: number;
  /**
   * `relative` mode: the completion's first floorChars characters are not cut into, and errors
   * they have are the baseline (instead of the document without the completion). The service
   * sets it to the member name the monitor verified (`join` after `sep.`) when the file uses that
   * name after a member operator elsewhere: an error that remains
   * with the name alone belongs to the unfinished statement (`return sep.join` before its
   * arguments), not to what the model wrote after the name.
   */
  floorChars?: number;
}

export interface TypeCheckResult {
  /** Characters of the completion to keep (0: withhold it). */
  keepChars: number;
  /** Errors that count against the whole completion, and against what is kept. */
  errorsFull: number;
  errorsKept: number;
  /** Errors of any kind on the whole completion's lines (0: the completion is clean there). */
  errorsOnLines: number;
  nChecks: number;
  tMs: number;
}

const tDefaultBudgetMs = 150;

/**
 * Errors count when they start on the lines the candidate touches (the cursor's line to the line
 * where it ends) or on the next line with code (TypeScript reports a missing `)` at the next
 * token). By `mode`:
 * - `relative`: the longest of the whole completion, a cut at a token end, or nothing (or the
 *   floor, see floorChars), with no error there that the document without the completion (with
 *   the floor) does not have on the cursor's line (same code and message). That document often
 *   has errors of its own (after `obj.` comes nothing), so a plain count would excuse one new error.
 * - `strict`: the longest with no error there at all.
 * Candidates are tried longest first; after a failed one the next is the last token end before
 * the first counted error that starts in the completion (each check type-checks the whole file,
 * so this takes few: usually the whole completion, the document without it, one or two cuts).
 * Undefined when the source cannot check the document now.
 */
export async function typeCheck(errorsOf: ErrorsOf, input: TypeCheckInput, mode: TypeCheckMode = 'relative'): Promise<TypeCheckResult | undefined> {
  const t0 = performance.now();
  const budget = input.budgetMs ?? tDefaultBudgetMs;
  const cursor = input.prefix.length;
  const lineStart = input.prefix.lastIndexOf('\n') + 1;
  let nChecks = 0;
  /** The errors on the lines of the document with the completion's first `n` characters. */
  const onLines = async (n: number): Promise<ErrorDiagnostic[] | undefined> => {
    nChecks++;
    const doc = input.prefix + input.text.slice(0, n) + input.suffix;
    const errors = await errorsOf(doc);
    if (errors === undefined) return undefined;
    const end = nextCodeLineEnd(doc, cursor + n);
    return errors.filter((e) => e.start >= lineStart && e.start <= end);
  };
  let baseline: Map<string, number> | undefined;
  /** Errors that count, and where the first of them starts in the completion (Infinity: none starts in it). */
  const judge = (errors: readonly ErrorDiagnostic[]): { count: number; first: number } => {
    const left = new Map(baseline ?? []);
    let count = 0;
    let first = Number.POSITIVE_INFINITY;
    for (const e of errors) {
      const k = left.get(e.key) ?? 0;
      if (k > 0) {
        left.set(e.key, k - 1);
        continue;
      }
      count++;
      // An error that starts before the cursor (the statement around it) does not say where to cut.
      if (e.start >= cursor) first = Math.min(first, e.start - cursor);
    }
    return { count, first };
  };
  const full = input.text.length;
  const wholeErrors = await onLines(full);
  if (wholeErrors === undefined) return undefined;
  const done = (keepChars: number, errorsFull: number, errorsKept: number): TypeCheckResult => ({ keepChars, errorsFull, errorsKept, errorsOnLines: wholeErrors.length, nChecks, tMs: performance.now() - t0 });
  if (wholeErrors.length === 0) return done(full, 0, 0);
  const floor = mode === 'relative' ? Math.min(full, Math.max(0, input.floorChars ?? 0)) : 0;
  if (mode === 'relative') {
    const without = await onLines(floor);
    if (without === undefined) return undefined;
    baseline = new Map();
    for (const e of without) baseline.set(e.key, (baseline.get(e.key) ?? 0) + 1);
  }
  const whole = judge(wholeErrors);
  if (whole.count === 0) return done(full, 0, 0);
  const ends = [...new Set(input.boundaries)].filter((b) => b > floor && b < full).sort((a, b) => b - a);
  let n = full;
  let first = whole.first;
  while (performance.now() - t0 <= budget) {
    const next = ends.find((b) => b <= Math.min(n - 1, first));
    if (next === undefined) break;
    const errors = await onLines(next);
    if (errors === undefined) break;
    const r = judge(errors);
    if (r.count === 0) return done(next, whole.count, 0);
    n = next;
    first = r.first;
  }
  return done(floor, whole.count, 0);
}
