#!/usr/bin/env node
// Loads models/specter-tiny with transformers.js (AutoTokenizer + AutoModelForCausalLM, fp32, local
// files only) and runs greedy generation on a FIM prompt; prints the new token ids so they can be
// compared with the PyTorch greedy output (greedy_ref.py).  Usage: node tools/model/check_transformersjs.mjs [modelDir]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tf = await import(require.resolve('@huggingface/transformers', { paths: [path.join(here, '..', '..')] }));
const { env, AutoTokenizer, AutoModelForCausalLM } = tf;
const modelDir = path.resolve(process.argv[2] || path.join(here, '..', '..', 'models', 'specter-tiny'));
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(modelDir) + '/';
const id = path.basename(modelDir);
const tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
const model = await AutoModelForCausalLM.from_pretrained(id, { dtype: 'fp32', local_files_only: true });
const prompts = [
  '<|fim_prefix|>import os\n\ndef read_lines(path):\n    with open(path) as f:\n        return f.<|fim_suffix|>\n\n\ndef main():\n    pass\n<|fim_middle|>',
  '<|fim_prefix|>export function add(a: number, b: number): number {\n  return <|fim_suffix|>\n}\n<|fim_middle|>',
];
for (const p of prompts) {
  const inputs = tokenizer(p);
  const out = await model.generate({ ...inputs, max_new_tokens: 24, do_sample: false });
  const n = inputs.input_ids.dims[1];
  const ids = Array.from(out.data).slice(n).map(Number);
  console.log(JSON.stringify({ prompt_ids: Array.from(inputs.input_ids.data).map(Number).length, new_ids: ids, text: tokenizer.decode(ids, { skip_special_tokens: false }) }));
}
