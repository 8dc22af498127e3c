// Token masking for monitor-guided decoding (MGD): which vocabulary tokens may continue an
// identifier when static analysis says which identifiers are legal here.
//
// Everything works on UTF-8 bytes, as tokens do: a byte-level BPE token may end in the middle of a
// multi-byte character, and an identifier may take several tokens. The vocabulary index is the
// tokens sorted by their bytes; the tokens that start with some byte string are then one contiguous
// range, so walking a string through the sorted array is a walk down a trie without building one
// (no per-node objects: a 150k vocabulary costs one Int32Array).
//
// The rule, with `p` the identifier bytes generated since the trigger and `t` a token's bytes:
//   t is allowed  iff  p+t is a prefix of a legal identifier,
//                  or  p+t = (a whole legal identifier) + (a byte that cannot be part of an
//                      identifier) + anything — a token such as `length);` ends the identifier
//                      and carries on with free text, where the monitor no longer applies.
// Tokens with no bytes (special tokens: end of text, FIM markers) are allowed only when p is a
// whole legal identifier.
import type { TokenizerLike } from '../engine/model';

/** identByte[b] = 1 when byte b may be part of an identifier. Bytes ≥ 0x80 (non-ASCII letters) count. */
export type IdentTable = Uint8Array;

export function identTable(extra = ''): IdentTable {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    const c = String.fromCharCode(b);
    t[b] = b >= 0x80 || /[A-Za-z0-9_]/.test(c) || extra.includes(c) ? 1 : 0;
  }
  return t;
}

/** `$` is an identifier character in JavaScript/TypeScript (and PHP variables). */
export const identJs = identTable('$');
export const identDefault = identTable();

const utf8 = new TextEncoder();

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function startsWith(x: Uint8Array, p: Uint8Array): boolean {
  if (x.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (x[i] !== p[i]) return false;
  return true;
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const indexCache = new WeakMap<TokenizerLike, VocabIndex>();

/** The vocabulary's tokens sorted by their bytes. Built once per tokenizer (`VocabIndex.of`). */
export class VocabIndex {
  /** Ids with non-empty bytes, sorted by bytes. */
  readonly sorted: Int32Array;
  /** Ids with no bytes: special tokens. */
  readonly empty: Int32Array;
  readonly bytes: readonly Uint8Array[];
  readonly tBuildMs: number;

  constructor(readonly vocabSize: number, tokenBytes: (id: number) => Uint8Array) {
    const t0 = performance.now();
    const bytes: Uint8Array[] = [];
    const nonEmpty: number[] = [];
    const empty: number[] = [];
    for (let id = 0; id < vocabSize; id++) {
      const b = tokenBytes(id);
      bytes.push(b);
      (b.length === 0 ? empty : nonEmpty).push(id);
    }
    nonEmpty.sort((x, y) => compareBytes(bytes[x] as Uint8Array, bytes[y] as Uint8Array) || x - y);
    this.bytes = bytes;
    this.sorted = Int32Array.from(nonEmpty);
    this.empty = Int32Array.from(empty);
    this.tBuildMs = performance.now() - t0;
  }

  static of(tokenizer: TokenizerLike): VocabIndex {
    let index = indexCache.get(tokenizer);
    if (index === undefined) {
      index = new VocabIndex(tokenizer.vocabSize, (id) => tokenizer.tokenBytes(id));
      indexCache.set(tokenizer, index);
    }
    return index;
  }

  tokenBytes(id: number): Uint8Array {
    return this.bytes[id] ?? new Uint8Array(0);
  }

  /** Byte `depth` of the token at sorted position i, or -1 when the token is that short. */
  private keyAt(i: number, depth: number): number {
    const b = this.bytes[this.sorted[i] as number] as Uint8Array;
    return depth < b.length ? (b[depth] as number) : -1;
  }

  private lowerBound(lo: number, hi: number, depth: number, key: number): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keyAt(mid, depth) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Within [lo, hi) — tokens that all share their first `depth` bytes — the sub-range whose byte
   * `depth` is `byte`. Shorter tokens sort first, so the result is contiguous.
   */
  narrow(lo: number, hi: number, depth: number, byte: number): [number, number] {
    const a = this.lowerBound(lo, hi, depth, byte);
    return [a, this.lowerBound(a, hi, depth, byte + 1)];
  }

  /** Sorted positions of the tokens whose bytes start with `prefix`. */
  prefixRange(prefix: Uint8Array): [number, number] {
    let lo = 0;
    let hi = this.sorted.length;
    for (let d = 0; d < prefix.length && lo < hi; d++) [lo, hi] = this.narrow(lo, hi, d, prefix[d] as number);
    return [lo, hi];
  }

  /** The ids of the tokens whose bytes are exactly `b`. */
  idsOf(b: Uint8Array): number[] {
    const [lo, hi] = this.prefixRange(b);
    const out: number[] = [];
    for (let i = lo; i < hi && this.lengthAt(i) === b.length; i++) out.push(this.sorted[i] as number);
    return out;
  }

  /** Length in bytes of the token at sorted position i. */
  lengthAt(i: number): number {
    return (this.bytes[this.sorted[i] as number] as Uint8Array).length;
  }
}

/** The legal identifiers of one static-analysis answer, as sorted unique UTF-8 strings. */
export class IdentifierSet {
  readonly sorted: readonly Uint8Array[];
  readonly names: readonly string[];

  /** Keeps the names made only of identifier characters (drops `#private`, `["a-b"]`, ''). */
  constructor(names: Iterable<string>, ident: IdentTable) {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    for (const name of names) {
      if (name === '' || seen.has(name)) continue;
      const b = utf8.encode(name);
      if (!b.every((x) => ident[x] === 1)) continue;
      seen.add(name);
      out.push(b);
    }
    out.sort(compareBytes);
    this.sorted = out;
    this.names = out.map((b) => new TextDecoder().decode(b));
  }

  get size(): number {
    return this.sorted.length;
  }

  private lowerBound(p: Uint8Array): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.sorted[mid] as Uint8Array, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  hasExact(b: Uint8Array): boolean {
    const x = this.sorted[this.lowerBound(b)];
    return x !== undefined && compareBytes(x, b) === 0;
  }

  hasPrefix(p: Uint8Array): boolean {
    const x = this.sorted[this.lowerBound(p)];
    return x !== undefined && startsWith(x, p);
  }

  /** The identifiers that start with p, in order. */
  withPrefix(p: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = this.lowerBound(p); i < this.sorted.length; i++) {
      const x = this.sorted[i] as Uint8Array;
      if (!startsWith(x, p)) break;
      out.push(x);
    }
    return out;
  }
}

/** Index of the first byte of t that cannot be part of an identifier, or -1. */
export function identifierEnd(t: Uint8Array, ident: IdentTable, from = 0): number {
  for (let i = from; i < t.length; i++) if (ident[t[i] as number] !== 1) return i;
  return -1;
}

/**
 * The fast-path rule: may token bytes `t` follow the identifier bytes `p` (generated since the
 * trigger)? Empty `t` (a special token) only when p is a whole legal identifier.
 */
export function allowsToken(set: IdentifierSet, p: Uint8Array, t: Uint8Array, ident: IdentTable): boolean {
  if (t.length === 0) return set.hasExact(p);
  const j = identifierEnd(t, ident);
  if (j < 0) return set.hasPrefix(concatBytes(p, t));
  if (p.length + j === 0) return false;
  return set.hasExact(concatBytes(p, t.subarray(0, j)));
}

/**
 * The slow path: sets allowed[id] = 1 for every token that `allowsToken` accepts, where the token
 * must additionally start with `lead` (the trigger bytes inside a token such as `.length`; empty
 * normally). Returns the number of ids it set. Cost: one walk per candidate identifier, plus one
 * pass over the tokens after `lead` when p is already a whole identifier.
 */
export function maskTokens(
  index: VocabIndex,
  set: IdentifierSet,
  p: Uint8Array,
  allowed: Uint8Array,
  ident: IdentTable,
  lead: Uint8Array = new Uint8Array(0),
): number {
  let n = 0;
  const mark = (id: number): void => {
    if (allowed[id] !== 1) {
      allowed[id] = 1;
      n++;
    }
  };
  const [leadLo, leadHi] = index.prefixRange(lead);
  const depth0 = lead.length;
  for (const c of set.withPrefix(p)) {
    const r = c.subarray(p.length);
    let lo = leadLo;
    let hi = leadHi;
    for (let d = 0; d < r.length && lo < hi; d++) {
      [lo, hi] = index.narrow(lo, hi, depth0 + d, r[d] as number);
      // Tokens exactly lead + r[0..d]: a prefix of the identifier.
      for (let i = lo; i < hi && index.lengthAt(i) === depth0 + d + 1; i++) mark(index.sorted[i] as number);
    }
    if (lo >= hi) continue;
    // Tokens lead + r + (a byte that ends an identifier) + anything: the identifier ends inside them.
    const depth = depth0 + r.length;
    for (let i = lo; i < hi; i++) {
      const b = index.bytes[index.sorted[i] as number] as Uint8Array;
      if (b.length > depth && ident[b[depth] as number] !== 1) mark(index.sorted[i] as number);
    }
  }
  if (lead.length === 0 && set.hasExact(p)) for (const id of index.empty) mark(id);
  return n;
}
