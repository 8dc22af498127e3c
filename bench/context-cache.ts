// The context cache (engine/context-cache.ts, specter.completion.contextCache), one run:
//  1. quality — every held-out line and block task completed through the completion service with
//     the cache as the model asks for it and with it off, alternating which goes first (Specter's
//     defaults otherwise): exact match and edit similarity, and how many completions changed;
//  2. cost — greedy decodes of the line tasks' prompts (engine only, no drafters) with the cache
//     processor timed on every row it sees, against the decode time per token of the same decode.
//   node --import tsx bench/context-cache.ts [--limit N] [--dev FILE.jsonl]
// --limit N: the first N tasks of each file, stdout only. --dev: also score a development task file
// (bench/tasks/dev-line.jsonl, the committed set; bench/tasks/make-dev-tasks.ts makes new ones) the same way, for choosing the model's weights.
import * as path from 'node:path';
import { contextCache } from '../server/engine/context-cache';
import { decode } from '../server/engine/decode';
import type { LogitsProcessor } from '../server/engine/processors';
import { createRng } from '../server/engine/rng';
import { firstText, startService } from '../test/server/service-helpers';
import { fmt, machineLine, positiveOption, root, spread, table, updateBenchmarksMd, writeJson } from './report';
import { editSimilarity, firstLine, readJsonl } from './score';

interface Task { id: string; language: string; path: string; prefix: string; suffix: string; target: string; suffix_cut?: boolean }
type Kind = 'line' | 'block';

function readTasks(file: string, limit: number | undefined): Task[] {
  const all = readJsonl<Task>(file);
  return limit === undefined ? all : all.slice(0, limit);
}

/** Block tasks compare every line (trailing blanks ignored); line tasks the first line. */
function shown(kind: Kind, text: string): string {
  return kind === 'line' ? firstLine(text) : text.split('\n').map((l) => l.trimEnd()).join('\n').replace(/\n+$/, '');
}

interface Score { n: number; exact: number; similarity: number; changed: number }

async function main(): Promise<void> {
  const args = process.argv;
  const limit = args.includes('--limit') ? positiveOption(args, '--limit', 1) : undefined;
  const devAt = args.indexOf('--dev');
  const files: [string, Kind, string][] = [
    ['held-out rest of line (200)', 'line', path.join(root, 'bench', 'tasks', 'line-completion.jsonl')],
    ['held-out block, 1–4 lines (100)', 'block', path.join(root, 'bench', 'tasks', 'block-completion.jsonl')],
    ...(devAt >= 0 ? [[`development rest of line (${path.basename(args[devAt + 1] as string)})`, 'line', args[devAt + 1] as string] as [string, Kind, string]] : []),
  ];
  const sut = await startService((s) => s);
  const model = await sut.host.acquire();
  if (model === undefined) throw new Error(`model not ready: ${sut.host.current.message}`);
  const options = model.contextCache;
  if (options === undefined) throw new Error('the model directory does not ask for the context cache');
  const base = sut.service.settings;
  const withCache = { ...base, completion: { ...base.completion, contextCache: 'auto' as const } };
  const without = { ...base, completion: { ...base.completion, contextCache: 'off' as const } };
  const t0 = performance.now();

  // 1. Quality through the service.
  const scores: { name: string; on: Score; off: Score }[] = [];
  for (const [name, kind, file] of files) {
    const tasks = readTasks(file, limit);
    const on: Score = { n: 0, exact: 0, similarity: 0, changed: 0 };
    const off: Score = { n: 0, exact: 0, similarity: 0, changed: 0 };
    for (const [i, t] of tasks.entries()) {
      const request = { uri: `file:///heldout/${t.path}`, languageId: t.language, prefix: t.prefix, suffix: t.suffix, suffixCut: t.suffix_cut === true };
      const texts: Record<'on' | 'off', string> = { on: '', off: '' };
      for (const way of i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        sut.service.settings = way === 'on' ? withCache : without;
        texts[way] = shown(kind, firstText(await sut.service.complete(request)));
      }
      const target = shown(kind, t.target);
      for (const [s, text] of [[on, texts.on], [off, texts.off]] as const) {
        s.n++;
        s.exact += text === target ? 1 : 0;
        s.similarity += editSimilarity(text, target);
      }
      if (texts.on !== texts.off) on.changed++;
    }
    scores.push({ name, on, off });
    process.stderr.write(`context-cache: ${name} done at ${fmt((performance.now() - t0) / 1000, 0)} s\n`);
  }
  sut.service.settings = base;

  // 2. Cost: the processor timed on every row of plain greedy decodes (line prompts).
  const rowUs: number[] = [];
  let cacheMs = 0;
  let decodeMs = 0;
  let nTokens = 0;
  const timed = (inner: LogitsProcessor): LogitsProcessor => ({
    process(row, sequence) {
      const t = performance.now();
      inner.process(row, sequence);
      const dt = performance.now() - t;
      rowUs.push(dt * 1000);
      cacheMs += dt;
    },
  });
  for (const t of readTasks(files[0]?.[2] as string, limit)) {
    const ids = sut.service.promptIds(model, { uri: t.path, languageId: t.language, prefix: t.prefix, suffix: t.suffix });
    model.lm.truncate(0);
    const out = await decode(model.lm, model.tokenizer, { prompt: ids, maxTokens: 32, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: [], processors: [timed(contextCache(options))] });
    if (out.kind !== 'done') continue;
    decodeMs += out.tDecodeMs;
    nTokens += out.tokens.length;
  }
  await sut.service.shutdown();
  const rows = spread(rowUs);
  const p99 = [...rowUs].sort((a, b) => a - b)[Math.min(rowUs.length - 1, Math.floor(rowUs.length * 0.99))] ?? NaN;
  const perTokenMs = decodeMs / Math.max(1, nTokens);
  const tRunS = (performance.now() - t0) / 1000;

  const pct = (x: number, n: number): string => `${fmt((100 * x) / Math.max(1, n), 1)}%`;
  const command = `node --import tsx bench/context-cache.ts${args.slice(2).length > 0 ? ` ${args.slice(2).join(' ')}` : ''}`;
  const body = [
    '## Context cache: quality and cost (issues 3, 5, 7)',
    '',
    `Command: \`${command}\` · ${machineLine()} · ${fmt(tRunS / 60, 1)} min · JSON: \`bench/results/context-cache.json\``,
    '',
    `The model's context cache (models/specter-tiny/config.json: ${options.minN}–${options.maxN} tokens, λ ≤ ${options.weight}, growth ${options.growth}) against none, through the completion service with Specter's defaults otherwise (token healing, syntax constraint, parse check and retries, speculation; monitor off), each task both ways in one run, alternating which goes first. Line tasks compare the first line, block tasks every line (trailing blanks ignored); edit similarity = 1 − Levenshtein / longer length.`,
    '',
    table(
      ['tasks', 'exact match: off → on', 'edit similarity: off → on', 'completions changed'],
      scores.map((s) => [s.name, `${pct(s.off.exact, s.off.n)} → **${pct(s.on.exact, s.on.n)}**`, `${pct(s.off.similarity, s.off.n)} → **${pct(s.on.similarity, s.on.n)}**`, `${s.on.changed} of ${s.on.n}`]),
    ),
    '',
    `Cost: the processor timed on each of the ${rows.n} rows of plain greedy decodes (≤ 32 tokens) of the line tasks' prompts: **${fmt(rows.median, 1)} µs** median, ${fmt(p99, 1)} µs p99, ${fmt(rows.max, 0)} µs max per row; in all ${fmt((100 * cacheMs) / Math.max(1e-9, decodeMs), 2)}% of the decode time (${fmt(perTokenMs, 2)} ms per token in the same run).`,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (limit !== undefined) {
    process.stderr.write('context-cache: --limit: smoke run, BENCHMARKS.md and bench/results/context-cache.json left alone\n');
    return;
  }
  writeJson('context-cache', { command, machine: machineLine(), options, tRunS, scores, cost: { rowUs: { ...rows, p99 }, cacheMs, decodeMs, nTokens, perTokenMs } });
  updateBenchmarksMd('context-cache', body);
}

main().catch((error: unknown) => {
  process.stderr.write(`context-cache: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
