// The check-first-then-mask protocol as plain functions, so the decode loop needs a few lines:
//
//   const step = constrainToken(constraint, sampled, scratch, (allowed) => resample(row, allowed));
//   if (step.stop) break;               // the constraint ended the completion
//   constraint.advance(step.token);     // when the token is appended
//
// and, for a speculative draft, `checkDraft` before verification and `rollback` after it.
import type { Constraint } from '../constraint';

export interface ConstrainedStep {
  /** The token to emit (the sampled one, or one drawn again under the mask). Meaningless when stop. */
  readonly token: number;
  /** The constraint asks to end the completion here, without `token`. */
  readonly stop: boolean;
  /** The sampled token was rejected and `token` was drawn under the mask. */
  readonly resampled: boolean;
  /** The constraint could not decide (time budget, nothing allowed): `token` is the unconstrained sample. */
  readonly unconstrained: boolean;
}

/** Reusable mask buffer of the logits width, zeroed before each use. */
export class MaskBuffer {
  private buf: Uint8Array = new Uint8Array(0);
  get(width: number): Uint8Array {
    if (this.buf.length !== width) this.buf = new Uint8Array(width);
    else this.buf.fill(0);
    return this.buf;
  }
}

/**
 * One decode step under a constraint. `sampled` comes from the unmodified logits row; only if the
 * constraint rejects it is a mask built, and `resample(allowed)` must draw again from the same row
 * with every id where allowed[id] === 0 excluded (e.g. `maskLogits` then the sampler). Does not
 * advance the constraint: the caller advances when it appends the token.
 */
export function constrainToken(
  constraint: Constraint,
  sampled: number,
  width: number,
  buffer: MaskBuffer,
  resample: (allowed: Uint8Array) => number,
): ConstrainedStep {
  if (constraint.check(sampled)) return { token: sampled, stop: false, resampled: false, unconstrained: false };
  if (constraint.shouldStop?.() === true) return { token: sampled, stop: true, resampled: false, unconstrained: false };
  const allowed = buffer.get(width);
  if (!constraint.mask(allowed) || allowed.indexOf(1) < 0) return { token: sampled, stop: false, resampled: false, unconstrained: true };
  const token = resample(allowed);
  if (allowed[token] !== 1) return { token: sampled, stop: false, resampled: false, unconstrained: true };
  return { token, stop: false, resampled: true, unconstrained: false };
}

/** Sets disallowed logits to -Infinity, in place. Returns `row`. */
export function maskLogits(row: Float32Array, allowed: Uint8Array): Float32Array {
  for (let i = 0; i < row.length; i++) if (allowed[i] !== 1) row[i] = Number.NEGATIVE_INFINITY;
  return row;
}

/**
 * Checks a speculative draft token by token, advancing the constraint past each allowed token.
 * Returns how many leading draft tokens are allowed: verify only those; the constraint has been
 * advanced by exactly that many, so after verification roll back the ones the model rejected.
 */
export function checkDraft(constraint: Constraint, draft: readonly number[]): number {
  let n = 0;
  for (const token of draft) {
    if (!constraint.check(token)) break;
    constraint.advance(token);
    n++;
  }
  return n;
}
