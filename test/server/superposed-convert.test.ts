// `npm run convert-model`: a copy of a model without onnx/model_embeds.onnx and model.safetensors
// is converted, then forwardEmbeds(embedding rows of ids) must equal forward(ids) in the runtime,
// the extracted table must equal the original, and the external weight file must be untouched.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadModel } from '../../server/runtime/load-model';
import { readEmbeddingTable } from '../../server/runtime/safetensors';
import { convertModelDir, ConvertError } from '../../tools/convert-model/convert-lib';
import { concat, lenField, parseFields } from '../../tools/convert-model/protobuf-wire';
import { copyModelDir, fixtureDir, maxAbsDiff, noLog, removeDir, repoRoot } from './runtime-helpers';

const tol = 1e-5;
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

/** A copy of `src` as a plain input_ids-only export: no embeds graph, no safetensors. */
function plainCopy(src: string): string {
  const dir = copyModelDir(src);
  dirs.push(dir);
  fs.rmSync(path.join(dir, 'onnx', 'model_embeds.onnx'), { force: true });
  fs.rmSync(path.join(dir, 'model.safetensors'), { force: true });
  return dir;
}

async function checkEquivalent(dir: string, original: string, ids: number[]): Promise<void> {
  const r = await loadModel(dir, { variant: 'model', executionProvider: 'cpu', threads: 1, log: noLog });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const model = r.value;
  try {
    assert.ok(model.lm.hasEmbedsPath);
    const table = await model.lm.embeddingTable();
    assert.ok(table.ok, table.ok ? '' : table.error.message);
    const ref = await readEmbeddingTable(path.join(original, 'model.safetensors'), table.value.hidden);
    assert.ok(ref.ok);
    assert.equal(maxAbsDiff(table.value.data.subarray(0, ref.value.data.length), ref.value.data), 0, 'extracted table equals the original');
    const h = table.value.hidden;
    const embeds = new Float32Array(ids.length * h);
    ids.forEach((id, i) => embeds.set(table.value.data.subarray(id * h, (id + 1) * h), i * h));
    model.lm.truncate(0);
    const viaIds = (await model.lm.forward(ids)).data.slice();
    model.lm.truncate(0);
    const viaEmbeds = (await model.lm.forwardEmbeds(embeds, ids.length)).data;
    assert.ok(maxAbsDiff(viaIds, viaEmbeds) < tol, `max diff ${maxAbsDiff(viaIds, viaEmbeds)}`);
    // Decode steps after an embeds prefix agree too (KV written by the embeds graph).
    const next = (await model.lm.forward([ids[0] as number])).data.slice();
    model.lm.truncate(0);
    const ref2 = await model.lm.forward([...ids, ids[0] as number]);
    assert.ok(maxAbsDiff(next, ref2.data.slice((ref2.nRows - 1) * ref2.vocabSize)) < tol);
  } finally {
    await model.dispose();
  }
}

void describe('convert-model', () => {
  void it('converts the tiny-random fixture (weights inside the graph)', async () => {
    const original = path.join(fixtureDir, 'tiny-random');
    const dir = plainCopy(original);
    const report = await convertModelDir(dir);
    assert.equal(report.wroteTable, true);
    assert.deepEqual([report.rows, report.hidden], [272, 32]);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { specter?: { embedding_table?: { tensor?: string } } };
    assert.equal(config.specter?.embedding_table?.tensor, 'model.embed_tokens.weight');
    await checkEquivalent(dir, original, [1, 5, 9, 200, 7]);
    await assert.rejects(convertModelDir(dir), ConvertError, 'refuses to overwrite without force');
  });

  void it('converts the default model and shares its external weights untouched', async () => {
    const original = path.join(repoRoot, 'models', 'specter-tiny');
    const dir = plainCopy(original);
    const dataBefore = fs.readFileSync(path.join(dir, 'onnx', 'model.onnx_data'));
    const graphBefore = fs.readFileSync(path.join(dir, 'onnx', 'model.onnx'));
    await convertModelDir(dir);
    assert.ok(fs.readFileSync(path.join(dir, 'onnx', 'model.onnx_data')).equals(dataBefore));
    assert.ok(fs.readFileSync(path.join(dir, 'onnx', 'model.onnx')).equals(graphBefore));
    assert.ok(fs.statSync(path.join(dir, 'onnx', 'model_embeds.onnx')).size < 1_000_000, 'weights stay in model.onnx_data');
    await checkEquivalent(dir, original, [12, 300, 4000, 5, 77, 1024]);
  });

  void it('feeds a stand-in to nodes that read input_ids for its shape', async () => {
    const original = path.join(fixtureDir, 'tiny-random');
    const dir = plainCopy(original);
    // Add Shape(input_ids) → unused output, as exports that build masks from input_ids have.
    const file = path.join(dir, 'onnx', 'model.onnx');
    const model = parseFields(fs.readFileSync(file));
    const extra = concat([lenField(1, 'input_ids'), lenField(2, 'ids_shape_probe'), lenField(3, 'probe'), lenField(4, 'Shape')]);
    const out = model.map((f) => (f.field === 7 ? lenField(7, concat([lenField(1, extra), f.payload])) : f.raw));
    fs.writeFileSync(file, concat(out));
    const report = await convertModelDir(dir);
    assert.equal(report.nShapeOnlyConsumers, 1);
    await checkEquivalent(dir, original, [3, 4, 5]);
  });

  void it('converts an fp16 variant (half inputs_embeds and table)', async () => {
    const dir = plainCopy(path.join(fixtureDir, 'tiny-random'));
    await convertModelDir(dir, { variant: 'model_fp16' });
    const r = await loadModel(dir, { variant: 'model_fp16', executionProvider: 'cpu', threads: 1, log: noLog });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    const { lm } = r.value;
    try {
      const table = await lm.embeddingTable();
      assert.ok(table.ok, table.ok ? '' : table.error.message);
      const h = table.value.hidden;
      const ids = [2, 40, 100, 271];
      const embeds = new Float32Array(ids.length * h);
      ids.forEach((id, i) => embeds.set(table.value.data.subarray(id * h, (id + 1) * h), i * h));
      lm.truncate(0);
      const viaIds = (await lm.forward(ids)).data.slice();
      lm.truncate(0);
      assert.ok(maxAbsDiff(viaIds, (await lm.forwardEmbeds(embeds, ids.length)).data) < 1e-3);
    } finally {
      await r.value.dispose();
    }
  });

  void it('says what is wrong for a graph without input_ids', async () => {
    const dir = plainCopy(path.join(fixtureDir, 'tiny-random'));
    fs.copyFileSync(path.join(fixtureDir, 'tiny-random', 'onnx', 'model_embeds.onnx'), path.join(dir, 'onnx', 'model.onnx'));
    await assert.rejects(convertModelDir(dir, { force: true }), /already takes inputs_embeds/);
  });
});
