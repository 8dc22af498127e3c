// Dereference benchmark, step 1: DotPrompts-style tasks (MGD, "Guiding Language Models of Code
// with Global Context using Monitors") from real projects the default model was not trained on.
// Each task is a file cut right after `expr.` inside a function: prefix = the file up to the dot,
// suffix = the file from the cursor line's break on (the model rewrites the rest of the line, as in
// tools/model/make_tasks.py; the editor sends the line break after the cursor), target = the
// identifier that was there. Only dereferences whose identifier static analysis itself offers are
// kept (the monitor can help only there; MGD filtered the same way).
//
//   bash bench/monitor/setup.sh
//   node --import tsx bench/monitor/build-tasks.ts [--lang ts|py|all] [--n 200] [--per-file N]
//
// writes bench/monitor/tasks/dereference-{ts,py}.jsonl in the `specter eval --tasks` format plus
// the fields the scorer needs (path, root, target, line, nLegal).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { bundledPyright, LspSource } from '../../server/monitor/lsp-source';
import { initialLexState, languageSyntax, lexBytes } from '../../server/monitor/lexer';
import { positionAt, type MonitorQuery, type MonitorSource } from '../../server/monitor/source';
import { TsServiceSource } from '../../server/monitor/ts-service';
import { root } from '../report';

export const benchWork = path.join(root, '.cache', 'monitor-bench');
export const tasksDir = path.join(root, 'bench', 'monitor', 'tasks');
export const projects = {
  // rxjs has ~250 source files: a few dereferences from each; click has 17 larger ones.
  ts: { language: 'typescript', root: path.join(benchWork, 'ts', 'node_modules', 'rxjs'), dir: 'src/internal', ext: '.ts', perFile: 3 },
  py: { language: 'python', root: path.join(benchWork, 'py'), dir: 'click', ext: '.py', perFile: 15 },
} as const;

export interface DerefTask {
  id: string;
  language: string;
  /** The file, relative to the project root (`specter eval --root ROOT` resolves it there). */
  path: string;
  /** Project root relative to the repository: the monitor's rootDir, where tsc / pyright run. */
  root: string;
  prefix: string;
  suffix: string;
  /** The identifier after the dot in the real file. */
  target: string;
  /** The rest of the real line from the identifier on. */
  line: string;
  /** Members static analysis offered at the dot. */
  nLegal: number;
}

/** Absolute project root and file of a task. */
export function taskRoot(t: Pick<DerefTask, 'root'>): string {
  return path.resolve(root, t.root);
}
export function taskFile(t: Pick<DerefTask, 'root' | 'path'>): string {
  return path.resolve(taskRoot(t), t.path);
}

interface Candidate {
  /** UTF-16 offset where the identifier starts (just after the dot). */
  at: number;
  name: string;
}

function hash(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}

function listFiles(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(f, ext));
    else if (e.name.endsWith(ext) && !e.name.endsWith('.d.ts') && !/\.(spec|test)\./.test(e.name)) out.push(f);
  }
  return out;
}

/** Property accesses `expr.name` in function bodies, with the name right after the dot. */
function tsCandidates(file: string, text: string): Candidate[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Candidate[] = [];
  const visit = (node: ts.Node, inFunction: boolean): void => {
    const parent = node.parent as ts.Node | undefined;
    const inside = inFunction || (parent !== undefined && ts.isFunctionLike(parent) && (parent as ts.FunctionLikeDeclaration).body === node);
    if (inside && ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.name)) {
      const at = node.name.getStart(sf);
      if (text[at - 1] === '.') out.push({ at, name: node.name.text });
    }
    ts.forEachChild(node, (child) => visit(child, inside));
  };
  visit(sf, false);
  return out;
}

function pyCandidates(file: string, text: string): Candidate[] {
  const json = execFileSync('/usr/bin/python3', [path.join(__dirname, 'py_attrs.py'), file], { encoding: 'utf8' });
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (JSON.parse(json) as { line: number; col: number; name: string }[]).map((c) => ({ at: (starts[c.line] ?? 0) + c.col, name: c.name }));
}

/** The monitor's own lexer must see a trigger at the end of the prefix. */
function endsInTrigger(prefix: string, language: string): boolean {
  const bytes = new TextEncoder().encode(prefix);
  const triggers = lexBytes(initialLexState(), bytes, languageSyntax(language));
  return triggers[triggers.length - 1] === bytes.length;
}

function taskAt(file: string, rootDir: string, language: string, text: string, c: Candidate): Omit<DerefTask, 'nLegal'> {
  const lineEnd = text.indexOf('\n', c.at);
  const next = lineEnd < 0 ? text.length : lineEnd;
  return {
    id: `${language === 'python' ? 'py' : 'ts'}-${hash(`${path.relative(rootDir, file)}:${c.at}`).slice(0, 10)}`,
    language, path: path.relative(rootDir, file), root: path.relative(root, rootDir),
    prefix: text.slice(0, c.at), suffix: text.slice(next),
    target: c.name, line: text.slice(c.at, lineEnd < 0 ? text.length : lineEnd),
  };
}

async function legalAt(source: MonitorSource, t: Omit<DerefTask, 'nLegal'>): Promise<readonly string[] | undefined> {
  const text = t.prefix + t.suffix;
  const q: MonitorQuery = {
    languageId: t.language, uri: taskFile(t), rootDir: taskRoot(t), text, offset: t.prefix.length,
    position: positionAt(text, t.prefix.length), trigger: '.', signal: new AbortController().signal,
  };
  return source.querySync?.(q) ?? (await source.query(q));
}

export async function buildTasks(kind: 'ts' | 'py', n: number, perFile: number, log: (l: string) => void): Promise<DerefTask[]> {
  const p = projects[kind];
  const files = listFiles(path.join(p.root, p.dir), p.ext).sort((a, b) => hash(a).localeCompare(hash(b)));
  const pyright = bundledPyright();
  if (kind === 'py' && pyright === undefined) throw new Error('npm pyright is not installed');
  const source: MonitorSource = kind === 'ts'
    ? new TsServiceSource({ log, buildWhenCold: true })
    : new LspSource({ servers: { python: pyright ?? [] }, trusted: true, log });
  const tasks: DerefTask[] = [];
  try {
    for (const file of files) {
      if (tasks.length >= n) break;
      const text = fs.readFileSync(file, 'utf8');
      const cands = (kind === 'ts' ? tsCandidates(file, text) : pyCandidates(file, text))
        .sort((a, b) => hash(`${file}:${a.at}`).localeCompare(hash(`${file}:${b.at}`)));
      let nFile = 0;
      for (const c of cands) {
        if (nFile >= perFile || tasks.length >= n) break;
        const t = taskAt(file, p.root, p.language, text, c);
        if (!endsInTrigger(t.prefix, p.language)) continue;
        const legal = await legalAt(source, t);
        if (legal === undefined || !legal.includes(c.name)) continue;
        tasks.push({ ...t, nLegal: legal.length });
        nFile++;
      }
    }
  } finally {
    source.dispose?.();
  }
  return tasks;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
  };
  const lang = opt('--lang', 'all');
  const n = Number(opt('--n', '200'));
  const perFile = opt('--per-file', '');
  fs.mkdirSync(tasksDir, { recursive: true });
  for (const kind of ['ts', 'py'] as const) {
    if (lang !== 'all' && lang !== kind) continue;
    if (!fs.existsSync(projects[kind].root)) throw new Error(`${projects[kind].root} is missing — run bash bench/monitor/setup.sh`);
    const tasks = await buildTasks(kind, n, perFile === '' ? projects[kind].perFile : Number(perFile), (l) => process.stderr.write(`${l}\n`));
    const out = path.join(tasksDir, `dereference-${kind}.jsonl`);
    fs.writeFileSync(out, tasks.map((t) => JSON.stringify(t)).join('\n') + '\n');
    process.stderr.write(`${tasks.length} ${kind} tasks → ${path.relative(root, out)}\n`);
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`build-tasks: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
