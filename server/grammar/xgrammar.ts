// XGrammar (@mlc-ai/web-xgrammar, WebAssembly) for JSON Schema and user EBNF grammars: one
// tokenizer info + compiler per tokenizer, one compiled grammar per (tokenizer, grammar), built in
// the background and cached; a GrammarConstraint per completion wraps a GrammarMatcher.
//
// Packaging: the package is a UMD bundle inside a "type": "module" package. tsx loads it as
// CommonJS through a plain require; the esbuild bundle (dist/*.js) inlines it as ESM, where the
// UMD wrapper writes to the bundle's module.exports; plain Node would see an ES module with no
// exports, so as a last resort the file is evaluated as CommonJS with node:vm.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { runInThisContext } from 'node:vm';
import type { TokenizerLike } from '../engine/model';

import type { CompiledGrammar, GrammarCompiler, GrammarMatcher } from '@mlc-ai/web-xgrammar' with { 'resolution-mode': 'import' };

type XGrammar = typeof import('@mlc-ai/web-xgrammar', { with: { 'resolution-mode': 'import' } });
export type { CompiledGrammar, GrammarMatcher };

let loaded: XGrammar | undefined;

/** The XGrammar module, loaded once. Throws with a message saying what to do. */
export function loadXGrammar(): XGrammar {
  if (loaded !== undefined) return loaded;
  let m: Partial<XGrammar> | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    m = require('@mlc-ai/web-xgrammar') as Partial<XGrammar>;
  } catch {
    m = undefined;
  }
  // esbuild honours the package's "type": "module" and inlines the UMD file as ESM: its wrapper
  // then sees the bundle's own `exports`/`module` and puts its exports on the bundle's
  // module.exports (or, without a CommonJS scope, on globalThis.xgrammar).
  if (typeof m?.GrammarCompiler !== 'function') m = (typeof module !== 'undefined' ? module.exports : undefined) as Partial<XGrammar> | undefined;
  if (typeof m?.GrammarCompiler !== 'function') m = (globalThis as { xgrammar?: Partial<XGrammar> }).xgrammar;
  if (typeof m?.GrammarCompiler !== 'function') m = evaluateAsCommonJs();
  if (typeof m?.GrammarCompiler !== 'function') {
    throw new Error('@mlc-ai/web-xgrammar did not load (no GrammarCompiler export) — reinstall it with `npm install --save-exact @mlc-ai/web-xgrammar@0.1.27`.');
  }
  loaded = m as XGrammar;
  return loaded;
}

function evaluateAsCommonJs(): Partial<XGrammar> | undefined {
  // createRequire, not require.resolve: bundlers would try to resolve the latter at build time.
  const packageName = '@mlc-ai/web-xgrammar';
  const file = createRequire(__filename).resolve(packageName);
  const source = readFileSync(file, 'utf8');
  const wrapper = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file }) as (
    ...args: unknown[]
  ) => void;
  const module = { exports: {} as Partial<XGrammar> };
  wrapper(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/** GPT-2 byte-level alphabet: XGrammar decodes "byte_level" vocabularies back to exact bytes. */
function byteLevelAlphabet(): string[] {
  const out: string[] = [];
  let nShifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out.push(String.fromCodePoint(printable ? b : 256 + nShifted++));
  }
  return out;
}

export type GrammarSource = { kind: 'json-schema'; schema: string } | { kind: 'ebnf'; text: string; rootRule?: string } | { kind: 'json' };

export type CompileState =
  | { state: 'pending'; done: Promise<void> }
  | { state: 'ready'; compiled: CompiledGrammar; tCompileMs: number }
  | { state: 'failed'; message: string };

/** Compiles grammars per tokenizer, once, in the background. */
export class GrammarCache {
  private readonly compilers = new WeakMap<TokenizerLike, Promise<GrammarCompiler>>();
  private readonly entries = new WeakMap<TokenizerLike, Map<string, CompileState>>();

  constructor(private readonly log: (message: string) => void) {}

  /** The grammar's state now; starts compiling it when first asked. `key` identifies the source. */
  get(tokenizer: TokenizerLike, key: string, source: () => Promise<GrammarSource>, label: string): CompileState {
    let map = this.entries.get(tokenizer);
    if (map === undefined) {
      map = new Map();
      this.entries.set(tokenizer, map);
    }
    const hit = map.get(key);
    if (hit !== undefined) return hit;
    const entries = map;
    const done = (async () => {
      const t0 = performance.now();
      try {
        const compiler = await this.compiler(tokenizer);
        const src = await source();
        const compiled =
          src.kind === 'json-schema'
            ? await compiler.compileJSONSchema(src.schema, true, undefined, undefined, false)
            : src.kind === 'json'
              ? await compiler.compileBuiltinJSONGrammar()
              : await compiler.compileGrammar(src.text, src.rootRule ?? 'root');
        const tCompileMs = performance.now() - t0;
        entries.set(key, { state: 'ready', compiled, tCompileMs });
        this.log(`grammar ${label}: compiled in ${tCompileMs.toFixed(0)} ms`);
      } catch (e) {
        const message = `grammar ${label} failed to compile: ${errorText(e)} — fix the file (XGrammar EBNF, root rule "root") or the schema; completions use the built-in syntax constraint meanwhile.`;
        entries.set(key, { state: 'failed', message });
        this.log(message);
      }
    })();
    const pending: CompileState = { state: 'pending', done };
    map.set(key, pending);
    return pending;
  }

  /** Forgets a grammar (its file changed). */
  invalidate(tokenizer: TokenizerLike, key: string): void {
    this.entries.get(tokenizer)?.delete(key);
  }

  private compiler(tokenizer: TokenizerLike): Promise<GrammarCompiler> {
    let p = this.compilers.get(tokenizer);
    if (p === undefined) {
      p = (async () => {
        const xg = loadXGrammar();
        const alphabet = byteLevelAlphabet();
        const vocab: string[] = new Array<string>(tokenizer.vocabSize);
        for (let id = 0; id < tokenizer.vocabSize; id++) {
          const bytes = tokenizer.tokenBytes(id);
          // Special tokens have no bytes; give them a unique name XGrammar treats as special.
          vocab[id] = bytes.length === 0 ? `<|specter_special_${id}|>` : Array.from(bytes, (b) => alphabet[b] as string).join('');
        }
        const info = await xg.TokenizerInfo.createTokenizerInfo(vocab, 'byte_level', false, tokenizer.vocabSize, [...tokenizer.stopIds]);
        return xg.GrammarCompiler.createGrammarCompiler(info);
      })();
      this.compilers.set(tokenizer, p);
    }
    return p;
  }
}

export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
