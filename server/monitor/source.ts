// Where a monitor's legal identifiers come from: a static-analysis source answers "which members
// may follow this dereference operator, in this text, at this offset?".
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A zero-based line/character position, characters in UTF-16 code units (LSP). */
export interface TextPosition {
  line: number;
  character: number;
}

export interface MonitorQuery {
  languageId: string;
  /** Document URI (file://…); the document need not be saved. */
  uri: string;
  /** Workspace folder; sources look for the project (tsconfig.json, pyproject) from here and the file upward. */
  rootDir?: string;
  /** The whole document as it would be with the text generated so far: prefix + generated + suffix. */
  text: string;
  /** UTF-16 offset just after the dereference operator. */
  offset: number;
  position: TextPosition;
  /** The operator that triggered: '.', '?.', '->', '::'. */
  trigger: string;
  /** Aborted when the answer is no longer wanted (time budget spent, completion cancelled). */
  signal: AbortSignal;
}

/** A document a source may prepare for in the background (open it, build the program). */
export interface MonitorDocument {
  languageId: string;
  uri: string;
  rootDir?: string;
  text: string;
}

export interface MonitorSource {
  readonly name: string;
  supports(languageId: string): boolean;
  /** Member names legal after the operator. Undefined or [] means "no constraint". Never rejects. */
  query(q: MonitorQuery): Promise<readonly string[] | undefined>;
  /**
   * In-process sources (the TypeScript service) can answer synchronously; the monitor then decides
   * tokens such as `.length` — operator and identifier in one token — without splitting them.
   */
  querySync?(q: MonitorQuery): readonly string[] | undefined;
  /**
   * The error diagnostics (syntax and types) of the document with this text: start offset and
   * code + message, for the type check after decoding (server/monitor/type-check.ts). Only sources
   * that answer synchronously have it; undefined when the source cannot tell now (project loading).
   */
  errorsSync?(doc: MonitorDocument): readonly { start: number; key: string }[] | undefined;
  /**
   * The same from a language server (its diagnostics for the document with this text), within
   * timeoutMs; undefined when it cannot tell in time (no server, no diagnostics support, cancelled).
   */
  errors?(doc: MonitorDocument, timeoutMs: number, signal?: AbortSignal): Promise<readonly { start: number; key: string }[] | undefined>;
  /**
   * A source whose `errors` answer as fast as an in-process check (the TypeScript worker): the
   * type check's time for cutting back, ms, instead of specter.monitor.serverTypeCheckBudgetMs
   * (which then only bounds each single check).
   */
  readonly cutBudgetMs?: number;
  /** Prepares for a document in the background (fire and forget). */
  warm?(doc: MonitorDocument): void;
  dispose?(): void;
}

/** A line of the server log, e.g. connection.console.log. */
export type MonitorLog = (line: string) => void;

/** The LSP position of a UTF-16 offset in text. */
export function positionAt(text: string, offset: number): TextPosition {
  let line = 0;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: end - lineStart };
}

/** file:///a/b.ts → /a/b.ts (C:\\… on Windows); an absolute path stays as it is; other schemes: undefined. */
export function uriToPath(uri: string): string | undefined {
  if (isAbsolute(uri)) return uri;
  if (!uri.startsWith('file://')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
