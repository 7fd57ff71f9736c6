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
from onnx import TensorProto, helper, numpy_helper

PER_LAYER = 7  # q, k, v, o, gate, up, down, in the order the concat export uses them


def projection_weights(graph: onnx.GraphProto):
    """The MatMul weights of the concat decoder in use order, checked against the graph's shape."""
    inits = {i.name: i for i in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    weights = []
    for node in graph.node:
        if node.op_type == "MatMul":
            named = [i for i in node.input if i in inits]
            if named:
                weights.append((numpy_helper.to_array(inits[named[0]]), [c.op_type for c in consumers.get(node.output[0], [])]))
    return weights, inits


def build(decoder_path: str, manifest: dict) -> onnx.ModelProto:
    d = manifest["decoder"]
    layers, heads, kv_heads, head_dim, hidden = d["num_layers"], d["num_attention_heads"], d["num_kv_heads"], d["head_dim"], d["hidden_size"]
    theta = d["rope_theta"]
    source = onnx.load(decoder_path)
    weights, inits = projection_weights(source.graph)
    if len(weights) != layers * PER_LAYER + 1:
        raise SystemExit(f"{decoder_path}: expected {layers * PER_LAYER + 1} projection MatMuls, found {len(weights)}")
    for layer in range(layers):
        gate_consumers = weights[layer * PER_LAYER + 4][1]
        if "Sigmoid" not in gate_consumers:
            raise SystemExit(f"{decoder_path}: layer {layer}'s fifth MatMul is not SwiGLU's gate (feeds {gate_consumers})")

    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []

    def const(name, array):
        if all(i.name != name for i in initializers):
            initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, inputs, outputs=None, domain="", **attrs):
        name = f"n{len(nodes)}_{op}"
        outputs = outputs or [name]
        nodes.append(helper.make_node(op, inputs, outputs, name=name, domain=domain, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    eps = const("rms_eps", np.array(1e-5, dtype=np.float32))
    two = const("two", np.array(2.0, dtype=np.float32))
    one = const("one_f", np.array(1.0, dtype=np.float32))

    def rms_norm(x, weight_name):
        mean = node("ReduceMean", [node("Pow", [x, two])], axes=[-1], keepdims=1)
        inv = node("Div", [one, node("Sqrt", [node("Add", [mean, eps])])])
        return node("Mul", [node("Mul", [x, inv]), weight_name])

    for name in [f"llm.layers.{i}.{n}" for i in range(layers) for n in ("input_layernorm.weight", "post_attention_layernorm.weight")] + ["llm.norm.weight"]:
        initializers.append(inits[name])

    # seqlens_k and total_sequence_length from attention_mask, as ORT GenAI's model builder computes them.
    one_i64 = const("one_i64", np.array([1], dtype=np.int64))
    mask_sum = node("ReduceSum", ["attention_mask", one_i64], keepdims=0)
    seqlens_k = node("Cast", [node("Sub", [mask_sum, const("one_scalar_i64", np.array(1, dtype=np.int64))])], to=TensorProto.INT32)
    mask_width = node("Gather", [node("Shape", ["attention_mask"]), const("index1", np.array(1, dtype=np.int64))], axis=0)
    total_length = node("Cast", [mask_width], to=TensorProto.INT32)

    # RoPE cos/sin [B, S, 1, head_dim] from position_ids, as the concat graph's rope() computes them.
    inv_freq = (1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float32) / head_dim))).astype(np.float32)
    freqs = node("Mul", [node("Unsqueeze", [node("Cast", ["position_ids"], to=TensorProto.FLOAT), const("axis_last", np.array([-1], dtype=np.int64))]), const("inv_freq", inv_freq)])
    emb = node("Unsqueeze", [node("Concat", [freqs, freqs], axis=-1), const("axis2", np.array([2], dtype=np.int64))])
    cos, sin = node("Cos", [emb]), node("Sin", [emb])
    half = head_dim // 2
    split = const("rope_split", np.array([half, half], dtype=np.int64))

    def rope(x, n_heads):
        shaped = node("Reshape", [x, const(f"shape_heads_{n_heads}", np.array([0, 0, n_heads, head_dim], dtype=np.int64))])
        lo, hi = node("Split", [shaped, split], outputs=[f"{shaped}_lo", f"{shaped}_hi"], axis=-1)
        rotated = node("Concat", [node("Neg", [hi]), lo], axis=-1)
        out = node("Add", [node("Mul", [shaped, cos]), node("Mul", [rotated, sin])])
        return node("Reshape", [out, const(f"shape_flat_{n_heads}", np.array([0, 0, n_heads * head_dim], dtype=np.int64))])

    x = "inputs_embeds"
    for layer in range(layers):
        w = [weights[layer * PER_LAYER + i][0] for i in range(PER_LAYER)]
        names = [const(f"layers.{layer}.{p}", w[i]) for i, p in enumerate(("q", "k", "v", "o", "gate", "up", "down"))]
        h = rms_norm(x, f"llm.layers.{layer}.input_layernorm.weight")
        q = rope(node("MatMul", [h, names[0]]), heads)
        k = rope(node("MatMul", [h, names[1]]), kv_heads)
        v = node("MatMul", [h, names[2]])
        attn = node(
            "GroupQueryAttention",
            [q, k, v, f"past_key_values.{layer}.key", f"past_key_values.{layer}.value", seqlens_k, total_length],
            [f"attn_{layer}", f"present.{layer}.key", f"present.{layer}.value"],
            domain="com.microsoft", num_heads=heads, kv_num_heads=kv_heads, do_rotary=0)[0]
        x = node("Add", [x, node("MatMul", [attn, names[3]])])
        h = rms_norm(x, f"llm.layers.{layer}.post_attention_layernorm.weight")
        gate = node("MatMul", [h, names[4]])
        silu = node("Mul", [gate, node("Sigmoid", [gate])])
        x = node("Add", [x, node("MatMul", [node("Mul", [silu, node("MatMul", [h, names[5]])]), names[6]])])

    final = rms_norm(x, "llm.norm.weight")
    nodes.append(helper.make_node("Identity", [final], ["last_hidden_state"], name="last_hidden_state"))
    nodes.append(helper.make_node("MatMul", [final, const("lm_head", weights[-1][0])], ["logits"], name="lm_head"))

    vocab = d["vocab_size"]
    kv = ["batch", kv_heads, "max_length", head_dim]
    inputs = [
        helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["batch", "sequence", hidden]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total_sequence"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "sequence"]),
    ]
    outputs = [
        helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", vocab]),
        helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden]),
    ]
    for layer in range(layers):
        for part in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{layer}.{part}", TensorProto.FLOAT, kv))
            outputs.append(helper.make_tensor_value_info(f"present.{layer}.{part}", TensorProto.FLOAT, kv))

    graph = helper.make_graph(nodes, "mmserve_tiny_decoder_gqa", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="mmserve-tiny recipe (export_gqa_decoder.py)")
    model.ir_version = source.ir_version
    onnx.checker.check_model(model)
    return model


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
