// A byte-at-a-time lexical pushdown machine: the stack of brackets, strings, comments and template
// interpolations open at a point of a source file, plus the little lookahead a byte stream needs
// (`/` before `*`, `""` before a third quote, Rust `'a` before a closing quote) and Python's
// indentation stack. Frames are immutable and shared between snapshots, so a snapshot is a
// shallow copy of one small object and rollback is exact by construction.
import type { LanguageSpec } from './languages';
import { Cursor, type Frame } from './lexer-state';

export { Cursor, type Frame, type Indent } from './lexer-state';

// Frame kinds. Code frames (Paren…Interp) hold code; the others hold text.
export const K_PAREN = 1;
export const K_BRACKET = 2;
export const K_BRACE = 3;
/** `${ … }` inside a template/interpolated string: code closed by `}`. */
export const K_INTERP = 4;
export const K_STR = 5;
export const K_LINE_COMMENT = 6;
export const K_BLOCK_COMMENT = 7;
export const K_REGEX = 8;

// Lookahead states (Cursor.pend).
const P_NONE = 0;
const P_SLASH_RE = 1; // code: saw `/` where a regex may start
const P_SLASH_DIV = 2; // code: saw `/` (division or comment)
const P_ESC = 3; // string/regex: saw `\`
const P_DOLLAR = 4; // `${`-string: saw `$`
const P_CS_LBRACE = 5; // C# interpolated: saw `{`
const P_TRIPLE_1 = 6; // triple string: saw one closing quote
const P_TRIPLE_2 = 7; // triple string: saw two closing quotes
const P_EMPTY = 8; // code: an empty string just closed (a third quote makes it triple); pendFrame = it
const P_VERB_Q = 9; // code: a verbatim string just closed (a second quote re-opens it); pendFrame = it
const P_CHAR_1 = 10; // Rust: saw `'`
const P_CHAR_2 = 11; // Rust: saw `'x`
const P_CS_PREFIX = 12; // C#: saw `@`/`$`; pendBits: 1 @, 2 $
const P_BSL = 13; // Python code: saw `\` (line continuation if a newline follows)
const P_BC_STAR = 14; // block comment: saw `*`
const P_BC_SLASH = 15; // nested block comment: saw `/`

// Rejection reasons (0 = accepted).
export const R_OK = 0;
/** Closes a bracket/string/comment the suffix closes. */
export const R_SUFFIX_CLOSES = 1;
/** Closes a bracket that is not open. */
export const R_UNBALANCED = 2;
/** Closing bracket of the wrong kind. */
export const R_MISMATCH = 3;
/** Raw newline in a single-line string or regex. */
export const R_NEWLINE_IN_STRING = 4;
/** Python indentation error (unexpected indent, no indented block, dedent to no level). */
export const R_INDENT = 5;
/** `;` directly inside `(` or `[` (LanguageSpec.semicolonHeaders). */
export const R_SEMICOLON_IN_BRACKETS = 6;

/** How `step` treats errors, and who owns the frames it opens. */
export interface StepContext {
  readonly lang: LanguageSpec;
  /** Frames at depth <= floor may not be closed (the suffix closes them). */
  floor: number;
  /** true: report errors; false: recover and count them in `nErrors` (prefix/suffix lexing). */
  strict: boolean;
  /** New frames are the completion's. */
  own: boolean;
  /** Apply Python indentation rules. */
  indentation: boolean;
  nErrors: number;
}

const NL = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const FF = 12;
const BSL = 92;
const SLASH = 47;
const STAR = 42;
const HASH = 35;
const SQ = 39;
const DQ = 34;
const BT = 96;
const DOLLAR = 36;
const AT = 64;
const LBRACE = 123;
const RBRACE = 125;
const LPAREN = 40;
const RPAREN = 41;
const LSQB = 91;
const RSQB = 93;
const COLON = 58;
const SEMI = 59;
const LT = 60;

/** Bytes after which `/` starts a regex literal rather than a division (identifiers and `)` do not). */
const regexAfter = new Uint8Array(256);
for (const ch of '(,=:[!&|?{};+-*%<>~^') regexAfter[ch.charCodeAt(0)] = 1;
regexAfter[0] = 1;

/** A `(` (after the code byte `lastSig`) or `[` opened now holds no `;` directly (LanguageSpec.semicolonHeaders). */
function noSemicolonIn(lang: LanguageSpec, kind: number, lastSig: number): boolean {
  const headers = lang.semicolonHeaders;
  if (headers === undefined) return false;
  if (kind === K_BRACKET) return true;
  for (let i = 0; i < headers.length; i++) if (headers.charCodeAt(i) === lastSig) return false;
  return true;
}

function frame(kind: number, parent: Frame | undefined, own: boolean, str?: Partial<Frame>): Frame {
  return {
    kind,
    parent,
    depth: (parent?.depth ?? 0) + 1,
    own,
    quote: str?.quote ?? 0,
    triple: str?.triple ?? false,
    multiline: str?.multiline ?? false,
    escapes: str?.escapes ?? false,
    interp: str?.interp ?? 0,
    verbatim: str?.verbatim ?? false,
    noSemicolon: str?.noSemicolon ?? false,
  };
}

function push(c: Cursor, kind: number, x: StepContext, str?: Partial<Frame>): void {
  c.top = frame(kind, c.top, x.own, str);
}

/** Pops the top frame unless the floor forbids it. */
function pop(c: Cursor, x: StepContext): number {
  const top = c.top;
  if (top === undefined) return R_UNBALANCED;
  if (top.depth <= x.floor) {
    if (x.strict) return R_SUFFIX_CLOSES;
    x.nErrors++;
  }
  c.top = top.parent;
  return R_OK;
}

function fail(c: Cursor, x: StepContext, reason: number): number {
  if (x.strict) return reason;
  x.nErrors++;
  return R_OK;
}

/** Feeds one byte. Returns R_OK or (strict mode) the reason the byte is not allowed. */
export function step(c: Cursor, b: number, x: StepContext): number {
  if (c.pend !== P_NONE) {
    const r = resolvePending(c, b, x);
    if (r !== -1) return r;
  }
  const top = c.top;
  if (top === undefined || top.kind <= K_INTERP) return code(c, b, x);
  switch (top.kind) {
    case K_STR:
      return str(c, top, b, x);
    case K_LINE_COMMENT:
      if (b !== NL) return R_OK;
      {
        const r = pop(c, x);
        return r !== R_OK ? r : code(c, b, x);
      }
    case K_BLOCK_COMMENT:
      if (b === STAR) c.pend = P_BC_STAR;
      else if (b === SLASH && x.lang.nestedBlockComments) c.pend = P_BC_SLASH;
      return R_OK;
    default:
      return regex(c, b, x);
  }
}

/** Handles the byte after a lookahead state; -1 means "process `b` normally". */
function resolvePending(c: Cursor, b: number, x: StepContext): number {
  const p = c.pend;
  c.pend = P_NONE;
  switch (p) {
    case P_SLASH_RE:
    case P_SLASH_DIV:
      if (b === SLASH && !x.lang.blockCommentsOnly) {
        push(c, K_LINE_COMMENT, x);
        return R_OK;
      }
      if (b === STAR) {
        push(c, K_BLOCK_COMMENT, x);
        return R_OK;
      }
      if (p === P_SLASH_RE) {
        push(c, K_REGEX, x);
        c.reClass = false;
        return regex(c, b, x);
      }
      c.lastSig = SLASH;
      return -1;
    case P_ESC:
      return R_OK;
    case P_DOLLAR:
      if (b === LBRACE) {
        push(c, K_INTERP, x);
        c.lastSig = LBRACE;
        return R_OK;
      }
      return -1;
    case P_CS_LBRACE:
      if (b === LBRACE) return R_OK; // `{{` is a literal brace
      push(c, K_INTERP, x);
      c.lastSig = LBRACE;
      return -1;
    case P_TRIPLE_1:
    case P_TRIPLE_2: {
      const top = c.top as Frame;
      if (b !== top.quote) return -1;
      if (p === P_TRIPLE_1) {
        c.pend = P_TRIPLE_2;
        return R_OK;
      }
      c.lastSig = b;
      return pop(c, x);
    }
    case P_EMPTY: {
      const f = c.pendFrame as Frame;
      c.pendFrame = undefined;
      if (b !== f.quote) return -1;
      push(c, K_STR, x, { ...f, triple: true, multiline: true });
      c.strEmpty = true;
      return R_OK;
    }
    case P_VERB_Q: {
      const f = c.pendFrame as Frame;
      c.pendFrame = undefined;
      if (b !== f.quote) return -1;
      c.top = f; // `""` inside @"…": an escaped quote, still inside
      return R_OK;
    }
    case P_CHAR_1:
      if (b === BSL) {
        // An escaped char literal: '\n', '\''.
        push(c, K_STR, x, { quote: SQ, escapes: true });
        c.pend = P_ESC;
        return R_OK;
      }
      if (b === NL || b === SP || b === SQ) return -1;
      c.pend = P_CHAR_2;
      return R_OK;
    case P_CHAR_2:
      if (b === SQ) {
        c.lastSig = SQ;
        return R_OK; // 'x' closed
      }
      if (b >= 0x80 && b < 0xc0) {
        c.pend = P_CHAR_2; // rest of a multi-byte character
        return R_OK;
      }
      return -1; // 'a was a lifetime or label
    case P_CS_PREFIX:
      if (b === AT || b === DOLLAR) {
        c.pendBits |= b === AT ? 1 : 2;
        c.pend = P_CS_PREFIX;
        return R_OK;
      }
      if (b === DQ) {
        const verbatim = (c.pendBits & 1) !== 0;
        push(c, K_STR, x, { quote: DQ, multiline: verbatim, escapes: !verbatim, verbatim, interp: (c.pendBits & 2) !== 0 ? 2 : 0 });
        c.strEmpty = true;
        c.lastSig = DQ;
        return R_OK;
      }
      return -1;
    case P_BSL:
      if (b === NL) return R_OK; // explicit line joining
      return -1;
    case P_BC_STAR:
      if (b === SLASH) return pop(c, x);
      if (b === STAR) c.pend = P_BC_STAR;
      return R_OK;
    case P_BC_SLASH:
      if (b === STAR) {
        push(c, K_BLOCK_COMMENT, x);
        return R_OK;
      }
      return -1;
  }
  return -1;
}

function closes(kind: number, b: number): boolean {
  return (b === RPAREN && kind === K_PAREN) || (b === RSQB && kind === K_BRACKET) || (b === RBRACE && (kind === K_BRACE || kind === K_INTERP));
}

function code(c: Cursor, b: number, x: StepContext): number {
  const lang = x.lang;
  if (x.indentation && c.top === undefined && c.lineStart) {
    if (b === SP) {
      c.col++;
      return R_OK;
    }
    if (b === TAB) {
      c.col = (Math.floor(c.col / 8) + 1) * 8;
      return R_OK;
    }
    if (b === CR || b === FF) return R_OK;
    if (b === NL) {
      c.col = 0;
      return R_OK;
    }
    if (b === HASH) {
      push(c, K_LINE_COMMENT, x); // comment-only lines do not indent
      return R_OK;
    }
    const r = indentLine(c, x);
    if (r !== R_OK) return r;
  }
  switch (b) {
    case SP:
    case TAB:
    case CR:
    case FF:
      return R_OK;
    case NL:
      if (x.indentation && c.top === undefined) {
        c.colon = c.lastSig === COLON;
        c.lineStart = true;
        c.col = 0;
      }
      return R_OK;
    case LPAREN:
      push(c, K_PAREN, x, noSemicolonIn(lang, K_PAREN, c.lastSig) ? { noSemicolon: true } : undefined);
      c.lastSig = b;
      return R_OK;
    case SEMI: {
      // Only the completion's own bytes are judged: the text around the cursor is what it is.
      if (x.strict && c.top?.noSemicolon === true) return R_SEMICOLON_IN_BRACKETS;
      break;
    }
    case LSQB:
      push(c, K_BRACKET, x, noSemicolonIn(lang, K_BRACKET, c.lastSig) ? { noSemicolon: true } : undefined);
      c.lastSig = b;
      return R_OK;
    case LBRACE:
      push(c, K_BRACE, x);
      c.lastSig = b;
      return R_OK;
    case RPAREN:
    case RSQB:
    case RBRACE:
      c.lastSig = b;
      return closeBracket(c, b, x);
    case SQ:
    case DQ:
    case BT:
      return openString(c, b, x);
    case SLASH:
      if (lang.slashComments) {
        c.pend = lang.regex && regexAfter[c.lastSig] === 1 && !(lang.jsx === true && c.lastSig === LT) ? P_SLASH_RE : P_SLASH_DIV;
        return R_OK;
      }
      break;
    case HASH:
      if (lang.hashComments) {
        push(c, K_LINE_COMMENT, x);
        return R_OK;
      }
      break;
    case BSL:
      if (lang.indentation) {
        c.pend = P_BSL;
        return R_OK;
      }
      break;
    case AT:
    case DOLLAR:
      if (lang.csharpPrefixes) {
        c.pend = P_CS_PREFIX;
        c.pendBits = b === AT ? 1 : 2;
        return R_OK;
      }
      break;
  }
  c.lastSig = b;
  return R_OK;
}

function closeBracket(c: Cursor, b: number, x: StepContext): number {
  const top = c.top;
  if (top !== undefined && closes(top.kind, b)) return pop(c, x);
  if (x.strict) return top === undefined ? R_UNBALANCED : R_MISMATCH;
  x.nErrors++;
  // Recover: close down to a matching bracket if one is open in this code run, else ignore `b`.
  for (let f = top; f !== undefined && f.kind <= K_INTERP; f = f.parent) {
    if (closes(f.kind, b)) {
      c.top = f.parent;
      break;
    }
  }
  return R_OK;
}

function openString(c: Cursor, b: number, x: StepContext): number {
  const lang = x.lang;
  c.lastSig = b;
  if (b === SQ && lang.charOrLifetime) {
    c.pend = P_CHAR_1;
    return R_OK;
  }
  for (const sp of lang.strings) {
    if (sp.quote.charCodeAt(0) !== b) continue;
    push(c, K_STR, x, { quote: b, triple: false, multiline: sp.multiline, escapes: sp.escapes, interp: sp.interp, verbatim: false });
    c.strEmpty = sp.triple; // only needed to spot a triple quote
    return R_OK;
  }
  return R_OK;
}

function str(c: Cursor, top: Frame, b: number, x: StepContext): number {
  if (b === top.quote) {
    if (top.triple) {
      c.pend = P_TRIPLE_1;
      return R_OK;
    }
    const wasEmpty = c.strEmpty;
    c.strEmpty = false;
    const r = pop(c, x);
    if (r !== R_OK) return r;
    if (top.verbatim) {
      c.pend = P_VERB_Q;
      c.pendFrame = top;
    } else if (wasEmpty) {
      c.pend = P_EMPTY;
      c.pendFrame = top;
    }
    return R_OK;
  }
  c.strEmpty = false;
  if (b === BSL && top.escapes) {
    c.pend = P_ESC;
    return R_OK;
  }
  if (b === NL && !top.multiline) {
    if (x.strict) return R_NEWLINE_IN_STRING;
    x.nErrors++;
    c.top = top.parent;
    return code(c, b, x);
  }
  if (top.interp === 1 && b === DOLLAR) c.pend = P_DOLLAR;
  else if (top.interp === 2 && b === LBRACE) c.pend = P_CS_LBRACE;
  return R_OK;
}

function regex(c: Cursor, b: number, x: StepContext): number {
  if (b === BSL) {
    c.pend = P_ESC;
    return R_OK;
  }
  if (b === NL) {
    if (x.strict) return R_NEWLINE_IN_STRING;
    x.nErrors++;
    c.top = c.top?.parent;
    return code(c, b, x);
  }
  if (c.reClass) {
    if (b === RSQB) c.reClass = false;
    return R_OK;
  }
  if (b === LSQB) c.reClass = true;
  else if (b === SLASH) {
    c.lastSig = RPAREN; // a regex is an operand: a `/` after it divides
    return pop(c, x);
  }
  return R_OK;
}

/** The first code byte of a Python line: check it against the indentation stack. */
function indentLine(c: Cursor, x: StepContext): number {
  c.lineStart = false;
  const col = c.col;
  const top = c.indents?.width ?? 0;
  if (c.colon) {
    c.colon = false;
    if (col > top) {
      c.indents = { width: col, parent: c.indents };
      return R_OK;
    }
    return fail(c, x, R_INDENT);
  }
  if (col === top) return R_OK;
  if (col > top) {
    if (x.strict) return R_INDENT;
    x.nErrors++;
    c.indents = { width: col, parent: c.indents };
    return R_OK;
  }
  let ind = c.indents;
  while (ind !== undefined && ind.width > col) ind = ind.parent;
  if ((ind?.width ?? 0) !== col) {
    if (x.strict) return R_INDENT;
    x.nErrors++;
    c.indents = col === 0 ? undefined : { width: col, parent: ind };
    return R_OK;
  }
  c.indents = ind;
  return R_OK;
}

/** Feeds `bytes` from `from`; stops at the first rejection and returns its reason (strict mode). */
export function run(c: Cursor, bytes: Uint8Array, x: StepContext, from = 0, to = bytes.length): number {
  for (let i = from; i < to; i++) {
    const r = step(c, bytes[i] as number, x);
    if (r !== R_OK) return r;
  }
  return R_OK;
}
