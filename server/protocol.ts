// Types shared by the VS Code client (src/) and the server. Imports neither `vscode` nor
// `onnxruntime-node`: both processes bundle it.

export type ExecutionProviderSetting = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

/** The `specter.*` settings as the server receives them (initializationOptions and didChangeConfiguration). */
export interface SpecterSettings {
  enabled: boolean;
  /** Model directory; empty = the embedded default model. */
  model: string;
  /** ONNX file stem under onnx/: model, model_quantized, model_fp16, … */
  modelVariant: string;
  executionProvider: ExecutionProviderSetting;
  /** Intra-op threads; 0 = onnxruntime's default. */
  threads: number;
  /** Let idle onnxruntime worker threads busy-wait for work (faster by a few %, much more CPU). */
  threadSpinning: boolean;
  completion: {
    maxTokens: number;
    maxLines: number;
    /** auto: several lines only on a blank line or after a block opener; always; never. */
    multiline: 'auto' | 'always' | 'never';
    /** Back the prompt up over the word at the cursor (or its last token) and make the completion re-spell it first (context/heal.ts). */
    tokenHealing: boolean;
    /** What healing backs up over: the word the cursor is in, or the prefix's last token (HealingSpan). */
    tokenHealingSpan: 'word' | 'token';
    /** End a completion that loops (`k, k, k, k`, one line three times) after the loop's first copy (engine/stopping-repeat.ts). */
    stopLoops: boolean;
    /** Mix in the next tokens the context itself votes for (engine/context-cache.ts): auto = when the model directory asks for it. */
    contextCache: 'auto' | 'on' | 'off';
    /** Stop generating this long after the first newline, in ms. */
    timeCapAfterNewlineMs: number;
    temperature: number;
    topP: number;
    seed: number;
    /** Prompt budget in tokens: prefix and suffix windows. */
    maxPrefixTokens: number;
    maxSuffixTokens: number;
  };
  speculation: SpeculationSettings;
  drafts: DraftsSettings;
  constraints: {
    /** off: none; syntax: the built-in syntax constraint; all: syntax + JSON Schema + user grammars. */
    mode: 'off' | 'syntax' | 'all';
    /** A mask slower than this leaves the rest of the completion unconstrained, ms. */
    maskBudgetMs: number;
    /** `specter.grammars`: language id → XGrammar EBNF file. */
    grammars: Record<string, string>;
    /** Cut a finished completion back where tree-sitter finds parse errors on its lines (off / relative / strict). */
    parseCheck: 'off' | 'relative' | 'strict';
    /** Decodes again when a completion has parse errors on its lines: once, greedy, without the token after which they start; more, sampling, while cutting back cannot mend it. */
    parseRetries: number;
    /**
     * Retries after the first start only while the completion has taken less than this, ms: a
     * count that suits a small model (a decode in tens of ms) would cost seconds on a large one.
     */
    parseRetryBudgetMs: number;
  };
  monitor: {
    enabled: boolean;
    /** Longest wait for an asynchronous static-analysis answer per dereference, ms. */
    budgetMs: number;
    /** Language servers by language id: command line (trusted workspaces only). */
    servers: Record<string, string[]>;
    /** Cut a finished completion back where static analysis finds new errors on its lines (off / relative / strict). */
    typeCheck: 'off' | 'relative' | 'strict';
    /** Time the type check may take through a language server's diagnostics, ms per completion. */
    serverTypeCheckBudgetMs: number;
    /** Constrained identifiers follow the tokenizer's own spelling of the legal names. */
    canonicalSpelling: boolean;
    /** Logit bonus for member names the document already uses (0 = none). */
    documentPrior: number;
    /** Decodes again, without the member name, when the type check finds errors in a completion (0 = never). */
    typeRetries: number;
  };
}

/** `specter.drafts.*`: k alternative completions from superposed decoding. */
export interface DraftsSettings {
  enabled: boolean;
  /** Drafts per inline completion (1 = plain decoding); the panel asks for at least 2. */
  count: number;
  /** n-gram weight α in log s = (1 − α)·log p + α·log q. */
  alpha: number;
}

export type DrafterName = 'copyspec' | 'prompt-lookup' | 'table';

/** `specter.speculation.*`: lossless speculative decoding with drafters that copy from context. */
export interface SpeculationSettings {
  enabled: boolean;
  /** Drafters in priority order. */
  drafters: DrafterName[];
  /** Largest draft verified in one forward pass, tokens. */
  maxDraftTokens: number;
  /** Prompt-lookup n-gram bounds, tokens. */
  ngramMin: number;
  ngramMax: number;
  /** CopySpec key window γ, tokens. */
  gamma: number;
}

/** Start of the reason of an empty completion when the model wrote nothing. */
export const nothingReason = 'model produced nothing';
/** Start of the reason of an empty completion whose suggestion the parse check withheld. */
export const withheldReason = "withheld the model's suggestion";

export const defaultSettings: SpecterSettings = {
  enabled: true,
  model: '',
  modelVariant: 'model',
  executionProvider: 'auto',
  threads: 0,
  threadSpinning: false,
  completion: {
    maxTokens: 64,
    maxLines: 8,
    multiline: 'auto',
    tokenHealing: true,
    tokenHealingSpan: 'word',
    stopLoops: true,
    contextCache: 'auto',
    timeCapAfterNewlineMs: 1500,
    temperature: 0,
    topP: 0.95,
    seed: 0,
    maxPrefixTokens: 768,
    maxSuffixTokens: 192,
  },
  speculation: {
    enabled: true,
    drafters: ['copyspec', 'prompt-lookup', 'table'],
    maxDraftTokens: 16,
    ngramMin: 2,
    ngramMax: 4,
    gamma: 4,
  },
  drafts: { enabled: true, count: 1, alpha: 0.54 },
  constraints: { mode: 'all', maskBudgetMs: 50, grammars: {}, parseCheck: 'relative', parseRetries: 8, parseRetryBudgetMs: 500 },
  monitor: { enabled: true, budgetMs: 250, servers: {}, typeCheck: 'relative', serverTypeCheckBudgetMs: 1500, canonicalSpelling: true, documentPrior: 8, typeRetries: 2 },
};

/** Settings keys whose change requires loading the model again. */
export const modelReloadKeys = ['model', 'modelVariant', 'executionProvider', 'threads', 'threadSpinning'] as const;

export type ModelState = 'loading' | 'ready' | 'error' | 'disabled';

/** `specter/status` notification, server → client. */
export interface StatusParams {
  state: ModelState;
  /** Human-readable: what is wrong and what to do (state 'error'), or the model name. */
  message: string;
  modelName?: string;
  executionProvider?: string;
  /** Warning shown alongside a working state, e.g. "CUDA unavailable, using CPU". */
  warning?: string;
  last?: CompletionStats;
}
export const statusNotification = 'specter/status';

/** Figures about one completion. */
export interface CompletionStats {
  totalMs: number;
  prefillMs: number;
  decodeMs: number;
  promptTokens: number;
  /** Prompt tokens whose KV came from the cache. */
  reusedTokens: number;
  generatedTokens: number;
  tokensPerSecond: number;
  nForward: number;
  stopReason: string;
  /** Decodes after the first one, each without a member name the type check rejected (specter.monitor.typeRetries). */
  typeRetries?: number;
  /** Decodes after the first one, because it had parse errors on its lines (specter.constraints.parseRetries). */
  parseRetries?: number;
  /** True when an automatic request stopped short of the parse retries an explicit request would run, none of its own having parsed. */
  parseRetriesDeferred?: boolean;
  /** Parse retries stopped short of parseRetries: the completion had taken parseRetryBudgetMs. */
  parseRetryBudgetSpent?: boolean;
  /**
   * What the type check (specter.monitor.typeCheck) found on the lines of the completion as
   * decoded, before any cut: no error, errors (then it was cut back), or no answer in time.
   */
  typeCheck?: 'clean' | 'errors' | 'unchecked';
  /** Speculative decoding of this completion, when any draft was verified. */
  speculation?: { nDrafted: number; nAccepted: number; acceptanceRate: number; meanAccepted: number };
  /**
   * Tokens the finishing step added (specter.constraints): decoding ended where the syntax
   * constraint does not allow the completion to end, and the model closed what was open.
   */
  finishTokens?: number;
}

/** `specter/stats` request, client → server. */
export const statsRequest = 'specter/stats';
export interface StatsResult {
  nCompletions: number;
  nCancelled: number;
  nErrors: number;
  latencyMs: { p50: number; p95: number };
  tokensPerSecond: { p50: number };
  cacheReuseRate: number;
  /** Completions executing right now (0 or 1). */
  nActive: number;
  /** Accepted / drafted tokens of speculative decoding over all completions. */
  draftAcceptance: number;
  last?: CompletionStats;
}

/**
 * `specter/monitorQuery` request, server → client (monitor-guided decoding): the member names
 * VS Code's own completion providers offer at `position` in a document whose text is `text` (the
 * document as it would be with the completion generated so far). The client may answer from
 * `vscode.executeCompletionItemProvider`; an empty list means "no constraint".
 */
export const monitorQueryRequest = 'specter/monitorQuery';
export interface MonitorQueryParams {
  uri: string;
  /** Zero-based; character in UTF-16 code units, just after the dereference operator. */
  position: { line: number; character: number };
  text: string;
}
export interface MonitorQueryResult {
  identifiers: string[];
}

// ---- Typing acceleration (issue 6): cache, typing-through, prefetch, idle unload. ----

/** `specter.typing.*` settings (merged into SpecterSettings as `typing`; `idleUnloadMinutes` is top level). */
export interface TypingSettings {
  /** LRU of finished completions keyed by the exact document context. */
  cache: boolean;
  /** Serve the rest of the shown suggestion while the user types characters that match it. */
  typeThrough: boolean;
  /** After a completion is shown, compute the one that follows its acceptance in the background. */
  prefetch: boolean;
  /** KV-cache reuse across requests; false truncates the cache before each request (baseline). */
  reuse: boolean;
  /** LRU capacity, entries. */
  cacheEntries: number;
}

export const defaultTypingSettings: TypingSettings = {
  cache: true,
  typeThrough: true,
  prefetch: true,
  reuse: true,
  cacheEntries: 256,
};

/** Default of `specter.idleUnloadMinutes` (0 = never unload). */
export const defaultIdleUnloadMinutes = 15;

/**
 * `specter/didShow` notification, client → server: an inline completion item was shown
 * (`InlineCompletionItemProvider.handleDidShowCompletionItem`). `text` is the item's insertText.
 */
export const didShowNotification = 'specter/didShow';
export interface DidShowParams {
  uri: string;
  text: string;
}

/**
 * `specter/didPartiallyAccept` notification, client → server: the user accepted the first
 * `acceptedLength` UTF-16 code units of a shown item (word / line accept).
 */
export const didPartiallyAcceptNotification = 'specter/didPartiallyAccept';
export interface DidPartiallyAcceptParams {
  uri: string;
  text: string;
  acceptedLength: number;
}

/** `specter/typingStats` request, client → server: counters of the typing layer and the process. */
export const typingStatsRequest = 'specter/typingStats';
export interface TypingStatsResult {
  nRequests: number;
  /** Answered from the rest of a shown suggestion, without the model. */
  nTypeThrough: number;
  /** Answered from the LRU (prefetched entries included). */
  nCacheHits: number;
  /** Cache hits on entries that prefetch computed. */
  nPrefetchHits: number;
  /** Requests that ran the model (or waited for a prefetch of the same state). */
  nModelRuns: number;
  nCancelled: number;
  prefetch: { nStarted: number; nDone: number; nCancelled: number; nSkipped: number; nAdopted: number };
  nCacheEntries: number;
  nShown: number;
  nPartialAccepts: number;
  nIdleUnloads: number;
  /** A user request or a prefetch is running. */
  busy: boolean;
  /** Forward passes / tokens through the loaded model since it loaded (absent when unloaded). */
  model?: { nForward: number; nTokens: number };
  /** process.cpuUsage() of the server, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  heapUsedBytes: number;
}

/**
 * `specter/panelCompletions` request, client → server (the Completions Panel): k alternative
 * completions at `position`, from the server's synced copy of the document. While decoding, the
 * server streams the drafts so far as `specter/panelProgress` notifications carrying the same
 * client-chosen `id`; the request resolves with the final drafts. A new panel request cancels the
 * previous one; `$/cancelRequest` ends it with the drafts decoded so far (`cancelled: true`).
 */
export const panelCompletionsRequest = 'specter/panelCompletions';
export interface PanelCompletionsParams {
  /** Client-chosen, echoed in every progress notification (several panels may be open). */
  id: string;
  textDocument: { uri: string };
  /** Zero-based; character in UTF-16 code units. */
  position: { line: number; character: number };
  /** Drafts wanted; the server clamps to 1–8 and defaults to specter.drafts.count. */
  k?: number;
}
export interface PanelDraft {
  text: string;
  /** False while the draft is still being decoded. */
  done: boolean;
  stopReason?: string;
}
export interface PanelCompletionsResult {
  id: string;
  drafts: PanelDraft[];
  /** 'superposed' (one pass for all drafts) or 'branch' (model without an embeds path). */
  mode?: 'superposed' | 'branch';
  stats?: CompletionStats;
  /** Why there are no drafts (model not ready, nothing generated, …). */
  reason?: string;
  cancelled?: boolean;
}
export const panelProgressNotification = 'specter/panelProgress';
export interface PanelProgressParams {
  id: string;
  drafts: PanelDraft[];
}

/**
 * `initializationOptions` of the LSP initialize request (client → server). `trusted` is VS Code's
 * workspace trust: in an untrusted workspace the server must not launch configured executables
 * (specter.monitor.servers). The client restarts the server when trust is granted, so the value
 * never changes during a server's life.
 */
export interface InitializationOptions {
  settings: unknown;
  trusted: boolean;
  /**
   * typescript.js of the editor's own TypeScript (VS Code ships one with its TypeScript
   * extension); the monitor's language service loads it, so the VSIX needs no copy of its own.
   */
  typescriptPath?: string;
}
