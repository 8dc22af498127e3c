#!/usr/bin/python3
"""PyTorch greedy reference for check_transformersjs.mjs (same prompts, same max_new_tokens, stops at eos)."""
import json, os, sys
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import LlamaForCausalLM
import safetensors_io, bpe
HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', 'models', 'specter-tiny')
cfg = json.load(open(os.path.join(MODEL, 'config.json')))
keys = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
        'num_key_value_heads', 'head_dim', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta']
model = LlamaForCausalLM({k: cfg[k] for k in keys}).eval()
model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in safetensors_io.load(os.path.join(MODEL, 'model.safetensors')).items()})
tok = bpe.Tokenizer(os.path.join(MODEL, 'tokenizer.json'))
prompts = [
    '<|fim_prefix|>import os\n\ndef read_lines(path):\n    with open(path) as f:\n        return f.<|fim_suffix|>\n\n\ndef main():\n    pass\n<|fim_middle|>',
    '<|fim_prefix|>export function add(a: number, b: number): number {\n  return <|fim_suffix|>\n}\n<|fim_middle|>',
]
for p in prompts:
    ids = tok.encode(p)
    out = []
    with torch.no_grad():
        for _ in range(24):
            logits, _ = model(input_ids=torch.tensor([ids + out]))
            nxt = int(logits[0, -1].argmax())
            out.append(nxt)
            if nxt == tok.eos_id:
                break
    print(json.dumps({'prompt_ids': len(ids), 'new_ids': out, 'text': tok.decode(out)}))
