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
  completion: {
    maxTokens: number;
    maxLines: number;
    /** Stop generating this long after the first newline, in ms. */
    timeCapAfterNewlineMs: number;
    temperature: number;
    topP: number;
    seed: number;
    /** Prompt budget in tokens: prefix and suffix windows. */
    maxPrefixTokens: number;
    maxSuffixTokens: number;
  };
}

export const defaultSettings: SpecterSettings = {
  enabled: true,
  model: '',
  modelVariant: 'model',
  executionProvider: 'auto',
  threads: 0,
  completion: {
    maxTokens: 64,
    maxLines: 8,
    timeCapAfterNewlineMs: 1500,
    temperature: 0,
    topP: 0.95,
    seed: 0,
    maxPrefixTokens: 768,
    maxSuffixTokens: 192,
  },
};

/** Settings keys whose change requires loading the model again. */
export const modelReloadKeys = ['model', 'modelVariant', 'executionProvider', 'threads'] as const;

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
  last?: CompletionStats;
}
