// Stopping criteria that read the code around the cursor: indentation scope and suffix
// duplication. Both work on whole lines of the completion; line 0 continues the cursor's line.
import type { CodeStopOptions, StopCriterion, StopDecision } from './stopping';

const openers = /[{([:]\s*$/;
const commentLine = /^\s*(\/\/|#|\*|\/\*|--)/;
const closerStart = /^\s*[})\]]/;

/** The line ends by opening a block (and is not a comment). */
function opens(line: string): boolean {
  return openers.test(line) && !commentLine.test(line);
}

/** Columns of leading whitespace, tabs counted as `tabSize`. */
export function indentWidth(line: string, tabSize: number): number {
  let width = 0;
  for (const ch of line) {
    if (ch === ' ') width += 1;
    else if (ch === '\t') width += tabSize - (width % tabSize);
    else break;
  }
  return width;
}

/** Text after the last newline of `prefix`: the cursor's line up to the cursor. */
export function cursorLine(prefix: string): string {
  return prefix.slice(prefix.lastIndexOf('\n') + 1);
}

/**
 * Stops when a completion line leaves the cursor's block. The block's indentation is the cursor
 * line's: its leading whitespace when it has code, else the whitespace up to the cursor (an
 * auto-indented empty line). Lines indented less than that are outside the block. When the
 * cursor line opens a block (`{`, `(`, `[`, `:` at its end), the completion is that block's body:
 * the first line back at the base indentation ends it — kept if it is a closing bracket line
 * (`}`, `);`), dropped otherwise (Python's next statement). So does an empty cursor line at
 * column 0 right after such a line (the opener's indentation is the base).
 */
export function indentScope(o: CodeStopOptions): StopCriterion {
  const tabSize = o.tabSize ?? 4;
  const line = cursorLine(o.prefix);
  // The cursor at column 0 of an empty line right after a block opener (no auto-indent): the
  // completion is that block's body, as if the cursor were at the end of the opener's line.
  const previous = line === '' && o.prefix.endsWith('\n') ? o.prefix.slice(o.prefix.lastIndexOf('\n', o.prefix.length - 2) + 1, -1) : undefined;
  const afterOpener = previous !== undefined && opens(previous);
  const base = indentWidth(afterOpener ? previous : line, tabSize);
  const opensBlock = afterOpener || opens(line);
  const decide = (text: string, atEnd: boolean): StopDecision | undefined => {
    let offset = 0;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const current = lines[i] as string;
      const lineStart = offset;
      offset += current.length + 1;
      if (i === 0 || current.trim() === '') continue;
      const indent = indentWidth(current, tabSize);
      const complete = atEnd || i < lines.length - 1;
      if (indent > base || (!opensBlock && indent === base)) continue;
      if (indent === base && closerStart.test(current)) {
        // Keep the closing line whole; decide once it is complete.
        return complete ? { reason: 'indent-scope', keepChars: lineStart + current.length } : undefined;
      }
      return { reason: 'indent-scope', keepChars: lineStart - 1 };
    }
    return undefined;
  };
  return {
    check: (s) => decide(s.text, false),
    finish: (text) => decide(text, true)?.keepChars ?? text.length,
  };
}

/** Opening minus closing brackets. */
function bracketBalance(text: string): number {
  let balance = 0;
  for (const ch of text) {
    if (ch === '(' || ch === '[' || ch === '{') balance++;
    else if (ch === ')' || ch === ']' || ch === '}') balance--;
  }
  return balance;
}

/**
 * Stops (and trims) when the completion starts repeating what already follows the cursor:
 * - the rest of the cursor's line (`)`, `);`, `}` when the cursor sits before it): a finished
 *   completion line that ends with it is cut before it, unless the cut would leave one of the
 *   completion's own brackets open: `a, b)` before `)` → `a, b`; but `g(x)` before `)` stays;
 * - a whole completion line equal (ignoring trailing blanks) to the suffix's next non-blank line;
 *   line 0 only where the document's cursor line is blank up to the cursor (compared together with
 *   that indentation): a line the user has begun may well be completed into a copy of the next one
 *   (`V4UUID._random|` above `V4UUID._randomHex(),` in a list of them).
 * A line counts once it is finished: followed by a newline, or the last line when generation ends.
 */
export function suffixDuplicate(o: CodeStopOptions): StopCriterion {
  const before = cursorLine(o.prefix);
  const begun = cursorLine(documentPrefix(o)).trim() !== '';
  const newline = o.suffix.indexOf('\n');
  const restOfLine = (newline < 0 ? o.suffix : o.suffix.slice(0, newline)).trim();
  const nextLine = newline < 0 ? undefined : o.suffix.slice(newline + 1).split('\n').find((l) => l.trim() !== '')?.trimEnd();
  const decide = (text: string, atEnd: boolean): StopDecision | undefined => {
    const lines = text.split('\n');
    let offset = 0;
    for (let i = 0; i < lines.length; i++) {
      const current = lines[i] as string;
      const lineStart = offset;
      offset += current.length + 1;
      if (!atEnd && i === lines.length - 1) break;
      const trimmed = current.trimEnd();
      if (restOfLine !== '' && trimmed.endsWith(restOfLine)) {
        const keepChars = lineStart + trimmed.length - restOfLine.length;
        if (bracketBalance(text.slice(0, keepChars)) <= 0) return { reason: 'suffix-duplicate', keepChars };
      }
      const full = i === 0 ? before + current : current;
      if (nextLine !== undefined && (i > 0 || !begun) && full.trimEnd() === nextLine) {
        return { reason: 'suffix-duplicate', keepChars: Math.max(0, lineStart - 1) };
      }
    }
    return undefined;
  };
  return {
    check: (s) => decide(s.text, false),
    finish: (text) => decide(text, true)?.keepChars ?? text.length,
  };
}

/**
 * With code after the cursor on its line (other than closing brackets, quotes, `;` and `,`), the
 * completion finishes that line only: a newline would split the user's line in two.
 */
export function midLineSingleLine(o: CodeStopOptions): StopCriterion {
  return firstLineOnly(codeAfterCursor(o.suffix));
}

/** The cursor's line has code after the cursor (other than closers, quotes, `;` and `,`). */
function codeAfterCursor(suffix: string): boolean {
  const newline = suffix.indexOf('\n');
  return /[^\s)\]}'"`;,]/.test(newline < 0 ? suffix : suffix.slice(0, newline));
}

/** When `active`, ends the completion at its first newline (dropped). */
function firstLineOnly(active: boolean): StopCriterion {
  return {
    check: (s) => {
      if (!active) return undefined;
      const at = s.text.indexOf('\n');
      return at >= 0 ? { reason: 'single-line', keepChars: at } : undefined;
    },
  };
}

/** When a completion may span several lines (`specter.completion.multiline`). */
export type MultilinePolicy = 'auto' | 'always' | 'never';

const blockOpenerEnd = /(?:[{([:]|=>)\s*$/;

/**
 * Whether the completion may run past the cursor's line. `auto` (as editors' completion tools
 * do): only on a line that is blank up to the cursor, or one that ends by opening a block (`{`,
 * `(`, `[`, `:`, `=>`), outside line comments — typing inside a statement gets the rest of that
 * line, not a guess at the lines after it.
 */
export function allowsMultiline(prefix: string, policy: MultilinePolicy): boolean {
  if (policy !== 'auto') return policy === 'always';
  const line = cursorLine(prefix);
  if (line.trim() === '') return true;
  return blockOpenerEnd.test(line) && !commentLine.test(line);
}

/** The document before the cursor: `prefix` and what healing moved out of it (CodeStopOptions.healed). */
function documentPrefix(o: CodeStopOptions): string {
  return o.prefix + (o.healed ?? '');
}

/** Ends the completion at its first newline unless `allowsMultiline` (on the document's line). */
export function lineScope(o: CodeStopOptions & { multiline: MultilinePolicy }): StopCriterion {
  return firstLineOnly(!allowsMultiline(documentPrefix(o), o.multiline));
}

/** midLineSingleLine and lineScope as one criterion (makeStopCriteria's). */
export function singleLine(o: CodeStopOptions & { multiline: MultilinePolicy }): StopCriterion {
  return firstLineOnly(codeAfterCursor(o.suffix) || !allowsMultiline(documentPrefix(o), o.multiline));
}

/** Drops whitespace-only lines at the end (an EOS after "\n    " would leave a blank line). */
export function trailingBlankLines(): StopCriterion {
  return {
    check: () => undefined,
    finish: (text) => {
      const trimmed = text.trimEnd();
      return text.slice(trimmed.length).includes('\n') ? trimmed.length : text.length;
    },
  };
}
