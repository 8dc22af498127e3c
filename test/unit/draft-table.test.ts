// The draft table (server/engine/draft-table.ts): parsing its bytes, longest-context lookup, and
// the chained drafts of the `table` drafter, as tables of cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDraftTable, tableNext, TableDrafter, type DraftTable } from '../../server/engine/draft-table';
import { createDrafters, defaultDrafterSettings } from '../../server/engine/speculation';

/** Bytes of a table: entries per order as [context…, next]; sorted here, as the builder does. */
function tableBytes(vocab: number, orders: number[][][], opts: { version?: number; sort?: boolean } = {}): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number): void => {
    parts.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  };
  for (const c of 'SPDT') parts.push(c.charCodeAt(0));
  u32(opts.version ?? 1);
  u32(vocab);
  u32(orders.length);
  parts.push(1, 2, 3, 4, 5, 6, 7, 8);
  orders.forEach((rows, i) => {
    const k = i + 1;
    const sorted = opts.sort === false ? rows : [...rows].sort((a, b) => {
      for (let j = 0; j < k; j++) if (a[j] !== b[j]) return (a[j] as number) - (b[j] as number);
      return 0;
    });
    u32(sorted.length);
    for (const r of sorted) for (const id of r) parts.push(id & 255, id >> 8);
  });
  return Uint8Array.from(parts);
}

function table(orders: number[][][], vocab = 300): DraftTable {
  const p = parseDraftTable(tableBytes(vocab, orders));
  assert.ok(p.ok, p.ok ? '' : p.message);
  return p.table;
}

// Order 1: 1→2, 2→3, 3→4, 4→1; order 2: (7,2)→9; order 3: (5,7,2)→11, (256,257,258)→259.
const t = table([
  [[1, 2], [2, 3], [3, 4], [4, 1]],
  [[7, 2, 9]],
  [[5, 7, 2, 11], [256, 257, 258, 259]],
]);

void describe('draft table', () => {
  void it('parses the header, the orders and the tokenizer hash', () => {
    assert.equal(t.maxOrder, 3);
    assert.equal(t.vocabSize, 300);
    assert.equal(t.nEntries, 7);
    assert.equal(t.tokenizerHash, '0102030405060708');
  });

  void it('lookup: the longest context the table holds wins; none → undefined', () => {
    const cases: [number[], number | undefined][] = [
      [[5, 7, 2], 11], // order 3
      [[6, 7, 2], 9], // order 3 misses, order 2 holds (7, 2)
      [[8, 2], 3], // order 2 misses, order 1
      [[2], 3],
      [[256, 257, 258], 259], // ids above 255 (two bytes)
      [[9], undefined],
      [[], undefined],
    ];
    for (const [seq, want] of cases) assert.equal(tableNext(t, seq), want, JSON.stringify(seq));
    assert.equal(tableNext(t, [5, 7, 2, 1], 3), 11, 'end bounds the context');
  });

  void it('the drafter chains lookups over what it drafted, up to nMax, and stops where the table has nothing', () => {
    const d = new TableDrafter(t);
    assert.deepEqual(d.draft([9, 1], 6), [2, 3, 4, 1, 2, 3]);
    assert.deepEqual(d.draft([5, 7], 3), [], 'neither (5, 7) nor 7 is a context of the table');
    assert.deepEqual(d.draft([8, 7, 2], 3), [9], '(7, 2) → 9, then nothing after 9');
    assert.deepEqual(d.draft([5, 7, 2], 3), [11], 'after 11 the table has nothing');
    assert.deepEqual(d.draft([9], 4), []);
    assert.deepEqual(d.draft([1], 0), []);
  });

  void it('createDrafters adds `table` only when the model has a table, in the priority order given', () => {
    assert.deepEqual(createDrafters(defaultDrafterSettings).map((d) => d.name), ['copyspec', 'prompt-lookup']);
    assert.deepEqual(createDrafters(defaultDrafterSettings, t).map((d) => d.name), ['copyspec', 'prompt-lookup', 'table']);
    assert.deepEqual(createDrafters({ ...defaultDrafterSettings, drafters: ['table', 'copyspec'] }, t).map((d) => d.name), ['table', 'copyspec']);
  });

  void it('damaged bytes are refused with a reason', () => {
    const good = tableBytes(300, [[[1, 2]], [[1, 2, 3]]]);
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /no SPDT header/],
      ['wrong magic', Uint8Array.from([...good].map((b, i) => (i === 0 ? 0x58 : b))), /no SPDT header/],
      ['newer version', tableBytes(300, [[[1, 2]]], { version: 2 }), /version 2/],
      ['truncated', good.subarray(0, good.length - 3), /truncated/],
      ['trailing bytes', Uint8Array.from([...good, 0, 0]), /2 unexpected bytes/],
      ['id beyond the vocabulary', tableBytes(300, [[[1, 300]]]), /token id 300 ≥ vocab 300/],
      ['unsorted rows', tableBytes(300, [[[2, 1], [1, 2]]], { sort: false }), /not sorted/],
      ['zero vocabulary', tableBytes(0, [[[1, 2]]]), /implausible header/],
    ];
    for (const [name, bytes, message] of cases) {
      const p = parseDraftTable(bytes);
      assert.ok(!p.ok, name);
      assert.match(p.message, message, name);
    }
  });
});
