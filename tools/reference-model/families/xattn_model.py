"""Gated cross-attention (Flamingo / OpenFlamingo / IDEFICS) around mmserve-tiny's frozen decoder.

New, trained parts: a resampler (mmserve-tiny's image projector, copied and fine-tuned) that turns the frozen image
encoder's 16 grid features into 16 media tokens, and gated cross-attention blocks inserted before some decoder
layers. Each block is  x += tanh(attn_gate) * CrossAttn(norm(x), media)  then  x += tanh(ffn_gate) * FFN(norm(x)),
both gates initialised at 0 so training starts from the frozen LLM exactly.

Which media a text position sees (the rule the server implements, docs/model-bundle.md "Gated cross-attention"):
position p attends only to the media tokens of the most recent image whose marker token sits at or before p
(OpenFlamingo's cumsum of media locations: the marker itself already sees its image). Positions before the first
marker see no image; for them the whole block is skipped (attention and FFN), so a text-only prompt runs exactly
mmserve-tiny's decoder.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmtiny import model as M

XATTN_BEFORE = (0, 2)  # a gated cross-attention block before these decoder layers (every second layer)
X_HEADS = 4
X_HEAD_DIM = 32
X_FFN = 256
MEDIA_TOKENS = M.IMAGE_TOKENS  # media tokens per image (one per cell of the encoder's 4x4 grid)


class GatedCrossAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.media_norm = M.RMSNorm(M.D_MODEL)
        self.norm = M.RMSNorm(M.D_MODEL)
        self.q_proj = nn.Linear(M.D_MODEL, X_HEADS * X_HEAD_DIM, bias=False)
        self.k_proj = nn.Linear(M.D_MODEL, X_HEADS * X_HEAD_DIM, bias=False)
        self.v_proj = nn.Linear(M.D_MODEL, X_HEADS * X_HEAD_DIM, bias=False)
        self.o_proj = nn.Linear(X_HEADS * X_HEAD_DIM, M.D_MODEL, bias=False)
        self.ffn_norm = M.RMSNorm(M.D_MODEL)
        self.ffn_in = nn.Linear(M.D_MODEL, X_FFN)
        self.ffn_out = nn.Linear(X_FFN, M.D_MODEL)
        self.attn_gate = nn.Parameter(torch.zeros(1))
        self.ffn_gate = nn.Parameter(torch.zeros(1))

    def kv(self, media):
        """media [B, M, D] -> key, value [B, heads, M, head_dim]: what the server computes once per request."""
        b, n, _ = media.shape
        x = self.media_norm(media)
        k = self.k_proj(x).view(b, n, X_HEADS, X_HEAD_DIM).transpose(1, 2)
        v = self.v_proj(x).view(b, n, X_HEADS, X_HEAD_DIM).transpose(1, 2)
        return k, v

    def forward(self, x, k, v, media_mask):
        """x [B, S, D]; k, v [B, heads, M, head_dim]; media_mask [B, S, M] (1 = may attend)."""
        b, s, _ = x.shape
        q = self.q_proj(self.norm(x)).view(b, s, X_HEADS, X_HEAD_DIM).transpose(1, 2)
        allowed = media_mask > 0
        bias = torch.where(allowed, torch.zeros((), dtype=torch.float32), torch.full((), M.MASK_VALUE, dtype=torch.float32))
        scores = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(X_HEAD_DIM)) + bias[:, None]
        out = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, X_HEADS * X_HEAD_DIM)
        # 1 where the position has an image to look at; the finite mask value keeps masked rows finite, this zeroes them
        sees = allowed.any(dim=-1, keepdim=True).to(torch.float32)  # [B, S, 1]
        x = x + torch.tanh(self.attn_gate) * self.o_proj(out) * sees
        x = x + torch.tanh(self.ffn_gate) * self.ffn_out(F.gelu(self.ffn_in(self.ffn_norm(x)))) * sees
        return x


class FlamingoLM(nn.Module):
    """mmserve-tiny's decoder (frozen) with gated cross-attention blocks before the layers in XATTN_BEFORE."""

    def __init__(self, llm: M.LLM):
        super().__init__()
        self.llm = llm
        self.xattn = nn.ModuleList([GatedCrossAttention() for _ in XATTN_BEFORE])

    def cross_kv(self, media):
        """media [B, M, D] -> [(k, v)] per cross-attention block."""
        return [block.kv(media) for block in self.xattn]

    def forward(self, inputs_embeds, attention_mask, position_ids, media_mask, cross, past=None):
        """As M.LLM.forward, plus media_mask [B, S, M] and cross = [(k, v)] per block."""
        s = inputs_embeds.shape[1]
        past_len = past[0][0].shape[2] if past is not None else 0
        bias = M.attention_bias(attention_mask, past_len, s)
        cos, sin = M.rope(position_ids)
        x = inputs_embeds
        presents = []
        for i, layer in enumerate(self.llm.layers):
            if i in XATTN_BEFORE:
                j = XATTN_BEFORE.index(i)
                x = self.xattn[j](x, cross[j][0], cross[j][1], media_mask)
            pk, pv = (past[i] if past is not None else (None, None))
            x, k, v = layer(x, cos, sin, bias, pk, pv)
            presents.append((k, v))
        h = self.llm.norm(x)
        return self.llm.lm_head(h), h, presents


def media_mask(position_ids: torch.Tensor, markers: list[list[int]], media_len: int) -> torch.Tensor:
    """[B, S, media_len] int64: position p of row b sees the media tokens of its most recent image (marker <= p).

    markers[b] are the prompt positions of row b's image markers, in order; image k owns media tokens
    [k * MEDIA_TOKENS, (k + 1) * MEDIA_TOKENS) of the row's cross K/V (rows with fewer images are zero-padded)."""
    b, s = position_ids.shape
    image_of_token = torch.arange(media_len) // MEDIA_TOKENS  # [M]
    out = torch.zeros(b, s, media_len, dtype=torch.long)
    for r in range(b):
        if not markers[r]:
            continue
        latest = (position_ids[r][:, None] >= torch.tensor(markers[r])[None, :]).sum(dim=1) - 1  # [S]; -1: no image yet
        out[r] = ((image_of_token[None, :] == latest[:, None]) & (latest[:, None] >= 0)).long()
    return out


def stack_media(per_row: list[torch.Tensor | None]) -> torch.Tensor:
    """Rows' media tokens [n_i * MEDIA_TOKENS, D] zero-padded to one [B, M, D] (M >= 1: a row of zeros when none)."""
    n = max([1] + [t.shape[0] for t in per_row if t is not None])
    out = torch.zeros(len(per_row), n, M.D_MODEL)
    for r, t in enumerate(per_row):
        if t is not None:
            out[r, :t.shape[0]] = t
    return out


class BoundLM:
    """FlamingoLM bound to one batch's media, with the M.LLM call signature that mmtiny.generate.greedy uses."""

    def __init__(self, lm: FlamingoLM, media: torch.Tensor, markers: list[list[int]]):
        self.lm = lm
        self.cross = lm.cross_kv(media)
        self.markers = markers
        self.media_len = media.shape[1]
        self.embed_tokens = lm.llm.embed_tokens

    def __call__(self, inputs_embeds, attention_mask, position_ids, past=None):
        mask = media_mask(position_ids, self.markers, self.media_len)
        # left padding: padded slots (position 0, attention_mask 0) never sit after a marker, so they see nothing
        return self.lm(inputs_embeds, attention_mask, position_ids, mask, self.cross, past)
