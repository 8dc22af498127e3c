// The one typed facade over `specter.*` settings: merges whatever the client sends onto the
// defaults, clamps numbers to sane ranges and ignores values of the wrong type.
import { defaultSettings, type DrafterName, type ExecutionProviderSetting, type SpecterSettings } from './protocol';

const providers: readonly ExecutionProviderSetting[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'];
export const drafterNames: readonly DrafterName[] = ['copyspec', 'prompt-lookup', 'table'];

/** `{ languageId: [command, ...args] }`; malformed entries are dropped. */
function servers(value: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [lang, cmd] of Object.entries(obj(value))) {
    if (Array.isArray(cmd) && cmd.length > 0 && cmd.every((c) => typeof c === 'string')) out[lang] = cmd as string[];
  }
  return out;
}

function drafters(value: unknown, fallback: DrafterName[]): DrafterName[] {
  if (!Array.isArray(value)) return fallback;
  const names = value.filter((v): v is DrafterName => drafterNames.includes(v as DrafterName));
  return [...new Set(names)];
}

function num(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}
function str(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}
function obj(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

export function parseSettings(raw: unknown): SpecterSettings {
  const s = obj(raw);
  const c = obj(s['completion']);
  const sp = obj(s['speculation']);
  const dr = obj(s['drafts']);
  const mo = obj(s['monitor']);
  const d = defaultSettings;
  const provider = s['executionProvider'];
  return {
    enabled: bool(s['enabled'], d.enabled),
    model: str(s['model'], d.model),
    modelVariant: str(s['modelVariant'], d.modelVariant) || d.modelVariant,
    executionProvider: providers.includes(provider as ExecutionProviderSetting) ? (provider as ExecutionProviderSetting) : d.executionProvider,
    threads: Math.round(num(s['threads'], d.threads, 0, 256)),
    threadSpinning: bool(s['threadSpinning'], d.threadSpinning),
    completion: {
      maxTokens: Math.round(num(c['maxTokens'], d.completion.maxTokens, 1, 1024)),
      maxLines: Math.round(num(c['maxLines'], d.completion.maxLines, 1, 200)),
      multiline: (['auto', 'always', 'never'] as const).find((m) => m === c['multiline']) ?? d.completion.multiline,
      tokenHealing: bool(c['tokenHealing'], d.completion.tokenHealing),
      tokenHealingSpan: (['word', 'token'] as const).find((m) => m === c['tokenHealingSpan']) ?? d.completion.tokenHealingSpan,
      stopLoops: bool(c['stopLoops'], d.completion.stopLoops),
      contextCache: (['auto', 'on', 'off'] as const).find((m) => m === c['contextCache']) ?? d.completion.contextCache,
      timeCapAfterNewlineMs: num(c['timeCapAfterNewlineMs'], d.completion.timeCapAfterNewlineMs, 0, 60_000),
      temperature: num(c['temperature'], d.completion.temperature, 0, 2),
      topP: num(c['topP'], d.completion.topP, 0.01, 1),
      seed: Math.round(num(c['seed'], d.completion.seed, 0, 2 ** 31 - 1)),
      maxPrefixTokens: Math.round(num(c['maxPrefixTokens'], d.completion.maxPrefixTokens, 16, 32_768)),
      maxSuffixTokens: Math.round(num(c['maxSuffixTokens'], d.completion.maxSuffixTokens, 0, 8_192)),
    },
    speculation: (() => {
      const ngramMin = Math.round(num(sp['ngramMin'], d.speculation.ngramMin, 1, 16));
      return {
        enabled: bool(sp['enabled'], d.speculation.enabled),
        drafters: drafters(sp['drafters'], d.speculation.drafters),
        maxDraftTokens: Math.round(num(sp['maxDraftTokens'], d.speculation.maxDraftTokens, 1, 64)),
        ngramMin,
        ngramMax: Math.max(ngramMin, Math.round(num(sp['ngramMax'], d.speculation.ngramMax, 1, 16))),
        gamma: Math.round(num(sp['gamma'], d.speculation.gamma, 1, 32)),
      };
    })(),
    drafts: {
      enabled: bool(dr['enabled'], d.drafts.enabled),
      count: Math.round(num(dr['count'], d.drafts.count, 1, 8)),
      alpha: num(dr['alpha'], d.drafts.alpha, 0, 1),
    },
    constraints: {
      mode: (['off', 'syntax', 'all'] as const).find((m) => m === obj(s['constraints'])['mode']) ?? d.constraints.mode,
      maskBudgetMs: num(obj(s['constraints'])['maskBudgetMs'], d.constraints.maskBudgetMs, 1, 10_000),
      grammars: Object.fromEntries(Object.entries(obj(s['grammars'])).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')),
      parseCheck: (['off', 'relative', 'strict'] as const).find((m) => m === obj(s['constraints'])['parseCheck']) ?? d.constraints.parseCheck,
      parseRetries: Math.round(num(obj(s['constraints'])['parseRetries'], d.constraints.parseRetries, 0, 8)),
      parseRetryBudgetMs: num(obj(s['constraints'])['parseRetryBudgetMs'], d.constraints.parseRetryBudgetMs, 0, 60_000),
    },
    monitor: {
      enabled: bool(mo['enabled'], d.monitor.enabled),
      budgetMs: num(mo['budgetMs'], d.monitor.budgetMs, 0, 10_000),
      servers: servers(mo['servers']),
      typeCheck: (['off', 'relative', 'strict'] as const).find((m) => m === mo['typeCheck']) ?? d.monitor.typeCheck,
      serverTypeCheckBudgetMs: num(mo['serverTypeCheckBudgetMs'], d.monitor.serverTypeCheckBudgetMs, 0, 10_000),
      canonicalSpelling: bool(mo['canonicalSpelling'], d.monitor.canonicalSpelling),
      documentPrior: num(mo['documentPrior'], d.monitor.documentPrior, 0, 20),
      typeRetries: Math.round(num(mo['typeRetries'], d.monitor.typeRetries, 0, 8)),
    },
  };
}
