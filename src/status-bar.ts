// The status bar item: model state and provider; the tooltip carries the last completion's figures.
import * as vscode from 'vscode';
import type { StatusParams } from '../server/protocol';

const icons: Record<StatusParams['state'], string> = {
  loading: '$(loading~spin)',
  ready: '$(sparkle)',
  error: '$(error)',
  disabled: '$(circle-slash)',
};

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('specter.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'Specter';
    this.item.command = 'specter.showActions';
    this.item.show();
  }

  update(status: StatusParams): void {
    const provider = status.executionProvider !== undefined ? ` ${status.executionProvider}` : '';
    this.item.text = `${icons[status.state]} Specter${status.state === 'ready' ? provider : `: ${status.state}`}`;
    const lines = [`**Specter** — ${status.message}`];
    if (status.warning !== undefined) lines.push(`⚠ ${status.warning}`);
    const last = status.last;
    if (last !== undefined) {
      lines.push(
        `Last completion: ${last.totalMs.toFixed(0)} ms (prefill ${last.prefillMs.toFixed(0)} ms, decode ${last.decodeMs.toFixed(0)} ms)`,
        `Tokens: ${last.promptTokens} prompt (${last.reusedTokens} reused from cache), ${last.generatedTokens} generated, ${last.tokensPerSecond.toFixed(1)} tokens/s`,
      );
    }
    this.item.tooltip = new vscode.MarkdownString(lines.join('\n\n'));
    this.item.backgroundColor = status.state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
