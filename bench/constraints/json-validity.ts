// JSON completions in package.json / tsconfig.json files, with and without constraints (syntax
// alone, and syntax + the JSON Schema through XGrammar), validated with ajv against Specter's
// built-in schemas. Cut points: the start of a value and the start of a key line.
//
//   node --import tsx bench/constraints/json-validity.ts [--n 40] [--json out.json]
import Ajv from 'ajv';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { intersect, type Constraint } from '../../server/engine/constraint';
import type { GrammarConstraint } from '../../server/grammar/grammar-constraint';
import { createSyntaxConstraint } from '../../server/engine/constraints/syntax';
import { ConstraintFactory, defaultConstraintSettings } from '../../server/grammar/index';
import { blankJsonComments } from '../../server/grammar/json-text';
import packageSchema from '../../server/grammar/schemas/package.schema.json';
import tsconfigSchema from '../../server/grammar/schemas/tsconfig.schema.json';
import { complete, loadEmbedded, type RunStats } from './model-run';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
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

async function main(): Promise<void> {
  const model = await loadEmbedded();
  const factory = new ConstraintFactory(() => undefined);
  const ajv = new Ajv({ strict: false, allErrors: false });
  const validators = { package: ajv.compile(packageSchema), tsconfig: ajv.compile(tsconfigSchema) };
  const modes = ['off', 'syntax', 'all'] as const;
  const valid = { off: 0, syntax: 0, all: 0 };
  let n = 0;
  let nGrammarMissing = 0;
  const stats: RunStats = { nChecks: 0, nRejected: 0, nForcedStops: 0 };
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
      const prefix = text.slice(0, at);
      const suffix = text.slice(at);
      n++;
      for (const mode of modes) {
        let constraint: Constraint | undefined;
        if (mode === 'syntax') constraint = createSyntaxConstraint({ languageId, prefix, suffix, tokenizer: model.tokenizer });
        let grammar: GrammarConstraint | undefined;
        if (mode === 'all') {
          // What createConstraints returns (syntax ∩ schema), built here so the matcher can be disposed.
          const syntax = createSyntaxConstraint({ languageId, prefix, suffix, tokenizer: model.tokenizer });
          grammar = await factory.grammarConstraint({ languageId, documentPath: path, prefix, suffix, tokenizer: model.tokenizer, settings: defaultConstraintSettings });
          if (grammar === undefined) nGrammarMissing++;
          constraint = syntax !== undefined && grammar !== undefined ? intersect([syntax, grammar]) : (syntax ?? grammar);
        }
        const completion = await complete(model, { languageId, path, prefix, suffix, constraint, maxLines: 4 }, stats);
        grammar?.dispose();
        if (check(prefix + completion + suffix)) valid[mode]++;
        if (process.argv.includes('--verbose')) process.stderr.write(`${mode} ${basename(path)}@${at} ${JSON.stringify(completion)}\n`);
      }
    }
  }
  const pct = (x: number): string => `${((100 * x) / Math.max(1, n)).toFixed(1)}%`;
  const result = { nCompletions: n, valid: { unconstrained: pct(valid.off), syntax: pct(valid.syntax), syntaxAndSchema: pct(valid.all) }, nGrammarMissing, constraint: stats };
  console.log(JSON.stringify(result, null, 2));
  console.log(`
| JSON completions (${n}, package.json + tsconfig.json, greedy) | valid against the schema (ajv) |
| --- | --- |
| unconstrained | ${result.valid.unconstrained} |
| syntax constraint | ${result.valid.syntax} |
| syntax + JSON Schema (XGrammar) | ${result.valid.syntaxAndSchema} |
`);
  const out = arg('--json');
  if (out !== undefined) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  await model.dispose();
}

void main();
