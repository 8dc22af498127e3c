// Per-tokenizer lexical summary of every token id, computed once and cached per TokenizerLike
// instance: the token's bytes, which lexically significant byte classes it contains, and its last
// non-blank byte. With it, `check` for a token that holds no byte significant in the current
// frame (an identifier inside code, a word inside a string) is a bit test and one assignment.
import type { TokenizerLike } from '../model';
import type { Cursor, Frame } from './lexer';

// Frame kinds as in lexer.ts, repeated here: under tsx's per-file CommonJS transform an imported
// binding is a getter call, which shows up on the hot path.
const K_INTERP = 4;
const K_STR = 5;
const K_LINE_COMMENT = 6;
const K_BLOCK_COMMENT = 7;
import type { LanguageSpec } from './languages';

export const C_SQ = 1 << 0;
export const C_DQ = 1 << 1;
export const C_BT = 1 << 2;
export const C_BSL = 1 << 3;
export const C_NL = 1 << 4;
export const C_OPEN = 1 << 5;
export const C_CLOSE = 1 << 6;
export const C_SLASH = 1 << 7;
export const C_STAR = 1 << 8;
export const C_HASH = 1 << 9;
export const C_DOLLAR = 1 << 10;
export const C_AT = 1 << 11;
export const C_LBRACE = 1 << 12;
export const C_SQB = 1 << 13;
export const C_SEMI = 1 << 14;

const byteClass = new Uint32Array(256);
const set = (chars: string, cls: number): void => {
  for (const ch of chars) byteClass[ch.charCodeAt(0)] = (byteClass[ch.charCodeAt(0)] ?? 0) | cls;
};
set("'", C_SQ);
set('"', C_DQ);
set('`', C_BT);
set('\\', C_BSL);
set('\n', C_NL);
set('([{', C_OPEN);
set(')]}', C_CLOSE);
set('/', C_SLASH);
set('*', C_STAR);
set('#', C_HASH);
set('$', C_DOLLAR);
set('@', C_AT);
set('{', C_LBRACE);
set('[]', C_SQB);
set(';', C_SEMI);

const isBlank = (b: number): boolean => b === 32 || b === 9 || b === 10 || b === 13 || b === 12;

export interface TokenTable {
  /** Ids covered: [0, nTokens). */
  readonly nTokens: number;
  readonly bytes: readonly Uint8Array[];
  /** Byte classes present in each token (C_* bits). */
  readonly classes: Uint32Array;
  /** Last non-blank byte of each token, 0 when the token is blank or empty. */
  readonly lastSig: Uint8Array;
  /** Index just past the first non-blank byte (the token's length when it is blank). */
  readonly head: Uint16Array;
  /** Byte classes of the bytes from `head` on. */
  readonly tailClasses: Uint32Array;
  /** 1 for ids that end generation. */
  readonly stop: Uint8Array;
  /** Time it took to build, ms. */
  readonly tBuildMs: number;
}

const cache = new WeakMap<TokenizerLike, TokenTable>();

export function tokenTable(tokenizer: TokenizerLike): TokenTable {
  const hit = cache.get(tokenizer);
  if (hit !== undefined) return hit;
  const t0 = performance.now();
  const n = tokenizer.vocabSize;
  const bytes: Uint8Array[] = new Array<Uint8Array>(n);
  const classes = new Uint32Array(n);
  const lastSig = new Uint8Array(n);
  const stop = new Uint8Array(n);
  const head = new Uint16Array(n);
  const tailClasses = new Uint32Array(n);
  for (let id = 0; id < n; id++) {
    const b = tokenizer.tokenBytes(id);
    bytes[id] = b;
    let cls = 0;
    let tail = 0;
    let last = 0;
    let h = -1;
    for (let i = 0; i < b.length; i++) {
      const v = b[i] as number;
      cls |= byteClass[v] as number;
      if (h >= 0) tail |= byteClass[v] as number;
      if (!isBlank(v)) {
        last = v;
        if (h < 0) h = i + 1;
      }
    }
    classes[id] = cls;
    lastSig[id] = last;
    head[id] = Math.min(h < 0 ? b.length : h, 65535);
    tailClasses[id] = tail;
  }
  for (const id of tokenizer.stopIds) if (id >= 0 && id < n) stop[id] = 1;
  const table: TokenTable = { nTokens: n, bytes, classes, lastSig, head, tailClasses, stop, tBuildMs: performance.now() - t0 };
  cache.set(tokenizer, table);
  return table;
}

/** Byte classes that matter in code, per language. */
export function codeClasses(lang: LanguageSpec): number {
  let m = C_OPEN | C_CLOSE;
  for (const s of lang.strings) m |= s.quote === '"' ? C_DQ : s.quote === "'" ? C_SQ : C_BT;
  if (lang.charOrLifetime) m |= C_SQ;
  if (lang.slashComments) m |= C_SLASH;
  if (lang.hashComments) m |= C_HASH;
  if (lang.indentation) m |= C_NL | C_BSL;
  if (lang.csharpPrefixes) m |= C_AT | C_DOLLAR;
  return m;
}

function frameClasses(f: Frame, lang: LanguageSpec, code: number): number {
  // `;` matters where the frame rules it out (Frame.noSemicolon).
  if (f.kind <= K_INTERP) return f.noSemicolon ? code | C_SEMI : code;
  switch (f.kind) {
    case K_STR: {
      let m = f.quote === 34 ? C_DQ : f.quote === 39 ? C_SQ : C_BT;
      if (f.escapes) m |= C_BSL;
      if (!f.multiline) m |= C_NL;
      if (f.interp === 1) m |= C_DOLLAR;
      if (f.interp === 2) m |= C_LBRACE;
      return m;
    }
    case K_LINE_COMMENT:
      return C_NL;
    case K_BLOCK_COMMENT:
      return lang.nestedBlockComments ? C_STAR | C_SLASH : C_STAR;
    default:
      return C_SLASH | C_BSL | C_SQB | C_NL;
  }
}

/**
 * Byte classes that would change the state `c` (a token without any of them is a no-op apart from
 * `lastSig`), or -1 when every byte matters (a lookahead is pending, or a Python line has not
 * reached its first code byte).
 */
export function significantClasses(c: Cursor, lang: LanguageSpec, code: number): number {
  if (c.pend !== 0) return -1;
  const top = c.top;
  if (top === undefined) return lang.indentation && c.lineStart ? -1 : code;
  return frameClasses(top, lang, code);
}
