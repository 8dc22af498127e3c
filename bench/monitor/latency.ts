// Query latency of the monitor's static-analysis sources after warm-up, on the dereference tasks
// (real projects): the TypeScript service in-process and pyright over LSP. Prints p50/p95 and the
// load average (other processes on the machine inflate these figures).
//
//   node --import tsx bench/monitor/latency.ts [--n 100]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundledPyright, LspSource } from '../../server/monitor/lsp-source';
import { positionAt, type MonitorQuery, type MonitorSource } from '../../server/monitor/source';
import { TsServiceSource } from '../../server/monitor/ts-service';
import { fmt, machineLine, spread, writeJson } from '../report';
import { taskFile, taskRoot, tasksDir, type DerefTask } from './build-tasks';

function queryOf(t: DerefTask): MonitorQuery {
  const text = t.prefix + t.suffix;
  return { languageId: t.language, uri: taskFile(t), rootDir: taskRoot(t), text, offset: t.prefix.length, position: positionAt(text, t.prefix.length), trigger: '.', signal: new AbortController().signal };
}

async function measure(source: MonitorSource, tasks: readonly DerefTask[]): Promise<{ tMs: number[]; nAnswered: number; tFirstMs: number }> {
  const first = tasks[0];
  if (first === undefined) return { tMs: [], nAnswered: 0, tFirstMs: NaN };
  const t0 = performance.now();
  await (source.querySync !== undefined ? Promise.resolve(source.querySync(queryOf(first))) : source.query(queryOf(first)));
  const tFirstMs = performance.now() - t0;
  const tMs: number[] = [];
  let nAnswered = 0;
  for (const t of tasks) {
    const q = queryOf(t);
    const t1 = performance.now();
    const names = source.querySync !== undefined ? source.querySync(q) : await source.query(q);
    tMs.push(performance.now() - t1);
    if (names?.includes(t.target) === true) nAnswered++;
  }
  return { tMs, nAnswered, tFirstMs };
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--n');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 100;
  const results: Record<string, unknown> = { machine: machineLine(), loadavg: os.loadavg() };
  for (const kind of ['ts', 'py'] as const) {
    const file = path.join(tasksDir, `dereference-${kind}.jsonl`);
    if (!fs.existsSync(file)) continue;
    const tasks = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as DerefTask).slice(0, n);
    const source: MonitorSource = kind === 'ts'
      ? new TsServiceSource({ log: () => {}, buildWhenCold: true })
      : new LspSource({ servers: { python: bundledPyright() ?? [] }, trusted: true, log: (l) => process.stderr.write(`${l}\n`) });
    const r = await measure(source, tasks);
    source.dispose?.();
    const s = spread(r.tMs);
    const sorted = [...r.tMs].sort((a, b) => a - b);
    const p95 = sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))] ?? NaN;
    results[kind] = { n: r.tMs.length, first: r.tFirstMs, p50: s.median, p95, p10: s.p10, p90: s.p90, targetOffered: r.nAnswered };
    process.stdout.write(`${kind === 'ts' ? 'typescript service' : 'pyright (LSP)'}: first query ${fmt(r.tFirstMs, 0)} ms, then p50 ${fmt(s.median)} ms, p95 ${fmt(p95)} ms over ${r.tMs.length} tasks (target offered in ${r.nAnswered}); load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  }
  writeJson('monitor-latency', results);
}

main().catch((e: unknown) => {
  process.stderr.write(`latency: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
