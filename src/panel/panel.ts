// "Specter: Open Completions Panel" (Ctrl+Enter): a webview beside the editor that streams k
// alternative completions for the cursor position side by side (specter/panelCompletions with
// specter/panelProgress notifications) and inserts the one the user accepts at that position.
// One panel per window; opening it again asks again for the current cursor.
import * as vscode from 'vscode';
import {
  panelCompletionsRequest,
  panelProgressNotification,
  type PanelCompletionsParams,
  type PanelCompletionsResult,
  type PanelDraft,
  type PanelProgressParams,
} from '../../server/protocol';
import type { Ctx } from '../ctx';
import { isFromWebview, type ToWebview } from './messages';

interface Target {
  requestId: string;
  uri: vscode.Uri;
  /** Document version when the drafts were requested: accepting into a changed document is refused. */
  version: number;
  position: vscode.Position;
  /** The editor group the request came from: accepting goes back there, never over the panel. */
  viewColumn: vscode.ViewColumn | undefined;
  drafts: PanelDraft[];
}

let nRequests = 0;

export class CompletionsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private target: Target | undefined;
  private cancel: vscode.CancellationTokenSource | undefined;
  private subscription: vscode.Disposable | undefined;
  private subscribed: unknown;

  constructor(private readonly ctx: Ctx) {}

  /** Opens (or reveals) the panel and asks for drafts at the active editor's cursor. */
  async open(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) {
      void vscode.window.showInformationMessage('Specter: put the cursor in an editor, then open the Completions Panel.');
      return;
    }
    this.ensurePanel();
    await this.request(editor);
  }

  dispose(): void {
    this.cancel?.cancel();
    this.panel?.dispose();
    this.subscription?.dispose();
  }

  private ensurePanel(): vscode.WebviewPanel {
    if (this.panel !== undefined) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return this.panel;
    }
    const mediaRoot = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'panel');
    const panel = vscode.window.createWebviewPanel('specter.completions', 'Specter Completions', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: [mediaRoot],
      retainContextWhenHidden: true,
    });
    panel.webview.html = panelHtml(panel.webview, mediaRoot);
    panel.onDidDispose(() => {
      this.cancel?.cancel();
      this.panel = undefined;
    });
    panel.webview.onDidReceiveMessage((m: unknown) => {
      if (!isFromWebview(m)) return;
      if (m.type === 'accept') void this.accept(m.requestId, m.index);
      if (m.type === 'refresh') void this.open();
    });
    this.panel = panel;
    return panel;
  }

  private async request(editor: vscode.TextEditor): Promise<void> {
    const client = this.ctx.languageClient;
    this.cancel?.cancel();
    const cancel = new vscode.CancellationTokenSource();
    this.cancel = cancel;
    const k = Math.max(2, vscode.workspace.getConfiguration('specter').get<number>('drafts.count', 3));
    const requestId = `panel-${++nRequests}`;
    const position = editor.selection.active;
    this.target = { requestId, uri: editor.document.uri, version: editor.document.version, position, viewColumn: editor.viewColumn, drafts: [] };
    this.post({ type: 'start', requestId, languageId: editor.document.languageId, file: vscode.workspace.asRelativePath(editor.document.uri), line: position.line + 1, k });
    if (client === undefined || !this.ctx.running) {
      this.post({ type: 'drafts', requestId, drafts: [], final: true, note: 'The Specter server is not running.' });
      return;
    }
    if (this.subscribed !== client) {
      // A restarted server comes with a new client: listen on that one.
      this.subscription?.dispose();
      this.subscription = client.onNotification(panelProgressNotification, (p: PanelProgressParams) => this.progress(p));
      this.subscribed = client;
    }
    const params: PanelCompletionsParams = { id: requestId, textDocument: { uri: editor.document.uri.toString() }, position: { line: position.line, character: position.character }, k };
    try {
      const result = await client.sendRequest<PanelCompletionsResult>(panelCompletionsRequest, params, cancel.token);
      if (this.target?.requestId !== requestId) return;
      this.target.drafts = result.drafts;
      this.post({ type: 'drafts', requestId, drafts: result.drafts, final: true, ...(result.reason === undefined ? {} : { note: result.reason }) });
    } catch (error) {
      if (this.target?.requestId === requestId) this.post({ type: 'drafts', requestId, drafts: this.target.drafts, final: true, note: cancel.token.isCancellationRequested ? 'Cancelled.' : `Failed: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  private progress(p: PanelProgressParams): void {
    if (this.target?.requestId !== p.id) return;
    this.target.drafts = p.drafts;
    this.post({ type: 'drafts', requestId: p.id, drafts: p.drafts, final: false });
  }

  /** Inserts draft `index` at the position the drafts were computed for. */
  private async accept(requestId: string, index: number): Promise<void> {
    const target = this.target;
    const draft = target?.drafts[index];
    if (target === undefined || target.requestId !== requestId || draft === undefined) return;
    const document = await vscode.workspace.openTextDocument(target.uri);
    if (document.version !== target.version) {
      void vscode.window.showWarningMessage('Specter: the document changed since these completions were made — press Ctrl+Enter for new ones.');
      return;
    }
    // Back in the group the request came from: opened in the active group (the panel's, after the
    // click) the document would cover the panel.
    const editor = await vscode.window.showTextDocument(document, { viewColumn: target.viewColumn ?? vscode.ViewColumn.One, preserveFocus: false, preview: false });
    const ok = await editor.edit((edit) => edit.insert(target.position, draft.text));
    if (!ok) {
      void vscode.window.showWarningMessage('Specter: the draft could not be inserted (the editor refused the edit) — try again.');
      return;
    }
    const lines = draft.text.split('\n');
    const endLine = target.position.line + lines.length - 1;
    const endCharacter = (lines.length === 1 ? target.position.character : 0) + (lines[lines.length - 1] ?? '').length;
    editor.selection = new vscode.Selection(endLine, endCharacter, endLine, endCharacter);
    this.post({ type: 'accepted', requestId, index });
  }

  private post(message: ToWebview): void {
    void this.panel?.webview.postMessage(message);
  }
}

function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)] ?? 'x';
  return s;
}

function panelHtml(webview: vscode.Webview, mediaRoot: vscode.Uri): string {
  const n = nonce();
  const js = webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'panel.js'));
  const highlighter = webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'highlight.js'));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'panel.css'));
  const csp = `default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${n}'`;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${css.toString()}"><title>Specter Completions</title></head>
<body><header><span id="where">Specter Completions</span><span id="status" class="muted"></span><button id="refresh" title="Ask again at the cursor (Ctrl+Enter)">Refresh</button></header>
<main id="drafts" class="drafts"></main>
<script nonce="${n}" src="${highlighter.toString()}"></script>
<script nonce="${n}" src="${js.toString()}"></script></body></html>`;
}
