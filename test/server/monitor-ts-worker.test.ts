// The TypeScript language service in a worker thread (what the server uses): the same answers as
// in-process, the server's thread free while a project builds, and no hang when the worker is
// busy or gone.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TsServiceSource } from '../../server/monitor/ts-service';
import { TsWorkerSource } from '../../server/monitor/ts-worker-source';
import { cut, queryOf, tsProject } from '../fixtures/monitor/docs';

const main = path.join(tsProject, 'src', 'main.ts');
const inserts = ['c.', '(c as Tally).', 'Counter.', 'process.', 'label.', '// c.'];

void describe('monitor: TypeScript language service in a worker thread', () => {
  const log: string[] = [];
  let worker: TsWorkerSource;
  /** Waits as long as an answer takes (the answers are compared, not their speed). */
  let patient: TsWorkerSource;
  let inProcess: TsServiceSource;
  before(() => {
    worker = new TsWorkerSource({ log: (l) => log.push(l) });
    patient = new TsWorkerSource({ log: () => undefined, syncWaitMs: 60_000 });
    inProcess = new TsServiceSource({ log: () => undefined, buildWhenCold: true });
  });
  after(() => {
    worker.dispose();
    patient.dispose();
    inProcess.dispose();
  });

  void it('the server’s thread keeps running while the worker builds the project; a synchronous query meanwhile gives up at once', async () => {
    const q = queryOf(cut(main, 'c.increment();', 'c.'), 'typescript', tsProject);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const building = worker.prepare(q, true);
    // The worker is building the project: synchronous calls do not wait for it.
    assert.equal(worker.querySync(q), undefined);
    assert.equal(worker.querySync(q), undefined);
    assert.deepEqual({ ...worker.syncStats }, { nAnswered: 0, nTimedOut: 0, nSkipped: 2 });
    // Nor do asynchronous ones (the query, the type check) wait behind the build.
    const doc = { languageId: 'typescript', uri: q.uri, rootDir: tsProject, text: q.text };
    assert.deepEqual(await Promise.race([worker.query(q).then((r) => ({ r })), building.then(() => 'built first')]), { r: undefined });
    assert.deepEqual(await Promise.race([worker.errors(doc, 60_000).then((r) => ({ r })), building.then(() => 'built first')]), { r: undefined });
    assert.equal(worker.syncStats.nSkipped, 4, 'answered at once, the worker not asked');
    await building;
    clearInterval(timer);
    const ready = log.find((l) => /typescript project .*tsconfig.json ready in \d+ ms/.test(l));
    assert.ok(ready, log.join('\n'));
    // In-process the build blocks the thread: no tick could run until it ended.
    assert.ok(ticks >= 5, `${ticks} timer ticks while the worker built the project (${ready})`);
    // Built: the same source answers, synchronously.
    assert.deepEqual(worker.querySync(q)?.slice().sort(), ['count', 'double', 'increment', 'label', 'total']);
    assert.equal(worker.syncStats.nAnswered, 1);
  });

  void it('a query on a project never opened starts its build in the worker and does not wait for it', async () => {
    const lines: string[] = [];
    const cold = new TsWorkerSource({ log: (l) => lines.push(l), syncWaitMs: 60_000 });
    try {
      const q = queryOf(cut(main, 'c.increment();', 'c.'), 'typescript', tsProject);
      // The worker answers "not built" at once and starts building; the next call finds it building.
      assert.equal(cold.querySync(q), undefined);
      assert.equal(cold.querySync(q), undefined);
      assert.equal(cold.syncStats.nTimedOut, 0);
      assert.ok(cold.syncStats.nSkipped >= 1, JSON.stringify(cold.syncStats));
      for (let i = 0; i < 600 && !lines.some((l) => /ready in/.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(cold.querySync(q)?.slice().sort(), ['count', 'double', 'increment', 'label', 'total']);
    } finally {
      cold.dispose();
    }
  });

  void it('answers as the in-process service does, synchronously and asynchronously', async () => {
    await patient.prepare(queryOf(cut(main, 'c.increment();', 'c.'), 'typescript', tsProject));
    for (const insert of inserts) {
      const q = queryOf(cut(main, 'c.increment();', insert), 'typescript', tsProject);
      const expected = inProcess.querySync(q);
      assert.deepEqual(patient.querySync(q), expected, `querySync after ${insert}`);
      assert.deepEqual(await patient.query(q), expected, `query after ${insert}`);
    }
    assert.deepEqual(patient.querySync(queryOf(cut(main, 'c.increment();', 'c.'), 'typescript', tsProject))?.slice().sort(), ['count', 'double', 'increment', 'label', 'total']);
    assert.deepEqual({ ...patient.syncStats }, { nAnswered: inserts.length + 1, nTimedOut: 0, nSkipped: 0 });
  });

  void it('type-check diagnostics as the in-process service finds them; none when cancelled or out of time', async () => {
    const doc = cut(main, 'c.increment();', 'const wrong: number = c.label;\n');
    const d = { languageId: 'typescript', uri: doc.uri, rootDir: tsProject, text: doc.prefix + doc.suffix };
    const expected = inProcess.errorsSync(d);
    assert.ok(expected !== undefined && expected.length > 0, 'the fixture line is a type error');
    assert.deepEqual(await patient.errors(d, 60_000), expected);
    const cancelled = new AbortController();
    cancelled.abort();
    assert.equal(await patient.errors(d, 60_000, cancelled.signal), undefined);
    // A whole-file check (≥ 10 ms on this fixture) does not fit in 1 ms.
    assert.equal(await patient.errors({ ...d, text: `${d.text}\nconst late: string = 1;\n` }, 1), undefined);
    // The worker answers later ones as before.
    assert.deepEqual(await patient.errors(d, 60_000), expected);
  });

  void it('a worker that cannot run: no constraint, a clear log line, tried again on the next requests, then left off', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-ts-worker-'));
    const broken = path.join(dir, 'broken-worker.js');
    fs.writeFileSync(broken, "throw new Error('broken worker script');\n");
    const lines: string[] = [];
    const source = new TsWorkerSource({ log: (l) => lines.push(l), workerFile: broken, syncWaitMs: 50, maxRestarts: 2 });
    try {
      const q = queryOf(cut(main, 'c.increment();', 'c.'), 'typescript', tsProject);
      assert.equal(await source.query(q), undefined);
      assert.match(lines.join('\n'), /the typescript worker stopped \(.*broken worker script.*\); it restarts on the next request/);
      const before = lines.length;
      assert.equal(source.querySync(q), undefined);
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(lines.slice(before).some((l) => /typescript worker stopped/.test(l)), 'started again, and failed again');
      // The third stop in a row (two restarts allowed): it is not started again.
      assert.equal(await source.query(q), undefined);
      assert.match(lines.join('\n'), /stopped .*3 times in a row — TypeScript\/JavaScript member accesses stay unconstrained until Specter: Restart Server/);
      const nLines = lines.length;
      assert.equal(await source.query(q), undefined);
      assert.equal(source.querySync(q), undefined);
      assert.equal(lines.length, nLines, 'no further start, no further log line');
    } finally {
      source.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
