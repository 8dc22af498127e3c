// Typed outcomes for everything that can go wrong while loading a model. Loading is the one
// boundary where bad inputs are checked (DESIGN.md rule 7); past it the runtime trusts its data.

export type ModelErrorCode =
  | 'missing-dir'
  | 'missing-file'
  | 'bad-config'
  | 'bad-tokenizer'
  | 'bad-onnx'
  | 'io-mismatch'
  | 'shape-mismatch'
  | 'vocab-mismatch'
  | 'provider'
  | 'runtime';

export interface ModelError {
  code: ModelErrorCode;
  /** What is wrong and what to do, with numbers; shown as-is in the status bar and the log. */
  message: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ModelError };

export function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function fail<T>(code: ModelErrorCode, message: string): Outcome<T> {
  return { ok: false, error: { code, message } };
}

/** Message of an unknown thrown value, first line only (ORT messages can run to pages). */
export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * onnxruntime's messages carry source paths, C++ signatures and status prefixes; keep the
 * sentence a user can act on ("… size to read: 4194304 given file_length: 4000000 …").
 */
export function ortErrorText(e: unknown): string {
  let text = e instanceof Error ? e.message : String(e);
  text = /\[ONNXRuntimeError\] : \d+ : \w+ : ([^\n]+)/.exec(text)?.[1] ?? text;
  text = /was false\.\s*([^\n]+)/.exec(text)?.[1] ?? text;
  text = text.replace(/^Load model from .* failed:\s*/, '');
  text = text.replace(/^[\w./-]+\.(cc|h|cpp):\d+\s+(\w+\s+)?/, '');
  return errorText(text);
}

/** "1.2 MB" style sizes for messages. */
export function formatBytes(nBytes: number): string {
  if (nBytes < 1024) return `${nBytes} B`;
  if (nBytes < 1024 * 1024) return `${(nBytes / 1024).toFixed(1)} KB`;
  if (nBytes < 1024 ** 3) return `${(nBytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(nBytes / 1024 ** 3).toFixed(2)} GB`;
}
