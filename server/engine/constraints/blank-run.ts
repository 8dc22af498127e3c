// At most `cap` blank characters (space, tab, CR, LF) in a row. JSON grammars allow whitespace
// between tokens without limit, and a model that a schema keeps from the text it prefers can fill
// its whole token budget with blanks; this constraint makes it write something. The per-token
// effects (leading, trailing and whole-token blank runs) are computed once per tokenizer, so a
// check is O(1). Expressing the cap in the grammar itself (XGrammar's maxWhitespaceCnt) made its
// masks and prefix feeding 5–10× slower.
import type { Constraint } from '../constraint';
import type { TokenizerLike } from '../model';

interface BlankTable {
  /** Blank bytes at the start of each token; a token that is all blanks has lead = its length. */
  lead: Uint16Array;
  /** Blank bytes at its end. */
  trail: Uint16Array;
  /** 1 when the token is blank bytes only (and not empty). */
  all: Uint8Array;
}

const tables = new WeakMap<TokenizerLike, BlankTable>();

function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

function tableFor(tok: TokenizerLike): BlankTable {
  let t = tables.get(tok);
  if (t !== undefined) return t;
  const n = tok.vocabSize;
  t = { lead: new Uint16Array(n), trail: new Uint16Array(n), all: new Uint8Array(n) };
  for (let id = 0; id < n; id++) {
    const bytes = tok.tokenBytes(id);
    let lead = 0;
    while (lead < bytes.length && isBlank(bytes[lead] as number)) lead++;
    let trail = 0;
    while (trail < bytes.length && isBlank(bytes[bytes.length - 1 - trail] as number)) trail++;
    t.lead[id] = Math.min(lead, 0xffff);
    t.trail[id] = Math.min(trail, 0xffff);
    t.all[id] = bytes.length > 0 && lead === bytes.length ? 1 : 0;
  }
  tables.set(tok, t);
  return t;
}

/** Length of the run of blanks `text` ends with. */
export function trailingBlankRun(text: string): number {
  let n = 0;
  while (n < text.length && /[ \t\r\n]/.test(text[text.length - 1 - n] as string)) n++;
  return n;
}

/**
 * The blank-run cap. `before`: the text before the cursor (its trailing blanks count toward the
 * first run). Tokens beyond the table (ids the logits have but the tokenizer does not) pass.
 */
export function createBlankRunConstraint(tok: TokenizerLike, before: string, cap: number): Constraint {
  const t = tableFor(tok);
  const runs = [trailingBlankRun(before)];
  const run = (): number => runs[runs.length - 1] as number;
  const allowed = (id: number): boolean => id >= t.all.length || run() + (t.lead[id] as number) <= cap;
  return {
    name: `blank-run≤${cap}`,
    check: allowed,
    mask(out) {
      for (let id = 0; id < out.length; id++) if (allowed(id)) out[id] = 1;
      return true;
    },
    advance(id) {
      if (id >= t.all.length) runs.push(0);
      else runs.push(t.all[id] === 1 ? run() + (t.lead[id] as number) : (t.trail[id] as number));
    },
    rollback(n) {
      runs.length = Math.max(1, runs.length - n);
    },
    canStop: () => true,
  };
}
