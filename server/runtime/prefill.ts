// The runtime's view of prompt prefill: the engine's longest-common-prefix prefill
// (server/engine/prefill.ts), reshaped to hand back only the last position's logits.
import { logitsRow, type CausalLM } from '../engine/model';
import { commonPrefixLength, prefillWithReuse as enginePrefill, type PrefillOptions } from '../engine/prefill';

export { commonPrefixLength, type PrefillOptions };

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

export async function prefillWithReuse(lm: CausalLM, promptIds: readonly number[], opts: PrefillOptions = {}): Promise<PrefillResult> {
  if (promptIds.length === 0) throw new RangeError('prefillWithReuse: empty prompt');
  const outcome = await enginePrefill(lm, promptIds, opts);
  if (outcome.kind === 'cancelled') return { cancelled: true };
  // Copy the row so the caller does not keep the whole [chunk, vocab] block alive.
  const last = logitsRow(outcome.logits, outcome.logits.nRows - 1).slice();
  return { cancelled: false, logitsLast: last, nReused: outcome.reusedTokens, nComputed: promptIds.length - outcome.reusedTokens };
}
