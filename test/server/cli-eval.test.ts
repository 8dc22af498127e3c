// `specter eval` (server/cli.ts, server/eval-tasks.ts): the task file is checked line by line
// before the model loads, every task gets a result line in order, and each result line says what
// the checks did; the real CLI on the embedded model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseTask, resultLine, TaskFileError } from '../../server/eval-tasks';
import type { CompletionResult } from '../../server/completion-service';
import { readJsonl, scoreLines, type EvalLine, type ScoredTask } from '../../bench/score';

const root = path.join(__dirname, '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-eval-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI from source (as `npm run eval` runs its build), in the repository. */
function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'server', 'cli.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('specter eval: task files', () => {
  it('a task line is read; a bad one is named by file and line', () => {
    const t = parseTask('t.jsonl', 3, JSON.stringify({ id: 'a', prefix: 'x = ', suffix: '\n', language: 'python', suffix_cut: true }));
    assert.equal(t.id, 'a');
    assert.equal(t.prefix, 'x = ');
    assert.equal(t.suffix_cut, true);
    const bad: [string, RegExp][] = [
      ['{"id": "a", "prefix": ', /^t\.jsonl:3: not a JSON object \(/],
      ['[1, 2]', /^t\.jsonl:3: not a JSON object$/],
      ['{"prefix": "x"}', /^t\.jsonl:3: the task has no "id" string$/],
      ['{"id": "a"}', /^t\.jsonl:3: task a has no "prefix" string$/],
      ['{"id": "a", "prefix": "x", "suffix": 7}', /^t\.jsonl:3: task a: "suffix" must be a string$/],
    ];
    for (const [line, message] of bad) {
      assert.throws(
        () => parseTask('t.jsonl', 3, line),
        (e: unknown) => e instanceof TaskFileError && message.test(e.message),
        line,
      );
    }
  });

  it('a result line records what the checks did: type check, type and parse retries, finishing tokens; also when nothing was shown', () => {
    const stats = { totalMs: 5, prefillMs: 1, decodeMs: 4, promptTokens: 10, reusedTokens: 0, generatedTokens: 3, tokensPerSecond: 750, nForward: 3, stopReason: 'single-line' };
    const ok = (extra: object): CompletionResult => ({ kind: 'ok', texts: ['foo()'], tokens: [1, 2, 3], stats: { ...stats, ...extra } });
    const plain = resultLine('t1', ok({})) as { stats: Record<string, unknown> };
    for (const k of ['typeCheck', 'typeRetries', 'parseRetries', 'parseRetryBudgetSpent', 'finishTokens']) assert.equal(k in plain.stats, false, k);
    const checks = { typeCheck: 'unchecked', typeRetries: 1, parseRetries: 2, parseRetryBudgetSpent: true, finishTokens: 1 } as const;
    const checked = resultLine('t2', ok(checks)) as { id: string; completions: string[]; stats: Record<string, unknown> };
    assert.equal(checked.id, 't2');
    assert.deepEqual(checked.completions, ['foo()']);
    const picked = (x: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.keys(checks).map((k) => [k, x[k]]));
    assert.deepEqual(picked(checked.stats), checks);
    const empty = resultLine('t3', { kind: 'empty', reason: 'withheld' }) as { completions: string[]; stats: Record<string, unknown> };
    assert.deepEqual(empty.completions, []);
    assert.deepEqual(empty.stats, { outcome: 'empty', reason: 'withheld' });
    // Withheld after eight parse retries: the line says so, as for a completion that was shown.
    const withheld = resultLine('t4', { kind: 'empty', reason: 'withheld', stats: { ...stats, ...checks } }) as { stats: Record<string, unknown> };
    assert.deepEqual(withheld.stats, { outcome: 'empty', reason: 'withheld', ...checks });
  });
});

describe('specter eval: the CLI on the embedded model', () => {
  it('writes one result line per task, in the file order, which bench/score.ts scores', () => {
    const lines = fs.readFileSync(path.join(root, 'bench', 'tasks', 'line-completion.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '').slice(0, 3);
    const tasksFile = path.join(dir, 'three.jsonl');
    // A blank line between tasks is skipped.
    fs.writeFileSync(tasksFile, `${lines[0]}\n\n${lines[1]}\n${lines[2]}\n`);
    const out = path.join(dir, 'three-results.jsonl');
    const r = cli('eval', '--tasks', tasksFile, '--out', out, '--quiet');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /eval: 3 tasks → /);
    const tasks = readJsonl<ScoredTask>(tasksFile);
    const results = readJsonl<EvalLine & { stats: Record<string, unknown> }>(out);
    assert.deepEqual(
      results.map((x) => x.id),
      tasks.map((t) => t.id),
    );
    for (const x of results) {
      assert.ok(Array.isArray(x.completions) && x.completions.every((c) => typeof c === 'string'), x.id);
      assert.ok(typeof x.stats['stopReason'] === 'string' || x.stats['outcome'] === 'empty', `${x.id}: ${JSON.stringify(x.stats)}`);
    }
    const score = scoreLines(tasks, results);
    assert.equal(score.n, 3);
    assert.ok(score.exactMatch >= 0 && score.exactMatch <= 1 && score.editSimilarity >= 0 && score.editSimilarity <= 1);
  });

  it('a bad task line stops the run before the model loads, naming the file and line (exit 1, no results)', () => {
    const tasksFile = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(tasksFile, `${JSON.stringify({ id: 'ok', prefix: 'x = ' })}\n{"id": "broken", "prefix": \n`);
    const out = path.join(dir, 'bad-results.jsonl');
    const r = cli('eval', '--tasks', tasksFile, '--out', out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^specter: ${tasksFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not a JSON object \\(`, 'm'));
    assert.doesNotMatch(r.stderr, /Loading model/, 'the model should not load');
    assert.equal(fs.existsSync(out), false, 'no results file for a run that did not start');
  });

  it('a missing tasks file, or one without tasks: a one-line message, exit 1', () => {
    const missing = cli('eval', '--tasks', path.join(dir, 'nope.jsonl'), '--out', path.join(dir, 'x.jsonl'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^specter: tasks file .*nope\.jsonl not found$/m);
    const blank = path.join(dir, 'blank.jsonl');
    fs.writeFileSync(blank, '\n\n');
    const none = cli('eval', '--tasks', blank, '--out', path.join(dir, 'y.jsonl'));
    assert.equal(none.status, 1);
    assert.match(none.stderr, /^specter: tasks file .*blank\.jsonl has no tasks$/m);
  });
});
