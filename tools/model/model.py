"""Llama-architecture decoder in plain PyTorch with Hugging Face weight names.

RMSNorm, rotary embeddings (HF rotate_half convention), SwiGLU MLP, grouped-query attention,
tied input/output embeddings, no biases.  forward() supports past key/values and an additive mask
built from attention_mask (padding) + causality over past+current positions, so the same code is
used for training and for the ONNX export.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = dict(
    vocab_size=4096, hidden_size=256, intermediate_size=704, num_hidden_layers=5,
    num_attention_heads=8, num_key_value_heads=4, head_dim=32, max_position_embeddings=1024,
    rms_norm_eps=1e-5, rope_theta=10000.0,
)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.nh, self.nkv, self.hd = c['num_attention_heads'], c['num_key_value_heads'], c['head_dim']
        H = c['hidden_size']
        self.q_proj = nn.Linear(H, self.nh * self.hd, bias=False)
        self.k_proj = nn.Linear(H, self.nkv * self.hd, bias=False)
        self.v_proj = nn.Linear(H, self.nkv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.nh * self.hd, H, bias=False)

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        rep = self.nh // self.nkv
        if rep > 1:  # HF repeat_kv: each KV head serves `rep` consecutive query heads
            S = k.shape[2]
            kk = k[:, :, None].expand(B, self.nkv, rep, S, self.hd).reshape(B, self.nh, S, self.hd)
            vv = v[:, :, None].expand(B, self.nkv, rep, S, self.hd).reshape(B, self.nh, S, self.hd)
        else:
            kk, vv = k, v
        att = torch.matmul(q, kk.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd))
        att = att + mask
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, vv).transpose(1, 2).reshape(B, T, self.nh * self.hd)
        return self.o_proj(y), present


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, I = c['hidden_size'], c['intermediate_size']
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])
        self.post_attention_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class Inner(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c['vocab_size'], c['hidden_size'])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c['num_hidden_layers'])])
        self.norm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])


class LlamaForCausalLM(nn.Module):
    def __init__(self, c=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(c or {}))
        c = self.config
        self.model = Inner(c)
        hd = c['head_dim']
        inv_freq = 1.0 / (c['rope_theta'] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        self.register_buffer('inv_freq', inv_freq, persistent=False)
        self.apply(self._init)
        for n, p in self.named_parameters():
            if n.endswith('o_proj.weight') or n.endswith('down_proj.weight'):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * c['num_hidden_layers']))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def rope(self, position_ids):
        freqs = position_ids.to(torch.float32)[:, :, None] * self.inv_freq[None, None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        return emb.cos()[:, None], emb.sin()[:, None]

    def forward(self, input_ids=None, inputs_embeds=None, attention_mask=None, position_ids=None, past=None):
        """past: list of (k, v) per layer or None.  attention_mask: [B, past+T] (1 = attend).
        Returns logits [B, T, V] and presents."""
        x = self.model.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds
        B, T = x.shape[0], x.shape[1]
        P = past[0][0].shape[2] if past is not None else 0
        if position_ids is None:
            position_ids = torch.arange(P, P + T, dtype=torch.long)[None].expand(B, T)
        cos, sin = self.rope(position_ids)
        # causal: query i (absolute P+i) may see key j iff j <= P+i
        qpos = torch.arange(T)[:, None] + P
        kpos = torch.arange(P + T)[None, :]
        allowed = (kpos <= qpos)[None, None]
        if attention_mask is not None:
            allowed = allowed & (attention_mask[:, None, None, :] > 0)
        mask = (~allowed).to(x.dtype) * -1e9   # additive mask [B or 1, 1, T, P+T]
        presents = []
        for i, layer in enumerate(self.model.layers):
            pk, pv = past[i] if past is not None else (None, None)
            x, pr = layer(x, cos, sin, mask, pk, pv)
            presents.append(pr)
        x = self.model.norm(x)
        logits = F.linear(x, self.model.embed_tokens.weight)
        return logits, presents

    def hf_state_dict(self):
        return {k: v for k, v in self.state_dict().items() if k != 'inv_freq'}
