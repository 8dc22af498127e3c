// A multimap from γ-window hashes to (document slot, position), in flat typed arrays: chained
// buckets (newest entry first), append-only, rebuilt to drop entries of retired documents.
// Callers compare the window's token ids at every candidate, so hash collisions cost a comparison
// and never a wrong answer.

export class GramIndex {
  /** [nBuckets] newest entry of the bucket, or -1. */
  private head: Int32Array;
  /** [capacity] per entry: the next older entry in its bucket (-1), full hash, doc slot, position. */
  private next: Int32Array;
  private hashes: Uint32Array;
  private slots: Int32Array;
  private positions: Int32Array;
  private mask: number;
  nEntries = 0;

  constructor(capacity = 1 << 12) {
    const size = 1 << Math.ceil(Math.log2(Math.max(16, capacity)));
    this.head = new Int32Array(size * 2).fill(-1);
    this.mask = size * 2 - 1;
    this.next = new Int32Array(size);
    this.hashes = new Uint32Array(size);
    this.slots = new Int32Array(size);
    this.positions = new Int32Array(size);
  }

  add(hash: number, slot: number, position: number): void {
    if (this.nEntries === this.next.length) this.grow(this.next.length * 2);
    const e = this.nEntries++;
    const b = hash & this.mask;
    this.hashes[e] = hash;
    this.slots[e] = slot;
    this.positions[e] = position;
    this.next[e] = this.head[b] as number;
    this.head[b] = e;
  }

  /** Visits the entries with this hash, newest first, until `visit` returns false. */
  forEach(hash: number, visit: (slot: number, position: number) => boolean): void {
    for (let e = this.head[hash & this.mask] as number; e >= 0; e = this.next[e] as number) {
      if (this.hashes[e] === hash && !visit(this.slots[e] as number, this.positions[e] as number)) return;
    }
  }

  /** Keeps only the entries whose slot passes `keep` (order preserved). */
  compact(keep: (slot: number) => boolean): void {
    let n = 0;
    for (let e = 0; e < this.nEntries; e++) {
      if (!keep(this.slots[e] as number)) continue;
      this.hashes[n] = this.hashes[e] as number;
      this.slots[n] = this.slots[e] as number;
      this.positions[n] = this.positions[e] as number;
      n++;
    }
    this.nEntries = n;
    this.relink();
  }

  private grow(capacity: number): void {
    const copy = <T extends Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a.subarray(0, this.nEntries));
      return b;
    };
    this.hashes = copy(this.hashes, (n) => new Uint32Array(n));
    this.slots = copy(this.slots, (n) => new Int32Array(n));
    this.positions = copy(this.positions, (n) => new Int32Array(n));
    this.next = new Int32Array(capacity);
    this.head = new Int32Array(capacity * 2);
    this.mask = capacity * 2 - 1;
    this.relink();
  }

  /** Rebuilds the bucket chains from the entry arrays (oldest first, so the newest ends up at the head). */
  private relink(): void {
    this.head.fill(-1);
    for (let e = 0; e < this.nEntries; e++) {
      const b = (this.hashes[e] as number) & this.mask;
      this.next[e] = this.head[b] as number;
      this.head[b] = e;
    }
  }
}
