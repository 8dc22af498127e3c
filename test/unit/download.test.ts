// The model downloader against a real HTTP server on 127.0.0.1 serving a fixture repository in
// the Hugging Face layout: listing API, resolve URLs with a CDN-style redirect, Range requests,
// a connection cut mid-file, a corrupted file and malicious file names.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { downloadModel, DownloadError, folderName, selectFiles } from '../../src/download/hub';
import { checkUrl, safeDestination } from '../../src/download/safety';

interface FixtureFile {
  content: Buffer;
  /** Listed as an LFS file (sha256) or a git file (blob sha1). */
  lfs: boolean;
  /** Served bytes differ from the listed checksum. */
  corrupt?: boolean;
  /** Listed without size/sha; the resolve response carries x-linked-* headers instead. */
  headersOnly?: boolean;
}

const onnxBytes = randomBytes(256 * 1024);
const files: Record<string, FixtureFile> = {
  'config.json': { content: Buffer.from('{"model_type":"llama","vocab_size":512}\n'), lfs: false },
  'tokenizer.json': { content: Buffer.from('{"model":{"type":"BPE"}}\n'), lfs: false, headersOnly: true },
  'tokenizer_config.json': { content: Buffer.from('{}\n'), lfs: false },
  'onnx/model.onnx': { content: onnxBytes, lfs: true },
  'onnx/model_quantized.onnx': { content: randomBytes(64 * 1024), lfs: true, corrupt: true },
  'README.md': { content: Buffer.from('# fixture\n'), lfs: false },
};
/** Names a hostile listing could carry; none may be written anywhere. */
const maliciousNames = ['../evil.json', 'onnx/../../escape.onnx', '/etc/passwd-copy', 'onnx/%2e%2e/x.onnx', 'onnx\\..\\y.onnx'];

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

let server: http.Server;
let endpoint: string;
/** Requests seen, as "METHOD path range". */
let requests: string[] = [];
/** Files whose next response is cut after half of the bytes. */
const cutOnce = new Set<string>();

function listing(): unknown[] {
  const entries: unknown[] = [{ type: 'directory', path: 'onnx', oid: 'x', size: 0 }];
  for (const [name, f] of Object.entries(files)) {
    if (f.headersOnly === true) entries.push({ type: 'file', path: name });
    else if (f.lfs) entries.push({ type: 'file', path: name, size: 130, oid: gitSha1(Buffer.from('pointer')), lfs: { oid: sha256(f.content), size: f.content.length, pointerSize: 130 } });
    else entries.push({ type: 'file', path: name, size: f.content.length, oid: gitSha1(f.content) });
  }
  for (const name of maliciousNames) entries.push({ type: 'file', path: name, size: 4, oid: gitSha1(Buffer.from('evil')) });
  return entries;
}

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  requests.push(`${req.method ?? ''} ${url.pathname} ${req.headers.range ?? ''}`.trim());
  if (url.pathname === '/api/models/acme/tiny-coder/tree/main') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listing()));
    return;
  }
  const resolve = /^\/acme\/tiny-coder\/resolve\/main\/(.+)$/.exec(url.pathname);
  if (resolve?.[1] !== undefined) {
    // Like the hub: resolve redirects to a CDN URL.
    res.writeHead(302, { location: `/cdn/${resolve[1]}` }).end();
    return;
  }
  const cdn = /^\/cdn\/(.+)$/.exec(url.pathname);
  const name = cdn?.[1] !== undefined ? decodeURIComponent(cdn[1]) : undefined;
  const file = name !== undefined ? files[name] : undefined;
  if (name === undefined || file === undefined) {
    res.writeHead(404).end();
    return;
  }
  let body = file.content;
  if (file.corrupt === true) body = Buffer.from(body.map((b) => b ^ 1));
  const headers: Record<string, string | number> = { 'accept-ranges': 'bytes' };
  if (file.headersOnly === true) {
    headers['x-linked-etag'] = `"${sha256(body)}"`;
    headers['x-linked-size'] = body.length;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let status = 200;
  if (range?.[1] !== undefined) {
    const start = Number(range[1]);
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    body = body.subarray(start);
    status = 206;
  }
  headers['content-length'] = body.length;
  res.writeHead(status, headers);
  if (cutOnce.delete(name)) {
    res.write(body.subarray(0, body.length >> 1));
    setImmediate(() => res.destroy());
    return;
  }
  res.end(body);
}

let workDir: string;
beforeEach(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-download-'));
  requests = [];
});

before(async () => {
  server = http.createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const base = (target: string) => ({ repo: 'acme/tiny-coder', target, variant: 'model', endpoint, allowLoopbackHttp: true });

void describe('model download', () => {
  void it('downloads config, tokenizer and the chosen variant, verified, into the target folder', async () => {
    const target = path.join(workDir, folderName('acme/tiny-coder'));
    const result = await downloadModel(base(target));
    assert.deepEqual(result.files.sort(), ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    assert.deepEqual(fs.readFileSync(path.join(target, 'onnx', 'model.onnx')), onnxBytes);
    assert.equal(fs.existsSync(`${target}.download`), false, 'the staging folder is renamed');
    assert.equal(fs.existsSync(path.join(target, 'README.md')), false, 'only the files a model needs');
    assert.deepEqual(result.rejected.map((r) => r.path).sort(), [...maliciousNames].sort());
    const everything = fs.readdirSync(workDir, { recursive: true }).map(String);
    assert.ok(!everything.some((p) => /evil|escape|passwd|x\.onnx|y\.onnx/.test(p)), `nothing written for malicious names: ${everything.join(', ')}`);
  });

  void it('resumes a file cut mid-transfer with a Range request, and never exposes the partial file', async () => {
    const target = path.join(workDir, 'm');
    cutOnce.add('onnx/model.onnx');
    await assert.rejects(downloadModel(base(target)), (e: unknown) => e instanceof DownloadError && /closed|received/.test(e.message));
    assert.equal(fs.existsSync(target), false, 'no model folder after a failed download');
    const part = path.join(`${target}.download`, 'onnx', 'model.onnx.part');
    assert.ok(fs.statSync(part).size > 0 && fs.statSync(part).size < onnxBytes.length, 'the partial file is kept as .part');
    assert.equal(fs.existsSync(path.join(`${target}.download`, 'onnx', 'model.onnx')), false);

    requests = [];
    const result = await downloadModel(base(target));
    assert.equal(result.nResumed, 1);
    assert.ok(requests.some((r) => r.startsWith('GET /cdn/onnx/model.onnx bytes=')), requests.join('\n'));
    assert.ok(!requests.some((r) => r.startsWith('GET /cdn/config.json')), 'finished files are not fetched again');
    assert.deepEqual(fs.readFileSync(path.join(target, 'onnx', 'model.onnx')), onnxBytes);
  });

  void it('deletes a file whose SHA-256 does not match and leaves no model behind', async () => {
    const target = path.join(workDir, 'q');
    await assert.rejects(downloadModel({ ...base(target), variant: 'model_quantized' }), (e: unknown) => e instanceof DownloadError && e.code === 'hash-mismatch');
    assert.equal(fs.existsSync(target), false);
    assert.equal(fs.existsSync(path.join(`${target}.download`, 'onnx', 'model_quantized.onnx.part')), false);
    assert.equal(fs.existsSync(path.join(`${target}.download`, 'onnx', 'model_quantized.onnx')), false);
  });

  void it('stops when cancelled, keeping only .part files', async () => {
    const target = path.join(workDir, 'c');
    const controller = new AbortController();
    await assert.rejects(
      downloadModel({ ...base(target), signal: controller.signal, onProgress: (p) => p.file.startsWith('onnx/') && p.bytesDone > 0 && controller.abort() }),
      (e: unknown) => e instanceof DownloadError && e.code === 'cancelled',
    );
    assert.equal(fs.existsSync(target), false);
  });

  void it('names a missing variant and lists the ones that exist', async () => {
    await assert.rejects(downloadModel({ ...base(path.join(workDir, 'v')), variant: 'model_fp16' }), /variants available: model, model_quantized/);
  });

  void it('refuses plain HTTP unless a test allows loopback explicitly', async () => {
    await assert.rejects(downloadModel({ ...base(path.join(workDir, 'h')), allowLoopbackHttp: false }), (e: unknown) => e instanceof DownloadError && e.code === 'insecure-url');
    assert.throws(() => checkUrl('http://example.com/x', true), /HTTPS only/);
    assert.throws(() => checkUrl('file:///etc/passwd', true), /HTTPS only/);
    assert.equal(checkUrl('https://huggingface.co/api', false).host, 'huggingface.co');
  });

  void it('rejects repository ids and variants that could escape the download folder', async () => {
    for (const repo of ['../x', 'a/b/c', 'a/..', 'a', '']) {
      await assert.rejects(downloadModel({ ...base(path.join(workDir, 'r')), repo }), (e: unknown) => e instanceof DownloadError && e.code === 'bad-repo', repo);
    }
    await assert.rejects(downloadModel({ ...base(path.join(workDir, 'r')), variant: '../model' }), (e: unknown) => e instanceof DownloadError && e.code === 'unsafe-path');
  });
});

void describe('download safety', () => {
  const cases: [string, boolean][] = [
    ['config.json', true],
    ['onnx/model.onnx', true],
    ['onnx/model.onnx_data_1', true],
    ['../x', false],
    ['a/../../x', false],
    ['/abs', false],
    ['a//b', false],
    ['a/./b', false],
    ['a\\b', false],
    ['a%2fb', false],
    ['C:x', false],
    ['a\u0000b', false],
  ];
  for (const [name, ok] of cases) {
    void it(`${ok ? 'accepts' : 'rejects'} ${JSON.stringify(name)}`, () => {
      if (ok) assert.ok(safeDestination('/tmp/root', name).startsWith('/tmp/root/'));
      else assert.throws(() => safeDestination('/tmp/root', name), /Unsafe file name/);
    });
  }

  void it('selectFiles keeps external weight files of the chosen variant only', () => {
    const listing = ['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data'].map((p) => ({ path: p }));
    assert.deepEqual(
      selectFiles(listing, 'model').map((f) => f.path),
      ['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model.onnx_data'],
    );
  });
});
