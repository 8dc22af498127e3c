// Token healing. A cursor in the middle of a word leaves the prompt ending in a token the model
// rarely saw there ("Works" + "pa" for "WorkspaceFolders"), and the completion has to start from
// that odd boundary. Healing backs the prompt up over the word the cursor is in (or its last
// token: HealingSpan) and makes the first generated tokens re-spell it: the prefix loses that
// text, the completion must start with it (HealConstraint), and the service strips it again.
// Everything that reads the text before the cursor (constraints, monitor, stopping rules, parse
// check) sees the shortened prefix, so the re-spelled text is theirs to judge like any other
// generated text; the stopping rules also get the healed text, to judge the cursor's line as the
// document has it (CodeStopOptions.healed).
import type { TokenizerLike } from '../engine/model';
import type { Constraint } from '../engine/constraint';
import type { LogitsProcessor } from '../engine/processors';
import { startsWith, VocabIndex } from '../monitor/trie';

/** Characters of the prefix's end that are tokenized to find its last token. */
const tailChars = 64;
const utf8 = new TextDecoder('utf-8', { fatal: false });

export interface Healing {
  /** The text of the prompt's last token: moved from the prefix to the start of the completion. */
  text: string;
  bytes: Uint8Array;
  /** The text is the whole indentation of the cursor's line (spaces and tabs after a line break). */
  indent: boolean;
  /**
   * A healed word (HealingSpan `word`): byte offsets in `bytes` where the prompt's own tokens of
   * it ended (not 0, not the end). The completion may re-spell the word up to one of them token by
   * token as the prompt did, then finish it with a token that starts with the rest. Empty: one
   * token re-spells all of it (spaces and tabs may be re-spelled in parts anyway: HealConstraint).
   */
  cuts: readonly number[];
}

/**
 * How much of the prefix healing moves into the completion. `token`: its last token. `word`: the
 * word the cursor is in, as the pre-tokenizer cuts it (a letter run and at most one character
 * before it, e.g. ` getRegistr` or `.workspaceFol`), over the tokens the prefix spelled it in (at
 * most maxWordTokens, the last ones); a prefix that ends in anything else heals its last token.
 * Byte-level BPE never merges across such a chunk's edges but may spell its start oddly:
 * `getRegistr` is ` get` `Re` `gist` `r`, and the model's own spelling of the word, ` get`
 * `Registration`, is out of reach when only `r` is re-spelled.
 */
export type HealingSpan = 'word' | 'token';

/**
 * The healing for a prefix: its last token's text (or, for `span` `word`, the word it ends in),
 * when that is a whole character sequence on the cursor's line (no newline, no partial UTF-8) and
 * something remains before it. Undefined: no healing.
 */
export function healingFor(tok: TokenizerLike, prefix: string, span: HealingSpan = 'word'): Healing | undefined {
  if (prefix === '') return undefined;
  const ids = tok.encode(prefix.slice(-tailChars));
  const last = ids[ids.length - 1];
  if (last === undefined) return undefined;
  // Special tokens have no bytes.
  const bytes = tok.tokenBytes(last);
  const text = utf8.decode(bytes);
  if (bytes.length === 0 || text.includes('\n') || text.includes('\uFFFD') || !prefix.endsWith(text) || text.length >= prefix.length) return undefined;
  const before = prefix[prefix.length - text.length - 1];
  const one: Healing = { text, bytes, indent: /^[ \t]+$/.test(text) && (before === '\n' || before === '\r'), cuts: [] };
  if (span === 'token' || !wordChunk.test(text)) return one;
  let word = text;
  /** Byte lengths of the prompt's tokens of the word, last first. */
  const lengths = [bytes.length];
  for (let i = ids.length - 2; i >= 0 && lengths.length < maxWordTokens; i--) {
    const b = tok.tokenBytes(ids[i] as number);
    const longer = utf8.decode(b) + word;
    if (b.length === 0 || !wordChunk.test(longer) || !prefix.endsWith(longer) || longer.length >= prefix.length) break;
    word = longer;
    lengths.push(b.length);
  }
  if (word === text) return one;
  const cuts: number[] = [];
  for (let i = lengths.length - 1, at = 0; i > 0; i--) cuts.push((at += lengths[i] as number));
  return { text: word, bytes: encoder.encode(word), indent: false, cuts };
}

/**
 * A healing that one token can re-spell, for multi-draft completions (only their first step is
 * constrained: healingMask). A word becomes its longest tail that starts at one of its cuts (or at
 * its start) and that some token of the vocabulary starts with (`Registr` of ` getRegistr`:
 * `Registration`); other healings are returned as they are.
 */
export function oneTokenHealing(tok: TokenizerLike, healing: Healing): Healing {
  const last = healing.cuts[healing.cuts.length - 1];
  if (last === undefined) return healing;
  const index = VocabIndex.of(tok);
  const startsSomeToken = (start: number): boolean => {
    const [lo, hi] = index.prefixRange(healing.bytes.subarray(start));
    return hi > lo;
  };
  // The last piece is one of the prompt's tokens, so some start always qualifies.
  const bytes = healing.bytes.slice([0, ...healing.cuts].find(startsSomeToken) ?? last);
  return { text: utf8.decode(bytes), bytes, indent: false, cuts: [] };
}

/**
 * Most tokens of a word healing backs up over: each is decoded again (a step of its own unless a
 * drafter proposes it), so a long run of letters (a base64 literal) would cost dozens of steps on a
 * large model. Past this, its last tokens only.
 */
const maxWordTokens = 8;

/** One pre-tokenizer chunk that is a word (Qwen2 / GPT-4 style): a letter run, at most one other non-digit character before it. */
const wordChunk = /^[^\r\n\p{L}\p{N}]?\p{L}+$/u;
const encoder = new TextEncoder();

const isBlank = (b: number | undefined): boolean => b === 0x20 || b === 0x09;

/** What a completion shows of `text` (the healed text re-spelled, then more): the rest, or undefined when `text` does not re-spell it. */
export function unhealText(healing: Healing | undefined, text: string): string | undefined {
  if (healing === undefined) return text;
  return text.startsWith(healing.text) ? text.slice(healing.text.length) : undefined;
}

/**
 * Healing for a first step alone (multi-draft decoding): a logits processor that leaves only the
 * tokens that start with the whole healed text (no re-spelling over several tokens: later steps
 * are not constrained).
 */
export function healingMask(tok: TokenizerLike, healing: Healing): LogitsProcessor {
  const allowed = new Uint8Array(tok.vocabSize);
  const index = VocabIndex.of(tok);
  const [lo, hi] = index.prefixRange(healing.bytes);
  for (let i = lo; i < hi; i++) allowed[index.sorted[i] as number] = 1;
  return {
    process(row) {
      for (let id = 0; id < row.length; id++) if (id >= allowed.length || allowed[id] === 0) row[id] = -Infinity;
    },
  };
}

/**
 * The generated text must start by re-spelling the healed text; after that, anything. One token
 * may do it (its bytes start with the healed text). A healed word (HealingSpan `word`) may also be
 * re-spelled over several tokens: first any number of the prompt's own tokens of it, then one that
 * starts with the rest (` get` then `Registration` for ` get` `Re` `gist` `r`). Other splits (`.`
 * `le` `n` for `.len`) are not allowed: they are spellings the tokenizer never produces, and a
 * greedy step into one leads the model off its training distribution. Whitespace may also be
 * re-spelled over several tokens: the byte-level pre-tokenizer splits an indent before a word as
 * "   " + " return", so a prefix ending in a line's indentation ("{\n    ") ends in a run of spaces
 * that training text only had before a line break, and a single token starting with it is a
 * longer indent ("       " + " return": four spaces too many). Tokens that are a proper prefix of
 * the whitespace still to re-spell are allowed too, so the model can write "   " and then
 * " return".
 *
 * When the healed text is the line's whole indentation, the re-spelled text must also stop there:
 * no space or tab may follow it. The cursor sits where the editor (or the user) put the line's
 * indentation, and a suggestion that starts with more of it would shift the code; the tiny model
 * otherwise often prefers a deeper indent than the one typed.
 */
export class HealConstraint implements Constraint {
  readonly name = 'heal';
  /**
   * Per token advanced while healing: healed bytes re-spelled after it, and whether it ended
   * exactly at the healed text's end (then, for an indent, the next token may not start with a blank).
   */
  private readonly steps: { done: number; exact: boolean }[] = [];
  /** Tokens advanced after the healed text was re-spelled. */
  private nAfter = 0;
  private readonly index: VocabIndex;
  /** Whether the healed text may be re-spelled over several tokens of any length (it is spaces and tabs only). */
  private readonly partial: boolean;

  constructor(
    tok: TokenizerLike,
    private readonly healing: Healing,
  ) {
    this.index = VocabIndex.of(tok);
    this.partial = healing.bytes.every(isBlank);
  }

  /** Bytes of the healed text re-spelled so far. */
  private get done(): number {
    return this.steps[this.steps.length - 1]?.done ?? 0;
  }

  private healed(): boolean {
    return this.done >= this.healing.bytes.length;
  }

  /** The indent was re-spelled exactly by the last token, and nothing came after it yet: the next token may not add a blank. */
  private indentOpen(): boolean {
    return this.healing.indent && this.nAfter === 0 && this.steps[this.steps.length - 1]?.exact === true;
  }

  check(token: number): boolean {
    if (this.healed()) return !this.indentOpen() || !isBlank(this.index.tokenBytes(token)[0]);
    return this.allows(this.index.tokenBytes(token), this.healing.bytes.subarray(this.done));
  }

  /** Whether a token with bytes `t` may come while `rest` of the healed text is still to re-spell. */
  private allows(t: Uint8Array, rest: Uint8Array): boolean {
    if (startsWith(t, rest)) return !this.healing.indent || !isBlank(t[rest.length]);
    return this.respellsPart(t, rest);
  }

  /** Whether `t` re-spells a proper, non-empty part of `rest`: any part of whitespace; a word up to one of its cuts. */
  private respellsPart(t: Uint8Array, rest: Uint8Array): boolean {
    if (t.length === 0 || t.length >= rest.length || !startsWith(rest, t)) return false;
    return this.partial || this.healing.cuts.includes(this.done + t.length);
  }

  mask(allowed: Uint8Array): boolean {
    if (this.healed()) {
      if (!this.indentOpen()) allowed.fill(1);
      else for (let id = 0; id < allowed.length; id++) allowed[id] = isBlank(this.index.tokenBytes(id)[0]) ? 0 : 1;
      return true;
    }
    const rest = this.healing.bytes.subarray(this.done);
    const [lo, hi] = this.index.prefixRange(rest);
    for (let i = lo; i < hi; i++) {
      const id = this.index.sorted[i] as number;
      if (this.allows(this.index.tokenBytes(id), rest)) allowed[id] = 1;
    }
    if (this.partial) for (let n = 1; n < rest.length; n++) for (const id of this.index.idsOf(rest.subarray(0, n))) allowed[id] = 1;
    else for (const cut of this.healing.cuts) if (cut > this.done) for (const id of this.index.idsOf(rest.subarray(0, cut - this.done))) allowed[id] = 1;
    return true;
  }

  /** Any token (it passed `check`, or the step was unconstrained): a proper prefix of the rest re-spells that much, anything else all of it. */
  advance(token: number): void {
    if (this.healed()) {
      this.nAfter++;
      return;
    }
    const t = this.index.tokenBytes(token);
    const rest = this.healing.bytes.subarray(this.done);
    const part = this.respellsPart(t, rest);
    this.steps.push({ done: part ? this.done + t.length : this.healing.bytes.length, exact: !part && t.length === rest.length });
  }

  rollback(n: number): void {
    const after = Math.min(n, this.nAfter);
    this.nAfter -= after;
    this.steps.length = Math.max(0, this.steps.length - (n - after));
  }

  canStop(): boolean {
    return this.healed();
  }
}
