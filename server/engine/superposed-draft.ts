// One draft of a multi-draft generation: its tokens, text, score and its own stopping criteria.
// Drafts fork when one parent keeps several continuations; a fork gets fresh criteria from the
// factory and replays the parent's tokens through them (with the recorded clock readings), so
// stateful criteria (time caps, indentation scope) end up in the same state as the parent's.
import { Detokenizer } from './detokenizer';
import type { TokenizerLike } from './model';
import { checkStop, finishText, stopTokens, type StopCriterion, type StopDecision, type StopReason } from './stopping';

export type DraftStopReason = StopReason | 'max-tokens' | 'context-full';

export interface DraftLimits {
  maxTokens: number;
  promptLength: number;
  contextLength: number;
}

export class DraftState {
  readonly tokens: number[] = [];
  /** Clock reading when each token was committed, ms. */
  readonly times: number[] = [];
  /** Σ log s over the tokens (ranking score) and Σ log p (model log probability). */
  logScore = 0;
  logP = 0;
  stop: { reason: DraftStopReason; keepChars: number } | undefined;
  private readonly detok: Detokenizer;
  private readonly criteria: StopCriterion[];

  constructor(
    private readonly tok: TokenizerLike,
    private readonly makeStops: () => StopCriterion[],
    private readonly limits: DraftLimits,
  ) {
    this.detok = new Detokenizer(tok);
    this.criteria = [stopTokens(tok.stopIds), ...makeStops()];
  }

  get text(): string {
    return this.detok.text;
  }

  get last(): number | undefined {
    return this.tokens[this.tokens.length - 1];
  }

  /** A copy with its own criteria, brought to this draft's state by replaying its tokens. */
  fork(): DraftState {
    const child = new DraftState(this.tok, this.makeStops, this.limits);
    this.tokens.forEach((token, i) => {
      child.tokens.push(token);
      child.times.push(this.times[i] as number);
      const nNewChars = child.detok.push(token).length;
      checkStop(child.criteria, { tokens: child.tokens, text: child.detok.text, nNewChars, nowMs: this.times[i] as number });
    });
    child.logScore = this.logScore;
    child.logP = this.logP;
    return child;
  }

  /** Appends a token and asks the criteria, exactly as decode() does for its one sequence. */
  commit(token: number, logS: number, logP: number, nowMs: number): StopDecision | undefined {
    this.tokens.push(token);
    this.times.push(nowMs);
    this.logScore += logS;
    this.logP += logP;
    const nNewChars = this.detok.push(token).length;
    const decision: StopDecision | undefined =
      checkStop(this.criteria, { tokens: this.tokens, text: this.detok.text, nNewChars, nowMs }) ??
      (this.tokens.length >= this.limits.maxTokens
        ? { reason: 'max-tokens', keepChars: this.detok.text.length }
        : this.limits.promptLength + this.tokens.length >= this.limits.contextLength
          ? { reason: 'context-full', keepChars: this.detok.text.length }
          : undefined);
    if (decision !== undefined) this.stop = { reason: decision.reason, keepChars: decision.keepChars };
    return decision;
  }

  /** The draft's final text: trimmed by the stopping decision, then by every criterion's finish. */
  finalText(): string {
    const stop = this.stop;
    const text = stop === undefined ? this.detok.text : this.detok.text.slice(0, stop.keepChars);
    return stop?.reason === 'cancelled' ? text : finishText(this.criteria, text);
  }
}
