"""PyTorch definitions of the two tiny models (training and export share them).

Decoder: Llama-style (RMSNorm, RoPE from position_ids, SwiGLU, grouped-query attention, KV cache in the HF ONNX
layout [batch, kv_heads, seq, head_dim]). Phi-3 flavour fuses qkv_proj / gate_up_proj as Phi-3 does.
LLaVA vision: CLIP-style tower (conv patchify, class token, position embeddings, pre-LN, encoder layers) and
LLaVA's two-layer GELU projector. Phi-3-V vision: a per-crop CLIP-like encoder (conv patchify, one layer),
Phi-3-V's 2x2 token merge and MLP projection, and its HD merge (sub-crops in a grid with a newline per row,
glb_GN separator, global image with its newlines).
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

MASKED = -1.0e9  # added to disallowed scores: fully masked rows give a uniform softmax, never NaN


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    def __init__(self, hidden: int, heads: int, kv_heads: int, fused: bool):
        super().__init__()
        self.h, self.kv, self.hd = heads, kv_heads, hidden // heads
        self.fused = fused
        if fused:
            self.qkv_proj = nn.Linear(hidden, (heads + 2 * kv_heads) * self.hd, bias=False)
        else:
            self.q_proj = nn.Linear(hidden, heads * self.hd, bias=False)
            self.k_proj = nn.Linear(hidden, kv_heads * self.hd, bias=False)
            self.v_proj = nn.Linear(hidden, kv_heads * self.hd, bias=False)
        self.o_proj = nn.Linear(heads * self.hd, hidden, bias=False)

    def forward(self, x, cos, sin, allowed, past_k, past_v):
        b, s, _ = x.shape
        if self.fused:
            qkv = self.qkv_proj(x)
            q = qkv[..., : self.h * self.hd]
            k = qkv[..., self.h * self.hd: (self.h + self.kv) * self.hd]
            v = qkv[..., (self.h + self.kv) * self.hd:]
        else:
            q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        q = q.view(b, s, self.h, self.hd).transpose(1, 2)
        k = k.view(b, s, self.kv, self.hd).transpose(1, 2)
        v = v.view(b, s, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        t = k.shape[2]
        rep = self.h // self.kv
        kr = k[:, :, None].expand(b, self.kv, rep, t, self.hd).reshape(b, self.h, t, self.hd)
        vr = v[:, :, None].expand(b, self.kv, rep, t, self.hd).reshape(b, self.h, t, self.hd)
        scores = torch.matmul(q, kr.transpose(2, 3)) / math.sqrt(self.hd)
        scores = scores.masked_fill(~allowed, MASKED)
        p = torch.softmax(scores, dim=-1)
        o = torch.matmul(p, vr).transpose(1, 2).reshape(b, s, self.h * self.hd)
        return self.o_proj(o), k, v


class MLP(nn.Module):
    def __init__(self, hidden: int, inter: int, fused: bool):
        super().__init__()
        self.fused = fused
        if fused:
            self.gate_up_proj = nn.Linear(hidden, 2 * inter, bias=False)
        else:
            self.gate_proj = nn.Linear(hidden, inter, bias=False)
            self.up_proj = nn.Linear(hidden, inter, bias=False)
        self.down_proj = nn.Linear(inter, hidden, bias=False)
        self.inter = inter

    def forward(self, x):
        if self.fused:
            gu = self.gate_up_proj(x)
            g, u = gu[..., : self.inter], gu[..., self.inter:]
        else:
            g, u = self.gate_proj(x), self.up_proj(x)
        return self.down_proj(F.silu(g) * u)


class Layer(nn.Module):
    def __init__(self, cfg: dict, fused: bool):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.self_attn = Attention(cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], fused)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.mlp = MLP(cfg["hidden_size"], cfg["intermediate_size"], fused)

    def forward(self, x, cos, sin, allowed, pk, pv):
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, allowed, pk, pv)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, k, v


class Decoder(nn.Module):
    """inputs_embeds [B,S,H], attention_mask int64 [B,P+S], position_ids int64 [B,S], past k/v per layer
    [B,kv,P,hd] -> logits [B,S,V], present k/v [B,kv,P+S,hd]."""

    def __init__(self, cfg: dict, fused: bool):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([Layer(cfg, fused) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        hd = cfg["hidden_size"] // cfg["num_attention_heads"]
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, inputs_embeds, attention_mask, position_ids, past, head: bool = True):
        x = inputs_embeds
        s = x.shape[1]
        t = attention_mask.shape[1]
        q_idx = torch.arange(s, device=x.device) + (t - s)
        k_idx = torch.arange(t, device=x.device)
        causal = k_idx[None, :] <= q_idx[:, None]
        allowed = causal[None, None, :, :] & (attention_mask[:, None, None, :] > 0)
        freqs = position_ids[:, :, None].to(torch.float32) * self.inv_freq[None, None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        presents = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, cos, sin, allowed, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        x = self.norm(x)
        return (self.lm_head(x) if head else x), presents

    def empty_past(self, b: int):
        hd = self.cfg["hidden_size"] // self.cfg["num_attention_heads"]
        z = torch.zeros(b, self.cfg["num_key_value_heads"], 0, hd)
        return [z] * (2 * self.cfg["num_hidden_layers"])


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


# ----------------------------------------------------------------------------------------------- LLaVA vision

class ClipLayer(nn.Module):
    def __init__(self, d: int, heads: int, inter: int, eps: float):
        super().__init__()
        self.h = heads
        self.layer_norm1 = nn.LayerNorm(d, eps=eps)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        self.layer_norm2 = nn.LayerNorm(d, eps=eps)
        self.fc1, self.fc2 = nn.Linear(d, inter), nn.Linear(inter, d)

    def forward(self, x):
        b, n, d = x.shape
        hd = self.q_proj.out_features // self.h
        y = self.layer_norm1(x)
        q = self.q_proj(y).view(b, n, self.h, hd).transpose(1, 2)
        k = self.k_proj(y).view(b, n, self.h, hd).transpose(1, 2)
        v = self.v_proj(y).view(b, n, self.h, hd).transpose(1, 2)
        p = torch.softmax(torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd), dim=-1)
        x = x + self.out_proj(torch.matmul(p, v).transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(quick_gelu(self.fc1(self.layer_norm2(x))))


class LlavaVision(nn.Module):
    """pixel_values [B,3,S,S] -> image_features [B, 1 + (S/p)^2, text_hidden]: CLIP tower up to
    vision_feature_layer (-2: the output of all but the last encoder layer), strategy 'full' (class token kept),
    then the projector."""

    def __init__(self, vcfg: dict, text_hidden: int, layers_used: int):
        super().__init__()
        d, p, s = vcfg["hidden_size"], vcfg["patch_size"], vcfg["image_size"]
        self.patch_embedding = nn.Conv2d(3, d, p, p, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(d) * 0.02)
        self.position_embedding = nn.Parameter(torch.randn((s // p) ** 2 + 1, d) * 0.02)
        self.pre_layrnorm = nn.LayerNorm(d, eps=vcfg["layer_norm_eps"])
        self.layers = nn.ModuleList(
            [ClipLayer(d, vcfg["num_attention_heads"], vcfg["intermediate_size"], vcfg["layer_norm_eps"])
             for _ in range(layers_used)])
        self.linear_1 = nn.Linear(d, text_hidden)
        self.linear_2 = nn.Linear(text_hidden, text_hidden)

    def forward(self, pixel_values):
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding[None, None, :].expand(x.shape[0], 1, x.shape[2])
        x = torch.cat([cls, x], dim=1) + self.position_embedding[None]
        x = self.pre_layrnorm(x)
        for layer in self.layers:
            x = layer(x)
        return self.linear_2(F.gelu(self.linear_1(x)))


# ----------------------------------------------------------------------------------------------- Phi-3-V vision

class Phi3Crop(nn.Module):
    """Per 336x336 crop: conv patchify (frozen) -> 8x8 tokens -> position embedding, pre-LN, one CLIP layer ->
    2x2 merge (Phi-3-V's order) -> 4x4 tokens of 4*C -> MLP projection to the text width."""

    def __init__(self, c: int, patch: int, crop: int, text_hidden: int):
        super().__init__()
        self.g = crop // patch
        self.c = c
        self.patch_embedding = nn.Conv2d(3, c, patch, patch, bias=False)
        self.position_embedding = nn.Parameter(torch.randn(self.g * self.g, c) * 0.02)
        self.pre_layrnorm = nn.LayerNorm(c, eps=1e-5)
        self.layer = ClipLayer(c, 4, 4 * c, 1e-5)
        self.sub_GN = nn.Parameter(torch.randn(4 * c) * 0.02)
        self.glb_GN = nn.Parameter(torch.randn(4 * c) * 0.02)
        self.proj_0 = nn.Linear(4 * c, text_hidden)
        self.proj_2 = nn.Linear(text_hidden, text_hidden)

    def conv(self, pixels):  # [M,3,336,336] -> [M,C,g,g]
        return self.patch_embedding(pixels)

    def after_conv(self, feats):  # [M,C,g,g] -> [M, g/2, g/2, 4C] (before projection)
        m = feats.shape[0]
        x = feats.flatten(2).transpose(1, 2) + self.position_embedding[None]
        x = self.layer(self.pre_layrnorm(x))
        g, c = self.g, self.c
        x = x.reshape(m, g // 2, 2, g // 2, 2, c).permute(0, 1, 3, 2, 4, 5).reshape(m, g // 2, g // 2, 4 * c)
        return x

    def project(self, x):
        return self.proj_2(F.gelu(self.proj_0(x)))

    def hd_merge(self, tokens, h: int, w: int, sub_nl, glb_sep):
        """tokens [1 + C, t, t, D] of one image (global first); h x w sub-crops used. Returns [n, D]."""
        t, d = tokens.shape[1], tokens.shape[3]
        glb = tokens[0]
        sub = tokens[1: 1 + h * w].reshape(h, w, t, t, d).permute(0, 2, 1, 3, 4).reshape(h * t, w * t, d)
        sub = torch.cat([sub, sub_nl.expand(h * t, 1, d)], dim=1).reshape(-1, d)
        glb = torch.cat([glb, sub_nl.expand(t, 1, d)], dim=1).reshape(-1, d)
        return torch.cat([sub, glb_sep.reshape(1, d), glb], dim=0)

    def image_features(self, conv_feats, sizes, crop: int = 336):
        """conv_feats [N, 1+C, Cv, g, g]; sizes [(h, w)] padded sizes -> [total, H] (projection applied to every
        row, separators included, as Phi-3-V projects the merged sequence)."""
        n, k = conv_feats.shape[:2]
        tok = self.after_conv(conv_feats.reshape(n * k, *conv_feats.shape[2:]))
        tok = tok.reshape(n, k, *tok.shape[1:])
        outs = []
        for i in range(n):
            h, w = int(sizes[i][0]) // crop, int(sizes[i][1]) // crop
            outs.append(self.hd_merge(tok[i], h, w, self.sub_GN[None, None, :], self.glb_GN))
        return self.project(torch.cat(outs, 0))


def phi3v_num_tokens(h: int, w: int, num_img_tokens: int, crop: int = 336) -> int:
    """transformers.js Phi3VImageProcessor.calc_num_image_tokens_from_image_size."""
    hc, wc = h // crop, w // crop
    return int((hc * wc + 1) * num_img_tokens + 1 + (hc + 1) * math.isqrt(num_img_tokens))
