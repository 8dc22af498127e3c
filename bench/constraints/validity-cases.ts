// The held-out cases of the syntax-validity benchmarks (validity.ts, validity-ceiling.ts): documents,
// and mid-line and block completions cut from them at deterministic points, each language in turn.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchFiles, cutPoints } from './common';

export interface Doc {
  path: string;
  languageId: string;
  text: string;
}

/**
 * `--docs dev`: the files of the development line tasks (bench/tasks/dev-line.jsonl: this
 * repository's own code, outside the training set and outside the held-out corpus), as they are
 * now; for choosing settings without looking at the held-out cases.
 */
export function devDocs(): Doc[] {
  const root = join(__dirname, '..', '..');
  const seen = new Map<string, string>();
  for (const line of readFileSync(join(root, 'bench', 'tasks', 'dev-line.jsonl'), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const t = JSON.parse(line) as { path: string; language: string };
    if (!seen.has(t.path) && existsSync(join(root, t.path))) seen.set(t.path, t.language);
  }
  return [...seen].map(([path, languageId]) => ({ path, languageId, text: readFileSync(join(root, path), 'utf8') }));
}

export function heldOutDocs(): Doc[] {
  const corpus = join(__dirname, '..', '..', 'tools', 'model', 'work', 'corpus', 'heldout.jsonl');
  if (existsSync(corpus)) {
    return readFileSync(corpus, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { path: string; lang: string; text: string })
      .map((d) => ({ path: d.path, languageId: d.lang, text: d.text }));
  }
  return benchFiles().map((f) => ({ path: f.path, languageId: f.languageId, text: readFileSync(f.path, 'utf8') }));
}

export interface Case {
  doc: Doc;
  kind: 'mid-line' | 'block';
  prefix: string;
  original: string;
  suffix: string;
}

/** Longer held-out documents are cut to their first this many characters. */
export const maxDocChars = 60_000;

/** Up to nPerKind mid-line and nPerKind block cases. */
export function makeCases(docs: Doc[], nPerKind: number): Case[] {
  const mid: Case[] = [];
  const block: Case[] = [];
  let seed = 1;
  for (const doc of docs) {
    const text = doc.text.length > maxDocChars ? doc.text.slice(0, maxDocChars) : doc.text;
    for (const at of cutPoints(text, 6, seed++)) {
      const lineStart = text.lastIndexOf('\n', at - 1) + 1;
      const lineEnd = text.indexOf('\n', at);
      if (lineEnd < 0) continue;
      const line = text.slice(lineStart, lineEnd);
      // Mid-line: cut inside the code of a line, complete the rest of the line.
      if (at > lineStart + line.search(/\S|$/) && at < lineEnd - 1) mid.push({ doc, kind: 'mid-line', prefix: text.slice(0, at), original: text.slice(at, lineEnd), suffix: text.slice(lineEnd) });
      // Block: the lines after a line that opens a block.
      const next = text.indexOf('\n', lineEnd + 1);
      if (/[{:(]\s*$/.test(line) && next > 0) {
        let end = next;
        for (let k = 0; k < 3; k++) {
          const n = text.indexOf('\n', end + 1);
          if (n < 0) break;
          end = n;
        }
        block.push({ doc, kind: 'block', prefix: text.slice(0, lineEnd + 1), original: text.slice(lineEnd + 1, end), suffix: text.slice(end) });
      }
    }
  }
  return [...roundRobin(mid, nPerKind), ...roundRobin(block, nPerKind)];
}

/** Up to n cases taken from each language in turn (the held-out corpus lists its Python first). */
function roundRobin(cases: Case[], n: number): Case[] {
  const byLanguage = new Map<string, Case[]>();
  for (const c of cases) {
    const list = byLanguage.get(c.doc.languageId) ?? [];
    list.push(c);
    byLanguage.set(c.doc.languageId, list);
  }
  const out: Case[] = [];
  for (let i = 0; out.length < n; i++) {
    const row = [...byLanguage.values()].map((list) => list[i]).filter((c): c is Case => c !== undefined);
    if (row.length === 0) break;
    out.push(...row.slice(0, n - out.length));
  }
  return out;
}

