// Member completions from any language server over stdio, configured per language by command line
// (e.g. {"python": ["pyright-langserver", "--stdio"]}). One process per (language, workspace root),
// started on first use: initialize, then didOpen/didChange with the overlay text (prefix +
// generated + suffix) and textDocument/completion right after the operator.
//
// A missing or crashed server costs one log line and leaves completions unconstrained; the next
// use starts it again (a missing executable is retried at most every `retryMs`). In an untrusted
// workspace nothing is launched: a configured command line is workspace-controlled code.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import {
  CancellationTokenSource, CompletionRequest, CompletionTriggerKind, createProtocolConnection, DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification, InitializedNotification, InitializeRequest, type CompletionItem, type CompletionList,
  DocumentDiagnosticRequest, ErrorCodes, type Diagnostic, type DocumentDiagnosticReport, type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { MonitorDocument, MonitorLog, MonitorQuery, MonitorSource } from './source';
import { uriToPath } from './source';

export interface LspSourceOptions {
  /** Command line per VS Code language id: {"python": ["pyright-langserver", "--stdio"]}. */
  servers: Readonly<Record<string, readonly string[]>>;
  /** Workspace trust: false → no server is launched. */
  trusted: boolean;
  log: MonitorLog;
  /** Answers to workspace/configuration, by section ("python.analysis" → {...}); null otherwise. */
  settings?: Readonly<Record<string, unknown>>;
  /** Wait before launching a server again after it could not start, ms. */
  retryMs?: number;
}

/** A server that has not answered `initialize` by then is treated as broken. */
const initTimeoutMs = 60_000;

/** CompletionItemKind values that are not members: Text, Keyword, Snippet. */
const nonMemberKinds = new Set([1, 14, 15]);

class ServerProcess {
  private proc: ChildProcess | undefined;
  private conn: ProtocolConnection | undefined;
  private ready: Promise<boolean> | undefined;
  private readonly docs = new Map<string, { text: string; version: number }>();
  private tFailed = -Infinity;
  /**
   * The server answers textDocument/diagnostic (pull diagnostics). Servers that register it
   * dynamically (pyright) answer without announcing it at initialize: undefined = try, and a
   * "method not found" answer makes it false.
   */
  private pullDiagnostics: boolean | undefined;
  /** Called once at the next exit of the process (tests wait on it). */
  readonly exitWaiters: (() => void)[] = [];
  /** Resolves when the current process exits: whatever was waiting on it gives up. */
  private closed: Promise<undefined> = new Promise(() => {});

  constructor(
    private readonly languageId: string,
    private readonly command: readonly string[],
    private readonly root: string,
    private readonly opts: LspSourceOptions,
  ) {}

  private get label(): string {
    return `${this.languageId} language server \`${this.command.join(' ')}\``;
  }

  /** Starts the process if it is not running; resolves false when it cannot be used. */
  start(): Promise<boolean> {
    if (this.ready !== undefined) return this.ready;
    if (performance.now() - this.tFailed < (this.opts.retryMs ?? 30_000)) return Promise.resolve(false);
    this.ready = this.launch();
    return this.ready;
  }

  private async launch(): Promise<boolean> {
    const [cmd, ...args] = this.command;
    if (cmd === undefined) return false;
    const proc = spawn(cmd, args, { cwd: this.root, stdio: ['pipe', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    this.proc = proc;
    const spawned = new Promise<boolean>((resolve) => {
      proc.once('spawn', () => resolve(true));
      proc.once('error', (e) => {
        this.opts.log(`monitor: ${this.label} could not start (${e.message}) — ${this.languageId} completions continue unconstrained; install it or change specter.monitor.servers`);
        this.tFailed = performance.now();
        resolve(false);
      });
    });
    proc.once('exit', (code, signal) => {
      this.exitWaiters.splice(0).forEach((w) => w());
      if (this.proc !== proc) return;
      if (this.ready !== undefined) this.opts.log(`monitor: ${this.label} exited (${signal ?? `code ${code}`}) — completions continue unconstrained; it restarts on next use`);
      this.reset();
    });
    proc.stderr?.resume();
    // A write into a server that just died must not become an unhandled 'error' (EPIPE).
    proc.stdin?.on('error', () => {});
    proc.stdout?.on('error', () => {});
    this.closed = new Promise((resolve) => proc.once('exit', () => resolve(undefined)));
    if (!(await spawned)) {
      this.reset();
      return false;
    }
    const conn = createProtocolConnection(proc.stdout as NodeJS.ReadableStream, proc.stdin as NodeJS.WritableStream);
    this.conn = conn;
    conn.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) =>
      params.items.map((item) => (item.section === undefined ? null : this.opts.settings?.[item.section] ?? null)));
    conn.onRequest('client/registerCapability', () => null);
    conn.onRequest('window/workDoneProgress/create', () => null);
    conn.onError(() => {});
    conn.listen();
    const rootUri = pathToFileURL(this.root).href;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to initialize within ${initTimeoutMs / 1000} s`)), initTimeoutMs);
    });
    try {
      const init = await Promise.race([timeout, conn.sendRequest(InitializeRequest.type, {
        processId: process.pid,
        rootUri,
        workspaceFolders: [{ uri: rootUri, name: path.basename(this.root) }],
        capabilities: {
          textDocument: {
            synchronization: { dynamicRegistration: false, didSave: false },
            completion: { completionItem: { snippetSupport: false }, contextSupport: true },
            diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false },
          },
          workspace: { configuration: true, workspaceFolders: true },
        },
        initializationOptions: null,
      })]);
      this.pullDiagnostics = init.capabilities.diagnosticProvider !== undefined ? true : undefined;
      await conn.sendNotification(InitializedNotification.type, {});
      return true;
    } catch (e) {
      this.opts.log(`monitor: ${this.label} failed to initialize (${e instanceof Error ? e.message : String(e)}) — completions continue unconstrained`);
      this.tFailed = performance.now();
      this.stop();
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private reset(): void {
    this.conn?.dispose();
    this.conn = undefined;
    this.proc = undefined;
    this.ready = undefined;
    this.docs.clear();
  }

  private async sync(conn: ProtocolConnection, uri: string, text: string): Promise<void> {
    const doc = this.docs.get(uri);
    if (doc === undefined) {
      this.docs.set(uri, { text, version: 1 });
      await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: this.languageId, version: 1, text } });
    } else if (doc.text !== text) {
      const version = doc.version + 1;
      this.docs.set(uri, { text, version });
      await conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
    }
  }

  async open(doc: MonitorDocument): Promise<void> {
    if (!(await this.start()) || this.conn === undefined) return;
    await this.sync(this.conn, doc.uri, doc.text);
  }

  async complete(q: MonitorQuery): Promise<readonly string[] | undefined> {
    if (!(await this.start()) || this.conn === undefined || q.signal.aborted) return undefined;
    const aborted = new Promise<undefined>((resolve) => q.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    return Promise.race([this.request(this.conn, q), this.closed, aborted]);
  }

  private async request(conn: ProtocolConnection, q: MonitorQuery): Promise<readonly string[] | undefined> {
    await this.sync(conn, q.uri, q.text);
    const cancel = new CancellationTokenSource();
    const onAbort = (): void => cancel.cancel();
    q.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const result: CompletionItem[] | CompletionList | null = await conn.sendRequest(CompletionRequest.type, {
        textDocument: { uri: q.uri },
        position: q.position,
        context: { triggerKind: CompletionTriggerKind.TriggerCharacter, triggerCharacter: q.trigger.slice(-1) },
      }, cancel.token);
      const items = result === null ? [] : Array.isArray(result) ? result : result.items;
      return items.filter((i) => i.kind === undefined || !nonMemberKinds.has(i.kind)).map(itemName);
    } catch {
      return undefined; // cancelled, or the server failed this request
    } finally {
      q.signal.removeEventListener('abort', onAbort);
      cancel.dispose();
    }
  }

  /**
   * The server's error diagnostics for the document with `text` (pull diagnostics), as start
   * offsets and "code:message" keys. Undefined when the server cannot pull diagnostics, does not
   * answer within timeoutMs, or the document changed meanwhile (another completion's overlay).
   */
  async errors(doc: MonitorDocument, timeoutMs: number, signal?: AbortSignal): Promise<readonly { start: number; key: string }[] | undefined> {
    if (!(await this.start()) || this.conn === undefined || this.pullDiagnostics === false || signal?.aborted) return undefined;
    const conn = this.conn;
    await this.sync(conn, doc.uri, doc.text);
    const cancel = new CancellationTokenSource();
    let timer: NodeJS.Timeout | undefined;
    let onAbort = (): void => {};
    const giveUp = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
      onAbort = () => resolve(undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const asked = conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: doc.uri } }, cancel.token).then(
        (r: DocumentDiagnosticReport) => r,
        (e: unknown) => {
          if ((e as { code?: unknown }).code === ErrorCodes.MethodNotFound) this.pullDiagnostics = false;
          return undefined;
        },
      );
      const report = await Promise.race([asked, giveUp, this.closed]);
      if (report?.kind !== 'full' || this.docs.get(doc.uri)?.text !== doc.text) return undefined;
      const lines = TextDocument.create(doc.uri, doc.languageId, 0, doc.text);
      return report.items.filter(isError).map((d) => ({ start: lines.offsetAt(d.range.start), key: `${String(d.code ?? '')}:${d.message}` }));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cancel.cancel();
      cancel.dispose();
    }
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  stop(): void {
    const proc = this.proc;
    this.reset();
    proc?.kill();
  }
}

/** Files that mark a project's root folder (language servers read their configuration there). */
export const projectMarkers = ['pyrightconfig.json', 'pyproject.toml', 'setup.py', 'setup.cfg', 'go.mod', 'Cargo.toml', 'package.json', '.git'];

/** The nearest folder upward from a file that holds a project marker, cached per folder. */
export class ProjectRoots {
  private readonly byDir = new Map<string, string | undefined>();

  of(uri: string): string | undefined {
    const file = uriToPath(uri);
    return file === undefined ? undefined : this.fromDir(path.dirname(file));
  }

  private fromDir(dir: string): string | undefined {
    if (this.byDir.has(dir)) return this.byDir.get(dir);
    const parent = path.dirname(dir);
    const found = projectMarkers.some((m) => fs.existsSync(path.join(dir, m))) ? dir : parent === dir ? undefined : this.fromDir(parent);
    this.byDir.set(dir, found);
    return found;
  }
}

/** Language servers want URIs: an absolute path (the CLI's tasks) becomes file://… */
function fileUri(uriOrPath: string): string {
  return path.isAbsolute(uriOrPath) ? pathToFileURL(uriOrPath).href : uriOrPath;
}

/** Severity Error, or none given (the client decides: count it). */
function isError(d: Diagnostic): boolean {
  return d.severity === undefined || d.severity === 1;
}

/** The identifier an item inserts: its text edit or insert text when present, else its label. */
function itemName(i: CompletionItem): string {
  const edit = i.textEdit?.newText ?? i.insertText;
  return edit !== undefined && edit !== '' ? edit : i.label;
}

export class LspSource implements MonitorSource {
  readonly name = 'lsp';
  private readonly servers = new Map<string, ServerProcess>();
  private readonly projectRoots = new ProjectRoots();
  private loggedUntrusted = false;

  constructor(private readonly opts: LspSourceOptions) {}

  supports(languageId: string): boolean {
    if (this.opts.servers[languageId] === undefined) return false;
    if (!this.opts.trusted) {
      if (!this.loggedUntrusted) this.opts.log('monitor: untrusted workspace — configured language servers are not launched');
      this.loggedUntrusted = true;
      return false;
    }
    return true;
  }

  private server(languageId: string, root: string | undefined, uri: string): ServerProcess | undefined {
    const command = this.opts.servers[languageId];
    if (command === undefined || !this.opts.trusted) return undefined;
    // Without a workspace folder, the file's own project: the server's config and import roots.
    const dir = root ?? this.projectRoots.of(uri) ?? process.cwd();
    const key = `${languageId}\0${dir}`;
    let s = this.servers.get(key);
    if (s === undefined) this.servers.set(key, (s = new ServerProcess(languageId, command, dir, this.opts)));
    return s;
  }

  warm(doc: MonitorDocument): void {
    void this.server(doc.languageId, doc.rootDir, doc.uri)?.open({ ...doc, uri: fileUri(doc.uri) });
  }

  async query(q: MonitorQuery): Promise<readonly string[] | undefined> {
    return (await this.server(q.languageId, q.rootDir, q.uri)?.complete({ ...q, uri: fileUri(q.uri) })) ?? undefined;
  }

  async errors(doc: MonitorDocument, timeoutMs: number, signal?: AbortSignal): Promise<readonly { start: number; key: string }[] | undefined> {
    return (await this.server(doc.languageId, doc.rootDir, doc.uri)?.errors({ ...doc, uri: fileUri(doc.uri) }, timeoutMs, signal)) ?? undefined;
  }

  /** Process ids of the running servers. */
  pids(): number[] {
    return [...this.servers.values()].flatMap((s) => (s.pid === undefined ? [] : [s.pid]));
  }

  /** Resolves at the next exit of any running server. */
  waitForExit(): Promise<void> {
    return new Promise((resolve) => this.servers.forEach((s) => s.exitWaiters.push(resolve)));
  }

  dispose(): void {
    for (const s of this.servers.values()) s.stop();
    this.servers.clear();
  }
}

/** The pyright language server shipped in node_modules (npm `pyright`), run with this Node. */
export function bundledPyright(): string[] | undefined {
  try {
    return [process.execPath, require.resolve('pyright/langserver.index.js'), '--stdio'];
  } catch {
    return undefined;
  }
}
