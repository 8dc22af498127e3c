// Shared by the constraint benchmarks: which files to measure on and small statistics helpers.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const byExt: Record<string, string> = {
  ts: 'typescript', mjs: 'javascript', js: 'javascript', py: 'python', go: 'go', rs: 'rust', java: 'java', c: 'c', cs: 'csharp', json: 'json',
};

/** Real files: this repository's own TypeScript and Python plus the constraint sample files. */
export function benchFiles(): { path: string; languageId: string }[] {
  const out: { path: string; languageId: string }[] = [];
  const add = (dir: string, recurse: boolean): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) {
        if (recurse && e.name !== 'node_modules' && e.name !== 'work') add(rel, true);
        continue;
      }
      const languageId = byExt[e.name.split('.').pop() ?? ''];
      if (languageId !== undefined && !e.name.endsWith('.d.ts')) out.push({ path: join(root, rel), languageId });
    }
  };
  add('server', true);
  add('src', true);
  add('tools/model', false);
  add('test/fixtures/constraints/samples', false);
  return out;
}

/** The value after `--name` on the command line, if any. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** Deterministic cut points (an LCG), so every run measures the same completions. */
export function cutPoints(text: string, n: number, seed0 = 12345): number[] {
  const out: number[] = [];
  let seed = seed0;
  for (let i = 0; i < n && text.length > 0; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    out.push(seed % text.length);
  }
  return out;
}

/** p-th percentile (nearest rank), rounded to 3 decimals. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Number((sorted[i] as number).toFixed(3));
}
