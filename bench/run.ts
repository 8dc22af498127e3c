// `npm run bench -- [decode|typing|speculation|speculation-start|speculation-passes|all] [--reps N] [--json]`: runs benchmarks side by side, writes
// bench/results/*.json and the matching sections of BENCHMARKS.md.
import { runDecodeBenches } from './decode';
import { typingBenchMain } from './typing/run';
import { speculationBenchMain } from './speculation/run';
import { speculationPassesBenchMain } from './speculation/passes';
import { speculationStartBenchMain } from './speculation/start';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const which = args.find((a) => !a.startsWith('--')) ?? 'all';
  const repsAt = args.indexOf('--reps');
  const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 7;
  if (which === 'decode' || which === 'all') await runDecodeBenches(reps);
  if (which === 'typing' || which === 'all') await typingBenchMain(args);
  if (which === 'speculation' || which === 'all') await speculationBenchMain(args);
  if (which === 'speculation-start') await speculationStartBenchMain(args);
  if (which === 'speculation-passes') await speculationPassesBenchMain(args);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
