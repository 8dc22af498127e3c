// The model's own next-token table as a drafter. A model directory may carry
// `specter/draft-table.bin` (tools/model/draft_table.py): for contexts of 1–K tokens seen in
// training text, the token the model itself most often chose next. Chained lookups draft what the
// model is likely to write even when the context holds no copy of it (what prompt lookup and
// CopySpec need), and the decode loop verifies the draft in one forward pass as usual, so the
// output stays identical to plain decoding. The table is ordinary data: the engine parses bytes,
// the runtime reads the file.
import { emptyDrafterStats, type Drafter, type DrafterStats } from './drafter';

/** Parsed `draft-table.bin`. Rows of order k: k context ids (oldest first) then the next id, sorted by context. */
export interface DraftTable {
  readonly vocabSize: number;
  readonly maxOrder: number;
  /** First 8 bytes of the SHA-256 of the tokenizer.json the table was built with, hex. */
  readonly tokenizerHash: string;
  /** [k - 1]: rows of order k, (k + 1) ids each. */
  readonly rows: readonly Uint16Array[];
  readonly nEntries: number;
}

const magic = 'SPDT';
const headerBytes = 4 + 4 * 3 + 8;

/** The table in `bytes`, or a message saying what is wrong with them. */
export function parseDraftTable(bytes: Uint8Array): { ok: true; table: DraftTable } | { ok: false; message: string } {
  const bad = (why: string): { ok: false; message: string } => ({ ok: false, message: why });
  if (bytes.length < headerBytes || String.fromCharCode(...bytes.subarray(0, 4)) !== magic) return bad('not a Specter draft table (no SPDT header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== 1) return bad(`version ${version}; this Specter reads version 1`);
  const vocabSize = view.getUint32(8, true);
  const maxOrder = view.getUint32(12, true);
  if (vocabSize === 0 || vocabSize > 65536 || maxOrder < 1 || maxOrder > 8) return bad(`implausible header (vocab ${vocabSize}, order ${maxOrder})`);
  const tokenizerHash = Array.from(bytes.subarray(16, 24), (b) => b.toString(16).padStart(2, '0')).join('');
  const rows: Uint16Array[] = [];
  let at = headerBytes;
  let nEntries = 0;
  for (let k = 1; k <= maxOrder; k++) {
    if (at + 4 > bytes.length) return bad(`truncated: order ${k} is missing`);
    const n = view.getUint32(at, true);
    at += 4;
    const nIds = n * (k + 1);
    if (at + 2 * nIds > bytes.length) return bad(`truncated: order ${k} says ${n} rows, the file ends before them`);
    const r = new Uint16Array(nIds);
    for (let i = 0; i < nIds; i++) r[i] = view.getUint16(at + 2 * i, true);
    at += 2 * nIds;
    for (let i = 0; i < nIds; i++) if ((r[i] as number) >= vocabSize) return bad(`order ${k} holds token id ${r[i]} ≥ vocab ${vocabSize}`);
    for (let i = 1; i < n; i++) if (compareRows(r, k, i - 1, i) >= 0) return bad(`order ${k} rows are not sorted (row ${i})`);
    rows.push(r);
    nEntries += n;
  }
  if (at !== bytes.length) return bad(`${bytes.length - at} unexpected bytes after the last order`);
  return { ok: true, table: { vocabSize, maxOrder, tokenizerHash, rows, nEntries } };
}

function compareRows(r: Uint16Array, k: number, a: number, b: number): number {
  const w = k + 1;
  for (let j = 0; j < k; j++) {
    const d = (r[a * w + j] as number) - (r[b * w + j] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** Row of order k whose context equals seq's last k ids (seq[end - k, end)), or -1. */
function findRow(r: Uint16Array, k: number, seq: readonly number[], end: number): number {
  const w = k + 1;
  let lo = 0;
  let hi = r.length / w;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    let d = 0;
    for (let j = 0; j < k && d === 0; j++) d = (r[mid * w + j] as number) - (seq[end - k + j] as number);
    if (d === 0) return mid;
    if (d < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** The table's next token after seq[0, end): the longest context it holds wins; undefined when none matches. */
export function tableNext(table: DraftTable, seq: readonly number[], end = seq.length): number | undefined {
  for (let k = Math.min(table.maxOrder, end); k >= 1; k--) {
    const r = table.rows[k - 1];
    if (r === undefined) continue;
    const i = findRow(r, k, seq, end);
    if (i >= 0) return r[i * (k + 1) + k];
  }
  return undefined;
}

/** Drafts by chaining the table's next tokens, each looked up after the tokens drafted before it. */
export class TableDrafter implements Drafter {
  readonly name = 'table';
  readonly stats: DrafterStats = emptyDrafterStats();

  constructor(private readonly table: DraftTable) {}

  begin(_prompt: readonly number[]): void {}

  draft(sequence: readonly number[], nMax: number): number[] {
    const k = this.table.maxOrder;
    const tail = sequence.slice(Math.max(0, sequence.length - k));
    const out: number[] = [];
    while (out.length < nMax) {
      const next = tableNext(this.table, tail);
      if (next === undefined) break;
      out.push(next);
      tail.push(next);
      if (tail.length > k) tail.shift();
    }
    return out;
  }

  accept(_draft: readonly number[], _nAccepted: number): void {}
}
