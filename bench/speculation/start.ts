// Side by side in one run: how long a request's first draft is. Each task runs plain, speculative
// with the learned start length (the speculation memory: draft survival per drafter and pass cost
// by width, kept across requests as the server keeps it) and speculative with every drafter
// starting at the largest draft allowed (as before the memory), the order rotating per task and
// repetition:
//
//   npm run bench -- speculation-start [--reps N] [--line N] [--block N] [--limit N]
//
// Same tasks and settings as `npm run bench -- speculation` (see ./run.ts). Writes the
// `speculation-start` section of BENCHMARKS.md and bench/results/speculation-start.json.
import * as os from 'node:os';
import { startService } from '../../test/server/service-helpers';
import { fmt, fmtSpread, machineLine, table, updateBenchmarksMd, writeJson } from '../report';
import { SpeculationRunner, type BenchTask, type SideRun, type TaskRuns } from './measure';
import { editing, evenly, heldOut } from './run';
import { summarize, type WorkloadSummary } from './summary';

type Arm = 'plain' | 'learned' | 'longest';
const arms: Arm[] = ['plain', 'learned', 'longest'];

interface ArmRuns {
  task: BenchTask;
  runs: Record<Arm, SideRun[]>;
}

function num(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const n = Number(args[at + 1]);
  if (!Number.isFinite(n) || n < 1) throw new Error(`${name} wants a positive number, got ${args[at + 1]}`);
  return Math.round(n);
}

const pair = (t: ArmRuns, on: Arm, off: Arm): TaskRuns => ({ task: t.task, on: t.runs[on], off: t.runs[off] });

export async function speculationStartBenchMain(args: readonly string[]): Promise<void> {
  const reps = num(args, '--reps', 2);
  const limit = args.includes('--limit') ? num(args, '--limit', 1) : undefined;
  const cap = (n: number): number => (limit === undefined ? n : Math.min(n, limit));
  const nLine = num(args, '--line', 60);
  const nBlock = num(args, '--block', 60);
  const workloads: [string, BenchTask[]][] = [
    ['editing', evenly(editing(), cap(Infinity))],
    ['held-out mid-line', evenly(heldOut('line-completion.jsonl', 'held-out mid-line'), cap(nLine))],
    ['held-out block', evenly(heldOut('block-completion.jsonl', 'held-out block'), cap(nBlock))],
  ];
  const { service, host } = await startService((s) => ({
    ...s,
    completion: { ...s.completion, maxTokens: 64, temperature: 0, timeCapAfterNewlineMs: 1e9 },
    constraints: { ...s.constraints, mode: 'off' },
    drafts: { ...s.drafts, count: 1 },
  }));
  const runner = new SpeculationRunner(service, host, service.settings);
  const run = async (task: BenchTask, arm: Arm): Promise<SideRun> => {
    service.learnDraftStart = arm === 'learned';
    return runner.run(task, arm !== 'plain');
  };
  const log = (m: string): void => void process.stderr.write(`speculation-start: ${m}\n`);
  const loadStart = os.loadavg();
  const tStartMs = performance.now();
  // Warm-up (not measured): ONNX Runtime's first passes of each shape are slower.
  const first = workloads[0]?.[1][0];
  if (first !== undefined) for (const arm of arms) await run(first, arm);

  const results = new Map<string, ArmRuns[]>();
  let index = 0;
  for (const [name, tasks] of workloads) {
    const list: ArmRuns[] = [];
    for (const task of tasks) {
      const t: ArmRuns = { task, runs: { plain: [], learned: [], longest: [] } };
      for (let rep = 0; rep < reps; rep++) {
        const shift = (index + rep) % arms.length;
        for (const arm of [...arms.slice(shift), ...arms.slice(0, shift)]) t.runs[arm].push(await run(task, arm));
      }
      index++;
      list.push(t);
    }
    results.set(name, list);
    log(`${name}: ${tasks.length} tasks × ${reps} reps × 3 arms done at ${fmt((performance.now() - tStartMs) / 1000, 0)} s`);
  }
  await service.shutdown();
  service.learnDraftStart = true;
  const loadEnd = os.loadavg();
  const tRunS = (performance.now() - tStartMs) / 1000;

  const rows = [...results].map(([name, list]) => ({
    name,
    learned: summarize(list.map((t) => pair(t, 'learned', 'plain'))),
    longest: summarize(list.map((t) => pair(t, 'longest', 'plain'))),
    versus: summarize(list.map((t) => pair(t, 'learned', 'longest'))),
  }));
  const nMismatch = rows.reduce((n, r) => n + r.learned.nMismatch + r.longest.nMismatch, 0);
  const draftLength = (s: WorkloadSummary): string => fmt(s.nDrafts > 0 ? s.nDrafted / s.nDrafts : 0, 1);
  const flags = args.filter((a) => a !== 'speculation-start');
  const body = [
    '## First draft length: learned vs the largest allowed (issue 5)',
    '',
    `Command: \`npm run bench -- speculation-start${flags.length > 0 ? ` ${flags.join(' ')}` : ''}\` · ${machineLine()} · ${fmt(tRunS / 60, 1)} min · load average ${fmt(loadStart[0] ?? NaN, 1)} at the start, ${fmt(loadEnd[0] ?? NaN, 1)} at the end · JSON: \`bench/results/speculation-start.json\``,
    '',
    `Tasks and settings as in the speculation benchmark above (greedy, ≤ 64 tokens, constraints off, default drafters, fresh drafters per request). Each task runs ${reps}× in each of three ways, the order rotating: plain; speculative with each drafter's first draft as long as the speculation memory says pays off (its survival record and the timed pass cost by width, kept across requests as the server keeps it; the memory is what this benchmark's earlier requests taught it); speculative with every first draft as long as allowed (16 tokens, as before the memory). Within a request both adapt the same way. "learned ÷ longest" = decode time with the longest start / with the learned one. Outputs identical in all three ways: **${nMismatch === 0 ? 'yes, every task' : `NO, ${nMismatch} task comparisons differ`}**.`,
    '',
    table(
      ['workload', 'tokens', 'speed-up, learned start: all tokens; per task', 'speed-up, longest start: all tokens; per task', 'learned ÷ longest: all tokens; per task', 'passes / token, learned vs longest', 'tokens per draft, learned vs longest', 'acceptance, learned vs longest'],
      rows.map((r) => [
        r.name,
        String(r.learned.nTokens),
        `**${fmt(r.learned.speedup, 2)}×**; ${fmtSpread(r.learned.perTaskSpeedup, 2)}×`,
        `**${fmt(r.longest.speedup, 2)}×**; ${fmtSpread(r.longest.perTaskSpeedup, 2)}×`,
        `**${fmt(r.versus.speedup, 3)}×**; ${fmtSpread(r.versus.perTaskSpeedup, 3)}× (n = ${r.versus.perTaskSpeedup.n})`,
        `${fmt(r.learned.decodeForwardsPerToken.on, 2)} vs ${fmt(r.longest.decodeForwardsPerToken.on, 2)}`,
        `${draftLength(r.learned)} vs ${draftLength(r.longest)}`,
        `${fmt(100 * r.learned.acceptanceRate, 0)}% vs ${fmt(100 * r.longest.acceptanceRate, 0)}%`,
      ]),
    ),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (limit !== undefined) {
    log('--limit: smoke run, BENCHMARKS.md and bench/results/speculation-start.json left alone');
    return;
  }
  writeJson('speculation-start', {
    command: `npm run bench -- speculation-start ${flags.join(' ')}`.trim(),
    machine: machineLine(),
    date: new Date().toISOString(),
    reps,
    loadAverage: { start: loadStart, end: loadEnd },
    workloads: rows.map((r) => ({ name: r.name, learned: r.learned, longest: r.longest, learnedOverLongest: r.versus })),
  });
  updateBenchmarksMd('speculation-start', body);
}
