// textDocument/inlineCompletion: the text around the cursor goes to the completion service; the
// answer is one insert-at-cursor item, or an empty list (never an error) when there is nothing.
import { InlineCompletionTriggerKind, type CancellationToken, type InlineCompletionItem, type InlineCompletionParams, type TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { TypingAccelerator } from '../typing';

export function toAbortSignal(token: CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

export async function provideInlineCompletion(
  documents: TextDocuments<TextDocument>,
  service: Pick<TypingAccelerator<never>, 'complete'>,
  params: InlineCompletionParams,
  token: CancellationToken,
): Promise<InlineCompletionItem[]> {
  const document = documents.get(params.textDocument.uri);
  if (document === undefined) return [];
  const text = document.getText();
  const offset = document.offsetAt(params.position);
  const result = await service.complete(
    { uri: document.uri, languageId: document.languageId, prefix: text.slice(0, offset), suffix: text.slice(offset) },
    toAbortSignal(token),
    params.context.triggerKind === InlineCompletionTriggerKind.Invoked ? 'invoke' : 'automatic',
  );
  if (result.kind !== 'ok' || result.texts.length === 0) return [];
  const range = { start: params.position, end: params.position };
  return result.texts.map((insertText) => ({ insertText, range }));
}
