// The typing layer inside the built language server, over real LSP: typing-through and a
// prefetched acceptance are served without forward passes and equal what a server with every
// typing feature off answers; idle unload frees the model and the next request loads it again.
// SPECTER_SERVER picks another build (default dist/server.js).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startClient, type EditorClient } from '../../bench/typing/client';

const serverPath = process.env['SPECTER_SERVER'] ?? path.join(__dirname, '..', '..', 'dist', 'server.js');
const uri = 'file:///typing-lsp/util.py';
const prefix = 'def mean(values):\n    total = 0\n    for v in values:\n        total += v\n    return ';
const suffix = '\n\n\ndef main():\n    print(mean([1, 2, 3]))\n';
const completion = { maxTokens: 24, maxLines: 2 };
/** Cursor spots to try for the typing-through test: the first where the model suggests at least two characters is used. */
const candidates = [
  prefix,
  'def mean(values):\n    total = 0\n    for v in values:\n        total += v\n    return total / len(',
  'def mean(values):\n    total = 0\n    for v in values:\n        tot',
  'def mean(values):\n    total = 0\n    for v in values:\n        total += v\n    return tot',
  'import os\n\n\ndef main():\n    print(os.path.jo',
];
const off = { cache: false, typeThrough: false, prefetch: false, reuse: false };

function position(text: string): { line: number; character: number } {
  const lines = text.split('\n');
  return { line: lines.length - 1, character: (lines[lines.length - 1] ?? '').length };
}

async function ask(c: EditorClient, before: string, invoked = false): Promise<string> {
  const at = position(before);
  const items = await c.request(uri, at.line, at.character, invoked).done;
  assert.notEqual(items, 'cancelled');
  const first = items === 'cancelled' ? undefined : items[0]?.insertText;
  return typeof first === 'string' ? first : '';
}

async function idle(c: EditorClient): Promise<void> {
  while ((await c.typingStats()).busy) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('typing layer over LSP', () => {
  let specter: EditorClient;
  let naive: EditorClient;
  before(async () => {
    specter = await startClient(serverPath, { completion });
    naive = await startClient(serverPath, { completion, typing: off });
    await specter.waitReady();
    await naive.waitReady();
    await specter.open(uri, 'python', prefix + suffix);
    await naive.open(uri, 'python', prefix + suffix);
  });
  after(async () => {
    await specter.close();
    await naive.close();
  });

  it('types through the suggestion and serves the prefetched acceptance without forward passes', async () => {
    let start: string | undefined;
    let first = '';
    for (const p of candidates) {
      await specter.change(uri, p + suffix);
      await naive.change(uri, p + suffix);
      first = await ask(specter, p);
      assert.equal(first, await ask(naive, p));
      if (first.length >= 2) {
        start = p;
        break;
      }
    }
    assert.ok(start !== undefined, 'the model suggests at least two characters at one of the candidate spots');
    const prefix = start;
    await idle(specter);
    const stats0 = await specter.typingStats();
    const typed = prefix + first.slice(0, 1);
    await specter.change(uri, typed + suffix);
    assert.equal(await ask(specter, typed), first.slice(1));
    const accepted = prefix + first;
    await specter.change(uri, accepted + suffix);
    const next = await ask(specter, accepted);
    const stats1 = await specter.typingStats();
    assert.equal(stats1.nTypeThrough - stats0.nTypeThrough, 1);
    // The prefetch ran while the client waited for the server to go idle.
    if (stats0.prefetch.nDone >= 1) {
      assert.equal(stats1.nPrefetchHits - stats0.nPrefetchHits, 1);
      assert.equal(stats1.model?.nForward, stats0.model?.nForward, 'no forward pass for typed-through or prefetched answers');
    }
    await naive.change(uri, accepted + suffix);
    assert.equal(next, await ask(naive, accepted), 'the prefetched answer equals a cold one');
  });

  it('unloads the model when idle and loads it again on the next request', async () => {
    const text = prefix + suffix;
    await specter.change(uri, text);
    const before = await ask(specter, prefix, true);
    // 0.005 min = 300 ms.
    await specter.configure({ completion, idleUnloadMinutes: 0.005 });
    while ((await specter.typingStats()).nIdleUnloads === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await specter.typingStats()).model, undefined);
    assert.equal(await ask(specter, prefix, true), before);
    assert.ok((await specter.typingStats()).model !== undefined);
  });
});
