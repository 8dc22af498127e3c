// Headless entry point: `demo` completes the bundled sample at its cursor marker, `eval` runs a
// JSONL task file. Both go through the same CompletionService as the language server.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CompletionService } from './completion-service';
import { parseTask, resultLine, TaskFileError } from './eval-tasks';
import { ModelHost } from './model-host';
import type { SpecterSettings } from './protocol';

const cursorMarker = '<CURSOR>';
const extensionRoot = path.join(__dirname, '..');

interface CliOptions {
  command: string;
  file?: string;
  tasks?: string;
  out?: string;
  model?: string;
  maxTokens?: number;
  speculation?: boolean;
  constraints?: 'off' | 'syntax' | 'all';
  monitor?: boolean;
  /** on: the default span (word); word / token: that span; off: no healing. */
  healing?: 'on' | 'off' | 'word' | 'token';
  stopLoops?: boolean;
  contextCache?: 'auto' | 'on' | 'off';
  /** --drafts K: K alternative completions (superposed decoding), all of them in `completions`. */
  drafts?: number;
  quiet: boolean;
}

function onOff(flag: string, value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  process.stderr.write(`${flag} takes on|off, got ${value}\n`);
  return usage();
}

function oneOf<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === value);
  if (found !== undefined) return found;
  process.stderr.write(`${flag} takes ${choices.join('|')}, got ${value}\n`);
  return usage();
}

function usage(): never {
  process.stderr.write(
    [
      'usage: specter demo [--file FILE] [--model DIR] [--max-tokens N] [--speculation on|off] [--drafts K]',
      '       specter eval --tasks FILE.jsonl --out RESULTS.jsonl [--model DIR] [--max-tokens N] [--speculation on|off] [--constraints off|syntax|all] [--monitor on|off] [--healing on|word|token|off] [--stop-loops on|off] [--context-cache auto|on|off] [--drafts K] [--quiet]',
      '',
    ].join('\n'),
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { command: argv[0] ?? '', quiet: false };
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage();
      return v;
    };
    switch (flag) {
      case '--file': options.file = value(); break;
      case '--tasks': options.tasks = value(); break;
      case '--out': options.out = value(); break;
      case '--model': options.model = value(); break;
      case '--max-tokens': options.maxTokens = Number(value()); break;
      case '--speculation': options.speculation = onOff(flag, value()); break;
      case '--monitor': options.monitor = onOff(flag, value()); break;
      case '--healing': options.healing = oneOf(flag, value(), ['on', 'off', 'word', 'token'] as const); break;
      case '--stop-loops': options.stopLoops = onOff(flag, value()); break;
      case '--drafts': options.drafts = Number(value()); break;
      case '--context-cache': options.contextCache = oneOf(flag, value(), ['auto', 'on', 'off'] as const); break;
      case '--constraints': options.constraints = oneOf(flag, value(), ['off', 'syntax', 'all'] as const); break;
      case '--quiet': options.quiet = true; break;
      default: process.stderr.write(`unknown option ${flag}\n`); usage();
    }
  }
  return options;
}

function settingsFrom(service: CompletionService, options: CliOptions): SpecterSettings {
  const base = service.settings;
  return {
    ...base,
    model: options.model ?? base.model,
    completion: { ...base.completion, maxTokens: options.maxTokens ?? base.completion.maxTokens, tokenHealing: options.healing === undefined ? base.completion.tokenHealing : options.healing !== 'off', tokenHealingSpan: options.healing === 'word' || options.healing === 'token' ? options.healing : base.completion.tokenHealingSpan, stopLoops: options.stopLoops ?? base.completion.stopLoops, contextCache: options.contextCache ?? base.completion.contextCache },
    speculation: { ...base.speculation, enabled: options.speculation ?? base.speculation.enabled },
    constraints: { ...base.constraints, mode: options.constraints ?? base.constraints.mode },
    monitor: { ...base.monitor, enabled: options.monitor ?? base.monitor.enabled },
    drafts: options.drafts === undefined ? base.drafts : { ...base.drafts, enabled: options.drafts > 1, count: Math.min(8, Math.max(1, Math.round(options.drafts))) },
  };
}

async function startService(options: CliOptions, log: (m: string) => void): Promise<CompletionService> {
  const host = new ModelHost(path.join(extensionRoot, 'models', 'specter-tiny'), log, () => undefined);
  const service = new CompletionService(host, log, () => undefined);
  service.initialize({});
  service.settings = settingsFrom(service, options);
  await host.configure(service.settings);
  if (host.current.state !== 'ready') throw new CliError(`model not ready: ${host.current.message}`);
  return service;
}

class CliError extends Error {}

function languageOf(file: string): string {
  const ext = path.extname(file).toLowerCase();
  const table: Record<string, string> = { '.ts': 'typescript', '.js': 'javascript', '.py': 'python', '.json': 'json', '.go': 'go', '.rs': 'rust' };
  return table[ext] ?? 'plaintext';
}

async function demo(options: CliOptions): Promise<void> {
  const file = options.file ?? path.join(extensionRoot, 'examples', 'demo.py');
  const source = fs.readFileSync(file, 'utf8');
  const at = source.indexOf(cursorMarker);
  if (at < 0) throw new CliError(`${file} has no ${cursorMarker} marker`);
  const prefix = source.slice(0, at);
  const suffix = source.slice(at + cursorMarker.length);
  const service = await startService(options, (m) => process.stderr.write(`${m}\n`));
  const result = await service.complete({ uri: file, languageId: languageOf(file), prefix, suffix });
  if (result.kind !== 'ok') throw new CliError(`no completion: ${result.kind === 'empty' ? result.reason : 'cancelled'}`);
  const s = result.stats;
  const lines = prefix.split('\n');
  process.stdout.write(`--- ${path.relative(process.cwd(), file)} (cursor at line ${lines.length}, column ${(lines[lines.length - 1] ?? '').length + 1})\n`);
  process.stdout.write(`${prefix.split('\n').slice(-4).join('\n')}\x1b[2m${result.texts[0] ?? ''}\x1b[0m${suffix.split('\n').slice(0, 3).join('\n')}\n`);
  result.texts.forEach((text, i) => process.stdout.write(`--- ${result.texts.length > 1 ? `draft ${i + 1}` : 'completion'}: ${JSON.stringify(text)}\n`));
  process.stdout.write(
    `prefill ${s.prefillMs.toFixed(1)} ms (${s.promptTokens} tokens), decode ${s.decodeMs.toFixed(1)} ms, ` +
      `${s.generatedTokens} tokens, ${s.tokensPerSecond.toFixed(1)} tokens/s, stop: ${s.stopReason}\n`,
  );
  await service.shutdown();
}

async function evaluate(options: CliOptions): Promise<void> {
  if (options.tasks === undefined || options.out === undefined) usage();
  const tasksFile = options.tasks;
  if (!fs.existsSync(tasksFile)) throw new CliError(`tasks file ${tasksFile} not found`);
  // Every task is read and checked before the model loads: a bad line stops the run at once.
  const tasks = fs
    .readFileSync(tasksFile, 'utf8')
    .split(/\r?\n/)
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, n }) => parseTask(tasksFile, n, line));
  if (tasks.length === 0) throw new CliError(`tasks file ${tasksFile} has no tasks`);
  const service = await startService(options, (m) => (options.quiet ? undefined : process.stderr.write(`${m}\n`)));
  const out = fs.createWriteStream(options.out);
  let n = 0;
  for (const task of tasks) {
    const result = await service.complete({ uri: task.path ?? `${task.id}`, languageId: task.language ?? 'plaintext', prefix: task.prefix, suffix: task.suffix ?? '', suffixCut: task.suffix_cut === true });
    out.write(`${JSON.stringify(resultLine(task.id, result))}\n`);
    n++;
    if (!options.quiet && n % 25 === 0) process.stderr.write(`${n} tasks\n`);
  }
  await new Promise<void>((resolve) => out.end(resolve));
  process.stderr.write(`eval: ${n} tasks → ${options.out}\n`);
  await service.shutdown();
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.command === 'demo') await demo(options);
  else if (options.command === 'eval') await evaluate(options);
  else usage();
}

main().catch((error: unknown) => {
  process.stderr.write(`specter: ${error instanceof CliError || error instanceof TaskFileError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
