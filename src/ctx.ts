// One object owns the client's lifecycle and every disposable (rust-analyzer's Ctx): the
// language client, the status bar, the output channel, the completion history and the command
// registrations. Nothing else in src/ holds a client or a disposable.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { statusNotification, type CompletionStats, type InitializationOptions, type StatusParams } from '../server/protocol';
import { AcceptanceTracker } from './acceptance';
import { affectsModel, disabledLanguages, isEnabled, isLanguageEnabled, readSettings } from './config';
import { Debouncer, waitOrCancel } from './debounce';
import { StatusBar } from './status-bar';

/** Completions kept for the statistics chart. */
const nHistory = 200;
/** A load notification never stays longer than this, even if the server stays silent. */
const tProgressLimitMs = 5 * 60_000;

export class Ctx implements vscode.Disposable {
  readonly output: vscode.LogOutputChannel;
  readonly statusBar: StatusBar;
  /** The last `nHistory` completions reported by the server, oldest first. */
  readonly history: CompletionStats[] = [];
  /** Shown / accepted suggestions, reported to the server and counted for the statistics. */
  readonly acceptance: AcceptanceTracker;
  private client: LanguageClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private nCrashNotices = 0;
  private readonly debouncer = new Debouncer();
  private loadingProgress: { done: () => void } | undefined;
  private readonly statusEmitter = new vscode.EventEmitter<StatusParams>();
  /** Fires on every `specter/status` notification. */
  readonly onStatus = this.statusEmitter.event;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Specter', { log: true });
    this.statusBar = new StatusBar();
    this.acceptance = new AcceptanceTracker((method, params) => {
      if (this.running) void this.client?.sendNotification(method, params);
    });
    this.disposables.push(this.output, this.statusBar, this.statusEmitter, this.acceptance);
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => this.configurationChanged(event)),
      vscode.window.onDidChangeActiveTextEditor(() => this.refreshLanguage()),
      // The server learns trust at initialize (InitializationOptions.trusted): restart it once granted.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.restart()),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document === vscode.window.activeTextEditor?.document && event.contentChanges.length > 0) this.debouncer.key();
      }),
    );
    this.refreshLanguage();
  }

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  get languageClient(): LanguageClient | undefined {
    return this.client;
  }

  push(disposable: vscode.Disposable): void {
    this.disposables.push(disposable);
  }

  async start(): Promise<void> {
    if (this.client !== undefined) return;
    const serverModule = this.extension.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module: serverModule, transport: TransportKind.ipc },
      debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      synchronize: { configurationSection: 'specter' },
      initializationOptions: { settings: readSettings(), trusted: vscode.workspace.isTrusted, ...editorTypeScript() } satisfies InitializationOptions,
      outputChannel: this.output,
      // Errors go to the status bar and the log, never into a dialog on every request.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationFailedHandler: (error) => {
        this.output.error(`Specter server failed to start: ${String(error)}`);
        this.statusBar.update({ state: 'error', message: 'The server failed to start — see "Specter: Show Log"' });
        return false;
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          // Restart after a crash; say so once per session, not on every request.
          if (this.nCrashNotices++ === 0) {
            void vscode.window.showWarningMessage('The Specter server stopped unexpectedly and was restarted. See "Specter: Show Log".');
          }
          this.output.warn('Server process closed; restarting');
          this.statusBar.update({ state: 'loading', message: 'Restarting the server' });
          return { action: CloseAction.Restart };
        },
      },
      middleware: {
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          if (!isEnabled() || !isLanguageEnabled(document.languageId)) return [];
          // Explicit triggers (Alt+\) skip the debounce; manual mode asks only on them.
          if (context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic) {
            const delayMs = this.debouncer.delayMs(document, position);
            if (delayMs === undefined || !(await waitOrCancel(delayMs, token))) return [];
          }
          const result = await next(document, position, context, token);
          if (!token.isCancellationRequested && result !== undefined && result !== null) {
            const items = Array.isArray(result) ? result : result.items;
            this.acceptance.provided(document, position, items);
            this.debouncer.shown(document, position, items);
          }
          return result;
        },
      },
    };
    const client = new LanguageClient('specter', 'Specter', serverOptions, clientOptions);
    this.client = client;
    this.disposables.push(client.onNotification(statusNotification, (status: StatusParams) => this.statusReceived(status)));
    this.statusBar.update({ state: 'loading', message: 'Starting the server' });
    try {
      await client.start();
    } catch (error) {
      this.output.error(`Specter server did not start: ${String(error)}`);
      this.statusBar.update({ state: 'error', message: 'The server did not start — see "Specter: Show Log"' });
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.endLoadingProgress();
    if (client !== undefined) {
      try {
        await client.dispose(2_000);
      } catch (error) {
        this.output.warn(`Stopping the server: ${String(error)}`);
      }
    }
  }

  /**
   * Shows a progress notification until the next status that is not 'loading' (the server
   * answers every reload with 'loading' then 'ready', 'error' or 'disabled').
   */
  showLoadingProgress(title: string): void {
    if (this.loadingProgress !== undefined) return;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const timer = setTimeout(() => this.endLoadingProgress(), tProgressLimitMs);
    this.loadingProgress = {
      done: () => {
        clearTimeout(timer);
        resolveDone();
      },
    };
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => done);
  }

  private endLoadingProgress(): void {
    const progress = this.loadingProgress;
    this.loadingProgress = undefined;
    progress?.done();
  }

  private statusReceived(status: StatusParams): void {
    const previous = this.statusBar.current;
    const previousLast = previous.last;
    this.statusBar.update(status);
    if (status.last !== undefined && status.last !== previousLast && !sameStats(status.last, previousLast)) {
      this.history.push(status.last);
      if (this.history.length > nHistory) this.history.shift();
      // The debounce follows the model's latency: typed-through and cached answers (no status)
      // are near-instant and would make every keystroke look cheap to ask about.
      this.debouncer.observeLatency(status.last.totalMs);
    }
    // Log state changes only: every completion re-sends the status with new figures.
    if (status.state !== previous.state || status.message !== previous.message) {
      if (status.state === 'error') this.output.error(`Model: ${status.message}`);
      else if (status.state !== 'loading') this.output.info(`Model ${status.state}: ${status.message}`);
    }
    if (status.state !== 'loading') this.endLoadingProgress();
    this.statusEmitter.fire(status);
  }

  private configurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (event.affectsConfiguration('specter.disabledLanguages')) this.refreshLanguage();
    // The client forwards the section itself (synchronize.configurationSection); here we only
    // tell the user that a reload is under way.
    if (affectsModel(event) && this.running && isEnabled()) this.showLoadingProgress('Specter: loading the model');
  }

  private refreshLanguage(): void {
    const languageId = vscode.window.activeTextEditor?.document.languageId;
    this.statusBar.setDisabledLanguage(languageId !== undefined && disabledLanguages().includes(languageId) ? languageId : undefined);
  }

  dispose(): void {
    void this.stop();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function sameStats(a: CompletionStats, b: CompletionStats | undefined): boolean {
  return b !== undefined && a.totalMs === b.totalMs && a.promptTokens === b.promptTokens && a.generatedTokens === b.generatedTokens;
}

/**
 * VS Code's own TypeScript (its TypeScript extension's copy) for the monitor's language service, so
 * the VSIX does not carry one; absent in editors without it (the server then tries its own).
 */
function editorTypeScript(): { typescriptPath?: string } {
  const file = path.join(vscode.env.appRoot, 'extensions', 'node_modules', 'typescript', 'lib', 'typescript.js');
  return fs.existsSync(file) ? { typescriptPath: file } : {};
}
