// The built-in code syntax constraint: a completion may not close a bracket that is not open (or
// that the suffix closes), put a raw newline in a single-line string, break Python indentation,
// or end inside a string/comment/bracket the suffix does not continue. Check is a bit test for
// most tokens (see token-table.ts) and a short byte loop for the rest.
import type { Constraint } from '../constraint';
import type { TokenizerLike } from '../model';
import { Cursor, run, type Frame, type StepContext } from './lexer';

// Constants of lexer.ts, repeated: under tsx's per-file CommonJS transform an imported binding
// is a getter call on the hot path. lexer.test asserts they agree.
const R_OK = 0;
const R_SUFFIX_CLOSES = 1;
const K_INTERP = 4;
const K_STR = 5;
const K_LINE_COMMENT = 6;
const P_NONE = 0;
import { languageSpec, type LanguageSpec } from './languages';
import { lexPrefix, planSuffix, probeSuffix, type SuffixPlan } from './suffix-plan';
import { codeClasses, significantClasses, tokenTable, type TokenTable } from './token-table';

export interface SyntaxConstraintOptions {
  /** VS Code language id. */
  languageId: string;
  /** Document text before the cursor (whole document: the lexer starts at its first byte). */
  prefix: string;
  /** Document text after the cursor. */
  suffix: string;
  /**
   * The suffix stops before the document does (a benchmark task cut from a file): its end is not
   * the document's end, so brackets it leaves open and a string open at its end are no evidence.
   */
  suffixCut?: boolean;
  tokenizer: TokenizerLike;
  /** Give up on a mask after this long (the step is then unconstrained), ms. */
  maskBudgetMs?: number;
}

/** Longest prefix the constraint lexes per completion, in characters (~1 ms per 100 kB). */
const maxPrefixChars = 2_000_000;

/** Why the last `check` failed (R_* from lexer.ts), for tests and stats. */
export interface SyntaxDiagnostics {
  readonly plan: SuffixPlan;
  readonly nPrefixErrors: number;
  lastReject: number;
}

export class SyntaxConstraint implements Constraint {
  readonly name = 'syntax';
  readonly diagnostics: SyntaxDiagnostics;
  /**
   * Finishing may write a JSON key's `:` and short values (F_JSON tokens): set when a grammar
   * constraint (a JSON Schema) is intersected with this one and decides which fit. Alone, the
   * lexical state cannot tell `"a": 0` from `"a"0`.
   */
  jsonValues = false;
  /** states[i] = lexer state after i advances; never empty. */
  private readonly states: Cursor[];
  private readonly x: StepContext;
  private readonly code: number;
  private readonly scratch = new Cursor();
  private checkedToken = -1;
  private checkedState: Cursor | undefined;
  private stopHint = false;
  private readonly cursorComment;
  private readonly stopMemo = new WeakMap<Cursor, boolean>();
  /**
   * The same answers by what the suffix probe reads of a state (its frame chain, shared between
   * snapshots, and the scalars): the finishing mask asks it for many tokens that end in the same
   * state (`)`, ` )`, `) `).
   */
  private readonly stopMemoByState = new Map<Frame | undefined, Map<string, boolean>>();

  constructor(
    private readonly table: TokenTable,
    private readonly lang: LanguageSpec,
    start: Cursor,
    private readonly plan: SuffixPlan,
    nPrefixErrors: number,
    private readonly maskBudgetMs: number,
  ) {
    this.states = [start];
    this.x = { lang, floor: plan.floor, strict: true, own: true, indentation: lang.indentation, nErrors: 0 };
    this.code = codeClasses(lang);
    this.cursorComment = start.top?.kind === K_LINE_COMMENT ? start.top : undefined;
    this.diagnostics = { plan, nPrefixErrors, lastReject: R_OK };
  }

  private get state(): Cursor {
    return this.states[this.states.length - 1] as Cursor;
  }

  /** Runs `token` from `from` into `out`; returns R_OK or the reason it is rejected. */
  private transition(from: Cursor, token: number, out: Cursor): number {
    out.copyFrom(from);
    const t = this.table;
    if (token >= t.nTokens || token < 0) return R_OK; // padded logits columns: no text
    if (t.stop[token] === 1) return this.canStopAt(from) ? R_OK : -1;
    const bytes = t.bytes[token] as Uint8Array;
    if (bytes.length === 0) return R_OK;
    const sig = significantClasses(from, this.lang, this.code);
    if (sig !== -1 && ((t.classes[token] as number) & sig) === 0) return this.skip(out, token);
    this.x.nErrors = 0;
    if (sig === -1) {
      // A lookahead or a Python line start: lex up to the first non-blank byte, then the rest of
      // the token usually takes the fast path.
      const head = t.head[token] as number;
      const r = run(out, bytes, this.x, 0, head);
      if (r !== R_OK || head === bytes.length) return r;
      const sig2 = significantClasses(out, this.lang, this.code);
      if (sig2 !== -1 && ((t.tailClasses[token] as number) & sig2) === 0) return this.skip(out, token);
      return run(out, bytes, this.x, head);
    }
    return run(out, bytes, this.x);
  }

  /** The fast path: nothing in the (rest of the) token changes the frame stack. */
  private skip(out: Cursor, token: number): number {
    const top = out.top;
    const last = this.table.lastSig[token] as number;
    if (last !== 0 && (top === undefined || top.kind <= K_INTERP)) out.lastSig = last;
    out.strEmpty = false;
    return R_OK;
  }

  check(token: number): boolean {
    const next = new Cursor();
    const r = this.transition(this.state, token, next);
    this.stopHint = false;
    this.diagnostics.lastReject = r;
    if (r !== R_OK) {
      this.checkedToken = -1;
      this.checkedState = undefined;
      // The model wants to close what the suffix closes: the completion is done, if it may end here.
      if (r === R_SUFFIX_CLOSES && this.leadsWithCloser(token) && this.canStop()) this.stopHint = true;
      return false;
    }
    this.checkedToken = token;
    this.checkedState = next;
    return true;
  }

  /**
   * The token starts with what the suffix closes, after blanks at most: not `a)` but `)` or ` )`,
   * and `*\/` or `"""`, whose first bytes only open a lookahead.
   */
  private leadsWithCloser(token: number): boolean {
    const bytes = this.table.bytes[token];
    if (bytes === undefined) return false;
    const probe = this.scratch.copyFrom(this.state);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      const r = run(probe, bytes, this.x, i, i + 1);
      if (r !== R_OK) return true;
      if (b !== 32 && b !== 9 && probe.pend === P_NONE) return false;
    }
    return false;
  }

  mask(allowed: Uint8Array): boolean {
    const t = this.table;
    const from = this.state;
    const n = Math.min(allowed.length, t.nTokens);
    const sig = significantClasses(from, this.lang, this.code);
    const canStop = this.canStopAt(from);
    const scratch = this.scratch;
    const deadline = performance.now() + this.maskBudgetMs;
    for (let id = 0; id < n; id++) {
      if (t.stop[id] === 1) {
        allowed[id] = canStop ? 1 : 0;
        continue;
      }
      const bytes = t.bytes[id] as Uint8Array;
      if (bytes.length === 0 || (sig !== -1 && ((t.classes[id] as number) & sig) === 0)) {
        allowed[id] = 1;
        continue;
      }
      allowed[id] = this.transition(from, id, scratch) === R_OK ? 1 : 0;
      if ((id & 1023) === 0 && performance.now() > deadline) return false;
    }
    // Logits columns past the vocabulary (padding) stay 0: they never stand for text.
    return true;
  }

  /**
   * Finishing (see Constraint.finishMask): tokens made of blanks, closing brackets and quotes
   * that close an open frame, or such a token (or one ending in the language's line ender, see
   * finishingTokens) after which the completion may end.
   */
  finishMask(allowed: Uint8Array): boolean {
    const t = this.table;
    const from = this.state;
    const depth = from.depth;
    const finishing = finishingTokens(t, this.lang);
    const scratch = this.scratch;
    const n = Math.min(allowed.length, t.nTokens);
    // A JSON value token goes nowhere inside a string, or right after a number or a literal (it
    // would only make it longer).
    const jsonValueOk = this.jsonValues && from.top?.kind !== K_STR;
    const afterWord = isWordByte(from.lastSig);
    // The suffix needs a bracket open: a member is finished towards `"key": {`, not a value.
    const mustOpen = this.plan.nMustOpen > 0;
    let any = false;
    for (let id = 0; id < n; id++) {
      const kind = finishing[id];
      if (kind === 0) continue;
      if (kind === F_JSON && (!jsonValueOk || (afterWord && isWordByte(firstSolidByte(t.bytes[id] as Uint8Array))) || (mustOpen && !opensOnly(t.bytes[id] as Uint8Array)))) continue;
      if (this.transition(from, id, scratch) !== R_OK) continue;
      // A token that opens a frame (a quote, a bracket) can end the completion only where the
      // suffix needs a bracket open; elsewhere skip the suffix probe that would say no.
      // (JSON's `"` that starts a key is the schema's to judge.)
      if (kind !== F_JSON && scratch.depth > depth && (!mustOpen || scratch.top?.kind === K_STR)) continue;
      // F_JSON: a key's `:` or a short value, which no depth measures; the schema decides and
      // the loop's token limit bounds it.
      if ((kind === F_CLOSE && scratch.depth < depth) || kind === F_JSON || (scratch.pend === P_NONE && this.canStopAt(scratch.clone()))) {
        allowed[id] = 1;
        any = true;
      }
    }
    return any;
  }

  advance(token: number): void {
    let next = token === this.checkedToken ? this.checkedState : undefined;
    if (next === undefined) {
      next = new Cursor();
      if (this.transition(this.state, token, next) !== R_OK) {
        // Forced past the constraint (an unconstrained step): re-lex the token leniently.
        next.copyFrom(this.state);
        const bytes = token >= 0 && token < this.table.nTokens ? (this.table.bytes[token] as Uint8Array) : new Uint8Array(0);
        run(next, bytes, { ...this.x, strict: false, floor: 0 });
      }
    }
    this.states.push(next);
    this.checkedToken = -1;
    this.checkedState = undefined;
    this.stopHint = false;
  }

  rollback(n: number): void {
    if (n <= 0) return;
    if (n >= this.states.length) throw new RangeError(`rollback(${n}) past the cursor: ${this.states.length - 1} advances`);
    this.states.length -= n;
    this.checkedToken = -1;
    this.checkedState = undefined;
    this.stopHint = false;
  }

  canStop(): boolean {
    return this.canStopAt(this.state);
  }

  shouldStop(): boolean {
    return this.stopHint;
  }

  /** Number of advances since the cursor. */
  get nAdvanced(): number {
    return this.states.length - 1;
  }

  private canStopAt(c: Cursor): boolean {
    // (A `:` that ends the completion's last line counts too: the line ends at the suffix's newline.)
    if (this.lang.indentation && (c.colon || c.lastSig === 58) && c.top === undefined) {
      // A block header needs its indented body: from the suffix, or the completion must write it.
      const width = c.indents?.width ?? 0;
      const body = c.lineStart && !this.plan.suffixLineBlank ? c.col + this.plan.suffixLead : this.plan.nextIndent;
      if (body <= width) return false;
    }
    if (this.plan.nMustOpen === 0 && this.stackMayStop(c)) return true;
    // Slow path, once per state: does the suffix still read as well as from the planned stop state?
    let memo = this.stopMemo.get(c);
    // A frame the completion just opened is new each time: key on its parent and its kind.
    const chain = c.top?.own === true ? c.top.parent : c.top;
    const byTop = memo === undefined ? this.stopMemoByState.get(chain) : undefined;
    const key = memo === undefined ? `${c.top?.own === true ? c.top.kind : -1};${stateKey(c, this.lang.indentation)}` : '';
    if (memo === undefined) memo = byTop?.get(key);
    if (memo === undefined) {
      const ref = this.plan.stopProbe;
      const p = probeSuffix(this.lang, c.clone(), ref.bytes, ref.complete);
      memo = p.nErrors <= ref.nErrors && p.depth <= ref.depth;
      this.stopMemo.set(c, memo);
      if (this.stopMemoByState.size > 4096) this.stopMemoByState.clear();
      const m = byTop ?? new Map<string, boolean>();
      if (byTop === undefined) this.stopMemoByState.set(chain, m);
      m.set(key, memo);
    }
    return memo;
  }

  /** Fast test: the open frames are the cursor's, between floor and stopDepth. */
  private stackMayStop(c: Cursor): boolean {
    const plan = this.plan;
    let top = c.top;
    // A line comment the completion opened ends at the suffix's newline if nothing else is on that line.
    if (top !== undefined && top.own && top.kind === K_LINE_COMMENT && plan.suffixLineBlank) top = top.parent;
    if (top !== undefined && top.own) return false;
    // Still in the cursor's own line comment, which the suffix's newline ends: fine unless the
    // plan needs frames below it closed.
    const inCursorComment = top !== undefined && top === this.cursorComment && plan.stopInCursorComment;
    const depth = top?.depth ?? 0;
    return !(inCursorComment ? plan.nMustClose > 0 : depth > plan.stopDepth || depth < plan.floor);
  }
}

/** The scalars of a lexer state besides its frame chain (canStopAt's memo key). */
function stateKey(c: Cursor, indentation: boolean): string {
  const scalars = `${c.pend},${c.pendFrame?.depth ?? -1},${c.pendBits},${c.lastSig},${c.strEmpty ? 1 : 0},${c.reClass ? 1 : 0}`;
  // Columns and indentation only matter under the off-side rule.
  return indentation ? `${scalars},${c.lineStart ? 1 : 0},${c.col},${c.indents?.width ?? -1},${c.indents?.parent?.width ?? -1},${c.colon ? 1 : 0}` : scalars;
}

function isWordByte(b: number): boolean {
  return (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 95;
}

/** Only blanks, `"`, `:` and opening brackets. */
function opensOnly(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 32 && b !== 9 && b !== 10 && b !== 13 && b !== 34 && b !== 58 && b !== 123 && b !== 91) return false;
  return true;
}

function firstSolidByte(bytes: Uint8Array): number {
  for (const b of bytes) if (b !== 32 && b !== 9 && b !== 10 && b !== 13) return b;
  return 0;
}

/** Finishing token kinds (finishingTokens). */
const F_CLOSE = 1;
const F_END = 2;
const F_JSON = 3;
/** JSON's short values and separators: what a member needs after its key, at most. */
const jsonFinish = /^\s*"?\s*:?\s*(?:true|false|null|\d+|""|\{\}|\[\]|\{|\[)?\s*,?\s*$/;
const closingBytes = new Set([...' \t)]}"\'`'].map((ch) => ch.charCodeAt(0)));

/**
 * Which tokens may finish a completion (finishMask), per tokenizer and language family:
 * F_CLOSE — only blanks, closing brackets and quotes (at least one that is not blank);
 * F_END — the same, then one last byte that ends a line here: `:` in Python (a block header),
 * `;` in C-like languages, `,` in JSON (a member before the suffix's), and an opening bracket the
 * suffix needs open. Anything else — `,` in code, `): {}` — is left out: lexically it may end a
 * line too, and a small model likes such tokens.
 * F_JSON — in JSON only: a key's closing quote and `:`, a short value (`true`, a number, `""`,
 * `{`, …) and `,`: a member cut after its key or its `:` needs them, and the schema constraint
 * beside this one allows only what fits there.
 */
const finishingCache = new Map<string, WeakMap<TokenTable, Uint8Array>>();

function finishingTokens(t: TokenTable, lang: LanguageSpec): Uint8Array {
  const family = lang.indentation ? 'indentation' : lang.id === 'json' || lang.id === 'jsonc' ? 'json' : 'code';
  let cache = finishingCache.get(family);
  if (cache === undefined) finishingCache.set(family, (cache = new WeakMap()));
  let out = cache.get(t);
  if (out === undefined) {
    // `{`, `[` and `(` end a line only where the suffix needs them open (SuffixPlan.nMustOpen).
    const enders = new Set([...(family === 'indentation' ? ':([{' : family === 'json' ? ',[{' : ';{[(')].map((ch) => ch.charCodeAt(0)));
    out = new Uint8Array(t.nTokens);
    for (let id = 0; id < t.nTokens; id++) {
      const bytes = t.bytes[id] as Uint8Array;
      if (t.stop[id] === 1 || bytes.length === 0) continue;
      let last = bytes.length - 1;
      while (last >= 0 && (bytes[last] === 32 || bytes[last] === 9)) last--;
      if (last < 0) continue;
      const ender = enders.has(bytes[last] as number);
      let ok = true;
      for (let i = 0; i < (ender ? last : bytes.length) && ok; i++) ok = closingBytes.has(bytes[i] as number);
      for (let i = last + 1; i < bytes.length && ok; i++) ok = closingBytes.has(bytes[i] as number);
      if (ok) out[id] = ender ? F_END : F_CLOSE;
      else if (family === 'json' && bytes.every((b) => b < 128)) {
        const text = String.fromCharCode(...bytes);
        if (/\S/.test(text) && jsonFinish.test(text)) out[id] = F_JSON;
      }
    }
    cache.set(t, out);
  }
  return out;
}

/** The built-in syntax constraint for `languageId`, or undefined when the language is not supported. */
export function createSyntaxConstraint(o: SyntaxConstraintOptions): SyntaxConstraint | undefined {
  const lang = languageSpec(o.languageId);
  if (lang === undefined || o.prefix.length > maxPrefixChars) return undefined;
  const table = tokenTable(o.tokenizer);
  const { cursor, nErrors, nLineFrames } = lexPrefix(lang, o.prefix);
  const plan = planSuffix(lang, cursor, o.suffix, nLineFrames, nErrors === 0, o.suffixCut === true);
  return new SyntaxConstraint(table, lang, cursor, plan, nErrors, o.maskBudgetMs ?? 50);
}
