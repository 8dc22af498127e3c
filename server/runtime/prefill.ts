// Prompt prefill with longest-common-prefix reuse of the KV cache. Depends only on the CausalLM
// contract, so engine fakes can drive it too.
import { logitsRow, type CausalLM } from '../engine/model';

export interface PrefillOptions {
  /** Tokens per forward pass; bounds the logits block ([chunk, vocab] floats). Default 256. */
  chunk?: number;
  /** Checked before every chunk; an aborted prefill leaves the computed part cached for reuse. */
  signal?: AbortSignal;
}

export type PrefillResult =
  | {
      cancelled: false;
      /** Logits after the last prompt token: [vocab]. */
      logitsLast: Float32Array;
      /** Prompt tokens whose keys/values came from the cache. */
      nReused: number;
      /** Prompt tokens run through the model now. */
      nComputed: number;
    }
  | { cancelled: true };

export const defaultPrefillChunk = 256;

/** Length of the common prefix of the cached ids and the prompt. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export async function prefillWithReuse(lm: CausalLM, promptIds: readonly number[], opts: PrefillOptions = {}): Promise<PrefillResult> {
  if (promptIds.length === 0) throw new RangeError('prefillWithReuse: empty prompt');
  const chunk = Math.max(1, Math.floor(opts.chunk ?? defaultPrefillChunk));
  // Keep at least the last prompt token to run: its logits are what the caller samples from.
  const nReused = Math.min(commonPrefixLength(lm.cached, promptIds), promptIds.length - 1);
  lm.truncate(nReused);
  let last: Float32Array | undefined;
  for (let pos = nReused; pos < promptIds.length; pos += chunk) {
    if (opts.signal?.aborted === true) return { cancelled: true };
    const logits = await lm.forward(promptIds.slice(pos, pos + chunk));
    last = logitsRow(logits, logits.nRows - 1);
  }
  if (last === undefined) throw new Error('prefillWithReuse: nothing computed');
  // Copy the row so the caller does not keep the whole [chunk, vocab] block alive.
  return { cancelled: false, logitsLast: last.slice(), nReused, nComputed: promptIds.length - nReused };
}
