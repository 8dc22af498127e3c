// Where speculative decoding's time goes, and what cutting the KV cache in place saves, side by
// side in one run. Each task runs plain, speculative with the KV cache cut in place after a
// rejected draft (the runtime's default), and speculative with the cache copied into fresh arrays
// at each cut (as before), the order rotating per task and repetition:
//
//   npm run bench -- speculation-passes [--reps N] [--line N] [--block N] [--limit N]
//
// Same tasks and settings as `npm run bench -- speculation` (see ./run.ts). Writes the
// `speculation-passes` section of BENCHMARKS.md and bench/results/speculation-passes.json.
import { fmt, fmtSpread, table } from '../report';
import { commandLine, pairArms, publish, runArms, startArmBench } from './arms';
import type { BenchTask, SideRun } from './measure';
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

export async function speculationPassesBenchMain(args: readonly string[]): Promise<void> {
  const b = await startArmBench('speculation-passes', args);
  const model = await b.host.acquire();
  if (model === undefined) throw new Error(`model not ready: ${b.host.current.message}`);
  const lm = model.lm;
  /** [workload][arm]; the warm-up round goes to a split nobody reads. */
  const splits = new Map<string, Record<Arm, Split>>();
  const run = async (task: BenchTask, arm: Arm, workload: string | undefined): Promise<SideRun> => {
    let byArm = splits.get(workload ?? '');
    if (byArm === undefined) {
      byArm = { plain: emptySplit(), 'in place': emptySplit(), copied: emptySplit() };
      splits.set(workload ?? '', byArm);
    }
    const split = byArm[arm];
    lm.cutInPlace = arm !== 'copied';
    const c0 = { ...lm.counters };
    const r = await b.runner.run(task, arm !== 'plain');
    split.totalMs += r.totalMs;
    split.runMs += lm.counters.runMs - c0.runMs;
    split.cutMs += lm.counters.cutMs - c0.cutMs;
    split.nCuts += lm.counters.nCuts - c0.nCuts;
    split.nPasses += lm.counters.nForward - c0.nForward;
    // Fresh drafters per request: their statistics are this request's.
    if (arm !== 'plain') split.draftMs += Object.values(b.service.drafterStats()).reduce((ms, d) => ms + d.tDraftMs, 0);
    return r;
  };
  const results = await runArms(b, arms, run);
  lm.cutInPlace = true;

  const summaries = results.byWorkload.map(([name, list]) => ({
    name,
    nRequests: list.length * b.reps,
    splits: splits.get(name) ?? { plain: emptySplit(), 'in place': emptySplit(), copied: emptySplit() },
    inPlace: summarize(list.map((t) => pairArms(t, 'in place', 'plain'))),
    copied: summarize(list.map((t) => pairArms(t, 'copied', 'plain'))),
    versus: summarize(list.map((t) => pairArms(t, 'in place', 'copied'))),
  }));
  const nMismatch = summaries.reduce((n, s) => n + s.inPlace.nMismatch + s.copied.nMismatch, 0);
  const pct = (x: number, of: number): string => `${fmt((100 * x) / of, 1)}%`;
  const body = [
    '## Where speculative decoding spends its time; cutting the KV cache in place (issue 5)',
    '',
    commandLine(b, results),
    '',
    `Tasks and settings as in the speculation benchmark above. Each task runs ${b.reps}× in each of three ways, the order rotating: plain; speculative with the KV cache cut in place after a rejected draft (the runtime's default: each further KV head's rows move down in the same buffer); speculative with the cache copied into fresh arrays at every cut (as before). Outputs identical in all three ways: **${nMismatch === 0 ? 'yes, every task' : `NO, ${nMismatch} task comparisons differ`}**.`,
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
  publish(b, results, body, summaries.map((x) => ({ name: x.name, splits: x.splits, inPlace: x.inPlace, copied: x.copied, inPlaceOverCopied: x.versus })));
}
