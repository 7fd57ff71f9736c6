"""A decoder-only LLM with the maths of Hugging Face's Llama / Qwen2 / Phi-3 (eager attention), small enough to
train here in minutes, and the flat-argument wrapper exported to ONNX in the Optimum / transformers.js layout."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_VALUE = -1e9  # additive and finite: a query row whose keys are all masked (left padding) stays finite


@dataclass
class Arch:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    rms_norm_eps: float
    rope_theta: float
    qkv_bias: bool = False  # Qwen2: q/k/v projections have biases
    fused: bool = False  # Phi-3: qkv_proj and gate_up_proj are single matrices
    tie_word_embeddings: bool = False
    rope_scaling: dict | None = None  # Llama 3.1's {"rope_type": "llama3", ...} or None


def inv_freq(a: Arch) -> torch.Tensor:
    """HF's rotary inverse frequencies, with Llama 3.1's "llama3" scaling when configured
    (transformers' modeling_rope_utils._compute_llama3_parameters)."""
    f = 1.0 / (a.rope_theta ** (torch.arange(0, a.head_dim, 2, dtype=torch.int64).float() / a.head_dim))
    rs = a.rope_scaling
    if rs is None:
        return f
    assert rs["rope_type"] == "llama3"
    factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
    low_freq_wavelen = old / lo
    high_freq_wavelen = old / hi
    wavelen = 2 * math.pi / f
    scaled = torch.where(wavelen > low_freq_wavelen, f / factor, f)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium, smoothed, scaled)


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, a: Arch):
        super().__init__()
        self.a = a
        H, KV, D = a.num_attention_heads, a.num_key_value_heads, a.head_dim
        if a.fused:
            self.qkv_proj = nn.Linear(a.hidden_size, (H + 2 * KV) * D, bias=False)
        else:
            self.q_proj = nn.Linear(a.hidden_size, H * D, bias=a.qkv_bias)
            self.k_proj = nn.Linear(a.hidden_size, KV * D, bias=a.qkv_bias)
            self.v_proj = nn.Linear(a.hidden_size, KV * D, bias=a.qkv_bias)
        self.o_proj = nn.Linear(H * D, a.hidden_size, bias=False)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        a = self.a
        H, KV, D = a.num_attention_heads, a.num_key_value_heads, a.head_dim
        b, s, _ = x.shape
        if a.fused:
            qkv = self.qkv_proj(x)
            q, k, v = qkv[..., : H * D], qkv[..., H * D: (H + KV) * D], qkv[..., (H + KV) * D:]
        else:
            q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        q = q.view(b, s, H, D).transpose(1, 2)
        k = k.view(b, s, KV, D).transpose(1, 2)
        v = v.view(b, s, KV, D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        rep = H // KV
        # query head h uses key/value head h // rep (HF's repeat_kv); the rep query heads of a group are stacked
        # along the rows instead of copying the keys and values per query head: the same dot products.
        qg = q.reshape(b, KV, rep * s, D)
        scores = torch.matmul(qg, k.transpose(2, 3)) * (1.0 / math.sqrt(D)) + bias.repeat(1, 1, rep, 1)
        out = torch.matmul(torch.softmax(scores, dim=-1), v).reshape(b, H, s, D)
        out = out.transpose(1, 2).reshape(b, s, H * D)
        return self.o_proj(out), k, v


class MLP(nn.Module):
    def __init__(self, a: Arch):
        super().__init__()
        self.a = a
        if a.fused:
            self.gate_up_proj = nn.Linear(a.hidden_size, 2 * a.intermediate_size, bias=False)
        else:
            self.gate_proj = nn.Linear(a.hidden_size, a.intermediate_size, bias=False)
            self.up_proj = nn.Linear(a.hidden_size, a.intermediate_size, bias=False)
        self.down_proj = nn.Linear(a.intermediate_size, a.hidden_size, bias=False)

    def forward(self, x):
        if self.a.fused:
            gu = self.gate_up_proj(x)
            gate, up = gu[..., : self.a.intermediate_size], gu[..., self.a.intermediate_size:]
        else:
            gate, up = self.gate_proj(x), self.up_proj(x)
        return self.down_proj(F.silu(gate) * up)


class Layer(nn.Module):
    def __init__(self, a: Arch):
        super().__init__()
        self.input_layernorm = RMSNorm(a.hidden_size, a.rms_norm_eps)
        self.self_attn = Attention(a)
        self.post_attention_layernorm = RMSNorm(a.hidden_size, a.rms_norm_eps)
        self.mlp = MLP(a)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        h, k, v = self.self_attn(self.input_layernorm(x), cos, sin, bias, past_k, past_v)
        x = x + h
        return x + self.mlp(self.post_attention_layernorm(x)), k, v


def attention_bias(attention_mask, past_len, seq_len):
    """[B,1,S,T] additive bias: key j is visible to query i iff j <= past_len + i and attention_mask[b, j] == 1."""
    total = attention_mask.shape[1]
    key = torch.arange(total)[None, :]
    query = (torch.arange(seq_len) + past_len)[:, None]
    allowed = (key <= query)[None, None] & (attention_mask[:, None, None, :] > 0)
    return torch.where(allowed, torch.zeros((), dtype=torch.float32), torch.full((), MASK_VALUE, dtype=torch.float32))


class CausalLM(nn.Module):
    def __init__(self, a: Arch):
        super().__init__()
        self.a = a
        self.embed_tokens = nn.Embedding(a.vocab_size, a.hidden_size)
        self.layers = nn.ModuleList([Layer(a) for _ in range(a.num_hidden_layers)])
        self.norm = RMSNorm(a.hidden_size, a.rms_norm_eps)
        if not a.tie_word_embeddings:
            self.lm_head = nn.Linear(a.hidden_size, a.vocab_size, bias=False)
        self.register_buffer("inv_freq", inv_freq(a), persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)

    def head(self, h):
        return F.linear(h, self.embed_tokens.weight) if self.a.tie_word_embeddings else self.lm_head(h)

    def hidden(self, input_ids, attention_mask, position_ids, past=None):
        s = input_ids.shape[1]
        past_len = past[0][0].shape[2] if past is not None else 0
        bias = attention_bias(attention_mask, past_len, s)
        freqs = position_ids.to(torch.float32)[..., None] * self.inv_freq
        emb = torch.cat([freqs, freqs], dim=-1)[:, None]
        cos, sin = emb.cos(), emb.sin()
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = past[i] if past is not None else (None, None)
            x, k, v = layer(x, cos, sin, bias, pk, pv)
            presents.append((k, v))
        return self.norm(x), presents

    def forward(self, input_ids, attention_mask, position_ids, past=None):
        h, presents = self.hidden(input_ids, attention_mask, position_ids, past)
        return self.head(h), presents


class OnnxDecoder(nn.Module):
    """input_ids, attention_mask, position_ids, past_key_values.{i}.key/value -> logits, present.{i}.key/value."""

    def __init__(self, m: CausalLM):
        super().__init__()
        self.model = m  # initializers are named model.embed_tokens.weight, model.layers.0..., as in HF exports

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        n = self.model.a.num_hidden_layers
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(n)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        return (logits, *[t for kv in presents for t in kv])


@torch.no_grad()
def greedy(m: CausalLM, prompt: list[int], max_new: int, eos: set[int]):
    """Greedy decoding with the KV cache, one sequence; returns (new ids, top1 - top2 margin at every step)."""
    m.eval()
    a = m.a
    ids = torch.tensor([prompt])
    past = [(torch.zeros(1, a.num_key_value_heads, 0, a.head_dim), torch.zeros(1, a.num_key_value_heads, 0, a.head_dim))
            for _ in range(a.num_hidden_layers)]
    out, margins, total = [], [], len(prompt)
    pos = torch.arange(total)[None]
    x = ids
    while len(out) < max_new:
        logits, past = m(x, torch.ones(1, total, dtype=torch.long), pos, past)
        top = torch.topk(logits[0, -1], 2)
        margins.append(float(top.values[0] - top.values[1]))
        t = int(top.indices[0])
        out.append(t)
        if t in eos:
            break
        x = torch.tensor([[t]])
        pos = torch.tensor([[total]])
        total += 1
    return out, margins
