// CopySpec drafting ("CopySpec: Accelerating LLMs with Speculative Copy-and-Paste Without
// Compromising Quality"): an index from every γ-token window of the history to where it occurs.
// When the sequence's last γ tokens occur in the history, the tokens that followed them there are
// proposed as a copy. History = the live sequence (prompt + generated), earlier completions, and
// documents the caller feeds in (other open files, recent edits). The index is incremental; a copy
// that the model keeps accepting continues from where it left off (chained copies), and the copy
// length grows after full acceptance and shrinks after early rejection.
import { emptyDrafterStats, type Drafter, type DrafterStats } from './drafter';
import { GramIndex } from './gram-index';

export interface CopySpecOptions {
  /** γ: tokens in the key window. */
  gamma?: number;
  /** Copy length bounds, tokens; the length adapts in between. */
  minCopy?: number;
  maxCopy?: number;
  /** History documents beyond this many tokens evict the oldest. */
  maxHistoryTokens?: number;
  /** Earlier completions kept in the history. */
  nCompletionsKept?: number;
  /** Bucket hash of a γ-window; injectable so tests can force collisions. */
  hash?: (ids: readonly number[], start: number, gamma: number) => number;
}

interface Doc {
  readonly key: string;
  /** Index into `CopySpecDrafter.slots`. */
  readonly slot: number;
  readonly ids: number[];
  alive: boolean;
  /** Windows starting before this index are in the index. */
  nIndexed: number;
}

/** Where the next copied token comes from: doc.ids[pos]. */
interface CopySource {
  readonly doc: Doc;
  readonly pos: number;
}

export function hashWindow(ids: readonly number[], start: number, gamma: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + gamma; i++) h = Math.imul(h ^ (ids[i] as number), 0x01000193);
  return h >>> 0;
}

/** How many tokens before `aEnd` in `a` and before `bEnd` in `b` agree, up to `cap`. */
function backwardMatch(a: readonly number[], aEnd: number, b: readonly number[], bEnd: number, cap: number): number {
  let k = 0;
  while (k < cap && aEnd - k - 1 >= 0 && bEnd - k - 1 >= 0 && a[aEnd - k - 1] === b[bEnd - k - 1]) k++;
  return k;
}

export class CopySpecDrafter implements Drafter {
  readonly name = 'copyspec';
  readonly stats: DrafterStats = emptyDrafterStats();
  private readonly gamma: number;
  private readonly minCopy: number;
  private readonly maxCopy: number;
  private readonly hash: NonNullable<CopySpecOptions['hash']>;
  private readonly index = new GramIndex();
  private readonly docs = new Map<string, Doc>();
  /** Documents by slot (retired ones until the next compaction). */
  private slots: (Doc | undefined)[] = [];
  private nStale = 0;
  private live: Doc | undefined;
  private livePromptLength = 0;
  private nCompletions = 0;
  private copyLength: number;
  /** The last draft's source and length, for chaining. */
  private lastCopy: { source: CopySource; n: number } | undefined;
  private chain: CopySource | undefined;

  constructor(private readonly options: CopySpecOptions = {}) {
    this.gamma = Math.max(1, options.gamma ?? 4);
    this.minCopy = Math.max(1, options.minCopy ?? 2);
    this.maxCopy = Math.max(this.minCopy, options.maxCopy ?? 32);
    this.copyLength = Math.min(this.maxCopy, Math.max(this.minCopy, 8));
    const hash = options.hash ?? hashWindow;
    this.hash = (ids, start, gamma) => hash(ids, start, gamma) >>> 0;
  }

  /** Adds or replaces a history document (an open file, a recent edit), as token ids. */
  setDocument(key: string, ids: readonly number[]): void {
    this.removeDocument(key);
    const doc = this.newDoc(key, ids);
    this.docs.set(key, doc);
    this.indexUpTo(doc, doc.ids.length);
    this.evict();
  }

  removeDocument(key: string): void {
    const doc = this.docs.get(key);
    if (doc === undefined) return;
    this.docs.delete(key);
    this.retire(doc);
  }

  get nHistoryTokens(): number {
    let n = 0;
    for (const d of this.docs.values()) n += d.ids.length;
    return n;
  }

  begin(prompt: readonly number[]): void {
    // The previous request's completion (with a little context before it) joins the history.
    const previous = this.live;
    if (previous !== undefined && previous.ids.length > this.livePromptLength) {
      const kept = this.options.nCompletionsKept ?? 16;
      const start = Math.max(0, this.livePromptLength - 32);
      this.setDocument(`completion:${this.nCompletions++ % kept}`, previous.ids.slice(start));
    }
    if (previous !== undefined) this.retire(previous);
    this.live = this.newDoc('', prompt);
    this.livePromptLength = prompt.length;
    this.indexUpTo(this.live, this.live.ids.length);
    this.chain = undefined;
    this.lastCopy = undefined;
  }

  draft(sequence: readonly number[], nMax: number): number[] {
    const live = this.syncLive(sequence);
    const n = Math.min(nMax, this.copyLength);
    if (n <= 0 || sequence.length < this.gamma) return [];
    const source = this.chained(sequence) ?? this.lookup(sequence, live);
    if (source === undefined) {
      this.lastCopy = undefined;
      return [];
    }
    const end = source.doc === live ? sequence.length : source.doc.ids.length;
    const tokens = source.doc.ids.slice(source.pos, Math.min(end, source.pos + n));
    this.lastCopy = tokens.length > 0 ? { source, n: tokens.length } : undefined;
    return tokens;
  }

  accept(draft: readonly number[], nAccepted: number): void {
    const copy = this.lastCopy;
    if (copy === undefined || draft.length === 0) return;
    if (nAccepted === draft.length) {
      // The model agreed all the way: next round, continue the same copy (after the model's own
      // next token, which `chained` checks against the source).
      this.chain = { doc: copy.source.doc, pos: copy.source.pos + nAccepted };
      this.copyLength = Math.min(this.maxCopy, this.copyLength * 2);
    } else {
      this.chain = undefined;
      if (nAccepted < draft.length / 2) this.copyLength = Math.max(this.minCopy, Math.ceil(this.copyLength / 2));
    }
  }

  /** Appends the generated tokens to the live document and indexes the new windows. */
  private syncLive(sequence: readonly number[]): Doc {
    let live = this.live;
    if (live === undefined || sequence.length < live.ids.length) {
      this.begin(sequence);
      live = this.live as Doc;
    }
    for (let i = live.ids.length; i < sequence.length; i++) live.ids.push(sequence[i] as number);
    this.indexUpTo(live, live.ids.length);
    return live;
  }

  /** The continuing copy, if the source still agrees with the sequence's last γ tokens. */
  private chained(sequence: readonly number[]): CopySource | undefined {
    const chain = this.chain;
    this.chain = undefined;
    if (chain === undefined || !chain.doc.alive) return undefined;
    // The model's own token after the copy must equal the source's next one.
    const pos = chain.pos + 1;
    if (pos >= chain.doc.ids.length) return undefined;
    if (backwardMatch(chain.doc.ids, pos, sequence, sequence.length, this.gamma) < this.gamma) return undefined;
    return { doc: chain.doc, pos };
  }

  /**
   * The occurrence of the last γ tokens whose left context agrees longest with the sequence
   * (most recent first on ties). Every candidate's ids are compared, not just its hash bucket.
   */
  private lookup(sequence: readonly number[], live: Doc): CopySource | undefined {
    const gamma = this.gamma;
    const tail = sequence.length - gamma;
    let best: CopySource | undefined;
    let bestScore = -1;
    let nExamined = 0;
    this.index.forEach(this.hash(sequence, tail, gamma), (slot, pos) => {
      const doc = this.slots[slot];
      if (doc === undefined || !doc.alive) return true;
      // A copy needs a token after the window; in the live sequence the window must not be the tail.
      if (pos + gamma >= (doc === live ? sequence.length : doc.ids.length)) return true;
      if (backwardMatch(doc.ids, pos + gamma, sequence, sequence.length, gamma) < gamma) return true; // hash collision
      const score = backwardMatch(doc.ids, pos, sequence, tail, 64);
      if (score > bestScore) {
        bestScore = score;
        best = { doc, pos: pos + gamma };
      }
      return ++nExamined < 64;
    });
    return best;
  }

  private newDoc(key: string, ids: readonly number[]): Doc {
    const doc: Doc = { key, slot: this.slots.length, ids: [...ids], alive: true, nIndexed: 0 };
    this.slots.push(doc);
    return doc;
  }

  private indexUpTo(doc: Doc, length: number): void {
    for (let pos = doc.nIndexed; pos + this.gamma <= length; pos++) this.index.add(this.hash(doc.ids, pos, this.gamma), doc.slot, pos);
    doc.nIndexed = Math.max(doc.nIndexed, length - this.gamma + 1);
  }

  /** Marks a document dead; its entries are skipped and dropped at the next compaction. */
  private retire(doc: Doc): void {
    if (!doc.alive) return;
    doc.alive = false;
    this.nStale += Math.max(0, doc.nIndexed);
    if (this.nStale > 4096 && this.nStale * 2 > this.index.nEntries) {
      this.index.compact((slot) => this.slots[slot]?.alive === true);
      for (let i = 0; i < this.slots.length; i++) if (this.slots[i]?.alive !== true) this.slots[i] = undefined;
      this.nStale = 0;
    }
  }

  private evict(): void {
    const max = this.options.maxHistoryTokens ?? 1 << 18;
    let total = this.nHistoryTokens;
    for (const [key, doc] of this.docs) {
      if (total <= max) break;
      total -= doc.ids.length;
      this.removeDocument(key);
    }
  }
}
