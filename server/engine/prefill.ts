// Prompt prefill with longest-common-prefix reuse of the KV cache: while the user types, most of
// the new prompt equals the previous one, so only the tail after the shared prefix runs.
import type { CausalLM, Logits } from './model';

export type PrefillOutcome =
  | { kind: 'ok'; logits: Logits; reusedTokens: number; nForward: number }
  | { kind: 'cancelled'; reusedTokens: number; nForward: number };

export interface PrefillOptions {
  signal?: AbortSignal;
  /** Tokens per forward pass; the signal is checked between chunks. */
  chunk?: number;
}

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Leaves `lm.cached` equal to `prompt` and returns the logits of (at least) its last position.
 * At least one token always runs (capped reuse at prompt.length - 1): the cache holds keys and
 * values, not logits. On cancellation the cache holds whatever prefix already ran.
 */
export async function prefillWithReuse(lm: CausalLM, prompt: readonly number[], options: PrefillOptions = {}): Promise<PrefillOutcome> {
  const chunk = Math.max(1, options.chunk ?? 256);
  const reusedTokens = Math.min(commonPrefixLength(lm.cached, prompt), prompt.length - 1);
  lm.truncate(reusedTokens);
  let nForward = 0;
  let logits: Logits | undefined;
  for (let start = reusedTokens; start < prompt.length; start += chunk) {
    if (options.signal?.aborted === true) return { kind: 'cancelled', reusedTokens, nForward };
    logits = await lm.forward(prompt.slice(start, start + chunk));
    nForward++;
  }
  if (logits === undefined) throw new RangeError('prefill of an empty prompt');
  return { kind: 'ok', logits, reusedTokens, nForward };
}
