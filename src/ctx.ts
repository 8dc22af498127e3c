// One object owns the client's lifecycle and every disposable (rust-analyzer's Ctx): the
// language client, the status bar, the output channel and the command registrations.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { statusNotification, type StatusParams } from '../server/protocol';
import { StatusBar } from './status-bar';
import { readSettings } from './config';

export class Ctx implements vscode.Disposable {
  readonly output: vscode.LogOutputChannel;
  readonly statusBar: StatusBar;
  private client: LanguageClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private nCrashNotices = 0;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Specter', { log: true });
    this.statusBar = new StatusBar();
    this.disposables.push(this.output, this.statusBar);
  }

  get running(): boolean {
    return this.client?.isRunning() ?? false;
  }

  get languageClient(): LanguageClient | undefined {
    return this.client;
  }

  push(disposable: vscode.Disposable): void {
    this.disposables.push(disposable);
  }

  async start(): Promise<void> {
    const serverModule = this.extension.asAbsolutePath(path.join('dist', 'server.js'));
    const serverOptions: ServerOptions = {
      run: { module: serverModule, transport: TransportKind.ipc },
      debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      synchronize: { configurationSection: 'specter' },
      initializationOptions: { settings: readSettings() },
      outputChannel: this.output,
      initializationFailedHandler: (error) => {
        this.output.error(`Specter server failed to start: ${String(error)}`);
        return false;
      },
      errorHandler: {
        error: () => ({ action: 1 /* ErrorAction.Continue */ }),
        closed: () => {
          // Restart after a crash and say so once per session, not on every request.
          if (this.nCrashNotices++ === 0) {
            void vscode.window.showWarningMessage('The Specter server stopped unexpectedly and was restarted. See "Specter: Show Log".');
          }
          this.statusBar.update({ state: 'loading', message: 'Restarting the server' });
          return { action: 2 /* CloseAction.Restart */ };
        },
      },
    };
    this.client = new LanguageClient('specter', 'Specter', serverOptions, clientOptions);
    this.disposables.push(this.client.onNotification(statusNotification, (status: StatusParams) => this.statusBar.update(status)));
    this.statusBar.update({ state: 'loading', message: 'Starting the server' });
    await this.client.start();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await client.dispose();
  }

  dispose(): void {
    void this.stop();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
