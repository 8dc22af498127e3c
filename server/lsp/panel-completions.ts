// specter/panelCompletions: k alternative completions at a position of a synced document, for the
// Completions Panel; the drafts so far stream as specter/panelProgress notifications.
import type { CancellationToken, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionService } from '../completion-service';
import type { PanelCompletionsParams, PanelCompletionsResult, PanelProgressParams } from '../protocol';
import { toAbortSignal } from './inline-completion';

export async function providePanelCompletions(
  documents: TextDocuments<TextDocument>,
  service: CompletionService,
  params: PanelCompletionsParams,
  token: CancellationToken,
  progress: (p: PanelProgressParams) => void,
): Promise<PanelCompletionsResult> {
  const document = documents.get(params.textDocument.uri);
  if (document === undefined) return { id: params.id, drafts: [], reason: 'The document is not open in the Specter server.' };
  const text = document.getText();
  const offset = document.offsetAt(params.position);
  const request = { uri: document.uri, languageId: document.languageId, prefix: text.slice(0, offset), suffix: text.slice(offset) };
  return service.panelCompletions(params.id, request, params.k, progress, toAbortSignal(token));
}
