// Logits processors: small in-place edits of a logits row before the sampler sees it (transformers.js
// `LogitsProcessor` style). The decode loop hands them a private copy of the row.

export interface LogitsProcessor {
  /** `row` is [vocabSize]; `sequence` is prompt + generated ids so far. */
  process(row: Float32Array, sequence: readonly number[]): void;
}

/** Never generate these ids (e.g. FIM control tokens that would restart the prompt layout). */
export function suppressIds(ids: Iterable<number>): LogitsProcessor {
  const list = [...ids];
  return {
    process(row) {
      for (const id of list) if (id >= 0 && id < row.length) row[id] = -Infinity;
    },
  };
}
