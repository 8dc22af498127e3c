// Starts the built language server (dist/server.js) as a child process and talks real LSP to it
// over stdio. Notifications are collected so tests can wait on them (signals, not sleeps).
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  createProtocolConnection,
  InitializeRequest,
  InlineCompletionRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type InlineCompletionItem,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { StatusParams, StatsResult } from '../../server/protocol';

export const root = path.join(__dirname, '..', '..');
export const defaultModelDir = path.join(root, 'models', 'specter-tiny');

export interface Harness {
  connection: ProtocolConnection;
  child: ChildProcess;
  statuses: StatusParams[];
  logs: string[];
  /** Resolves with the first status (from now on, or already received after `since`) that matches. */
  waitForStatus(match: (s: StatusParams) => boolean, since?: number): Promise<StatusParams>;
  open(uri: string, languageId: string, text: string): Promise<void>;
  change(uri: string, version: number, text: string): Promise<void>;
  complete(uri: string, line: number, character: number): Promise<InlineCompletionItem[]>;
  configure(settings: Record<string, unknown>): Promise<void>;
  stats(): Promise<StatsResult & { nActive?: number }>;
  close(): Promise<void>;
}

export async function startServer(settings: Record<string, unknown> = {}): Promise<Harness> {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const statuses: StatusParams[] = [];
  const logs: string[] = [];
  const waiters: { match: (s: StatusParams) => boolean; resolve: (s: StatusParams) => void }[] = [];
  connection.onNotification('specter/status', (status: StatusParams) => {
    statuses.push(status);
    for (const w of waiters.splice(0)) {
      if (w.match(status)) w.resolve(status);
      else waiters.push(w);
    }
  });
  connection.onNotification('window/logMessage', (p: { message: string }) => {
    logs.push(p.message);
  });
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    // Monitor-guided decoding makes output timing-dependent; it has its own tests.
    initializationOptions: { settings: { monitor: { enabled: false }, ...settings }, trusted: true },
  });
  await connection.sendNotification('initialized', {});
  const versions = new Map<string, number>();
  return {
    connection,
    child,
    statuses,
    logs,
    waitForStatus(match, since = statuses.length) {
      const seen = statuses.slice(since).find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    async open(uri, languageId, text) {
      versions.set(uri, 1);
      await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    },
    async change(uri, version, text) {
      versions.set(uri, version);
      await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    },
    async complete(uri, line, character) {
      const result = await connection.sendRequest(InlineCompletionRequest.type, {
        textDocument: { uri },
        position: { line, character },
        context: { triggerKind: 2 },
      });
      if (result === null || result === undefined) return [];
      return Array.isArray(result) ? result : result.items;
    },
    async configure(next) {
      await connection.sendNotification('workspace/didChangeConfiguration', { settings: { specter: { monitor: { enabled: false }, ...next } } });
    },
    stats() {
      return connection.sendRequest('specter/stats');
    },
    async close() {
      try {
        await connection.sendRequest('shutdown');
        await connection.sendNotification('exit');
      } catch {
        // The process may already be gone.
      }
      connection.dispose();
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

/** Position of the end of `text` (where a cursor after it would be). */
export function endPosition(text: string): { line: number; character: number } {
  const lines = text.split('\n');
  return { line: lines.length - 1, character: (lines[lines.length - 1] ?? '').length };
}
