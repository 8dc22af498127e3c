// Dereference benchmark, end to end (issue 8; MGD's DotPrompts on rxjs and click, which the default
// model was not trained on): every task — a file cut right after `expr.` inside a function — is
// completed by the real completion service twice, monitor on and monitor off (two services over the
// same model and default settings, greedy; which one goes first alternates per task), then scored
// by score.ts: next-identifier match, completions whose first line adds an error / a type error to
// the file (tsc --noEmit checks / pyright), and the latency the monitor adds per completion.
//
//   bash bench/monitor/setup.sh        # once: rxjs (npm) and click (Debian) into .cache/monitor-bench
//   node --import tsx bench/monitor/run.ts [--lang ts|py|all] [--limit N] [--budget-ms MS] [--constraints off|syntax|all] [--canonical off]
//   node --import tsx bench/monitor/run.ts --rescore bench/results/monitor-dereference.json   # the scorer changed
//
// Settings are the defaults (greedy, speculation on, grammar constraints `all`, monitor budget
// 250 ms) except for the monitor; --constraints off isolates the monitor from the grammar
// constraint (whose end rule may cut a completion back to nothing).
//
// As in the editor, files are open before their completions. TypeScript: each task's file is opened
// just before its completion (the warm-up on open is synchronous and runs before the clock starts;
// the program is built once per project). Python: the warm-up opens each task file once in pyright
// and waits for it, as an editor that has had the file open for a while; a task's completion then
// sends pyright its text. (Reopening the file per task would start pyright's full check of the
// file, and the completion right after it would wait behind that check.)
// Latency is wall time of CompletionService.complete, paired per task: on − off.
// Writes bench/results/monitor-dereference[-variant].json (per task: both completions' first lines
// and outcomes) and, for a full run with the default settings, the table in BENCHMARKS.md.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CompletionResult } from '../../server/completion-service';
import type { SpecterSettings } from '../../server/protocol';
import { startService, type ServiceUnderTest } from '../../test/server/service-helpers';
import { fmt, fmtSpread, machineLine, root, spread, table, updateBenchmarksMd, writeJson, type Spread } from '../report';
import { projects, taskFile, tasksDir, type DerefTask } from './build-tasks';
import { firstLine, judge, pct, readJsonl, type EvalResult, type Outcome } from './score';

type Mode = 'off' | 'on';

interface Run extends EvalResult {
  /** Wall time of complete(), ms. */
  wallMs: number;
  tokens: number;
  /** The monitor said an answer came too late (that completion ran unconstrained there). */
  late: boolean;
  outcome: CompletionResult['kind'];
  /** What the service's type check found (CompletionStats.typeCheck), and its extra decodes. */
  typeCheck?: string;
  typeRetries?: number;
}

interface LanguageResult {
  language: string;
  tasks: DerefTask[];
  runs: Record<Mode, Run[]>;
  outcomes: Record<string, Outcome | undefined>[];
}

type ConstraintsMode = SpecterSettings['constraints']['mode'];

function settingsFor(mode: Mode, budgetMs: number, constraints: ConstraintsMode, canonicalSpelling: boolean): (s: SpecterSettings) => SpecterSettings {
  return (s) => ({ ...s, constraints: { ...s.constraints, mode: constraints }, monitor: { ...s.monitor, enabled: mode === 'on', budgetMs, canonicalSpelling } });
}

/** A service as in a trusted workspace: only there are language servers (pyright) launched. */
async function startTrusted(patch: (s: SpecterSettings) => SpecterSettings): Promise<ServiceUnderTest> {
  const svc = await startService(patch);
  const settings = svc.service.settings;
  svc.service.initialize({ trusted: true });
  svc.service.settings = settings;
  return svc;
}

function uriOf(t: DerefTask): string {
  return pathToFileURL(taskFile(t)).href;
}

/** Lets work queued by documentOpened (the TypeScript warm-up runs in a setImmediate) finish first. */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Log lines saying a TypeScript project is ready (one per build or refresh). */
function readyLines(logs: readonly string[]): number {
  return logs.filter((l) => /typescript project .* ready/.test(l)).length;
}

async function waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const t0 = performance.now();
  while (!pred()) {
    if (performance.now() - t0 > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

async function completeOnce(svc: ServiceUnderTest, t: DerefTask): Promise<Run> {
  const nLogs = svc.logs.length;
  const t0 = performance.now();
  const r = await svc.service.complete({ uri: uriOf(t), languageId: t.language, prefix: t.prefix, suffix: t.suffix });
  const wallMs = performance.now() - t0;
  const late = svc.logs.slice(nLogs).some((l) => l.includes('gave no answer within') && l.startsWith('monitor:'));
  const stats = r.kind === 'cancelled' ? undefined : r.stats;
  return {
    ...(stats?.typeCheck !== undefined ? { typeCheck: stats.typeCheck } : {}),
    ...(stats?.typeRetries !== undefined ? { typeRetries: stats.typeRetries } : {}),
    id: t.id,
    completions: r.kind === 'ok' ? r.texts : [],
    ...(r.kind === 'ok' ? { timings: { totalMs: r.stats.totalMs } } : {}),
    wallMs, tokens: r.kind === 'ok' ? r.stats.generatedTokens : 0, late, outcome: r.kind,
  };
}

/**
 * Before timing, static analysis is ready as in an editor that has had the project open for a
 * while: TypeScript — the project's program is built (its "ready" log line); pyright — every
 * task file has been opened and answered a completion in time (the first answer on a file takes
 * seconds: parsing, binding, its imports). Both models have run once.
 */
async function warmUp(services: Record<Mode, ServiceUnderTest>, tasks: readonly DerefTask[], log: (l: string) => void): Promise<void> {
  const on = services.on;
  const t0 = performance.now();
  const perFile = [...new Map(tasks.map((t) => [t.path, t])).values()];
  const first = perFile[0] as DerefTask;
  if (first.language === 'python') {
    let nSlow = 0;
    for (const t of perFile) {
      on.service.documentOpened(uriOf(t), t.language, t.prefix + t.suffix);
      await new Promise((res) => setTimeout(res, 2000));
      let late = true;
      for (let i = 0; i < 10 && late; i++) {
        late = (await completeOnce(on, t)).late;
        if (late) await new Promise((res) => setTimeout(res, 500));
      }
      if (late) nSlow++;
      on.service.documentClosed(uriOf(t));
    }
    // pyright keeps checking the files just opened: wait until three completions in a row got
    // their answer in time.
    for (let i = 0, streak = 0; i < 60 && streak < 3; i++) {
      streak = (await completeOnce(on, tasks[i % tasks.length] as DerefTask)).late ? 0 : streak + 1;
    }
    if (nSlow > 0) log(`python: pyright still slower than the budget on ${nSlow} of ${perFile.length} files after warm-up`);
  } else {
    on.service.documentOpened(uriOf(first), first.language, first.prefix + first.suffix);
    if (!(await waitFor(() => on.logs.some((l) => /typescript project .* ready/.test(l)), 300_000))) {
      throw new Error(`the TypeScript project of ${first.path} did not build:\n${on.logs.join('\n')}`);
    }
    on.service.documentClosed(uriOf(first));
  }
  log(`${first.language}: static analysis ready (${perFile.length} task files) after ${fmt((performance.now() - t0) / 1000)} s`);
  for (const svc of [services.off, services.on]) await completeOnce(svc, first);
}

async function runLanguage(kind: 'ts' | 'py', limit: number, budgetMs: number, constraints: ConstraintsMode, canonical: boolean, log: (l: string) => void): Promise<LanguageResult | undefined> {
  const file = path.join(tasksDir, `dereference-${kind}.jsonl`);
  if (!fs.existsSync(file)) {
    log(`${file} is missing — run node --import tsx bench/monitor/build-tasks.ts`);
    return undefined;
  }
  if (!fs.existsSync(projects[kind].root)) throw new Error(`${projects[kind].root} is missing — run bash bench/monitor/setup.sh`);
  const tasks = readJsonl<DerefTask>(file).slice(0, limit);
  const first = tasks[0];
  if (first === undefined) return undefined;
  const services: Record<Mode, ServiceUnderTest> = {
    off: await startTrusted(settingsFor('off', budgetMs, constraints, canonical)),
    on: await startTrusted(settingsFor('on', budgetMs, constraints, canonical)),
  };
  const runs: Record<Mode, Run[]> = { off: [], on: [] };
  try {
    await warmUp(services, tasks, log);
    for (const [i, t] of tasks.entries()) {
      const uri = uriOf(t);
      if (kind === 'ts') {
        const nReady = readyLines(services.on.logs);
        for (const svc of Object.values(services)) svc.service.documentOpened(uri, t.language, t.prefix + t.suffix);
        // Opening a document refreshes its project in the server's TypeScript worker (a few hundred
        // ms): wait for it, as a user's first keystrokes after opening a file would.
        await waitFor(() => readyLines(services.on.logs) > nReady, 60_000);
      }
      await settle();
      const order: Mode[] = i % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const mode of order) runs[mode].push(await completeOnce(services[mode], t));
      if (kind === 'ts') for (const svc of Object.values(services)) svc.service.documentClosed(uri);
      if ((i + 1) % 25 === 0) log(`${kind}: ${i + 1}/${tasks.length} tasks`);
    }
  } finally {
    for (const svc of Object.values(services)) await svc.service.shutdown();
  }
  log(`${kind}: scoring ${tasks.length} tasks (${kind === 'ts' ? 'TypeScript checker' : 'pyright'})`);
  return { language: first.language, tasks, runs, outcomes: judge(tasks, runs) };
}

interface Summary {
  language: string;
  n: number;
  match: Record<Mode, number>;
  /** Completions with text (not withheld, not empty). */
  shown: Record<Mode, number>;
  newErrors: Record<Mode, number>;
  newTypeErrors: Record<Mode, number>;
  newMemberErrors: Record<Mode, number>;
  wallMs: Record<Mode, Spread>;
  /** Paired per task, on − off, ms. */
  addedMs: Spread;
  /** Paired per task, on / off. */
  ratio: Spread;
  /** on − off where both wrote the same (non-empty) text: the monitor's cost alone. */
  addedSameMs: Spread;
  nLate: number;
  /** The service's type check with the monitor on: completions by what it found (CompletionStats.typeCheck). */
  typeChecks: Record<string, number>;
  /** Completions decoded again without a rejected member name, and the extra decodes in all. */
  nRetried: number;
  nRetries: number;
  /** Tasks the monitor turned from a match into a miss, and the other way. */
  nLost: number;
  nGained: number;
}

function summarize(r: LanguageResult): Summary {
  const count = (mode: Mode, key: keyof Outcome): number => r.outcomes.filter((o) => o[mode]?.[key] === true).length;
  const paired = r.tasks.map((_, i) => [r.runs.off[i]?.wallMs ?? NaN, r.runs.on[i]?.wallMs ?? NaN] as const);
  const per = <T>(f: (m: Mode) => T): Record<Mode, T> => ({ off: f('off'), on: f('on') });
  return {
    language: r.language,
    n: r.tasks.length,
    match: per((m) => count(m, 'match')),
    shown: per((m) => r.runs[m].filter((x) => x.outcome === 'ok' && (x.completions[0] ?? '').trim() !== '').length),
    newErrors: per((m) => count(m, 'newError')),
    newTypeErrors: per((m) => count(m, 'newTypeError')),
    newMemberErrors: per((m) => count(m, 'newMemberError')),
    wallMs: per((m) => spread(r.runs[m].map((x) => x.wallMs))),
    addedMs: spread(paired.map(([off, on]) => on - off)),
    ratio: spread(paired.map(([off, on]) => on / off)),
    addedSameMs: spread(r.tasks.flatMap((_, i) => {
      const off = r.runs.off[i];
      const on = r.runs.on[i];
      const same = off?.outcome === 'ok' && on?.outcome === 'ok' && off.completions[0] === on.completions[0];
      return same ? [on.wallMs - off.wallMs] : [];
    })),
    nLate: r.runs.on.filter((x) => x.late).length,
    typeChecks: Object.fromEntries(['clean', 'errors', 'unchecked'].map((k) => [k, r.runs.on.filter((x) => x.typeCheck === k).length])),
    nRetried: r.runs.on.filter((x) => (x.typeRetries ?? 0) > 0).length,
    nRetries: r.runs.on.reduce((n, x) => n + (x.typeRetries ?? 0), 0),
    nLost: r.outcomes.filter((o) => o.off?.match === true && o.on?.match === false).length,
    nGained: r.outcomes.filter((o) => o.off?.match === false && o.on?.match === true).length,
  };
}

function markdown(summaries: readonly Summary[], command: string, machine: string, load: string): string {
  const rows = summaries.flatMap((s) => (['off', 'on'] as const).map((m) => [
    s.language, String(s.n), m, pct(s.shown[m], s.n), pct(s.match[m], s.n), pct(s.newTypeErrors[m], s.n), pct(s.newMemberErrors[m], s.n), pct(s.newErrors[m], s.n), fmtSpread(s.wallMs[m], 0),
    m === 'on' ? `${fmtSpread(s.addedMs, 0)} (×${fmt(s.ratio.median, 2)})` : '',
  ]));
  return [
    `\`${command}\` — ${machine}, load average ${load} (other jobs on the machine inflate latency)`,
    '',
    table(['language', 'tasks', 'monitor', 'shown', 'next-identifier match', 'new type errors', 'of which no such member', 'new errors incl. syntax', 'ms per completion, median (p10–p90)', 'added by the monitor, ms (on/off)'], rows),
  ].join('\n');
}

type PerTask = Pick<DerefTask, 'id' | 'language' | 'path' | 'target' | 'line' | 'nLegal'> & Record<Mode, Omit<Run, 'id' | 'completions' | 'timings'> & Partial<Outcome> & { first: string; completion: string }>;

interface Report {
  command: string;
  machine: string;
  load: string;
  budgetMs: number;
  constraints: ConstraintsMode;
  summaries: Summary[];
  tasks: PerTask[];
}

function report(results: readonly LanguageResult[], meta: Omit<Report, 'summaries' | 'tasks'>): Report {
  const tasks = results.flatMap((r) => r.tasks.map((t, i): PerTask => {
    const mode = (m: Mode): PerTask[Mode] => {
      const run = r.runs[m][i] as Run;
      return {
        first: firstLine(run.completions[0] ?? ''), completion: (run.completions[0] ?? '').slice(0, 160), ...r.outcomes[i]?.[m],
        wallMs: run.wallMs, tokens: run.tokens, late: run.late, outcome: run.outcome,
        ...(run.typeCheck !== undefined ? { typeCheck: run.typeCheck } : {}),
        ...(run.typeRetries !== undefined ? { typeRetries: run.typeRetries } : {}),
      };
    };
    return { id: t.id, language: t.language, path: t.path, target: t.target, line: t.line, nLegal: t.nLegal, off: mode('off'), on: mode('on') };
  }));
  return { ...meta, summaries: results.map(summarize), tasks };
}

/** Scores a results file again (the scorer changed): its first lines are all the scorer reads. */
function rescore(file: string, log: (l: string) => void): Report {
  const old = JSON.parse(fs.readFileSync(file, 'utf8')) as Report;
  const results: LanguageResult[] = [];
  for (const kind of ['ts', 'py'] as const) {
    const rows = old.tasks.filter((t) => t.language === projects[kind].language);
    if (rows.length === 0) continue;
    const byId = new Map(readJsonl<DerefTask>(path.join(tasksDir, `dereference-${kind}.jsonl`)).map((t) => [t.id, t]));
    const tasks = rows.map((r) => byId.get(r.id)).filter((t): t is DerefTask => t !== undefined);
    const runs = (m: Mode): Run[] => rows.map((r) => ({ id: r.id, completions: [r[m].first], wallMs: r[m].wallMs, tokens: r[m].tokens, late: r[m].late, outcome: r[m].outcome }));
    log(`${kind}: scoring ${tasks.length} tasks again`);
    const both = { off: runs('off'), on: runs('on') };
    results.push({ language: projects[kind].language, tasks, runs: both, outcomes: judge(tasks, both) });
  }
  return report(results, { command: old.command, machine: old.machine, load: old.load, budgetMs: old.budgetMs, constraints: old.constraints });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
  };
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  const rescoreFile = opt('--rescore', '');
  let out: string;
  let r: Report;
  if (rescoreFile !== '') {
    r = rescore(rescoreFile, log);
    out = rescoreFile;
    fs.writeFileSync(out, `${JSON.stringify(r, null, 2)}\n`);
  } else {
    const lang = opt('--lang', 'all');
    const limit = Number(opt('--limit', 'Infinity'));
    const budgetMs = Number(opt('--budget-ms', '250'));
    const constraints = opt('--constraints', 'all');
    if (constraints !== 'off' && constraints !== 'syntax' && constraints !== 'all') throw new Error(`--constraints takes off|syntax|all, got ${constraints}`);
    const canonical = opt('--canonical', 'on');
    if (canonical !== 'on' && canonical !== 'off') throw new Error(`--canonical takes on|off, got ${canonical}`);
    const results: LanguageResult[] = [];
    const load0 = os.loadavg()[0] ?? NaN;
    for (const kind of ['ts', 'py'] as const) {
      if (lang !== 'all' && lang !== kind) continue;
      const lr = await runLanguage(kind, limit, budgetMs, constraints, canonical === 'on', log);
      if (lr !== undefined) results.push(lr);
    }
    const command = `node --import tsx bench/monitor/run.ts${args.length > 0 ? ` ${args.join(' ')}` : ''}`;
    r = report(results, { command, machine: machineLine(), load: `${fmt(load0)} → ${fmt(os.loadavg()[0] ?? NaN)}`, budgetMs, constraints });
    // Runs over every task keep their results (by language and settings); --limit runs are scratch.
    const variant = `${lang === 'all' ? '' : `-${lang}`}${constraints === 'all' ? '' : `-constraints-${constraints}`}${budgetMs === 250 ? '' : `-budget-${budgetMs}`}${canonical === 'on' ? '' : '-canonical-off'}`;
    out = writeJson(Number.isFinite(limit) ? 'monitor-dereference.tmp' : `monitor-dereference${variant}`, r);
  }
  const body = markdown(r.summaries, r.command, r.machine, r.load);
  process.stdout.write(`${body}\n`);
  for (const s of r.summaries) {
    process.stdout.write(`${s.language}: monitor answers late in ${s.nLate}/${s.n}; match lost by the monitor in ${s.nLost}, gained in ${s.nGained}; added ms where both wrote the same text ${fmtSpread(s.addedSameMs, 0)} (n=${s.addedSameMs.n})\n`);
    if (s.typeChecks !== undefined) process.stdout.write(`${s.language}: type check (monitor on) ${Object.entries(s.typeChecks).map(([k, n]) => `${k} ${n}`).join(', ')}; decoded again in ${s.nRetried} (${s.nRetries} extra decodes)\n`);
  }
  log(`per-task results → ${path.relative(root, out)}`);
  // The default run's table lives inside the monitor section of BENCHMARKS.md, between its own markers.
  if (path.basename(out) === 'monitor-dereference.json' && fs.readFileSync(path.join(root, 'BENCHMARKS.md'), 'utf8').includes('<!-- bench:monitor-dereference -->')) updateBenchmarksMd('monitor-dereference', body);
}

main().catch((e: unknown) => {
  process.stderr.write(`monitor bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
