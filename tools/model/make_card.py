#!/usr/bin/python3
"""Write models/specter-tiny/MODEL_CARD.md from the run's artifacts (corpus stats, checkpoint state,
loss.csv, evaluation JSONs, verification logs).  The section "Completion quality (npm run eval)" is
kept from an existing card if it has been filled in."""
import csv, json, os, re, sys
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as training_data

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, 'work')
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'models', 'specter-tiny')
CARD = os.path.join(MODEL, 'MODEL_CARD.md')


def load(p, default=None):
    p = os.path.join(WORK, p)
    return json.load(open(p)) if os.path.exists(p) else default


def text(p):
    p = os.path.join(WORK, p)
    return open(p).read().strip() if os.path.exists(p) else '(not run)'


cfg = json.load(open(os.path.join(MODEL, 'config.json')))
tcfg = json.load(open(os.path.join(MODEL, 'tokenizer_config.json')))
stats = load('corpus/stats.json')
ngram = load('ngram_results.json', {})
ev = load('eval_results.json', {})
ev_spm = load('eval_results_spm.json', {})
ev_plain = load('eval_results_plain.json', {})
ck = torch.load(os.path.join(WORK, 'ckpt.pt'), map_location='cpu')
st, targs = ck['state'], ck.get('args', {})
params = sum(v.numel() for k, v in ck['model'].items())
rows = list(csv.DictReader(open(os.path.join(WORK, 'loss.csv'))))
last = rows[-50:]
final_loss = sum(float(r['loss']) for r in last) / len(last)
tps = sorted(float(r['tok_per_s']) for r in rows)
tps_p10, tps_med, tps_p90 = (tps[int(q * (len(tps) - 1))] for q in (0.1, 0.5, 0.9))
size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(MODEL) for f in fs)
special = {v['content']: int(k) for k, v in tcfg['added_tokens_decoder'].items()}

keep = None
if os.path.exists(CARD):
    m = re.search(r'(## Completion quality \(npm run eval\)\n.*?)(?=\n## |\Z)', open(CARD).read(), re.S)
    if m and 'PLACEHOLDER' not in m.group(1):
        keep = m.group(1).rstrip() + '\n'

src_rows = []
for name, s in stats['sources'].items():
    src_rows.append(f"| {name} | {s['version']} | {s['license']} | {s['files']} | {s['chars'] / 1e6:.2f} M | {s['heldout_docs']} |")

def pct(x):
    return f'{100 * x:.1f}%' if x is not None else 'n/a'

ho = ev.get('heldout', {})
line = ev.get('line', {})
block = ev.get('block', {})
L = cfg['num_hidden_layers']
card = f"""# specter-tiny

Specter's embedded default code-completion model: a {params / 1e6:.1f}M-parameter Llama-architecture
decoder with fill-in-the-middle (Qwen2.5-Coder token format), trained from scratch on this machine.

**Reproduce end to end** (Debian 12; installs Debian packages, npm-installs the corpus, trains the
tokenizer, trains ~{targs.get('minutes', 95):.0f} min on 2 cores, exports, verifies, evaluates):

```sh
tools/model/setup.sh            # or a subset of stages: tools/model/setup.sh export verify eval
```

Everything intermediate lives in `tools/model/work/` (gitignored); rerunning the `train` stage resumes
from `tools/model/work/ckpt.pt`. Training uses a wall-clock budget (cosine schedule over the budget),
so a rerun reproduces the recipe, not bit-identical weights. The tokenizer is deterministic.

## Files

| file | content |
|---|---|
| `config.json` | HF Llama config (`model_type: "llama"`), plus `specter_fim` and `specter` metadata |
| `generation_config.json` | greedy defaults, eos `<\\|endoftext\\|>` |
| `tokenizer.json`, `tokenizer_config.json` | HF byte-level BPE tokenizer (`PreTrainedTokenizerFast`) |
| `model.safetensors` | fp32 weights with HF names (tied embeddings: no `lm_head.weight`) |
| `onnx/model.onnx` | Optimum decoder-with-past graph, `input_ids` path (opset 14) |
| `onnx/model_embeds.onnx` | same graph with `inputs_embeds` [batch, seq, {cfg['hidden_size']}] instead of `input_ids` |
| `onnx/model.onnx_data` | fp32 weights shared by both ONNX graphs (ONNX external data) |
| `loss.png` | training loss curve |

Total size: {size / 1e6:.1f} MB.

ONNX inputs: `input_ids` (or `inputs_embeds`), `attention_mask` int64 [batch, past+seq],
`position_ids` int64 [batch, seq], `past_key_values.{{0..{L - 1}}}.key|value` float32
[batch, {cfg['num_key_value_heads']}, past_seq, {cfg['head_dim']}] (past_seq may be 0). Outputs: `logits` float32
[batch, seq, {cfg['vocab_size']}], `present.{{0..{L - 1}}}.key|value` [batch, {cfg['num_key_value_heads']}, past_seq+seq, {cfg['head_dim']}].
Multi-token steps with past are supported (causal mask over past+new positions, combined with
`attention_mask` for padding). The token-embedding table for superposed decoding is
`model.embed_tokens.weight` [{cfg['vocab_size']}, {cfg['hidden_size']}] in `model.safetensors`
(also recorded in `config.json` → `specter.embedding_table`).

## Architecture

| | |
|---|---|
| parameters | {params:,} ({params - cfg['vocab_size'] * cfg['hidden_size']:,} non-embedding) |
| layers / hidden / intermediate | {L} / {cfg['hidden_size']} / {cfg['intermediate_size']} (SwiGLU) |
| attention | {cfg['num_attention_heads']} query heads, {cfg['num_key_value_heads']} KV heads (GQA), head_dim {cfg['head_dim']} |
| positions | RoPE θ={cfg['rope_theta']:g} (HF rotate_half), max {cfg['max_position_embeddings']} |
| norm | RMSNorm ε={cfg['rms_norm_eps']:g}, pre-norm; no biases; tied input/output embeddings |

## Tokenizer

Byte-level BPE, {cfg['vocab_size']} tokens = 256 byte tokens + {cfg['vocab_size'] - 256 - len(special)} merges + {len(special)} special tokens, trained by
`tools/model/bpe.py` on the training split. Pre-tokenizer: Qwen2 `Split` regex (Isolated) then
`ByteLevel` (no prefix space, no regex); decoder `ByteLevel`; no normalizer, so any UTF-8 text
round-trips exactly. Special tokens: {', '.join(f'`{k}`={v}' for k, v in special.items())}.

Checks (`tools/model/check_tokenizer.js`, @huggingface/tokenizers vs the Python encoder on all
held-out files plus emoji/CJK/RTL/control-character/CRLF/random-codepoint strings):

```
{text('check_tokenizer.log')}
```

## Fill-in-the-middle format

Stored in `config.json` and `tokenizer_config.json` under `specter_fim`:

- PSM: `<|fim_prefix|>{{prefix}}<|fim_suffix|>{{suffix}}<|fim_middle|>{{middle}}<|endoftext|>` (preferred)
- SPM: `<|fim_suffix|>{{suffix}}<|fim_prefix|>{{prefix}}<|fim_middle|>{{middle}}<|endoftext|>`

The middle is always terminated by `<|endoftext|>`. Non-FIM documents are written as
`<|file_sep|>{{path}}\\n{{content}}<|endoftext|>` (when a sample starts at the top of a file).

## Data

Only these sources (npm packages installed with `--ignore-scripts`, exact versions):

| source | version | license | files | chars | held-out docs |
|---|---|---|---|---|---|
{chr(10).join(src_rows)}

Python: `/usr/lib/python3.11/**/*.py` excluding `test/`, `tests/`, `idle_test/`, site/dist-packages.
npm: `.js/.mjs/.cjs/.ts/.mts/.cts` of the listed packages (not their dependencies); esbuild only
`lib/main.js` and `lib/main.d.ts`; typescript without the duplicate compiler bundles (`_tsc.js`,
`_tsserver.js`, `_typingsInstaller.js`, …). Files over 200 KB are cut into 200 KB chunks at line
boundaries, at most 8 chunks per file (caps `typescript.js`, `lib.dom.d.ts`). A document is held
out when `sha1(path) % 20 == 0` (chunks count as documents): {stats['train_docs']} training documents
({stats['train_chars'] / 1e6:.1f} M chars, {ngram.get('train_tokens', 0) / 1e6:.2f} M tokens), {stats['heldout_docs']} held-out documents ({stats['heldout_chars'] / 1e6:.2f} M chars).
The benchmark tasks in `bench/tasks/` are drawn only from held-out documents.

## Training

- Objective: next-token prediction on packed rows; {100 * training_data.P_FIM:.0f}% of samples FIM-transformed ({100 * (1 - training_data.P_SPM):.0f}% PSM,
  {100 * training_data.P_SPM:.0f}% SPM). FIM middles are biased to editor shapes: 55% start mid-line (after ≥1 character of
  the line's content) and run to the end of the line (+0–3 more lines), 23% are 1–4 whole lines
  starting at column 0, 22% random character spans; middles end before a newline so the suffix
  starts with `\\n`. Prefix ≤3000 / suffix ≤1500 chars, sometimes shortened or empty. Loss on all tokens.
- AdamW (β=0.9/0.95, wd 0.1 on matrices), peak LR {targs.get('lr', 0):g}, {targs.get('warmup_steps')} warmup steps, cosine to
  {targs.get('min_lr_frac', 0.05):g}×peak over a {targs.get('minutes', 0):g}-minute wall-clock budget, grad clip 1.0, fp32,
  2 threads (OpenBLAS). Rows of 512 tokens for the first {100 * targs.get('short_frac', 0.4):.0f}% of the time, then 1024.
  {targs.get('tokens_per_step')} tokens per step; one run from scratch (`tools/model/setup.sh train`).
- Steps: {st['step']}; tokens seen: {st['tokens'] / 1e6:.2f} M; training time: {st['elapsed'] / 60:.1f} min
  on the 2-core machine (throughput per step: median {tps_med:,.0f} tokens/s, p10–p90 {tps_p10:,.0f}–{tps_p90:,.0f}).
- Final training loss (mean of last 50 steps): {final_loss:.3f} nats/token.

![loss curve](loss.png)

## Held-out evaluation (tools/model/evaluate.py, PyTorch)

| metric | value |
|---|---|
| held-out perplexity (plain LM, 1024-token windows, {ho.get('tokens', 0):,} tokens) | **{ho.get('perplexity', float('nan')):.2f}** ({ho.get('nll_per_token', float('nan')):.3f} nats/token, {ho.get('bits_per_byte', float('nan')):.3f} bits/byte) |
| line completion exact match, model (PSM, greedy, {line.get('tasks', 0)} tasks) | **{pct(line.get('exact_match'))}** (ignoring trailing whitespace: {pct(line.get('exact_match_rstrip'))}) |
| line completion exact match, token 4-gram baseline (prefix only, greedy, backoff) | **{pct(ngram.get('exact_match'))}** |
| line completion exact match, model, SPM prompt | {pct(ev_spm.get('line', {}).get('exact_match'))} |
| line completion exact match, model, prefix only (no FIM) | {pct(ev_plain.get('line', {}).get('exact_match'))} |
| block completion exact match, model ({block.get('tasks', 0)} tasks, 1–4 lines) | {pct(block.get('exact_match'))} |

By language (line tasks): model {', '.join(f'{k} {pct(v)}' for k, v in sorted(line.get('by_language', {}).items()))};
4-gram {', '.join(f'{k} {pct(v)}' for k, v in sorted(ngram.get('by_language', {}).items()))}.

Harness: prompt = PSM with the suffix truncated to 256 tokens and the prefix to what fits in
1024 − 48 tokens; greedy until `<|endoftext|>` or the first newline; exact string match with the
target (rest of the line). The 4-gram model is built on the same training token stream
({ngram.get('train_tokens', 0):,} tokens, `tools/model/ngram_baseline.py`) and sees only the prefix.

## What limits quality (issue targets not met)

The issue asks for ≥ 25% line exact match and ≥ 5 points over the 4-gram baseline; this model
does **not** reach either. The limit is training compute. Fp32 training with two threads runs at about
{tps_med:,.0f} tokens/s here, so the 100-minute budget buys {st['tokens'] / 1e6:.1f} M tokens,
{st['tokens'] / max(1, ngram.get('train_tokens', 1)):.2f} of one pass over the {ngram.get('train_tokens', 0) / 1e6:.1f} M-token corpus. (The first run, on a machine shared with other
jobs, saw 3.05 M tokens and reached perplexity 41.9; this run on the idle machine reached
{ho.get('perplexity', float('nan')):.1f}.) At this budget the model has learned local token statistics: with the prefix alone
it continues the identifier at the cursor plausibly (`V4UUID._random` → `PrivateKey,`). It has not
learned the fill-in-the-middle conditioning: after `<|fim_middle|>` it writes text that starts a
new line or a comment rather than the rest of the current line, in both PSM and SPM order. That is
why FIM exact match stays at zero. The 4-gram baseline
wins on exact match with memorized boilerplate (`__importStar` helpers, license headers, repeated
`V4UUID._randomHex(),`). What would help: more training tokens (rerun the `train` stage with a larger
`TRAIN_MINUTES`; it resumes from `tools/model/work/ckpt.pt`), a GPU, or a pretrained model (Qwen2.5-Coder
ONNX via "Specter: Download Model…"), which Specter loads through the same directory contract.

## Completion quality (npm run eval)

{keep or 'PLACEHOLDER — filled in by the lead once the TypeScript CLI exists: exact match on bench/tasks/line-completion.jsonl through the Specter runtime, next to the 4-gram baseline above.'}

## Verification

ONNX vs PyTorch (`tools/model/verify_onnx.py` + `verify_onnx.js`, onnxruntime-node):

```
{text('verify_onnx.log')}
```

transformers.js (`@huggingface/transformers`, `AutoTokenizer` + `AutoModelForCausalLM`, fp32,
local files only) greedy generation vs PyTorch greedy (`check_transformersjs.mjs`, `greedy_ref.py`):
`{text('greedy_compare.log')}`

## Limitations

A {params / 1e6:.0f}M-parameter model trained for ~{st['elapsed'] / 60:.0f} minutes on {st['tokens'] / 1e6:.1f} M tokens ({st['tokens'] / max(1, ngram.get('train_tokens', 1)):.2f} of an epoch of the
{ngram.get('train_tokens', 0) / 1e6:.1f} M-token corpus of two languages' standard libraries and a few npm packages): it produces
syntactically plausible code and common idioms, but it does not yet reliably continue the identifier
or expression at the cursor, has no world knowledge, and is unreliable beyond a line. It exists so
Specter loads and runs offline out of the box (and as a fixed model for golden tests); point Specter at a larger
Qwen2.5-Coder ONNX export for real use.
"""
open(CARD, 'w').write(card)
print('wrote', CARD)
