"""tiny-flamingo's ONNX components, manifest and reference tensors (layout: docs/model-bundle.md, "Gated cross-attention").

Components: embed_tokens, image_encoder (mmserve-tiny's, frozen), image_projector (the resampler: 16 media tokens
per image), cross_kv (media tokens -> each cross-attention block's key/value, run once per request) and decoder
(mmserve-tiny's inputs plus media_mask [batch, sequence, media_tokens] and cross_kv.{block}.key/value).
"""
from __future__ import annotations

import json
import os

import numpy as np
import torch
import torch.nn as nn

from mmtiny import bundle as B, export as EX, model as M

from xattn_model import MEDIA_TOKENS, X_HEAD_DIM, X_HEADS, XATTN_BEFORE, media_mask

BLOCKS = len(XATTN_BEFORE)
MAX_IMAGES = 4  # per request; the server refuses more (400)


class CrossKv(nn.Module):
    def __init__(self, fm):
        super().__init__()
        self.fm = fm

    def forward(self, media_features):
        return tuple(t for kv in self.fm.cross_kv(media_features) for t in kv)


class Decoder(nn.Module):
    """Flat arguments: inputs_embeds, attention_mask, position_ids, media_mask, past k/v per layer, cross k/v per block."""

    def __init__(self, fm):
        super().__init__()
        self.fm = fm

    def forward(self, inputs_embeds, attention_mask, position_ids, mask, *flat):
        past = [(flat[2 * i], flat[2 * i + 1]) for i in range(M.N_LAYERS)]
        cross = [(flat[2 * M.N_LAYERS + 2 * j], flat[2 * M.N_LAYERS + 2 * j + 1]) for j in range(BLOCKS)]
        for layer in self.fm.llm.layers:
            layer.self_attn.grouped_kv = True  # as mmtiny's exported decoder (same numbers, no KV expand)
        try:
            logits, hidden, presents = self.fm(inputs_embeds, attention_mask, position_ids, mask, cross, past)
        finally:
            for layer in self.fm.llm.layers:
                layer.self_attn.grouped_kv = False
        return (logits, hidden, *[t for kv in presents for t in kv])


spec = EX.spec


def export_all(m, fm, resampler, out_dir: str, vocab: int) -> dict:
    Bt, comps = "batch", {}

    add = EX.component_adder(out_dir, comps)

    add("embed_tokens", EX.EmbedTokens(m), (torch.zeros(2, 5, dtype=torch.long),),
        [spec("input_ids", "int64", [Bt, "sequence"])], [spec("inputs_embeds", "float32", [Bt, "sequence", M.D_MODEL])],
        {"input_ids": {0: Bt, 1: "sequence"}, "inputs_embeds": {0: Bt, 1: "sequence"}})
    add("image_encoder", m.image_encoder, (torch.randn(2, 3, 64, 64),),
        [spec("pixel_values", "float32", [Bt, 3, 64, 64])], [spec("image_features", "float32", [Bt, M.IMAGE_TOKENS, M.ENC_DIM])],
        {"pixel_values": {0: Bt}, "image_features": {0: Bt}})
    add("image_projector", resampler, (torch.randn(2, M.IMAGE_TOKENS, M.ENC_DIM),),
        [spec("image_features", "float32", [Bt, M.IMAGE_TOKENS, M.ENC_DIM])], [spec("media_embeds", "float32", [Bt, MEDIA_TOKENS, M.D_MODEL])],
        {"image_features": {0: Bt}, "media_embeds": {0: Bt}})

    cross_names = [f"cross_kv.{j}.{kv}" for j in range(BLOCKS) for kv in ("key", "value")]
    cross_shape = [Bt, X_HEADS, "media_tokens", X_HEAD_DIM]
    add("cross_kv", CrossKv(fm), (torch.randn(2, 2 * MEDIA_TOKENS, M.D_MODEL),),
        [spec("media_features", "float32", [Bt, "media_tokens", M.D_MODEL])], [spec(n, "float32", cross_shape) for n in cross_names],
        {"media_features": {0: Bt, 1: "media_tokens"}, **{n: {0: Bt, 2: "media_tokens"} for n in cross_names}})

    past_names = [f"past_key_values.{i}.{kv}" for i in range(M.N_LAYERS) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(M.N_LAYERS) for kv in ("key", "value")]
    dyn = {"inputs_embeds": {0: Bt, 1: "sequence"}, "attention_mask": {0: Bt, 1: "total_sequence"}, "position_ids": {0: Bt, 1: "sequence"},
           "media_mask": {0: Bt, 1: "sequence", 2: "media_tokens"}, "logits": {0: Bt, 1: "sequence"}, "last_hidden_state": {0: Bt, 1: "sequence"},
           **{n: {0: Bt, 2: "past_sequence"} for n in past_names}, **{n: {0: Bt, 2: "total_sequence"} for n in present_names},
           **{n: {0: Bt, 2: "media_tokens"} for n in cross_names}}
    b, s, p, n = 2, 3, 4, 2 * MEDIA_TOKENS
    args = (torch.randn(b, s, M.D_MODEL), torch.ones(b, p + s, dtype=torch.long), torch.arange(p, p + s)[None].repeat(b, 1),
            torch.ones(b, s, n, dtype=torch.long), *[torch.randn(b, M.N_KV_HEADS, p, M.HEAD_DIM) for _ in past_names],
            *[torch.randn(b, X_HEADS, n, X_HEAD_DIM) for _ in cross_names])
    kv = lambda seq: [Bt, M.N_KV_HEADS, seq, M.HEAD_DIM]  # noqa: E731
    add("decoder", Decoder(fm), args,
        [spec("inputs_embeds", "float32", [Bt, "sequence", M.D_MODEL]), spec("attention_mask", "int64", [Bt, "total_sequence"]),
         spec("position_ids", "int64", [Bt, "sequence"]), spec("media_mask", "int64", [Bt, "sequence", "media_tokens"]),
         *[spec(x, "float32", kv("past_sequence")) for x in past_names], *[spec(x, "float32", cross_shape) for x in cross_names]],
        [spec("logits", "float32", [Bt, "sequence", vocab]), spec("last_hidden_state", "float32", [Bt, "sequence", M.D_MODEL]),
         *[spec(x, "float32", kv("total_sequence")) for x in present_names]], dyn)
    return comps


def manifest(comps: dict, vocab: int) -> dict:
    """mmserve-tiny's manifest (tokenizer, template, decoder) with the image modality only and a cross_attention section."""
    man = B.manifest(comps, vocab)
    image = dict(man["input_modalities"]["image"], tokens_per_item=1)  # the marker is one token; media go through cross-attention
    man.update({
        "id": "tiny-flamingo",
        "description": "Gated cross-attention conformance model (Flamingo / OpenFlamingo / IDEFICS): mmserve-tiny's frozen image "
                       "encoder and decoder with a trained resampler and two tanh-gated cross-attention blocks "
                       "(tools/reference-model/families/flamingo.py).",
        "family": "gated_cross_attention",
        "input_modalities": {"image": image},
        "output_modalities": {},
        "cross_attention": {
            "modality": "image", "component": "cross_kv", "media_features": "media_features",
            "media_tokens_per_item": MEDIA_TOKENS, "max_items": MAX_IMAGES, "num_blocks": BLOCKS,
            "num_heads": X_HEADS, "head_dim": X_HEAD_DIM, "key": "cross_kv.{block}.key", "value": "cross_kv.{block}.value",
            "media_mask": "media_mask", "attend": "most_recent_item"},
    })
    man.pop("decoder_variants", None)
    return man


@torch.no_grad()
def write_reference_tensors(fm, resampler, out: str) -> None:
    """cross_kv and a two-row decoder prefill (one row with two images, one with none) + step, for the C# ONNX checks."""
    rdir = os.path.join(out, "golden", "components")
    os.makedirs(rdir, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    media = resampler(torch.randn(2, M.IMAGE_TOKENS, M.ENC_DIM, generator=g)).reshape(1, 2 * MEDIA_TOKENS, M.D_MODEL)
    media = torch.cat([media, torch.zeros_like(media)])
    cross = fm.cross_kv(media)
    arrays = {"media_features": media}
    for j, (k, v) in enumerate(cross):
        arrays[f"cross_kv.{j}.key"], arrays[f"cross_kv.{j}.value"] = k, v
    np.savez(os.path.join(rdir, "cross_kv.npz"), **{k: v.numpy() for k, v in arrays.items()})
    emb = torch.randn(2, 6, M.D_MODEL, generator=g) * 0.05
    mask = torch.tensor([[0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    pos = torch.tensor([[0, 0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5]])
    markers = [[1, 3], []]  # row 0: images at its positions 1 and 3
    mm = media_mask(pos, markers, media.shape[1])
    logits, hid, past = fm(emb, mask, pos, mm, cross)
    e2 = torch.randn(2, 1, M.D_MODEL, generator=g) * 0.05
    mask2 = torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], 1)
    pos2 = torch.tensor([[5], [6]])
    mm2 = media_mask(pos2, markers, media.shape[1])
    logits2, hid2, _ = fm(e2, mask2, pos2, mm2, cross, past)
    arrays = {"prefill.inputs_embeds": emb, "prefill.attention_mask": mask, "prefill.position_ids": pos, "prefill.media_mask": mm,
              "prefill.logits": logits, "prefill.last_hidden_state": hid, "step.inputs_embeds": e2, "step.attention_mask": mask2,
              "step.position_ids": pos2, "step.media_mask": mm2, "step.logits": logits2, "step.last_hidden_state": hid2}
    for i, (k, v) in enumerate(past):
        arrays[f"prefill.present.{i}.key"], arrays[f"prefill.present.{i}.value"] = k, v
    np.savez(os.path.join(rdir, "decoder.npz"), **{k: v.numpy() for k, v in arrays.items()})
    with open(os.path.join(rdir, "index.json"), "w") as f:
        json.dump({"cases": {"cross_kv": "cross_kv.npz", "decoder": "decoder.npz"}, "tolerance": 1e-4,
                   "note": "decoder.npz: feed cross_kv.npz's cross_kv.* as the decoder's cross inputs"}, f, indent=1)
