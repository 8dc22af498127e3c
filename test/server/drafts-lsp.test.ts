// Multi-draft inline completion (specter.drafts.count 3) in the built server over real LSP, typed
// the way an editor types: every keystroke changes the document and cancels the request before.
// A cancelled request must not come back as shortened drafts (they would be shown, cached and
// typed through as if they were whole suggestions); whatever the server answers for a state is
// what an undisturbed request for that state answers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InlineCompletionItem } from 'vscode-languageserver-protocol';
import { CancellationTokenSource, InlineCompletionRequest } from 'vscode-languageserver-protocol/node';
import { endPosition, startServer, type Harness } from './lsp-harness';

const uri = 'file:///tmp/specter-test/stats.ts';
const head = 'export function sum(values: number[]): number {\n  let total = 0;\n  for (const value of values) {\n    total += value;\n  }\n  return total;\n}\n\nexport function average(values: number[]): number {\n  ';
const tail = '\n}\n';
const typed = 'const half = ';
// Cache, typing-through and prefetch off: each answer comes straight from the model. Drafts from
// the model alone (α 0): with the default α the n-gram index over the open documents reranks them,
// and that index re-encodes a document at most every 2 s, so the typist's and the reference's
// drafts for one state would depend on when each last indexed the document.
const settings = { completion: { maxTokens: 24, maxLines: 2 }, drafts: { count: 3, alpha: 0 }, typing: { cache: false, typeThrough: false, prefetch: false } };

const texts = (items: readonly InlineCompletionItem[]): string[] => items.map((i) => (typeof i.insertText === 'string' ? i.insertText : i.insertText.value));

describe('multi-draft inline completion over LSP while typing', () => {
  let typist: Harness;
  let reference: Harness;
  before(async () => {
    [typist, reference] = await Promise.all([startServer(settings), startServer(settings)]);
    await Promise.all([typist.waitForStatus((s) => s.state === 'ready', 0), reference.waitForStatus((s) => s.state === 'ready', 0)]);
    await typist.open(uri, 'typescript', head + tail);
    await reference.open(uri, 'typescript', head + tail);
  });
  after(async () => Promise.all([typist.close(), reference.close()]));

  it('cancelled requests answer nothing or whole drafts; the last state gets all three', async () => {
    const answers: { prefix: string; items: string[] }[] = [];
    let previous: CancellationTokenSource | undefined;
    const pending: Promise<void>[] = [];
    for (let i = 1; i <= typed.length; i++) {
      previous?.cancel();
      const prefix = head + typed.slice(0, i);
      await typist.change(uri, i + 1, prefix + tail);
      const source = new CancellationTokenSource();
      previous = source;
      const at = endPosition(prefix);
      pending.push(
        typist.connection.sendRequest(InlineCompletionRequest.type, { textDocument: { uri }, position: at, context: { triggerKind: 2 } }, source.token).then(
          (r) => {
            const items = r === null || r === undefined ? [] : Array.isArray(r) ? r : r.items;
            if (items.length > 0) answers.push({ prefix, items: texts(items) });
          },
          () => undefined, // RequestCancelled
        ),
      );
      // A keystroke every 15 ms: faster than a three-draft completion.
      if (i < typed.length) await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await Promise.all(pending);
    const stats = await typist.stats();
    assert.ok(stats.nCancelled > 0, 'typing cancelled running completions');

    const last = answers.find((a) => a.prefix === head + typed);
    assert.ok(last !== undefined, `the last state got suggestions: ${JSON.stringify(answers)}`);
    assert.ok(last.items.length >= 2, `several suggestions: ${JSON.stringify(last.items)}`);
    let version = 1;
    for (const a of answers) {
      await reference.change(uri, ++version, a.prefix + tail);
      const at = endPosition(a.prefix);
      assert.deepEqual(a.items, texts(await reference.complete(uri, at.line, at.character)), `answer for ${JSON.stringify(a.prefix.slice(head.length))}`);
    }
  });
});
