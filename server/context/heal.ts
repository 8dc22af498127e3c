// Token healing. A cursor in the middle of a word leaves the prompt ending in a token the model
// rarely saw there ("Works" + "pa" for "WorkspaceFolders"), and the completion has to start from
// that odd boundary. Healing backs the prompt up over its last token and makes the first
// generated token re-spell it: the prefix loses the token's text, the completion must start with
// it (HealConstraint), and the service strips it again. Everything that reads the text before the
// cursor (constraints, monitor, stopping rules, parse check) sees the shortened prefix, so the
// re-spelled text is theirs to judge like any other generated text.
import type { TokenizerLike } from '../engine/model';
import type { Constraint } from '../engine/constraint';
import { startsWith, VocabIndex } from '../monitor/trie';

/** Characters of the prefix's end that are tokenized to find its last token. */
const tailChars = 64;
const utf8 = new TextDecoder('utf-8', { fatal: false });

export interface Healing {
  /** The text of the prompt's last token: moved from the prefix to the start of the completion. */
  text: string;
  bytes: Uint8Array;
}

/**
 * The healing for a prefix: its last token's text, when that is a whole character sequence on the
 * cursor's line (no newline, no partial UTF-8) and something remains before it. Undefined: no healing.
 */
export function healingFor(tok: TokenizerLike, prefix: string): Healing | undefined {
  if (prefix === '') return undefined;
  const ids = tok.encode(prefix.slice(-tailChars));
  const last = ids[ids.length - 1];
  if (last === undefined) return undefined;
  // Special tokens have no bytes.
  const bytes = tok.tokenBytes(last);
  const text = utf8.decode(bytes);
  if (bytes.length === 0 || text.includes('\n') || text.includes('\uFFFD') || !prefix.endsWith(text) || text.length >= prefix.length) return undefined;
  return { text, bytes };
}

/** The first generated token must start with the healed text; after it, anything. */
export class HealConstraint implements Constraint {
  readonly name = 'heal';
  private nAdvanced = 0;
  private readonly index: VocabIndex;

  constructor(
    tok: TokenizerLike,
    private readonly healing: Healing,
  ) {
    this.index = VocabIndex.of(tok);
  }

  check(token: number): boolean {
    return this.nAdvanced > 0 || startsWith(this.index.tokenBytes(token), this.healing.bytes);
  }

  mask(allowed: Uint8Array): boolean {
    if (this.nAdvanced > 0) {
      allowed.fill(1);
      return true;
    }
    const [lo, hi] = this.index.prefixRange(this.healing.bytes);
    for (let i = lo; i < hi; i++) allowed[this.index.sorted[i] as number] = 1;
    return true;
  }

  /** Any token: the first one passed `check` (or the step was unconstrained). */
  advance(_token: number): void {
    this.nAdvanced++;
  }

  rollback(n: number): void {
    this.nAdvanced = Math.max(0, this.nAdvanced - n);
  }

  canStop(): boolean {
    return this.nAdvanced > 0;
  }
}
