"""The five MM-LLM parts of mmserve-tiny as separate torch modules (each exported to its own ONNX file)."""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import world

D_MODEL = 128
N_LAYERS = 4
N_HEADS = 4
N_KV_HEADS = 2
HEAD_DIM = 32
FFN = 352
ROPE_THETA = 10000.0
ENC_DIM = 96
IMAGE_TOKENS = 16
AUDIO_TOKENS = 8
VIDEO_TOKENS = world.FRAMES
COND_DIM = 64
SIGNAL_TOKENS = 4
MASK_VALUE = -1e9  # finite, so rows with every key masked (left padding) stay finite instead of NaN


# ------------------------------------------------------------------ LLM backbone (Llama-style)
class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(position_ids: torch.Tensor):
    """cos/sin [B, 1, S, head_dim] from explicit position ids, so padded rows rotate correctly."""
    inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float32) / HEAD_DIM))
    freqs = position_ids.to(torch.float32)[..., None] * inv_freq  # [B,S,hd/2]
    emb = torch.cat([freqs, freqs], dim=-1)[:, None]
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj = nn.Linear(D_MODEL, N_HEADS * HEAD_DIM, bias=False)
        self.k_proj = nn.Linear(D_MODEL, N_KV_HEADS * HEAD_DIM, bias=False)
        self.v_proj = nn.Linear(D_MODEL, N_KV_HEADS * HEAD_DIM, bias=False)
        self.o_proj = nn.Linear(N_HEADS * HEAD_DIM, D_MODEL, bias=False)

    # Export only (export.Decoder sets it): attend per key/value head with the query heads of a group stacked,
    # instead of materialising the keys and values repeated per query head. The same dot products and softmax,
    # so the same numbers (checked in export.py); the ONNX graph loses an Expand copy of the whole KV cache per
    # layer and step. Training never sets it, so the recipe's checkpoint does not depend on it.
    grouped_kv = False

    def forward(self, x, cos, sin, bias, past_k, past_v):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, N_HEADS, HEAD_DIM).transpose(1, 2)
        k = self.k_proj(x).view(b, s, N_KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = self.v_proj(x).view(b, s, N_KV_HEADS, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        present_k, present_v = k, v
        rep = N_HEADS // N_KV_HEADS
        if self.grouped_kv:
            # query heads h = kv * rep + r: rows (r, i) of group kv attend to that group's keys
            qg = q.reshape(b, N_KV_HEADS, rep * s, HEAD_DIM)
            scores = torch.matmul(qg, k.transpose(2, 3)) * (1.0 / math.sqrt(HEAD_DIM)) + bias.repeat(1, 1, rep, 1)
            out = torch.matmul(torch.softmax(scores, dim=-1), v).reshape(b, N_HEADS, s, HEAD_DIM)
        else:
            t = k.shape[2]
            k = k[:, :, None].expand(b, N_KV_HEADS, rep, t, HEAD_DIM).reshape(b, N_HEADS, t, HEAD_DIM)
            v = v[:, :, None].expand(b, N_KV_HEADS, rep, t, HEAD_DIM).reshape(b, N_HEADS, t, HEAD_DIM)
            scores = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(HEAD_DIM)) + bias
            out = torch.matmul(torch.softmax(scores, dim=-1), v)
        out = out.transpose(1, 2).reshape(b, s, N_HEADS * HEAD_DIM)
        return self.o_proj(out), present_k, present_v


class SwiGLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate_proj = nn.Linear(D_MODEL, FFN, bias=False)
        self.up_proj = nn.Linear(D_MODEL, FFN, bias=False)
        self.down_proj = nn.Linear(FFN, D_MODEL, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm = RMSNorm(D_MODEL)
        self.self_attn = Attention()
        self.post_attention_layernorm = RMSNorm(D_MODEL)
        self.mlp = SwiGLU()

    def forward(self, x, cos, sin, bias, past_k, past_v):
        a, pk, pv = self.self_attn(self.input_layernorm(x), cos, sin, bias, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, pk, pv


def attention_bias(attention_mask: torch.Tensor, past_len, seq_len):
    """[B,1,S,P+S] additive bias: key k visible to query i iff k <= P+i and attention_mask[b,k] == 1.

    Rows are aligned on the right: a batch of rows with different lengths is left-padded, and padded
    slots carry attention_mask 0. position_ids carry each row's own positions.
    """
    total = attention_mask.shape[1]
    key = torch.arange(total)[None, :]
    query = (torch.arange(seq_len) + past_len)[:, None]
    causal = key <= query  # [S, T]
    allowed = causal[None, None] & (attention_mask[:, None, None, :] > 0)
    return torch.where(allowed, torch.zeros((), dtype=torch.float32), torch.full((), MASK_VALUE, dtype=torch.float32))


class LLM(nn.Module):
    def __init__(self, vocab_size: int):
        super().__init__()
        self.vocab_size = vocab_size
        self.embed_tokens = nn.Embedding(vocab_size, D_MODEL)
        self.layers = nn.ModuleList([Block() for _ in range(N_LAYERS)])
        self.norm = RMSNorm(D_MODEL)
        nn.init.normal_(self.embed_tokens.weight, std=0.02)

    def lm_head(self, h):
        return F.linear(h, self.embed_tokens.weight)  # tied

    def forward(self, inputs_embeds, attention_mask, position_ids, past=None):
        """past: list of (k, v) per layer or None. Returns logits, last_hidden_state, presents."""
        s = inputs_embeds.shape[1]
        past_len = past[0][0].shape[2] if past is not None else 0
        bias = attention_bias(attention_mask, past_len, s)
        cos, sin = rope(position_ids)
        x = inputs_embeds
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = (past[i] if past is not None else (None, None))
            x, k, v = layer(x, cos, sin, bias, pk, pv)
            presents.append((k, v))
        h = self.norm(x)
        return self.lm_head(h), h, presents


# ------------------------------------------------------------------ modality encoders (pre-trained, then frozen)
class ImageEncoder(nn.Module):
    """64x64 RGB -> 16 tokens (a 4x4 grid) of ENC_DIM features."""

    def __init__(self):
        super().__init__()
        ch = [3, 32, 48, 64, 96, ENC_DIM]
        layers = []
        for i in range(5):
            # BatchNorm speeds up pre-training a lot; in eval mode it folds into the conv at export
            layers += [nn.Conv2d(ch[i], ch[i + 1], 3, stride=1 if i == 0 else 2, padding=1), nn.BatchNorm2d(ch[i + 1]), nn.GELU()]
        self.convs = nn.Sequential(*layers)
        self.pos = nn.Parameter(torch.zeros(1, IMAGE_TOKENS, ENC_DIM))
        self.norm = nn.LayerNorm(ENC_DIM)

    def forward(self, pixel_values):
        f = self.convs(pixel_values)  # [B, C, 4, 4]
        f = f.flatten(2).transpose(1, 2).contiguous()  # [B, 16, C] (contiguous: see AudioEncoder)
        return self.norm(f + self.pos)


class ImageEncoderPretrainHead(nn.Module):
    """Per-quadrant attribute classifier + centre regression: the encoder's stand-in for CLIP pre-training."""

    def __init__(self):
        super().__init__()
        self.colour = nn.Linear(ENC_DIM, len(world.COLOUR_NAMES) + 1)
        self.shape = nn.Linear(ENC_DIM, len(world.SHAPES) + 1)
        self.size = nn.Linear(ENC_DIM, len(world.SIZES) + 1)
        self.centre = nn.Linear(ENC_DIM * IMAGE_TOKENS, 2)

    def forward(self, tokens):
        g = tokens.view(-1, 4, 4, ENC_DIM)
        quads = torch.stack([g[:, :2, :2].mean((1, 2)), g[:, :2, 2:].mean((1, 2)),
                             g[:, 2:, :2].mean((1, 2)), g[:, 2:, 2:].mean((1, 2))], dim=1)
        return self.colour(quads), self.shape(quads), self.size(quads), self.centre(tokens.flatten(1))


class AudioEncoder(nn.Module):
    """log-mel [B, 40, 198] -> 8 tokens of ENC_DIM features.

    The 1-D convolutions over time are written as Conv2d with (1, k) kernels on [B, mels, 1, frames]:
    Debian's torch 1.13 Conv1d backward returned garbage gradients here (training diverged to NaN),
    while its Conv2d path (also used by the image encoder) is sound. The exported ONNX is the same Conv op.
    """

    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(40, ENC_DIM, (1, 5), stride=(1, 2), padding=(0, 2)), nn.GELU(),
            nn.Conv2d(ENC_DIM, ENC_DIM, (1, 5), stride=(1, 2), padding=(0, 2)), nn.GELU(),
            nn.Conv2d(ENC_DIM, ENC_DIM, (1, 5), stride=(1, 2), padding=(0, 2)), nn.GELU(),
            nn.Conv2d(ENC_DIM, ENC_DIM, (1, 4), stride=(1, 3)), nn.GELU(),
        )
        self.mix = nn.Linear(ENC_DIM * AUDIO_TOKENS, ENC_DIM * AUDIO_TOKENS)
        self.pos = nn.Parameter(torch.zeros(1, AUDIO_TOKENS, ENC_DIM))
        self.norm = nn.LayerNorm(ENC_DIM)

    def forward(self, input_features):
        x = (input_features + 6.0) / 6.0  # fixed affine: ln-power values sit around -14..9
        f = self.convs(x[:, :, None, :])[:, :, 0, :].transpose(1, 2).contiguous()  # [B, 8, C]
        f = f + self.mix(f.flatten(1)).view(-1, AUDIO_TOKENS, ENC_DIM)  # let every token see the whole clip
        return self.norm(f + self.pos)


N_AUDIO_CLASSES = 10 + 3 * 3  # spoken digit, or (beep count 1..3, pitch)


class AudioEncoderPretrainHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls = nn.Linear(ENC_DIM * AUDIO_TOKENS, N_AUDIO_CLASSES)

    def forward(self, tokens):
        return self.cls(tokens.flatten(1))


# ------------------------------------------------------------------ input projectors
class MlpProjector(nn.Module):
    """LLaVA-1.5-style two-layer MLP from encoder features to LLM embeddings."""

    def __init__(self, d_in: int = ENC_DIM):
        super().__init__()
        self.fc1 = nn.Linear(d_in, D_MODEL)
        self.fc2 = nn.Linear(D_MODEL, D_MODEL)

    def forward(self, features):
        return self.fc2(F.gelu(self.fc1(features)))


class ImageProjector(nn.Module):
    """Per-token MLP plus a local summary: each of the 16 grid tokens also gets its quadrant's mean.

    A shape seldom fits one grid cell, and the LLM alone learned colour and position but not shape
    (36 % on single objects); giving every token the pooled 2x2 neighbourhood hands it the whole object.
    """

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(ENC_DIM, D_MODEL)
        self.local = nn.Linear(ENC_DIM, D_MODEL)
        self.fc2 = nn.Linear(D_MODEL, D_MODEL)

    def forward(self, features):
        b = features.shape[0]
        g = features.reshape(b, 2, 2, 2, 2, ENC_DIM)  # [B, qy, cy, qx, cx, C] of the 4x4 grid
        quad = g.mean(dim=(2, 4), keepdim=True).expand(b, 2, 2, 2, 2, ENC_DIM).reshape(b, IMAGE_TOKENS, ENC_DIM)
        return self.fc2(F.gelu(self.fc1(features) + self.local(quad)))


class VideoProjector(nn.Module):
    """[B, 8 frames, 16 tokens, C] image-encoder features -> 8 tokens: one per frame + temporal embedding."""

    def __init__(self):
        super().__init__()
        self.frame = nn.Linear(IMAGE_TOKENS * ENC_DIM, D_MODEL)
        self.fc2 = nn.Linear(D_MODEL, D_MODEL)
        self.temporal = nn.Parameter(torch.zeros(1, world.FRAMES, D_MODEL))

    def forward(self, frame_features):
        b, t = frame_features.shape[0], frame_features.shape[1]
        x = F.gelu(self.frame(frame_features.reshape(b, t, IMAGE_TOKENS * ENC_DIM)) + self.temporal)
        return self.fc2(x)


# ------------------------------------------------------------------ output projectors and generators
class OutputProjector(nn.Module):
    """Hidden states at the 4 signal tokens -> the generator's conditioning vector."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(SIGNAL_TOKENS * D_MODEL, 256)
        self.fc2 = nn.Linear(256, COND_DIM)

    def forward(self, signal_hidden_states):
        return self.fc2(F.gelu(self.fc1(signal_hidden_states.flatten(1))))


class ImageCondEncoder(nn.Module):
    """The generator's own 'text encoder': (colour, shape) -> conditioning vector (stand-in for CLIP text)."""

    def __init__(self):
        super().__init__()
        self.colour = nn.Embedding(len(world.COLOUR_NAMES), 32)
        self.shape = nn.Embedding(len(world.SHAPES), 32)
        self.fc = nn.Linear(64, COND_DIM)

    def forward(self, colour, shape):
        return torch.tanh(self.fc(torch.cat([self.colour(colour), self.shape(shape)], -1)))


class ImageGenerator(nn.Module):
    """conditioning [B, 64] -> RGB image [B, 3, 64, 64] in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(COND_DIM, 128 * 4 * 4)
        ch = [128, 64, 48, 32, 16]
        ups = []
        for i in range(4):
            ups += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(ch[i], ch[i + 1], 3, padding=1), nn.GELU()]
        self.ups = nn.Sequential(*ups)
        self.out = nn.Conv2d(16, 3, 3, padding=1)

    def forward(self, condition):
        x = F.gelu(self.fc(condition)).view(-1, 128, 4, 4)
        return torch.sigmoid(self.out(self.ups(x)))


class AudioCondEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.count = nn.Embedding(3, 32)
        self.pitch = nn.Embedding(3, 32)
        self.fc = nn.Linear(64, COND_DIM)

    def forward(self, count, pitch):
        return torch.tanh(self.fc(torch.cat([self.count(count), self.pitch(pitch)], -1)))


AUDIO_FRAMES = 100  # 10 ms control frames for a 1 s clip
HOP_SAMPLES = world.SR // AUDIO_FRAMES


class AudioGenerator(nn.Module):
    """conditioning -> per-frame (f0, amplitude) controls -> a sine oscillator (DDSP-style) -> 1 s waveform."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(COND_DIM, 256)
        self.fc2 = nn.Linear(256, AUDIO_FRAMES * 2)

    def controls(self, condition):
        c = self.fc2(F.gelu(self.fc1(condition))).view(-1, AUDIO_FRAMES, 2)
        f0 = 50.0 + 1000.0 * torch.sigmoid(c[..., 0])
        amp = torch.sigmoid(c[..., 1] - 2.0)
        return f0, amp

    def forward(self, condition):
        f0, amp = self.controls(condition)
        b = f0.shape[0]
        f0_s = f0[:, :, None].expand(b, AUDIO_FRAMES, HOP_SAMPLES).reshape(b, world.SR)
        amp_s = amp[:, :, None].expand(b, AUDIO_FRAMES, HOP_SAMPLES).reshape(b, world.SR)
        # phase accumulates in float64: float32 would drift by ~1e-3 rad over a second
        step = f0_s.to(torch.float64) * (2.0 * math.pi / world.SR)
        phase = torch.remainder(torch.cumsum(step, dim=1), 2.0 * math.pi).to(torch.float32)
        return amp_s * torch.sin(phase)
