// Canonical spelling of constrained identifiers, token by token.
//
// The byte rule of trie.ts lets any token through that keeps the identifier a prefix of a legal
// name, so after `t.` the single letter `a` is allowed because `assert_never` starts with it. A
// model never saw `assert_never` spelled a-s-s-e-r-t…: its tokenizer always writes it `.assert` +
// `_never`. When the model wants something the monitor forbids (to stop, a name that does not
// exist), the mass left over goes to such short, frequent tokens, and the model then spells a name
// it did not choose, out of distribution, byte by byte (session 5: 128 of 191 Python completions
// with the monitor on took more than one token per 1.6 characters, and the alphabetically first
// members — `allow_interspersed_args`, `assert_never` — won far more often than they were right).
//
// So while an identifier is constrained and what was generated of it so far lies on the canonical
// tokenization of some legal name, the next token's identifier part must be that tokenization's
// next token: the model then chooses among the names as it would write them. The tokenization is
// the tokenizer's own, of the operator followed by the name (`.assert` merges both) and of the name
// alone (the operator already written). Off every canonical path (the user typed part of the
// name, a draft went its own way) the byte rule alone applies.
import type { TokenizerLike } from '../engine/model';

const utf8 = new TextEncoder();
/** Per tokenizer: `${operator}\0${name}` → the name's identifier chunks, one spelling per entry. */
const chunkCache = new WeakMap<TokenizerLike, Map<string, Uint8Array[][]>>();
const tMaxCached = 50_000;

/** Bytes as a map key (one char per byte). */
export function bytesKey(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

/** The bytes of a bytesKey string. */
export function fromKey(k: string): Uint8Array {
  const b = new Uint8Array(k.length);
  for (let i = 0; i < k.length; i++) b[i] = k.charCodeAt(i);
  return b;
}

/**
 * How the tokenizer spells `name`: the part of each token that falls inside the name, for the
 * name right after `operator` and for the name alone. A spelling whose tokens do not put the text
 * back together byte for byte (a normalizing tokenizer), or that the tokenizer fails on, is left out.
 */
export function spellings(tokenizer: TokenizerLike, operator: string, name: string): Uint8Array[][] {
  let cache = chunkCache.get(tokenizer);
  if (cache === undefined) chunkCache.set(tokenizer, (cache = new Map()));
  const key = `${operator}\0${name}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const out: Uint8Array[][] = [];
  for (const lead of operator === '' ? [''] : [operator, '']) {
    const chunks = spell(tokenizer, lead, name);
    if (chunks !== undefined && !out.some((c) => sameChunks(c, chunks))) out.push(chunks);
  }
  if (cache.size >= tMaxCached) cache.clear();
  cache.set(key, out);
  return out;
}

function spell(tokenizer: TokenizerLike, lead: string, name: string): Uint8Array[] | undefined {
  const text = utf8.encode(lead + name);
  const start = utf8.encode(lead).length;
  let ids: number[];
  try {
    ids = tokenizer.encode(lead + name);
  } catch {
    return undefined; // no spelling known: the byte rule alone applies to this name
  }
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const id of ids) {
    const t = tokenizer.tokenBytes(id);
    for (let i = 0; i < t.length; i++) if (text[at + i] !== t[i]) return undefined;
    const from = Math.max(at, start);
    at += t.length;
    if (at > from) chunks.push(text.slice(from, at));
  }
  return at === text.length ? chunks : undefined;
}

function sameChunks(a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => bytesKey(x) === bytesKey(b[i] as Uint8Array));
}

/**
 * For one static-analysis answer: which identifier chunk may follow what was generated of it, and
 * how much a preference for the names (0…1: how the document already uses them) favours each chunk.
 */
export class CanonicalSpelling {
  /** Identifier bytes so far (bytesKey) → the chunks a canonical spelling continues with → the best weight of a name through it. */
  private readonly next = new Map<string, Map<string, number>>();

  constructor(names: readonly string[], spell: (name: string) => Uint8Array[][], weight: (name: string) => number = () => 0) {
    for (const name of names) {
      const w = weight(name);
      for (const chunks of spell(name)) {
        let p = '';
        for (const c of chunks) {
          const k = bytesKey(c);
          let s = this.next.get(p);
          if (s === undefined) this.next.set(p, (s = new Map()));
          s.set(k, Math.max(w, s.get(k) ?? 0));
          p += k;
        }
      }
    }
  }

  /**
   * The chunks (bytesKey) a canonical spelling continues with after `p` (identifier bytes
   * generated so far), each with the best weight of a name through it; undefined when p lies on
   * no canonical spelling, so this rule has no say there.
   */
  after(p: Uint8Array): ReadonlyMap<string, number> | undefined {
    return this.next.get(bytesKey(p));
  }
}
