#!/usr/bin/env node
// Checks that @huggingface/tokenizers loads models/specter-tiny/tokenizer.json, produces the same ids
// as the Python encoder (tools/model/bpe.py) on held-out files and adversarial strings, and that
// decode(encode(x)) === x.  Usage: node tools/model/check_tokenizer.js [modelDir] [casesJsonl]
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require(path.join(__dirname, '..', '..', 'node_modules', '@huggingface', 'tokenizers'));
const modelDir = process.argv[2] || path.join(__dirname, '..', '..', 'models', 'specter-tiny');
const casesPath = process.argv[3] || path.join(__dirname, 'work', 'tok_cases.jsonl');
const tj = JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8'));
const tc = JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer_config.json'), 'utf8'));
const tok = new Tokenizer(tj, tc);
let n = 0, idMismatch = 0, rtFail = 0, tokens = 0;
for (const line of fs.readFileSync(casesPath, 'utf8').split('\n')) {
  if (!line) continue;
  const c = JSON.parse(line);
  const ids = tok.encode(c.text, { add_special_tokens: false }).ids;
  n++; tokens += ids.length;
  if (JSON.stringify(ids) !== JSON.stringify(c.ids)) {
    idMismatch++;
    if (idMismatch <= 5) {
      let k = 0; while (k < ids.length && ids[k] === c.ids[k]) k++;
      console.log(`ID MISMATCH ${c.name} at ${k}: js=${JSON.stringify(ids.slice(k, k + 8))} py=${JSON.stringify(c.ids.slice(k, k + 8))}`);
    }
  }
  const back = ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  if (back !== c.text) {
    rtFail++;
    if (rtFail <= 5) console.log(`ROUNDTRIP FAIL ${c.name}: ${JSON.stringify(c.text.slice(0, 80))} -> ${JSON.stringify(back.slice(0, 80))}`);
  }
}
const special = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>']
  .map((t) => `${t}=${tok.token_to_id(t)}`).join(' ');
console.log(`cases=${n} tokens=${tokens} id_mismatches=${idMismatch} roundtrip_failures=${rtFail}`);
console.log(`special: ${special}`);
process.exit(idMismatch || rtFail ? 1 : 0);
