// Tree-sitter check at the end of a completion. The built-in syntax constraint is lexical: it keeps
// brackets, strings, comments and Python indentation consistent, but cannot see grammar (`if x`
// without its colon, `return true, k = …`, a member where a statement belongs). After decoding,
// the text around the cursor is parsed with the completion and without it (@vscode/tree-sitter-wasm,
// the parsers VS Code uses); a completion that adds parse errors is cut back to the longest token
// boundary with the fewest errors — possibly to nothing. A completion that adds no error is never
// changed, so the check cannot alter an already valid suggestion.
//
// Only relative counts matter: the parsed text is the window the model saw (it may start inside a
// function and carry errors of its own), the same window with and without the completion.
import { dirname, join } from 'node:path';
import type { TokenizerLike } from '../engine/model';

type TreeSitter = typeof import('@vscode/tree-sitter-wasm');
type Parser = InstanceType<TreeSitter['Parser']>;

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

export interface ParseCheckResult {
  /** The completion is `text.slice(0, keepChars)`. */
  keepChars: number;
  /** Parse errors (ERROR + MISSING nodes) without the completion, with all of it, with what is kept. */
  errorsWithout: number;
  errorsFull: number;
  errorsKept: number;
  nParses: number;
  tMs: number;
}

export interface ParseCheckInput {
  /** Text before and after the cursor that the check parses (the prompt's windows). */
  before: string;
  after: string;
  /** The completion. */
  text: string;
  /** Character offsets in `text` where a token ends (candidates to cut back to), any order. */
  boundaries: readonly number[];
  /** Stop trying shorter candidates after this long; what was parsed so far decides. */
  budgetMs?: number;
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
          const parser = new ts.Parser();
          parser.setLanguage(await ts.Language.load(join(dir, file)));
          this.ready.set(languageId, parser);
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

  /** Cuts `text` back where it would add parse errors. Synchronous: parsing takes milliseconds. */
  check(parser: Parser, input: ParseCheckInput): ParseCheckResult {
    const t0 = performance.now();
    const budget = input.budgetMs ?? tDefaultBudgetMs;
    let nParses = 0;
    const errors = (n: number): number => {
      nParses++;
      return countErrors(parser, input.before + input.text.slice(0, n) + input.after);
    };
    const full = input.text.length;
    const errorsFull = errors(full);
    const errorsWithout = errors(0);
    const done = (keepChars: number, errorsKept: number): ParseCheckResult => ({ keepChars, errorsWithout, errorsFull, errorsKept, nParses, tMs: performance.now() - t0 });
    if (errorsFull <= errorsWithout) return done(full, errorsFull);
    let best = 0;
    let bestErrors = errorsWithout;
    const candidates = [...new Set(input.boundaries)].filter((b) => b > 0 && b < full).sort((a, b) => b - a);
    for (const b of candidates) {
      if (performance.now() - t0 > budget) break;
      const e = errors(b);
      // Fewest errors, then longest (candidates come longest first).
      if (e < bestErrors || (e === bestErrors && b > best)) {
        best = b;
        bestErrors = e;
      }
      // Longest first: the first clean candidate is the longest clean one.
      if (e === 0) break;
    }
    return done(best, bestErrors);
  }

  private dir(): string {
    return this.wasmDir ?? dirname(require.resolve('@vscode/tree-sitter-wasm'));
  }

  private loadModule(): Promise<TreeSitter | undefined> {
    this.module ??= (async () => {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ts = require('@vscode/tree-sitter-wasm') as TreeSitter;
        const dir = this.dir();
        await ts.Parser.init({ locateFile: (f: string) => join(dir, f) });
        return ts;
      } catch (e) {
        this.log(`Syntax check: tree-sitter did not load (${e instanceof Error ? e.message : String(e)}) — completions keep the lexical check only; reinstall the extension.`);
        return undefined;
      }
    })();
    return this.module;
  }
}

/** ERROR + MISSING nodes in the parse of `text` (only subtrees that contain errors are walked). */
export function countErrors(parser: Parser, text: string): number {
  const tree = parser.parse(text);
  if (tree === null) return Number.POSITIVE_INFINITY;
  const cursor = tree.walk();
  try {
    let n = 0;
    for (;;) {
      const node = cursor.currentNode;
      if (node.isError || node.isMissing) n++;
      if (node.hasError && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return n;
      }
    }
  } finally {
    cursor.delete();
    tree.delete();
  }
}

/** Characters of text before the cursor the check parses (a quarter of that after it). */
const parseWindowChars = 4000;

/**
 * The check as the completion service runs it: on windows of the text around the cursor, with the
 * completion's token ends as the places it may be cut; returns the kept text and its tokens.
 */
export function checkCompletion(
  checker: ParseChecker,
  parser: Parser,
  tokenizer: Pick<TokenizerLike, 'decode'>,
  around: { prefix: string; suffix: string },
  text: string,
  tokens: number[],
): { text: string; tokens: number[]; result: ParseCheckResult } {
  // ends[i]: characters of the completion once tokens[0..i] are decoded (non-decreasing).
  const ends = tokens.map((_, i) => tokenizer.decode(tokens.slice(0, i + 1)).length);
  const result = checker.check(parser, { before: linesTail(around.prefix, parseWindowChars), after: linesHead(around.suffix, parseWindowChars / 4), text, boundaries: ends });
  if (result.keepChars >= text.length) return { text, tokens, result };
  return { text: text.slice(0, result.keepChars), tokens: tokens.slice(0, ends.filter((b) => b <= result.keepChars).length), result };
}

/** The last about `n` characters of `text`, starting at a line start when there is one. */
function linesTail(text: string, n: number): string {
  if (text.length <= n) return text;
  const start = text.indexOf('\n', text.length - n);
  return start < 0 ? text.slice(-n) : text.slice(start + 1);
}

/** The first about `n` characters of `text`, ending at a line end when there is one. */
function linesHead(text: string, n: number): string {
  if (text.length <= n) return text;
  const end = text.lastIndexOf('\n', n);
  return end < 0 ? text.slice(0, n) : text.slice(0, end + 1);
}
