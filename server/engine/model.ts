// The engine's view of a language model and its tokenizer. server/runtime implements these with
// onnxruntime-node; engine unit tests implement them with scripted fakes. Nothing here imports
// ONNX Runtime or LSP.

/** Logits for consecutive positions, row-major: data is [nRows, vocabSize]. */
export interface Logits {
  readonly data: Float32Array;
  readonly nRows: number;
  readonly vocabSize: number;
}

/** Row `i` of a logits block as a view (no copy). */
export function logitsRow(logits: Logits, i: number): Float32Array {
  if (i < 0 || i >= logits.nRows) throw new RangeError(`logits row ${i} of ${logits.nRows}`);
  return logits.data.subarray(i * logits.vocabSize, (i + 1) * logits.vocabSize);
}

/**
 * A causal LM with a KV cache that persists between calls. The cache holds the keys/values of
 * `cached` (token ids, in order). Calls must not overlap: the caller serialises them.
 */
export interface CausalLM {
  /** Width of the logits rows (may exceed the tokenizer's vocabulary: padded embeddings). */
  readonly vocabSize: number;
  /** Longest sequence the model was built for, in tokens. */
  readonly contextLength: number;
  /** Token ids whose keys/values are in the cache. */
  readonly cached: readonly number[];
  /**
   * Runs `tokens` at positions cached.length… , appends them to the cache and returns the logits
   * of every one of them: [tokens.length, vocabSize]. `tokens` must be non-empty.
   */
  forward(tokens: readonly number[]): Promise<Logits>;
  /** Drops cached positions >= n (rejected speculative tokens, a prompt that diverged). */
  truncate(n: number): void;
  /** Counters since load: forward passes and tokens run through the model. */
  readonly counters: { nForward: number; nTokens: number };
}

/** A tokenizer as the engine needs it. */
export interface TokenizerLike {
  /** Number of ids the tokenizer can produce, special tokens included. */
  readonly vocabSize: number;
  /** Encodes plain text; special-token strings in `text` are NOT treated as special. */
  encode(text: string): number[];
  /** Decodes ids to text, special tokens skipped. Incomplete UTF-8 at the end decodes as U+FFFD. */
  decode(ids: readonly number[]): string;
  /** The UTF-8 bytes a token id stands for (empty for special tokens). */
  tokenBytes(id: number): Uint8Array;
  /** Special (added) tokens by their content, e.g. "<|fim_prefix|>" → id. */
  readonly specialTokens: ReadonlyMap<string, number>;
  /** Ids that end generation (EOS, FIM end tokens such as <|endoftext|>, <|file_sep|>, <EOT>). */
  readonly stopIds: ReadonlySet<number>;
}
