// Multi-draft from the packaged extension: the VSIX ships the embedded model without
// model.safetensors (the token-embedding table), so superposed decoding cannot run. Drafts must
// still come, from branch mode, and the completion service says why once per model.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompletionService } from '../../server/completion-service';
import { discoverFimTemplate } from '../../server/context/fim';
import { buildPrompt } from '../../server/context/prompt';
import { makeStopCriteria } from '../../server/engine/stopping';
import { superposedDecode } from '../../server/engine/superposed';
import { ModelHost } from '../../server/model-host';
import { loadModel, type LoadedModel } from '../../server/runtime/load-model';
import { noLog, removeDir, repoRoot } from './runtime-helpers';

const embedded = path.join(repoRoot, 'models', 'specter-tiny');

/** The embedded model as the VSIX has it: every file but model.safetensors (symlinked). */
function vsixLikeModelDir(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'specter-vsix-model-')), 'specter-tiny');
  fs.mkdirSync(dir);
  for (const name of fs.readdirSync(embedded)) {
    if (name === 'model.safetensors') continue;
    fs.symlinkSync(path.join(embedded, name), path.join(dir, name));
  }
  return dir;
}

const prompts: { prefix: string; suffix: string }[] = [
  { prefix: 'export function average(values: number[]): number {\n  const count = ', suffix: '\n}\n' },
  { prefix: 'def add(a, b):\n    return ', suffix: '\n' },
  { prefix: 'for (let i = 0; i < items.length; i++) {\n  ', suffix: '\n}\n' },
];

void describe('multi-draft without model.safetensors (packaged extension)', () => {
  let dir: string;
  let full: LoadedModel;
  let stripped: LoadedModel;
  before(async () => {
    dir = vsixLikeModelDir();
    const a = await loadModel(embedded, { variant: 'model', executionProvider: 'cpu', threads: 0, log: noLog });
    const b = await loadModel(dir, { variant: 'model', executionProvider: 'cpu', threads: 0, log: noLog });
    assert.ok(a.ok && b.ok, 'both models load');
    full = a.value;
    stripped = b.value;
  });
  after(async () => {
    await full.dispose();
    await stripped.dispose();
    removeDir(path.dirname(dir));
  });

  const promptIds = (model: LoadedModel, p: { prefix: string; suffix: string }): number[] =>
    buildPrompt(model.tokenizer, discoverFimTemplate(model.tokenizer, model.config.fim), { path: 'a.ts', languageId: 'typescript', ...p }, { maxPrefixTokens: 384, maxSuffixTokens: 96 }).ids;
  const stops = (p: { prefix: string; suffix: string }) => () => makeStopCriteria({ prefix: p.prefix, suffix: p.suffix, maxLines: 2, timeCapAfterNewlineMs: 1e9 });

  void it('superposedDecode falls back to branch mode with the reason, and gives what branch mode gives on the full model', async () => {
    assert.ok(stripped.lm.hasEmbedsPath, 'onnx/model_embeds.onnx is there; only the embedding table is missing');
    let nMulti = 0;
    for (const p of prompts) {
      const ids = promptIds(stripped, p);
      const out = await superposedDecode(stripped.lm, stripped.tokenizer, { prompt: ids, maxTokens: 16, k: 3, stops: stops(p) });
      assert.equal(out.kind, 'done', JSON.stringify(out));
      if (out.kind !== 'done') return;
      assert.equal(out.stats.mode, 'branch');
      assert.match(out.stats.fallbackReason ?? '', /model\.safetensors/);
      const texts = out.drafts.map((d) => d.text);
      assert.equal(new Set(texts).size, texts.length);
      assert.ok(texts.every((t) => t !== ''));
      if (texts.length >= 2) nMulti++;
      assert.deepEqual(stripped.lm.cached, ids);

      const reference = await superposedDecode(full.lm, full.tokenizer, { prompt: ids, maxTokens: 16, k: 3, stops: stops(p), mode: 'branch' });
      assert.equal(reference.kind, 'done');
      if (reference.kind !== 'done') return;
      assert.deepEqual(texts, reference.drafts.map((d) => d.text));
      assert.equal(reference.stats.fallbackReason, undefined);
    }
    assert.ok(nMulti >= 2, `${nMulti} of ${prompts.length} prompts had 2+ drafts`);
  });

  void it('the completion service returns the drafts and logs the fallback once per model', async () => {
    const logs: string[] = [];
    const host = new ModelHost(embedded, (m) => logs.push(m), () => undefined);
    const service = new CompletionService(host, (m) => logs.push(m), () => undefined);
    service.initialize({});
    const s = service.settings;
    service.settings = { ...s, model: dir, monitor: { ...s.monitor, enabled: false }, drafts: { ...s.drafts, count: 3 }, completion: { ...s.completion, maxTokens: 16, maxLines: 2 } };
    await host.configure(service.settings);
    try {
      assert.equal(host.current.state, 'ready', host.current.message);
      let nMulti = 0;
      for (const p of [...prompts, ...prompts]) {
        const r = await service.complete({ uri: 'file:///w/a.ts', languageId: 'typescript', ...p });
        assert.equal(r.kind, 'ok', JSON.stringify(r));
        if (r.kind === 'ok' && r.texts.length >= 2) nMulti++;
      }
      assert.ok(nMulti >= 4, `${nMulti} of 6 completions offered 2+ drafts`);
      const fallbackLines = logs.filter((l) => /branch mode instead of superposed/.test(l));
      assert.equal(fallbackLines.length, 1, logs.join('\n'));
      assert.match(fallbackLines[0] ?? '', /model\.safetensors/);
      assert.ok(!logs.some((l) => /Completion failed/.test(l)), logs.join('\n'));
    } finally {
      await service.shutdown();
    }
  });
});
