// Where speculative decoding's time goes, and what cutting the KV cache in place saves, side by
// side in one run. Each task runs plain, speculative with the KV cache cut in place after a
// rejected draft (the runtime's default), and speculative with the cache copied into fresh arrays
// at each cut (as before), the order rotating per task and repetition:
//
//   npm run bench -- speculation-passes [--reps N] [--line N] [--block N] [--limit N]
//
// Same tasks and settings as `npm run bench -- speculation` (see ./run.ts). Writes the
// `speculation-passes` section of BENCHMARKS.md and bench/results/speculation-passes.json.
import * as os from 'node:os';
import { startService } from '../../test/server/service-helpers';
import { fmt, fmtSpread, machineLine, table, updateBenchmarksMd, writeJson } from '../report';
import { SpeculationRunner, type BenchTask, type SideRun, type TaskRuns } from './measure';
import { editing, evenly, heldOut } from './run';
import { summarize } from './summary';

type Arm = 'plain' | 'in place' | 'copied';
const arms: Arm[] = ['plain', 'in place', 'copied'];

/** Whole-completion time split (ms, summed over a workload's requests). */
interface Split {
  totalMs: number;
  runMs: number;
  cutMs: number;
  nCuts: number;
  draftMs: number;
  nPasses: number;
}

const emptySplit = (): Split => ({ totalMs: 0, runMs: 0, cutMs: 0, nCuts: 0, draftMs: 0, nPasses: 0 });

function num(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const n = Number(args[at + 1]);
  if (!Number.isFinite(n) || n < 1) throw new Error(`${name} wants a positive number, got ${args[at + 1]}`);
  return Math.round(n);
}

export async function speculationPassesBenchMain(args: readonly string[]): Promise<void> {
  const reps = num(args, '--reps', 2);
  const limit = args.includes('--limit') ? num(args, '--limit', 1) : undefined;
  const cap = (n: number): number => (limit === undefined ? n : Math.min(n, limit));
  const workloads: [string, BenchTask[]][] = [
    ['editing', evenly(editing(), cap(Infinity))],
    ['held-out mid-line', evenly(heldOut('line-completion.jsonl', 'held-out mid-line'), cap(num(args, '--line', 60)))],
    ['held-out block', evenly(heldOut('block-completion.jsonl', 'held-out block'), cap(num(args, '--block', 60)))],
  ];
  const { service, host } = await startService((s) => ({
    ...s,
    completion: { ...s.completion, maxTokens: 64, temperature: 0, timeCapAfterNewlineMs: 1e9 },
    constraints: { ...s.constraints, mode: 'off' },
    drafts: { ...s.drafts, count: 1 },
  }));
  const model = await host.acquire();
  if (model === undefined) throw new Error(`model not ready: ${host.current.message}`);
  const lm = model.lm;
  const runner = new SpeculationRunner(service, host, service.settings);
  const run = async (task: BenchTask, arm: Arm, split: Split): Promise<SideRun> => {
    lm.cutInPlace = arm !== 'copied';
    const c0 = { ...lm.counters };
    const r = await runner.run(task, arm !== 'plain');
    split.totalMs += r.totalMs;
    split.runMs += lm.counters.runMs - c0.runMs;
    split.cutMs += lm.counters.cutMs - c0.cutMs;
    split.nCuts += lm.counters.nCuts - c0.nCuts;
    split.nPasses += lm.counters.nForward - c0.nForward;
    // Fresh drafters per request: their statistics are this request's.
    if (arm !== 'plain') split.draftMs += Object.values(service.drafterStats()).reduce((ms, d) => ms + d.tDraftMs, 0);
    return r;
  };
  const log = (m: string): void => void process.stderr.write(`speculation-passes: ${m}\n`);
  const loadStart = os.loadavg();
  const tStartMs = performance.now();
  const first = workloads[0]?.[1][0];
  if (first !== undefined) for (const arm of arms) await run(first, arm, emptySplit());

  const rows: { name: string; splits: Record<Arm, Split>; runs: { task: BenchTask; runs: Record<Arm, SideRun[]> }[] }[] = [];
  let index = 0;
  for (const [name, tasks] of workloads) {
    const splits: Record<Arm, Split> = { plain: emptySplit(), 'in place': emptySplit(), copied: emptySplit() };
    const runs: { task: BenchTask; runs: Record<Arm, SideRun[]> }[] = [];
    for (const task of tasks) {
      const t = { task, runs: { plain: [], 'in place': [], copied: [] } as Record<Arm, SideRun[]> };
      for (let rep = 0; rep < reps; rep++) {
        const shift = (index + rep) % arms.length;
        for (const arm of [...arms.slice(shift), ...arms.slice(0, shift)]) t.runs[arm].push(await run(task, arm, splits[arm]));
      }
      index++;
      runs.push(t);
    }
    rows.push({ name, splits, runs });
    log(`${name}: ${tasks.length} tasks × ${reps} reps × 3 arms done at ${fmt((performance.now() - tStartMs) / 1000, 0)} s`);
  }
  lm.cutInPlace = true;
  await service.shutdown();
  const loadEnd = os.loadavg();
  const tRunS = (performance.now() - tStartMs) / 1000;

  const pair = (t: { task: BenchTask; runs: Record<Arm, SideRun[]> }, on: Arm, off: Arm): TaskRuns => ({ task: t.task, on: t.runs[on], off: t.runs[off] });
  const summaries = rows.map((r) => ({
    name: r.name,
    nRequests: r.runs.length * reps,
    splits: r.splits,
    inPlace: summarize(r.runs.map((t) => pair(t, 'in place', 'plain'))),
    copied: summarize(r.runs.map((t) => pair(t, 'copied', 'plain'))),
    versus: summarize(r.runs.map((t) => pair(t, 'in place', 'copied'))),
  }));
  const nMismatch = summaries.reduce((n, s) => n + s.inPlace.nMismatch + s.copied.nMismatch, 0);
  const pct = (x: number, of: number): string => `${fmt((100 * x) / of, 1)}%`;
  const flags = args.filter((a) => a !== 'speculation-passes');
  const body = [
    '## Where speculative decoding spends its time; cutting the KV cache in place (issue 5)',
    '',
    `Command: \`npm run bench -- speculation-passes${flags.length > 0 ? ` ${flags.join(' ')}` : ''}\` · ${machineLine()} · ${fmt(tRunS / 60, 1)} min · load average ${fmt(loadStart[0] ?? NaN, 1)} at the start, ${fmt(loadEnd[0] ?? NaN, 1)} at the end · JSON: \`bench/results/speculation-passes.json\``,
    '',
    `Tasks and settings as in the speculation benchmark above. Each task runs ${reps}× in each of three ways, the order rotating: plain; speculative with the KV cache cut in place after a rejected draft (the runtime's default: each further KV head's rows move down in the same buffer); speculative with the cache copied into fresh arrays at every cut (as before). Outputs identical in all three ways: **${nMismatch === 0 ? 'yes, every task' : `NO, ${nMismatch} task comparisons differ`}**.`,
    '',
    table(
      ['workload', 'decode speed-up, cut in place: all tokens; per task', 'decode speed-up, copied: all tokens; per task', 'in place ÷ copied: all tokens; per task', 'KV cuts per request', 'ms per cut, in place vs copied'],
      summaries.map((s) => {
        const { 'in place': a, copied: b } = s.splits;
        return [
          s.name,
          `**${fmt(s.inPlace.speedup, 2)}×**; ${fmtSpread(s.inPlace.perTaskSpeedup, 2)}×`,
          `**${fmt(s.copied.speedup, 2)}×**; ${fmtSpread(s.copied.perTaskSpeedup, 2)}×`,
          `**${fmt(s.versus.speedup, 3)}×**; ${fmtSpread(s.versus.perTaskSpeedup, 3)}× (n = ${s.versus.perTaskSpeedup.n})`,
          fmt(a.nCuts / s.nRequests, 1),
          `${fmt(a.cutMs / Math.max(1, a.nCuts), 3)} vs ${fmt(b.cutMs / Math.max(1, b.nCuts), 3)}`,
        ];
      }),
    ),
    '',
    'Whole-completion time (prefill included), summed over the workload, split into the ONNX Runtime session runs, cutting the KV cache, the drafters, and the rest (prompt building, sampling, verification, stopping rules, detokenizing):',
    '',
    table(
      ['workload', 'way', 'forward passes', 'time', 'session runs', 'KV cuts', 'drafting', 'rest'],
      summaries.flatMap((s) =>
        arms.map((arm) => {
          const x = s.splits[arm];
          const rest = x.totalMs - x.runMs - x.cutMs - x.draftMs;
          return [s.name, arm, String(x.nPasses), `${fmt(x.totalMs / 1000, 2)} s`, pct(x.runMs, x.totalMs), pct(x.cutMs, x.totalMs), pct(x.draftMs, x.totalMs), pct(rest, x.totalMs)];
        }),
      ),
    ),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (limit !== undefined) {
    log('--limit: smoke run, BENCHMARKS.md and bench/results/speculation-passes.json left alone');
    return;
  }
  writeJson('speculation-passes', {
    command: `npm run bench -- speculation-passes ${flags.join(' ')}`.trim(),
    machine: machineLine(),
    date: new Date().toISOString(),
    reps,
    loadAverage: { start: loadStart, end: loadEnd },
    workloads: summaries.map((s) => ({ name: s.name, splits: s.splits, inPlace: s.inPlace, copied: s.copied, inPlaceOverCopied: s.versus })),
  });
  updateBenchmarksMd('speculation-passes', body);
}
