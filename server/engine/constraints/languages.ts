// Lexical facts per language for the built-in syntax constraint: which quotes open strings and
// how those strings end, which comment syntaxes exist, and the few quirks that change how bytes
// group (JS regex literals, Rust lifetimes vs char literals, C# verbatim/interpolated strings,
// Python indentation). Data, not code: adding a language is adding a row.

export interface StringSpec {
  /** The opening and closing quote, one ASCII character. */
  readonly quote: '"' | "'" | '`';
  /** Raw newlines allowed inside (template literals, Go raw strings, Rust strings). */
  readonly multiline: boolean;
  /** Backslash escapes the next character. */
  readonly escapes: boolean;
  /** Interpolation: 0 none, 1 `${ … }` (JS templates, Kotlin, Dart). */
  readonly interp: 0 | 1;
  /** Three quotes open a multi-line string closed by three quotes (Python, Java text blocks, Kotlin). */
  readonly triple: boolean;
}

export interface LanguageSpec {
  /** Canonical id; several VS Code language ids may share one spec. */
  readonly id: string;
  readonly strings: readonly StringSpec[];
  /** `//` line comments and `/* … *\/` block comments. */
  readonly slashComments: boolean;
  /** `/* … *\/` only (CSS). */
  readonly blockCommentsOnly?: boolean;
  /** `#` line comments. */
  readonly hashComments: boolean;
  /** Block comments nest (Rust). */
  readonly nestedBlockComments: boolean;
  /** `/re/` literals where an operand may start (JavaScript family). */
  readonly regex: boolean;
  /** Off-side rule: indentation opens and closes blocks (Python). */
  readonly indentation: boolean;
  /** `'` starts a char literal only when it closes after one character (Rust lifetimes). */
  readonly charOrLifetime: boolean;
  /** `@"…"` verbatim and `$"…{x}…"` interpolated strings (C#). */
  readonly csharpPrefixes: boolean;
  /**
   * `;` ends a statement and never stands directly inside `(` or `[` — except in the parentheses
   * of a header like `for (;;)`: those after a word ending in one of these letters (`for`: `r`,
   * Java's `try (…; …)`: `y`, C++'s `if (init; cond)` / `switch`: `f`, `h`). Undefined: no such
   * rule (Rust's `[0; 3]`, Scala's `for (a <- x; b <- y)`, CSS's `url(data:…;base64,…)`).
   */
  readonly semicolonHeaders?: string;
  /** JSX: `</` starts a closing tag, not a regex literal. */
  readonly jsx?: boolean;
}

const s = (quote: StringSpec['quote'], o: Partial<Omit<StringSpec, 'quote'>> = {}): StringSpec => ({
  quote,
  multiline: o.multiline ?? false,
  escapes: o.escapes ?? true,
  interp: o.interp ?? 0,
  triple: o.triple ?? false,
});

const base: Omit<LanguageSpec, 'id' | 'strings'> = {
  slashComments: true,
  hashComments: false,
  nestedBlockComments: false,
  regex: false,
  indentation: false,
  charOrLifetime: false,
  csharpPrefixes: false,
};

/** JavaScript's strings: `"…"`, `'…'` and `` `…${x}…` `` templates. */
const jsStrings = [s('"'), s("'"), s('`', { multiline: true, interp: 1 })];

const specs: readonly (LanguageSpec & { readonly vscodeIds: readonly string[] })[] = [
  {
    ...base,
    id: 'typescript',
    vscodeIds: ['typescript', 'javascript'],
    strings: jsStrings,
    regex: true,
    semicolonHeaders: 'r',
  },
  // JSX text and Vue templates and styles may hold `;` inside `(` (`return (<p>a&nbsp;b</p>)`,
  // `url(data:…;base64,…)`): no `;` rule there.
  {
    ...base,
    id: 'typescriptreact',
    vscodeIds: ['typescriptreact', 'javascriptreact', 'vue'],
    strings: jsStrings,
    regex: true,
    jsx: true,
  },
  {
    ...base,
    id: 'python',
    vscodeIds: ['python'],
    strings: [s('"', { triple: true }), s("'", { triple: true })],
    slashComments: false,
    hashComments: true,
    indentation: true,
    semicolonHeaders: '',
  },
  { ...base, id: 'go', vscodeIds: ['go'], strings: [s('"'), s("'"), s('`', { multiline: true, escapes: false })], semicolonHeaders: '' },
  {
    ...base,
    id: 'rust',
    vscodeIds: ['rust'],
    strings: [s('"', { multiline: true })],
    nestedBlockComments: true,
    charOrLifetime: true,
  },
  { ...base, id: 'java', vscodeIds: ['java'], strings: [s('"', { triple: true }), s("'")], semicolonHeaders: 'ry' },
  { ...base, id: 'c', vscodeIds: ['c', 'cpp', 'cuda-cpp', 'objective-c', 'objective-cpp', 'hlsl', 'glsl'], strings: [s('"'), s("'")], semicolonHeaders: 'rfh' },
  { ...base, id: 'csharp', vscodeIds: ['csharp'], strings: [s('"', { triple: true }), s("'")], csharpPrefixes: true, semicolonHeaders: 'r' },
  { ...base, id: 'json', vscodeIds: ['json'], strings: [s('"')], slashComments: false },
  { ...base, id: 'jsonc', vscodeIds: ['jsonc', 'json5'], strings: [s('"'), s("'")] },
  {
    ...base,
    id: 'kotlin',
    vscodeIds: ['kotlin', 'groovy'],
    strings: [s('"', { triple: true, interp: 1 }), s("'")],
    nestedBlockComments: true,
  },
  { ...base, id: 'dart', vscodeIds: ['dart'], strings: [s('"', { triple: true, interp: 1 }), s("'", { triple: true, interp: 1 })] },
  { ...base, id: 'swift', vscodeIds: ['swift'], strings: [s('"', { triple: true })], nestedBlockComments: true },
  { ...base, id: 'scala', vscodeIds: ['scala'], strings: [s('"', { triple: true }), s("'")] },
  { ...base, id: 'css', vscodeIds: ['css'], strings: [s('"'), s("'")], blockCommentsOnly: true },
  { ...base, id: 'scss', vscodeIds: ['scss', 'less'], strings: [s('"'), s("'")] },
  {
    ...base,
    id: 'ruby',
    vscodeIds: ['ruby'],
    strings: [s('"', { multiline: true }), s("'", { multiline: true })],
    slashComments: false,
    hashComments: true,
  },
];

const byVscodeId = new Map<string, LanguageSpec>();
for (const spec of specs) for (const id of spec.vscodeIds) byVscodeId.set(id, spec);

/** The lexical spec for a VS Code language id, or undefined when the constraint does not know it. */
export function languageSpec(languageId: string): LanguageSpec | undefined {
  return byVscodeId.get(languageId);
}

/** VS Code language ids the built-in syntax constraint supports. */
export function supportedLanguageIds(): string[] {
  return [...byVscodeId.keys()];
}
