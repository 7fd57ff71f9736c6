"""Family 1: a Q-Former projector (BLIP-2, InstructBLIP, Video-LLaMA, Qwen-VL v1's resampler).

Learned queries cross-attend to the frozen image encoder's 16 feature tokens and come out as a fixed number of LLM
embeddings per image (BLIP-2: 32 of 257; here 8 of 16), whatever the image. Instruction-aware as in InstructBLIP:
the tokens of the instruction (the text of the message that holds the image) share the Q-Former's self-attention
with the queries, so the queries can pick out what the question asks about. Only the Q-Former trains; the image
encoder and the LLM are mmserve-tiny's, frozen (BLIP-2 freezes both).

The plain (instruction-free) BLIP-2 form is the same weights with no instruction tokens: training drops the
instruction from a quarter of the samples, and `forward_plain` exports that form as its own component.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmtiny import model as M

N_QUERIES = 8
WIDTH = 128
HEADS = 4
LAYERS = 2
FFN = 256
MAX_INSTRUCTION = 24  # instruction tokens fed to the Q-Former (longer instructions are cut; shorter ones padded)
MASK_VALUE = -1e9  # masked keys get exp() == 0 exactly, so padded instruction slots change nothing


def attend(q_in, kv_in, q_proj, k_proj, v_proj, o_proj, key_bias):
    b, s, _ = q_in.shape
    t = kv_in.shape[1]
    hd = WIDTH // HEADS
    q = q_proj(q_in).view(b, s, HEADS, hd).transpose(1, 2)
    k = k_proj(kv_in).view(b, t, HEADS, hd).transpose(1, 2)
    v = v_proj(kv_in).view(b, t, HEADS, hd).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(hd))
    if key_bias is not None:
        scores = scores + key_bias[:, None, None, :]
    out = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, WIDTH)
    return o_proj(out)


class QFormerLayer(nn.Module):
    """Self-attention over queries + instruction tokens, cross-attention of the queries to the image, MLP."""

    def __init__(self):
        super().__init__()
        lin = lambda: nn.Linear(WIDTH, WIDTH)  # noqa: E731
        self.self_q, self.self_k, self.self_v, self.self_o = lin(), lin(), lin(), lin()
        self.cross_q, self.cross_k, self.cross_v, self.cross_o = lin(), lin(), lin(), lin()
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.fc1, self.fc2 = nn.Linear(WIDTH, FFN), nn.Linear(FFN, WIDTH)

    def forward(self, x, key_bias, image):
        h = self.norm1(x)
        x = x + attend(h, h, self.self_q, self.self_k, self.self_v, self.self_o, key_bias)
        q, rest = x[:, :N_QUERIES], x[:, N_QUERIES:]  # only the queries look at the image (BLIP-2)
        q = q + attend(self.norm2(q), image, self.cross_q, self.cross_k, self.cross_v, self.cross_o, None)
        x = torch.cat([q, rest], dim=1)
        return x + self.fc2(F.gelu(self.fc1(self.norm3(x))))


class QFormer(nn.Module):
    def __init__(self, vocab: int):
        super().__init__()
        self.queries = nn.Parameter(torch.randn(1, N_QUERIES, WIDTH) * 0.02)
        self.image_in = nn.Linear(M.ENC_DIM, WIDTH)
        self.image_norm = nn.LayerNorm(WIDTH)
        self.text_embed = nn.Embedding(vocab, WIDTH)  # its own table over the LLM's token ids (InstructBLIP: BERT's)
        self.text_pos = nn.Parameter(torch.zeros(1, MAX_INSTRUCTION, WIDTH))
        self.layers = nn.ModuleList([QFormerLayer() for _ in range(LAYERS)])
        self.out_norm = nn.LayerNorm(WIDTH)
        self.out = nn.Linear(WIDTH, M.D_MODEL)
        nn.init.normal_(self.text_embed.weight, std=0.02)

    def _run(self, image_features, text, key_bias):
        image = self.image_norm(self.image_in(image_features))
        x = self.queries.expand(image_features.shape[0], N_QUERIES, WIDTH)
        if text is not None:
            x = torch.cat([x, text], dim=1)
        for layer in self.layers:
            x = layer(x, key_bias, image)
        return self.out(self.out_norm(x[:, :N_QUERIES]))

    def forward(self, image_features, instruction_ids, instruction_mask):
        """image_features [B, 16, 96], instruction_ids / instruction_mask [B, MAX_INSTRUCTION] -> [B, N_QUERIES, 128]."""
        b = image_features.shape[0]
        text = self.text_embed(instruction_ids) + self.text_pos
        keys = torch.cat([torch.ones(b, N_QUERIES, dtype=instruction_mask.dtype), instruction_mask], dim=1)
        key_bias = torch.where(keys > 0, torch.zeros((), dtype=torch.float32), torch.full((), MASK_VALUE, dtype=torch.float32))
        return self._run(image_features, text, key_bias)

    def forward_plain(self, image_features):
        """BLIP-2's form: no instruction (what forward computes with an all-zero instruction_mask)."""
        return self._run(image_features, None, None)


class Plain(nn.Module):
    def __init__(self, q: QFormer):
        super().__init__()
        self.q = q

    def forward(self, image_features):
        return self.q.forward_plain(image_features)


def instruction_ids(tok, text: str, pad_id: int) -> tuple[list[int], list[int]]:
    """The instruction's token ids (plain text, no special tokens), cut to MAX_INSTRUCTION, padded; and its mask."""
    ids = tok.encode(text, allow_special=False)[:MAX_INSTRUCTION]
    n = len(ids)
    return ids + [pad_id] * (MAX_INSTRUCTION - n), [1] * n + [0] * (MAX_INSTRUCTION - n)
