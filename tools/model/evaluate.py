#!/usr/bin/python3
"""Held-out evaluation of an exported model directory (PyTorch, from model.safetensors):

  * perplexity on the held-out documents (plain next-token prediction, non-overlapping 1024-token
    windows, every token scored once);
  * greedy FIM exact match on bench/tasks/line-completion.jsonl (the preferred FIM order of fim.py, stop at
    <|endoftext|> or the first newline) and on block-completion.jsonl (stop at <|endoftext|>,
    compare the first k lines where k = number of target lines).
Writes work/eval_results.json.  Usage: evaluate.py [model_dir] [--psm | --spm | --plain] [--heal] [--skip-ppl] [--ckpt=work/ckpt.pt]
(work/eval_results_<order>.json when the order is not the preferred one).
"""
import json, math, os, sys, time
import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import LlamaForCausalLM
import safetensors_io, bpe
from fim import FIM_CONFIG

HERE = os.path.dirname(os.path.abspath(__file__))
args = [a for a in sys.argv[1:] if not a.startswith('--')]
PLAIN = '--plain' in sys.argv      # prefix-only prompt (no FIM), for comparison
ORDER = 'plain' if PLAIN else 'spm' if '--spm' in sys.argv else 'psm' if '--psm' in sys.argv else FIM_CONFIG['preferred']
SKIP_PPL = '--skip-ppl' in sys.argv
MODEL = args[0] if args else os.path.join(HERE, '..', '..', 'models', 'specter-tiny')
TASKS = os.path.join(HERE, '..', '..', 'bench', 'tasks')
torch.set_num_threads(2)
cfg = json.load(open(os.path.join(MODEL, 'config.json')))
keys = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
        'num_key_value_heads', 'head_dim', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta']
model = LlamaForCausalLM({k: cfg[k] for k in keys}).eval()
CKPT = next((a.split('=', 1)[1] for a in sys.argv[1:] if a.startswith('--ckpt=')), None)  # a training checkpoint instead
if CKPT:
    model.load_state_dict(torch.load(CKPT)['model'])
else:
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in safetensors_io.load(os.path.join(MODEL, 'model.safetensors')).items()})
tok = bpe.Tokenizer(os.path.join(MODEL, 'tokenizer.json'))
S = tok.special
CTX = cfg['max_position_embeddings']
LIMIT = int(os.environ.get('EVAL_LIMIT', '0'))  # for smoke tests: only the first N docs / tasks


@torch.no_grad()
def perplexity():
    nll, n, nbytes = 0.0, 0, 0
    for i, l in enumerate(open(os.path.join(HERE, 'work', 'corpus', 'heldout.jsonl'))):
        if LIMIT and i >= LIMIT:
            break
        d = json.loads(l)
        ids = tok.encode_ordinary(d['text']) + [tok.eos_id]
        nbytes += len(d['text'].encode())
        for s in range(0, len(ids) - 1, CTX):
            x = torch.tensor([ids[s:s + CTX + 1]])
            if x.shape[1] < 2:
                continue
            logits, _ = model(input_ids=x[:, :-1])
            nll += F.cross_entropy(logits[0], x[0, 1:], reduction='sum').item()
            n += x.shape[1] - 1
    return {'tokens': n, 'nll_per_token': nll / n, 'perplexity': math.exp(nll / n), 'bits_per_byte': nll / math.log(2) / nbytes}


def prompt(prefix, suffix, max_new):
    suf = tok.encode_ordinary(suffix)[:256]
    pre = tok.encode_ordinary(prefix)
    room = CTX - max_new - len(suf) - 3
    pre = pre[max(0, len(pre) - room):]
    if ORDER == 'plain':
        return pre
    if ORDER == 'spm':  # fim.py: <|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}
        return [S['<|fim_prefix|>'], S['<|fim_suffix|>']] + suf + [S['<|fim_middle|>']] + pre
    return [S['<|fim_prefix|>']] + pre + [S['<|fim_suffix|>']] + suf + [S['<|fim_middle|>']]


HEAL = '--heal' in sys.argv  # token healing: back up over the prompt's last token, make the first token re-spell it
VOCAB_TEXT = None


@torch.no_grad()
def generate(ids, max_new, stop_newlines):
    global VOCAB_TEXT
    heal = ''
    if HEAL and ORDER != 'psm' and ids and ids[-1] not in S.values():
        heal = tok.decode([ids[-1]])
        ids = ids[:-1]
        if VOCAB_TEXT is None:
            VOCAB_TEXT = [tok.decode([i]) if i not in S.values() else None for i in range(cfg['vocab_size'])]
    logits, past = model(input_ids=torch.tensor([ids]))
    out = []
    for _ in range(max_new):
        if heal and not out:
            row = logits[0, -1].clone()
            bad = torch.tensor([v is None or not v.startswith(heal) for v in VOCAB_TEXT])
            row[bad] = float('-inf')
            t = int(row.argmax())
            out.append(t)
            P = len(ids) + len(out) - 1
            logits, past = model(input_ids=torch.tensor([[t]]), position_ids=torch.tensor([[P]]), past=past)
            continue
        t = int(logits[0, -1].argmax())
        if t == tok.eos_id or t in S.values():
            break
        out.append(t)
        if tok.decode(out)[len(heal):].count('\n') >= stop_newlines:
            break
        P = len(ids) + len(out) - 1
        logits, past = model(input_ids=torch.tensor([[t]]), position_ids=torch.tensor([[P]]), past=past)
    return tok.decode(out)[len(heal):]


def run_tasks(name, max_new, lines_mode):
    path = os.path.join(TASKS, name)
    tasks = [json.loads(l) for l in open(path)]
    if LIMIT:
        tasks = tasks[:LIMIT]
    hit = hit_ws = 0
    by_lang = {}
    rows = []
    for t in tasks:
        k = t['target'].count('\n') + 1
        text = generate(prompt(t['prefix'], t['suffix'], max_new), max_new, k if lines_mode else 1)
        pred = '\n'.join(text.split('\n')[:k])
        ok = pred == t['target']
        ok_ws = pred.rstrip() == t['target'].rstrip()
        hit += ok; hit_ws += ok_ws
        b = by_lang.setdefault(t['language'], [0, 0]); b[0] += ok; b[1] += 1
        rows.append({'id': t['id'], 'pred': pred, 'target': t['target'], 'exact': ok})
    return {'tasks': len(tasks), 'exact_match': hit / len(tasks), 'exact_match_rstrip': hit_ws / len(tasks),
            'by_language': {k: v[0] / v[1] for k, v in by_lang.items()}, 'rows': rows}


t0 = time.time()
res = {'model': os.path.abspath(MODEL), 'fim_order': ORDER, 'token_healing': HEAL}
if not SKIP_PPL:
    res['heldout'] = perplexity()
    print('held-out:', res['heldout'], flush=True)
res['line'] = run_tasks('line-completion.jsonl', 48, False)
print('line exact match:', res['line']['exact_match'], res['line']['by_language'], flush=True)
res['block'] = run_tasks('block-completion.jsonl', 128, True)
print('block exact match:', res['block']['exact_match'], res['block']['by_language'], flush=True)
res['seconds'] = time.time() - t0
json.dump(res, open(os.path.join(HERE, 'work', ('smoke_' if LIMIT else '') + 'eval_results' + ('' if ORDER == FIM_CONFIG['preferred'] else '_' + ORDER) + ('_heal' if HEAL else '') + '.json'), 'w'), indent=1)
