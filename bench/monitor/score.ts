// Dereference benchmark, step 2: scores completions on the tasks of build-tasks.ts, with and
// without the monitor, side by side:
//  - next-identifier match: the completion's first identifier is the one the real file had;
//  - new errors: the file completed with the completion's first line has an error the real file
//    has not (TypeScript: syntactic + semantic diagnostics of the project's tsconfig, the checks of
//    `tsc --noEmit`, run in-process over an overlay; Python: `pyright --outputjson` over copies
//    placed beside the original so relative imports resolve). "type errors" counts semantic ones,
//    "no such member" the ones the monitor exists to prevent (TS 2339/2550/2551, pyright
//    reportAttributeAccessIssue saying the attribute is unknown — the same rule also reports
//    assignments of the wrong type to an existing attribute); a completion that breaks the syntax
//    often adds type errors too;
//  - latency per completion (timings.totalMs), and the monitor's added latency (paired per task).
//
// bench/monitor/run.ts runs the completions and calls this. On its own it checks itself (the real
// line must match with no new error) or scores results files written by run.ts:
//   node --import tsx bench/monitor/score.ts --tasks bench/monitor/tasks/dereference-ts.jsonl --self-check
//   node --import tsx bench/monitor/score.ts --tasks TASKS.jsonl --off OFF.jsonl --on ON.jsonl
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { fmt, fmtSpread, machineLine, root, spread, table } from '../report';
import { taskFile, taskRoot, type DerefTask } from './build-tasks';

export interface EvalResult {
  id: string;
  completions: string[];
  timings?: { totalMs: number };
}

/** Diagnostics of one file version as "code:message" keys; `semantic` marks type errors, `member` unknown members. */
interface Diag {
  key: string;
  semantic: boolean;
  member?: boolean;
}

/** TypeScript: "Property 'x' does not exist on type 'T'" (2339), "… Did you mean" (2551), "… change your target library?" (2550). */
const tsMemberCodes = new Set([2339, 2550, 2551]);

export interface ModeScore {
  n: number;
  nMatch: number;
  nNewErrors: number;
  nNewTypeErrors: number;
  nNewMemberErrors: number;
  totalMs: number[];
}

export function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

export function firstIdentifier(s: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(s)?.[0] ?? '';
}

export function completedText(t: DerefTask, completion: string): string {
  return `${t.prefix}${firstLine(completion)}${t.suffix}`;
}

/** Keys of `after` that `before` lacks (multiset difference), and whether any is semantic / an unknown member. */
export function newDiagnostics(before: readonly Diag[], after: readonly Diag[]): { any: boolean; semantic: boolean; member: boolean } {
  const left = new Map<string, number>();
  for (const d of before) left.set(d.key, (left.get(d.key) ?? 0) + 1);
  let any = false;
  let semantic = false;
  let member = false;
  for (const d of after) {
    const n = left.get(d.key) ?? 0;
    if (n > 0) left.set(d.key, n - 1);
    else {
      any = true;
      semantic ||= d.semantic;
      member ||= d.member === true;
    }
  }
  return { any, semantic, member };
}

/** TypeScript diagnostics of files of one project, each checked with an in-memory replacement text. */
class TsChecker {
  private readonly overlay = new Map<string, { text: string; version: number }>();
  private readonly service: ts.LanguageService;
  private readonly options: ts.CompilerOptions;
  private readonly rootNames: string[];

  constructor(projectRoot: string) {
    const configPath = ts.findConfigFile(projectRoot, (f) => ts.sys.fileExists(f));
    const parsed = configPath === undefined ? undefined : ts.getParsedCommandLineOfConfigFile(configPath, { noEmit: true }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    this.options = parsed?.options ?? {};
    this.rootNames = parsed?.fileNames ?? [];
    const host: ts.LanguageServiceHost = {
      getCompilationSettings: () => this.options,
      getScriptFileNames: () => [...new Set([...this.rootNames, ...this.overlay.keys()])],
      getScriptVersion: (f) => `${this.overlay.get(f)?.version ?? 0}`,
      getScriptSnapshot: (f) => {
        const text = this.overlay.get(f)?.text ?? ts.sys.readFile(f);
        return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
      },
      getCurrentDirectory: () => projectRoot,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: (f) => this.overlay.has(f) || ts.sys.fileExists(f),
      readFile: (f) => this.overlay.get(f)?.text ?? ts.sys.readFile(f),
      readDirectory: (...a) => ts.sys.readDirectory(...a),
      directoryExists: (d) => ts.sys.directoryExists(d),
      getDirectories: (d) => ts.sys.getDirectories(d),
    };
    this.service = ts.createLanguageService(host);
  }

  diagnostics(file: string, text: string): Diag[] {
    const f = file.replaceAll('\\', '/');
    const prev = this.overlay.get(f);
    this.overlay.set(f, { text, version: (prev?.version ?? 0) + 1 });
    const key = (d: ts.Diagnostic): string => `${d.code}:${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    return [
      ...this.service.getSyntacticDiagnostics(f).map((d) => ({ key: key(d), semantic: false })),
      ...this.service.getSemanticDiagnostics(f).filter((d) => d.category === ts.DiagnosticCategory.Error).map((d) => ({ key: key(d), semantic: true, member: tsMemberCodes.has(d.code) })),
    ];
  }
}

/** pyright over many file versions at once: each version is written beside its original. */
function pyrightDiagnostics(projectRoot: string, versions: readonly { file: string; text: string }[]): Diag[][] {
  const pyright = path.join(root, 'node_modules', 'pyright', 'index.js');
  const written = versions.map((v, i) => {
    // The process id keeps two scorers (two benchmark runs) from overwriting each other's copies.
    const f = path.join(path.dirname(v.file), `__specter_score_${process.pid}_${i}.py`);
    fs.writeFileSync(f, v.text);
    return f;
  });
  try {
    let out: string;
    try {
      out = execFileSync(process.execPath, [pyright, '--outputjson', ...written], { cwd: projectRoot, encoding: 'utf8', maxBuffer: 256 << 20 });
    } catch (e) {
      out = (e as { stdout?: string }).stdout ?? '{}'; // exit code 1 when there are errors
    }
    const report = JSON.parse(out) as { generalDiagnostics?: { file: string; severity: string; message: string; rule?: string }[] };
    const byFile = new Map<string, Diag[]>(written.map((f) => [f, []]));
    for (const d of report.generalDiagnostics ?? []) {
      if (d.severity !== 'error') continue;
      // Each copy is its own module: "click.__specter_score_PID_7.Foo" must compare equal across copies.
      const message = d.message.replace(/__specter_score_\d+_\d+/g, '__copy__');
      byFile.get(d.file)?.push({ key: `${d.rule ?? 'syntax'}:${message}`, semantic: d.rule !== undefined, member: d.rule === 'reportAttributeAccessIssue' && /Attribute "[^"]*" is unknown|is not a known attribute of module/.test(d.message) });
    }
    return written.map((f) => byFile.get(f) ?? []);
  } finally {
    for (const f of written) fs.rmSync(f, { force: true });
  }
}

export function readJsonl<T>(file: string): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

/** One completion judged against its task. */
export interface Outcome {
  match: boolean;
  newError: boolean;
  newTypeError: boolean;
  /** A new "no such member" error. */
  newMemberError: boolean;
}

/**
 * Judges result sets (by mode name) on the tasks: per task, per mode, the outcome (undefined when
 * that mode has no result for the task). All file versions of a language are checked in one go.
 */
export function judge(tasks: readonly DerefTask[], modes: Readonly<Record<string, readonly EvalResult[]>>): Record<string, Outcome | undefined>[] {
  const byMode = Object.entries(modes).map(([mode, results]) => [mode, new Map(results.map((r) => [r.id, r]))] as const);
  const language = tasks[0]?.language;
  const projectRoot = tasks[0] === undefined ? root : taskRoot(tasks[0]);
  // Versions to check: per task the real file, then one per mode.
  const versions: { file: string; text: string }[] = [];
  for (const t of tasks) {
    versions.push({ file: taskFile(t), text: completedText(t, t.line) });
    for (const [, results] of byMode) versions.push({ file: taskFile(t), text: completedText(t, results.get(t.id)?.completions[0] ?? '') });
  }
  let diags: Diag[][];
  if (language === 'python') diags = pyrightDiagnostics(projectRoot, versions);
  else {
    const checker = new TsChecker(projectRoot);
    diags = versions.map((v) => checker.diagnostics(v.file, v.text));
  }
  let k = 0;
  return tasks.map((t) => {
    const base = diags[k++] ?? [];
    const out: Record<string, Outcome | undefined> = {};
    for (const [mode, results] of byMode) {
      const r = results.get(t.id);
      const d = diags[k++] ?? [];
      if (r === undefined) continue;
      const fresh = newDiagnostics(base, d);
      out[mode] = { match: firstIdentifier(r.completions[0] ?? '') === t.target, newError: fresh.any, newTypeError: fresh.semantic, newMemberError: fresh.member };
    }
    return out;
  });
}

/** Scores result sets (by mode name) on the tasks. */
export function score(tasks: readonly DerefTask[], modes: Readonly<Record<string, readonly EvalResult[]>>): Record<string, ModeScore> {
  const outcomes = judge(tasks, modes);
  const out: Record<string, ModeScore> = {};
  for (const [mode, results] of Object.entries(modes)) {
    const s: ModeScore = { n: 0, nMatch: 0, nNewErrors: 0, nNewTypeErrors: 0, nNewMemberErrors: 0, totalMs: [] };
    const byId = new Map(results.map((r) => [r.id, r]));
    tasks.forEach((t, i) => {
      const o = outcomes[i]?.[mode];
      if (o === undefined) return;
      s.n++;
      if (o.match) s.nMatch++;
      if (o.newError) s.nNewErrors++;
      if (o.newTypeError) s.nNewTypeErrors++;
      if (o.newMemberError) s.nNewMemberErrors++;
      const ms = byId.get(t.id)?.timings?.totalMs;
      if (ms !== undefined) s.totalMs.push(ms);
    });
    out[mode] = s;
  }
  return out;
}

/**
 * The scorer on itself: the real line must match with no new error; a made-up member must match
 * nothing and (nearly always) add a type error.
 */
function selfCheck(tasks: readonly DerefTask[]): void {
  const gold = tasks.map((t) => ({ id: t.id, completions: [t.line] }));
  const wrong = tasks.map((t) => ({ id: t.id, completions: [`specterNoSuchMember${t.line.slice(t.target.length)}`] }));
  const s = score(tasks, { gold, wrong });
  for (const [mode, m] of Object.entries(s)) {
    process.stdout.write(`${mode}: ${m.n} tasks, match ${pct(m.nMatch, m.n)}, new errors ${pct(m.nNewErrors, m.n)}, new type errors ${pct(m.nNewTypeErrors, m.n)}, no such member ${pct(m.nNewMemberErrors, m.n)}\n`);
  }
}

export function pct(n: number, d: number): string {
  return d === 0 ? '–' : `${fmt((100 * n) / d)}%`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const tasksFile = opt('--tasks');
  if (tasksFile !== undefined && args.includes('--self-check')) {
    selfCheck(readJsonl<DerefTask>(tasksFile));
    return;
  }
  const off = opt('--off');
  const on = opt('--on');
  if (tasksFile === undefined || off === undefined || on === undefined) {
    process.stderr.write('usage: score.ts --tasks TASKS.jsonl (--off RESULTS.jsonl --on RESULTS.jsonl | --self-check)\n');
    process.exit(2);
  }
  const tasks = readJsonl<DerefTask>(tasksFile);
  const modes = { off: readJsonl<EvalResult>(off), on: readJsonl<EvalResult>(on) };
  const scores = score(tasks, modes);
  const onById = new Map(modes.on.map((r) => [r.id, r.timings?.totalMs]));
  const added = modes.off.flatMap((r) => {
    const a = onById.get(r.id);
    return a === undefined || r.timings === undefined ? [] : [a - r.timings.totalMs];
  });
  const language = tasks[0]?.language ?? '?';
  const rows = Object.entries(scores).map(([mode, s]) => [
    language, String(s.n), mode, pct(s.nMatch, s.n), pct(s.nNewErrors, s.n), pct(s.nNewTypeErrors, s.n), fmtSpread(spread(s.totalMs)),
    mode === 'on' ? fmtSpread(spread(added)) : '',
  ]);
  const body = [
    `Dereference benchmark (${language}, ${tasks.length} tasks from ${path.relative(root, tasksFile)}), ${machineLine()}`,
    '',
    table(['language', 'tasks', 'monitor', 'next-identifier match', 'new errors', 'new type errors', 'latency ms median (p10–p90)', 'added ms'], rows),
    '',
    `\`node --import tsx bench/monitor/score.ts --tasks ${path.relative(root, tasksFile)} --off ${off} --on ${on}\``,
  ].join('\n');
  process.stdout.write(`${body}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`score: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
