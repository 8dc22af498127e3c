// The status bar item: model state, model name and execution provider; the tooltip carries the
// last completion's figures. Clicking opens the quick pick of main actions.
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
  private status: StatusParams = { state: 'loading', message: 'Starting' };
  /** Set when the active editor's language is turned off in `specter.disabledLanguages`. */
  private disabledLanguage: string | undefined;

  constructor() {
    this.item.name = 'Specter';
    this.item.command = 'specter.showActions';
    this.render();
    this.item.show();
  }

  get current(): StatusParams {
    return this.status;
  }

  get text(): string {
    return this.item.text;
  }

  update(status: StatusParams): void {
    this.status = status;
    this.render();
  }

  setDisabledLanguage(languageId: string | undefined): void {
    if (this.disabledLanguage === languageId) return;
    this.disabledLanguage = languageId;
    this.render();
  }

  private render(): void {
    const status = this.status;
    const parts: string[] = [];
    if (status.state === 'ready') {
      if (status.modelName !== undefined) parts.push(status.modelName);
      if (status.executionProvider !== undefined) parts.push(status.executionProvider);
    } else {
      parts.push(status.state === 'loading' ? 'loading' : status.state);
    }
    if (this.disabledLanguage !== undefined && status.state === 'ready') parts.push(`off for ${this.disabledLanguage}`);
    const icon = this.disabledLanguage !== undefined && status.state === 'ready' ? icons.disabled : icons[status.state];
    this.item.text = `${icon} Specter${parts.length > 0 ? `: ${parts.join(' · ')}` : ''}`;

    const lines = [`**Specter** — ${status.message}`];
    if (status.warning !== undefined) lines.push(`$(warning) ${status.warning}`);
    if (this.disabledLanguage !== undefined) lines.push(`Completions are off for \`${this.disabledLanguage}\` (specter.disabledLanguages).`);
    const last = status.last;
    if (last !== undefined) {
      const reuse = last.promptTokens > 0 ? (100 * last.reusedTokens) / last.promptTokens : 0;
      lines.push(
        `Last completion: ${last.totalMs.toFixed(0)} ms (prefill ${last.prefillMs.toFixed(0)} ms, decode ${last.decodeMs.toFixed(0)} ms)`,
        `Tokens: ${last.promptTokens} prompt, ${last.generatedTokens} generated, ${last.tokensPerSecond.toFixed(1)} tokens/s`,
        `Cache reuse: ${last.reusedTokens} of ${last.promptTokens} prompt tokens (${reuse.toFixed(0)}%)`,
      );
      const spec = last.speculation;
      if (spec !== undefined && spec.nDrafted > 0) {
        lines.push(
          `Draft acceptance: ${spec.nAccepted} of ${spec.nDrafted} drafted tokens (${(100 * spec.acceptanceRate).toFixed(0)}%), ${spec.meanAccepted.toFixed(1)} accepted per draft`,
        );
      }
    }
    lines.push('Click for actions.');
    const tooltip = new vscode.MarkdownString(lines.join('\n\n'), true);
    this.item.tooltip = tooltip;
    this.item.backgroundColor = status.state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.accessibilityInformation = { label: `Specter ${status.state}: ${status.message}` };
  }

  dispose(): void {
    this.item.dispose();
  }
}
