// Tree-sitter check at the end of a completion. The built-in syntax constraint is lexical: it keeps
// brackets, strings, comments and Python indentation consistent, but cannot see grammar (`if x`
// without its colon, `return true, k = …`, a member where a statement belongs). After decoding,
// the text around the cursor is parsed with the completion (@vscode/tree-sitter-wasm, the parsers
// VS Code uses) and parse errors that start on the lines the completion touches are counted. By
// default (`relative`) a completion that has more of them than no completion at all is cut back
// to the longest token end with the fewest — possibly to nothing; `strict` shows a completion only
// where its lines parse. A completion that leaves its lines clean is changed only when dropping
// some of its last lines mends errors above them that the window has either way (a cut mid-block
// whose suffix needs the block the completion wrote and then left).
//
// The parsed text is a window of the code around the cursor (about 4,000 characters before it, from
// a line the syntax lexer sees in code, and 1,000 after; it may start inside a function and carry
// errors of its own); errors on the completion's lines count, and those it adds elsewhere (confirmed
// on a wider window).
import { dirname, join } from 'node:path';
import { languageSpec } from '../engine/constraints/languages';
import { Cursor, K_INTERP, run, type StepContext } from '../engine/constraints/lexer';
import { Detokenizer } from '../engine/detokenizer';
import type { TokenizerLike } from '../engine/model';

type TreeSitter = typeof import('@vscode/tree-sitter-wasm');
type Parser = InstanceType<TreeSitter['Parser']>;
type Language = Awaited<ReturnType<TreeSitter['Language']['load']>>;

/**
 * tree-sitter's wasm module is one per process (require caches it), so it is initialised once per
 * process, and each grammar loaded once into it, however many checkers there are (two completion
 * services in one process: benchmarks, tests). A second Parser.init re-creates the module under
 * the parsers already made, and their next parse fails ("null function or function signature
 * mismatch").
 */
let processModule: Promise<TreeSitter> | undefined;
const processLanguages = new Map<string, Promise<Language>>();

/** The process's tree-sitter module, initialised on first use with its wasm from `dir` (again after a failure). */
export function sharedModule(dir: string): Promise<TreeSitter> {
  if (processModule === undefined) {
    const m = (async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const ts = require('@vscode/tree-sitter-wasm') as TreeSitter;
      await ts.Parser.init({ locateFile: (f: string) => join(dir, f) });
      return ts;
    })();
    processModule = m;
    m.catch(() => {
      if (processModule === m) processModule = undefined;
    });
  }
  return processModule;
}

/** A grammar loaded into the process's module, once per file (again after a failure). */
export function sharedLanguage(ts: TreeSitter, path: string): Promise<Language> {
  let l = processLanguages.get(path);
  if (l === undefined) {
    l = ts.Language.load(path);
    processLanguages.set(path, l);
    l.catch(() => processLanguages.delete(path));
  }
  return l;
}

/** Grammars shipped with Specter (C, C++ and C# are left out: 5 MB each). */
const grammarFiles: Readonly<Record<string, string>> = {
  typescript: 'tree-sitter-typescript.wasm',
  typescriptreact: 'tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript.wasm',
  javascriptreact: 'tree-sitter-javascript.wasm',
  python: 'tree-sitter-python.wasm',
  go: 'tree-sitter-go.wasm',
  rust: 'tree-sitter-rust.wasm',
  java: 'tree-sitter-java.wasm',
};

export function hasParseGrammar(languageId: string): boolean {
  return grammarFiles[languageId] !== undefined;
}

/** How a completion with parse errors on its lines is cut back (see ParseChecker.check). */
export type ParseCheckMode = 'strict' | 'relative';

export interface ParseCheckResult {
  /** The completion is `text.slice(0, keepChars)`. */
  keepChars: number;
  /** Parse errors (ERROR + MISSING nodes) starting on the completion's lines: without the completion (NaN when not parsed), with all of it, with what is kept. */
  errorsWithout: number;
  errorsFull: number;
  errorsKept: number;
  nParses: number;
  tMs: number;
}

export interface ParseCheckInput {
  /** Text before and after the cursor that the check parses (windows of it: checkCompletion). */
  before: string;
  after: string;
  /** The completion. */
  text: string;
  /** Character offsets in `text` where a token ends (candidates to cut back to), any order. */
  boundaries: readonly number[];
  /** Stop trying shorter candidates after this long; what was parsed so far decides. */
  budgetMs?: number;
  /**
   * Wider windows around the cursor (`before` and `after` are their ends). Errors that the
   * completion seems to add outside its lines in the narrow windows are confirmed on these: a
   * window edge that cuts a construct in two can make a harmless completion (an `if (…) {` whose
   * `}` lies past the narrow window) look as if it broke the code elsewhere.
   */
  wide?: { before: string; after: string };
}

const tDefaultBudgetMs = 30;

export class ParseChecker {
  private module: Promise<TreeSitter | undefined> | undefined;
  private readonly parsers = new Map<string, Promise<Parser | undefined>>();
  private readonly ready = new Map<string, Parser>();

  /** `wasmDir`: where tree-sitter.js and the grammars are (default: the installed package). */
  constructor(
    private readonly log: (message: string) => void,
    private readonly wasmDir?: string,
  ) {}

  /** The parser if it is loaded; otherwise starts loading it and returns undefined (never waits). */
  parserNow(languageId: string): Parser | undefined {
    const p = this.ready.get(languageId);
    if (p === undefined && hasParseGrammar(languageId)) void this.load(languageId);
    return p;
  }

  /** Loads the parser (resolves undefined when the language has none or loading failed). */
  load(languageId: string): Promise<Parser | undefined> {
    const file = grammarFiles[languageId];
    if (file === undefined) return Promise.resolve(undefined);
    let p = this.parsers.get(languageId);
    if (p === undefined) {
      p = (async () => {
        const ts = await this.loadModule();
        if (ts === undefined) return undefined;
        const dir = this.dir();
        try {
          const t0 = performance.now();
          const parser = new ts.Parser();
          parser.setLanguage(await sharedLanguage(ts, join(dir, file)));
          this.ready.set(languageId, parser);
          this.log(`Syntax check: ${languageId} parser loaded from ${join(dir, file)} in ${Math.round(performance.now() - t0)} ms`);
          return parser;
        } catch (e) {
          this.log(`Syntax check: the ${languageId} parser (${join(dir, file)}) did not load: ${e instanceof Error ? e.message : String(e)} — completions keep the lexical check only.`);
          return undefined;
        }
      })();
      this.parsers.set(languageId, p);
    }
    return p;
  }

  /**
   * Counts parse errors that start on the lines the completion touches (from the cursor's line to
   * the line it ends on, and the next line with code: a `}` the completion made one too many),
   * plus the errors it adds elsewhere in the window compared with no completion at all (the
   * window's own errors do not count: it may start inside a function); added errors are
   * confirmed on `wide` when given. Then, by `mode`:
   * - `strict`: the longest of the whole completion, a cut at one of `boundaries`, or nothing, with
   *   no such error;
   * - `relative`: the whole completion when it has no more errors than no completion at all;
   *   otherwise the longest cut with the fewest (possibly nothing).
   * A completion with no such error is kept, or cut at one of its line ends where that leaves
   * fewer errors elsewhere (confirmed on `wide`) and its lines still clean. Synchronous (a parse
   * takes milliseconds); shorter candidates are tried, longest first, until `budgetMs`.
   */
  check(parser: Parser, input: ParseCheckInput, mode: ParseCheckMode = 'relative'): ParseCheckResult {
    const t0 = performance.now();
    const budget = input.budgetMs ?? tDefaultBudgetMs;
    let nParses = 0;
    /** Errors on the lines of the completion's first `n` characters, and elsewhere in the window. */
    const split = (before: string, after: string, n: number): [number, number] => {
      nParses++;
      const text = before + input.text.slice(0, n) + after;
      const end = nextCodeLineEnd(text, before.length + n);
      const [onLines, all] = countErrorsIn(parser, text, [[before.lastIndexOf('\n') + 1, end], [0, text.length]]);
      return [onLines as number, (all as number) - (onLines as number)];
    };
    // Errors elsewhere in the window that the completion adds count as its own: a copied block can
    // break the code after it (a `def` without its body) or turn the enclosing construct into an
    // error node that starts above the cursor. Measured against no completion at all, and
    // confirmed on the wide windows when there are any.
    const wide = input.wide !== undefined && (input.wide.before.length > input.before.length || input.wide.after.length > input.after.length) ? input.wide : undefined;
    let elsewhereWithout: number | undefined;
    let wideElsewhereWithout: number | undefined;
    /** Errors elsewhere in the narrow window with the completion's first n characters, by n. */
    const elsewhereAt = new Map<number, number>();
    const errors = (n: number): number => {
      const [onLines, elsewhere] = split(input.before, input.after, n);
      elsewhereAt.set(n, elsewhere);
      if (elsewhere === 0) return onLines;
      elsewhereWithout ??= split(input.before, input.after, 0)[1];
      if (elsewhere <= elsewhereWithout || wide === undefined) return onLines + Math.max(0, elsewhere - elsewhereWithout);
      wideElsewhereWithout ??= split(wide.before, wide.after, 0)[1];
      return onLines + Math.max(0, split(wide.before, wide.after, n)[1] - wideElsewhereWithout);
    };
    const full = input.text.length;
    const errorsFull = errors(full);
    const done = (keepChars: number, errorsKept: number, errorsWithout: number): ParseCheckResult => ({ keepChars, errorsWithout, errorsFull, errorsKept, nParses, tMs: performance.now() - t0 });
    if (errorsFull === 0 && elsewhereAt.get(full) === 0) return done(full, 0, NaN);
    const candidates = [...new Set(input.boundaries)].filter((b) => b > 0 && b < full).sort((a, b) => b - a);
    if (errorsFull === 0) {
      // The completion's lines are clean, but the window may still have errors that start above
      // them, no more than without it: an enclosing `for` that the code after the cursor no longer
      // fits (a cut mid-block: the suffix's `else:` needs an `if` the completion wrote and then
      // left). Dropping the completion's last lines may mend that: of the cuts at its line ends,
      // the longest whose lines are clean and that leaves the fewest such errors is kept. A
      // window's own errors shift with what is parsed after its start, so a cut is taken only
      // when the wide windows, when there are any, agree.
      let best = full;
      let fewest = elsewhereAt.get(full) as number;
      /** All errors in the wide windows with the completion's first n characters. */
      const wideAll = (w: { before: string; after: string }, n: number): number => split(w.before, w.after, n).reduce((a, b) => a + b, 0);
      let wideBest: number | undefined;
      for (const b of candidates) {
        if (fewest === 0 || performance.now() - t0 > budget) break;
        if (input.text[b] !== '\n' || errors(b) !== 0 || (elsewhereAt.get(b) ?? 0) >= fewest) continue;
        if (wide !== undefined) {
          wideBest ??= wideAll(wide, best);
          const w = wideAll(wide, b);
          if (w >= wideBest) continue;
          wideBest = w;
        }
        best = b;
        fewest = elsewhereAt.get(b) ?? 0;
      }
      return done(best, 0, NaN);
    }
    const errorsWithout = errors(0);
    if (mode === 'relative' && errorsFull <= errorsWithout) return done(full, errorsFull, errorsWithout);
    let best = 0;
    let bestErrors = errorsWithout;
    for (const b of candidates) {
      if (performance.now() - t0 > budget) break;
      const e = errors(b);
      // Longest first: the first clean candidate is the longest clean one.
      if (e === 0) return done(b, 0, errorsWithout);
      if (mode === 'relative' && e < bestErrors) {
        best = b;
        bestErrors = e;
      }
    }
    return mode === 'strict' ? done(0, errorsWithout, errorsWithout) : done(best, bestErrors, errorsWithout);
  }

  private dir(): string {
    return this.wasmDir ?? dirname(require.resolve('@vscode/tree-sitter-wasm'));
  }

  private loadModule(): Promise<TreeSitter | undefined> {
    this.module ??= (async () => {
      try {
        return await sharedModule(this.dir());
      } catch (e) {
        this.log(`Syntax check: tree-sitter did not load (${e instanceof Error ? e.message : String(e)}) — completions keep the lexical check only; reinstall the extension.`);
        return undefined;
      }
    })();
    return this.module;
  }
}

/** End of the next line with code after the line holding `offset` (end of text when there is none). */
export function nextCodeLineEnd(text: string, offset: number): number {
  let nl = text.indexOf('\n', offset);
  while (nl >= 0) {
    const next = text.indexOf('\n', nl + 1);
    const end = next < 0 ? text.length : next;
    if (text.slice(nl + 1, end).trim() !== '') return end;
    nl = next;
  }
  return text.length;
}

/**
 * ERROR and MISSING nodes in the parse of `text` that start in [from, to] (default: anywhere); only
 * subtrees that contain errors are walked.
 */
export function countErrors(parser: Parser, text: string, from = 0, to = Number.POSITIVE_INFINITY): number {
  return countErrorsIn(parser, text, [[from, to]])[0] as number;
}

/** countErrors for several [from, to] ranges from one parse. */
export function countErrorsIn(parser: Parser, text: string, ranges: readonly (readonly [number, number])[]): number[] {
  const counts = ranges.map(() => 0);
  const tree = parser.parse(text);
  if (tree === null) return ranges.map(() => Number.POSITIVE_INFINITY);
  const cursor = tree.walk();
  try {
    for (;;) {
      const node = cursor.currentNode;
      if (node.isError || node.isMissing) {
        ranges.forEach(([from, to], i) => {
          if (node.startIndex >= from && node.startIndex <= to) counts[i] = (counts[i] as number) + 1;
        });
      }
      if (node.hasError && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return counts;
      }
    }
  } finally {
    cursor.delete();
    tree.delete();
  }
}

/** Characters of text before the cursor the check parses (a quarter of that after it). */
const parseWindowChars = 4000;
/** The wide windows (ParseCheckInput.wide): characters before the cursor, half of that after it. */
const wideWindowChars = 32_000;

/**
 * The check as the completion service runs it: on windows of the text around the cursor, with the
 * completion's token ends as the places it may be cut; returns the kept text and its tokens.
 */
export function checkCompletion(
  checker: ParseChecker,
  parser: Parser,
  tokenizer: TokenizerLike,
  around: { prefix: string; suffix: string },
  text: string,
  tokens: number[],
  mode: ParseCheckMode = 'relative',
  languageId?: string,
): { text: string; tokens: number[]; result: ParseCheckResult } {
  const ends = tokenEnds(tokenizer, tokens);
  const wideBefore = linesTail(around.prefix, wideWindowChars);
  const result = checker.check(
    parser,
    {
      before: codeTail(languageId, wideBefore, parseWindowChars),
      after: linesHead(around.suffix, parseWindowChars / 4),
      text,
      boundaries: ends,
      wide: { before: wideBefore, after: linesHead(around.suffix, wideWindowChars / 2) },
    },
    mode,
  );
  if (result.keepChars >= text.length) return { text, tokens, result };
  return { ...cutBack(text, tokens, ends, result.keepChars), result };
}

/**
 * ends[i]: characters of the completion once tokens[0..i] are decoded (non-decreasing), as the
 * decode loop built its text: the places a completion can be cut back to.
 */
export function tokenEnds(tokenizer: TokenizerLike, tokens: readonly number[]): number[] {
  const detok = new Detokenizer(tokenizer);
  return tokens.map((id) => {
    detok.push(id);
    return detok.text.length;
  });
}

/** The completion's first `keepChars` characters and the tokens that make them (blanks alone: nothing). */
export function cutBack(text: string, tokens: readonly number[], ends: readonly number[], keepChars: number): { text: string; tokens: number[] } {
  const kept = text.slice(0, keepChars);
  if (kept.trim() === '') return { text: '', tokens: [] };
  return { text: kept, tokens: tokens.slice(0, ends.filter((b) => b <= keepChars).length) };
}

/** The last about `n` characters of `text`, starting at a line start when there is one. */
function linesTail(text: string, n: number): string {
  if (text.length <= n) return text;
  const start = text.indexOf('\n', text.length - n);
  return start < 0 ? text.slice(-n) : text.slice(start + 1);
}

/**
 * The last about `n` characters of `text` (linesTail), starting at a line that the syntax lexer,
 * reading `text` from its start, sees in code rather than inside a string or comment: a window
 * that starts inside a docstring reads every line after it inside out, and a completion's errors
 * there look like the window's own. The first such line start at or after the usual one; when
 * there is none before the last line, the usual start. Languages the lexer does not know (or none
 * given): linesTail.
 */
export function codeTail(languageId: string | undefined, text: string, n: number): string {
  const lang = languageId === undefined ? undefined : languageSpec(languageId);
  const usual = linesTail(text, n);
  if (lang === undefined || usual.length === text.length) return usual;
  const from = text.length - usual.length;
  const cursor = new Cursor();
  const x: StepContext = { lang, floor: 0, strict: false, own: false, indentation: lang.indentation, nErrors: 0 };
  const utf8 = new TextEncoder();
  let at = 0;
  for (;;) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return usual;
    if (at >= from && (cursor.top === undefined || cursor.top.kind <= K_INTERP)) return text.slice(at);
    run(cursor, utf8.encode(text.slice(at, nl + 1)), x);
    at = nl + 1;
  }
}

/** The first about `n` characters of `text`, ending at a line end when there is one. */
function linesHead(text: string, n: number): string {
  if (text.length <= n) return text;
  const end = text.lastIndexOf('\n', n);
  return end < 0 ? text.slice(0, n) : text.slice(0, end + 1);
}
