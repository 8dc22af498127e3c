// The token history of the user's code as one incrementally maintained n-gram index, shared by
// CopySpec drafting (where did the last γ tokens occur? copy what followed) and superposed
// decoding (how often does token t follow this context? an n-gram language model).
// Documents (open files, workspace files, earlier completions, the live prompt) are token-id
// arrays; every window of each configured length is filed under a hash of its ids, with the
// document and position packed into one number. Lookups verify ids, so hash collisions only cost
// time. Removing a document marks it dead; its entries are skipped and dropped at compaction.

export type WindowHash = (ids: readonly number[], start: number, length: number) => number;

/** FNV-1a over the ids of ids[start, start + length). */
export function hashWindow(ids: readonly number[], start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + length; i++) h = Math.imul(h ^ (ids[i] as number), 0x01000193);
  return h >>> 0;
}

export interface NGramIndexOptions {
  /**
   * Window lengths indexed, tokens. Superposed decoding needs contexts of orders 2–6, i.e.
   * lengths 1–5; CopySpec needs its γ (4 by default, already among them).
   */
  lengths?: readonly number[];
  /** Unpinned documents beyond this many tokens evict the oldest. */
  maxHistoryTokens?: number;
  /** Injectable so tests can force collisions. */
  hash?: WindowHash;
}

export interface IndexedDoc {
  readonly key: string;
  /** Serial number, part of every packed entry. */
  readonly serial: number;
  readonly ids: number[];
  alive: boolean;
  /** Exempt from eviction (the live sequence). */
  pinned: boolean;
}

/** One verified occurrence of a window: doc.ids[pos, pos + length). */
export interface Occurrence {
  readonly doc: IndexedDoc;
  readonly pos: number;
}

/** Followers of a context: count per next token over the scanned occurrences. */
export interface Continuations {
  readonly counts: ReadonlyMap<number, number>;
  /** Occurrences that had a next token (the denominator). */
  readonly total: number;
}

/** Positions per document: 2^22 (4M tokens); the serial fills the rest of a safe integer. */
const posBits = 2 ** 22;

export class NGramIndex {
  readonly lengths: readonly number[];
  private readonly hash: WindowHash;
  private readonly maxHistoryTokens: number;
  /** Per window length: hash → packed entries (serial · 2^22 + pos), oldest first. */
  private readonly buckets = new Map<number, Map<number, number[]>>();
  private readonly docs = new Map<string, IndexedDoc>();
  private readonly bySerial = new Map<number, IndexedDoc>();
  /** Per document serial: windows of each length filed so far = positions < this. */
  private readonly nIndexed = new Map<number, number>();
  private nextSerial = 1;
  private nEntries = 0;
  private nStale = 0;

  constructor(options: NGramIndexOptions = {}) {
    this.lengths = [...new Set(options.lengths ?? [1, 2, 3, 4, 5])].filter((n) => n >= 1).sort((a, b) => a - b);
    this.hash = options.hash ?? hashWindow;
    this.maxHistoryTokens = options.maxHistoryTokens ?? 1 << 18;
    for (const n of this.lengths) this.buckets.set(n, new Map());
  }

  /** Adds or replaces a document; it becomes the most recent (last evicted). */
  setDocument(key: string, ids: readonly number[], options: { pinned?: boolean } = {}): IndexedDoc {
    this.removeDocument(key);
    const doc: IndexedDoc = { key, serial: this.nextSerial++, ids: [...ids], alive: true, pinned: options.pinned ?? false };
    this.docs.set(key, doc);
    this.bySerial.set(doc.serial, doc);
    this.nIndexed.set(doc.serial, 0);
    this.indexDoc(doc);
    this.evict();
    return doc;
  }

  /** Appends ids to a document (the live sequence growing) and files the new windows. */
  append(key: string, ids: readonly number[]): void {
    const doc = this.docs.get(key);
    if (doc === undefined) {
      this.setDocument(key, ids);
      return;
    }
    for (const id of ids) doc.ids.push(id);
    this.indexDoc(doc);
  }

  getDocument(key: string): IndexedDoc | undefined {
    return this.docs.get(key);
  }

  removeDocument(key: string): void {
    const doc = this.docs.get(key);
    if (doc === undefined) return;
    this.docs.delete(key);
    doc.alive = false;
    this.nStale += this.lengths.reduce((sum, n) => sum + Math.max(0, doc.ids.length - n + 1), 0);
    if (this.nStale > 4096 && this.nStale * 2 > this.nEntries) this.compact();
  }

  get nHistoryTokens(): number {
    let n = 0;
    for (const d of this.docs.values()) n += d.ids.length;
    return n;
  }

  /**
   * Occurrences of the window seq[end - length, end), most recent first, verified id by id.
   * `length` must be one of `lengths`. Stops after `maxScan` bucket entries.
   */
  *occurrences(seq: readonly number[], end: number, length: number, maxScan = 256): Generator<Occurrence> {
    const table = this.buckets.get(length);
    if (table === undefined) throw new RangeError(`NGramIndex: window length ${length} is not indexed (${this.lengths.join(', ')})`);
    const start = end - length;
    if (start < 0) return;
    const bucket = table.get(this.hash(seq, start, length));
    if (bucket === undefined) return;
    let nScanned = 0;
    for (let i = bucket.length - 1; i >= 0 && nScanned < maxScan; i--) {
      const packed = bucket[i] as number;
      const doc = this.bySerial.get(Math.floor(packed / posBits));
      if (doc === undefined || !doc.alive) continue;
      nScanned++;
      const pos = packed % posBits;
      if (sameIds(doc.ids, pos, seq, start, length)) yield { doc, pos };
    }
  }

  /**
   * Next-token counts after the context seq[end - length, end) over its most recent `maxScan`
   * occurrences (a recency-weighted estimate for very frequent contexts).
   */
  continuations(seq: readonly number[], end: number, length: number, maxScan = 256): Continuations {
    const counts = new Map<number, number>();
    let total = 0;
    for (const { doc, pos } of this.occurrences(seq, end, length, maxScan)) {
      const next = doc.ids[pos + length];
      if (next === undefined) continue;
      counts.set(next, (counts.get(next) ?? 0) + 1);
      total++;
    }
    return { counts, total };
  }

  private indexDoc(doc: IndexedDoc): void {
    const from = this.nIndexed.get(doc.serial) ?? 0;
    for (const n of this.lengths) {
      const table = this.buckets.get(n) as Map<number, number[]>;
      // Windows ending at or before `from` were filed by an earlier call.
      for (let pos = Math.max(0, from - n + 1); pos + n <= doc.ids.length; pos++) {
        const h = this.hash(doc.ids, pos, n);
        const packed = doc.serial * posBits + pos;
        const bucket = table.get(h);
        if (bucket === undefined) table.set(h, [packed]);
        else bucket.push(packed);
        this.nEntries++;
      }
    }
    this.nIndexed.set(doc.serial, doc.ids.length);
  }

  private compact(): void {
    for (const table of this.buckets.values()) {
      for (const [h, bucket] of table) {
        const kept = bucket.filter((p) => this.bySerial.get(Math.floor(p / posBits))?.alive === true);
        if (kept.length === 0) table.delete(h);
        else table.set(h, kept);
      }
    }
    for (const [serial, doc] of this.bySerial) {
      if (!doc.alive) {
        this.bySerial.delete(serial);
        this.nIndexed.delete(serial);
      }
    }
    this.nEntries -= this.nStale;
    this.nStale = 0;
  }

  private evict(): void {
    let total = this.nHistoryTokens;
    for (const [key, doc] of this.docs) {
      if (total <= this.maxHistoryTokens) break;
      if (doc.pinned) continue;
      total -= doc.ids.length;
      this.removeDocument(key);
    }
  }
}

function sameIds(a: readonly number[], aStart: number, b: readonly number[], bStart: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}
