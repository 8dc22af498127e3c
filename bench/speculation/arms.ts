// The frame of the one-run A/B benchmarks of speculation (./start.ts, ./passes.ts): the speculation
// benchmark's tasks and settings, every task run in each arm `--reps` times with the order rotating
// per task and repetition, and the report's command line and publishing.
import * as os from 'node:os';
import type { CompletionService } from '../../server/completion-service';
import type { ModelHost } from '../../server/model-host';
import { startService } from '../../test/server/service-helpers';
import { fmt, machineLine, positiveOption, updateBenchmarksMd, writeJson } from '../report';
import { SpeculationRunner, type BenchTask, type SideRun, type TaskRuns } from './measure';
import { editing, evenly, heldOut } from './run';

export interface ArmTask<A extends string> {
  task: BenchTask;
  runs: Record<A, SideRun[]>;
}

export interface ArmBench {
  /** The benchmark's name: `npm run bench -- NAME`, its BENCHMARKS.md section and JSON file. */
  name: string;
  args: readonly string[];
  reps: number;
  /** `--limit N`: a smoke run of N tasks per workload that publishes nothing. */
  limit: number | undefined;
  workloads: [string, BenchTask[]][];
  service: CompletionService;
  host: ModelHost;
  runner: SpeculationRunner;
  log: (line: string) => void;
}

/** The tasks and the completion service of the speculation benchmark (greedy, ≤ 64 tokens, constraints off). */
export async function startArmBench(name: string, args: readonly string[]): Promise<ArmBench> {
  const limit = args.includes('--limit') ? positiveOption(args, '--limit', 1) : undefined;
  const cap = (n: number): number => (limit === undefined ? n : Math.min(n, limit));
  const workloads: [string, BenchTask[]][] = [
    ['editing', evenly(editing(), cap(Infinity))],
    ['held-out mid-line', evenly(heldOut('line-completion.jsonl', 'held-out mid-line'), cap(positiveOption(args, '--line', 60)))],
    ['held-out block', evenly(heldOut('block-completion.jsonl', 'held-out block'), cap(positiveOption(args, '--block', 60)))],
  ];
  const { service, host } = await startService((s) => ({
    ...s,
    completion: { ...s.completion, maxTokens: 64, temperature: 0, timeCapAfterNewlineMs: 1e9 },
    constraints: { ...s.constraints, mode: 'off' },
    drafts: { ...s.drafts, count: 1 },
  }));
  return {
    name,
    args,
    reps: positiveOption(args, '--reps', 2),
    limit,
    workloads,
    service,
    host,
    runner: new SpeculationRunner(service, host, service.settings),
    log: (line) => void process.stderr.write(`${name}: ${line}\n`),
  };
}

export interface ArmResults<A extends string> {
  byWorkload: [string, ArmTask<A>[]][];
  loadStart: number[];
  loadEnd: number[];
  tRunS: number;
}

/**
 * Every task in every arm, `reps` times, the order rotating; one unmeasured warm-up round first
 * (ONNX Runtime's first passes of each shape are slower; `run` gets no workload then). Shuts the
 * service down at the end.
 */
export async function runArms<A extends string>(b: ArmBench, arms: readonly A[], run: (task: BenchTask, arm: A, workload: string | undefined) => Promise<SideRun>): Promise<ArmResults<A>> {
  const loadStart = os.loadavg();
  const tStartMs = performance.now();
  const first = b.workloads[0]?.[1][0];
  if (first !== undefined) for (const arm of arms) await run(first, arm, undefined);
  const byWorkload: [string, ArmTask<A>[]][] = [];
  let index = 0;
  for (const [name, tasks] of b.workloads) {
    const list: ArmTask<A>[] = [];
    for (const task of tasks) {
      const t: ArmTask<A> = { task, runs: Object.fromEntries(arms.map((a) => [a, []])) as unknown as Record<A, SideRun[]> };
      for (let rep = 0; rep < b.reps; rep++) {
        const shift = (index + rep) % arms.length;
        for (const arm of [...arms.slice(shift), ...arms.slice(0, shift)]) t.runs[arm].push(await run(task, arm, name));
      }
      index++;
      list.push(t);
    }
    byWorkload.push([name, list]);
    b.log(`${name}: ${tasks.length} tasks × ${b.reps} reps × ${arms.length} arms done at ${fmt((performance.now() - tStartMs) / 1000, 0)} s`);
  }
  await b.service.shutdown();
  return { byWorkload, loadStart, loadEnd: os.loadavg(), tRunS: (performance.now() - tStartMs) / 1000 };
}

/** Two arms of a task as the speculation summary's on/off pair. */
export function pairArms<A extends string>(t: ArmTask<A>, on: A, off: A): TaskRuns {
  return { task: t.task, on: t.runs[on], off: t.runs[off] };
}

function command(b: ArmBench): string {
  const flags = b.args.filter((a) => a !== b.name);
  return `npm run bench -- ${[b.name, ...flags].join(' ')}`;
}

/** The report's first line: command, machine, duration, load. */
export function commandLine(b: ArmBench, r: ArmResults<string>): string {
  return `Command: \`${command(b)}\` · ${machineLine()} · ${fmt(r.tRunS / 60, 1)} min · load average ${fmt(r.loadStart[0] ?? NaN, 1)} at the start, ${fmt(r.loadEnd[0] ?? NaN, 1)} at the end · JSON: \`bench/results/${b.name}.json\``;
}

/** Prints the report; unless a smoke run, writes the JSON and the BENCHMARKS.md section too. */
export function publish(b: ArmBench, r: ArmResults<string>, body: string, workloads: unknown): void {
  process.stdout.write(`${body}\n`);
  if (b.limit !== undefined) {
    b.log(`--limit: smoke run, BENCHMARKS.md and bench/results/${b.name}.json left alone`);
    return;
  }
  writeJson(b.name, { command: command(b), machine: machineLine(), date: new Date().toISOString(), reps: b.reps, loadAverage: { start: r.loadStart, end: r.loadEnd }, workloads });
  updateBenchmarksMd(b.name, body);
}
