"""A tiny Florence-2 (Florence2ForConditionalGeneration's data flow, small sizes) in PyTorch and its ONNX export in
the transformers.js layout: onnx/vision_encoder.onnx, embed_tokens.onnx, encoder_model.onnx, decoder_model_merged.onnx.

Data flow (transformers.js models/florence2/modeling_florence2.js): image_features = vision_encoder(pixel_values);
prompt embeds = embed_tokens(input_ids); encoder input = [image_features; prompt embeds] with attention_mask
[ones; prompt mask]; the BART-style decoder takes inputs_embeds (embed_tokens of the decoder ids), encoder_hidden_states,
encoder_attention_mask and self/cross KV. The attention blocks are the tiny Whisper's (speech/whisper_net.py)."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from onnx import TensorProto, helper
from torch import nn

from speech.whisper_net import OPSET, Attn, _Cross, _export, _finish, _prefix, cross_kv_if, kv_value_infos

NEG = -1e9


def key_mask(mask: torch.Tensor) -> torch.Tensor:
    """int64 [B, K] (1 = attend) -> additive float [B, 1, 1, K]."""
    return ((1.0 - mask.to(torch.float32)) * NEG)[:, None, None, :]


class Block(nn.Module):
    """Pre-LN self-attention + GELU MLP (the encoder layer)."""

    def __init__(self, d, h, ff):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(d), Attn(d, h), nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x, mask=None):
        y = self.ln1(x)
        k, v = self.attn.kv(y)
        x = x + self.attn.attend(y, k, v, mask)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class Vision(nn.Module):
    """pixel_values [B, 3, S, S] -> image_features [B, 1 + (S/p)^2, D]: patch embedding, learned positions, one MLP
    block, projection to d_model, and a mean-pooled token in front (Florence-2 puts a pooled feature before the
    spatial ones too)."""

    def __init__(self, cfg):
        super().__init__()
        v = cfg["vision_config"]
        w, p, n = v["embed_dim"], v["patch_size"], (cfg["image_size"] // v["patch_size"]) ** 2
        self.patch = nn.Conv2d(3, w, p, stride=p)
        self.pos = nn.Parameter(torch.randn(n, w) * 0.02)
        self.ln = nn.LayerNorm(w)
        self.fc1, self.fc2 = nn.Linear(w, 2 * w), nn.Linear(2 * w, w)
        self.proj = nn.Linear(w, cfg["text_config"]["d_model"])
        self.ln_out = nn.LayerNorm(cfg["text_config"]["d_model"])

    def forward(self, pixel_values):
        x = self.patch(pixel_values).flatten(2).transpose(1, 2) + self.pos
        x = x + self.fc2(F.gelu(self.fc1(self.ln(x))))
        x = self.proj(x)
        x = torch.cat([x.mean(dim=1, keepdim=True), x], dim=1)
        return self.ln_out(x)


class TextEncoder(nn.Module):
    """BART-style encoder over inputs_embeds with learned positions and a padding mask."""

    def __init__(self, t):
        super().__init__()
        d = t["d_model"]
        self.pos = nn.Embedding(t["max_position_embeddings"], d)
        self.ln_emb = nn.LayerNorm(d)
        self.layers = nn.ModuleList(Block(d, t["encoder_attention_heads"], t["encoder_ffn_dim"])
                                    for _ in range(t["encoder_layers"]))
        self.ln = nn.LayerNorm(d)

    def forward(self, inputs_embeds, attention_mask):
        s = inputs_embeds.shape[1]
        x = self.ln_emb(inputs_embeds + self.pos(torch.arange(s, dtype=torch.long))[None])
        m = key_mask(attention_mask)
        for layer in self.layers:
            x = layer(x, m)
        return self.ln(x)


class DecLayer(nn.Module):
    def __init__(self, d, h, ff):
        super().__init__()
        self.ln1, self.self_attn = nn.LayerNorm(d), Attn(d, h)
        self.ln2, self.cross = nn.LayerNorm(d), Attn(d, h)
        self.ln3, self.fc1, self.fc2 = nn.LayerNorm(d), nn.Linear(d, ff), nn.Linear(ff, d)


class Decoder(nn.Module):
    """BART-style decoder over inputs_embeds: learned positions (past length + t), causal self-attention with a KV
    cache, cross-attention over the encoder output masked by encoder_attention_mask, logits from the tied embedding
    matrix (passed in: the decoder owns no embedding table, as embed_tokens.onnx is separate)."""

    def __init__(self, t):
        super().__init__()
        d = t["d_model"]
        self.pos = nn.Embedding(t["max_position_embeddings"], d)
        self.ln_emb = nn.LayerNorm(d)
        self.layers = nn.ModuleList(DecLayer(d, t["decoder_attention_heads"], t["decoder_ffn_dim"])
                                    for _ in range(t["decoder_layers"]))
        self.ln = nn.LayerNorm(d)
        self.bias = nn.Parameter(torch.zeros(t["vocab_size"]))   # BART's final_logits_bias

    def cross_kv(self, enc):
        out = []
        for layer in self.layers:
            out.extend(layer.cross.kv(enc))
        return out

    def forward(self, embeds, enc_mask, cross, past, lm_weight):
        p, s = past[0].shape[2], embeds.shape[1]
        positions = torch.arange(s, dtype=torch.long) + p
        x = self.ln_emb(embeds + self.pos(positions)[None])
        kpos = torch.cat([torch.zeros(p, dtype=torch.long) - 1, positions])
        causal = torch.where(kpos[None, :] <= positions[:, None], torch.zeros(()), torch.full((), NEG))[None, None]
        xmask = key_mask(enc_mask)
        presents = []
        for i, layer in enumerate(self.layers):
            y = layer.ln1(x)
            k, v = layer.self_attn.kv(y)
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            x = x + layer.self_attn.attend(y, k, v, causal)
            x = x + layer.cross.attend(layer.ln2(x), cross[2 * i], cross[2 * i + 1], xmask)
            x = x + layer.fc2(F.gelu(layer.fc1(layer.ln3(x))))
        return self.ln(x) @ lm_weight.T + self.bias, presents


class Florence2(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        t = cfg["text_config"]
        self.cfg = cfg
        self.vision = Vision(cfg)
        self.embed = nn.Embedding(t["vocab_size"], t["d_model"])
        nn.init.normal_(self.embed.weight, std=0.05)   # tied to the logits: N(0, 1) would start them far apart
        self.encoder = TextEncoder(t)
        self.decoder = Decoder(t)

    def empty_past(self, b):
        t = self.cfg["text_config"]
        hd = t["d_model"] // t["decoder_attention_heads"]
        return [torch.zeros(b, t["decoder_attention_heads"], 0, hd) for _ in range(2 * t["decoder_layers"])]

    def encode(self, pixel_values, input_ids, attention_mask):
        img = self.vision(pixel_values)
        x = torch.cat([img, self.embed(input_ids)], dim=1)
        m = torch.cat([torch.ones(img.shape[:2], dtype=torch.long), attention_mask], dim=1)
        return self.encoder(x, m), m

    def forward(self, pixel_values, input_ids, attention_mask, decoder_ids):
        enc, m = self.encode(pixel_values, input_ids, attention_mask)
        logits, _ = self.decoder(self.embed(decoder_ids), m, self.decoder.cross_kv(enc),
                                 self.empty_past(decoder_ids.shape[0]), self.embed.weight)
        return logits

    @torch.no_grad()
    def greedy(self, pixel_values, input_ids, start, max_new, eos, forced_bos):
        """transformers.js's greedy loop (ForcedBOSTokenLogitsProcessor at the first step): (new ids, min margin of
        the unforced steps)."""
        enc, m = self.encode(pixel_values, input_ids, torch.ones_like(input_ids))
        cross = self.decoder.cross_kv(enc)
        past = self.empty_past(1)
        ids = torch.tensor([[start]])
        out, margin = [], float("inf")
        for step in range(max_new):
            logits, past = self.decoder(self.embed(ids), m, cross, past, self.embed.weight)
            lg = logits[0, -1]
            if step == 0 and forced_bos is not None:
                nxt = forced_bos
            else:
                top = torch.topk(lg, 2)
                margin = min(margin, float(top.values[0] - top.values[1]))
                nxt = int(top.indices[0])
            out.append(nxt)
            if nxt == eos:
                break
            ids = torch.tensor([[nxt]])
        return out, margin


# ------------------------------------------------------------------------------------------------------- export
class _Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


def export_all(model: Florence2, out: Path) -> None:
    cfg, t = model.cfg, model.cfg["text_config"]
    D, S = t["d_model"], cfg["image_size"]
    m = _export(_Fn(model.vision).eval(), (torch.randn(1, 3, S, S),), ["pixel_values"], ["image_features"],
                {"pixel_values": {0: "batch_size"}, "image_features": {0: "batch_size"}})
    _finish(m, out / "vision_encoder.onnx")
    m = _export(_Fn(model.embed).eval(), (torch.randint(0, t["vocab_size"], (2, 3)),), ["input_ids"],
                ["inputs_embeds"], {"input_ids": {0: "batch_size", 1: "sequence_length"},
                                    "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})
    _finish(m, out / "embed_tokens.onnx")
    m = _export(_Fn(model.encoder).eval(), (torch.randn(2, 5, D), torch.ones(2, 5, dtype=torch.long)),
                ["inputs_embeds", "attention_mask"], ["last_hidden_state"],
                {"inputs_embeds": {0: "batch_size", 1: "encoder_sequence_length"},
                 "attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
                 "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length"}})
    _finish(m, out / "encoder_model.onnx")
    export_decoder_merged(model, out / "decoder_model_merged.onnx")


class _Core(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.dec = model.decoder
        self.embed = model.embed

    def forward(self, inputs_embeds, encoder_attention_mask, *kv):
        n = len(kv) // 2
        logits, presents = self.dec(inputs_embeds, encoder_attention_mask, list(kv[:n]), list(kv[n:]),
                                    self.embed.weight)
        return (logits, *presents)


def export_decoder_merged(model: Florence2, path: Path) -> None:
    """Optimum's merged layout as for Whisper (see speech/whisper_net.export_decoder_merged), with Florence-2's
    inputs: inputs_embeds, encoder_attention_mask, encoder_hidden_states, past_key_values.{i}.decoder|encoder.key|value,
    use_cache_branch. The If covers the cross-attention K/V only."""
    t = model.cfg["text_config"]
    L, H, D, V = t["decoder_layers"], t["decoder_attention_heads"], t["d_model"], t["vocab_size"]
    hd = D // H
    dec = model.decoder
    xm = _export(_Cross(dec).eval(), (torch.randn(1, 7, D),), ["encoder_hidden_states"],
                 [f"cross.{i}.{k}" for i in range(L) for k in ("key", "value")],
                 {"encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"}})
    cross_names = [f"present.{i}.encoder.{k}" for i in range(L) for k in ("key", "value")]
    past_names = [f"past_key_values.{i}.decoder.{k}" for i in range(L) for k in ("key", "value")]
    pres_names = [f"present.{i}.decoder.{k}" for i in range(L) for k in ("key", "value")]
    b, s, p, e = 2, 3, 4, 5
    args = (torch.randn(b, s, D), torch.ones(b, e, dtype=torch.long), *[torch.randn(b, H, e, hd) for _ in range(2 * L)],
            *[torch.randn(b, H, p, hd) for _ in range(2 * L)])
    axes = {"inputs_embeds": {0: "batch_size", 1: "decoder_sequence_length"},
            "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
            "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for n in cross_names:
        axes[n] = {0: "batch_size", 2: "encoder_sequence_length_out"}
    for n in past_names:
        axes[n] = {0: "batch_size", 2: "past_decoder_sequence_length"}
    for n in pres_names:
        axes[n] = {0: "batch_size", 2: "past_decoder_sequence_length + 1"}
    dm = _export(_Core(model).eval(), args, ["inputs_embeds", "encoder_attention_mask", *cross_names, *past_names],
                 ["logits", *pres_names], axes)
    _prefix(xm.graph, "xattn/", {"encoder_hidden_states"})
    _prefix(dm.graph, "dec/", {"inputs_embeds", "encoder_attention_mask", "logits", *cross_names, *past_names,
                               *pres_names})
    if_node = cross_kv_if(xm.graph, L, cross_names)

    def vi(name, elem, shape):
        return helper.make_tensor_value_info(name, elem, shape)

    inputs = [vi("inputs_embeds", TensorProto.FLOAT, ["batch_size", "decoder_sequence_length", D]),
              vi("encoder_attention_mask", TensorProto.INT64, ["batch_size", "encoder_sequence_length"]),
              vi("encoder_hidden_states", TensorProto.FLOAT, ["batch_size", "encoder_sequence_length", D])]
    outputs = [vi("logits", TensorProto.FLOAT, ["batch_size", "decoder_sequence_length", V])]
    kv_inputs, kv_outputs = kv_value_infos(L, H, hd)
    inputs += kv_inputs
    inputs.append(vi("use_cache_branch", TensorProto.BOOL, [1]))
    outputs += kv_outputs
    graph = helper.make_graph([if_node, *dm.graph.node], "florence2_decoder_merged", inputs, outputs,
                              initializer=[*xm.graph.initializer, *dm.graph.initializer])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = dm.ir_version
    _finish(m, path)
