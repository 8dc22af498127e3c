// Shared helpers for the runtime tests: temp copies of model directories and logits comparison.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CausalLM, Logits } from '../../server/engine/model';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'models');

/** Copies a model directory to a fresh temp dir; the caller removes it with removeDir. */
export function copyModelDir(src: string): string {
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-model-'));
  fs.cpSync(src, dst, { recursive: true });
  return dst;
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return d;
}

/** Logits of every token run one at a time from an empty cache: the reference for batched runs. */
export async function stepwise(lm: CausalLM, ids: readonly number[]): Promise<Float32Array> {
  lm.truncate(0);
  const rows: Float32Array[] = [];
  for (const id of ids) rows.push((await lm.forward([id])).data.slice());
  const out = new Float32Array(rows.length * lm.vocabSize);
  rows.forEach((r, i) => out.set(r, i * lm.vocabSize));
  return out;
}

/** Last row of the logits of a cold run (empty cache) over ids. */
export async function coldLast(lm: CausalLM, ids: readonly number[]): Promise<Float32Array> {
  lm.truncate(0);
  const logits: Logits = await lm.forward(ids);
  return logits.data.slice((logits.nRows - 1) * logits.vocabSize);
}

export const noLog = (): void => undefined;
