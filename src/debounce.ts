// How long to wait after a keystroke before asking the server for a completion. The policy is
// server/typing/debounce-policy.ts (pure logic, shared with the typing benchmark); this file feeds
// it the user's typing rhythm and the observed latency, and reads `specter.debounceMs` /
// `specter.debounceMode`. The server cancels superseded requests anyway; the debounce only spares
// it work that would be thrown away.
import * as vscode from 'vscode';
import { adaptiveDebounce, ShownSuggestion, TypingRhythm, type DebounceMode } from '../server/typing/debounce-policy';
import { debounceMs, section } from './config';

function debounceMode(): DebounceMode {
  return vscode.workspace.getConfiguration(section).get<string>('debounceMode', 'auto') === 'manual' ? 'manual' : 'auto';
}

export class Debouncer {
  private readonly rhythm = new TypingRhythm();
  private readonly onScreen = new ShownSuggestion();

  /** A keystroke in the active editor. */
  key(): void {
    this.rhythm.key(performance.now());
  }

  /** A model completion that took `tMs` (the server's status after each one). */
  observeLatency(tMs: number): void {
    this.rhythm.observeLatency(tMs);
  }

  /** The first item answered for `position` (what VS Code shows); keystrokes that type it through are asked at once. */
  shown(document: vscode.TextDocument, position: vscode.Position, items: readonly vscode.InlineCompletionItem[]): void {
    const first = items[0];
    const text = first?.insertText;
    const atCursor = first?.range === undefined || first.range.start.isEqual(position);
    if (typeof text === 'string' && atCursor) this.onScreen.show(document.uri.toString(), position.line, position.character, text);
    else this.onScreen.clear();
  }

  /** Milliseconds to wait before an automatic request, or undefined in manual mode (no request). */
  delayMs(document: vscode.TextDocument, position: vscode.Position): number | undefined {
    const line = document.lineAt(position.line).text;
    const decision = adaptiveDebounce({
      lineBefore: line.slice(0, position.character),
      lineAfter: line.slice(position.character),
      typingIntervalMs: this.rhythm.intervalMs,
      latencyMs: this.rhythm.latencyMs,
      fixedMs: debounceMs() ?? null,
      mode: debounceMode(),
      typesThrough: this.onScreen.typesThrough(document.uri.toString(), position.line, position.character, line),
    });
    return decision.kind === 'wait' ? decision.ms : undefined;
  }
}

/** Resolves true after `delayMs`, or false as soon as the request is cancelled. */
export function waitOrCancel(delayMs: number, token: vscode.CancellationToken): Promise<boolean> {
  if (token.isCancellationRequested) return Promise.resolve(false);
  if (delayMs <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const subscription = token.onCancellationRequested(() => {
      clearTimeout(timer);
      subscription.dispose();
      resolve(false);
    });
    const timer = setTimeout(() => {
      subscription.dispose();
      resolve(true);
    }, delayMs);
  });
}
