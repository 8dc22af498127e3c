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
import { fmt, fmtSpread, table } from '../report';
import { commandLine, pairArms, publish, runArms, startArmBench } from './arms';
import type { BenchTask, SideRun } from './measure';
import { summarize, type WorkloadSummary } from './summary';

type Arm = 'plain' | 'learned' | 'longest';
const arms: Arm[] = ['plain', 'learned', 'longest'];

export async function speculationStartBenchMain(args: readonly string[]): Promise<void> {
  const b = await startArmBench('speculation-start', args);
  const run = async (task: BenchTask, arm: Arm): Promise<SideRun> => {
    b.service.learnDraftStart = arm === 'learned';
    return b.runner.run(task, arm !== 'plain');
  };
  const results = await runArms(b, arms, run);
  b.service.learnDraftStart = true;

  const rows = results.byWorkload.map(([name, list]) => ({
    name,
    learned: summarize(list.map((t) => pairArms(t, 'learned', 'plain'))),
    longest: summarize(list.map((t) => pairArms(t, 'longest', 'plain'))),
    versus: summarize(list.map((t) => pairArms(t, 'learned', 'longest'))),
  }));
  const nMismatch = rows.reduce((n, r) => n + r.learned.nMismatch + r.longest.nMismatch, 0);
  const draftLength = (s: WorkloadSummary): string => fmt(s.nDrafts > 0 ? s.nDrafted / s.nDrafts : 0, 1);
  const body = [
    '## First draft length: learned vs the largest allowed (issue 5)',
    '',
    commandLine(b, results),
    '',
    `Tasks and settings as in the speculation benchmark above (greedy, ≤ 64 tokens, constraints off, default drafters, fresh drafters per request). Each task runs ${b.reps}× in each of three ways, the order rotating: plain; speculative with each drafter's first draft as long as the speculation memory says pays off (its survival record and the timed pass cost by width, kept across requests as the server keeps it; the memory is what this benchmark's earlier requests taught it); speculative with every first draft as long as allowed (16 tokens, as before the memory). Within a request both adapt the same way. "learned ÷ longest" = decode time with the longest start / with the learned one. Outputs identical in all three ways: **${nMismatch === 0 ? 'yes, every task' : `NO, ${nMismatch} task comparisons differ`}**.`,
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
  publish(b, results, body, rows.map((x) => ({ name: x.name, learned: x.learned, longest: x.longest, learnedOverLongest: x.versus })));
}
