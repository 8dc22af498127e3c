// Lossless speculative decoding with the real model: greedy output with drafters is
// byte-identical (same token ids, same text) to plain greedy output, on 200+ varied prompts —
// FIM mid-line and block tasks from held-out real files, long prefixes, and repetitive code
// where the drafters do most of the work. All three drafters (CopySpec, prompt lookup, the model's
// draft table) take part; every other prompt runs with the embedded model's context cache.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode, type DecodeOutcome, type DecodeRequest } from '../../server/engine/decode';
import { suppressIds } from '../../server/engine/processors';
import { contextCache } from '../../server/engine/context-cache';
import { createRng } from '../../server/engine/rng';
import { createDrafters } from '../../server/engine/speculation';
import { BanConstraint } from '../../server/engine/constraints/ban';
import { PrefixDrafter } from '../../server/engine/prefix-drafter';
import type { CompletionRequest } from '../../server/completion-service';
import type { LoadedModel } from '../../server/runtime/load-model';
import { SpeculationMemory } from '../../server/engine/draft-memory';
import { startService, type ServiceUnderTest } from './service-helpers';

interface Task { id: string; language: string; path: string; prefix: string; suffix: string }

const tasksDir = path.join(__dirname, '..', '..', 'bench', 'tasks');
function readTasks(file: string): Task[] {
  return fs.readFileSync(path.join(tasksDir, file), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Task);
}

/** Repetitive prompts: a block of real code repeated with a rename, cursor inside the copy. */
function repetitive(tasks: readonly Task[], n: number): Task[] {
  return tasks.slice(0, n).map((t) => {
    const block = t.prefix.slice(-600);
    const renamed = block.replace(/\b([a-z_][a-z0-9_]{3,})\b/i, '$1_copy');
    const cut = Math.floor(renamed.length * 0.4);
    return { ...t, id: `${t.id}-repeat`, prefix: `${block}\n\n${renamed.slice(0, cut)}`, suffix: `${renamed.slice(cut, cut + 40)}\n` };
  });
}

const line = readTasks('line-completion.jsonl');
const block = readTasks('block-completion.jsonl');
const prompts: Task[] = [...line.slice(0, 110), ...block.slice(0, 50), ...repetitive(block.slice(50), 40)];

/** Greedy, 24 tokens, no early stop on end tokens (every prompt decodes the full length). */
function greedy(model: LoadedModel, ids: number[], extra: Partial<DecodeRequest> = {}): Promise<DecodeOutcome> {
  return decode(model.lm, model.tokenizer, {
    prompt: ids,
    maxTokens: 24,
    sampling: { temperature: 0, topP: 1 },
    rng: createRng(0),
    stops: [],
    processors: [suppressIds(model.tokenizer.stopIds)],
    ...extra,
  });
}

describe('speculative greedy decoding is lossless on the real model', () => {
  let sut: ServiceUnderTest;
  before(async () => {
    sut = await startService((s) => ({ ...s, completion: { ...s.completion, maxPrefixTokens: 384, maxSuffixTokens: 96 } }));
  });
  after(async () => sut.service.shutdown());

  it(`${prompts.length} prompts: identical tokens and text with and without drafters`, async () => {
    const model = await sut.host.acquire();
    assert.ok(model);
    assert.ok(model.draftTable, 'the embedded model ships a draft table');
    const drafters = createDrafters({ drafters: ['copyspec', 'prompt-lookup', 'table'], ngramMin: 2, ngramMax: 4, gamma: 4 }, model.draftTable);
    // One speculation memory across the prompts, as the server keeps it: first draft lengths change
    // as it learns, and no length may change a token.
    const memory = new SpeculationMemory();
    const starts = new Set<number>();
    let nDraftedTotal = 0;
    let nAcceptedTotal = 0;
    const mismatches: string[] = [];
    const cacheOptions = model.contextCache;
    assert.ok(cacheOptions, 'the embedded model asks for the context cache');
    let nCached = 0;
    for (const task of prompts) {
      const request: CompletionRequest = { uri: task.path, languageId: task.language, prefix: task.prefix, suffix: task.suffix };
      const ids = sut.service.promptIds(model, request);
      // Every other prompt with the embedded model's context cache (it changes the logits both ways).
      const processors = nCached++ % 2 === 1 ? [suppressIds(model.tokenizer.stopIds), contextCache(cacheOptions)] : [suppressIds(model.tokenizer.stopIds)];
      const run = (withDrafters: boolean): Promise<DecodeOutcome> => greedy(model, ids, { processors, ...(withDrafters ? { drafters, speculation: { maxDraftTokens: 16, memory } } : {}) });
      for (const d of drafters) starts.add(memory.startLength(d.name, 16));
      const plain = await run(false);
      const spec = await run(true);
      assert.equal(plain.kind, 'done');
      assert.equal(spec.kind, 'done');
      if (plain.kind !== 'done' || spec.kind !== 'done') continue;
      if (JSON.stringify(plain.tokens) !== JSON.stringify(spec.tokens) || plain.text !== spec.text) mismatches.push(task.id);
      nDraftedTotal += spec.speculation?.nDrafted ?? 0;
      nAcceptedTotal += spec.speculation?.nAccepted ?? 0;
    }
    assert.deepEqual(mismatches, []);
    // The proof must exercise speculation, not pass because nothing was ever drafted.
    assert.ok(nAcceptedTotal > 100, `only ${nAcceptedTotal} of ${nDraftedTotal} drafted tokens accepted`);
    assert.ok(starts.size >= 3, `first draft lengths seen: ${[...starts].join(', ')}`);
    for (const d of drafters) assert.ok(d.stats.nAccepted > 20, `${d.name}: ${d.stats.nAccepted} of ${d.stats.nDrafted} drafted tokens accepted`);
  });

  it('a retry that bans a token repeats the first decode up to it; drafting that prefix changes no token and takes fewer passes', async (t) => {
    const model = await sut.host.acquire();
    assert.ok(model);
    let nPassesPlain = 0;
    let nPassesDrafted = 0;
    for (const task of line.slice(110, 150)) {
      const ids = sut.service.promptIds(model, { uri: task.path, languageId: task.language, prefix: task.prefix, suffix: task.suffix });
      const run = (ban?: { at: number; token: number }, prefix?: number[]): Promise<DecodeOutcome> =>
        greedy(model, ids, {
          ...(ban !== undefined ? { constraint: new BanConstraint([ban]) } : {}),
          ...(prefix !== undefined ? { drafters: [new PrefixDrafter(prefix)], speculation: { maxDraftTokens: 16 } } : {}),
        });
      const first = await run();
      assert.equal(first.kind, 'done');
      if (first.kind !== 'done') continue;
      const at = Math.floor(first.tokens.length / 2);
      const token = first.tokens[at];
      assert.ok(token !== undefined);
      const plain = await run({ at, token });
      const drafted = await run({ at, token }, first.tokens.slice(0, at));
      assert.equal(plain.kind, 'done');
      assert.equal(drafted.kind, 'done');
      if (plain.kind !== 'done' || drafted.kind !== 'done') continue;
      assert.deepEqual(plain.tokens.slice(0, at), first.tokens.slice(0, at), `${task.id}: the retry departs before the ban`);
      assert.notEqual(plain.tokens[at], token, `${task.id}: the banned token was written`);
      assert.deepEqual(drafted.tokens, plain.tokens, `${task.id}: drafting the prefix changed the retry`);
      assert.equal(drafted.text, plain.text);
      nPassesPlain += plain.nForwardDecode;
      nPassesDrafted += drafted.nForwardDecode;
    }
    assert.ok(nPassesDrafted < nPassesPlain * 0.75, `${nPassesDrafted} passes with the prefix drafted against ${nPassesPlain} without`);
    t.diagnostic(`decode passes of 40 retries: ${nPassesPlain} without the prefix drafted, ${nPassesDrafted} with it`);
  });
});
