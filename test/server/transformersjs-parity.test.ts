// The embedded model directory follows the standard layout: transformers.js loads it as it is and
// its greedy generation equals Specter's (same prompt ids, same new ids, same text).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode } from '../../server/engine/decode';
import { createRng } from '../../server/engine/rng';
import { loadModel, type LoadedModel } from '../../server/runtime/load-model';
import { embeddedModelDir } from './service-helpers';

const prompts = [
  '<|fim_prefix|>import os\n\ndef read_lines(path):\n    with open(path) as f:\n        return f.<|fim_suffix|>\n\n\ndef main():\n    pass\n<|fim_middle|>',
  '<|fim_prefix|>export function add(a: number, b: number): number {\n  return <|fim_suffix|>\n}\n<|fim_middle|>',
  '<|file_sep|>lib/list.ts\nexport class List<T> {\n  private items: T[] = [];\n  push(item: T): void {\n',
  'def fib(n):\n    if n < 2:\n        return n\n    return ',
];
const nNew = 24;

async function loadPeer() {
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = path.dirname(embeddedModelDir) + path.sep;
  const id = path.basename(embeddedModelDir);
  const tokenizer = await tjs.AutoTokenizer.from_pretrained(id, { local_files_only: true });
  const model = await tjs.AutoModelForCausalLM.from_pretrained(id, { dtype: 'fp32', local_files_only: true, device: 'cpu' });
  return { tokenizer, model };
}

void describe('transformers.js parity (the model directory loads in standard tooling)', () => {
  let ours: LoadedModel;
  let peer: Awaited<ReturnType<typeof loadPeer>>['model'];
  let peerTok: Awaited<ReturnType<typeof loadPeer>>['tokenizer'];

  before(async () => {
    const loaded = await loadModel(embeddedModelDir, { variant: 'model', executionProvider: 'cpu', threads: 0, log: () => undefined });
    if (!loaded.ok) throw new Error(loaded.error.message);
    ours = loaded.value;
    ({ model: peer, tokenizer: peerTok } = await loadPeer());
  });
  after(async () => {
    await ours.dispose();
    await peer.dispose();
  });

  for (const [i, prompt] of prompts.entries()) {
    void it(`prompt ${i}: same prompt ids, same greedy ids and text`, async () => {
      // Specter never parses special-token text inside code (a file may contain "<|fim_prefix|>"),
      // so its ids for this prompt come piece by piece: special tokens by id, code by encode().
      const ids = prompt.split(/(<\|[a-z_]+\|>)/).flatMap((piece) => {
        if (piece === '') return [];
        const special = ours.tokenizer.specialTokens.get(piece);
        return special !== undefined ? [special] : ours.tokenizer.encode(piece);
      });
      const inputs = peerTok(prompt) as { input_ids: { data: BigInt64Array; dims: number[] } };
      assert.deepEqual(Array.from(inputs.input_ids.data, Number), ids, 'tokenizers agree on the prompt');

      ours.lm.truncate(0);
      const out = await decode(ours.lm, ours.tokenizer, { prompt: ids, maxTokens: nNew, sampling: { temperature: 0, topP: 1 }, rng: createRng(0), stops: [] });
      assert.equal(out.kind, 'done');
      if (out.kind !== 'done') return;

      const generated = (await peer.generate({ ...inputs, max_new_tokens: nNew, do_sample: false })) as { tolist(): bigint[][] };
      const peerIds = (generated.tolist()[0] ?? []).slice(ids.length).map(Number);
      // transformers.js stops at end-of-text like Specter's stop ids do; compare what both made.
      assert.deepEqual(out.tokens, peerIds.slice(0, out.tokens.length), 'greedy ids');
      assert.ok(out.tokens.length > 0);
      assert.equal(ours.tokenizer.decode(out.tokens), peerTok.decode(peerIds.slice(0, out.tokens.length), { skip_special_tokens: true }));
    });
  }
});
