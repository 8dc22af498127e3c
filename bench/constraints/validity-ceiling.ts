// How valid could completions be with this model, if the service could pick among many of them?
// For every held-out case of the validity bench (validity-cases.ts) whose default completion is
// invalid, the model is asked again: `--samples N` sampled completions (temperatures 0.6, 0.8, 1.0,
// 1.2 in turn, seeds 1000…, no parse retries) and the Completions Panel's 8 drafts, all through the
// completion service with the syntax constraint and the parse check. A case counts for the ceiling
// when any of them is valid (prefix + completion + suffix has no more tree-sitter parse errors than
// prefix + original + suffix, and the completion is not blank: where the shown one is invalid, so
// is no completion at all). An oracle that always picked that
// one would score the ceiling; no selection rule among these candidates can do better.
//
//   node --import tsx bench/constraints/validity-ceiling.ts [--n 60] [--samples 64] [--docs dev] [--json out.json]
import { writeFileSync } from 'node:fs';
import { arg } from './common';
import { countParseErrors, parserFor } from './parse-errors';
import { devDocs, heldOutDocs, makeCases, maxDocChars } from './validity-cases';
import { defaultSettings } from '../../server/protocol';
import { startService } from '../../test/server/service-helpers';

const nPerKind = Number(arg('--n') ?? 60);
const nSamples = Number(arg('--samples') ?? 64);
const temperatures = [0.6, 0.8, 1.0, 1.2];
const nDrafts = 8;

async function main(): Promise<void> {
  const { service, host } = await startService((st) => ({
    ...st,
    completion: { ...st.completion, timeCapAfterNewlineMs: 1e9 },
    monitor: { ...st.monitor, enabled: false },
    drafts: { ...st.drafts, count: 1 },
    // The product's parse retries and their budget (startService lifts the budget, for tests).
    constraints: { ...st.constraints, parseRetryBudgetMs: defaultSettings.constraints.parseRetryBudgetMs },
  }));
  if ((await host.acquire()) === undefined) throw new Error(`model not ready: ${host.current.message}`);
  const defaults = service.settings;
  const cases = makeCases(arg('--docs') === 'dev' ? devDocs() : heldOutDocs(), nPerKind);
  const tally: Record<string, { n: number; valid: number; ceiling: number }> = {};
  const unreachable: string[] = [];
  /** Cases whose shown completion's parse retries stopped at specter.constraints.parseRetryBudgetMs. */
  const stoppedByBudget: string[] = [];
  const t0 = performance.now();
  for (const [k, c] of cases.entries()) {
    const parser = await parserFor(c.doc.languageId);
    if (parser === undefined) continue;
    const base = countParseErrors(parser, c.prefix + c.original + c.suffix);
    const valid = (text: string): boolean => text.trim() !== '' && countParseErrors(parser, c.prefix + text + c.suffix) <= base;
    const request = { uri: `file:///held-out/${c.doc.path}`, languageId: c.doc.languageId, prefix: c.prefix, suffix: c.suffix, trigger: 'invoke' as const, suffixCut: c.doc.text.length > maxDocChars };
    const first = await service.complete(request);
    const shown = first.kind === 'ok' ? (first.texts[0] ?? '') : '';
    if ((first.kind === 'ok' || first.kind === 'empty') && first.stats?.parseRetryBudgetSpent === true) stoppedByBudget.push(`${k + 1} ${c.kind} ${c.doc.path}`);
    // As validity.ts counts what is shown (nothing, or blanks, is valid where the file without a completion is).
    const ok = countParseErrors(parser, c.prefix + shown + c.suffix) <= base;
    const t = (tally[c.kind] ??= { n: 0, valid: 0, ceiling: 0 });
    t.n++;
    if (ok) {
      t.valid++;
      t.ceiling++;
      continue;
    }
    let found: string | undefined;
    for (let i = 0; i < nSamples && found === undefined; i++) {
      const temperature = temperatures[i % temperatures.length] as number;
      service.settings = { ...defaults, completion: { ...defaults.completion, temperature, seed: 1000 + i }, constraints: { ...defaults.constraints, parseRetries: 0 } };
      const r = await service.complete(request);
      const text = r.kind === 'ok' ? (r.texts[0] ?? '') : '';
      if (valid(text)) found = `sample ${i + 1} (temperature ${temperature})`;
    }
    service.settings = defaults;
    if (found === undefined) {
      const panel = await service.panelCompletions(`ceiling-${k}`, request, nDrafts, () => undefined);
      const i = panel.drafts.findIndex((d) => valid(d.text));
      if (i >= 0) found = `draft ${i + 1} of ${nDrafts}`;
    }
    if (found !== undefined) t.ceiling++;
    else unreachable.push(`${k + 1} ${c.kind} ${c.doc.path}: original ${JSON.stringify(c.original.slice(0, 80))}`);
    process.stderr.write(`${k + 1} ${c.kind} ${c.doc.path}: ${found ?? 'no valid candidate'}\n`);
  }
  const pct = (x: number, n: number): string => `${((100 * x) / Math.max(1, n)).toFixed(1)}%`;
  const all = Object.values(tally).reduce((a, t) => ({ n: a.n + t.n, valid: a.valid + t.valid, ceiling: a.ceiling + t.ceiling }), { n: 0, valid: 0, ceiling: 0 });
  const result = {
    nCases: all.n,
    samples: { n: nSamples, temperatures, drafts: nDrafts },
    tMinutes: Number(((performance.now() - t0) / 60_000).toFixed(1)),
    defaults: { parseRetries: defaults.constraints.parseRetries, parseRetryBudgetMs: defaults.constraints.parseRetryBudgetMs, stoppedByBudget },
    byKind: Object.fromEntries(Object.entries(tally).map(([kind, t]) => [kind, { n: t.n, valid: pct(t.valid, t.n), ceiling: pct(t.ceiling, t.n) }])),
    all: { valid: pct(all.valid, all.n), ceiling: pct(all.ceiling, all.n) },
    noValidCandidate: unreachable,
  };
  console.log(JSON.stringify(result, null, 2));
  const out = arg('--json');
  if (out !== undefined) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  await service.shutdown();
}

void main();
