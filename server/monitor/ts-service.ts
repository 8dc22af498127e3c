// TypeScript/JavaScript member completions from the TypeScript language service, in-process
// (`typescript` 5.x classic API): one LanguageService per project (the tsconfig.json found upward
// from the file, or an inferred project for its folder), reading the real files and node_modules
// types from disk, with the current document replaced by an in-memory overlay — the text as it
// would be with the completion so far.
//
// The service is synchronous, so the source implements querySync: the monitor asks it while the
// model computes the next step. It reads files but runs no project code (no tsserver plugins), so
// it is safe in untrusted workspaces too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TS from 'typescript';
import type { MonitorDocument, MonitorLog, MonitorQuery, MonitorSource } from './source';
import { uriToPath } from './source';

type Ts = typeof TS;
/** Loaded compiler APIs by requested path ('' = the bundled one). */
const tsModules = new Map<string, Ts>();

/**
 * The TypeScript compiler API: the editor's copy when the client named one (`typescriptPath`),
 * else the one installed next to the server. Throws when neither loads.
 */
function loadTs(typescriptPath: string | undefined, log: MonitorLog): Ts {
  const key = typescriptPath ?? '';
  const cached = tsModules.get(key);
  if (cached !== undefined) return cached;
  let ts: Ts | undefined;
  if (typescriptPath !== undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ts = require(typescriptPath) as Ts;
      log(`monitor: typescript ${ts.version} from ${typescriptPath}`);
    } catch (e) {
      log(`monitor: could not load ${typescriptPath} (${e instanceof Error ? e.message : String(e)}); trying the bundled typescript`);
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ts ??= require('typescript') as Ts;
  tsModules.set(key, ts);
  return ts;
}

export const tsLanguages = new Set(['typescript', 'typescriptreact', 'javascript', 'javascriptreact']);
const extensionOf: Record<string, string> = { typescript: '.ts', typescriptreact: '.tsx', javascript: '.js', javascriptreact: '.jsx' };

interface DiskFile {
  version: string;
  /** The `refresh` generation in which the version was last checked. */
  generation: number;
  snapshot: TS.IScriptSnapshot | undefined;
}

function mtimeMs(f: string): number {
  try {
    return fs.statSync(f).mtimeMs;
  } catch {
    return -1;
  }
}

/** One LanguageService over one tsconfig (or an inferred project for a folder). */
class Project {
  readonly service: TS.LanguageService;
  private readonly overlays = new Map<string, { text: string; version: number; snapshot: TS.IScriptSnapshot }>();
  private readonly disk = new Map<string, DiskFile>();
  private rootNames: string[];
  private options: TS.CompilerOptions;
  private generation = 0;
  /** The program and checker were built once: queries cost tens of ms from now on, not seconds. */
  ready = false;
  /** A warm-up is scheduled or running. */
  warming: Promise<void> | undefined;

  constructor(
    private readonly ts: Ts,
    readonly key: string,
    private readonly configPath: string | undefined,
    private readonly dir: string,
    registry: TS.DocumentRegistry,
    log: MonitorLog,
  ) {
    const parsed = configPath === undefined ? undefined : parseConfig(ts, configPath, log);
    this.rootNames = parsed?.fileNames ?? [];
    this.options = parsed?.options ?? inferredOptions(ts);
    const sys = ts.sys;
    const host: TS.LanguageServiceHost = {
      getCompilationSettings: () => this.options,
      getScriptFileNames: () => [...new Set([...this.rootNames, ...this.overlays.keys()])],
      getScriptVersion: (f) => {
        const o = this.overlays.get(f);
        return o !== undefined ? `o${o.version}` : this.diskFile(f).version;
      },
      getScriptSnapshot: (f) => {
        const o = this.overlays.get(f);
        return o !== undefined ? o.snapshot : this.diskFile(f).snapshot;
      },
      getCurrentDirectory: () => this.dir,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: (f) => this.overlays.has(f) || sys.fileExists(f),
      readFile: (f, encoding) => this.overlays.get(f)?.text ?? sys.readFile(f, encoding),
      readDirectory: (...args) => sys.readDirectory(...args),
      directoryExists: (d) => sys.directoryExists(d),
      getDirectories: (d) => sys.getDirectories(d),
      realpath: sys.realpath === undefined ? undefined : (p) => sys.realpath?.(p) ?? p,
      useCaseSensitiveFileNames: () => sys.useCaseSensitiveFileNames,
    };
    this.service = ts.createLanguageService(host, registry);
  }

  /**
   * Disk files are read once and stat'ed again after `refresh` (a document opened): the version is
   * the modification time, so unchanged files (lib.d.ts, node_modules types) are never parsed twice.
   */
  private diskFile(f: string): DiskFile {
    const d = this.disk.get(f);
    if (d !== undefined && d.generation === this.generation) return d;
    const version = `d${mtimeMs(f)}`;
    if (d !== undefined && d.version === version) {
      d.generation = this.generation;
      return d;
    }
    const text = this.ts.sys.readFile(f);
    const fresh = { version, generation: this.generation, snapshot: text === undefined ? undefined : this.ts.ScriptSnapshot.fromString(text) };
    this.disk.set(f, fresh);
    return fresh;
  }

  refresh(): void {
    this.generation++;
    if (this.configPath !== undefined) {
      const parsed = parseConfig(this.ts, this.configPath, () => {});
      if (parsed !== undefined) {
        this.rootNames = parsed.fileNames;
        this.options = parsed.options;
      }
    }
  }

  /** JavaScript files get type errors only with checkJs (or a `// @ts-check` comment). */
  get checksJs(): boolean {
    return this.options.checkJs === true;
  }

  setOverlay(fileName: string, text: string): void {
    const o = this.overlays.get(fileName);
    if (o?.text !== text) this.overlays.set(fileName, { text, version: (o?.version ?? 0) + 1, snapshot: overlaySnapshot(this.ts, text) });
  }
}

/**
 * An overlay's text as a snapshot that tells TypeScript what changed since an older one (the
 * common prefix and suffix of the two texts), so the language service re-parses only the edited
 * region, as tsserver does, instead of the whole file on every query.
 */
export function overlaySnapshot(ts: Ts, text: string): TS.IScriptSnapshot {
  return {
    getText: (start, end) => text.substring(start, end),
    getLength: () => text.length,
    getChangeRange(old) {
      const oldLength = old.getLength();
      const oldText = old.getText(0, oldLength);
      const max = Math.min(oldLength, text.length);
      let head = 0;
      while (head < max && oldText.charCodeAt(head) === text.charCodeAt(head)) head++;
      let tail = 0;
      while (tail < max - head && oldText.charCodeAt(oldLength - 1 - tail) === text.charCodeAt(text.length - 1 - tail)) tail++;
      return ts.createTextChangeRange(ts.createTextSpan(head, oldLength - head - tail), text.length - head - tail);
    },
  };
}

function parseConfig(ts: Ts, configPath: string, log: MonitorLog): TS.ParsedCommandLine | undefined {
  const host: TS.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => log(`monitor: typescript: ${configPath}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`),
  };
  return ts.getParsedCommandLineOfConfigFile(configPath, { noEmit: true }, host);
}

function inferredOptions(ts: Ts): TS.CompilerOptions {
  return {
    allowJs: true, checkJs: false, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler, jsx: ts.JsxEmit.Preserve, skipLibCheck: true, noEmit: true,
  };
}

export interface TsServiceOptions {
  log: MonitorLog;
  /**
   * A query on a project not yet warmed builds it on the spot (seconds, blocking the thread) when
   * true; when false (the server) it answers "no constraint" and warms in the background.
   */
  buildWhenCold?: boolean;
  /**
   * Projects kept (each holds a program and a type checker, tens of MB): the least recently used
   * one beyond this is disposed and rebuilt in the background if its documents come back.
   */
  maxProjects?: number;
  /** typescript.js to load (the editor's); default: require('typescript'). */
  typescriptPath?: string;
}

export class TsServiceSource implements MonitorSource {
  readonly name = 'typescript';
  private readonly projects = new Map<string, Project>();
  private registry: TS.DocumentRegistry | undefined;
  /** Query times after warm-up, ms (for stats and the benchmark). */
  readonly tQueryMs: number[] = [];
  /** Whole-file diagnostics times (errorsSync), ms. */
  readonly tCheckMs: number[] = [];

  constructor(private readonly opts: TsServiceOptions) {}

  supports(languageId: string): boolean {
    return tsLanguages.has(languageId);
  }

  warm(doc: MonitorDocument): void {
    void this.prepare(doc, true);
  }

  /** Builds the document's project in the background (once; again with `refresh` when reopened). */
  prepare(doc: MonitorDocument, refresh = false): Promise<void> {
    let target: { project: Project; fileName: string };
    try {
      target = this.projectFor(doc);
    } catch (e) {
      this.opts.log(`monitor: typescript could not be loaded: ${e instanceof Error ? e.message : String(e)} — completions continue unconstrained`);
      return Promise.resolve();
    }
    const { project, fileName } = target;
    if (project.warming !== undefined) return project.warming;
    if (project.ready && !refresh) return Promise.resolve();
    project.warming = new Promise<void>((resolve) => {
      setImmediate(() => {
        try {
          const t0 = performance.now();
          if (refresh) project.refresh();
          project.setOverlay(fileName, doc.text);
          // Build the program and the checker, and resolve the file's own types once.
          project.service.getProgram()?.getTypeChecker();
          project.service.getSemanticDiagnostics(fileName);
          project.ready = true;
          this.opts.log(`monitor: typescript project ${project.key} ready in ${Math.round(performance.now() - t0)} ms`);
        } catch (e) {
          this.opts.log(`monitor: typescript warm-up failed for ${doc.uri}: ${e instanceof Error ? e.message : String(e)}`);
        }
        project.warming = undefined;
        resolve();
      });
    });
    return project.warming;
  }

  query(q: MonitorQuery): Promise<readonly string[] | undefined> {
    return new Promise((resolve) => setImmediate(() => resolve(this.querySync(q))));
  }

  querySync(q: MonitorQuery): readonly string[] | undefined {
    const t0 = performance.now();
    const target = this.withOverlay(q);
    if (target === undefined) return undefined;
    const { project, fileName } = target;
    const result = project.service.getCompletionsAtPosition(fileName, q.offset, {
      triggerCharacter: '.',
      includeCompletionsWithInsertText: true,
      includeAutomaticOptionalChainCompletions: false,
      includeCompletionsForModuleExports: false,
    });
    this.tQueryMs.push(performance.now() - t0);
    if (result === undefined || !result.isMemberCompletion) return undefined;
    const names: string[] = [];
    for (const e of result.entries) {
      // JavaScript without types: "warning" entries are words of the file, not known members.
      if (e.kind === 'warning') continue;
      names.push(e.insertText ?? e.name);
    }
    return names;
  }

  errorsSync(doc: MonitorDocument): readonly { start: number; key: string }[] | undefined {
    const t0 = performance.now();
    // Unchecked JavaScript has no type errors to find; its syntax is the parse check's.
    const target = this.withOverlay(doc, (project, fileName) => !/\.[cm]?jsx?$/.test(fileName) || project.checksJs || /^\s*\/\/\s*@ts-check/m.test(doc.text));
    if (target === undefined) return undefined;
    const { project, fileName } = target;
    const ts = loadTs(this.opts.typescriptPath, this.opts.log);
    const found: { start: number; key: string }[] = [];
    try {
      for (const d of [...project.service.getSyntacticDiagnostics(fileName), ...project.service.getSemanticDiagnostics(fileName)]) {
        if (d.category === ts.DiagnosticCategory.Error && d.start !== undefined) found.push({ start: d.start, key: `${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}` });
      }
    } catch {
      // The file is not part of its project's program (excluded by its tsconfig): nothing to say.
      return undefined;
    }
    this.tCheckMs.push(performance.now() - t0);
    return found;
  }

  /**
   * The document's project with the document's text as its overlay, ready to answer; undefined
   * when `wanted` says no, or the project is not built yet (it then builds in the background,
   * unless buildWhenCold).
   */
  private withOverlay(doc: MonitorDocument, wanted?: (project: Project, fileName: string) => boolean): { project: Project; fileName: string } | undefined {
    const target = this.projectFor(doc);
    const { project, fileName } = target;
    if (wanted !== undefined && !wanted(project, fileName)) return undefined;
    if (!project.ready && this.opts.buildWhenCold !== true) {
      void this.prepare(doc);
      return undefined;
    }
    project.setOverlay(fileName, doc.text);
    // Answering builds the program and checker if they were not (buildWhenCold).
    project.ready = true;
    return target;
  }

  /** The project of a document; created on first use. */
  private projectFor(doc: { languageId: string; uri: string; rootDir?: string }): { project: Project; fileName: string } {
    const ts = loadTs(this.opts.typescriptPath, this.opts.log);
    this.registry ??= ts.createDocumentRegistry(ts.sys.useCaseSensitiveFileNames);
    const root = doc.rootDir ?? process.cwd();
    const fileName = normalize(uriToPath(doc.uri) ?? path.join(root, `__specter_untitled${extensionOf[doc.languageId] ?? '.ts'}`));
    const configPath = ts.findConfigFile(path.dirname(fileName), (f) => ts.sys.fileExists(f), 'tsconfig.json')
      ?? ts.findConfigFile(path.dirname(fileName), (f) => ts.sys.fileExists(f), 'jsconfig.json');
    const key = configPath ?? `inferred:${path.dirname(fileName)}`;
    let project = this.projects.get(key);
    if (project === undefined) {
      const dir = configPath === undefined ? path.dirname(fileName) : path.dirname(configPath);
      project = new Project(ts, key, configPath === undefined ? undefined : normalize(configPath), dir, this.registry, this.opts.log);
    }
    // Map order = recency: re-insert on every use, evict from the front.
    this.projects.delete(key);
    this.projects.set(key, project);
    this.evict();
    return { project, fileName };
  }

  /** Disposes the least recently used projects beyond maxProjects (never one warming up). */
  private evict(): void {
    const max = Math.max(1, this.opts.maxProjects ?? 3);
    for (const [key, p] of this.projects) {
      if (this.projects.size <= max) break;
      if (p.warming !== undefined) continue;
      this.projects.delete(key);
      p.service.dispose();
      this.opts.log(`monitor: typescript project ${key} released (least recently used of ${max + 1})`);
    }
  }

  /** A project is being built (a warm-up is scheduled or running). */
  get building(): boolean {
    for (const p of this.projects.values()) if (p.warming !== undefined) return true;
    return false;
  }

  /** Resolves when no project is being built. */
  async built(): Promise<void> {
    for (;;) {
      const warming = [...this.projects.values()].map((p) => p.warming).filter((w) => w !== undefined);
      if (warming.length === 0) return;
      await Promise.all(warming);
    }
  }

  /** Projects currently held (tests and stats). */
  get nProjects(): number {
    return this.projects.size;
  }

  dispose(): void {
    for (const p of this.projects.values()) p.service.dispose();
    this.projects.clear();
  }
}

/** TypeScript's own file-name form: forward slashes. */
function normalize(f: string): string {
  return f.replaceAll('\\', '/');
}
