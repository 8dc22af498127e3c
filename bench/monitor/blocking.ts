// The monitor's TypeScript service in-process vs in a worker thread, side by side: how long the
// server's thread stalls while a project builds (opening its first document, then another one)
// and what a member query costs once it is built. The project is this repository's own
// tsconfig.json (TypeScript, @types/node, onnxruntime, vscode-languageserver: a real project, on
// every machine without setup).
//
//   npm run build && node --import tsx bench/monitor/blocking.ts [--rounds N] [--queries N]
//
// Each round builds both from scratch, the order alternating. Writes the `monitor-blocking`
// section of BENCHMARKS.md and bench/results/monitor-blocking.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { positionAt, type MonitorDocument, type MonitorQuery } from '../../server/monitor/source';
import { TsServiceSource } from '../../server/monitor/ts-service';
import { TsWorkerSource } from '../../server/monitor/ts-worker-source';
import { fmt, fmtSpread, machineLine, positiveOption, root, spread, table, updateBenchmarksMd, writeJson } from '../report';

type Kind = 'in-process' | 'worker';
/** The worker as the server runs it: the bundle `npm run build` makes. */
const builtWorker = path.join(root, 'dist', 'ts-worker.js');
interface Round {
  /** Time until the project answered, and the longest stall of the server's thread meanwhile, ms. */
  openMs: number;
  openStallMs: number;
  reopenMs: number;
  reopenStallMs: number;
  queryMs: number[];
  answers: (readonly string[] | undefined)[];
}

function docOf(file: string): MonitorDocument {
  return { languageId: 'typescript', uri: pathToFileURL(file).href, rootDir: root, text: fs.readFileSync(file, 'utf8') };
}

/** Member accesses `x.name` of the file: the text without `name`, the cursor after the dot. */
function queriesOf(doc: MonitorDocument, n: number): MonitorQuery[] {
  const out: MonitorQuery[] = [];
  const re = /\b(this|model|settings|request|stats|lm)\.([A-Za-z_]\w*)/g;
  for (let m = re.exec(doc.text); m !== null && out.length < n; m = re.exec(doc.text)) {
    const offset = m.index + (m[1] as string).length + 1;
    const text = doc.text.slice(0, offset) + doc.text.slice(offset + (m[2] as string).length);
    out.push({ languageId: doc.languageId, uri: doc.uri, rootDir: root, text, offset, position: positionAt(text, offset), trigger: '.', signal: new AbortController().signal });
  }
  return out;
}

/** Runs `work`; returns its time and the longest gap between ticks of a 2 ms timer meanwhile. */
async function stalls(work: () => Promise<unknown>): Promise<{ ms: number; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 2);
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  // The tick after the work ends closes a stall that lasted to its end.
  await new Promise((r) => setTimeout(r, 5));
  clearInterval(timer);
  return { ms, stallMs: Math.max(stallMs, performance.now() - last - 5) };
}

async function round(kind: Kind, a: MonitorDocument, b: MonitorDocument, queries: readonly MonitorQuery[]): Promise<Round> {
  const log = (): void => undefined;
  // As the server has them: the worker with the default monitor budget; in-process, built in the background.
  const source = kind === 'worker' ? new TsWorkerSource({ log, syncWaitMs: 250, workerFile: builtWorker }) : new TsServiceSource({ log });
  try {
    const open = await stalls(() => source.prepare(a, true));
    const reopen = await stalls(() => source.prepare(b, true));
    const queryMs: number[] = [];
    const answers: (readonly string[] | undefined)[] = [];
    for (const q of queries) {
      const t0 = performance.now();
      answers.push(source.querySync(q));
      queryMs.push(performance.now() - t0);
    }
    return { openMs: open.ms, openStallMs: open.stallMs, reopenMs: reopen.ms, reopenStallMs: reopen.stallMs, queryMs, answers };
  } finally {
    source.dispose();
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(builtWorker)) throw new Error(`${builtWorker} is missing: run npm run build first`);
  const rounds = positiveOption(process.argv, '--rounds', 3);
  const nQueries = positiveOption(process.argv, '--queries', 60);
  const a = docOf(path.join(root, 'server', 'completion-service.ts'));
  const b = docOf(path.join(root, 'server', 'engine', 'decode.ts'));
  const queries = queriesOf(a, nQueries);
  const loadStart = os.loadavg();
  const results: Record<Kind, Round[]> = { 'in-process': [], worker: [] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of (r % 2 === 0 ? ['in-process', 'worker'] : ['worker', 'in-process']) as Kind[]) {
      results[kind].push(await round(kind, a, b, queries));
      process.stderr.write(`monitor-blocking: round ${r + 1} ${kind} done\n`);
    }
  }
  const loadEnd = os.loadavg();
  let nSame = 0;
  let nAnswered = 0;
  for (let r = 0; r < rounds; r++) {
    const x = results['in-process'][r] as Round;
    const y = results.worker[r] as Round;
    x.answers.forEach((names, i) => {
      if (JSON.stringify(names) === JSON.stringify(y.answers[i])) nSame++;
      if (y.answers[i] !== undefined) nAnswered++;
    });
  }
  const row = (kind: Kind): string[] => {
    const rs = results[kind];
    const all = rs.flatMap((r) => r.queryMs);
    return [
      kind,
      `${fmtSpread(spread(rs.map((r) => r.openMs)), 0)} / ${fmtSpread(spread(rs.map((r) => r.openStallMs)), 0)}`,
      `${fmtSpread(spread(rs.map((r) => r.reopenMs)), 0)} / ${fmtSpread(spread(rs.map((r) => r.reopenStallMs)), 0)}`,
      `${fmt(spread(all).median, 1)} / ${fmt([...all].sort((p, q) => p - q)[Math.floor(0.95 * (all.length - 1))] ?? NaN, 1)}`,
    ];
  };
  const body = [
    '## The TypeScript service in a worker thread (monitor, issue 8)',
    '',
    `Command: \`npm run build && node --import tsx bench/monitor/blocking.ts --rounds ${rounds} --queries ${nQueries}\` · ${machineLine()} · load average ${fmt(loadStart[0] ?? NaN, 1)} at the start, ${fmt(loadEnd[0] ?? NaN, 1)} at the end · JSON: \`bench/results/monitor-blocking.json\``,
    '',
    `The project: this repository's tsconfig.json. Each of ${rounds} rounds builds both sources from scratch, the order alternating: open \`server/completion-service.ts\` (the project is built), then open \`server/engine/decode.ts\` (the server refreshes the project when a document opens), then ${queries.length} member queries on the first file (\`this.\`, \`model.\`, … with the member removed, as the monitor asks them), synchronously as the monitor does (the worker is the built \`dist/ts-worker.js\`, waited for at most 250 ms, the default \`specter.monitor.budgetMs\`). "Stall" = the longest the server's thread could not run a 2 ms timer. Medians (p10–p90) over rounds; query times over all rounds. Same answers from both: **${nSame} of ${rounds * queries.length}** (the worker answered ${nAnswered}).`,
    '',
    table(['TypeScript service', 'open: ready / longest stall, ms', 'another document opens: ready / longest stall, ms', 'member query p50 / p95, ms'], [row('in-process'), row('worker')]),
  ].join('\n');
  process.stdout.write(`${body}\n`);
  writeJson('monitor-blocking', { machine: machineLine(), date: new Date().toISOString(), rounds, loadAverage: { start: loadStart, end: loadEnd }, nSame, nAnswered, results: Object.fromEntries(Object.entries(results).map(([k, rs]) => [k, rs.map(({ answers: _a, ...r }) => r)])) });
  updateBenchmarksMd('monitor-blocking', body);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
