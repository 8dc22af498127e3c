#!/usr/bin/python3
"""Export a training checkpoint to the model directory (HF / transformers.js ONNX layout):

  config.json, generation_config.json, model.safetensors (HF names, tied embeddings),
  onnx/model.onnx          Optimum decoder-with-past (input_ids path)
  onnx/model_embeds.onnx   same interface with inputs_embeds [batch, seq, hidden] instead of input_ids
  onnx/model.onnx_data     fp32 weights shared by both graphs (ONNX external data, 4 KiB aligned)

tokenizer.json / tokenizer_config.json are written by train_tokenizer.py and are not touched here.
Usage: export.py [checkpoint] [model_dir]
"""
import hashlib, json, os, shutil, sys, tempfile
import numpy as np
import torch
import onnx
from onnx import TensorProto
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import LlamaForCausalLM
from fim import FIM_CONFIG
import safetensors_io

HERE = os.path.dirname(os.path.abspath(__file__))
CKPT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'work', 'ckpt.pt')
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, '..', '..', 'models', 'specter-tiny')
OPSET = 14
EOS = 4089


class IdsWrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.m(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, past=past)
        return (logits,) + tuple(t for kv in presents for t in kv)


class EmbedsWrapper(IdsWrapper):
    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.m(inputs_embeds=inputs_embeds, attention_mask=attention_mask, position_ids=position_ids, past=past)
        return (logits,) + tuple(t for kv in presents for t in kv)


def export_graph(model, path, embeds):
    c = model.config
    L, KV, HD = c['num_hidden_layers'], c['num_key_value_heads'], c['head_dim']
    B, T, P = 2, 3, 4
    first = torch.randn(B, T, c['hidden_size']) if embeds else torch.randint(0, c['vocab_size'], (B, T))
    am = torch.ones(B, P + T, dtype=torch.long)
    pos = torch.arange(P, P + T)[None].expand(B, T).contiguous()
    past = []
    names_in = ['inputs_embeds' if embeds else 'input_ids', 'attention_mask', 'position_ids']
    names_out = ['logits']
    dyn = {names_in[0]: {0: 'batch_size', 1: 'sequence_length'},
           'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
           'position_ids': {0: 'batch_size', 1: 'sequence_length'},
           'logits': {0: 'batch_size', 1: 'sequence_length'}}
    for i in range(L):
        for kind in ('key', 'value'):
            past.append(torch.randn(B, KV, P, HD))
            n = f'past_key_values.{i}.{kind}'
            names_in.append(n)
            dyn[n] = {0: 'batch_size', 2: 'past_sequence_length'}
            o = f'present.{i}.{kind}'
            names_out.append(o)
            dyn[o] = {0: 'batch_size', 2: 'total_sequence_length'}
    wrapper = (EmbedsWrapper if embeds else IdsWrapper)(model).eval()
    with torch.no_grad():
        torch.onnx.export(wrapper, (first, am, pos, *past), path, input_names=names_in, output_names=names_out,
                          dynamic_axes=dyn, opset_version=OPSET, do_constant_folding=False)


def externalize(paths, data_name):
    """Move every initializer of the given graphs into one shared, deduplicated external data file."""
    out_dir = os.path.dirname(paths[0])
    data_path = os.path.join(out_dir, data_name)
    index = {}
    with open(data_path, 'wb') as f:
        for p in paths:
            m = onnx.load(p)
            for t in m.graph.initializer:
                if t.data_location == TensorProto.EXTERNAL:
                    continue
                if not t.HasField('raw_data'):
                    arr = onnx.numpy_helper.to_array(t)
                    t.raw_data = arr.tobytes()
                    del t.float_data[:]; del t.int64_data[:]; del t.int32_data[:]
                raw = t.raw_data
                if len(raw) < 1024:
                    continue
                key = (t.data_type, hashlib.sha1(raw).hexdigest())
                if key not in index:
                    pad = (-f.tell()) % 4096
                    f.write(b'\0' * pad)
                    index[key] = (f.tell(), len(raw))
                    f.write(raw)
                off, n = index[key]
                t.ClearField('raw_data')
                t.data_location = TensorProto.EXTERNAL
                del t.external_data[:]
                for k, v in (('location', data_name), ('offset', str(off)), ('length', str(n))):
                    e = t.external_data.add(); e.key = k; e.value = v
            onnx.save(m, p)
    return data_path


def main():
    ck = torch.load(CKPT, map_location='cpu')
    model = LlamaForCausalLM(ck['config'])
    model.load_state_dict(ck['model'])
    model.eval()
    c = model.config
    st = ck.get('state', {})
    final_out = OUT
    OUT_ = os.path.join(HERE, 'work', 'export-tmp')  # build everything aside, then move files in place
    shutil.rmtree(OUT_, ignore_errors=True)
    os.makedirs(os.path.join(OUT_, 'onnx'), exist_ok=True)
    export_to(model, ck, OUT_)
    os.makedirs(os.path.join(final_out, 'onnx'), exist_ok=True)
    for rel in ('config.json', 'generation_config.json', 'model.safetensors',
                'onnx/model.onnx_data', 'onnx/model.onnx', 'onnx/model_embeds.onnx'):
        os.replace(os.path.join(OUT_, rel), os.path.join(final_out, rel))
    shutil.rmtree(OUT_, ignore_errors=True)
    total = 0
    for root, _, files in os.walk(final_out):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print(f'exported {CKPT} -> {final_out} ({total / 1e6:.1f} MB total)')


def export_to(model, ck, OUT):
    c = model.config
    st = ck.get('state', {})
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.hf_state_dict().items()}
    safetensors_io.save(sd, os.path.join(OUT, 'model.safetensors'), metadata={'format': 'pt'})
    config = {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama',
        'vocab_size': c['vocab_size'], 'hidden_size': c['hidden_size'], 'intermediate_size': c['intermediate_size'],
        'num_hidden_layers': c['num_hidden_layers'], 'num_attention_heads': c['num_attention_heads'],
        'num_key_value_heads': c['num_key_value_heads'], 'head_dim': c['head_dim'],
        'max_position_embeddings': c['max_position_embeddings'], 'rms_norm_eps': c['rms_norm_eps'],
        'rope_theta': c['rope_theta'], 'rope_scaling': None, 'hidden_act': 'silu', 'attention_bias': False,
        'attention_dropout': 0.0, 'mlp_bias': False, 'initializer_range': 0.02, 'pretraining_tp': 1,
        'tie_word_embeddings': True, 'use_cache': True, 'bos_token_id': EOS, 'eos_token_id': EOS, 'pad_token_id': EOS,
        'torch_dtype': 'float32', 'transformers_version': '4.46.0',
        'transformers.js_config': {'use_external_data_format': {'model.onnx': 1}},
        'specter_fim': FIM_CONFIG,
        'specter': {
            'embeds_model': 'onnx/model_embeds.onnx',
            # The model cannot copy from its context (MODEL_CARD, in-context copying): Specter mixes in
            # what the context votes for (README, "Context cache"; weights tuned on
            # bench/tasks/make-dev-tasks.ts tasks, not on the benchmark's).
            'context_cache': {'min_n': 2, 'max_n': 8, 'weight': 0.7, 'growth': 3},
            'embedding_table': {'file': 'model.safetensors', 'tensor': 'model.embed_tokens.weight'},
            'training': {'steps': st.get('step'), 'tokens_seen': st.get('tokens'), 'train_minutes': round(st.get('elapsed', 0) / 60, 1)},
        },
    }
    json.dump(config, open(os.path.join(OUT, 'config.json'), 'w'), indent=2)
    json.dump({'bos_token_id': EOS, 'eos_token_id': EOS, 'pad_token_id': EOS, 'do_sample': False,
               'max_new_tokens': 64, 'transformers_version': '4.46.0'},
              open(os.path.join(OUT, 'generation_config.json'), 'w'), indent=2)
    onnx_dir = os.path.join(OUT, 'onnx')
    p1 = os.path.join(onnx_dir, 'model.onnx')
    p2 = os.path.join(onnx_dir, 'model_embeds.onnx')
    export_graph(model, p1, embeds=False)
    export_graph(model, p2, embeds=True)
    externalize([p1, p2], 'model.onnx_data')
    for p in (p1, p2):
        onnx.checker.check_model(p)


if __name__ == '__main__':
    main()
