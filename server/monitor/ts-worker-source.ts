// The TypeScript language service in a worker thread (./ts-worker.ts), as a MonitorSource for the
// server. Building a project's program takes seconds for a real project (and part of that again
// each time one of its documents opens); in-process it blocked the server's thread, so typing
// stalled: no completion, no cancellation, no reply, until it was done. Here it blocks the worker.
//
// The monitor still gets synchronous answers (querySync: it decides tokens such as `.length` with
// them): the server's thread posts the request and sleeps on a shared flag (Atomics.wait) until
// the worker has answered on a dedicated port, at most `syncWaitMs`; later, the answer is "no
// constraint". While the worker builds a project (it says so in the shared memory) a synchronous
// call does not wait at all: the answer is "no constraint", as it is in-process before a project
// is built.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { MonitorDocument, MonitorLog, MonitorQuery, MonitorSource } from './source';
import { tsLanguages } from './ts-service';
import type { TsWorkerData, TsWorkerReply, TsWorkerRequest } from './ts-worker';

export interface TsWorkerSourceOptions {
  log: MonitorLog;
  /** typescript.js to load in the worker (the editor's); default: require('typescript'). */
  typescriptPath?: string;
  maxProjects?: number;
  /** Longest wait of a synchronous call, ms. */
  syncWaitMs?: number;
  /** The worker script; default: ts-worker.js next to the bundle, else ts-worker.ts (sources run with tsx). */
  workerFile?: string;
  /** Restarts after the worker stopped without answering anything in between; then it stays off. */
  maxRestarts?: number;
}

interface Running {
  worker: Worker;
  flag: Int32Array;
  syncPort: MessagePort;
  pending: Map<number, (result: unknown) => void>;
}

type Errors = readonly { start: number; key: string }[];
/** A request before it gets its id (Omit over each member of the union). */
type Unnumbered = TsWorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

function defaultWorkerFile(): string {
  const js = path.join(__dirname, 'ts-worker.js');
  return fs.existsSync(js) ? js : path.join(__dirname, 'ts-worker.ts');
}

export class TsWorkerSource implements MonitorSource {
  readonly name = 'typescript';
  /** Cutting a completion back gets what it got in-process (a whole-file check takes 10–60 ms). */
  readonly cutBudgetMs = 150;
  private running: Running | undefined;
  private nextId = 1;
  private disposed = false;
  /** Times the worker stopped since it last answered a request. */
  private nDeathsInARow = 0;
  /** Stopped too often in a row: not started again (until the server restarts or the settings change). */
  private givenUp = false;
  /**
   * Synchronous calls answered / given up on, and requests of any kind answered "none" at once
   * because the worker was building a project (tests and stats).
   */
  readonly syncStats = { nAnswered: 0, nTimedOut: 0, nSkipped: 0 };

  constructor(private readonly opts: TsWorkerSourceOptions) {}

  supports(languageId: string): boolean {
    return tsLanguages.has(languageId);
  }

  warm(doc: MonitorDocument): void {
    void this.prepare(doc, true);
  }

  /** Builds the document's project in the worker; resolves when it is ready (or failed, logged). */
  prepare(doc: MonitorDocument, refresh = false): Promise<void> {
    // Building until the worker says otherwise (it clears this when the project is ready).
    const r = this.start();
    if (r !== undefined) Atomics.store(r.flag, 1, 1);
    return this.ask<null>({ op: 'prepare', doc: plainDoc(doc), refresh }).then(() => undefined);
  }

  query(q: MonitorQuery): Promise<readonly string[] | undefined> {
    // While a project builds the worker answers nothing else: "no constraint" at once, as in-process.
    if (this.building()) {
      this.syncStats.nSkipped++;
      return Promise.resolve(undefined);
    }
    return this.ask<readonly string[] | null>({ op: 'query', sync: false, q: plainQuery(q) }).then((r) => r ?? undefined);
  }

  querySync(q: MonitorQuery): readonly string[] | undefined {
    return (this.askSync({ op: 'query', sync: true, q: plainQuery(q) }) as readonly string[] | null | undefined) ?? undefined;
  }

  /**
   * The type check's diagnostics, asynchronously: the server's thread is free while the worker
   * checks the whole file. Undefined while the worker builds a project, when the answer takes
   * longer than timeoutMs, or when the request is cancelled.
   */
  errors(doc: MonitorDocument, timeoutMs: number, signal?: AbortSignal): Promise<Errors | undefined> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (r: Errors | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', cancel);
        resolve(r);
      };
      const cancel = (): void => settle(undefined);
      const timer = setTimeout(cancel, timeoutMs);
      // Building a project: the check would wait behind it; unchecked at once, as in-process.
      if (signal?.aborted === true) return cancel();
      if (this.building()) {
        this.syncStats.nSkipped++;
        return cancel();
      }
      signal?.addEventListener('abort', cancel);
      void this.ask<Errors | null>({ op: 'errors', sync: false, doc: plainDoc(doc) }).then((r) => settle(r ?? undefined));
    });
  }

  dispose(): void {
    this.disposed = true;
    const r = this.running;
    this.running = undefined;
    if (r === undefined) return;
    for (const resolve of r.pending.values()) resolve(null);
    r.pending.clear();
    r.syncPort.close();
    void r.worker.terminate();
  }

  /** The worker says it is building a project (it then answers nothing else until done). */
  private building(): boolean {
    const r = this.running;
    return r !== undefined && Atomics.load(r.flag, 1) === 1;
  }

  /** The worker, started on first use (and again after it died). */
  private start(): Running | undefined {
    if (this.disposed || this.givenUp) return undefined;
    if (this.running !== undefined) return this.running;
    const shared = new SharedArrayBuffer(8);
    const channel = new MessageChannel();
    const data: TsWorkerData = {
      flag: shared,
      syncPort: channel.port2,
      ...(this.opts.typescriptPath !== undefined ? { typescriptPath: this.opts.typescriptPath } : {}),
      ...(this.opts.maxProjects !== undefined ? { maxProjects: this.opts.maxProjects } : {}),
    };
    let worker: Worker;
    try {
      const file = this.opts.workerFile ?? defaultWorkerFile();
      // From the sources (tests, benchmarks under tsx) the worker compiles TypeScript the same way.
      worker = file.endsWith('.ts')
        ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData: data, transferList: [channel.port2] })
        : new Worker(file, { workerData: data, transferList: [channel.port2] });
    } catch (e) {
      this.opts.log(`monitor: the typescript worker could not start: ${e instanceof Error ? e.message : String(e)} — completions continue unconstrained`);
      return undefined;
    }
    // The worker must not keep the server (or a test) alive on its own.
    worker.unref();
    const running: Running = { worker, flag: new Int32Array(shared), syncPort: channel.port1, pending: new Map() };
    worker.on('message', (m: TsWorkerReply) => {
      if (m.op === 'log') {
        this.opts.log(m.line);
        return;
      }
      const resolve = running.pending.get(m.id);
      running.pending.delete(m.id);
      this.nDeathsInARow = 0;
      if (m.op === 'failed') this.opts.log(`monitor: typescript failed: ${m.message} — this completion continues unconstrained`);
      resolve?.(m.op === 'reply' ? m.result : null);
    });
    const died = (why: string): void => {
      if (this.running !== running) return;
      this.running = undefined;
      for (const resolve of running.pending.values()) resolve(null);
      running.pending.clear();
      running.syncPort.close();
      if (this.disposed) return;
      this.nDeathsInARow++;
      if (this.nDeathsInARow > (this.opts.maxRestarts ?? 3)) {
        this.givenUp = true;
        this.opts.log(`monitor: the typescript worker stopped (${why}), ${this.nDeathsInARow} times in a row — TypeScript/JavaScript member accesses stay unconstrained until Specter: Restart Server or a change of the specter.monitor settings`);
        return;
      }
      this.opts.log(`monitor: the typescript worker stopped (${why}); it restarts on the next request`);
    };
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.running = running;
    return running;
  }

  private ask<T>(request: Unnumbered): Promise<T | null> {
    const r = this.start();
    if (r === undefined) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise<T | null>((resolve) => {
      r.pending.set(id, resolve as (result: unknown) => void);
      r.worker.postMessage({ ...request, id } as TsWorkerRequest);
    });
  }

  /**
   * Posts a synchronous request and sleeps until its answer is in or syncWaitMs have passed; does
   * not ask while the worker builds a project.
   */
  private askSync(request: Unnumbered): unknown {
    const r = this.start();
    if (r === undefined) return undefined;
    if (this.building()) {
      this.syncStats.nSkipped++;
      return undefined;
    }
    const id = this.nextId++;
    /** This request's answer; those of earlier requests that gave up waiting are dropped. */
    const take = (): TsWorkerReply | undefined => {
      for (let m = receiveMessageOnPort(r.syncPort); m !== undefined; m = receiveMessageOnPort(r.syncPort)) {
        const reply = m.message as TsWorkerReply;
        if (reply.op !== 'log' && reply.id === id) return reply;
      }
      return undefined;
    };
    const deadline = performance.now() + (this.opts.syncWaitMs ?? 250);
    r.worker.postMessage({ ...request, id } as TsWorkerRequest);
    for (;;) {
      Atomics.store(r.flag, 0, 0);
      const reply = take();
      if (reply !== undefined) {
        this.syncStats.nAnswered++;
        this.nDeathsInARow = 0;
        if (reply.op === 'failed') {
          this.opts.log(`monitor: typescript failed: ${reply.message} — this completion continues unconstrained`);
          return undefined;
        }
        return reply.op === 'reply' ? reply.result : undefined;
      }
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.load(r.flag, 1) === 1) break;
      Atomics.wait(r.flag, 0, 0, left);
    }
    this.syncStats.nTimedOut++;
    return undefined;
  }
}

/** What crosses to the worker: the query without its AbortSignal (not cloneable). */
function plainQuery(q: MonitorQuery): Omit<MonitorQuery, 'signal'> {
  const { signal: _signal, ...rest } = q;
  return rest;
}

function plainDoc(doc: MonitorDocument): MonitorDocument {
  return { languageId: doc.languageId, uri: doc.uri, text: doc.text, ...(doc.rootDir !== undefined ? { rootDir: doc.rootDir } : {}) };
}
