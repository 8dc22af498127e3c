// What the downloader will fetch and where it may write: HTTPS URLs only (loopback HTTP only when
// a test asks for it explicitly), and repository file names that stay inside the target folder.
import * as path from 'node:path';

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly code: 'insecure-url' | 'unsafe-path' | 'http' | 'size-mismatch' | 'hash-mismatch' | 'cancelled' | 'bad-repo' | 'missing-file',
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** Throws unless `url` is HTTPS, or HTTP to a loopback address with `allowLoopbackHttp`. */
export function checkUrl(url: string, allowLoopbackHttp: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError(`Not a URL: ${url}`, 'insecure-url');
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && allowLoopbackHttp && loopbackHosts.has(parsed.hostname)) return parsed;
  throw new DownloadError(`Refusing ${parsed.protocol}//${parsed.host}: model downloads use HTTPS only`, 'insecure-url');
}

/** A Hugging Face repository id: `owner/name`, letters, digits, `-`, `_`, `.`. */
export function checkRepoId(repo: string): string {
  const trimmed = repo.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(trimmed) || trimmed.includes('..')) {
    throw new DownloadError(`Not a Hugging Face repository id (owner/name): ${JSON.stringify(repo)}`, 'bad-repo');
  }
  return trimmed;
}

/** Backslashes, control characters, percent escapes and drive colons never appear in repo paths we accept. */
function hasUnsafeChar(name: string): boolean {
  return [...name].some((c) => c === '\\' || c === '%' || c === ':' || c.charCodeAt(0) < 0x20);
}

/**
 * Checks a file name from the repository listing and returns its absolute destination inside
 * `root`. Rejects absolute paths, `..` and `.` segments, backslashes, control characters, percent
 * escapes and anything that would resolve outside `root`.
 */
export function safeDestination(root: string, repoPath: string): string {
  const segments = repoPath.split('/');
  const ok =
    repoPath.length > 0 &&
    repoPath.length <= 512 &&
    !repoPath.startsWith('/') &&
    !hasUnsafeChar(repoPath) &&
    segments.every((s) => s !== '' && s !== '.' && s !== '..' && /^[A-Za-z0-9._ +-]+$/.test(s));
  const resolvedRoot = path.resolve(root);
  const destination = path.resolve(resolvedRoot, ...segments);
  if (!ok || !destination.startsWith(resolvedRoot + path.sep)) {
    throw new DownloadError(`Unsafe file name in the repository listing: ${JSON.stringify(repoPath)}`, 'unsafe-path');
  }
  return destination;
}
