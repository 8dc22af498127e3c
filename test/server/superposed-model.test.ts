// Superposed decoding on the real embedded model: k = 1 is token-identical to greedy decode()
// (through forward() and through the inputs_embeds path), k = 3 gives distinct drafts and leaves
// the KV cache at the prompt.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { discoverFimTemplate } from '../../server/context/fim';
import { buildPrompt } from '../../server/context/prompt';
import { decode } from '../../server/engine/decode';
import { NGramIndex } from '../../server/engine/ngram';
import { createRng } from '../../server/engine/rng';
import { makeStopCriteria } from '../../server/engine/stopping';
import { superposedDecode } from '../../server/engine/superposed';
import { loadModel, type LoadedModel } from '../../server/runtime/load-model';
import { noLog, repoRoot } from './runtime-helpers';

const modelDir = process.env['SPECTER_TEST_MODEL'] ?? path.join(repoRoot, 'models', 'specter-tiny');
const nPrompts = Number(process.env['SPECTER_SUPERPOSED_PROMPTS'] ?? 24);

interface Task {
  id: string;
  language?: string;
  path?: string;
  prefix: string;
  suffix?: string;
}

const tasks = fs
  .readFileSync(path.join(repoRoot, 'bench', 'tasks', 'line-completion.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Task)
  .filter((_, i) => i % 7 === 0)
  .slice(0, nPrompts);

void describe('superposed decoding on the default model', () => {
  let model: LoadedModel;
  before(async () => {
    const r = await loadModel(modelDir, { variant: 'model', executionProvider: 'cpu', threads: 0, log: noLog });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    model = r.value;
  });
  after(async () => model.dispose());

  const promptOf = (task: Task): { ids: number[]; prefix: string; suffix: string } => {
    const template = discoverFimTemplate(model.tokenizer, model.config.fim);
    const request = { path: task.path ?? task.id, languageId: task.language ?? 'plaintext', prefix: task.prefix, suffix: task.suffix ?? '' };
    return { ids: buildPrompt(model.tokenizer, template, request, { maxPrefixTokens: 384, maxSuffixTokens: 96 }).ids, prefix: request.prefix, suffix: request.suffix };
  };
  const stops = (p: { prefix: string; suffix: string }) => () => makeStopCriteria({ prefix: p.prefix, suffix: p.suffix, maxLines: 4, timeCapAfterNewlineMs: 1e9 });

  void it(`k = 1 equals greedy decode() token for token on ${tasks.length} prompts (forward and embeds paths)`, async () => {
    assert.ok(model.lm.hasEmbedsPath, 'the default model has onnx/model_embeds.onnx');
    let nTokens = 0;
    for (const task of tasks) {
      const p = promptOf(task);
      const greedy = await decode(model.lm, model.tokenizer, { prompt: p.ids, maxTokens: 32, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: stops(p)() });
      assert.equal(greedy.kind, 'done', task.id);
      if (greedy.kind !== 'done') return;
      nTokens += greedy.tokens.length;
      for (const alwaysEmbeds of [false, true]) {
        const out = await superposedDecode(model.lm, model.tokenizer, { prompt: p.ids, maxTokens: 32, k: 1, alwaysEmbeds, ngram: new NGramIndex(), stops: stops(p) });
        assert.equal(out.kind, 'done', task.id);
        if (out.kind !== 'done') return;
        if (greedy.text === '') {
          assert.equal(out.drafts.length, 0);
          continue;
        }
        assert.deepEqual(out.drafts[0]?.tokens, greedy.tokens, `${task.id} alwaysEmbeds=${alwaysEmbeds}`);
        assert.equal(out.drafts[0]?.text, greedy.text);
        assert.deepEqual(model.lm.cached, p.ids);
      }
    }
    assert.ok(nTokens > tasks.length, `${nTokens} tokens compared`);
  });

  void it('k = 3 gives distinct non-empty drafts with one forward pass per step', async () => {
    const ngram = new NGramIndex();
    let nWithThree = 0;
    for (const task of tasks.slice(0, 8)) {
      const p = promptOf(task);
      ngram.setDocument(`doc:${task.id}`, model.tokenizer.encode(task.prefix + (task.suffix ?? '')));
      const out = await superposedDecode(model.lm, model.tokenizer, { prompt: p.ids, maxTokens: 24, k: 3, ngram, stops: stops(p) });
      assert.equal(out.kind, 'done', task.id);
      if (out.kind !== 'done') return;
      const texts = out.drafts.map((d) => d.text);
      assert.equal(new Set(texts).size, texts.length);
      assert.ok(texts.every((t) => t !== ''));
      assert.ok(out.stats.nForwardDecode <= 23);
      assert.equal(out.stats.mode, 'superposed');
      assert.deepEqual(model.lm.cached, p.ids);
      if (texts.length === 3) nWithThree++;
    }
    assert.ok(nWithThree >= 4, `${nWithThree} of 8 prompts had 3 drafts`);
  });
});
