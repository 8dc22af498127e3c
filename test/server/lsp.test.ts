// The built server over a real LSP connection with the real embedded model.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultModelDir, endPosition, startServer, type Harness } from './lsp-harness';

const prefix = 'def add(a, b):\n    return ';
const suffix = '\n\n\ndef sub(a, b):\n    return a - b\n';

describe('language server over LSP', () => {
  let h: Harness;
  before(async () => {
    // Prefetch would legitimately keep one background job alive after the storm; the cache would
    // answer repeated states without the model. Both have their own tests (typing-*.test.ts).
    h = await startServer({ completion: { maxTokens: 24 }, typing: { prefetch: false, cache: false, typeThrough: false } });
    await h.waitForStatus((s) => s.state === 'ready', 0);
  });
  after(async () => h.close());

  it('advertises inline completion and reports ready with the provider', () => {
    const ready = h.statuses.find((s) => s.state === 'ready');
    assert.ok(ready);
    assert.match(ready.executionProvider ?? '', /cpu|cuda|dml|coreml|webgpu/i);
  });

  it('returns an item that inserts at the cursor', async () => {
    const uri = 'file:///tmp/specter-test/add.py';
    await h.open(uri, 'python', prefix + suffix);
    const at = endPosition(prefix);
    const items = await h.complete(uri, at.line, at.character);
    assert.equal(items.length, 1);
    const item = items[0]!;
    assert.equal(typeof item.insertText, 'string');
    assert.ok((item.insertText as string).length > 0);
    assert.deepEqual(item.range, { start: at, end: at });
    const stats = await h.stats();
    assert.ok(stats.nCompletions >= 1);
    assert.ok(stats.last !== undefined && stats.last.generatedTokens > 0);
  });

  it('cancellation stops the decode loop and answers with an empty result', async () => {
    // A long decode (several lines at the end of a file, 400 tokens) that the cancellation, sent
    // right behind the request, always overtakes: a one-line completion could finish first.
    await h.configure({ completion: { maxTokens: 400, maxLines: 200, multiline: 'always', timeCapAfterNewlineMs: 60_000 }, typing: { prefetch: false, cache: false, typeThrough: false } });
    const uri = 'file:///tmp/specter-test/cancel.py';
    const text = 'def add(a, b):\n    return a + b\n\n\n';
    await h.open(uri, 'python', text);
    const before = await h.stats();
    const at = endPosition(text);
    const source = new (await import('vscode-languageserver-protocol')).CancellationTokenSource();
    const pending = h.connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: at, context: { triggerKind: 2 } }, source.token);
    source.cancel();
    const result = await pending.catch((e: unknown) => e);
    // Either the server answered [] or the RPC layer reported RequestCancelled: both are fine.
    if (Array.isArray(result)) assert.equal(result.length, 0);
    const afterStats = await h.stats();
    assert.equal(afterStats.nCompletions, before.nCompletions, 'the cancelled request must not run to completion');
    await h.configure({ completion: { maxTokens: 24 }, typing: { prefetch: false, cache: false, typeThrough: false } });
  });

  it('a request storm leaves one live generation and the server healthy', async () => {
    const uri = 'file:///tmp/specter-test/storm.py';
    let text = prefix;
    await h.open(uri, 'python', text + suffix);
    const pending: Promise<unknown>[] = [];
    const nRequests = 200;
    for (let i = 0; i < nRequests; i++) {
      text += i % 2 === 0 ? 'a' : ' ';
      await h.change(uri, i + 2, text + suffix);
      const at = endPosition(text);
      pending.push(h.complete(uri, at.line, at.character));
      await new Promise((r) => setImmediate(r));
    }
    const results = (await Promise.all(pending)) as unknown[][];
    const nonEmpty = results.filter((r) => r.length > 0).length;
    assert.ok(nonEmpty <= 3, `expected at most a few completions to survive, got ${nonEmpty}`);
    const stats = await h.stats();
    assert.equal(stats.nActive, 0, 'no generation may still run after the storm');
    // The server still answers a normal request afterwards (at the spot of the test above, where
    // the model has something to say; after "a a a " it may rightly have nothing).
    await h.change(uri, nRequests + 2, prefix + suffix);
    const at = endPosition(prefix);
    const items = await h.complete(uri, at.line, at.character);
    assert.equal(items.length, 1);
  });

  it('refuses binary content with an empty completion and says why', async () => {
    const uri = 'file:///tmp/specter-test/blob.bin';
    const binary = 'PK\u0003\u0004\u0000\u0000' + '\u0001\u0002\u0000'.repeat(200);
    await h.open(uri, 'plaintext', binary);
    const since = h.statuses.length;
    const items = await h.complete(uri, 0, 10);
    assert.equal(items.length, 0);
    const status = await h.waitForStatus((s) => (s.warning ?? '').includes('binary'), since);
    assert.match(status.warning ?? '', /binary/);
    assert.ok(h.logs.some((l) => l.includes('binary')));
  });

  it('completes in a 5 MB single-line file without choking', async () => {
    const uri = 'file:///tmp/specter-test/huge.js';
    const line = 'var x = [' + '1, '.repeat(5 * 1024 * 1024 / 3);
    await h.open(uri, 'javascript', line);
    const items = await h.complete(uri, 0, line.length);
    assert.ok(Array.isArray(items));
    const stats = await h.stats();
    assert.ok(stats.last !== undefined && stats.last.promptTokens <= 1200, `prompt must stay within budget, got ${stats.last?.promptTokens}`);
  });
});

describe('bad model settings over LSP', () => {
  let h: Harness;
  let tmp: string;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-bad-'));
    h = await startServer({ model: path.join(tmp, 'does-not-exist') });
  });
  after(async () => {
    await h.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a missing model directory: error status, empty completion, recovery when fixed', async () => {
    const error = await h.waitForStatus((s) => s.state === 'error', 0);
    assert.match(error.message, /does-not-exist/);
    assert.match(error.message, /specter\.model/);
    const uri = 'file:///tmp/specter-test/bad.py';
    await h.open(uri, 'python', prefix + suffix);
    const at = endPosition(prefix);
    assert.deepEqual(await h.complete(uri, at.line, at.character), []);
    const since = h.statuses.length;
    await h.configure({ model: '' });
    await h.waitForStatus((s) => s.state === 'ready', since);
    const items = await h.complete(uri, at.line, at.character);
    assert.equal(items.length, 1);
  });

  it('a truncated onnx/model.onnx: error status naming the file, recovery when fixed', async () => {
    const broken = path.join(tmp, 'broken');
    fs.cpSync(defaultModelDir, broken, { recursive: true });
    const onnxFile = path.join(broken, 'onnx', 'model.onnx');
    const size = fs.statSync(onnxFile).size;
    fs.truncateSync(onnxFile, Math.floor(size / 3));
    let since = h.statuses.length;
    await h.configure({ model: broken });
    const error = await h.waitForStatus((s) => s.state === 'error', since);
    assert.match(error.message, /model\.onnx/);
    assert.ok(h.logs.some((l) => l.includes('model.onnx')));
    // Fix the files on disk and change the setting back: the server recovers without a restart.
    fs.copyFileSync(path.join(defaultModelDir, 'onnx', 'model.onnx'), onnxFile);
    since = h.statuses.length;
    await h.configure({ model: '' });
    await h.waitForStatus((s) => s.state === 'ready', since);
  });
});
