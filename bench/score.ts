// Scores `npm run eval` results against task targets: exact match of the completed line (the
// completion up to its first newline, compared with the task's `target`, trailing whitespace
// ignored) and edit similarity (1 − Levenshtein / max length).
//   node --import tsx bench/score.ts --tasks bench/tasks/line-completion.jsonl --results out.jsonl
import * as fs from 'node:fs';

export interface ScoredTask { id: string; target: string }
export interface EvalLine { id: string; completions: string[] }

export function readJsonl<T>(file: string): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

export function firstLine(text: string): string {
  const i = text.indexOf('\n');
  return (i < 0 ? text : text.slice(0, i)).trimEnd();
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

export function editSimilarity(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 1 : 1 - levenshtein(a, b) / n;
}

export interface Score { n: number; exactMatch: number; editSimilarity: number; bestOfExactMatch: number; bestOfEditSimilarity: number }

/** Line tasks: compares first lines. `bestOf` takes the best of all completions per task. */
export function scoreLines(tasks: readonly ScoredTask[], results: readonly EvalLine[]): Score {
  const byId = new Map(results.map((r) => [r.id, r]));
  let em = 0, es = 0, bem = 0, bes = 0;
  for (const t of tasks) {
    const completions = byId.get(t.id)?.completions ?? [];
    const target = t.target.trimEnd();
    const lines = completions.length === 0 ? [''] : completions.map(firstLine);
    const first = lines[0] ?? '';
    em += first === target ? 1 : 0;
    es += editSimilarity(first, target);
    bem += lines.some((l) => l === target) ? 1 : 0;
    bes += Math.max(...lines.map((l) => editSimilarity(l, target)));
  }
  const n = tasks.length;
  return { n, exactMatch: em / n, editSimilarity: es / n, bestOfExactMatch: bem / n, bestOfEditSimilarity: bes / n };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name: string): string => {
    const i = args.indexOf(name);
    const v = i >= 0 ? args[i + 1] : undefined;
    if (v === undefined) throw new Error(`missing ${name}`);
    return v;
  };
  const score = scoreLines(readJsonl<ScoredTask>(arg('--tasks')), readJsonl<EvalLine>(arg('--results')));
  process.stdout.write(`${JSON.stringify(score)}\n`);
}
