// The integration contract, end to end: a reference greedy loop (await pending → check → mask on
// rejection → advance; drafts advanced, verified and rolled back) over the real tokenizer, the real
// TypeScript service and a scripted "model" that wants to write a member that does not exist.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Constraint } from '../../server/engine/constraint';
import type { TokenizerLike } from '../../server/engine/model';
import { spellings } from '../../server/monitor/canonical';
import { createMonitor } from '../../server/monitor/index';
import { TsServiceSource } from '../../server/monitor/ts-service';
import { cut, realTokenizer, tsProject } from '../fixtures/monitor/docs';

const main = path.join(tsProject, 'src', 'main.ts');
const members = ['count', 'double', 'increment', 'label', 'total'];

/** Where the first identifier of s ends (-1: not yet). */
function identEnd(s: string): number {
  const start = s.search(/[A-Za-z0-9_$]/);
  if (start < 0) return -1;
  const len = s.slice(start).search(/[^A-Za-z0-9_$]/);
  return len < 0 ? -1 : start + len;
}

/** What the scripted model still wants to write after `generated`, aligned on the identifier's end. */
function remaining(desired: string, generated: string): string {
  if (desired.startsWith(generated)) return desired.slice(generated.length);
  const di = identEnd(desired);
  const gi = identEnd(generated);
  if (gi < 0) return desired.slice(di);
  const tail = generated.slice(gi);
  return desired.slice(di).startsWith(tail) ? desired.slice(di + tail.length) : '';
}

/** Scores: long agreement with what it wants first, then the fewest extra characters; end of text when done. */
function scriptedLogits(tok: TokenizerLike, texts: readonly string[], desired: string, generated: string): Float32Array {
  const want = remaining(desired, generated);
  const row = new Float32Array(tok.vocabSize);
  for (let id = 0; id < tok.vocabSize; id++) {
    const t = texts[id] ?? '';
    if (t === '') {
      row[id] = want === '' ? 1000 : -1000;
      continue;
    }
    let k = 0;
    while (k < t.length && k < want.length && t[k] === want[k]) k++;
    row[id] = 10 * k - (t.length - k);
  }
  return row;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if ((row[i] ?? -Infinity) > (row[best] ?? -Infinity)) best = i;
  return best;
}

/** One constrained greedy choice, as the decode loop should make it. */
function choose(row: Float32Array, c: Constraint | undefined): number {
  const token = argmax(row);
  if (c === undefined || c.check(token)) return token;
  const allowed = new Uint8Array(row.length);
  if (!c.mask(allowed)) return token;
  const masked = row.map((v, i) => (allowed[i] === 1 ? v : -Infinity));
  return argmax(masked);
}

/** Reference loop; with `draftOf`, drafts are advanced through the constraint, verified, and rolled back. */
async function generate(tok: TokenizerLike, desired: string, c: Constraint | undefined, draftOf?: (generated: string) => number[], ids: number[] = []): Promise<string> {
  const texts = Array.from({ length: tok.vocabSize }, (_, id) => tok.decode([id]));
  let generated = '';
  for (let step = 0; step < 16; step++) {
    const wait = c?.pending?.();
    if (wait !== undefined) await wait;
    const draft = draftOf?.(generated) ?? [];
    // Constrained draft prefix: advance while the constraint accepts (a rejected token cuts it).
    let nAdvanced = 0;
    for (const t of draft) {
      if (c !== undefined && (c.pending?.() !== undefined || !c.check(t))) break;
      c?.advance(t);
      nAdvanced++;
    }
    if (c !== undefined) c.rollback(nAdvanced);
    // Verify position by position against the "model" (one forward pass in the real loop).
    let stop = false;
    for (let i = 0; i <= nAdvanced && !stop; i++) {
      const w = c?.pending?.();
      if (w !== undefined) await w;
      const token = choose(scriptedLogits(tok, texts, desired, generated), c);
      if (tok.stopIds.has(token)) {
        stop = true;
        break;
      }
      c?.advance(token);
      ids.push(token);
      generated += texts[token] ?? '';
      if (i < nAdvanced && token !== draft[i]) break;
    }
    if (stop || generated.includes('\n')) break;
  }
  return generated;
}

void describe('monitor in a decode loop (reference integration)', () => {
  let ts: TsServiceSource;
  let tok: TokenizerLike;
  before(async () => {
    ts = new TsServiceSource({ log: () => {} });
    tok = realTokenizer();
    const doc = cut(main, 'c.increment();', '');
    await ts.prepare({ languageId: 'typescript', uri: doc.uri, rootDir: tsProject, text: doc.prefix + doc.suffix });
  });
  after(() => ts.dispose());

  const monitorAt = (insert: string, canonical = true): Constraint => {
    const doc = cut(main, 'c.increment();', insert);
    const m = createMonitor({ languageId: 'typescript', uri: doc.uri, rootDir: tsProject, prefix: doc.prefix, suffix: doc.suffix, tokenizer: tok, sources: [ts], log: () => {}, budgetMs: 50, canonical });
    assert.ok(m);
    return m;
  };

  void it('without the monitor the model writes a member that does not exist', async () => {
    assert.equal(await generate(tok, 'cont();\n', undefined), 'cont();\n');
  });

  void it('with the monitor after `c.` it writes an existing member, then the rest of its line', async () => {
    const out = await generate(tok, 'cont();\n', monitorAt('c.'));
    const ident = /^[A-Za-z]+/.exec(out)?.[0] ?? '';
    assert.ok(members.includes(ident), out);
    assert.equal(out, `${ident}();\n`);
  });

  void it('the same when the operator is generated too (`.`+identifier tokens judged in-process)', async () => {
    const out = await generate(tok, '.cont();\n', monitorAt('c'));
    assert.match(out, /^\.(count|double|increment|label|total)\(\);\n$/);
  });

  void it('speculative drafts of the wrong member give the identical text', async () => {
    const plain = await generate(tok, 'cont();\n', monitorAt('c.'));
    const draftOf = (g: string): number[] => tok.encode(remaining('cont();\n', g));
    assert.equal(await generate(tok, 'cont();\n', monitorAt('c.'), draftOf), plain);
  });

  void it('a member the model wants anyway passes untouched', async () => {
    assert.equal(await generate(tok, 'total();\n', monitorAt('c.')), 'total();\n');
    assert.equal(await generate(tok, 'total();\n', undefined), 'total();\n');
  });

  void it('canonical spelling: the member is written in the tokens the tokenizer spells it with, not letter by letter', async () => {
    const spelled = (ids: number[]): string[] => ids.map((id) => tok.decode([id]));
    // The scripted model wants `cont`, which does not exist; its leftover preference is for
    // tokens that share the most letters with it, such as `co`.
    const byteIds: number[] = [];
    const byteOut = await generate(tok, 'cont();\n', monitorAt('c.', false), undefined, byteIds);
    const ids: number[] = [];
    const out = await generate(tok, 'cont();\n', monitorAt('c.'), undefined, ids);
    const ident = /^[A-Za-z]+/.exec(out)?.[0] ?? '';
    assert.ok(members.includes(ident), out);
    const canonicalOf = (name: string): string[][] => spellings(tok, '.', name).map((chunks) => chunks.map((c) => new TextDecoder().decode(c)));
    /** The tokens that wrote the identifier at the start of `ids`. */
    const identTokens = (ids: number[], name: string): string[] => {
      const texts = spelled(ids);
      return texts.slice(0, texts.findIndex((_, i) => texts.slice(0, i + 1).join('').length >= name.length) + 1);
    };
    assert.ok(canonicalOf(ident).some((c) => c.join('\u0000') === identTokens(ids, ident).join('\u0000')),
      `${JSON.stringify(identTokens(ids, ident))} is one of ${JSON.stringify(canonicalOf(ident))}`);
    // Without the rule the same model spells a member its own way (the rule changes something).
    const byteIdent = /^[A-Za-z]+/.exec(byteOut)?.[0] ?? '';
    assert.ok(members.includes(byteIdent), byteOut);
    assert.ok(!canonicalOf(byteIdent).some((c) => c.join('\u0000') === identTokens(byteIds, byteIdent).join('\u0000')),
      `the byte rule alone: ${JSON.stringify(identTokens(byteIds, byteIdent))}`);
  });
});
