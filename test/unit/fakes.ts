// Test doubles for the engine: a byte-level tokenizer with optional special tokens and merged
// pieces, and a causal LM whose logits are a pure function of the sequence so far, with a KV
// cache that behaves like the real one (append on forward, truncate, counters).
import type { CausalLM, Logits, TokenizerLike } from '../../server/engine/model';

const encoder = new TextEncoder();

export interface FakeTokenizerOptions {
  /** Special tokens in id order, after the 256 byte ids. */
  specials?: readonly string[];
  /** Multi-byte pieces (longest match wins), after the specials. */
  pieces?: readonly string[];
  /** Special-token contents that end generation. */
  stops?: readonly string[];
}

interface TrieNode {
  children: Map<number, TrieNode>;
  id?: number;
}

/** ids 0–255 are bytes; then specials; then pieces. encode = greedy longest piece match. */
export class FakeTokenizer implements TokenizerLike {
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly stopIds: ReadonlySet<number>;
  readonly vocabSize: number;
  private readonly pieceBytes: Uint8Array[];
  private readonly pieceBase: number;
  /** Byte trie of the pieces: node → (byte → child); `id` where a piece ends. */
  private readonly trie: TrieNode = { children: new Map() };

  constructor(options: FakeTokenizerOptions = {}) {
    const specials = options.specials ?? [];
    this.specialTokens = new Map(specials.map((s, i) => [s, 256 + i]));
    this.pieceBase = 256 + specials.length;
    this.pieceBytes = (options.pieces ?? []).map((p) => encoder.encode(p));
    this.pieceBytes.forEach((bytes, i) => {
      let node = this.trie;
      for (const b of bytes) {
        let child = node.children.get(b);
        if (child === undefined) node.children.set(b, (child = { children: new Map() }));
        node = child;
      }
      node.id = this.pieceBase + i;
    });
    this.vocabSize = this.pieceBase + this.pieceBytes.length;
    this.stopIds = new Set((options.stops ?? []).map((s) => this.specialTokens.get(s)).filter((id): id is number => id !== undefined));
  }

  encode(text: string): number[] {
    const bytes = encoder.encode(text);
    const ids: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      // Longest piece starting at i (pieces have ≥ 2 bytes), else the single byte.
      let best: { id: number; length: number } | undefined;
      let node: TrieNode | undefined = this.trie;
      for (let k = i; k < bytes.length && node !== undefined; k++) {
        node = node.children.get(bytes[k] as number);
        if (node?.id !== undefined && k > i) best = { id: node.id, length: k - i + 1 };
      }
      if (best === undefined) ids.push(bytes[i++] as number);
      else {
        ids.push(best.id);
        i += best.length;
      }
    }
    return ids;
  }

  tokenBytes(id: number): Uint8Array {
    if (id < 256) return Uint8Array.of(id);
    if (id < this.pieceBase) return new Uint8Array(0);
    return this.pieceBytes[id - this.pieceBase] ?? new Uint8Array(0);
  }

  decode(ids: readonly number[]): string {
    const chunks = ids.map((id) => this.tokenBytes(id));
    return new TextDecoder().decode(Buffer.concat(chunks));
  }

  id(special: string): number {
    const id = this.specialTokens.get(special);
    if (id === undefined) throw new Error(`no special ${special}`);
    return id;
  }
}

/** Logits of the next token given the whole sequence so far ([vocabSize]). */
export type ScoreFn = (sequence: readonly number[]) => Float32Array;

export interface FakeLMOptions {
  vocabSize: number;
  contextLength?: number;
  score: ScoreFn;
  /** Runs before every forward pass (e.g. to abort a signal mid-decode). */
  beforeForward?: (tokens: readonly number[], lm: FakeLM) => void;
}

export class FakeLM implements CausalLM {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly counters = { nForward: 0, nTokens: 0 };
  /** Every forward call's tokens, in order. */
  readonly calls: number[][] = [];
  private readonly sequence: number[] = [];

  constructor(private readonly options: FakeLMOptions) {
    this.vocabSize = options.vocabSize;
    this.contextLength = options.contextLength ?? 4096;
  }

  get cached(): readonly number[] {
    return this.sequence;
  }

  forward(tokens: readonly number[]): Promise<Logits> {
    if (tokens.length === 0) throw new RangeError('forward of no tokens');
    if (this.sequence.length + tokens.length > this.contextLength) throw new RangeError('context overflow');
    this.options.beforeForward?.(tokens, this);
    this.calls.push([...tokens]);
    this.counters.nForward++;
    this.counters.nTokens += tokens.length;
    const data = new Float32Array(tokens.length * this.vocabSize);
    tokens.forEach((t, i) => {
      this.sequence.push(t);
      data.set(this.options.score(this.sequence), i * this.vocabSize);
    });
    return Promise.resolve({ data, nRows: tokens.length, vocabSize: this.vocabSize });
  }

  truncate(n: number): void {
    if (n < this.sequence.length) this.sequence.length = Math.max(0, n);
  }
}

/** Deterministic 32-bit hash of a few integers. */
export function hash(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h = Math.imul(h ^ (x & 0xffff), 0x01000193);
    h = Math.imul(h ^ (x >>> 16), 0x01000193);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/**
 * A "model" with structure: pseudo-random preferences from the last two tokens, plus an
 * induction head (the token that followed the latest earlier occurrence of the last two tokens
 * gets a boost), so the text repeats itself the way code does and drafters find matches.
 * `nAllowed` restricts likely tokens to ids < nAllowed (printable ASCII by default: 32–126).
 */
export function inductionScore(vocabSize: number, options: { lo?: number; hi?: number; copyBoost?: number } = {}): ScoreFn {
  const lo = options.lo ?? 32;
  const hi = options.hi ?? 127;
  const boost = options.copyBoost ?? 4;
  return (seq) => {
    const row = new Float32Array(vocabSize).fill(-20);
    const n = seq.length;
    const a = seq[n - 1] ?? -1;
    const b = seq[n - 2] ?? -1;
    for (let v = lo; v < hi; v++) row[v] = (hash(a, b, v) % 1000) / 250; // 0…4
    for (let j = n - 2; j >= 1; j--) {
      if (seq[j] === a && seq[j - 1] === b) {
        const next = seq[j + 1] as number;
        row[next] = (row[next] as number) + boost;
        break;
      }
    }
    return row;
  };
}

/** One-hot-ish logits that make the greedy continuation of `prompt` exactly `ids`, then `endId`. */
export function scriptedScore(vocabSize: number, promptLength: number, ids: readonly number[], endId: number): ScoreFn {
  return (seq) => {
    const row = new Float32Array(vocabSize).fill(0);
    const next = ids[seq.length - promptLength] ?? endId;
    row[next] = 10;
    return row;
  };
}

/** Plain greedy continuation straight from the score function (no engine involved). */
export function referenceGreedy(score: ScoreFn, prompt: readonly number[], nTokens: number, nVocab: number, stopIds: ReadonlySet<number> = new Set()): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < nTokens; i++) {
    const row = score(seq);
    let best = 0;
    for (let v = 1; v < nVocab; v++) if ((row[v] as number) > (row[best] as number)) best = v;
    out.push(best);
    seq.push(best);
    if (stopIds.has(best)) break;
  }
  return out;
}
