// The context cache on the real path: the embedded model's directory asks for it, the service
// reads the setting, and on code that repeats a block the greedy completion continues the copy
// where the model alone does not (the tiny model cannot copy from its context: MODEL_CARD.md).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { firstText, goldenSettings, startService, type ServiceUnderTest } from './service-helpers';

interface Task { id: string; language: string; path: string; prefix: string }

const tasks = fs
  .readFileSync(path.join(__dirname, '..', '..', 'bench', 'tasks', 'block-completion.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Task);

/**
 * A held-out block of whole lines written twice, the cursor at the start of a line of the second
 * copy: the completion's first line should be that line of the first copy.
 */
function repeats(n: number): { id: string; language: string; uri: string; prefix: string; expected: string }[] {
  const out: { id: string; language: string; uri: string; prefix: string; expected: string }[] = [];
  for (const t of tasks) {
    if (out.length === n) break;
    const lines = t.prefix.split('\n').slice(1, -1).slice(-12);
    const at = Math.floor(lines.length * 0.6);
    const expected = lines[at] ?? '';
    if (lines.length < 8 || expected.trim().length < 6) continue;
    const block = lines.join('\n');
    out.push({ id: t.id, language: t.language, uri: `file:///heldout/${t.path}`, prefix: `${block}\n\n${lines.slice(0, at).join('\n')}\n`, expected });
  }
  return out;
}

/** The same blocks, the first copy in another open document: the prompt holds only the start. */
function elsewhere(n: number): { id: string; language: string; uri: string; other: string; text: string; prefix: string; expected: string }[] {
  return repeats(n).map((c) => {
    const block = c.prefix.slice(0, c.prefix.indexOf('\n\n'));
    const start = c.prefix.slice(block.length + 2);
    return { id: c.id, language: c.language, uri: `${c.uri}.new`, other: c.uri, text: `${block}\n`, prefix: start, expected: c.expected };
  });
}

describe('context cache with the embedded model', () => {
  let auto: ServiceUnderTest;
  let off: ServiceUnderTest;
  before(async () => {
    auto = await startService((s) => ({ ...goldenSettings(s), completion: { ...goldenSettings(s).completion, contextCache: 'auto' } }));
    off = await startService(goldenSettings);
  });
  after(async () => {
    await auto.service.shutdown();
    await off.service.shutdown();
  });

  it('the model directory asks for it (config.json specter.context_cache) and the load log says so', async () => {
    const model = await auto.host.acquire();
    assert.deepEqual(model?.contextCache, { minN: 2, maxN: 8, weight: 0.7, growth: 3 });
    assert.ok(auto.logs.some((l) => l.includes('context cache 2–8 tokens λ ≤ 0.7')), auto.logs.join('\n'));
  });

  type Repeat = ReturnType<typeof repeats>[number];
  type Request = { uri: string; languageId: string; prefix: string; suffix: string };
  /** The ids of the cases whose first line, as `firstLine` gets it from each service, is the line to copy. */
  const copiedBy = async (cases: readonly Repeat[], firstLine: (sut: ServiceUnderTest, request: Request, c: Repeat) => Promise<string>): Promise<{ auto: string[]; off: string[] }> => {
    const out = { auto: [] as string[], off: [] as string[] };
    for (const c of cases) {
      const request = { uri: c.uri, languageId: c.language, prefix: c.prefix, suffix: '\n' };
      if ((await firstLine(auto, request, c)).trimEnd() === c.expected.trimEnd()) out.auto.push(c.id);
      if ((await firstLine(off, request, c)).trimEnd() === c.expected.trimEnd()) out.off.push(c.id);
    }
    return out;
  };

  it('on a repeated block the completion continues the copy; with the cache off the model mostly does not', async (t) => {
    const cases = repeats(12);
    assert.equal(cases.length, 12);
    const { auto: copiedAuto, off: copiedOff } = await copiedBy(cases, async (sut, request) => firstText(await sut.service.complete(request)).split('\n')[0] ?? '');
    t.diagnostic(`first line copied: ${copiedAuto.length} of ${cases.length} with the cache, ${copiedOff.length} without`);
    assert.equal(copiedAuto.length, cases.length, `copied with the cache: ${copiedAuto.join(', ')}`);
    assert.ok(copiedOff.length <= cases.length / 2, `copied without it: ${copiedOff.join(', ')}`);
  });

  it('multi-draft completions (superposed decoding) use it too: the first draft continues the copy', async (t) => {
    const cases = repeats(12);
    const copied = await copiedBy(cases, async (sut, request, c) => {
      const r = await sut.service.panelCompletions(c.id, request, 3, () => undefined);
      assert.ok(r.drafts.length > 0, `${c.id}: no drafts (${r.reason ?? ''})`);
      assert.equal(r.mode, 'superposed', `${c.id}: the drafts were not superposed`);
      return r.drafts[0]?.text.split('\n')[0] ?? '';
    });
    const nCopied = copied.auto.length;
    const nCopiedOff = copied.off.length;
    t.diagnostic(`first draft's first line copied: ${nCopied} of ${cases.length} with the cache, ${nCopiedOff} without`);
    assert.ok(nCopied >= cases.length - 2, `${nCopied} of ${cases.length} copied`);
    assert.ok(nCopiedOff <= cases.length / 2, `${nCopiedOff} copied without the cache`);
  });

  it('copies from another open document; the open document being completed does not vote', async (t) => {
    const cases = elsewhere(12);
    let nCopied = 0;
    let nCopiedOff = 0;
    for (const c of cases) {
      const request = { uri: c.uri, languageId: c.language, prefix: c.prefix, suffix: '\n' };
      const first = (r: Awaited<ReturnType<typeof auto.service.complete>>): string => firstText(r).split('\n')[0] ?? '';
      // The document itself open with the block in it: the cache must not read it (its text is the prompt).
      auto.service.documentOpened(c.uri, c.language, c.text + c.prefix);
      const self = first(await auto.service.complete(request));
      auto.service.documentClosed(c.uri);
      const alone = first(await auto.service.complete(request));
      assert.equal(self, alone, `${c.id}: the document being completed voted`);
      auto.service.documentOpened(c.other, c.language, c.text);
      const withOther = first(await auto.service.complete(request));
      auto.service.documentClosed(c.other);
      off.service.documentOpened(c.other, c.language, c.text);
      const withOtherOff = first(await off.service.complete(request));
      off.service.documentClosed(c.other);
      if (withOther.trimEnd() === c.expected.trimEnd()) nCopied++;
      if (withOtherOff.trimEnd() === c.expected.trimEnd()) nCopiedOff++;
    }
    t.diagnostic(`first line copied from another open document: ${nCopied} of ${cases.length} with the cache, ${nCopiedOff} without`);
    assert.ok(nCopied >= cases.length - 2, `${nCopied} of ${cases.length} copied`);
    assert.ok(nCopiedOff <= cases.length / 2, `${nCopiedOff} copied without the cache`);
  });
});
