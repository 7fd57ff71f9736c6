"""A tiny Qwen2-VL in PyTorch: a patch encoder with Qwen2-VL's pixel_values / grid_thw interface and PatchMerger, and
a Qwen2 decoder with multimodal rotary positions (M-RoPE, position_ids [3, batch, seq]); ONNX export in the
transformers.js layout (onnx/vision_encoder.onnx, onnx/embed_tokens.onnx, onnx/decoder_model_merged.onnx)."""
from __future__ import annotations

import io
import math
import sys
from pathlib import Path

import onnx
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from textmodels.model import Arch, MLP, RMSNorm, attention_bias, Attention  # noqa: E402

OPSET = 17


def patch_rows_cols(grid_thw: torch.Tensor, merge: int = 2):
    """Row and column (in patches, within its own image) of every row of pixel_values, for any number of images:
    rows are ordered per image as (t, h/merge, w/merge, merge, merge), as Qwen2VLImageProcessor lays them out."""
    counts = grid_thw[:, 0] * grid_thw[:, 1] * grid_thw[:, 2]
    ends = torch.cumsum(counts, 0)
    starts = ends - counts
    p = torch.arange(ends[-1])
    img = (p[:, None] >= ends[None, :]).to(torch.long).sum(1)
    local = p - starts[img]
    h = grid_thw[img, 1]
    w = grid_thw[img, 2]
    wb = torch.div(w, merge, rounding_mode="floor")
    hb = torch.div(h, merge, rounding_mode="floor")
    window = torch.div(local, merge * merge, rounding_mode="floor")
    within = local % (merge * merge)
    fw = window % (hb * wb)
    row = torch.div(fw, wb, rounding_mode="floor") * merge + torch.div(within, merge, rounding_mode="floor")
    col = (fw % wb) * merge + within % merge
    return row, col


class Vision(nn.Module):
    """pixel_values [num_patches, 3*2*14*14], grid_thw [num_images, 3] -> image_features [num_patches / 4, hidden].
    Per patch: linear patch embedding (Qwen2-VL's Conv3d with stride = kernel is exactly this) + a 2-D sinusoidal
    position of the patch's row and column in its image (from grid_thw), one pre-norm MLP block; then Qwen2-VL's
    PatchMerger (LayerNorm, 2x2 neighbours concatenated, MLP to the LLM width). No attention between patches."""

    def __init__(self, vc: dict, hidden: int):
        super().__init__()
        e = vc["embed_dim"]
        self.e = e
        self.merge = vc["spatial_merge_size"]
        self.patch = nn.Linear(vc["in_chans"] * vc["temporal_patch_size"] * vc["patch_size"] ** 2, e, bias=False)
        self.ln1 = nn.LayerNorm(e, eps=1e-6)
        self.fc1, self.fc2 = nn.Linear(e, e * vc["mlp_ratio"]), nn.Linear(e * vc["mlp_ratio"], e)
        self.ln_q = nn.LayerNorm(e, eps=1e-6)
        m = e * self.merge ** 2
        self.mlp0, self.mlp2 = nn.Linear(m, m), nn.Linear(m, hidden)
        q = e // 4
        self.register_buffer("freq", 1.0 / (100.0 ** (torch.arange(q, dtype=torch.float32) / q)), persistent=False)

    def forward(self, pixel_values, grid_thw):
        row, col = patch_rows_cols(grid_thw, self.merge)
        fr = row.to(torch.float32)[:, None] * self.freq
        fc = col.to(torch.float32)[:, None] * self.freq
        pos = torch.cat([fr.sin(), fr.cos(), fc.sin(), fc.cos()], dim=1)
        x = self.patch(pixel_values) + pos
        x = x + self.fc2(F.gelu(self.fc1(self.ln1(x))))
        x = self.ln_q(x).reshape(-1, self.e * self.merge ** 2)
        return self.mlp2(F.gelu(self.mlp0(x)))


def mrope_cos_sin(position_ids, inv_freq, section):
    """position_ids [3, B, S] -> cos, sin [B, 1, S, head_dim]: rotary frequency pair i takes the temporal, height or
    width position according to mrope_section (HF's apply_multimodal_rotary_pos_emb)."""
    freqs = position_ids.to(torch.float32)[..., None] * inv_freq       # [3, B, S, hd/2]
    emb = torch.cat([freqs, freqs], dim=-1)                               # [3, B, S, hd]
    chunks = torch.split(emb, list(section) * 2, dim=-1)
    sel = torch.cat([c[i % 3] for i, c in enumerate(chunks)], dim=-1)    # [B, S, hd]
    return sel.cos()[:, None], sel.sin()[:, None]


class Layer(nn.Module):
    def __init__(self, a: Arch):
        super().__init__()
        self.input_layernorm = RMSNorm(a.hidden_size, a.rms_norm_eps)
        self.self_attn = Attention(a)
        self.post_attention_layernorm = RMSNorm(a.hidden_size, a.rms_norm_eps)
        self.mlp = MLP(a)

    def forward(self, x, cos, sin, bias, pk, pv):
        h, k, v = self.self_attn(self.input_layernorm(x), cos, sin, bias, pk, pv)
        x = x + h
        return x + self.mlp(self.post_attention_layernorm(x)), k, v


class Qwen2VL(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        a = Arch(vocab_size=cfg["vocab_size"], hidden_size=cfg["hidden_size"],
                 intermediate_size=cfg["intermediate_size"], num_hidden_layers=cfg["num_hidden_layers"],
                 num_attention_heads=cfg["num_attention_heads"], num_key_value_heads=cfg["num_key_value_heads"],
                 head_dim=cfg["hidden_size"] // cfg["num_attention_heads"], rms_norm_eps=cfg["rms_norm_eps"],
                 rope_theta=cfg["rope_theta"], qkv_bias=True, tie_word_embeddings=True)
        self.a = a
        self.section = cfg["rope_scaling"]["mrope_section"]
        self.embed_tokens = nn.Embedding(a.vocab_size, a.hidden_size)
        self.layers = nn.ModuleList(Layer(a) for _ in range(a.num_hidden_layers))
        self.norm = RMSNorm(a.hidden_size, a.rms_norm_eps)
        self.visual = Vision(cfg["vision_config"], a.hidden_size)
        self.register_buffer("inv_freq", 1.0 / (a.rope_theta ** (torch.arange(0, a.head_dim, 2).float() / a.head_dim)),
                             persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)

    def decode(self, inputs_embeds, attention_mask, position_ids, past=None):
        s = inputs_embeds.shape[1]
        past_len = past[0][0].shape[2] if past is not None else 0
        bias = attention_bias(attention_mask, past_len, s)
        cos, sin = mrope_cos_sin(position_ids, self.inv_freq, self.section)
        x = inputs_embeds
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = past[i] if past is not None else (None, None)
            x, k, v = layer(x, cos, sin, bias, pk, pv)
            presents.append((k, v))
        return F.linear(self.norm(x), self.embed_tokens.weight), presents


# ------------------------------------------------------------------------------------------------------- M-RoPE
def rope_index(ids: list[int], grids: list[tuple[int, int, int]], cfg: dict) -> tuple[list[list[int]], int]:
    """position_ids [3][len] for one unpadded sequence and its rope delta (max position + 1 - len), as
    Qwen2VLForConditionalGeneration.get_rope_index: text runs advance all three streams together; a vision run of
    grid (t, h, w) gets t/h/w indices (h, w after the 2x2 merge) offset by the text before it."""
    vs, im, vi = cfg["vision_start_token_id"], cfg["image_token_id"], cfg["video_token_id"]
    m = cfg["vision_config"]["spatial_merge_size"]
    pos = [[], [], []]
    nxt = 0
    i = 0
    g = 0
    while i < len(ids):
        if ids[i] in (im, vi) and i > 0 and ids[i - 1] == vs:
            t, h, w = grids[g]
            g += 1
            lh, lw = h // m, w // m
            for k in range(t * lh * lw):
                pos[0].append(nxt + k // (lh * lw))
                pos[1].append(nxt + (k // lw) % lh)
                pos[2].append(nxt + k % lw)
            i += t * lh * lw
            nxt = max(max(p) for p in pos) + 1
        else:
            for p in pos:
                p.append(nxt)
            nxt += 1
            i += 1
    return pos, max(max(p) for p in pos) + 1 - len(ids)


# ------------------------------------------------------------------------------------------------------- export
def _export(module, args, ins, outs, axes) -> onnx.ModelProto:
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, args, buf, input_names=ins, output_names=outs, dynamic_axes=axes,
                          opset_version=OPSET, do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


def _finish(model: onnx.ModelProto, path: Path) -> None:
    model.producer_name = "mmserve-conformance"
    model.producer_version = "1"
    model.doc_string = ""
    for n in model.graph.node:
        n.doc_string = ""
    onnx.checker.check_model(model)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())


class _Vis(nn.Module):
    def __init__(self, v):
        super().__init__()
        self.v = v

    def forward(self, pixel_values, grid_thw):
        return self.v(pixel_values, grid_thw)


class _Emb(nn.Module):
    def __init__(self, e):
        super().__init__()
        self.e = e

    def forward(self, input_ids):
        return self.e(input_ids)


class _Dec(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        n = len(past_flat) // 2
        logits, presents = self.m.decode(inputs_embeds, attention_mask, position_ids,
                                         [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(n)])
        return (logits, *[t for kv in presents for t in kv])


def export_all(m: Qwen2VL, onnx_dir: Path) -> None:
    a = m.a
    vc = m.cfg["vision_config"]
    d = vc["in_chans"] * vc["temporal_patch_size"] * vc["patch_size"] ** 2
    grid = torch.tensor([[1, 4, 6], [2, 2, 2]])
    vm = _export(_Vis(m.visual).eval(), (torch.randn(24 + 8, d), grid), ["pixel_values", "grid_thw"],
                 ["image_features"], {"pixel_values": {0: "num_patches"}, "grid_thw": {0: "num_images"},
                                      "image_features": {0: "num_image_tokens"}})
    _finish(vm, onnx_dir / "vision_encoder.onnx")
    em = _export(_Emb(m.embed_tokens).eval(), (torch.tensor([[1, 5, 7]]),), ["input_ids"], ["inputs_embeds"],
                 {"input_ids": {0: "batch_size", 1: "sequence_length"},
                  "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})
    _finish(em, onnx_dir / "embed_tokens.onnx")
    b, s, p = 2, 3, 4
    kv, hd = a.num_key_value_heads, a.head_dim
    args = (torch.randn(b, s, a.hidden_size), torch.ones(b, p + s, dtype=torch.long),
            torch.arange(p, p + s)[None, None].expand(3, b, s).contiguous(),
            *[torch.randn(b, kv, p, hd) for _ in range(2 * a.num_hidden_layers)])
    ins = ["inputs_embeds", "attention_mask", "position_ids"]
    outs = ["logits"]
    axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {1: "batch_size", 2: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(a.num_hidden_layers):
        for k in ("key", "value"):
            ins.append(f"past_key_values.{i}.{k}")
            outs.append(f"present.{i}.{k}")
            axes[ins[-1]] = {0: "batch_size", 2: "past_sequence_length"}
            axes[outs[-1]] = {0: "batch_size", 2: "total_sequence_length"}
    _finish(_export(_Dec(m).eval(), args, ins, outs, axes), onnx_dir / "decoder_model_merged.onnx")
