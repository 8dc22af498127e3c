// createConstraints: the one call the completion path makes per request. It returns the built-in
// syntax constraint, intersected with an XGrammar constraint when one applies (a JSON Schema for
// JSON documents, a user EBNF grammar for the language) and is compiled. It never waits for a
// compile: the first request starts it in the background and is served by the syntax constraint.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { intersect, type Constraint } from '../engine/constraint';
import { createSyntaxConstraint } from '../engine/constraints/syntax';
import { createBlankRunConstraint } from '../engine/constraints/blank-run';
import type { TokenizerLike } from '../engine/model';
import { GrammarConstraint } from './grammar-constraint';
import { PrefixMatchers } from './prefix-matchers';
import { blankJsonComments, jsonStructuralLength } from './json-text';
import { anyOrderSchema } from './schema-prepare';
import { selectJsonSchema, type JsonSchemaAssociation } from './schema-select';
import { errorText, GrammarCache, type GrammarSource } from './xgrammar';

export type { JsonSchemaAssociation } from './schema-select';

/** `specter.constraints.*` (+ `specter.grammars`, + VS Code's `json.schemas` forwarded by the client). */
export interface ConstraintSettings {
  /** off: none; syntax: the built-in syntax constraint; all: syntax + JSON Schema + user grammars. */
  mode: 'off' | 'syntax' | 'all';
  /** languageId → path of an XGrammar EBNF file (root rule `root`). */
  grammars: Readonly<Record<string, string>>;
  /** VS Code's `json.schemas`. */
  jsonSchemas: readonly JsonSchemaAssociation[];
  /** A mask slower than this leaves the step (and the rest of the completion) unconstrained, ms. */
  maskBudgetMs: number;
}

export const defaultConstraintSettings: ConstraintSettings = { mode: 'all', grammars: {}, jsonSchemas: [], maskBudgetMs: 50 };

/** Settings from untyped input (initializationOptions, didChangeConfiguration); wrong types fall back to defaults. */
export function parseConstraintSettings(raw: unknown, jsonSchemas?: unknown, grammars?: unknown): ConstraintSettings {
  const r = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const d = defaultConstraintSettings;
  const mode = r['mode'];
  const budget = r['maskBudgetMs'];
  const g: Record<string, string> = {};
  if (typeof grammars === 'object' && grammars !== null) {
    for (const [k, v] of Object.entries(grammars)) if (typeof v === 'string' && v !== '') g[k] = v;
  }
  return {
    mode: mode === 'off' || mode === 'syntax' || mode === 'all' ? mode : d.mode,
    grammars: g,
    jsonSchemas: Array.isArray(jsonSchemas) ? (jsonSchemas.filter((a) => typeof a === 'object' && a !== null) as JsonSchemaAssociation[]) : [],
    maskBudgetMs: typeof budget === 'number' && Number.isFinite(budget) ? Math.min(10_000, Math.max(1, budget)) : d.maskBudgetMs,
  };
}

export interface CreateConstraintsOptions {
  languageId: string;
  /** Whole document text before the cursor. */
  prefix: string;
  /** Whole document text after the cursor. */
  suffix: string;
  /** The suffix stops before the document does (SyntaxConstraintOptions.suffixCut). */
  suffixCut?: boolean;
  tokenizer: TokenizerLike;
  settings: ConstraintSettings;
  /** File system path of the document (JSON schema selection); undefined for untitled documents. */
  documentPath?: string;
  workspaceFolder?: string;
}

/** Suffix characters/tokens a grammar constraint re-parses to decide whether the completion may end. */
const suffixChars = 600;
const suffixTokens = 64;
/** Most suffix characters a JSON grammar constraint re-parses (a very long string value). */
const maxJsonSuffixChars = 65_536;

export class ConstraintFactory {
  readonly grammars: GrammarCache;
  private readonly matchers = new PrefixMatchers();
  private readonly reported = new Set<string>();

  constructor(private readonly log: (message: string) => void = () => undefined) {
    this.grammars = new GrammarCache(log);
  }

  async create(o: CreateConstraintsOptions): Promise<Constraint | undefined> {
    if (o.settings.mode === 'off') return undefined;
    const syntax = createSyntaxConstraint({ languageId: o.languageId, prefix: o.prefix, suffix: o.suffix, suffixCut: o.suffixCut === true, tokenizer: o.tokenizer, maskBudgetMs: o.settings.maskBudgetMs });
    const grammar = o.settings.mode === 'all' ? await this.grammarConstraint(o) : undefined;
    if (syntax !== undefined && grammar !== undefined) syntax.jsonValues = true;
    const parts: Constraint[] = [syntax, grammar].filter((c): c is NonNullable<typeof c> => c !== undefined);
    const blanks = grammar !== undefined ? jsonBlankRunFor(o) : undefined;
    if (blanks !== undefined) parts.push(blanks);
    return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : intersect(parts);
  }

  /**
   * Starts compiling the grammar this document needs (call on didOpen, or after a model load) and
   * resolves when it is compiled, failed, or none applies. Never rejects.
   */
  async prepare(o: Omit<CreateConstraintsOptions, 'prefix' | 'suffix'> & { text: string }): Promise<void> {
    if (o.settings.mode !== 'all') return;
    const found = this.grammarSource({ ...o, prefix: o.text, suffix: '' }, o.languageId === 'json' || o.languageId === 'jsonc');
    if (found === undefined) return;
    const entry = this.grammars.get(o.tokenizer, found.key, found.load, found.label);
    if (entry.state === 'pending') await entry.done;
  }

  /** The XGrammar constraint for this document, if one applies, is compiled and accepts the prefix. */
  async grammarConstraint(o: CreateConstraintsOptions): Promise<GrammarConstraint | undefined> {
    const isJson = o.languageId === 'json' || o.languageId === 'jsonc';
    const found = this.grammarSource(o, isJson);
    if (found === undefined) return undefined;
    const { key, label, load } = found;
    const entry = this.grammars.get(o.tokenizer, key, load, label);
    if (entry.state !== 'ready') {
      if (entry.state === 'pending') this.once(`pending:${key}`, `${label}: compiling in the background; the built-in syntax constraint applies meanwhile`);
      return undefined;
    }
    const before = isJson ? blankJsonComments(o.prefix) : o.prefix;
    const t0 = performance.now();
    let lease;
    try {
      lease = await this.matchers.acquire(`${key}\u0000${o.documentPath ?? ''}`, entry.compiled, before);
    } catch (e) {
      this.once(`matcher:${key}`, `${label}: could not create a matcher (${errorText(e)})`);
      return undefined;
    }
    const tFeedMs = performance.now() - t0;
    if (lease === undefined) {
      this.log(`${label}: the text before the cursor is not in the grammar's language (${before.length} characters); using the built-in syntax constraint`);
      return undefined;
    }
    if (tFeedMs > 50) this.log(`${label}: feeding ${lease.nFedChars} characters before the cursor took ${tFeedMs.toFixed(0)} ms`);
    const suffix = isJson ? blankJsonComments(o.suffix) : o.suffix;
    // JSON: read on past the suffix's first structural characters, however far they are: until
    // then a long string could pass for a key where the document has a value (or the reverse).
    const nSettled = isJson ? Math.min(maxJsonSuffixChars, jsonStructuralLength(suffix, 3)) : 0;
    const nChars = Math.max(suffixChars, nSettled);
    let after = suffix.slice(0, nChars);
    // XGrammar's JSON grammars end at the root value: no trailing whitespace.
    if (isJson && suffix.length <= nChars) after = after.trimEnd();
    const ids = o.tokenizer.encode(after);
    const nIds = Math.min(ids.length, Math.max(suffixTokens, nSettled > 0 ? o.tokenizer.encode(suffix.slice(0, nSettled)).length + 1 : 0));
    const constraint = new GrammarConstraint({
      name: label,
      matcher: lease.matcher,
      release: lease.release,
      discard: lease.discard,
      nFedChars: lease.nFedChars,
      tokenizer: o.tokenizer,
      suffixIds: ids.slice(0, nIds),
      suffixIsEnd: suffix.length <= nChars && nIds === ids.length,
      maskBudgetMs: o.settings.maskBudgetMs,
      log: this.log,
    });
    return constraint;
  }

  private grammarSource(o: CreateConstraintsOptions, isJson: boolean): { key: string; label: string; load: () => Promise<GrammarSource> } | undefined {
    const file = o.settings.grammars[o.languageId];
    if (file !== undefined) {
      let mtime: number;
      try {
        mtime = statSync(file).mtimeMs;
      } catch (e) {
        this.once(`missing:${file}`, `specter.grammars: ${o.languageId} grammar ${file} cannot be read (${errorText(e)})`);
        return undefined;
      }
      return { key: `ebnf:${file}:${mtime}`, label: `${o.languageId} grammar ${file}`, load: async () => ({ kind: 'ebnf', text: await readFile(file, 'utf8') }) };
    }
    if (!isJson || o.documentPath === undefined) return undefined;
    const sel = selectJsonSchema({ documentPath: o.documentPath, text: o.prefix + o.suffix, associations: o.settings.jsonSchemas, workspaceFolder: o.workspaceFolder });
    if (sel.choice === undefined) {
      this.once(`noschema:${o.documentPath}:${sel.reason}`, `JSON schema for ${o.documentPath}: none (${sel.reason})`);
      return undefined;
    }
    const choice = sel.choice;
    return {
      key: `schema:${choice.key}`,
      label: `JSON schema ${choice.source}`,
      load: async () => ({ kind: 'json-schema', schema: JSON.stringify(anyOrderSchema(JSON.parse(await choice.load()))) }),
    };
  }

  private once(key: string, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.log(message);
  }
}

let shared: ConstraintFactory | undefined;

/**
 * The constraints for one completion, or undefined (mode off, unsupported language). Resolves
 * without waiting for grammar compiles. `log` is used by the first call only (shared factory).
 */
export function createConstraints(o: CreateConstraintsOptions, log?: (message: string) => void): Promise<Constraint | undefined> {
  shared ??= new ConstraintFactory(log);
  return shared.create(o);
}

/**
 * Compiles the grammar a document needs (its JSON Schema, a user grammar) on the shared factory,
 * so its first completions get it; resolves when compiled, failed or none applies. Never rejects.
 */
export function prepareConstraints(o: Parameters<ConstraintFactory['prepare']>[0], log?: (message: string) => void): Promise<void> {
  shared ??= new ConstraintFactory(log);
  return shared.prepare(o);
}

/**
 * For a JSON document under a schema grammar: the cap on blank runs. The schema keeps the model
 * from the text it prefers, and without a cap it may fill its whole budget with whitespace, which
 * the grammar allows (engine/constraints/blank-run.ts). Undefined for other languages.
 */
export function jsonBlankRunFor(o: Pick<CreateConstraintsOptions, 'languageId' | 'prefix' | 'suffix' | 'tokenizer'>): Constraint | undefined {
  if (o.languageId !== 'json' && o.languageId !== 'jsonc') return undefined;
  // Blanking keeps offsets: the document is blanked once and the prefix is its start.
  const text = blankJsonComments(o.prefix + o.suffix);
  return createBlankRunConstraint(o.tokenizer, text.slice(0, o.prefix.length), whitespaceCap(text));
}

/**
 * The longest run of blanks a schema-constrained JSON completion may write: the document's own
 * longest run (counted on the text the grammar is fed, comments blanked), rounded up to a
 * multiple of 16, at least 16.
 */
export function whitespaceCap(text: string): number {
  let longest = 0;
  for (const m of text.matchAll(/[ \t\r\n]+/g)) longest = Math.max(longest, m[0].length);
  return Math.max(16, Math.ceil(longest / 16) * 16);
}
