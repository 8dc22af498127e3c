// Syntax validity of completions with and without the built-in syntax constraint, side by side:
// held-out files (the model's held-out corpus slice when present, else this repository's own
// sources and the constraint samples), mid-line and block completions at deterministic cut
// points, taken from each language in turn. A completion is valid when prefix + completion +
// suffix has no more tree-sitter parse errors than prefix + original + suffix. Exact match and
// edit similarity compare the completion's first lines (as many as the original has) with it.
// Every completion goes through the completion service as the editor gets it (token healing, the
// product's stopping rules, speculation), with the monitor off and no time cap; the four variants
// differ only in specter.constraints.mode and .parseCheck.
//
//   node --import tsx bench/constraints/validity.ts [--n 60] [--parse-retries N] [--parse-retry-budget-ms MS] [--docs dev] [--trigger automatic|invoke] [--stop-loops on|off] [--context-cache auto|on|off] [--json out.json] [--verbose] [--case K]
//   --case K runs only the K-th case (as numbered by --verbose) and prints its text around the cursor.
import { writeFileSync } from 'node:fs';
import { arg, percentile } from './common';
import { devDocs, heldOutDocs, makeCases, maxDocChars, type Case } from './validity-cases';
import { checkCompletion, ParseChecker } from '../../server/grammar/parse-check';
import { defaultSettings, type SpecterSettings } from '../../server/protocol';
import { countParseErrors, parserFor } from './parse-errors';
import { quantile } from '../report';
import { startService } from '../../test/server/service-helpers';

const nPerKind = Number(arg('--n') ?? 60);
/** specter.constraints.parseRetries for the parse-check columns (default: the setting's default). */
const parseRetries = arg('--parse-retries') === undefined ? undefined : Number(arg('--parse-retries'));
/** specter.constraints.parseRetryBudgetMs for the parse-check columns: the product's unless given (startService lifts it, for tests). */
const parseRetryBudgetMs = arg('--parse-retry-budget-ms') === undefined ? defaultSettings.constraints.parseRetryBudgetMs : Number(arg('--parse-retry-budget-ms'));
/** How the requests are triggered: 'invoke' (default: as Alt+\\ asks) or 'automatic' (as while typing: at most one parse retry). */
const trigger = arg('--trigger') === 'automatic' ? 'automatic' : 'invoke';
/** specter.completion.stopLoops (default: on, the setting's default). */
const stopLoops = arg('--stop-loops') !== 'off';
/** specter.completion.contextCache (default: auto, the setting's default). */
const contextCache = ((v) => (v === 'on' || v === 'off' ? v : 'auto'))(arg('--context-cache'));
/** specter.completion.tokenHealingSpan (default: word, the setting's default). */
const healingSpan = arg('--healing') === 'token' ? 'token' : 'word';
/** Only this case (1-based, as numbered by --verbose), shown with its text around the cursor. */
const onlyCase = arg('--case') === undefined ? undefined : Number(arg('--case'));

/**
 * The four completions compared per task: unconstrained, the syntax constraint, and the syntax
 * constraint followed by the tree-sitter check, `relative` (the service's default) and `strict`.
 */
const variants = ['off', 'syntax', 'check', 'strict'] as const;
type Variant = (typeof variants)[number];

/** Per kind of task: completions, then per variant the valid ones, exact matches and summed edit similarity. */
interface Tally {
  n: number;
  valid: Record<Variant, number>;
  exact: Record<Variant, number>;
  sim: Record<Variant, number>;
}

const zeros = (): Record<Variant, number> => ({ off: 0, syntax: 0, check: 0, strict: 0 });
const newTally = (): Tally => ({ n: 0, valid: zeros(), exact: zeros(), sim: zeros() });

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

/** The service's settings for each variant: constraints and the tree-sitter check. */
const variantSettings: Record<Variant, { mode: SpecterSettings['constraints']['mode']; parseCheck: SpecterSettings['constraints']['parseCheck'] }> = {
  off: { mode: 'off', parseCheck: 'off' },
  syntax: { mode: 'syntax', parseCheck: 'off' },
  check: { mode: 'syntax', parseCheck: 'relative' },
  strict: { mode: 'syntax', parseCheck: 'strict' },
};

async function main(): Promise<void> {
  const { service, host } = await startService((st) => ({
    ...st,
    completion: { ...st.completion, timeCapAfterNewlineMs: 1e9, stopLoops, contextCache, tokenHealingSpan: healingSpan },
    monitor: { ...st.monitor, enabled: false },
    drafts: { ...st.drafts, count: 1 },
  }));
  const model = await host.acquire();
  if (model === undefined) throw new Error(`model not ready: ${host.current.message}`);
  const base0 = service.settings;
  const cases = makeCases(arg('--docs') === 'dev' ? devDocs() : heldOutDocs(), nPerKind);
  process.stderr.write(`${cases.length} cases\n`);
  const checker = new ParseChecker((m) => process.stderr.write(`${m}\n`));
  let nCheckChanged = 0;
  let nStrictChanged = 0;
  const checkMs: number[] = [];
  const byKind: Record<string, Tally> = {};
  // Split by whether the file with no completion at all is valid (no more parse errors than with the
  // original): where it is not, a valid completion has to write the structure the original had.
  const byEmpty: Record<'empty valid' | 'empty invalid', Tally> = { 'empty valid': newTally(), 'empty invalid': newTally() };
  let nChanged = 0;
  // The unconstrained completion was already valid (tree-sitter) and the constraint changed it anyway.
  let nValidChanged = 0;
  // Syntax-constrained completions that the finishing step closed, and that the end rule cut back.
  let nFinished = 0;
  let nFinishTokens = 0;
  let n = 0;
  const t0 = performance.now();
  // Completions of the default column (relative check) that were decoded again (parse retries).
  let nRetried = 0;
  /** Completions of the default column whose parse retries stopped at specter.constraints.parseRetryBudgetMs. */
  let nBudgetSpent = 0;
  /** Time per completion of the default column (all its decodes and checks), ms: all, and those decoded again. */
  const tCheckMs: number[] = [];
  const tRetriedMs: number[] = [];
  const complete = async (c: Case, v: Variant): Promise<{ text: string; tokens: number[]; finishTokens: number }> => {
    service.settings = { ...base0, constraints: { ...base0.constraints, ...variantSettings[v], ...(parseRetries !== undefined ? { parseRetries } : {}), parseRetryBudgetMs } };
    // Documents over 60,000 characters are cut there: the suffix then stops before the file does.
    const r = await service.complete({ uri: `file:///held-out/${c.doc.path}`, languageId: c.doc.languageId, prefix: c.prefix, suffix: c.suffix, trigger, suffixCut: c.doc.text.length > maxDocChars });
    if (v === 'check' && r.kind !== 'cancelled') {
      const ms = r.stats?.totalMs;
      if (ms !== undefined) tCheckMs.push(ms);
      if (r.stats?.parseRetryBudgetSpent === true) nBudgetSpent++;
      if ((r.stats?.parseRetries ?? 0) > 0) {
        nRetried++;
        if (ms !== undefined) tRetriedMs.push(ms);
      }
    }
    return r.kind === 'ok' ? { text: r.texts[0] ?? '', tokens: r.tokens, finishTokens: r.stats.finishTokens ?? 0 } : { text: '', tokens: [], finishTokens: r.kind === 'empty' ? (r.stats?.finishTokens ?? 0) : 0 };
  };
  for (const [k, c] of cases.entries()) {
    if (onlyCase !== undefined && k + 1 !== onlyCase) continue;
    if (onlyCase !== undefined) process.stderr.write(`${c.doc.path}\n--- prefix (end)\n${c.prefix.slice(-600)}\n--- suffix (start)\n${c.suffix.slice(0, 400)}\n---\n`);
    const parser = await parserFor(c.doc.languageId);
    if (parser === undefined) continue;
    const base = countParseErrors(parser, c.prefix + c.original + c.suffix);
    const runs = {} as Record<Variant, { text: string; tokens: number[]; finishTokens: number }>;
    for (const v of variants) runs[v] = await complete(c, v);
    const texts: Record<Variant, string> = { off: runs.off.text, syntax: runs.syntax.text, check: runs.check.text, strict: runs.strict.text };
    if (runs.syntax.finishTokens > 0) {
      nFinished++;
      nFinishTokens += runs.syntax.finishTokens;
    }
    // The check's own cost, on the syntax-constrained completion (the service runs it the same way).
    const checkParser = await checker.load(c.doc.languageId);
    if (checkParser !== undefined && texts.syntax.trim() !== '') checkMs.push(checkCompletion(checker, checkParser, model.tokenizer, c, texts.syntax, runs.syntax.tokens, 'relative', c.doc.languageId).result.tMs);
    if (texts.check !== texts.syntax) nCheckChanged++;
    if (texts.strict !== texts.syntax) nStrictChanged++;
    const ok = (v: Variant): boolean => countParseErrors(parser, c.prefix + texts[v] + c.suffix) <= base;
    n++;
    const emptyOk = countParseErrors(parser, c.prefix + c.suffix) <= base;
    for (const k of [(byKind[c.kind] ??= newTally()), byEmpty[emptyOk ? 'empty valid' : 'empty invalid']]) {
      k.n++;
      for (const v of variants) {
        if (ok(v)) k.valid[v]++;
        if (exact(texts[v], c.original)) k.exact[v]++;
        k.sim[v] += similarity(texts[v], c.original);
      }
    }
    if (texts.off !== texts.syntax) nChanged++;
    if (texts.off !== texts.syntax && ok('off')) nValidChanged++;
    if (process.argv.includes('--verbose') || onlyCase !== undefined) {
      const validChanged = texts.off !== texts.syntax && ok('off') ? ` VALID-CHANGED syntax ${JSON.stringify(texts.syntax)}` : '';
      process.stderr.write(`${k + 1} ${c.kind} ${c.doc.path} empty:${emptyOk ? 'ok' : 'BAD'} ${variants.map((v) => `${v}:${ok(v) ? 'ok' : 'BAD'}`).join(' ')} ${JSON.stringify(texts.off)} | ${JSON.stringify(texts.check)} | original ${JSON.stringify(c.original)}${validChanged}\n`);
    }
  }
  const all = newTally();
  for (const t of Object.values(byKind)) {
    all.n += t.n;
    for (const v of variants) {
      all.valid[v] += t.valid[v];
      all.exact[v] += t.exact[v];
      all.sim[v] += t.sim[v];
    }
  }
  const pct = (x: number, of = n): string => `${((100 * x) / Math.max(1, of)).toFixed(1)}%`;
  const quantileOf = (q: number): number => Number(quantile([...checkMs].sort((a, b) => a - b), q).toFixed(2));
  const scores = (t: Tally, v: Variant): { valid: string; exactMatch: string; editSimilarity: string } => ({ valid: pct(t.valid[v], t.n), exactMatch: pct(t.exact[v], t.n), editSimilarity: pct(t.sim[v], t.n) });
  const totals = (v: Variant): { valid: string; exactMatch: string } => ({ valid: pct(all.valid[v]), exactMatch: pct(all.exact[v]) });
  const result = {
    nCompletions: n,
    tMinutes: Number(((performance.now() - t0) / 60_000).toFixed(1)),
    unconstrained: totals('off'),
    syntax: totals('syntax'),
    syntaxAndStrictParseCheck: { ...totals('strict'), changedByCheck: pct(nStrictChanged) },
    syntaxAndParseCheck: { ...totals('check'), changedByCheck: pct(nCheckChanged), checkMsP50: quantileOf(0.5), checkMsP95: quantileOf(0.95) },
    byKind: Object.fromEntries(
      Object.entries(byKind).map(([kind, t]) => [
        kind,
        { n: t.n, unconstrained: scores(t, 'off'), syntax: scores(t, 'syntax'), syntaxAndParseCheck: scores(t, 'check'), syntaxAndStrictParseCheck: scores(t, 'strict') },
      ]),
    ),
    byEmptyCompletion: Object.fromEntries(
      Object.entries(byEmpty).map(([split, t]) => [split, { n: t.n, unconstrained: scores(t, 'off'), syntax: scores(t, 'syntax'), syntaxAndParseCheck: scores(t, 'check'), syntaxAndStrictParseCheck: scores(t, 'strict') }]),
    ),
    completionsChangedByConstraint: pct(nChanged),
    validUnconstrainedButChanged: nValidChanged,
    finishingStep: { completions: nFinished, tokens: nFinishTokens },
    parseRetries: { setting: parseRetries ?? 'default', budgetMs: parseRetryBudgetMs, trigger, completionsDecodedAgain: nRetried, stoppedByBudget: nBudgetSpent },
    stopLoops,
    contextCache,
    tokenHealingSpan: healingSpan,
    // Timings vary with the machine's load; compare runs made back to back.
    completionMs: { all: spread(tCheckMs), decodedAgain: spread(tRetriedMs) },
  };
  console.log(JSON.stringify(result, null, 2));
  const rowsOf = (label: string, t: Tally): string =>
    `| ${label} (${t.n}) | ${[t.valid, t.exact, t.sim].flatMap((per) => variants.map((v) => pct(per[v], t.n))).join(' | ')} |`;
  console.log(`
| completions (greedy, specter-tiny) | valid: unconstrained | syntax constraint | + parse check (relative) | + parse check (strict) | exact match: unconstrained | syntax | relative | strict | edit similarity: unconstrained | syntax | relative | strict |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${Object.entries(byKind).map(([kind, t]) => rowsOf(kind, t)).join('\n')}
${rowsOf('all', all)}
${rowsOf('no completion is valid', byEmpty['empty valid'])}
${rowsOf('no completion is invalid too', byEmpty['empty invalid'])}
`);
  const out = arg('--json');
  if (out !== undefined) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  await service.shutdown();
}

/** p50 / p95 / max of a list of milliseconds, rounded. */
function spread(ms: readonly number[]): { n: number; p50: number; p95: number; max: number } {
  const at = (p: number): number => (ms.length === 0 ? 0 : Math.round(percentile(ms, p)));
  return { n: ms.length, p50: at(50), p95: at(95), max: at(100) };
}

void main();
