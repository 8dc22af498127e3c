import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestGate } from '../../server/request-gate';

/** A job that runs until its signal aborts (or until released), like a decode loop. */
function job(log: string[], name: string): (signal: AbortSignal) => Promise<string> {
  return (signal) =>
    new Promise((resolve) => {
      log.push(`start ${name}`);
      const finish = (): void => {
        log.push(`stop ${name}`);
        resolve(name);
      };
      if (signal.aborted) finish();
      else signal.addEventListener('abort', finish, { once: true });
    });
}

describe('RequestGate', () => {
  it('a new request aborts the running one; only the newest waiter runs', async () => {
    const gate = new RequestGate();
    const log: string[] = [];
    const a = gate.run(undefined, job(log, 'a'));
    const b = gate.run(undefined, job(log, 'b'));
    const c = gate.run(undefined, job(log, 'c'));
    assert.deepEqual(await a, { kind: 'ran', value: 'a' });
    assert.deepEqual(await b, { kind: 'superseded' });
    assert.equal(gate.nActive, 1);
    gate.cancelAll();
    assert.deepEqual(await c, { kind: 'ran', value: 'c' });
    assert.deepEqual(log, ['start a', 'stop a', 'start c', 'stop c']);
    assert.equal(gate.nActive, 0);
  });

  it('an outer abort reaches the running job', async () => {
    const gate = new RequestGate();
    const log: string[] = [];
    const outer = new AbortController();
    const run = gate.run(outer.signal, job(log, 'x'));
    outer.abort();
    assert.deepEqual(await run, { kind: 'ran', value: 'x' });
    assert.deepEqual(log, ['start x', 'stop x']);
  });

  it('an already aborted request never starts', async () => {
    const gate = new RequestGate();
    const log: string[] = [];
    const outer = new AbortController();
    outer.abort();
    assert.deepEqual(await gate.run(outer.signal, job(log, 'y')), { kind: 'superseded' });
    assert.deepEqual(log, []);
  });

  it('a job that throws frees the gate', async () => {
    const gate = new RequestGate();
    await assert.rejects(gate.run(undefined, () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(gate.nActive, 0);
    assert.deepEqual(await gate.run(undefined, () => Promise.resolve(1)), { kind: 'ran', value: 1 });
  });
});
