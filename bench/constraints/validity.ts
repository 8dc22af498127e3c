// Syntax validity of completions with and without the built-in syntax constraint, side by side:
// held-out files (the model's held-out corpus slice when present, else this repository's own
// sources and the constraint samples), mid-line and block completions at deterministic cut
// points, taken from each language in turn. A completion is valid when prefix + completion +
// suffix has no more tree-sitter parse errors than prefix + original + suffix. Exact match and
// edit similarity compare the completion's first lines (as many as the original has) with it.
//
//   node --import tsx bench/constraints/validity.ts [--n 60] [--json out.json]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSyntaxConstraint } from '../../server/engine/constraints/syntax';
import { benchFiles, cutPoints } from './common';
import { complete, completeDetailed, loadEmbedded, newRunStats } from './model-run';
import { checkCompletion, ParseChecker } from '../../server/grammar/parse-check';
import { countParseErrors, parserFor } from './parse-errors';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const nPerKind = Number(arg('--n') ?? 60);

interface Doc {
  path: string;
  languageId: string;
  text: string;
}

function heldOutDocs(): Doc[] {
  const corpus = join(__dirname, '..', '..', 'tools', 'model', 'work', 'corpus', 'heldout.jsonl');
  if (existsSync(corpus)) {
    return readFileSync(corpus, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { path: string; lang: string; text: string })
      .map((d) => ({ path: d.path, languageId: d.lang, text: d.text }));
  }
  return benchFiles().map((f) => ({ path: f.path, languageId: f.languageId, text: readFileSync(f.path, 'utf8') }));
}

/** Per kind of task: completions, valid ones, exact matches and summed edit similarity, without and with the constraint. */
interface Tally {
  n: number;
  off: number;
  syntax: number;
  offExact: number;
  syntaxExact: number;
  offSim: number;
  syntaxSim: number;
  /** Syntax constraint + the tree-sitter check at the end, `relative` (the service's default). */
  check: number;
  checkExact: number;
  checkSim: number;
  /** The same with the check `strict`. */
  strict: number;
  strictExact: number;
  strictSim: number;
}

interface Case {
  doc: Doc;
  kind: 'mid-line' | 'block';
  prefix: string;
  original: string;
  suffix: string;
}

function makeCases(docs: Doc[]): Case[] {
  const mid: Case[] = [];
  const block: Case[] = [];
  let seed = 1;
  for (const doc of docs) {
    const text = doc.text.length > 60_000 ? doc.text.slice(0, 60_000) : doc.text;
    for (const at of cutPoints(text, 6, seed++)) {
      const lineStart = text.lastIndexOf('\n', at - 1) + 1;
      const lineEnd = text.indexOf('\n', at);
      if (lineEnd < 0) continue;
      const line = text.slice(lineStart, lineEnd);
      // Mid-line: cut inside the code of a line, complete the rest of the line.
      if (at > lineStart + line.search(/\S|$/) && at < lineEnd - 1) mid.push({ doc, kind: 'mid-line', prefix: text.slice(0, at), original: text.slice(at, lineEnd), suffix: text.slice(lineEnd) });
      // Block: the lines after a line that opens a block.
      const next = text.indexOf('\n', lineEnd + 1);
      if (/[{:(]\s*$/.test(line) && next > 0) {
        let end = next;
        for (let k = 0; k < 3; k++) {
          const n = text.indexOf('\n', end + 1);
          if (n < 0) break;
          end = n;
        }
        block.push({ doc, kind: 'block', prefix: text.slice(0, lineEnd + 1), original: text.slice(lineEnd + 1, end), suffix: text.slice(end) });
      }
    }
  }
  return [...roundRobin(mid, nPerKind), ...roundRobin(block, nPerKind)];
}

/** Up to n cases taken from each language in turn (the held-out corpus lists its Python first). */
function roundRobin(cases: Case[], n: number): Case[] {
  const byLanguage = new Map<string, Case[]>();
  for (const c of cases) {
    const list = byLanguage.get(c.doc.languageId) ?? [];
    list.push(c);
    byLanguage.set(c.doc.languageId, list);
  }
  const out: Case[] = [];
  for (let i = 0; out.length < n; i++) {
    const row = [...byLanguage.values()].map((list) => list[i]).filter((c): c is Case => c !== undefined);
    if (row.length === 0) break;
    out.push(...row.slice(0, n - out.length));
  }
  return out;
}

/**
 * Exact match: the completion's first lines, as many as the original has, equal the original
 * (trailing blanks ignored). Completions may run on past the original's end (the loop's line limit
 * is 8); what follows is judged by validity, not here.
 */
function exact(completion: string, original: string): boolean {
  return firstLines(completion, original).trimEnd() === original.trimEnd();
}

function firstLines(completion: string, original: string): string {
  return completion.split('\n').slice(0, original.split('\n').length).join('\n');
}

/** Edit similarity of the same first lines: 1 − Levenshtein distance / longer length. */
function similarity(completion: string, original: string): number {
  const a = firstLines(completion, original).trimEnd();
  const b = original.trimEnd();
  if (a.length === 0 && b.length === 0) return 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return 1 - (prev[b.length] as number) / Math.max(a.length, b.length);
}

async function main(): Promise<void> {
  const model = await loadEmbedded();
  const cases = makeCases(heldOutDocs());
  process.stderr.write(`${cases.length} cases\n`);
  const rows = { off: { valid: 0, exact: 0 }, syntax: { valid: 0, exact: 0 }, check: { valid: 0, exact: 0 }, strict: { valid: 0, exact: 0 } };
  let nStrictChanged = 0;
  const checker = new ParseChecker((m) => process.stderr.write(`${m}\n`));
  let nCheckChanged = 0;
  const checkMs: number[] = [];
  const byKind: Record<string, Tally> = {};
  let nChanged = 0;
  // The unconstrained completion was already valid (tree-sitter) and the constraint changed it anyway.
  let nValidChanged = 0;
  const stats = newRunStats();
  let n = 0;
  const t0 = performance.now();
  for (const c of cases) {
    const parser = await parserFor(c.doc.languageId);
    if (parser === undefined) continue;
    const base = countParseErrors(parser, c.prefix + c.original + c.suffix);
    const plain = await complete(model, { languageId: c.doc.languageId, path: c.doc.path, prefix: c.prefix, suffix: c.suffix }, stats);
    const constraint = createSyntaxConstraint({ languageId: c.doc.languageId, prefix: c.prefix, suffix: c.suffix, tokenizer: model.tokenizer });
    const detailed = await completeDetailed(model, { languageId: c.doc.languageId, path: c.doc.path, prefix: c.prefix, suffix: c.suffix, constraint }, stats);
    const constrained = detailed.text;
    const checkParser = await checker.load(c.doc.languageId);
    const checkedResult = checkParser === undefined || constrained.trim() === '' ? undefined : checkCompletion(checker, checkParser, model.tokenizer, c, constrained, detailed.tokens);
    const checked = checkedResult?.text ?? constrained;
    const strictResult = checkParser === undefined || constrained.trim() === '' ? undefined : checkCompletion(checker, checkParser, model.tokenizer, c, constrained, detailed.tokens, 'strict');
    const strict = strictResult?.text ?? constrained;
    if (strict !== constrained) nStrictChanged++;
    if (checkedResult !== undefined) checkMs.push(checkedResult.result.tMs);
    if (checked !== constrained) nCheckChanged++;
    const okPlain = countParseErrors(parser, c.prefix + plain + c.suffix) <= base;
    const okSyntax = countParseErrors(parser, c.prefix + constrained + c.suffix) <= base;
    const okCheck = countParseErrors(parser, c.prefix + checked + c.suffix) <= base;
    const okStrict = countParseErrors(parser, c.prefix + strict + c.suffix) <= base;
    n++;
    const k = (byKind[c.kind] ??= { n: 0, off: 0, syntax: 0, offExact: 0, syntaxExact: 0, offSim: 0, syntaxSim: 0, check: 0, checkExact: 0, checkSim: 0, strict: 0, strictExact: 0, strictSim: 0 });
    k.strictSim += similarity(strict, c.original);
    if (okStrict) {
      rows.strict.valid++;
      k.strict++;
    }
    if (exact(strict, c.original)) {
      rows.strict.exact++;
      k.strictExact++;
    }
    k.offSim += similarity(plain, c.original);
    k.syntaxSim += similarity(constrained, c.original);
    k.checkSim += similarity(checked, c.original);
    if (okCheck) {
      rows.check.valid++;
      k.check++;
    }
    if (exact(checked, c.original)) {
      rows.check.exact++;
      k.checkExact++;
    }
    k.n++;
    if (okPlain) {
      rows.off.valid++;
      k.off++;
    }
    if (okSyntax) {
      rows.syntax.valid++;
      k.syntax++;
    }
    if (exact(plain, c.original)) {
      rows.off.exact++;
      k.offExact++;
    }
    if (exact(constrained, c.original)) {
      rows.syntax.exact++;
      k.syntaxExact++;
    }
    if (plain !== constrained) nChanged++;
    if (plain !== constrained && okPlain) nValidChanged++;
    if (process.argv.includes('--verbose')) {
      process.stderr.write(`${n} ${c.kind} ${c.doc.path} ${okPlain ? 'ok' : 'BAD'}/${okSyntax ? 'ok' : 'BAD'} ${JSON.stringify(plain)} | ${JSON.stringify(constrained)}\n`);
    }
  }
  const pct = (x: number, of = n): string => `${((100 * x) / Math.max(1, of)).toFixed(1)}%`;
  const result = {
    nCompletions: n,
    tMinutes: Number(((performance.now() - t0) / 60_000).toFixed(1)),
    unconstrained: { valid: pct(rows.off.valid), exactMatch: pct(rows.off.exact) },
    syntax: { valid: pct(rows.syntax.valid), exactMatch: pct(rows.syntax.exact) },
    syntaxAndStrictParseCheck: { valid: pct(rows.strict.valid), exactMatch: pct(rows.strict.exact), changedByCheck: pct(nStrictChanged) },
    syntaxAndParseCheck: { valid: pct(rows.check.valid), exactMatch: pct(rows.check.exact), changedByCheck: pct(nCheckChanged), checkMsP50: quantileOf(checkMs, 0.5), checkMsP95: quantileOf(checkMs, 0.95) },
    byKind: Object.fromEntries(
      Object.entries(byKind).map(([kind, v]) => [
        kind,
        {
          n: v.n,
          unconstrained: { valid: pct(v.off, v.n), exactMatch: pct(v.offExact, v.n), editSimilarity: pct(v.offSim, v.n) },
          syntax: { valid: pct(v.syntax, v.n), exactMatch: pct(v.syntaxExact, v.n), editSimilarity: pct(v.syntaxSim, v.n) },
          syntaxAndParseCheck: { valid: pct(v.check, v.n), exactMatch: pct(v.checkExact, v.n), editSimilarity: pct(v.checkSim, v.n) },
          syntaxAndStrictParseCheck: { valid: pct(v.strict, v.n), exactMatch: pct(v.strictExact, v.n), editSimilarity: pct(v.strictSim, v.n) },
        },
      ]),
    ),
    completionsChangedByConstraint: pct(nChanged),
    validUnconstrainedButChanged: nValidChanged,
    constraint: stats,
  };
  console.log(JSON.stringify(result, null, 2));
  const rowsOf = (label: string, v: Tally): string =>
    `| ${label} (${v.n}) | ${pct(v.off, v.n)} | ${pct(v.syntax, v.n)} | ${pct(v.check, v.n)} | ${pct(v.strict, v.n)} | ${pct(v.offExact, v.n)} | ${pct(v.syntaxExact, v.n)} | ${pct(v.checkExact, v.n)} | ${pct(v.strictExact, v.n)} | ${pct(v.offSim, v.n)} | ${pct(v.syntaxSim, v.n)} | ${pct(v.checkSim, v.n)} | ${pct(v.strictSim, v.n)} |`;
  const kinds = Object.values(byKind);
  const sum = (f: (t: Tally) => number): number => kinds.reduce((acc, t) => acc + f(t), 0);
  const all: Tally = { n, off: rows.off.valid, syntax: rows.syntax.valid, offExact: rows.off.exact, syntaxExact: rows.syntax.exact, offSim: sum((t) => t.offSim), syntaxSim: sum((t) => t.syntaxSim), check: rows.check.valid, checkExact: rows.check.exact, checkSim: sum((t) => t.checkSim), strict: rows.strict.valid, strictExact: rows.strict.exact, strictSim: sum((t) => t.strictSim) };
  console.log(`
| completions (greedy, specter-tiny) | valid: unconstrained | syntax constraint | + parse check (relative) | + parse check (strict) | exact match: unconstrained | syntax | relative | strict | edit similarity: unconstrained | syntax | relative | strict |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${Object.entries(byKind).map(([kind, v]) => rowsOf(kind, v)).join('\n')}
${rowsOf('all', all)}
`);
  const out = arg('--json');
  if (out !== undefined) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  await model.dispose();
}

void main();

function quantileOf(values: number[], q: number): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length === 0 ? NaN : Number((v[Math.min(v.length - 1, Math.floor(q * v.length))] as number).toFixed(2));
}
