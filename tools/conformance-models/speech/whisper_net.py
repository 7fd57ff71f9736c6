"""A tiny Whisper (WhisperForConditionalGeneration's computation, small sizes) in PyTorch, and its ONNX export in the
transformers.js / Optimum layout: onnx/encoder_model.onnx + onnx/decoder_model_merged.onnx."""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper
from torch import nn

OPSET = 17


def sinusoids(length: int, channels: int) -> torch.Tensor:
    """Whisper's fixed encoder positions: [sin | cos], timescales 1 .. 10000."""
    inc = math.log(10000) / (channels // 2 - 1)
    inv = torch.exp(-inc * torch.arange(channels // 2, dtype=torch.float32))
    scaled = torch.arange(length, dtype=torch.float32)[:, None] * inv[None, :]
    return torch.cat([scaled.sin(), scaled.cos()], dim=1)


class Attn(nn.Module):
    def __init__(self, d: int, h: int):
        super().__init__()
        self.h, self.hd = h, d // h
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d, bias=False)   # Whisper's k_proj has no bias
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)

    def split(self, x):  # [B, T, D] -> [B, H, T, hd]
        b, t, _ = x.shape
        return x.reshape(b, t, self.h, self.hd).transpose(1, 2)

    def kv(self, x):
        return self.split(self.k(x)), self.split(self.v(x))

    def attend(self, x, k, v, mask=None):
        q = self.split(self.q(x)) * (self.hd ** -0.5)
        s = q @ k.transpose(-1, -2)
        if mask is not None:
            s = s + mask
        o = torch.softmax(s, dim=-1) @ v
        b, _, t, _ = o.shape
        return self.o(o.transpose(1, 2).reshape(b, t, self.h * self.hd))


class EncLayer(nn.Module):
    def __init__(self, d, h, ff):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(d), Attn(d, h), nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x):
        y = self.ln1(x)
        k, v = self.attn.kv(y)
        x = x + self.attn.attend(y, k, v)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.conv1 = nn.Conv1d(cfg["num_mel_bins"], d, 3, padding=1)
        self.conv2 = nn.Conv1d(d, d, 3, stride=2, padding=1)
        self.register_buffer("pos", sinusoids(cfg["max_source_positions"], d))
        self.layers = nn.ModuleList(EncLayer(d, cfg["encoder_attention_heads"], cfg["encoder_ffn_dim"])
                                    for _ in range(cfg["encoder_layers"]))
        self.ln = nn.LayerNorm(d)

    def forward(self, feats):  # [B, 80, 3000] -> [B, 1500, D]
        x = F.gelu(self.conv2(F.gelu(self.conv1(feats)))).transpose(1, 2)
        x = x + self.pos[: x.shape[1]]
        for layer in self.layers:
            x = layer(x)
        return self.ln(x)


class DecLayer(nn.Module):
    def __init__(self, d, h, ff):
        super().__init__()
        self.ln1, self.self_attn = nn.LayerNorm(d), Attn(d, h)
        self.ln2, self.cross = nn.LayerNorm(d), Attn(d, h)
        self.ln3, self.fc1, self.fc2 = nn.LayerNorm(d), nn.Linear(d, ff), nn.Linear(ff, d)


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.cfg = cfg
        self.embed = nn.Embedding(cfg["vocab_size"], d)
        self.pos = nn.Embedding(cfg["max_target_positions"], d)
        self.layers = nn.ModuleList(DecLayer(d, cfg["decoder_attention_heads"], cfg["decoder_ffn_dim"])
                                    for _ in range(cfg["decoder_layers"]))
        self.ln = nn.LayerNorm(d)

    def cross_kv(self, enc):
        out = []
        for layer in self.layers:
            out.extend(layer.cross.kv(enc))
        return out

    def forward(self, ids, cross, past):
        """ids [B, S]; cross: [k0, v0, k1, v1, ...] [B, H, E, hd]; past: same for self-attention [B, H, P, hd].
        Returns logits [B, S, V] and presents (past + this step's keys/values)."""
        p = past[0].shape[2]
        s = ids.shape[1]
        positions = torch.arange(s, dtype=torch.long) + p
        x = self.embed(ids) + self.pos(positions)[None]
        qpos = positions[:, None]
        kpos = torch.arange(s, dtype=torch.long)[None, :] + p
        kall = torch.cat([torch.zeros(1, p, dtype=torch.long) - 1, kpos], dim=1)  # past keys are all visible
        mask = torch.where(kall <= qpos, torch.zeros(()), torch.full((), -1e9))[None, None]
        presents = []
        for i, layer in enumerate(self.layers):
            y = layer.ln1(x)
            k, v = layer.self_attn.kv(y)
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            x = x + layer.self_attn.attend(y, k, v, mask)
            x = x + layer.cross.attend(layer.ln2(x), cross[2 * i], cross[2 * i + 1])
            x = x + layer.fc2(F.gelu(layer.fc1(layer.ln3(x))))
        logits = self.ln(x) @ self.embed.weight.T    # tied output projection (proj_out)
        return logits, presents


class Whisper(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def empty_past(self, b):
        c = self.cfg
        hd = c["d_model"] // c["decoder_attention_heads"]
        return [torch.zeros(b, c["decoder_attention_heads"], 0, hd) for _ in range(2 * c["decoder_layers"])]

    def forward(self, feats, ids):
        enc = self.encoder(feats)
        logits, _ = self.decoder(ids, self.decoder.cross_kv(enc), self.empty_past(ids.shape[0]))
        return logits

    @torch.no_grad()
    def greedy(self, feats, prefix, max_new, eos, suppress=(), begin_suppress=()):
        """Greedy decoding with the KV cache, transformers.js's processors; returns (new ids, min top1-top2 margin)."""
        enc = self.encoder(feats[None])
        cross = self.decoder.cross_kv(enc)
        past = self.empty_past(1)
        ids = torch.tensor([prefix])
        out, margin = [], float("inf")
        for step in range(max_new):
            logits, past = self.decoder(ids, cross, past)
            lg = logits[0, -1].clone()
            lg[list(suppress)] = -float("inf")
            if step == 0:
                lg[list(begin_suppress)] = -float("inf")
            top = torch.topk(lg, 2)
            margin = min(margin, float(top.values[0] - top.values[1]))
            nxt = int(top.indices[0])
            out.append(nxt)
            if nxt == eos:
                break
            ids = torch.tensor([[nxt]])
        return out, margin


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


class _Enc(nn.Module):
    def __init__(self, enc):
        super().__init__()
        self.enc = enc

    def forward(self, input_features):
        return self.enc(input_features)


def export_encoder(model: Whisper, path: Path) -> None:
    c = model.cfg
    m = _export(_Enc(model.encoder).eval(), (torch.randn(1, c["num_mel_bins"], 2 * c["max_source_positions"]),),
                ["input_features"], ["last_hidden_state"],
                {"input_features": {0: "batch_size", 2: "encoder_sequence_length"},
                 "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length / 2"}})
    dim = m.graph.output[0].type.tensor_type.shape.dim[2]   # the tracer leaves a generated name on d_model
    dim.Clear()
    dim.dim_value = c["d_model"]
    _finish(m, path)


class _Core(nn.Module):
    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, input_ids, *kv):
        n = len(kv) // 2
        logits, presents = self.dec(input_ids, list(kv[:n]), list(kv[n:]))
        return (logits, *presents)


class _Cross(nn.Module):
    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, encoder_hidden_states):
        return tuple(self.dec.cross_kv(encoder_hidden_states))


def _prefix(g: onnx.GraphProto, prefix: str, keep: set) -> None:
    """Renames every initializer and node output of g (and their uses) to prefix + name, except the names in keep."""
    ren = {}
    for t in g.initializer:
        if t.name not in keep:
            ren[t.name] = prefix + t.name
            t.name = ren[t.name]
    for n in g.node:
        for i, o in enumerate(n.output):
            if o not in keep:
                ren[o] = prefix + o
                n.output[i] = ren[o]
        n.name = prefix + n.name if n.name else n.name
    for n in g.node:
        for i, x in enumerate(n.input):
            if x in ren:
                n.input[i] = ren[x]
    for o in g.output:
        if o.name in ren:
            o.name = ren[o.name]


def export_decoder_merged(model: Whisper, path: Path) -> None:
    """decoder_model_merged.onnx as Optimum merges Whisper's two decoders, with the same inputs and outputs:
    input_ids, encoder_hidden_states, past_key_values.{i}.decoder|encoder.key|value, use_cache_branch -> logits,
    present.{i}.decoder|encoder.key|value. Here the If on use_cache_branch covers only the cross-attention keys and
    values (computed from encoder_hidden_states on the first step; passed through from past_key_values.{i}.encoder.*
    after it), and one self-attention decoder follows it: the same function of the inputs as Optimum's two branches."""
    c = model.cfg
    L, H = c["decoder_layers"], c["decoder_attention_heads"]
    D = c["d_model"]
    hd = D // H
    dec = model.decoder
    # the cross-attention projections over encoder_hidden_states
    xm = _export(_Cross(dec).eval(), (torch.randn(1, 7, D),), ["encoder_hidden_states"],
                 [f"cross.{i}.{k}" for i in range(L) for k in ("key", "value")],
                 {"encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length / 2"}})
    # the decoder given cross keys/values and its own past
    cross_names = [f"present.{i}.encoder.{k}" for i in range(L) for k in ("key", "value")]
    past_names = [f"past_key_values.{i}.decoder.{k}" for i in range(L) for k in ("key", "value")]
    pres_names = [f"present.{i}.decoder.{k}" for i in range(L) for k in ("key", "value")]
    b, s, p, e = 2, 3, 4, 5
    args = (torch.randint(0, c["vocab_size"], (b, s)), *[torch.randn(b, H, e, hd) for _ in range(2 * L)],
            *[torch.randn(b, H, p, hd) for _ in range(2 * L)])
    axes = {"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
            "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for n in cross_names:
        axes[n] = {0: "batch_size", 2: "encoder_sequence_length_out"}
    for n in past_names:
        axes[n] = {0: "batch_size", 2: "past_decoder_sequence_length"}
    for n in pres_names:
        axes[n] = {0: "batch_size", 2: "past_decoder_sequence_length + 1"}
    dm = _export(_Core(dec).eval(), args, ["input_ids", *cross_names, *past_names], ["logits", *pres_names], axes)

    _prefix(xm.graph, "xattn/", {"encoder_hidden_states"})
    _prefix(dm.graph, "dec/", {"input_ids", "logits", *cross_names, *past_names, *pres_names})

    if_node = cross_kv_if(xm.graph, L, cross_names)

    def vi(name, elem, shape):
        return helper.make_tensor_value_info(name, elem, shape)

    inputs = [vi("input_ids", TensorProto.INT64, ["batch_size", "decoder_sequence_length"]),
              vi("encoder_hidden_states", TensorProto.FLOAT, ["batch_size", "encoder_sequence_length / 2", D])]
    outputs = [vi("logits", TensorProto.FLOAT, ["batch_size", "decoder_sequence_length", c["vocab_size"]])]
    kv_inputs, kv_outputs = kv_value_infos(L, H, hd)
    inputs += kv_inputs
    inputs.append(vi("use_cache_branch", TensorProto.BOOL, [1]))
    outputs += kv_outputs
    graph = helper.make_graph([if_node, *dm.graph.node], "whisper_decoder_merged", inputs, outputs,
                              initializer=[*xm.graph.initializer, *dm.graph.initializer])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = dm.ir_version
    _finish(m, path)


def cross_kv_if(cross_graph: onnx.GraphProto, layers: int, cross_names: list) -> onnx.NodeProto:
    """Optimum's If on use_cache_branch, over the cross-attention K/V only: else (no cache yet) the projections of
    encoder_hidden_states (cross_graph's nodes), then the cached past_key_values.{i}.encoder.* passed through."""
    else_nodes, else_outs = list(cross_graph.node), []
    for o, name in zip(cross_graph.output, cross_names):
        else_nodes.append(helper.make_node("Identity", [o.name], [f"else/{name}"]))
        else_outs.append(helper.make_tensor_value_info(f"else/{name}", TensorProto.FLOAT, None))
    then_nodes, then_outs = [], []
    for i in range(layers):
        for k in ("key", "value"):
            then_nodes.append(helper.make_node("Identity", [f"past_key_values.{i}.encoder.{k}"],
                                               [f"then/present.{i}.encoder.{k}"]))
            then_outs.append(helper.make_tensor_value_info(f"then/present.{i}.encoder.{k}", TensorProto.FLOAT, None))
    then_g = helper.make_graph(then_nodes, "with_past", [], then_outs)
    else_g = helper.make_graph(else_nodes, "no_past", [], else_outs)
    return helper.make_node("If", ["use_cache_branch"], cross_names, name="optimum::if",
                            then_branch=then_g, else_branch=else_g)


def kv_value_infos(layers: int, heads: int, head_dim: int) -> tuple[list, list]:
    """The merged decoder's KV inputs (past_key_values.{i}.decoder|encoder.key|value) and outputs (present.*), in
    Optimum's order and with its dimension names."""
    inputs, outputs = [], []
    for i in range(layers):
        for k in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.decoder.{k}", TensorProto.FLOAT,
                                                        ["batch_size", heads, "past_decoder_sequence_length", head_dim]))
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.encoder.{k}", TensorProto.FLOAT,
                                                        ["batch_size", heads, "encoder_sequence_length_out", head_dim]))
    for i in range(layers):
        for k in ("key", "value"):
            outputs.append(helper.make_tensor_value_info(f"present.{i}.decoder.{k}", TensorProto.FLOAT,
                                                         ["batch_size", heads, "past_decoder_sequence_length + 1", head_dim]))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.encoder.{k}", TensorProto.FLOAT,
                                                         ["batch_size", heads, "encoder_sequence_length_out", head_dim]))
    return inputs, outputs
