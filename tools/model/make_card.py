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
ev_psm = load('eval_results_psm.json', {})
ev_heal = load('eval_results_heal.json', {})
ev_plain = load('eval_results_plain.json', {})
dtab = load('draft_table.json', {})
ck = torch.load(os.path.join(WORK, 'ckpt.pt'), map_location='cpu')
st, targs = ck['state'], ck.get('args', {})
params = sum(v.numel() for k, v in ck['model'].items())
ckf = torch.load(os.path.join(WORK, 'ckpt_fim.pt'), map_location='cpu')  # the FIM-dense phase (exported)
st2, fargs = ckf['state'], ckf.get('args', {})


def loss_stats(name):
    rows = list(csv.DictReader(open(os.path.join(WORK, name))))
    last = rows[-50:]
    tps = sorted(float(r['tok_per_s']) for r in rows)
    return sum(float(r['loss']) for r in last) / len(last), [tps[int(q * (len(tps) - 1))] for q in (0.1, 0.5, 0.9)]


final_loss, (tps_p10, tps_med, tps_p90) = loss_stats('loss.csv')
final_loss2, (tps2_p10, tps2_med, tps2_p90) = loss_stats('loss_fim.csv')
minutes_total = (st['elapsed'] + st2['elapsed']) / 60
tokens_total = st['tokens'] + st2['tokens']
size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(MODEL) for f in fs)
special = {v['content']: int(k) for k, v in tcfg['added_tokens_decoder'].items()}

keep = None
if os.path.exists(CARD):
    m = re.search(r'## Completion quality \(npm run eval\)\n(.*?)(?=\n## |\Z)', open(CARD).read(), re.S)
    if m and m.group(1).strip() and 'PLACEHOLDER' not in m.group(1):
        keep = m.group(1).strip()  # the section's body (the header is the template's)

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
tokenizer, trains {targs.get('minutes', 100):.0f} + {fargs.get('minutes', 30):.0f} min on 2 cores in two phases, exports, builds the draft table, verifies, evaluates):

```sh
tools/model/setup.sh            # or a subset of stages: tools/model/setup.sh export drafttable verify eval
```

Everything intermediate lives in `tools/model/work/` (gitignored); rerunning the `train` stage resumes
whichever phase is unfinished (`tools/model/work/ckpt.pt`, then `ckpt_fim.pt`). Training uses a
wall-clock budget (cosine schedule over the budget), so a rerun reproduces the recipe, not
bit-identical weights. The tokenizer is deterministic.

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
| `specter/draft-table.bin` | the model's own greedy next token after 1–4-token contexts, for Specter's `table` drafter (`tools/model/draft_table.py`; see below) |
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

- SPM: `<|fim_prefix|><|fim_suffix|>{{suffix}}<|fim_middle|>{{prefix}}{{middle}}<|endoftext|>` (preferred; the
  StarCoder/CodeLlama variant: the middle continues the prefix directly)
- PSM: `<|fim_prefix|>{{prefix}}<|fim_suffix|>{{suffix}}<|fim_middle|>{{middle}}<|endoftext|>`

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

Two phases, {minutes_total:.0f} minutes and {tokens_total / 1e6:.2f} M tokens in all:

1. **Language modelling with FIM** ({st['elapsed'] / 60:.1f} min, `work/ckpt.pt`). Next-token prediction on packed rows;
   {100 * training_data.P_FIM:.0f}% of samples FIM-transformed ({100 * (1 - training_data.P_SPM):.0f}% PSM, {100 * training_data.P_SPM:.0f}% SPM in Qwen's order
   `<|fim_suffix|>…<|fim_prefix|>…<|fim_middle|>`). FIM middles are biased to editor shapes: 55% start
   mid-line (after ≥1 character of the line's content) and run to the end of the line (+0–3 more
   lines), 23% are 1–4 whole lines starting at column 0, 22% random character spans; middles end
   before a newline so the suffix starts with `\\n`. Prefix ≤3000 / suffix ≤1500 chars, sometimes
   shortened or empty. Loss on all tokens. AdamW (β=0.9/0.95, wd 0.1 on matrices), peak LR
   {targs.get('lr', 0):g}, {targs.get('warmup_steps')} warmup steps, cosine to {targs.get('min_lr_frac', 0.05):g}×peak over a {targs.get('minutes', 0):g}-minute wall-clock
   budget, grad clip 1.0, fp32, 2 threads (OpenBLAS). Rows of 512 tokens for the first
   {100 * targs.get('short_frac', 0.4):.0f}% of the time, then 1024; {targs.get('tokens_per_step')} tokens per step. Steps: {st['step']}; tokens:
   {st['tokens'] / 1e6:.2f} M (throughput per step: median {tps_med:,.0f} tokens/s, p10–p90 {tps_p10:,.0f}–{tps_p90:,.0f}). Final
   training loss (mean of last 50 steps): {final_loss:.3f} nats/token.
2. **FIM-dense** ({st2['elapsed'] / 60:.1f} min from the first phase's weights and optimizer state,
   `work/ckpt_fim.pt`; `train.py --fim-phase`). In the first phase a FIM sample filled most of a row
   (prefix up to ~900 tokens), so only about 2% of trained tokens were middles (2.0% over 150
   sampled rows) and the model never learned to continue the prefix after `<|fim_middle|>`. This phase packs short samples (prefix
   16–640 tokens, log-uniform; suffix 0–256) with the same editor-shaped middles, {100 * training_data.P_SPM_FIM_PHASE:.0f}% in the
   SPM order above (the middle continues the prefix directly) and the rest PSM, plus {100 * 0.1:.0f}% plain
   windows; the loss is weighted 1 on middles and their `<|endoftext|>`, {training_data.CTX_WEIGHT:g} on the FIM context,
   1 on plain windows: middles are about 8% of the tokens (8.5% of FIM-sample tokens over 1,500
   samples). Peak LR {fargs.get('lr', 0):g}, {fargs.get('warmup_steps')} warmup steps, cosine over {fargs.get('minutes', 0):g} minutes,
   1024-token rows, {fargs.get('tokens_per_step')} tokens per step. Steps: {st2['step']}; tokens: {st2['tokens'] / 1e6:.2f} M (median
   {tps2_med:,.0f} tokens/s). Final weighted loss (mean of last 50 steps): {final_loss2:.3f} nats/token.

![loss curve](loss.png)

## Draft table (speculative decoding)

`specter/draft-table.bin` (`tools/model/setup.sh drafttable`, {dtab.get('seconds', 0)} s here): the model ran greedily over
{dtab.get('tokens', 0):,} tokens of the training split (windows of 512 tokens at random starts, seed 0); for every
context of 1–{dtab.get('max_order', 4)} tokens the table keeps the token the model chose most often after it, when the
context occurred at least {dtab.get('min_count', 2)} times (orders ≥ 2) and the choice differs from the shorter context's
(lookups back off to the longest context present, so a pruned entry changes no prediction).
Entries: {' / '.join(f"{v:,}" for v in dtab.get('entries', {}).values())} for orders 1–{dtab.get('max_order', 4)}; {dtab.get('bytes', 0) / 1e6:.2f} MB. On 50,000 held-out tokens the
table's next token is the model's own greedy choice **{100 * dtab.get('heldout_agreement', 0):.1f}%** of the time. Specter's `table` drafter
chains these lookups when CopySpec and prompt lookup find no copy; the decode loop verifies every
draft, so the table changes speed, never output (BENCHMARKS.md, speculation).

## Held-out evaluation (tools/model/evaluate.py, PyTorch)

| metric | value |
|---|---|
| held-out perplexity (plain LM, 1024-token windows, {ho.get('tokens', 0):,} tokens) | **{ho.get('perplexity', float('nan')):.2f}** ({ho.get('nll_per_token', float('nan')):.3f} nats/token, {ho.get('bits_per_byte', float('nan')):.3f} bits/byte) |
| line completion exact match, model (SPM, greedy, {line.get('tasks', 0)} tasks) | **{pct(line.get('exact_match'))}** (ignoring trailing whitespace: {pct(line.get('exact_match_rstrip'))}) |
| line completion exact match, model, SPM + token healing | **{pct(ev_heal.get('line', {}).get('exact_match'))}** |
| line completion exact match, token 4-gram baseline (prefix only, greedy, backoff) | **{pct(ngram.get('exact_match'))}** |
| line completion exact match, token 4-gram baseline + token healing | {pct(ngram.get('exact_match_healed'))} |
| line completion exact match, model, PSM prompt | {pct(ev_psm.get('line', {}).get('exact_match'))} |
| line completion exact match, model, prefix only (no FIM) | {pct(ev_plain.get('line', {}).get('exact_match'))} |
| block completion exact match, model ({block.get('tasks', 0)} tasks, 1–4 lines) | {pct(block.get('exact_match'))} |

By language (line tasks): model {', '.join(f'{k} {pct(v)}' for k, v in sorted(line.get('by_language', {}).items()))};
4-gram {', '.join(f'{k} {pct(v)}' for k, v in sorted(ngram.get('by_language', {}).items()))}.

Harness: prompt = SPM (the preferred order) with the suffix truncated to 256 tokens and the prefix to what fits in
1024 − 48 tokens; greedy until `<|endoftext|>` or the first newline; exact string match with the
target (rest of the line). The 4-gram model is built on the same training token stream
({ngram.get('train_tokens', 0):,} tokens, `tools/model/ngram_baseline.py`) and sees only the prefix.
*Token healing* (as Specter does it with `specter.completion.tokenHealingSpan: token`; its default
heals the whole word, below): the prompt backs up over the prefix's last token and the first generated token must start with that token's text. The
tasks cut lines at random characters, mostly inside a word, where the prompt otherwise ends in a
token the model rarely saw there. The 4-gram model keeps only its best next token per context, so
its healing takes that token when it re-spells the backed-up one and otherwise completes as before.

## What limits quality (issue targets not met)

The issue asks for ≥ 25% line exact match and ≥ 5 points over the 4-gram baseline. With token
healing the model reaches {pct(ev_heal.get('line', {}).get('exact_match'))}: {100 * (ev_heal.get('line', {}).get('exact_match', 0) - ngram.get('exact_match', 0)):+.1f} points over the 4-gram baseline as
specified (prefix only, {pct(ngram.get('exact_match'))}), but {100 * (ev_heal.get('line', {}).get('exact_match', 0) - ngram.get('exact_match_healed', 0)):+.1f} points against the 4-gram with healing
({pct(ngram.get('exact_match_healed'))}). Two decoding steps outside the model lift what users see: Specter's context cache, and healing the whole word at the cursor instead of its last token (below, "Completion quality", which also compares the 4-gram given the same word healing, {pct(ngram.get('exact_match_healed_word'))}); 25% is not reached on the benchmark's own tasks. The limit is training compute. Fp32 training with two threads runs at about
{tps_med:,.0f} tokens/s here, so the first phase's 100 minutes buy {st['tokens'] / 1e6:.1f} M tokens,
{st['tokens'] / max(1, ngram.get('train_tokens', 1)):.2f} of one pass over the {ngram.get('train_tokens', 0) / 1e6:.1f} M-token corpus; held-out perplexity is
{ho.get('perplexity', float('nan')):.1f}. A 4M-parameter model at that budget has learned local token statistics, not the
exact boilerplate the 4-gram tables memorise (`__importStar` helpers, license headers, repeated
calls), which is where most of the baseline's matches come from.

Fill-in-the-middle needed more than tokens. After the first phase alone the model scored 0% in
both FIM orders: a FIM sample filled a whole row there (prefix up to ~900 tokens), so middles were
~2% of what it trained on, and after `<|fim_middle|>` it wrote line-start text instead of the
rest of the line. The second phase packs short FIM samples with the loss on the middles and uses
the SPM variant in which the middle continues the prefix directly; after it the model scores
{pct(line.get('exact_match'))} in SPM order and {pct(ev_psm.get('line', {}).get('exact_match'))} in PSM order (without healing). Token healing then turns
mid-word cursors, most of these tasks, from misses into matches. What would help further: more
training tokens (larger `TRAIN_MINUTES` / `FIM_MINUTES`; both phases resume), a GPU, or a
pretrained model (Qwen2.5-Coder ONNX via "Specter: Download Model…"), which Specter loads through
the same directory contract.

## In-context copying (tools/model/copy_probe.py)

Whether the model copies from its context, in nats per token on held-out data: `repeat` is a span
of 60 random token ids followed by the same span (the loss on the first → the second copy; a model
with induction heads predicts the second copy almost exactly), `nearcopy` the loss on a near-copy
of a real block written right after it (0–3 identifiers renamed), `plain` ordinary held-out text.

```
{text('copy_probe.log')}
```

Where the second copy of a random span costs about as much as the first, the model does not copy
from its context at all; speculative decoding on near-copies (BENCHMARKS.md, issue 5) and
completions that reuse names from the file are then limited by the model, not by the drafters.

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

A {params / 1e6:.0f}M-parameter model trained for ~{minutes_total:.0f} minutes on {tokens_total / 1e6:.1f} M tokens (the first phase {st['tokens'] / max(1, ngram.get('train_tokens', 1)):.2f} of an epoch of the
{ngram.get('train_tokens', 0) / 1e6:.1f} M-token corpus of two languages' standard libraries and a few npm packages): it produces
syntactically plausible code and common idioms, but it does not yet reliably continue the identifier
or expression at the cursor, has no world knowledge, and is unreliable beyond a line. It exists so
Specter loads and runs offline out of the box (and as a fixed model for golden tests); point Specter at a larger
Qwen2.5-Coder ONNX export for real use.
"""
open(CARD, 'w').write(card)
print('wrote', CARD)
