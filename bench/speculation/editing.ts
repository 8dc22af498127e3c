// Builds the editing workload of the speculation benchmark, bench/tasks/editing.jsonl, from real
// source files the default model was never trained on (models/specter-tiny/MODEL_CARD.md lists
// the training corpus: these npm packages and Python distributions are not in it, and the Python
// standard library's test/ folder was excluded from it). Deterministic: same files, same tasks.
//
//   node --import tsx bench/speculation/editing.ts [--per-kind 16]
//
// Three kinds of task, the cursor always at the start of a block body (after the auto-indent):
//  - rename:        a function or method, then a near-copy of it being written right below it with
//                   the function and its most used parameter renamed (`x` → `xAlt` / `x_alt`,
//                   attributes like `.x` untouched); target = the renamed body.
//  - next-test:     a real test case followed by the real next one, whose body is ≥ 50% similar
//                   (edit similarity) to the first; prompt = the file up to the second's header.
//  - open-document: as `rename`, but the original lives only in another open document (the
//                   region of its file around it, ≤ 20,000 characters); the prompt is the head of a
//                   sibling file, the enclosing class header and the renamed header.
// Bodies have 2–8 lines and 60–600 characters (the completion service stops at 8 lines).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { root } from '../report';
import { editSimilarity, jsBlocks, pyBlocks, type Block, type Language } from './blocks';

const nm = path.join(root, 'node_modules');
const dist = '/usr/lib/python3/dist-packages';

/** Sources for `rename` and `open-document`, languages interleaved. */
const sourceFiles = [
  `${nm}/vscode-jsonrpc/lib/common/connection.js`,
  `${dist}/bs4/element.py`,
  `${nm}/ajv/lib/core.ts`,
  `${dist}/click/core.py`,
  `${nm}/qs/lib/utils.js`,
  `${dist}/psutil/_common.py`,
  `${nm}/ajv/lib/compile/index.ts`,
  `${dist}/bs4/builder/__init__.py`,
  `${nm}/vscode-jsonrpc/lib/common/messageReader.js`,
  `${dist}/click/types.py`,
  `${nm}/ajv/lib/compile/util.ts`,
  `${dist}/click/utils.py`,
  `${nm}/vscode-jsonrpc/lib/common/linkedMap.js`,
  `${dist}/bs4/dammit.py`,
  `${nm}/qs/lib/stringify.js`,
  `${nm}/vscode-jsonrpc/lib/common/messageWriter.js`,
];

/** Test files for `next-test`. */
const testFiles = [
  `${nm}/qs/test/parse.js`,
  `${dist}/bs4/tests/test_tree.py`,
  `${nm}/qs/test/stringify.js`,
  '/usr/lib/python3.11/test/test_support.py',
  `${nm}/qs/test/utils.js`,
  `${dist}/bs4/tests/test_pageelement.py`,
  `${nm}/json-schema-traverse/spec/index.spec.js`,
  `${dist}/psutil/tests/test_misc.py`,
  `${dist}/bs4/tests/test_formatter.py`,
];

export interface OpenDocument {
  uri: string;
  languageId: string;
  text: string;
}

export interface EditingTask {
  id: string;
  kind: 'rename' | 'next-test' | 'open-document';
  language: Language;
  path: string;
  /** file:line of the block the near-copy is made from (the second test for next-test). */
  source: string;
  prefix: string;
  suffix: string;
  target: string;
  /** Edit similarity of the target to the body it resembles. */
  similarity: number;
  openDocuments?: OpenDocument[];
}

interface SourceFile {
  rel: string;
  language: Language;
  text: string;
  lines: string[];
  blocks: Block[];
}

function relName(file: string): string {
  return file.startsWith(nm) ? path.relative(root, file) : file.startsWith(dist) ? `dist-packages/${path.relative(dist, file)}` : file.replace(/^\/usr\/lib\//, '');
}

function readSource(file: string): SourceFile | undefined {
  if (!fs.existsSync(file)) {
    process.stderr.write(`editing: skipping missing ${file}\n`);
    return undefined;
  }
  const text = fs.readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  const language: Language = file.endsWith('.py') ? 'python' : file.endsWith('.ts') ? 'typescript' : 'javascript';
  return { rel: relName(file), language, text, lines, blocks: language === 'python' ? pyBlocks(lines) : jsBlocks(lines) };
}

function bodyOf(f: SourceFile, b: Block): string {
  return f.lines.slice(b.header + 1, b.end).join('\n').replace(/\s+$/, '');
}

function eligible(f: SourceFile, b: Block): boolean {
  const body = bodyOf(f, b);
  const lines = body.split('\n');
  return lines.length >= 2 && lines.length <= 8 && body.length >= 60 && body.length <= 600 && lines.every((l) => l.length <= 160) && b.bodyIndent.length > b.indent.length;
}

/** The last `n` characters of `text`, from a line start. */
function tail(text: string, n: number): string {
  if (text.length <= n) return text;
  const at = text.indexOf('\n', text.length - n);
  return at < 0 ? text.slice(-n) : text.slice(at + 1);
}

/** The first `n` characters of `text`, to a line end. */
function head(text: string, n: number): string {
  if (text.length <= n) return text;
  const at = text.lastIndexOf('\n', n);
  return at < 0 ? text.slice(0, n) : text.slice(0, at);
}

/** The first paragraphs of `text` (up to a blank line) within `n` characters; else `head`. */
function paragraphs(text: string, n: number): string {
  const at = text.lastIndexOf('\n\n', n);
  return at > 0 ? text.slice(0, at) : head(text, n);
}

const word = (id: string): RegExp => new RegExp(`(?<![\\w$.])${id.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');

interface Renamed {
  header: string;
  body: string;
}

/** Renames the function (unless a test) and its most used parameter; undefined if the body would not change. */
function renameBlock(f: SourceFile, b: Block): Renamed | undefined {
  const body = bodyOf(f, b);
  const alt = (id: string): string => (f.language === 'python' ? `${id}_alt` : `${id}Alt`);
  const params = b.params.filter((p) => !['self', 'cls', 'this', '_'].includes(p) && p.length >= 2);
  let best: string | undefined;
  let nBest = 0;
  for (const p of params) {
    const n = body.match(word(p))?.length ?? 0;
    if (n > nBest) [best, nBest] = [p, n];
  }
  if (best === undefined) return undefined;
  const renameName = /^[A-Za-z_$][\w$]{2,}$/.test(b.name) && !/^__\w+__$/.test(b.name) && b.name !== best;
  const ids = [best, ...(renameName ? [b.name] : [])];
  let header = f.lines[b.header] ?? '';
  let renamed = body;
  for (const id of ids) {
    header = header.replace(word(id), alt(id));
    renamed = renamed.replace(word(id), alt(id));
  }
  return { header, body: renamed };
}

/** A deterministic, position-independent order: FNV-1a of a key. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Up to `n` candidates, round-robin over files, each file's candidates in hash order. */
function pick<T>(byFile: readonly T[][], n: number, key: (x: T) => string): T[] {
  const queues = byFile.map((list) => [...list].sort((a, b) => hashKey(key(a)) - hashKey(key(b))));
  const out: T[] = [];
  for (let round = 0; out.length < n && queues.some((q) => q.length > round); round++) {
    for (const q of queues) {
      const x = q[round];
      if (x !== undefined && out.length < n) out.push(x);
    }
  }
  return out;
}

const closingOf = (f: SourceFile, b: Block): string => (f.language === 'python' ? '' : `\n${b.close ?? '}'}`);
const afterOf = (f: SourceFile, b: Block): number => (f.language === 'python' ? b.end : b.end + 1);

function renameTask(f: SourceFile, b: Block, r: Renamed): Omit<EditingTask, 'id'> {
  const before = f.lines.slice(0, afterOf(f, b)).join('\n');
  const target = r.body.slice(b.bodyIndent.length);
  return {
    kind: 'rename',
    language: f.language,
    path: f.rel,
    source: `${f.rel}:${b.header + 1}`,
    prefix: tail(`${before}\n\n${r.header}\n${b.bodyIndent}`, 4000),
    suffix: head(`${closingOf(f, b)}\n${f.lines.slice(afterOf(f, b)).join('\n')}`, 1500),
    target,
    similarity: editSimilarity(bodyOf(f, b), r.body),
  };
}

function nextTestTask(f: SourceFile, first: Block, second: Block, similarity: number): Omit<EditingTask, 'id'> {
  return {
    kind: 'next-test',
    language: f.language,
    path: f.rel,
    source: `${f.rel}:${second.header + 1}`,
    prefix: tail(`${f.lines.slice(0, second.header + 1).join('\n')}\n${second.bodyIndent}`, 4000),
    suffix: head(`${closingOf(f, second)}\n${f.lines.slice(afterOf(f, second)).join('\n')}`, 1500),
    target: bodyOf(f, second).slice(second.bodyIndent.length),
    similarity,
  };
}

function openDocumentTask(f: SourceFile, b: Block, r: Renamed, sibling: SourceFile): Omit<EditingTask, 'id'> {
  // The enclosing class (or object) header, when the block is a method.
  let enclosing: string | undefined;
  for (let i = b.header - 1; i >= 0 && b.indent.length > 0; i--) {
    const l = f.lines[i] ?? '';
    if (l.trim() !== '' && /^\s*/.exec(l)![0].length < b.indent.length) {
      enclosing = l;
      break;
    }
  }
  const start = f.text.lastIndexOf('\n', Math.max(0, f.lines.slice(0, b.header).join('\n').length - 12000)) + 1;
  const region = head(f.text.slice(start), 20000);
  const closeEnclosing = enclosing !== undefined && f.language !== 'python' ? `\n${/^\s*/.exec(enclosing)![0]}}` : '';
  return {
    kind: 'open-document',
    language: f.language,
    path: sibling.rel,
    source: `${f.rel}:${b.header + 1}`,
    prefix: `${paragraphs(sibling.text, 1200)}\n\n${enclosing !== undefined ? `${enclosing}\n` : ''}${r.header}\n${b.bodyIndent}`,
    suffix: `${closingOf(f, b)}${closeEnclosing}\n`,
    target: r.body.slice(b.bodyIndent.length),
    similarity: editSimilarity(bodyOf(f, b), r.body),
    openDocuments: [{ uri: `file:///bench-editing/${f.rel}`, languageId: f.language, text: region }],
  };
}

export function buildEditingTasks(perKind: number): EditingTask[] {
  const sources = sourceFiles.map(readSource).filter((f): f is SourceFile => f !== undefined);
  const tests = testFiles.map(readSource).filter((f): f is SourceFile => f !== undefined);

  const renamable = sources.map((f) =>
    f.blocks.filter((b) => !b.isTest && eligible(f, b)).flatMap((b) => {
      const r = renameBlock(f, b);
      return r === undefined ? [] : [{ f, b, r }];
    }),
  );
  const keyOf = (x: { f: SourceFile; b: Block }): string => `${x.f.rel}:${x.b.header}`;
  const renames = pick(renamable, perKind, keyOf);
  const used = new Set(renames.map(keyOf));
  const opens = pick(renamable.map((list) => list.filter((x) => !used.has(keyOf(x)))), perKind, (x) => `open:${keyOf(x)}`);

  const pairs = tests.map((f) => {
    const ts = f.blocks.filter((b) => b.isTest && eligible(f, b));
    const out: { f: SourceFile; first: Block; second: Block; similarity: number }[] = [];
    for (let i = 1; i < ts.length; i++) {
      const [first, second] = [ts[i - 1]!, ts[i]!];
      if (first.indent !== second.indent || second.header <= first.end) continue;
      const similarity = editSimilarity(bodyOf(f, first), bodyOf(f, second));
      if (similarity >= 0.5) out.push({ f, first, second, similarity });
    }
    return out;
  });
  const nextTests = pick(pairs, perKind, (x) => `${x.f.rel}:${x.second.header}`);

  const siblingOf = (f: SourceFile): SourceFile => {
    const same = sources.filter((s) => s.language === f.language);
    return same[(same.indexOf(f) + 1) % same.length] ?? f;
  };
  const tasks: EditingTask[] = [];
  renames.forEach((x, i) => tasks.push({ id: `edit-rename-${String(i).padStart(2, '0')}`, ...renameTask(x.f, x.b, x.r) }));
  nextTests.forEach((x, i) => tasks.push({ id: `edit-next-test-${String(i).padStart(2, '0')}`, ...nextTestTask(x.f, x.first, x.second, x.similarity) }));
  opens.forEach((x, i) => tasks.push({ id: `edit-open-doc-${String(i).padStart(2, '0')}`, ...openDocumentTask(x.f, x.b, x.r, siblingOf(x.f)) }));
  return tasks;
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf('--per-kind');
  const perKind = at >= 0 ? Number(args[at + 1]) : 16;
  const tasks = buildEditingTasks(perKind);
  const out = path.join(root, 'bench', 'tasks', 'editing.jsonl');
  fs.writeFileSync(out, tasks.map((t) => JSON.stringify(t)).join('\n') + '\n');
  const count = (k: string): number => tasks.filter((t) => t.kind === k).length;
  process.stdout.write(`editing: ${tasks.length} tasks (rename ${count('rename')}, next-test ${count('next-test')}, open-document ${count('open-document')}) → ${path.relative(root, out)}\n`);
}

if (require.main === module) main();
