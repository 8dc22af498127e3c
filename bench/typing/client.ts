// A minimal editor for the replay: starts a built language server (dist/server.js by default)
// over stdio and speaks real LSP to it — didOpen/didChange, inline completion requests that are
// cancelled with $/cancelRequest when the user types on (as VS Code does), status notifications
// (the model's last latency) and the typing layer's stats request.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import {
  CancellationTokenSource,
  createProtocolConnection,
  InitializeRequest,
  InlineCompletionRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type InlineCompletionItem,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import { typingStatsRequest, type StatusParams, type TypingStatsResult } from '../../server/protocol';

export const root = path.join(__dirname, '..', '..');

export interface EditorClient {
  pid: number;
  /**
   * The latency (ms) of a model completion `specter/status` reported since the last call, if any:
   * each model completion is observed once (typed-through and cached answers report none).
   */
  takeModelLatencyMs(): number | undefined;
  waitReady(): Promise<void>;
  open(uri: string, languageId: string, text: string): Promise<void>;
  change(uri: string, text: string): Promise<void>;
  closeDocument(uri: string): Promise<void>;
  /** Resolves with the items, or 'cancelled' when `cancel` was called first. */
  request(uri: string, line: number, character: number, invoked: boolean): { done: Promise<InlineCompletionItem[] | 'cancelled'>; cancel(): void };
  typingStats(): Promise<TypingStatsResult>;
  configure(settings: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function startClient(serverPath: string, settings: Record<string, unknown>): Promise<EditorClient> {
  // SPECTER_SERVER_NODE_ARGS: extra Node flags for the server processes (e.g. `--cpu-prof`).
  const nodeArgs = (process.env['SPECTER_SERVER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, serverPath, '--stdio'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    // A server built outside the repo still finds onnxruntime-node.
    env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
  });
  const connection: ProtocolConnection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  let last: number | undefined;
  let ready = false;
  const readyWaiters: (() => void)[] = [];
  connection.onNotification('specter/status', (s: StatusParams) => {
    if (s.last !== undefined) last = s.last.totalMs;
    if (s.state === 'ready') {
      ready = true;
      for (const w of readyWaiters.splice(0)) w();
    }
  });
  connection.onNotification('window/logMessage', () => undefined);
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { settings } });
  await connection.sendNotification('initialized', {});
  const versions = new Map<string, number>();
  return {
    pid: child.pid ?? -1,
    takeModelLatencyMs: () => {
      const t = last;
      last = undefined;
      return t;
    },
    waitReady: () => (ready ? Promise.resolve() : new Promise((resolve) => readyWaiters.push(resolve))),
    async open(uri, languageId, text) {
      versions.set(uri, 1);
      await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    },
    async change(uri, text) {
      const version = (versions.get(uri) ?? 1) + 1;
      versions.set(uri, version);
      await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    },
    async closeDocument(uri) {
      versions.delete(uri);
      await connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    },
    request(uri, line, character, invoked) {
      const source = new CancellationTokenSource();
      let cancelled = false;
      const pending = connection.sendRequest(
        InlineCompletionRequest.type,
        { textDocument: { uri }, position: { line, character }, context: { triggerKind: invoked ? 1 : 2 } },
        source.token,
      );
      const done = pending.then(
        (result): InlineCompletionItem[] | 'cancelled' => {
          if (cancelled) return 'cancelled';
          if (result === null || result === undefined) return [];
          return Array.isArray(result) ? result : result.items;
        },
        (): 'cancelled' => 'cancelled',
      );
      return {
        done,
        cancel() {
          cancelled = true;
          source.cancel();
        },
      };
    },
    typingStats: () => connection.sendRequest(typingStatsRequest),
    configure: (next) => connection.sendNotification('workspace/didChangeConfiguration', { settings: { specter: next } }),
    async close() {
      try {
        await connection.sendRequest('shutdown');
        await connection.sendNotification('exit');
      } catch {
        // Already gone.
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
