// Downloads a model in the transformers.js layout from a Hugging Face style hub. No `vscode`
// import: unit tests run it under node against a real HTTP server on 127.0.0.1.
//
// Layout of a download: files go to `<target>.download/<path>.part`, are checked (size and
// SHA-256 or git blob SHA-1, from the hub's listing or its x-linked-* headers) and renamed to
// `<target>.download/<path>`; when every file is there the folder is renamed to `<target>`.
// A model folder therefore never contains a partial or unchecked file, and an interrupted
// download resumes from the `.part` files with HTTP Range requests.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkRepoId, checkUrl, DownloadError, safeDestination } from './safety';

export { DownloadError } from './safety';

export const defaultEndpoint = 'https://huggingface.co';

/** One file of the repository listing (`GET /api/models/{repo}/tree/{revision}?recursive=true`). */
export interface RepoFile {
  path: string;
  size?: number;
  /** Hex SHA-256 of the content (LFS files). */
  sha256?: string;
  /** Hex git blob SHA-1 (small files stored in git). */
  gitSha1?: string;
}

export interface DownloadProgress {
  file: string;
  nFile: number;
  nFiles: number;
  bytesDone: number;
  /** Total bytes of all files, when the listing gives every size. */
  bytesTotal: number | undefined;
}

export interface DownloadOptions {
  repo: string;
  /** Folder the finished model ends up in. */
  target: string;
  /** ONNX variant under onnx/: model, model_quantized, model_fp16, … */
  variant: string;
  revision?: string;
  endpoint?: string;
  /** Tests only: accept http:// on 127.0.0.1 / localhost. */
  allowLoopbackHttp?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Injected for tests; defaults to global fetch. */
  fetch?: typeof fetch;
}

export interface DownloadResult {
  target: string;
  files: string[];
  /** Files named in the listing that were refused (unsafe names), with the reason. */
  rejected: { path: string; reason: string }[];
  bytesDownloaded: number;
  nResumed: number;
}

const metadataFiles = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const requiredFiles = ['config.json', 'tokenizer.json'];
const maxRedirects = 5;

/** The files of the listing a model needs: metadata, tokenizer and one ONNX variant with its weights. */
export function selectFiles(listing: RepoFile[], variant: string): RepoFile[] {
  const onnx = `onnx/${variant}.onnx`;
  const chosen = listing.filter(
    (f) => metadataFiles.includes(f.path) || f.path === onnx || f.path === `${onnx}_data` || f.path.startsWith(`${onnx}_data_`),
  );
  for (const name of [...requiredFiles, onnx]) {
    if (!chosen.some((f) => f.path === name)) {
      const variants = listing.filter((f) => /^onnx\/[^/]+\.onnx$/.test(f.path)).map((f) => f.path.slice(5, -5));
      throw new DownloadError(
        `The repository has no ${name}${name === onnx ? ` (variants available: ${variants.join(', ') || 'none'})` : ''}; it must use the transformers.js ONNX layout`,
        'missing-file',
      );
    }
  }
  return chosen;
}

function parseListing(json: unknown): RepoFile[] {
  if (!Array.isArray(json)) throw new DownloadError('The hub returned an unexpected file listing', 'http');
  const files: RepoFile[] = [];
  for (const raw of json as Record<string, unknown>[]) {
    if (raw['type'] !== 'file' || typeof raw['path'] !== 'string') continue;
    const file: RepoFile = { path: raw['path'] };
    const lfs = raw['lfs'] as Record<string, unknown> | undefined;
    const size = lfs?.['size'] ?? raw['size'];
    if (typeof size === 'number') file.size = size;
    if (typeof lfs?.['oid'] === 'string' && /^[0-9a-f]{64}$/.test(lfs['oid'])) file.sha256 = lfs['oid'];
    else if (typeof raw['oid'] === 'string' && /^[0-9a-f]{40}$/.test(raw['oid'])) file.gitSha1 = raw['oid'];
    files.push(file);
  }
  return files;
}

/** GET with redirects followed by hand, so that every hop passes the HTTPS check. */
async function get(url: string, options: DownloadOptions, headers: Record<string, string> = {}): Promise<Response> {
  const doFetch = options.fetch ?? fetch;
  let current = checkUrl(url, options.allowLoopbackHttp === true);
  for (let nRedirect = 0; ; nRedirect++) {
    const init: RequestInit = { headers, redirect: 'manual' };
    if (options.signal !== undefined) init.signal = options.signal;
    let response: Response;
    try {
      response = await doFetch(current, init);
    } catch (error) {
      if (options.signal?.aborted === true) throw new DownloadError('Download cancelled', 'cancelled');
      throw new DownloadError(`Cannot reach ${current.host}: ${String(error)}`, 'http');
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      if (nRedirect >= maxRedirects) throw new DownloadError(`Too many redirects from ${url}`, 'http');
      current = checkUrl(new URL(location, current).toString(), options.allowLoopbackHttp === true);
      continue;
    }
    return response;
  }
}

export async function listRepo(options: DownloadOptions): Promise<RepoFile[]> {
  const repo = checkRepoId(options.repo);
  const endpoint = (options.endpoint ?? defaultEndpoint).replace(/\/+$/, '');
  const revision = encodeURIComponent(options.revision ?? 'main');
  const response = await get(`${endpoint}/api/models/${repo}/tree/${revision}?recursive=true`, options);
  if (response.status === 404 || response.status === 401) {
    throw new DownloadError(`Repository ${repo} not found (or private) on ${endpoint}`, 'bad-repo');
  }
  if (!response.ok) throw new DownloadError(`Listing ${repo} failed: HTTP ${response.status}`, 'http');
  return parseListing(await response.json());
}

function hasher(file: RepoFile): Hash | undefined {
  if (file.sha256 !== undefined) return createHash('sha256');
  if (file.gitSha1 !== undefined && file.size !== undefined) return createHash('sha1').update(`blob ${file.size}\0`);
  return undefined;
}

/** Feeds an existing `.part` prefix into the hash so a resumed file is still checked whole. */
async function hashPrefix(hash: Hash | undefined, partPath: string): Promise<void> {
  if (hash === undefined) return;
  for await (const chunk of fs.createReadStream(partPath)) hash.update(chunk as Buffer);
}

interface FileOutcome {
  nBytes: number;
  resumed: boolean;
}

async function downloadFile(
  file: RepoFile,
  url: string,
  destination: string,
  options: DownloadOptions,
  onBytes: (nBytes: number) => void,
): Promise<FileOutcome> {
  const part = `${destination}.part`;
  fs.mkdirSync(path.dirname(destination), { recursive: true });
  let nHave = fs.existsSync(part) ? fs.statSync(part).size : 0;
  if (file.size !== undefined && nHave > file.size) {
    fs.rmSync(part);
    nHave = 0;
  }
  const headers: Record<string, string> = nHave > 0 ? { Range: `bytes=${nHave}-` } : {};
  const response = await get(url, options, headers);
  if (response.status === 416 && file.size !== undefined && nHave === file.size) {
    await response.body?.cancel();
  } else if (!response.ok) {
    await response.body?.cancel();
    throw new DownloadError(`${file.path}: HTTP ${response.status}`, 'http');
  }
  const resumed = response.status === 206;
  if (response.status === 200 && nHave > 0) nHave = 0; // the server ignored Range: start over
  // The hub repeats the LFS metadata in x-linked-* headers; use them when the listing had none.
  const expected: RepoFile = { ...file };
  const linkedEtag = response.headers.get('x-linked-etag')?.replace(/^W\//, '').replace(/"/g, '');
  if (expected.sha256 === undefined && expected.gitSha1 === undefined && linkedEtag !== undefined && /^[0-9a-f]{64}$/.test(linkedEtag)) {
    expected.sha256 = linkedEtag;
  }
  const linkedSize = Number(response.headers.get('x-linked-size') ?? NaN);
  if (expected.size === undefined && Number.isSafeInteger(linkedSize)) expected.size = linkedSize;

  const hash = hasher(expected);
  if (nHave > 0) await hashPrefix(hash, part);
  onBytes(nHave);
  let nBytes = nHave;
  let nNew = 0;
  if (response.status !== 416) {
    const out = fs.createWriteStream(part, { flags: nHave > 0 ? 'a' : 'w' });
    const closed = new Promise<void>((resolve, reject) => {
      out.once('close', resolve);
      out.once('error', reject);
    });
    try {
      if (response.body !== null) {
        for await (const chunk of response.body) {
          const buffer = Buffer.from(chunk as Uint8Array);
          hash?.update(buffer);
          nBytes += buffer.length;
          nNew += buffer.length;
          if (expected.size !== undefined && nBytes > expected.size) {
            throw new DownloadError(`${file.path}: the server sent more than the expected ${expected.size} bytes`, 'size-mismatch');
          }
          if (!out.write(buffer)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
          onBytes(buffer.length);
        }
      }
    } catch (error) {
      out.end();
      await closed;
      if (error instanceof DownloadError) {
        if (error.code === 'size-mismatch') fs.rmSync(part, { force: true });
        throw error;
      }
      if (options.signal?.aborted === true) throw new DownloadError('Download cancelled', 'cancelled');
      // A connection cut mid-file: the .part keeps what arrived and the next attempt resumes.
      throw new DownloadError(`${file.path}: the connection closed after ${nBytes} bytes (${String(error)}); run the download again to resume`, 'http');
    }
    out.end();
    await closed;
  }
  if (expected.size !== undefined && nBytes !== expected.size) {
    throw new DownloadError(
      `${file.path}: received ${nBytes} of ${expected.size} bytes; the partial file is kept and the next download resumes it`,
      'size-mismatch',
    );
  }
  if (hash !== undefined) {
    const digest = hash.digest('hex');
    const want = expected.sha256 ?? expected.gitSha1;
    if (digest !== want) {
      fs.rmSync(part, { force: true });
      throw new DownloadError(`${file.path}: checksum ${digest} does not match the hub's ${want}; the file was deleted`, 'hash-mismatch');
    }
  }
  fs.renameSync(part, destination);
  return { nBytes: nNew, resumed };
}

/** Downloads the chosen variant of `repo` into `target` (see the layout note at the top). */
export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const repo = checkRepoId(options.repo);
  const endpoint = (options.endpoint ?? defaultEndpoint).replace(/\/+$/, '');
  checkUrl(endpoint, options.allowLoopbackHttp === true);
  if (!/^[A-Za-z0-9_.-]+$/.test(options.variant) || options.variant.includes('..')) {
    throw new DownloadError(`Not a model variant name: ${JSON.stringify(options.variant)}`, 'unsafe-path');
  }
  const listing = await listRepo(options);
  const rejected: DownloadResult['rejected'] = [];
  const staging = `${path.resolve(options.target)}.download`;
  const safe: { file: RepoFile; destination: string }[] = [];
  for (const file of listing) {
    try {
      safe.push({ file, destination: safeDestination(staging, file.path) });
    } catch (error) {
      rejected.push({ path: file.path, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  const chosen = selectFiles(
    safe.map((s) => s.file),
    options.variant,
  );
  const known = chosen.every((f) => f.size !== undefined);
  const bytesTotal = known ? chosen.reduce((sum, f) => sum + (f.size ?? 0), 0) : undefined;
  let bytesDone = 0;
  let bytesDownloaded = 0;
  let nResumed = 0;
  const revision = encodeURIComponent(options.revision ?? 'main');
  for (const [i, file] of chosen.entries()) {
    if (options.signal?.aborted === true) throw new DownloadError('Download cancelled', 'cancelled');
    const destination = safe.find((s) => s.file === file)?.destination ?? safeDestination(staging, file.path);
    const report = (): void => options.onProgress?.({ file: file.path, nFile: i + 1, nFiles: chosen.length, bytesDone, bytesTotal });
    if (fs.existsSync(destination) && (file.size === undefined || fs.statSync(destination).size === file.size)) {
      // Checked and renamed by an earlier attempt.
      bytesDone += file.size ?? 0;
      report();
      continue;
    }
    const url = `${endpoint}/${repo}/resolve/${revision}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
    const outcome = await downloadFile(file, url, destination, options, (n) => {
      bytesDone += n;
      report();
    });
    bytesDownloaded += outcome.nBytes;
    if (outcome.resumed) nResumed++;
  }
  const target = path.resolve(options.target);
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(staging, target);
  return { target, files: chosen.map((f) => f.path), rejected, bytesDownloaded, nResumed };
}

/** Folder name for a repository id inside the download root: `owner--name`. */
export function folderName(repo: string): string {
  return checkRepoId(repo).replace('/', '--');
}
