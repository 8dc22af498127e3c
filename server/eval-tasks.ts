// The task files of `specter eval` (JSONL, one task per line) and the result lines it writes.
import type { CompletionResult } from './completion-service';
import type { CompletionStats } from './protocol';

/** A task file's line that is not a task: the message names the file and the line. */
export class TaskFileError extends Error {}

export interface Task {
  id: string;
  language?: string;
  path?: string;
  prefix: string;
  suffix?: string;
  /** The file goes on after `suffix` (tools/model/make_tasks.py cuts it at 1,000 characters). */
  suffix_cut?: boolean;
}

export function resultLine(id: string, result: CompletionResult): Record<string, unknown> {
  if (result.kind !== 'ok') {
    const checks = result.kind === 'empty' && result.stats !== undefined ? checkFields(result.stats) : {};
    return { id, completions: [], tokens: 0, timings: { totalMs: 0, prefillMs: 0, decodeMs: 0 }, stats: { outcome: result.kind, reason: result.kind === 'empty' ? result.reason : 'cancelled', ...checks } };
  }
  const s = result.stats;
  return {
    id,
    completions: result.texts,
    tokens: s.generatedTokens,
    timings: { totalMs: s.totalMs, prefillMs: s.prefillMs, decodeMs: s.decodeMs },
    stats: {
      promptTokens: s.promptTokens,
      reusedTokens: s.reusedTokens,
      nForward: s.nForward,
      tokensPerSecond: s.tokensPerSecond,
      stopReason: s.stopReason,
      ...(s.speculation !== undefined ? { speculation: s.speculation } : {}),
      ...checkFields(s),
    },
  };
}

/**
 * What the checks did, for ok and empty results alike: two runs that differ on a task usually
 * differ here (a type check that answered in time in one run and not in the other, a sampled
 * parse retry, parse retries that stopped at specter.constraints.parseRetryBudgetMs in one run only).
 */
function checkFields(s: CompletionStats): Record<string, unknown> {
  return {
    ...(s.typeCheck !== undefined ? { typeCheck: s.typeCheck } : {}),
    ...(s.typeRetries !== undefined ? { typeRetries: s.typeRetries } : {}),
    ...(s.parseRetries !== undefined ? { parseRetries: s.parseRetries } : {}),
    ...(s.parseRetryBudgetSpent === true ? { parseRetryBudgetSpent: true } : {}),
    ...(s.finishTokens !== undefined ? { finishTokens: s.finishTokens } : {}),
  };
}

/** A task from line `n` of the tasks file, or a CliError that says what is wrong with it. */
export function parseTask(file: string, n: number, line: string): Task {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new TaskFileError(`${file}:${n}: not a JSON object (${e instanceof Error ? e.message : String(e)})`);
  }
  const t = value as Partial<Record<keyof Task, unknown>> | null;
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new TaskFileError(`${file}:${n}: not a JSON object`);
  if (typeof t.id !== 'string' || t.id === '') throw new TaskFileError(`${file}:${n}: the task has no "id" string`);
  if (typeof t.prefix !== 'string') throw new TaskFileError(`${file}:${n}: task ${t.id} has no "prefix" string`);
  for (const k of ['suffix', 'language', 'path'] as const) {
    if (t[k] !== undefined && typeof t[k] !== 'string') throw new TaskFileError(`${file}:${n}: task ${t.id}: "${k}" must be a string`);
  }
  return value as Task;
}
