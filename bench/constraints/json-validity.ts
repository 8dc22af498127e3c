// JSON completions in package.json / tsconfig.json files, with and without constraints (syntax
// alone, and syntax + the JSON Schema through XGrammar), validated with ajv against Specter's
// built-in schemas. Cut points: the start of a value and the start of a key line, each with the
// original text after the cursor kept (insert) and with the rest of its line removed (rest-of-line).
//
//   node --import tsx bench/constraints/json-validity.ts [--n 40] [--json out.json]
import Ajv from 'ajv';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { intersect, type Constraint } from '../../server/engine/constraint';
import type { GrammarConstraint } from '../../server/grammar/grammar-constraint';
import { createSyntaxConstraint } from '../../server/engine/constraints/syntax';
import { ConstraintFactory, defaultConstraintSettings, jsonBlankRunFor } from '../../server/grammar/index';
import { blankJsonComments } from '../../server/grammar/json-text';
import packageSchema from '../../server/grammar/schemas/package.schema.json';
import tsconfigSchema from '../../server/grammar/schemas/tsconfig.schema.json';
import { arg } from './common';
import { complete, loadEmbedded, newRunStats } from './model-run';

const nPerFile = Number(arg('--n') ?? 12);
const root = join(__dirname, '..', '..');

function jsonFiles(): string[] {
  const out = [join(root, 'test/fixtures/constraints/json/package.json'), join(root, 'test/fixtures/constraints/json/tsconfig.json'), join(root, 'package.json'), join(root, 'tsconfig.json')];
  for (const pkg of ['ajv', 'esbuild', 'typescript', 'eslint', 'tsx', 'vscode-languageserver', '@huggingface/tokenizers', 'onnxruntime-node']) {
    out.push(join(root, 'node_modules', pkg, 'package.json'));
  }
  for (const dir of readdirSync(join(root, 'node_modules'))) {
    try {
      if (readdirSync(join(root, 'node_modules', dir)).includes('tsconfig.json')) out.push(join(root, 'node_modules', dir, 'tsconfig.json'));
    } catch {
      // not a directory
    }
  }
  return out;
}

/** Deterministic cut points at value starts and key-line starts. */
function cuts(text: string, n: number): number[] {
  const points: number[] = [];
  const re = /": |\n\s+(?=")/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) points.push(m.index + m[0].length);
  const step = Math.max(1, Math.floor(points.length / n));
  return points.filter((_, i) => i % step === 0).slice(0, n);
}

type Mode = 'off' | 'syntax' | 'all';
const modes: readonly Mode[] = ['off', 'syntax', 'all'];
/**
 * insert: the original text stays after the cursor (before an existing value only blanks fit; at
 * a key line, whole members); rest-of-line: the rest of the cursor's line is gone, the completion
 * has to write it (a value, a member), as when typing a new entry.
 */
const kinds = ['insert', 'rest-of-line'] as const;
type Kind = (typeof kinds)[number];

interface Tally {
  n: number;
  valid: Record<Mode, number>;
  /** Completions with something besides blanks. */
  written: Record<Mode, number>;
}

async function main(): Promise<void> {
  const model = await loadEmbedded();
  const factory = new ConstraintFactory(() => undefined);
  const ajv = new Ajv({ strict: false, allErrors: false });
  const validators = { package: ajv.compile(packageSchema), tsconfig: ajv.compile(tsconfigSchema) };
  const tally = Object.fromEntries(kinds.map((k) => [k, { n: 0, valid: { off: 0, syntax: 0, all: 0 }, written: { off: 0, syntax: 0, all: 0 } }])) as Record<Kind, Tally>;
  let nGrammarMissing = 0;
  // The schema constraint turned itself off mid-completion (a mask over its time budget); the end rule still holds.
  let nGrammarOff = 0;
  const stats = { syntax: newRunStats(), all: newRunStats() };
  const t0 = performance.now();
  for (const path of jsonFiles()) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const isPackage = basename(path) === 'package.json';
    const validate = isPackage ? validators.package : validators.tsconfig;
    const languageId = isPackage ? 'json' : 'jsonc';
    const check = (doc: string): boolean => {
      try {
        return validate(JSON.parse(blankJsonComments(doc))) === true;
      } catch {
        return false;
      }
    };
    if (!check(text)) continue; // the original must be valid for the comparison to mean anything
    await factory.prepare({ languageId, documentPath: path, text, tokenizer: model.tokenizer, settings: defaultConstraintSettings });
    for (const at of cuts(text, nPerFile)) {
      const lineEnd = text.indexOf('\n', at);
      for (const kind of kinds) {
        const prefix = text.slice(0, at);
        const suffix = kind === 'insert' || lineEnd < 0 ? text.slice(at) : text.slice(lineEnd);
        const t = tally[kind];
        t.n++;
        for (const mode of modes) {
          let constraint: Constraint | undefined;
          if (mode === 'syntax') constraint = createSyntaxConstraint({ languageId, prefix, suffix, tokenizer: model.tokenizer });
          let grammar: GrammarConstraint | undefined;
          if (mode === 'all') {
            // What createConstraints returns (syntax ∩ schema ∩ blank-run cap), built here so the matcher can be disposed.
            const syntax = createSyntaxConstraint({ languageId, prefix, suffix, tokenizer: model.tokenizer });
            grammar = await factory.grammarConstraint({ languageId, documentPath: path, prefix, suffix, tokenizer: model.tokenizer, settings: defaultConstraintSettings });
            if (grammar === undefined) nGrammarMissing++;
            if (syntax !== undefined && grammar !== undefined) syntax.jsonValues = true; // as ConstraintFactory.create does
            const blanks = grammar !== undefined ? jsonBlankRunFor({ languageId, prefix, suffix, tokenizer: model.tokenizer }) : undefined;
            const parts = [syntax, grammar, blanks].filter((c): c is Constraint => c !== undefined);
            constraint = parts.length === 1 ? parts[0] : parts.length > 1 ? intersect(parts) : undefined;
          }
          const completion = await complete(model, { languageId, path, prefix, suffix, constraint, maxLines: 4 }, mode === 'off' ? newRunStats() : stats[mode]);
          if (grammar?.stats.offReason !== undefined) nGrammarOff++;
          grammar?.dispose();
          if (check(prefix + completion + suffix)) t.valid[mode]++;
          if (completion.trim() !== '') t.written[mode]++;
          if (process.argv.includes('--verbose')) process.stderr.write(`${kind} ${mode} ${basename(path)}@${at} ${check(prefix + completion + suffix) ? 'valid' : 'INVALID'} ${JSON.stringify(completion)} before ${JSON.stringify(prefix.slice(-40))}\n`);
        }
      }
    }
  }
  const pct = (x: number, of: number): string => `${((100 * x) / Math.max(1, of)).toFixed(1)}%`;
  const byKind = Object.fromEntries(
    kinds.map((k) => {
      const t = tally[k];
      const of = (r: Record<Mode, number>): Record<string, string> => ({ unconstrained: pct(r.off, t.n), syntax: pct(r.syntax, t.n), syntaxAndSchema: pct(r.all, t.n) });
      return [k, { n: t.n, valid: of(t.valid), notBlank: of(t.written) }];
    }),
  );
  const result = { byKind, nGrammarMissing, nGrammarOff, tMinutes: Number(((performance.now() - t0) / 60_000).toFixed(1)), constraint: stats };
  console.log(JSON.stringify(result, null, 2));
  const row = (label: string, m: Mode): string => `| ${label} | ${kinds.map((k) => `${pct(tally[k].valid[m], tally[k].n)} (${pct(tally[k].written[m], tally[k].n)})`).join(' | ')} |`;
  console.log(`
| JSON completions, package.json + tsconfig.json, greedy: valid against the schema (ajv) (not blank) | ${kinds.map((k) => `${k} (${tally[k].n})`).join(' | ')} |
| --- | --- | --- |
${row('unconstrained', 'off')}
${row('syntax constraint', 'syntax')}
${row('syntax + JSON Schema (XGrammar)', 'all')}
`);
  const out = arg('--json');
  if (out !== undefined) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  await model.dispose();
}

void main();
