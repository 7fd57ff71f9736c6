"""Writes mmserve-tiny's decoder again in the GroupQueryAttention form that ONNX Runtime GenAI's model builder
produces, with past_present_share_buffer: past_key_values.N.* and present.N.* are one [batch, kv_heads, max_len,
head_dim] buffer per tensor, bound as both input and output, that com.microsoft.GroupQueryAttention writes in place
at each row's own length (seqlens_k = ReduceSum(attention_mask) - 1, total_sequence_length = attention_mask's width).

The weights and every other op come from the bundle's decoder.onnx (the concat form the recipe exports from
PyTorch): RMSNorm, the projections, RoPE from position_ids (GQA runs with do_rotary=0, so M-RoPE-style positions
stay the caller's), SwiGLU and the tied LM head compute what that graph computes; only the attention core and the
KV handling change. The bundle's manifest gains the decoder variant "gqa" (kv_buffer "shared").

    /usr/bin/python3 tools/reference-model/export_gqa_decoder.py models/mmserve-tiny

Check: the server's golden parity tests run both variants (tests/MmServe.FunctionalTests/GqaDecoderParityTests.cs).
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import onnx

import gqa_graph

PER_LAYER = 7  # q, k, v, o, gate, up, down, in the order the concat export uses them


def build(decoder_path: str, manifest: dict) -> onnx.ModelProto:
    d = manifest["decoder"]
    layers, head_dim = d["num_layers"], d["head_dim"]
    source = onnx.load(decoder_path)
    weights, inits = gqa_graph.matmul_weights(source.graph)
    if len(weights) != layers * PER_LAYER + 1:
        raise SystemExit(f"{decoder_path}: expected {layers * PER_LAYER + 1} projection MatMuls, found {len(weights)}")
    for layer in range(layers):
        gate_consumers = weights[layer * PER_LAYER + 4][1]
        if "Sigmoid" not in gate_consumers:
            raise SystemExit(f"{decoder_path}: layer {layer}'s fifth MatMul is not SwiGLU's gate (feeds {gate_consumers})")
    norm = "llm.layers.{}.{}_layernorm.weight"
    per_layer = [gqa_graph.Layer(norm.format(i, "input"), norm.format(i, "post_attention"),
                                 *[weights[i * PER_LAYER + j][0] for j in range(PER_LAYER)]) for i in range(layers)]
    norm_names = [n for i in range(layers) for n in (norm.format(i, "input"), norm.format(i, "post_attention"))] + ["llm.norm.weight"]
    inv_freq = 1.0 / (d["rope_theta"] ** (np.arange(0, head_dim, 2, dtype=np.float32) / head_dim))
    w = gqa_graph.DecoderWeights(
        layers=per_layer, final_norm="llm.norm.weight", norms=[inits[n] for n in norm_names], lm_head=weights[-1][0],
        heads=d["num_attention_heads"], kv_heads=d["num_kv_heads"], head_dim=head_dim, hidden=d["hidden_size"],
        vocab=d["vocab_size"], inv_freq=inv_freq, graph_name="mmserve_tiny_decoder_gqa",
        producer="mmserve-tiny recipe (export_gqa_decoder.py)")
    return gqa_graph.build(w, source.ir_version)


def main(bundle: str) -> None:
    manifest_path = os.path.join(bundle, "manifest.json")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    decoder_file = manifest["components"][manifest["decoder"]["component"]]["file"]
    model = build(os.path.join(bundle, decoder_file), manifest)
    onnx.save(model, os.path.join(bundle, "decoder_gqa.onnx"))

    components = manifest["components"]
    spec = json.loads(json.dumps(components[manifest["decoder"]["component"]]))
    spec["file"] = "decoder_gqa.onnx"
    for tensor in spec["inputs"] + spec["outputs"]:
        if tensor["name"].startswith(("past_key_values.", "present.")):
            tensor["shape"][2] = "max_length"
    components["decoder_gqa"] = spec
    manifest["decoder_variants"] = {"gqa": {"component": "decoder_gqa", "kv_buffer": "shared"}}
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {bundle}/decoder_gqa.onnx ({os.path.getsize(os.path.join(bundle, 'decoder_gqa.onnx'))} bytes) and the manifest's decoder variant 'gqa'")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/mmserve-tiny")
