// A Constraint over an XGrammar GrammarMatcher. XGrammar has no side-effect-free "would this token
// be accepted": `check` accepts the token tentatively and the next call either keeps it (advance
// of the same token) or rolls it back. Stop tokens never reach the matcher: the completion may end
// where the text after the cursor still parses (its first tokens are accepted from here).
import type { Constraint } from '../engine/constraint';
import type { TokenizerLike } from '../engine/model';
import type { GrammarMatcher } from './xgrammar';

/** The raw embind matcher: GetNextTokenBitmask is synchronous once the binding is loaded. */
interface RawMatcher {
  GetNextTokenBitmask(vocabSize: number): { size(): number; get(i: number): number; delete(): void };
}

export interface GrammarConstraintOptions {
  name: string;
  matcher: GrammarMatcher;
  tokenizer: TokenizerLike;
  /** Tokens of the text after the cursor (its first few), for `canStop`. */
  suffixIds: readonly number[];
  /** The suffix is the end of the document: stopping needs the grammar to accept the end. */
  suffixIsEnd: boolean;
  /** A mask slower than this turns the constraint off for the rest of the completion, ms. */
  maskBudgetMs: number;
  /** Gives the matcher back (rolled back to the prefix) instead of freeing it on dispose(). */
  release?: () => void;
  /** Frees the matcher if the constraint is garbage-collected without dispose(). */
  discard: () => void;
  /** Characters of the prefix fed for this request (fewer than the prefix when a matcher was reused). */
  nFedChars: number;
  log: (message: string) => void;
}

export interface GrammarStats {
  nFedChars: number;
  nChecks: number;
  tCheckMs: number;
  nMasks: number;
  tMaskMs: number;
  /** The constraint turned itself off (slow mask or a forced token), with why. */
  offReason: string | undefined;
}

/** WebAssembly objects are not garbage-collected: free the matcher of a constraint nobody disposed. */
const undisposed = new FinalizationRegistry<() => void>((discard) => discard());

export class GrammarConstraint implements Constraint {
  readonly name: string;
  readonly stats: GrammarStats = { nFedChars: 0, nChecks: 0, tCheckMs: 0, nMasks: 0, tMaskMs: 0, offReason: undefined };
  private readonly matcher: GrammarMatcher;
  private readonly raw: RawMatcher;
  private readonly stop: ReadonlySet<number>;
  private readonly vocabSize: number;
  /** A token accepted by `check` and not yet confirmed by `advance`. */
  private tentative = -1;
  /** Per advance: did the matcher accept a token (false for stop tokens and while off)? */
  private readonly history: boolean[] = [];
  /**
   * While off: how many leading history entries the matcher still agrees with (advances after
   * that were not fed to it); -1 while on. Rolling back to there turns the constraint on again.
   */
  private offAt = -1;
  private stopMemo: { at: number; version: number; value: boolean } | undefined;
  private version = 0;
  private disposed = false;

  constructor(private readonly o: GrammarConstraintOptions) {
    this.name = o.name;
    this.matcher = o.matcher;
    this.raw = (o.matcher as unknown as { handle: RawMatcher }).handle;
    this.stop = o.tokenizer.stopIds;
    this.vocabSize = o.tokenizer.vocabSize;
    this.stats.nFedChars = o.nFedChars;
    undisposed.register(this, o.discard, this);
  }

  private get off(): boolean {
    return this.offAt >= 0;
  }

  /** Undoes a tentative acceptance from `check`. */
  private settle(): void {
    if (this.tentative >= 0) {
      this.matcher.rollBack(1);
      this.tentative = -1;
    }
  }

  check(token: number): boolean {
    this.settle();
    if (this.off) return true;
    if (this.stop.has(token)) return this.canStop();
    if (token < 0 || token >= this.vocabSize) return false;
    const t0 = performance.now();
    const ok = this.matcher.acceptToken(token);
    this.stats.nChecks++;
    this.stats.tCheckMs += performance.now() - t0;
    if (ok) this.tentative = token;
    return ok;
  }

  mask(allowed: Uint8Array): boolean {
    this.settle();
    if (this.off) return false;
    const t0 = performance.now();
    const words = this.raw.GetNextTokenBitmask(this.vocabSize);
    try {
      const n = Math.min(allowed.length, this.vocabSize);
      for (let w = 0; w < words.size(); w++) {
        const bits = words.get(w);
        if (bits === 0) continue;
        for (let j = 0; j < 32; j++) {
          const id = w * 32 + j;
          if (id < n && ((bits >>> j) & 1) === 1) allowed[id] = 1;
        }
      }
    } finally {
      words.delete();
    }
    const canStop = this.canStop();
    for (const id of this.stop) if (id < allowed.length) allowed[id] = canStop ? 1 : 0;
    const dt = performance.now() - t0;
    this.stats.nMasks++;
    this.stats.tMaskMs += dt;
    if (dt > this.o.maskBudgetMs) {
      this.turnOff(`a mask took ${dt.toFixed(1)} ms (budget ${this.o.maskBudgetMs} ms)`);
      return false;
    }
    return true;
  }

  advance(token: number): void {
    this.version++;
    if (this.tentative >= 0 && this.tentative === token) {
      this.tentative = -1;
      this.history.push(true);
      return;
    }
    this.settle();
    if (this.off || this.stop.has(token)) {
      this.history.push(false);
      return;
    }
    const ok = token >= 0 && token < this.vocabSize && this.matcher.acceptToken(token);
    this.history.push(ok);
    if (!ok) this.turnOff(`token ${token} was forced past the grammar`, this.history.length - 1);
  }

  rollback(n: number): void {
    if (n <= 0) return;
    this.settle();
    if (n > this.history.length) throw new RangeError(`rollback(${n}) past the cursor: ${this.history.length} advances`);
    this.version++;
    let nAccepted = 0;
    for (let i = 0; i < n; i++) if (this.history.pop() === true) nAccepted++;
    if (nAccepted > 0) this.matcher.rollBack(nAccepted);
    if (this.offAt >= this.history.length) this.offAt = -1;
  }

  canStop(): boolean {
    this.settle();
    if (this.off) return true;
    const memo = this.stopMemo;
    if (memo !== undefined && memo.at === this.history.length && memo.version === this.version) return memo.value;
    // The text after the cursor must still be accepted from here (its first tokens, or the end).
    let nAccepted = 0;
    let ok = true;
    for (const id of this.o.suffixIds) {
      if (!this.matcher.acceptToken(id)) {
        ok = false;
        break;
      }
      nAccepted++;
    }
    if (ok && this.o.suffixIsEnd) {
      const [eos] = this.stop;
      if (eos !== undefined) {
        ok = this.matcher.acceptToken(eos);
        if (ok) nAccepted++;
      }
    }
    if (nAccepted > 0) this.matcher.rollBack(nAccepted);
    this.stopMemo = { at: this.history.length, version: this.version, value: ok };
    return ok;
  }

  private turnOff(reason: string, consistentAt = this.history.length): void {
    if (this.off) return;
    this.offAt = consistentAt;
    this.stats.offReason = reason;
    this.o.log(`${this.name}: unconstrained for the rest of this completion — ${reason}`);
  }

  /** Ends the completion: rolls the matcher back to the text before the cursor and returns or frees it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    undisposed.unregister(this);
    this.settle();
    const nAccepted = this.history.filter((accepted) => accepted).length;
    if (nAccepted > 0) this.matcher.rollBack(nAccepted);
    this.history.length = 0;
    if (this.o.release !== undefined) this.o.release();
    else this.matcher.dispose();
  }
}
