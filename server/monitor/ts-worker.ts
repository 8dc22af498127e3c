// The worker thread behind TsWorkerSource (./ts-worker-source.ts): the TypeScript language service
// (./ts-service.ts) runs here, so building a project's program (seconds for a real project, and
// again in part each time a document of it opens) never blocks the language server's thread.
//
// Messages from the server: `prepare` (answered on parentPort when the project is ready),
// `query` / `errors` asynchronous (answered on parentPort) or synchronous (answered on the
// dedicated sync port, then the shared flag is set and notified so the waiting server thread
// wakes up and takes the answer with receiveMessageOnPort).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { MonitorDocument, MonitorQuery } from './source';
import { TsServiceSource } from './ts-service';

export interface TsWorkerData {
  typescriptPath?: string;
  maxProjects?: number;
  /**
   * Int32Array over a SharedArrayBuffer: [0] set to 1 and notified after each synchronous answer;
   * [1] is 1 while the worker builds a project (the server then does not wait for answers).
   */
  flag: SharedArrayBuffer;
  syncPort: MessagePort;
}

export type TsWorkerRequest =
  | { op: 'prepare'; id: number; doc: MonitorDocument; refresh: boolean }
  | { op: 'query'; id: number; sync: boolean; q: Omit<MonitorQuery, 'signal'> }
  | { op: 'errors'; id: number; sync: boolean; doc: MonitorDocument };

export type TsWorkerReply =
  | { op: 'log'; line: string }
  | { op: 'reply'; id: number; result: unknown }
  | { op: 'failed'; id: number; message: string };

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('ts-worker: not started as a worker thread');
  const data = workerData as TsWorkerData;
  const flag = new Int32Array(data.flag);
  const source = new TsServiceSource({
    log: (line) => port.postMessage({ op: 'log', line } satisfies TsWorkerReply),
    ...(data.typescriptPath !== undefined ? { typescriptPath: data.typescriptPath } : {}),
    ...(data.maxProjects !== undefined ? { maxProjects: data.maxProjects } : {}),
  });
  /** Publishes whether a project is being built; when one is, publishes its end too (one waiter). */
  let waiting = false;
  const building = (): void => {
    Atomics.store(flag, 1, source.building ? 1 : 0);
    if (!source.building || waiting) return;
    waiting = true;
    void source.built().then(() => {
      waiting = false;
      building();
    });
  };
  const answer = (sync: boolean, reply: TsWorkerReply): void => {
    if (!sync) {
      port.postMessage(reply);
      return;
    }
    data.syncPort.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  port.on('message', (m: TsWorkerRequest) => {
    if (m.op === 'prepare') {
      const done = source.prepare(m.doc, m.refresh);
      building();
      void done.then(() => {
        building();
        port.postMessage({ op: 'reply', id: m.id, result: null } satisfies TsWorkerReply);
      });
      return;
    }
    try {
      // A query on a project not built yet starts its build (and answers "no constraint").
      const result = m.op === 'query' ? source.querySync(m.q as MonitorQuery) : source.errorsSync(m.doc);
      building();
      answer(m.sync, { op: 'reply', id: m.id, result: result ?? null });
    } catch (e) {
      building();
      answer(m.sync, { op: 'failed', id: m.id, message: e instanceof Error ? e.message : String(e) });
    }
  });
}

main();
