// Tells the server which suggestion was shown and how much of it the user took
// (`specter/didShow`, `specter/didPartiallyAccept`; they feed prefetch and the statistics), and
// counts acceptance for the statistics view.
//
// Stable VS Code API has no "shown" / "partially accepted" callbacks for inline completions (they
// are proposed API), so this infers them: the first item the provider returns for a request that
// was not cancelled is taken as shown; the next edit of that document at the suggestion's position
// tells what happened — the whole (rest of the) text inserted in one change is an accept (Tab), a
// proper prefix of two or more characters in one change is a partial accept (Ctrl+→ word / line
// accept) and the rest stays tracked, and
// anything else (typing, which inserts one character at a time) ends the tracking.
import * as vscode from 'vscode';
import {
  didPartiallyAcceptNotification,
  didShowNotification,
  type DidPartiallyAcceptParams,
  type DidShowParams,
} from '../server/protocol';

export interface AcceptanceCounts {
  nShown: number;
  nAccepted: number;
  nPartiallyAccepted: number;
}

interface Shown {
  uri: string;
  /** Where the not yet accepted rest of the suggestion starts, UTF-16 offset. */
  offset: number;
  text: string;
  /** UTF-16 code units of `text` accepted so far by partial accepts. */
  nAccepted: number;
}

type Notify = (method: string, params: DidShowParams | DidPartiallyAcceptParams) => void;

export class AcceptanceTracker implements vscode.Disposable {
  readonly counts: AcceptanceCounts = { nShown: 0, nAccepted: 0, nPartiallyAccepted: 0 };
  private shown: Shown | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly notify: Notify) {
    this.subscription = vscode.workspace.onDidChangeTextDocument((event) => this.changed(event));
  }

  /** Called with the items the provider returned for a request that was not cancelled. */
  provided(document: vscode.TextDocument, position: vscode.Position, items: readonly vscode.InlineCompletionItem[]): void {
    const first = items[0];
    const text = typeof first?.insertText === 'string' ? first.insertText : first?.insertText.value;
    if (text === undefined || text === '') return;
    this.shown = { uri: document.uri.toString(), offset: document.offsetAt(position), text, nAccepted: 0 };
    this.counts.nShown++;
    this.notify(didShowNotification, { uri: this.shown.uri, text });
  }

  /** Share of shown suggestions accepted in full or in part, 0..1 (undefined before any). */
  get acceptanceRate(): number | undefined {
    const c = this.counts;
    return c.nShown > 0 ? (c.nAccepted + c.nPartiallyAccepted) / c.nShown : undefined;
  }

  private changed(event: vscode.TextDocumentChangeEvent): void {
    const shown = this.shown;
    if (shown === undefined || event.document.uri.toString() !== shown.uri || event.contentChanges.length === 0) return;
    this.shown = undefined;
    const change = event.contentChanges[0];
    if (event.contentChanges.length !== 1 || change === undefined || change.rangeOffset !== shown.offset || change.rangeLength !== 0) return;
    const rest = shown.text.slice(shown.nAccepted);
    if (change.text === rest) {
      if (shown.nAccepted === 0) this.counts.nAccepted++;
    } else if (change.text.length >= 2 && rest.startsWith(change.text)) {
      // VS Code keeps showing the rest: keep tracking it for the next word / line accept.
      if (shown.nAccepted === 0) this.counts.nPartiallyAccepted++;
      const nAccepted = shown.nAccepted + change.text.length;
      this.shown = { ...shown, offset: shown.offset + change.text.length, nAccepted };
      this.notify(didPartiallyAcceptNotification, { uri: shown.uri, text: shown.text, acceptedLength: nAccepted });
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
