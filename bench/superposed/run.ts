// Issue 9 benchmark, one run, same model, methods interleaved per task (order rotated):
//  - latency of k = 3 superposed drafts vs one greedy draft (goal ≤ 1.3×) and vs three separate
//    sampled generations (goal ≥ 2.4× faster);
//  - quality on held-out line completions (bench/tasks/line-completion.jsonl): exact match and
//    edit similarity of the best of 3 drafts vs greedy alone vs the best of 3 sampled.
// Latency is measured twice: at a fixed length (every method generates exactly maxTokens tokens,
// stop tokens ignored — the algorithmic cost) and with the real one-line stopping criteria. Every
// method starts from an empty KV cache (its own prefill); "k sampled" runs its 2nd and 3rd
// generation on the prompt's cached KV as a real implementation would, "k sampled, cold" pays the
// prefill each time (k independent requests). Usage:
//   node --import tsx bench/superposed/run.ts [--tasks N] [--k 3] [--model DIR] [--no-md] [--note TEXT]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoverFimTemplate } from '../../server/context/fim';
import { buildPrompt } from '../../server/context/prompt';
import { decode, type DecodeOutcome } from '../../server/engine/decode';
import type { TokenizerLike } from '../../server/engine/model';
import { createRng } from '../../server/engine/rng';
import { makeStopCriteria } from '../../server/engine/stopping';
import { superposedDecode } from '../../server/engine/superposed';
import { createSharedNGramIndex } from '../../server/engine/superposed-drafts';
import { loadModel } from '../../server/runtime/load-model';
import { fmt, fmtSpread, machineLine, root, spread, table, updateBenchmarksMd, writeJson } from '../report';

interface Task {
  id: string;
  language?: string;
  path?: string;
  prefix: string;
  suffix: string;
  target: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

export function editSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return 0;
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = [i];
    for (let j = 1; j <= m; j++) cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return 1 - (prev[m] as number) / Math.max(n, m);
}

interface Scored {
  exact: number;
  similarity: number;
}

/** Best of the candidates against the target's line. */
function score(candidates: readonly string[], target: string): Scored {
  const t = target.trimEnd();
  let exact = 0;
  let similarity = 0;
  for (const c of candidates) {
    const line = c.split('\n')[0]?.trimEnd() ?? '';
    if (line === t) exact = 1;
    similarity = Math.max(similarity, editSimilarity(line, t));
  }
  return { exact, similarity };
}

async function main(): Promise<void> {
  const nTasks = Number(arg('tasks', '60'));
  const k = Number(arg('k', '3'));
  const modelDir = path.resolve(arg('model', path.join(root, 'models', 'specter-tiny')));
  const writeMd = !process.argv.includes('--no-md');
  /** Free text about the run's conditions (machine load, which checkpoint), shown under the command. */
  const note = arg('note', '');
  const maxTokens = 32;
  const sampling = { temperature: 0.7, topP: 0.95 };

  const loaded = await loadModel(modelDir, { variant: 'model', executionProvider: 'cpu', threads: 0, log: () => undefined });
  if (!loaded.ok) throw new Error(loaded.error.message);
  const model = loaded.value;
  const { lm, tokenizer } = model;
  if (!lm.hasEmbedsPath) throw new Error(`${modelDir} has no onnx/model_embeds.onnx — run npm run convert-model -- ${modelDir}`);
  const template = discoverFimTemplate(tokenizer, model.config.fim);
  const all = fs
    .readFileSync(path.join(root, 'bench', 'tasks', 'line-completion.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Task);
  // Spread the sample over the whole file (tasks come grouped by source file).
  const step = Math.max(1, Math.floor(all.length / nTasks));
  const tasks = all.filter((_, i) => i % step === 0).slice(0, nTasks);

  // Fixed-length timings (f), timings with the one-line stops (t), per-task ratios (r).
  const f = { greedy: [] as number[], superposed: [] as number[], sampled: [] as number[], cold: [] as number[], greedyDecode: [] as number[], superposedDecode: [] as number[], sampledDecode: [] as number[] };
  const t = { greedy: [] as number[], superposed: [] as number[], sampled: [] as number[] };
  const r = {
    superposedOverGreedy: [] as number[],
    sampledOverSuperposed: [] as number[],
    coldOverSuperposed: [] as number[],
    superposedOverGreedyDecode: [] as number[],
    sampledOverSuperposedDecode: [] as number[],
    stopSuperposedOverGreedy: [] as number[],
    stopSampledOverSuperposed: [] as number[],
  };
  // Stop ids do not stop the fixed-length runs.
  const noStopTok: TokenizerLike = {
    vocabSize: tokenizer.vocabSize,
    encode: (x) => tokenizer.encode(x),
    decode: (ids) => tokenizer.decode(ids),
    tokenBytes: (id) => tokenizer.tokenBytes(id),
    specialTokens: tokenizer.specialTokens,
    stopIds: new Set<number>(),
  };
  const q = { greedy: [] as Scored[], superposedBest: [] as Scored[], superposedFirst: [] as Scored[], sampledBest: [] as Scored[] };
  const nDrafts: number[] = [];
  const forwardPerStep: number[] = [];
  const ngram = createSharedNGramIndex();

  // Warm-up (session init, embeds session, embedding table).
  {
    const warm = tokenizer.encode('function warmUp() {\n  return 1;\n}\n');
    await superposedDecode(lm, tokenizer, { prompt: warm, maxTokens: 4, k, stops: () => [] });
    await decode(lm, tokenizer, { prompt: warm, maxTokens: 4, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: [] });
  }

  for (const [i, task] of tasks.entries()) {
    const request = { path: task.path ?? task.id, languageId: task.language ?? 'plaintext', prefix: task.prefix, suffix: task.suffix };
    const prompt = buildPrompt(tokenizer, template, request, { maxPrefixTokens: 768, maxSuffixTokens: 192 }).ids;
    const stops = () => makeStopCriteria({ prefix: task.prefix, suffix: task.suffix, maxLines: 1, timeCapAfterNewlineMs: 1e9 });
    // The open document is what the n-gram model knows of the user's code.
    ngram.setDocument('open-document', tokenizer.encode(task.prefix + task.suffix));

    // Fixed length: the same number of tokens for every method, no stopping.
    const fixed = async (method: 'greedy' | 'superposed' | 'sampled' | 'cold'): Promise<void> => {
      lm.truncate(0);
      if (method === 'superposed') {
        const out = await superposedDecode(lm, noStopTok, { prompt, maxTokens, k, ngram, stops: () => [] });
        if (out.kind !== 'done') throw new Error(`superposed ${out.kind}`);
        f.superposed.push(out.stats.tTotalMs);
        f.superposedDecode.push(out.stats.tDecodeMs);
        const nSteps = Math.max(1, ...out.drafts.map((d) => d.tokens.length)) - 1;
        if (nSteps > 0) forwardPerStep.push(out.stats.nForwardDecode / nSteps);
        return;
      }
      const n = method === 'greedy' ? 1 : k;
      let total = 0;
      let decodeMs = 0;
      for (let s = 0; s < n; s++) {
        if (method === 'cold') lm.truncate(0);
        const d = done(await decode(lm, noStopTok, { prompt, maxTokens, sampling: method === 'greedy' ? { temperature: 0, topP: 1 } : sampling, rng: createRng(1000 * i + s), stops: [] }));
        total += d.tTotalMs;
        decodeMs += d.tDecodeMs;
      }
      f[method].push(total);
      if (method === 'greedy') f.greedyDecode.push(decodeMs);
      if (method === 'sampled') f.sampledDecode.push(decodeMs);
    };
    const order = (['greedy', 'superposed', 'sampled', 'cold'] as const).map((_, m, all) => all[(m + i) % all.length] as (typeof all)[number]);
    for (const method of order) await fixed(method);

    const runGreedy = async (): Promise<void> => {
      lm.truncate(0);
      const out = await decode(lm, tokenizer, { prompt, maxTokens, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: stops() });
      const d = done(out);
      t.greedy.push(d.tTotalMs);
      q.greedy.push(score([d.text], task.target));
    };
    const runSuperposed = async (): Promise<void> => {
      lm.truncate(0);
      const out = await superposedDecode(lm, tokenizer, { prompt, maxTokens, k, ngram, stops });
      if (out.kind !== 'done') throw new Error(`superposed ${out.kind}: ${out.kind === 'error' ? out.message : ''}`);
      t.superposed.push(out.stats.tTotalMs);
      const texts = out.drafts.map((d) => d.text);
      q.superposedBest.push(score(texts, task.target));
      q.superposedFirst.push(score(texts.slice(0, 1), task.target));
      nDrafts.push(texts.length);
    };
    const runSampled = async (): Promise<void> => {
      lm.truncate(0);
      let total = 0;
      const texts: string[] = [];
      for (let s = 0; s < k; s++) {
        const d = done(await decode(lm, tokenizer, { prompt, maxTokens, sampling, rng: createRng(1000 * i + s), stops: stops() }));
        total += d.tTotalMs;
        texts.push(d.text);
      }
      t.sampled.push(total);
      q.sampledBest.push(score(texts, task.target));
    };
    const methods = [runGreedy, runSuperposed, runSampled];
    for (let m = 0; m < methods.length; m++) await (methods[(m + i) % methods.length] as () => Promise<void>)();
    const n = t.greedy.length - 1;
    r.superposedOverGreedy.push((f.superposed[n] as number) / (f.greedy[n] as number));
    r.sampledOverSuperposed.push((f.sampled[n] as number) / (f.superposed[n] as number));
    r.coldOverSuperposed.push((f.cold[n] as number) / (f.superposed[n] as number));
    r.superposedOverGreedyDecode.push((f.superposedDecode[n] as number) / (f.greedyDecode[n] as number));
    r.sampledOverSuperposedDecode.push((f.sampledDecode[n] as number) / (f.superposedDecode[n] as number));
    r.stopSuperposedOverGreedy.push((t.superposed[n] as number) / (t.greedy[n] as number));
    r.stopSampledOverSuperposed.push((t.sampled[n] as number) / (t.superposed[n] as number));
    if ((i + 1) % 10 === 0) process.stderr.write(`${i + 1}/${tasks.length} tasks\n`);
  }
  await model.dispose();

  const mean = (xs: readonly Scored[], key: keyof Scored): number => xs.reduce((s, x) => s + x[key], 0) / Math.max(1, xs.length);
  const quality = Object.fromEntries(Object.entries(q).map(([name, xs]) => [name, { exactMatch: mean(xs, 'exact'), editSimilarity: mean(xs, 'similarity') }]));
  const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { specter?: { training?: unknown } };
  const result = {
    machine: machineLine(),
    model: path.relative(root, modelDir) || modelDir,
    training: config.specter?.training,
    k,
    nTasks: tasks.length,
    maxTokens,
    sampling,
    alpha: 0.54,
    fixedLength: {
      latencyMs: { greedy: spread(f.greedy), superposed: spread(f.superposed), sampled: spread(f.sampled), sampledCold: spread(f.cold) },
      decodeMs: { greedy: spread(f.greedyDecode), superposed: spread(f.superposedDecode), sampled: spread(f.sampledDecode) },
      superposedOverGreedy: spread(r.superposedOverGreedy),
      sampledOverSuperposed: spread(r.sampledOverSuperposed),
      sampledColdOverSuperposed: spread(r.coldOverSuperposed),
      superposedOverGreedyDecode: spread(r.superposedOverGreedyDecode),
      sampledOverSuperposedDecode: spread(r.sampledOverSuperposedDecode),
    },
    withStops: {
      latencyMs: { greedy: spread(t.greedy), superposed: spread(t.superposed), sampled: spread(t.sampled) },
      superposedOverGreedy: spread(r.stopSuperposedOverGreedy),
      sampledOverSuperposed: spread(r.stopSampledOverSuperposed),
    },
    meanDrafts: nDrafts.reduce((s, x) => s + x, 0) / Math.max(1, nDrafts.length),
    forwardPassesPerStep: spread(forwardPerStep),
    quality,
  };
  const file = writeJson('superposed', result);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n→ ${file}\n`);
  if (!writeMd) return;

  const qRow = (name: string, key: keyof typeof q): string[] => [name, fmt(100 * (quality[key]?.exactMatch ?? NaN)) + '%', fmt(100 * (quality[key]?.editSimilarity ?? NaN)) + '%'];
  const body = [
    '## Superposed decoding (k drafts from one pass)',
    '',
    `\`node --import tsx bench/superposed/run.ts --tasks ${tasks.length} --k ${k}\` — ${result.machine}; model \`${result.model}\`; ${tasks.length} held-out line completions, ≤ ${maxTokens} tokens, one line; every method from an empty KV cache, methods interleaved per task. Median (p10–p90) over tasks.`,
    ...(note === '' ? [] : ['', `**Conditions:** ${note}`]),
    '',
    table(
      ['latency, ms', 'greedy (1 draft)', `superposed (k = ${k})`, `${k} sampled (prompt KV shared)`, `${k} sampled, cold (k requests)`],
      [
        [`fixed length (${maxTokens} tokens)`, fmtSpread(result.fixedLength.latencyMs.greedy, 0), fmtSpread(result.fixedLength.latencyMs.superposed, 0), fmtSpread(result.fixedLength.latencyMs.sampled, 0), fmtSpread(result.fixedLength.latencyMs.sampledCold, 0)],
        ['  of which decoding', fmtSpread(result.fixedLength.decodeMs.greedy, 0), fmtSpread(result.fixedLength.decodeMs.superposed, 0), fmtSpread(result.fixedLength.decodeMs.sampled, 0), ''],
        ['one-line stops', fmtSpread(result.withStops.latencyMs.greedy, 0), fmtSpread(result.withStops.latencyMs.superposed, 0), fmtSpread(result.withStops.latencyMs.sampled, 0), ''],
      ],
    ),
    '',
    table(
      ['ratio (per task)', 'median (p10–p90)', 'goal'],
      [
        ['superposed / greedy latency, fixed length', fmtSpread(result.fixedLength.superposedOverGreedy, 2), '≤ 1.3×'],
        [`${k} sampled cold / superposed latency, fixed length`, fmtSpread(result.fixedLength.sampledColdOverSuperposed, 2), '≥ 2.4×'],
        [`${k} sampled (prompt KV shared) / superposed latency, fixed length`, fmtSpread(result.fixedLength.sampledOverSuperposed, 2), '≥ 2.4×'],
        ['superposed / greedy decoding time, fixed length', fmtSpread(result.fixedLength.superposedOverGreedyDecode, 2), ''],
        [`${k} sampled / superposed decoding time, fixed length`, fmtSpread(result.fixedLength.sampledOverSuperposedDecode, 2), ''],
        ['superposed / greedy latency, one-line stops', fmtSpread(result.withStops.superposedOverGreedy, 2), ''],
        [`${k} sampled / superposed latency, one-line stops`, fmtSpread(result.withStops.sampledOverSuperposed, 2), ''],
      ],
    ),
    '',
    `Drafts per request after removing empty and repeated ones: ${fmt(result.meanDrafts, 2)}; forward passes per decode step: ${fmt(result.forwardPassesPerStep.median, 2)}.`,
    '',
    table(['quality (first line vs target)', 'exact match', 'edit similarity'], [
      qRow('greedy alone', 'greedy'),
      qRow(`superposed, best of ${k}`, 'superposedBest'),
      qRow('superposed, first draft', 'superposedFirst'),
      qRow(`${k} sampled (T = ${sampling.temperature}, top-p ${sampling.topP}), best of ${k}`, 'sampledBest'),
    ]),
  ].join('\n');
  updateBenchmarksMd('superposed', body);
}

function done(out: DecodeOutcome): Extract<DecodeOutcome, { kind: 'done' }> {
  if (out.kind !== 'done') throw new Error(`decode ${out.kind}: ${out.kind === 'error' ? out.message : ''}`);
  return out;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
