// The lexer's state: the frame stack (immutable, shared between snapshots) and the few scalars of
// lookahead and Python indentation. A snapshot is a shallow copy of one small object.

export interface Frame {
  readonly kind: number;
  readonly parent: Frame | undefined;
  /** 1-based stack position. */
  readonly depth: number;
  /** Opened by the completion (not by the text before the cursor). */
  readonly own: boolean;
  /** K_STR: closing quote byte. */
  readonly quote: number;
  readonly triple: boolean;
  readonly multiline: boolean;
  readonly escapes: boolean;
  /** K_STR: 0 none, 1 `${`, 2 C# `{`. */
  readonly interp: number;
  /** K_STR: a doubled quote is one quote (C# @""). */
  readonly verbatim: boolean;
  /**
   * `(` or `[` in which `;` may not stand directly (LanguageSpec.semicolonHeaders): decided once,
   * when the frame opens — not for a header's parentheses (`for (;;)`).
   */
  readonly noSemicolon: boolean;
}

export interface Indent {
  readonly width: number;
  readonly parent: Indent | undefined;
}

export class Cursor {
  top: Frame | undefined = undefined;
  /** Lookahead state (P_* in lexer.ts); 0 = none. */
  pend = 0;
  pendFrame: Frame | undefined = undefined;
  pendBits = 0;
  /** Last non-blank code byte (regex-vs-division, Python's block-opening `:`). */
  lastSig = 0;
  /** The innermost string has no content yet (for `""` + `"` = triple quote). */
  strEmpty = false;
  reClass = false;
  // Python off-side rule (only while no bracket is open).
  lineStart = true;
  col = 0;
  indents: Indent | undefined = undefined;
  /** The last logical line ended with `:`: the next code line must be indented deeper. */
  colon = false;

  copyFrom(o: Cursor): this {
    this.top = o.top;
    this.pend = o.pend;
    this.pendFrame = o.pendFrame;
    this.pendBits = o.pendBits;
    this.lastSig = o.lastSig;
    this.strEmpty = o.strEmpty;
    this.reClass = o.reClass;
    this.lineStart = o.lineStart;
    this.col = o.col;
    this.indents = o.indents;
    this.colon = o.colon;
    return this;
  }

  clone(): Cursor {
    return new Cursor().copyFrom(this);
  }

  get depth(): number {
    return this.top?.depth ?? 0;
  }

}
