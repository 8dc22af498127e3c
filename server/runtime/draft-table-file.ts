// Reads a model directory's optional draft table (`specter/draft-table.bin`, a Specter addition to
// the standard layout; tools/model/draft_table.py writes it). A missing table is normal (models
// from elsewhere have none); a damaged one, or one built for another tokenizer, is a warning that
// says what to do, and the `table` drafter then stays off. The model loads either way.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parseDraftTable, type DraftTable } from '../engine/draft-table';

export const draftTableFile = path.join('specter', 'draft-table.bin');

export interface DraftTableRead {
  table?: DraftTable;
  /** Why the table is not used (only when the file exists). */
  warning?: string;
}

export async function readDraftTable(dir: string, tokenizerVocab: number): Promise<DraftTableRead> {
  const file = path.join(dir, draftTableFile);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { warning: `${draftTableFile} could not be read (${(e as Error).message}); the table drafter is off` };
  }
  const fix = `rebuild it with tools/model/draft_table.py or delete it; the table drafter is off, everything else works`;
  const parsed = parseDraftTable(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (!parsed.ok) return { warning: `${draftTableFile} is damaged: ${parsed.message} — ${fix}` };
  const table = parsed.table;
  if (table.vocabSize !== tokenizerVocab) return { warning: `${draftTableFile} was built for a ${table.vocabSize}-token vocabulary, the tokenizer has ${tokenizerVocab} — ${fix}` };
  let tokenizerHash = '';
  try {
    tokenizerHash = createHash('sha256').update(await fs.readFile(path.join(dir, 'tokenizer.json'))).digest('hex').slice(0, 16);
  } catch {
    // The tokenizer loaded a moment ago; if it cannot be read again, the hash check fails below.
  }
  if (tokenizerHash !== table.tokenizerHash) return { warning: `${draftTableFile} was built with another tokenizer.json (hash ${table.tokenizerHash}, this one ${tokenizerHash || 'unreadable'}) — ${fix}` };
  return { table };
}
