// Issue 5 benchmark: speculative (CopySpec + prompt lookup) vs plain greedy decoding, same model,
// same completion service, one run, interleaved per task:
//
//   npm run bench -- speculation [--reps N] [--limit N] [--line N] [--block N] [--max-tokens N] [--constraints off|syntax|all] [--drafters a,b,…] [--stop-loops on|off] [--context-cache auto|on|off]
//
// Workloads: the editing tasks of bench/tasks/editing.jsonl (built by ./editing.ts: near-copies in
// the file or in an open document), and held-out mid-line and block completions
// (bench/tasks/line-completion.jsonl, block-completion.jsonl; `--line`/`--block` evenly spaced
// tasks of them). Every request starts from an empty KV cache; greedy, the product's stopping
// rules, except that the time cap after the first newline is off (it would make the output depend
// on speed). Defaults: --reps 2, --line 60, --block 60, all 48 editing tasks, --max-tokens 64,
// --constraints off, --stop-loops on and --context-cache auto (the settings' defaults) (about 700 requests).
// With --context-cache off the results go to their own section and JSON (speculation-no-cache). `--limit N` takes N tasks per workload and writes
// nothing but stdout (smoke runs).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultSettings, type DrafterName, type SpecterSettings } from '../../server/protocol';
import { drafterNames } from '../../server/settings';
import { startService } from '../../test/server/service-helpers';
import { fmt, machineLine, positiveOption, root, updateBenchmarksMd, writeJson } from '../report';
import type { EditingTask } from './editing';
import { SpeculationRunner, identical, type BenchTask, type TaskRuns } from './measure';
import { mechanicsTable, speedTable, summarize, type WorkloadRow } from './summary';

interface Options {
  reps: number;
  limit: number | undefined;
  nLine: number;
  nBlock: number;
  maxTokens: number;
  constraints: SpecterSettings['constraints']['mode'];
  /** Drafters in priority order; undefined: the settings' defaults. */
  drafters: DrafterName[] | undefined;
  /** specter.completion.stopLoops. */
  stopLoops: boolean;
  /** specter.completion.contextCache. */
  contextCache: 'auto' | 'on' | 'off';
}

function parseOptions(args: readonly string[]): Options {
  const value = (name: string): string | undefined => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const num = (name: string, fallback: number): number => positiveOption(args, name, fallback);
  const constraints = value('--constraints') ?? 'off';
  if (constraints !== 'off' && constraints !== 'syntax' && constraints !== 'all') throw new Error(`--constraints off|syntax|all, got ${constraints}`);
  const stopLoops = value('--stop-loops') ?? 'on';
  if (stopLoops !== 'on' && stopLoops !== 'off') throw new Error(`--stop-loops on|off, got ${stopLoops}`);
  const contextCache = value('--context-cache') ?? 'auto';
  if (contextCache !== 'auto' && contextCache !== 'on' && contextCache !== 'off') throw new Error(`--context-cache auto|on|off, got ${contextCache}`);
  const drafters = value('--drafters')?.split(',').map((d) => d.trim()) as DrafterName[] | undefined;
  if (drafters !== undefined && (drafters.length === 0 || drafters.some((d) => !drafterNames.includes(d)))) throw new Error(`--drafters wants a comma-separated list of ${drafterNames.join(', ')}`);
  return {
    drafters,
    reps: num('--reps', 2),
    limit: value('--limit') === undefined ? undefined : num('--limit', 1),
    nLine: num('--line', 60),
    nBlock: num('--block', 60),
    maxTokens: num('--max-tokens', 64),
    constraints,
    stopLoops: stopLoops === 'on',
    contextCache,
  };
}

/** `n` evenly spaced items (all when there are fewer). */
export function evenly<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)] as T);
}

function readTasks(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(path.join(root, 'bench', 'tasks', file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function heldOut(file: string, workload: string): BenchTask[] {
  return readTasks(file).map((t) => ({ id: String(t['id']), workload, language: String(t['language']), path: String(t['path']), prefix: String(t['prefix']), suffix: String(t['suffix'] ?? '') }));
}

export function editing(): BenchTask[] {
  return (readTasks('editing.jsonl') as unknown as EditingTask[]).map((t) => ({ ...t, workload: 'editing' }));
}

export async function speculationBenchMain(args: readonly string[]): Promise<void> {
  const o = parseOptions(args);
  const cap = (n: number): number => (o.limit === undefined ? n : Math.min(n, o.limit));
  const workloads: [string, BenchTask[]][] = [
    ['editing', evenly(editing(), cap(Infinity))],
    ['held-out mid-line', evenly(heldOut('line-completion.jsonl', 'held-out mid-line'), cap(o.nLine))],
    ['held-out block', evenly(heldOut('block-completion.jsonl', 'held-out block'), cap(o.nBlock))],
  ];
  const { service, host } = await startService((s) => ({
    ...s,
    completion: { ...s.completion, maxTokens: o.maxTokens, temperature: 0, timeCapAfterNewlineMs: 1e9, stopLoops: o.stopLoops, contextCache: o.contextCache },
    constraints: { ...s.constraints, mode: o.constraints },
    drafts: { ...s.drafts, count: 1 },
    ...(o.drafters === undefined ? {} : { speculation: { ...s.speculation, drafters: o.drafters } }),
  }));
  const runner = new SpeculationRunner(service, host, service.settings);
  const loadStart = os.loadavg();
  const tStartMs = performance.now();
  const log = (m: string): void => {
    process.stderr.write(`speculation: ${m}\n`);
  };

  // Warm-up (not measured): ONNX Runtime's first passes of each shape are slower.
  const first = workloads[0]?.[1][0];
  if (first !== undefined) await runner.runTask(first, 0, 1);

  const runs = new Map<string, TaskRuns[]>();
  let index = 0;
  for (const [name, tasks] of workloads) {
    const list: TaskRuns[] = [];
    for (const task of tasks) {
      const t = await runner.runTask(task, index++, o.reps);
      list.push(t);
      if (!identical(t)) log(`MISMATCH ${task.id}: ${JSON.stringify(t.off[0]?.text)} vs ${JSON.stringify(t.on[0]?.text)}`);
    }
    runs.set(name, list);
    log(`${name}: ${tasks.length} tasks × ${o.reps} reps done at ${fmt((performance.now() - tStartMs) / 1000, 0)} s`);
  }
  await service.shutdown();
  const loadEnd = os.loadavg();
  const tRunS = (performance.now() - tStartMs) / 1000;

  const editingRuns = runs.get('editing') ?? [];
  const rows: WorkloadRow[] = [
    { name: '**editing** (all kinds)', goal: 2.5, s: summarize(editingRuns) },
    ...['rename', 'next-test', 'open-document'].map((kind) => ({ name: `  editing: ${kind}`, s: summarize(editingRuns.filter((t) => t.task.kind === kind)) })),
    { name: '**held-out mid-line**', goal: 1.3, s: summarize(runs.get('held-out mid-line') ?? []) },
    { name: '**held-out block**', goal: 1.3, s: summarize(runs.get('held-out block') ?? []) },
  ];
  const cacheOff = o.contextCache === 'off';
  const resultName = cacheOff ? 'speculation-no-cache' : 'speculation';
  const flags = args.filter((a, i) => a.startsWith('--') || (i > 0 && args[i - 1]?.startsWith('--') === true));
  const command = `npm run bench -- speculation${flags.length > 0 ? ` ${flags.join(' ')}` : ''}`;
  const nMismatch = rows.slice(0, 1).concat(rows.slice(4)).reduce((n, r) => n + r.s.nMismatch, 0);
  const body = [
    `## Speculative vs plain greedy decoding${cacheOff ? ', context cache off' : ''} (issue 5)`,
    '',
    `Command: \`${command}\` · ${machineLine()} · ${fmt(tRunS / 60, 1)} min · load average ${fmt(loadStart[0] ?? NaN, 1)} at the start, ${fmt(loadEnd[0] ?? NaN, 1)} at the end · JSON: \`bench/results/${resultName}.json\``,
    '',
    `Same model (models/specter-tiny, CPU), same completion service, greedy, ≤ ${o.maxTokens} tokens and ≤ 8 lines, constraints ${o.constraints}, monitor off, no time cap, context cache ${cacheOff ? 'off' : "the model's (on for specter-tiny; the same both ways)"}; drafters ${(o.drafters ?? defaultSettings.speculation.drafters).map((d) => `\`${d}\``).join(', ')} (defaults: ≤ 16 draft tokens, γ = 4, n-grams 2–4; \`table\`: models/specter-tiny/specter/draft-table.bin). Each task runs ${o.reps}× with speculation on and ${o.reps}× off, alternating which goes first, every request from an empty KV cache and with fresh drafters (CopySpec sees the prompt and the task's open documents, no earlier completions); the speculation memory that sets each request's first draft length persists across requests, as in the server. Speed = generated tokens / decode time (prefill excluded; it is the same both ways); "all tokens" = total tokens / total decode time, "per task" = median (p10–p90) over tasks with ≥ 4 tokens; latency = the whole completion, prefill included. Outputs identical on and off: **${nMismatch === 0 ? 'yes, every task' : `NO, ${nMismatch} tasks differ`}**.`,
    '',
    speedTable(rows),
    '',
    mechanicsTable(rows),
    '',
    'Forward passes count decode passes only (plain: one per token after the first). τ = accepted tokens per verified draft; "tokens from the model" are the tokens each verification pass adds itself (the correction or bonus token), so the shares add up to 100%.',
    '',
    'Editing workload (`node --import tsx bench/speculation/editing.ts` → `bench/tasks/editing.jsonl`, from real files the model never saw: npm packages vscode-jsonrpc, ajv, qs, json-schema-traverse and Debian\'s python3-bs4, -click, -psutil and the Python test/ folder): the cursor is at the start of a block body (2–8 lines). *rename*: a function or method, then a near-copy of it being written right below it with the function and its most used parameter renamed; *next-test*: the real next test case of a test file, whose body is ≥ 50% similar to the one before it; *open-document*: the original function is in another open document only, the prompt is a sibling file\'s head plus the renamed header.',
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (o.limit !== undefined) {
    log(`--limit: smoke run, BENCHMARKS.md and bench/results/${resultName}.json left alone`);
    return;
  }
  writeJson(resultName, {
    command,
    machine: machineLine(),
    options: o,
    loadAverage: { start: loadStart, end: loadEnd },
    tRunS,
    workloads: Object.fromEntries(rows.map((r) => [r.name.replace(/\*/g, '').trim(), r.s])),
    tasks: [...runs.values()].flat().map((t) => ({
      id: t.task.id,
      workload: t.task.workload,
      kind: t.task.kind,
      identical: identical(t),
      tokens: t.off[0]?.tokens.length ?? 0,
      empty: t.off[0]?.empty,
      decodeMs: { off: t.off.map((s) => s.decodeMs), on: t.on.map((s) => s.decodeMs) },
      totalMs: { off: t.off.map((s) => s.totalMs), on: t.on.map((s) => s.totalMs) },
      decodeForwards: { off: t.off[0]?.nDecodeForward, on: t.on[0]?.nDecodeForward },
      byDrafter: t.on[0]?.byDrafter,
    })),
  });
  retireQuickSection();
  updateBenchmarksMd(resultName, body);
}

/**
 * The superseded quick check (`<!-- bench:speculation-quick -->`) gives its place in BENCHMARKS.md
 * to this section: replaced by an empty one the first time, dropped if both exist.
 */
function retireQuickSection(): void {
  const file = path.join(root, 'BENCHMARKS.md');
  const text = fs.readFileSync(file, 'utf8');
  const open = '<!-- bench:speculation-quick -->';
  const close = '<!-- /bench:speculation-quick -->';
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) return;
  const replacement = text.includes('<!-- bench:speculation -->') ? '' : '<!-- bench:speculation -->\n<!-- /bench:speculation -->';
  const after = text.slice(end + close.length);
  fs.writeFileSync(file, replacement === '' ? `${text.slice(0, start).trimEnd()}\n${after.replace(/^\s*\n/, after.trim() === '' ? '' : '\n')}` : text.slice(0, start) + replacement + after);
}
