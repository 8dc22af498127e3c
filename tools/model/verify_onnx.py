#!/usr/bin/python3
"""Write PyTorch reference cases for verify_onnx.js (ONNX vs PyTorch logits parity).

Cases: prefill with empty past, 1-token step with past, 5-token step with past, a left-padded
batch of 2, and the same through the inputs_embeds graph (incl. a mixture of embedding rows).
Usage: verify_onnx.py [model_dir]   then   node tools/model/verify_onnx.js [model_dir]
"""
import json, os, sys
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import LlamaForCausalLM
import safetensors_io, bpe

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'models', 'specter-tiny')
OUT = os.path.join(HERE, 'work', 'onnx_cases.json')
cfg = json.load(open(os.path.join(MODEL, 'config.json')))
keys = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
        'num_key_value_heads', 'head_dim', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta']
model = LlamaForCausalLM({k: cfg[k] for k in keys}).eval()
sd = {k: torch.from_numpy(v.copy()) for k, v in safetensors_io.load(os.path.join(MODEL, 'model.safetensors')).items()}
model.load_state_dict(sd)
tok = bpe.Tokenizer(os.path.join(MODEL, 'tokenizer.json'))
L, KV, HD = cfg['num_hidden_layers'], cfg['num_key_value_heads'], cfg['head_dim']
E = model.model.embed_tokens.weight.detach()


def flat(t):
    return t.detach().numpy().astype(np.float64).ravel().round(7).tolist()


def run(first, embeds, am, pos, past):
    with torch.no_grad():
        if embeds:
            logits, pres = model(inputs_embeds=first, attention_mask=am, position_ids=pos, past=past)
        else:
            logits, pres = model(input_ids=first, attention_mask=am, position_ids=pos, past=past)
    return logits, pres


cases = []


def case(name, embeds, first, am, pos, past):
    B = first.shape[0]
    if past is None:
        past_in = [(torch.zeros(B, KV, 0, HD), torch.zeros(B, KV, 0, HD)) for _ in range(L)]
    else:
        past_in = past
    logits, pres = run(first, embeds, am, pos, past_in)
    c = {'name': name, 'graph': 'model_embeds.onnx' if embeds else 'model.onnx',
         'first_name': 'inputs_embeds' if embeds else 'input_ids',
         'first': flat(first) if embeds else first.ravel().tolist(), 'first_shape': list(first.shape),
         'attention_mask': am.ravel().tolist(), 'am_shape': list(am.shape),
         'position_ids': pos.ravel().tolist(), 'pos_shape': list(pos.shape),
         'past': [[flat(k), flat(v)] for k, v in past_in], 'past_shape': list(past_in[0][0].shape),
         'logits': flat(logits), 'logits_shape': list(logits.shape),
         'present_last': flat(pres[-1][1]), 'present_shape': list(pres[-1][1].shape)}
    cases.append(c)
    return logits, pres


text = 'def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fib'
ids = tok.encode(text)
pre, s1, s5 = ids[:-6], ids[-6:-5], ids[-5:]
for embeds in (False, True):
    tag = 'embeds' if embeds else 'ids'
    conv = (lambda x: E[x]) if embeds else (lambda x: x)
    x = torch.tensor([pre])
    n = len(pre)
    _, pres = case(f'{tag}:prefill', embeds, conv(x), torch.ones(1, n, dtype=torch.long), torch.arange(n)[None], None)
    x1 = torch.tensor([s1])
    _, pres2 = case(f'{tag}:step1', embeds, conv(x1), torch.ones(1, n + 1, dtype=torch.long), torch.tensor([[n]]), pres)
    x5 = torch.tensor([s5])
    case(f'{tag}:step5', embeds, conv(x5), torch.ones(1, n + 6, dtype=torch.long), torch.arange(n + 1, n + 6)[None], pres2)
    # left-padded batch of two prompts
    a, b = ids[:10], ids[:7]
    xb = torch.tensor([a, [tok.eos_id] * 3 + b])
    am = torch.tensor([[1] * 10, [0] * 3 + [1] * 7])
    pos = torch.tensor([list(range(10)), [0, 0, 0] + list(range(7))])
    case(f'{tag}:padded_batch', embeds, conv(xb), am, pos, None)
# superposition-style mixture of embedding rows, with past
mix = 0.6 * E[s1[0]] + 0.3 * E[s5[0]] + 0.1 * E[tok.eos_id]
x = torch.tensor([pre])
n = len(pre)
_, pres = run(E[x], True, torch.ones(1, n, dtype=torch.long), torch.arange(n)[None],
              [(torch.zeros(1, KV, 0, HD), torch.zeros(1, KV, 0, HD)) for _ in range(L)])
case('embeds:mixture_step', True, mix[None, None], torch.ones(1, n + 1, dtype=torch.long), torch.tensor([[n]]), pres)
json.dump(cases, open(OUT, 'w'))
print(f'wrote {len(cases)} cases to {OUT}')
