"""ONNX export of every component, one file each, with the I/O names the manifest records."""
from __future__ import annotations

import os

import onnx
import torch
import torch.nn as nn

from . import model as M
from .train import MMTiny

OPSET = 17


class EmbedTokens(nn.Module):
    def __init__(self, m: MMTiny):
        super().__init__()
        self.embed = m.llm.embed_tokens

    def forward(self, input_ids):
        return self.embed(input_ids)


class Decoder(nn.Module):
    """Flat-argument wrapper: inputs_embeds, attention_mask, position_ids, past k/v per layer; grouped-KV attention."""

    def __init__(self, m: MMTiny):
        super().__init__()
        self.llm = m.llm

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        for layer in self.llm.layers:
            layer.self_attn.grouped_kv = True
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(M.N_LAYERS)]
        try:
            logits, hidden, presents = self.llm(inputs_embeds, attention_mask, position_ids, past)
        finally:
            for layer in self.llm.layers:
                layer.self_attn.grouped_kv = False
        flat = []
        for k, v in presents:
            flat += [k, v]
        return (logits, hidden, *flat)


class Chain(nn.Module):
    def __init__(self, *parts):
        super().__init__()
        self.parts = nn.ModuleList(parts)

    def forward(self, x):
        for p in self.parts:
            x = p(x)
        return x


def _export(module, args, path, inputs, outputs, dynamic):
    module.eval()
    torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=dynamic,
                      opset_version=OPSET, do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    onnx.shape_inference.infer_shapes(model)


@torch.no_grad()
def check_grouped_attention(m: MMTiny, args) -> None:
    """The exported (grouped-KV) decoder must compute what training's attention computes."""
    m.eval()
    grouped = Decoder(m)(*args)
    past = [(args[3 + 2 * i], args[4 + 2 * i]) for i in range(M.N_LAYERS)]
    logits, hidden, presents = m.llm(args[0], args[1], args[2], past)
    plain = (logits, hidden, *[t for kv in presents for t in kv])
    worst = max(float((a - b).abs().max()) for a, b in zip(grouped, plain))
    if worst > 1e-5:
        raise SystemExit(f"grouped-KV attention differs from the training attention by {worst}")


def spec(name, dtype, shape) -> dict:
    """One tensor of a manifest component's inputs or outputs."""
    return {"name": name, "dtype": dtype, "shape": shape}



def decoder_io_axes(batch: str):
    """The decoder's past/present KV names (layer by layer, key then value) and the dynamic axes of every decoder
    input and output, as the inputs_embeds decoder exports (and the server reads) them."""
    past_names, present_names = [], []
    dyn = {"inputs_embeds": {0: batch, 1: "sequence"}, "attention_mask": {0: batch, 1: "total_sequence"},
           "position_ids": {0: batch, 1: "sequence"}, "logits": {0: batch, 1: "sequence"},
           "last_hidden_state": {0: batch, 1: "sequence"}}
    for i in range(M.N_LAYERS):
        for kv in ("key", "value"):
            past_names.append(f"past_key_values.{i}.{kv}")
            present_names.append(f"present.{i}.{kv}")
            dyn[past_names[-1]] = {0: batch, 2: "past_sequence"}
            dyn[present_names[-1]] = {0: batch, 2: "total_sequence"}
    return past_names, present_names, dyn

def component_adder(out_dir: str, comps: dict):
    """add(name, module, args, ins, outs, dynamic): exports module to <out_dir>/<name>.onnx with the I/O names of the
    manifest specs ins/outs, and records the component in comps (the manifest's "components" section)."""
    def add(name, module, args, ins, outs, dynamic):
        _export(module, args, os.path.join(out_dir, f"{name}.onnx"), [i["name"] for i in ins], [o["name"] for o in outs], dynamic)
        comps[name] = {"file": f"{name}.onnx", "inputs": ins, "outputs": outs}
    return add


def export_all(m: MMTiny, out_dir: str, vocab: int) -> dict:
    """Writes the ONNX files; returns the manifest's "components" section."""
    B = "batch"
    comps = {}
    add = component_adder(out_dir, comps)

    add("embed_tokens", EmbedTokens(m), (torch.zeros(2, 5, dtype=torch.long),),
        [spec("input_ids", "int64", [B, "sequence"])], [spec("inputs_embeds", "float32", [B, "sequence", M.D_MODEL])],
        {"input_ids": {0: B, 1: "sequence"}, "inputs_embeds": {0: B, 1: "sequence"}})

    past_names, present_names, dyn = decoder_io_axes(B)
    b, s, p = 2, 3, 4
    args = (torch.randn(b, s, M.D_MODEL), torch.ones(b, p + s, dtype=torch.long), torch.arange(p, p + s)[None].repeat(b, 1),
            *[torch.randn(b, M.N_KV_HEADS, p, M.HEAD_DIM) for _ in range(2 * M.N_LAYERS)])
    kv_shape = lambda seq: [B, M.N_KV_HEADS, seq, M.HEAD_DIM]  # noqa: E731
    add("decoder", Decoder(m), args,
        [spec("inputs_embeds", "float32", [B, "sequence", M.D_MODEL]), spec("attention_mask", "int64", [B, "total_sequence"]),
         spec("position_ids", "int64", [B, "sequence"]), *[spec(n, "float32", kv_shape("past_sequence")) for n in past_names]],
        [spec("logits", "float32", [B, "sequence", vocab]), spec("last_hidden_state", "float32", [B, "sequence", M.D_MODEL]),
         *[spec(n, "float32", kv_shape("total_sequence")) for n in present_names]], dyn)

    check_grouped_attention(m, args)

    add("image_encoder", m.image_encoder, (torch.randn(2, 3, 64, 64),),
        [spec("pixel_values", "float32", [B, 3, 64, 64])], [spec("image_features", "float32", [B, M.IMAGE_TOKENS, M.ENC_DIM])],
        {"pixel_values": {0: B}, "image_features": {0: B}})
    add("image_projector", m.image_projector, (torch.randn(2, M.IMAGE_TOKENS, M.ENC_DIM),),
        [spec("image_features", "float32", [B, M.IMAGE_TOKENS, M.ENC_DIM])], [spec("media_embeds", "float32", [B, M.IMAGE_TOKENS, M.D_MODEL])],
        {"image_features": {0: B}, "media_embeds": {0: B}})
    add("audio_encoder", m.audio_encoder, (torch.randn(2, 40, 198),),
        [spec("input_features", "float32", [B, 40, 198])], [spec("audio_features", "float32", [B, M.AUDIO_TOKENS, M.ENC_DIM])],
        {"input_features": {0: B}, "audio_features": {0: B}})
    add("audio_projector", m.audio_projector, (torch.randn(2, M.AUDIO_TOKENS, M.ENC_DIM),),
        [spec("audio_features", "float32", [B, M.AUDIO_TOKENS, M.ENC_DIM])], [spec("media_embeds", "float32", [B, M.AUDIO_TOKENS, M.D_MODEL])],
        {"audio_features": {0: B}, "media_embeds": {0: B}})
    add("video_projector", m.video_projector, (torch.randn(2, 8, M.IMAGE_TOKENS, M.ENC_DIM),),
        [spec("frame_features", "float32", [B, 8, M.IMAGE_TOKENS, M.ENC_DIM])], [spec("media_embeds", "float32", [B, M.VIDEO_TOKENS, M.D_MODEL])],
        {"frame_features": {0: B}, "media_embeds": {0: B}})
    for kind, proj, gen, out in (("image", m.image_output_projector, m.image_generator, spec("image", "float32", [B, 3, 64, 64])),
                                 ("audio", m.audio_output_projector, m.audio_generator, spec("waveform", "float32", [B, 16000]))):
        add(f"{kind}_output_projector", proj, (torch.randn(2, M.SIGNAL_TOKENS, M.D_MODEL),),
            [spec("signal_hidden_states", "float32", [B, M.SIGNAL_TOKENS, M.D_MODEL])], [spec("condition", "float32", [B, M.COND_DIM])],
            {"signal_hidden_states": {0: B}, "condition": {0: B}})
        add(f"{kind}_generator", gen, (torch.randn(2, M.COND_DIM),),
            [spec("condition", "float32", [B, M.COND_DIM])], [out], {"condition": {0: B}, out["name"]: {0: B}})
    return comps
