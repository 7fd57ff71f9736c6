"""A tiny Ultravox (Whisper-style audio encoder + Ultravox's stacking SwiGLU projector + a Llama decoder) in PyTorch,
and its ONNX export in the transformers.js layout: onnx/audio_encoder.onnx, onnx/embed_tokens.onnx,
onnx/decoder_model_merged.onnx.

The audio encoder takes the clip's own log-mel frames (no 30 s padding: UltravoxProcessor extracts features with
max_length = the clip's length) and yields exactly the number of rows the processor expands the audio placeholder
to, 1 + ceil(T / stack_factor) for T = ceil(frames / 2) encoder frames (see AudioEncoder.forward).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from speech.whisper_net import Encoder as WhisperEncoder
from vision.export import _export, _finish
from vision.nets import RMSNorm


class Projector(nn.Module):
    """UltravoxProjector: stack stack_factor frames, RMSNorm, Linear, SwiGLU (halves), RMSNorm (ln_mid), Linear."""

    def __init__(self, d_audio: int, stack: int, hidden: int, d_text: int):
        super().__init__()
        self.stack = stack
        # Stacking as a strided convolution with a fixed one-hot kernel: no data-dependent shapes in the export.
        eye = torch.zeros(stack * d_audio, d_audio, stack)
        for s in range(stack):
            for c in range(d_audio):
                eye[s * d_audio + c, c, s] = 1.0
        self.register_buffer("stacker", eye)
        self.ln_pre = RMSNorm(stack * d_audio, 1e-6)
        self.linear_1 = nn.Linear(stack * d_audio, hidden, bias=False)
        self.ln_mid = RMSNorm(hidden // 2, 1e-6)
        self.linear_2 = nn.Linear(hidden // 2, d_text, bias=False)

    def forward(self, x):  # [B, T, D] -> [B, 1 + ceil(T / stack), d_text]
        # Pad with stack + (stack - 1) zero frames: the strided stack then yields ceil(T / stack) groups of real frames
        # plus one all-padding group, which is the "1 +" of transformers.js' UltravoxProcessor token count.
        x = F.pad(x.transpose(1, 2), (0, 2 * self.stack - 1))
        x = F.conv1d(x, self.stacker, stride=self.stack).transpose(1, 2)
        x = self.linear_1(self.ln_pre(x))
        h, gate = x.chunk(2, dim=-1)
        x = self.ln_mid(F.silu(gate) * h)
        return self.linear_2(x)


class AudioEncoder(nn.Module):
    def __init__(self, audio_cfg: dict, stack: int, projector_hidden: int, d_text: int):
        super().__init__()
        self.whisper = WhisperEncoder(audio_cfg)
        self.projector = Projector(audio_cfg["d_model"], stack, projector_hidden, d_text)

    def forward(self, audio_values):  # [B, 80, frames] -> [B, tokens, d_text]
        return self.projector(self.whisper(audio_values))


def audio_tokens(samples: int, ds_factor: int, stack: int) -> int:
    """transformers.js UltravoxProcessor: 1 + ceil(round(samples / encoder_ds_factor) / stack_factor)."""
    import math
    return 1 + math.ceil(round(samples / ds_factor + 1e-4) / stack)


class _Enc(nn.Module):
    def __init__(self, enc):
        super().__init__()
        self.enc = enc

    def forward(self, audio_values):
        return self.enc(audio_values)


def export_audio_encoder(enc: AudioEncoder, path: Path) -> None:
    m = _export(_Enc(enc).eval(), (torch.randn(1, 80, 203),), ["audio_values"], ["audio_features"],
                {"audio_values": {0: "batch_size", 2: "num_frames"},
                 "audio_features": {0: "batch_size", 1: "num_audio_tokens"}})
    _finish(m, path)
