// Monitor-guided decoding, as the completion service sees it: build the sources once per server
// (createMonitorSources), warm them when a document opens (warmMonitor), and make one Monitor per
// completion (createMonitor) to put into the decode loop's constraints.
import type { TokenizerLike } from '../engine/model';
import { EditorSource, type MonitorQueryFn } from './editor-source';
import { languageSyntax } from './lexer';
import { bundledPyright, LspSource } from './lsp-source';
import { Monitor } from './monitor';
import type { MonitorDocument, MonitorLog, MonitorSource } from './source';
import { TsWorkerSource } from './ts-worker-source';

export { Monitor, usesMember, type MonitorStats } from './monitor';
export type { MonitorDocument, MonitorLog, MonitorQuery, MonitorSource } from './source';
export { TsServiceSource } from './ts-service';
export { TsWorkerSource } from './ts-worker-source';
export { LspSource, bundledPyright } from './lsp-source';
export { EditorSource } from './editor-source';

/** The `specter.monitor.*` settings. */
export interface MonitorSettings {
  enabled: boolean;
  /** Longest wait for a source's answer per dereference, ms (language servers, and the TypeScript worker's synchronous answers). */
  budgetMs: number;
  /** Language servers by language id: command line. Launched only in trusted workspaces. */
  servers: Record<string, string[]>;
  /** Ask the editor's completion providers for languages without another source. */
  useEditor: boolean;
}

export const defaultMonitorSettings: MonitorSettings = { enabled: true, budgetMs: 250, servers: {}, useEditor: false };

export interface MonitorSourcesOptions {
  settings: MonitorSettings;
  /** Workspace trust (untrusted: no configured server is launched). */
  trusted: boolean;
  log: MonitorLog;
  /** Sends `specter/monitorQuery` to the client; required for useEditor. */
  editorQuery?: MonitorQueryFn;
  /** The editor's typescript.js (InitializationOptions.typescriptPath). */
  typescriptPath?: string;
}

/**
 * The sources in priority order: the TypeScript service (TS/JS, in a worker thread), configured language servers
 * (python defaults to the bundled pyright when installed), then the editor.
 */
export function createMonitorSources(o: MonitorSourcesOptions): MonitorSource[] {
  const servers: Record<string, string[]> = { ...o.settings.servers };
  const pyright = bundledPyright();
  if (servers['python'] === undefined && pyright !== undefined) servers['python'] = pyright;
  const sources: MonitorSource[] = [new TsWorkerSource({ log: o.log, syncWaitMs: o.settings.budgetMs, ...(o.typescriptPath !== undefined ? { typescriptPath: o.typescriptPath } : {}) }), new LspSource({ servers, trusted: o.trusted, log: o.log })];
  if (o.settings.useEditor && o.editorQuery !== undefined) sources.push(new EditorSource(o.editorQuery));
  return sources;
}

function sourceFor(sources: readonly MonitorSource[], languageId: string): MonitorSource | undefined {
  return sources.find((s) => s.supports(languageId));
}

/** Prepares the source of a just-opened document in the background. */
export function warmMonitor(sources: readonly MonitorSource[], doc: MonitorDocument): void {
  sourceFor(sources, doc.languageId)?.warm?.(doc);
}

export interface CreateMonitorOptions {
  languageId: string;
  uri: string;
  rootDir?: string;
  /** The whole document before the cursor (not the prompt window). */
  prefix: string;
  /** The whole document after the cursor. */
  suffix: string;
  tokenizer: TokenizerLike;
  sources: readonly MonitorSource[];
  log: MonitorLog;
  budgetMs: number;
  /** See MonitorOptions.anticipate. */
  anticipate?: string;
  /** See MonitorOptions.canonical. */
  canonical?: boolean;
  /** See MonitorOptions.documentPrior. */
  documentPrior?: number;
  /** See MonitorOptions.cursorNames. */
  cursorNames?: readonly string[];
}

/**
 * A monitor for one completion, or undefined when no source serves the language. The decode loop
 * awaits `pending()` before each step, checks sampled/drafted tokens with `check`, masks on
 * rejection, `advance`s accepted tokens, `rollback`s rejected draft positions, and calls
 * `dispose()` when the completion ends.
 */
export function createMonitor(o: CreateMonitorOptions): Monitor | undefined {
  const source = sourceFor(o.sources, o.languageId);
  if (source === undefined) return undefined;
  const t = languageSyntax(o.languageId).triggers;
  if (!t.dot && !t.optionalDot && !t.arrow && !t.colons) return undefined;
  return new Monitor({ ...o, source });
}
