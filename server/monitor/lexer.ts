// Trigger detection for monitor-guided decoding: a byte-at-a-time lexer that knows just enough of a
// language (comments, strings, template expressions, numbers) to tell a dereference point —
// `obj.`, `f().`, `a[i]?.`, `p->`, `std::` — from a `.` in a comment, a string or `1.5`.
// It runs over UTF-8 bytes because tokens are bytes; every byte that matters is ASCII, and the
// bytes of a multi-byte character (≥ 0x80) never look like one.
import { identDefault, identJs, type IdentTable } from './trie';

export interface LanguageSyntax {
  readonly ident: IdentTable;
  /** Line comment openers: '//' and/or '#'. */
  readonly lineComments: readonly string[];
  /** C-style block comments. */
  readonly blockComments: boolean;
  /** Bytes that open a string literal. */
  readonly quotes: string;
  /** JavaScript template literals: `…${ code }…`. */
  readonly templates: boolean;
  /** Python's ''' and """. */
  readonly tripleQuotes: boolean;
  /** Which dereference operators trigger the monitor. */
  readonly triggers: { readonly dot: boolean; readonly optionalDot: boolean; readonly arrow: boolean; readonly colons: boolean };
}

const cLike = { ident: identDefault, lineComments: ['//'], blockComments: true, quotes: '"\'', templates: false, tripleQuotes: false };
const js: LanguageSyntax = { ...cLike, ident: identJs, quotes: '"\'`', templates: true, triggers: { dot: true, optionalDot: true, arrow: false, colons: false } };
const dotOnly = { dot: true, optionalDot: false, arrow: false, colons: false };

const languages: Record<string, LanguageSyntax> = {
  typescript: js,
  typescriptreact: js,
  javascript: js,
  javascriptreact: js,
  python: { ident: identDefault, lineComments: ['#'], blockComments: false, quotes: '"\'', templates: false, tripleQuotes: true, triggers: dotOnly },
  c: { ...cLike, triggers: { dot: true, optionalDot: false, arrow: true, colons: false } },
  cpp: { ...cLike, triggers: { dot: true, optionalDot: false, arrow: true, colons: true } },
  cuda: { ...cLike, triggers: { dot: true, optionalDot: false, arrow: true, colons: true } },
  // Rust: `'` starts lifetimes as often as char literals, so it does not open a string here.
  rust: { ...cLike, quotes: '"', triggers: { dot: true, optionalDot: false, arrow: false, colons: true } },
  go: { ...cLike, quotes: '"\'`', triggers: dotOnly },
  java: { ...cLike, triggers: dotOnly },
  csharp: { ...cLike, triggers: { dot: true, optionalDot: true, arrow: false, colons: false } },
  kotlin: { ...cLike, triggers: { dot: true, optionalDot: true, arrow: false, colons: false } },
  swift: { ...cLike, triggers: { dot: true, optionalDot: true, arrow: false, colons: false } },
  php: { ...cLike, ident: identJs, lineComments: ['//', '#'], triggers: { dot: false, optionalDot: false, arrow: true, colons: true } },
  ruby: { ...cLike, lineComments: ['#'], blockComments: false, triggers: { dot: true, optionalDot: false, arrow: false, colons: true } },
};

/** The syntax for a VS Code language id; unknown languages get C-like rules with `.` only. */
export function languageSyntax(languageId: string): LanguageSyntax {
  return languages[languageId] ?? { ...cLike, triggers: dotOnly };
}

const enum Mode {
  Code,
  LineComment,
  BlockComment,
  String,
  TripleString,
}

/** Lexer state; small and flat so the monitor can snapshot it per token. */
export interface LexState {
  mode: Mode;
  /** The previous byte (0 after a comment opener, so the `*` of an opener does not also close the comment). */
  prev: number;
  /** Code: the text so far ends (whitespace aside) in something a member access can follow. */
  recv: boolean;
  /** Whether a receiver came before the last significant byte: for two-byte operators (`?.`, `->`, `::`). */
  recvBefore: boolean;
  /** Whitespace since the last significant byte: 0 none, 1 blanks, 2 a line break. */
  ws: number;
  /** Inside an identifier-or-number run. */
  inWord: boolean;
  /** The current run started with a digit: a number literal, not a receiver. */
  wordNumber: boolean;
  /** String: its quote byte; escape pending; still empty; triple string: closing quotes seen. */
  quote: number;
  escape: boolean;
  strEmpty: boolean;
  run: number;
  /** An empty string of this quote closed at the previous byte (the first two quotes of `"""`). */
  emptyQuote: number;
  /** Open template expressions `${ … }`: brace depth inside each. */
  braces: number[];
}

export function initialLexState(): LexState {
  return {
    mode: Mode.Code, prev: 0, recv: false, recvBefore: false, ws: 2, inWord: false, wordNumber: false,
    quote: 0, escape: false, strEmpty: false, run: 0, emptyQuote: 0, braces: [],
  };
}

export function cloneLexState(s: LexState): LexState {
  return { ...s, braces: s.braces.slice() };
}

const DOT = 0x2e;
const NL = 0x0a;
const BACKSLASH = 0x5c;
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isBlank = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0c;

/**
 * Feeds one byte; returns true when this byte completes a dereference operator (the monitor then
 * starts constraining the identifier that follows). Mutates `s`.
 */
export function lexByte(s: LexState, b: number, syn: LanguageSyntax): boolean {
  let trigger = false;
  switch (s.mode) {
    case Mode.Code:
      trigger = codeByte(s, b, syn);
      if ((s.mode as Mode) === Mode.BlockComment) {
        s.prev = 0; // the opener's `*` must not close the comment: `/*/`
        return false;
      }
      break;
    case Mode.LineComment:
      if (b === NL) {
        s.mode = Mode.Code;
        s.ws = 2;
      }
      break;
    case Mode.BlockComment:
      if (b === 0x2f && s.prev === 0x2a) {
        s.mode = Mode.Code;
        s.ws = Math.max(s.ws, 1);
        s.prev = 0;
        return false;
      }
      break;
    case Mode.String:
      stringByte(s, b, syn);
      break;
    case Mode.TripleString:
      if (s.escape) s.escape = false;
      else if (b === BACKSLASH) s.escape = true;
      else if (b === s.quote) {
        if (++s.run === 3) closeString(s, false);
      } else s.run = 0;
      break;
  }
  s.prev = b;
  return trigger;
}

function codeByte(s: LexState, b: number, syn: LanguageSyntax): boolean {
  const emptyQuote = s.emptyQuote;
  s.emptyQuote = 0;
  if (syn.ident[b] === 1) {
    if (!s.inWord) {
      s.inWord = true;
      s.wordNumber = isDigit(b);
    }
    s.recv = !s.wordNumber;
    s.ws = 0;
    return false;
  }
  s.inWord = false;
  if (isBlank(b)) {
    s.ws = Math.max(s.ws, 1);
    return false;
  }
  if (b === NL) {
    s.ws = 2;
    return false;
  }
  // A member access directly after the receiver, or at the start of a line (a wrapped call chain).
  const recvHere = s.recv && s.ws !== 1;
  const prev = s.prev;
  const recvBeforePrev = s.recvBefore;
  s.recvBefore = recvHere;
  s.recv = false;
  s.ws = 0;
  const t = syn.triggers;
  if (b === DOT) {
    if (t.dot && recvHere && prev !== DOT) return true;
    return t.optionalDot && prev === 0x3f && recvBeforePrev;
  }
  if (b === 0x3e && prev === 0x2d && t.arrow && recvBeforePrev) return true;
  if (b === 0x3a && prev === 0x3a && t.colons && recvBeforePrev) return true;
  if (b === 0x29 || b === 0x5d) s.recv = true;
  else if (b === 0x2f && prev === 0x2f && syn.lineComments.includes('//')) s.mode = Mode.LineComment;
  else if (b === 0x2a && prev === 0x2f && syn.blockComments) s.mode = Mode.BlockComment;
  else if (b === 0x23 && syn.lineComments.includes('#')) s.mode = Mode.LineComment;
  else if (syn.quotes.includes(String.fromCharCode(b))) {
    if (syn.tripleQuotes && emptyQuote === b && prev === b) {
      s.mode = Mode.TripleString;
      s.run = 0;
    } else {
      s.mode = Mode.String;
      s.strEmpty = true;
    }
    s.quote = b;
    s.escape = false;
  } else if (b === 0x7b && s.braces.length > 0) {
    s.braces[s.braces.length - 1]! += 1;
  } else if (b === 0x7d && s.braces.length > 0) {
    const top = s.braces.length - 1;
    if (s.braces[top] === 0) {
      s.braces.pop();
      s.mode = Mode.String;
      s.quote = 0x60;
      s.strEmpty = false;
    } else s.braces[top]! -= 1;
  }
  return false;
}

function stringByte(s: LexState, b: number, syn: LanguageSyntax): void {
  const wasEmpty = s.strEmpty;
  s.strEmpty = false;
  if (s.escape) s.escape = false;
  else if (b === BACKSLASH) s.escape = true;
  else if (b === s.quote) closeString(s, wasEmpty);
  else if (b === 0x7b && s.quote === 0x60 && syn.templates && s.prev === 0x24) {
    s.braces.push(0);
    s.mode = Mode.Code;
    s.recv = false;
    s.ws = 0;
  } else if (b === NL && s.quote !== 0x60) {
    s.mode = Mode.Code; // unterminated literal: recover at the line end
    s.ws = 2;
    s.recv = false;
  }
}

function closeString(s: LexState, wasEmpty: boolean): void {
  s.mode = Mode.Code;
  s.recv = true; // 'abc'.length
  s.ws = 0;
  s.inWord = false;
  // Set after lexByte stores prev: codeByte sees it at the next byte.
  s.emptyQuote = wasEmpty ? s.quote : 0;
}

/** Runs the lexer over `bytes`; returns the byte offsets just after each trigger. */
export function lexBytes(s: LexState, bytes: Uint8Array, syn: LanguageSyntax): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (lexByte(s, bytes[i] as number, syn)) out.push(i + 1);
  return out;
}
