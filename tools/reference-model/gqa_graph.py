"""The GroupQueryAttention decoder graph that ONNX Runtime GenAI's model builder produces for Llama-style models,
built from plain weight arrays, with past_present_share_buffer: past_key_values.N.* and present.N.* are one
[batch, kv_heads, max_length, head_dim] buffer per tensor, bound as both input and output, that
com.microsoft.GroupQueryAttention writes in place at each row's own length (seqlens_k = ReduceSum(attention_mask) - 1,
total_sequence_length = attention_mask's width).

RoPE is computed from position_ids outside the attention (GQA runs with do_rotary=0), so a caller's own positions
(left padding, M-RoPE-style text positions) rotate exactly as the concat graphs they replace rotate them.

Used by export_gqa_decoder.py (mmserve-tiny's decoder_gqa.onnx) and by
tools/conformance-models/genai/make_gqa_folder.py (the Hugging Face conformance decoders as ORT GenAI folders).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


@dataclass
class Layer:
    """One decoder layer's weights; projections are [in, out] (the MatMul orientation)."""
    input_norm: str  # initializer names of the RMSNorm weights (added to the graph by the caller's `norms`)
    post_norm: str
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    o: np.ndarray
    gate: np.ndarray
    up: np.ndarray
    down: np.ndarray
    q_bias: np.ndarray | None = None  # Qwen2
    k_bias: np.ndarray | None = None
    v_bias: np.ndarray | None = None


@dataclass
class DecoderWeights:
    layers: list[Layer]
    final_norm: str
    norms: list[onnx.TensorProto]  # the named RMSNorm weight initializers, kept as they are
    lm_head: np.ndarray  # [hidden, vocab]
    heads: int
    kv_heads: int
    head_dim: int
    hidden: int
    vocab: int
    inv_freq: np.ndarray  # [head_dim / 2] float32, scaling (e.g. Llama 3.1's) already applied
    rms_eps: float = 1e-5
    embed: np.ndarray | None = None  # [vocab, hidden]: take input_ids and gather; None: take inputs_embeds
    embed_name: str = "embed_tokens.weight"
    hidden_state_output: bool = True  # also output last_hidden_state (mmserve bundles' output projectors read it)
    graph_name: str = "decoder_gqa"
    producer: str = "gqa_graph.py"
    extra_inits: list[onnx.TensorProto] = field(default_factory=list)


def build(w: DecoderWeights, ir_version: int) -> onnx.ModelProto:
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

    eps = const("rms_eps", np.array(w.rms_eps, dtype=np.float32))
    two = const("two", np.array(2.0, dtype=np.float32))
    one = const("one_f", np.array(1.0, dtype=np.float32))

    def rms_norm(x, weight_name):
        mean = node("ReduceMean", [node("Pow", [x, two])], axes=[-1], keepdims=1)
        inv = node("Div", [one, node("Sqrt", [node("Add", [mean, eps])])])
        return node("Mul", [node("Mul", [x, inv]), weight_name])

    initializers.extend(w.norms)

    # seqlens_k and total_sequence_length from attention_mask, as ORT GenAI's model builder computes them.
    one_i64 = const("one_i64", np.array([1], dtype=np.int64))
    mask_sum = node("ReduceSum", ["attention_mask", one_i64], keepdims=0)
    seqlens_k = node("Cast", [node("Sub", [mask_sum, const("one_scalar_i64", np.array(1, dtype=np.int64))])], to=TensorProto.INT32)
    mask_width = node("Gather", [node("Shape", ["attention_mask"]), const("index1", np.array(1, dtype=np.int64))], axis=0)
    total_length = node("Cast", [mask_width], to=TensorProto.INT32)

    # RoPE cos/sin [B, S, 1, head_dim] from position_ids (Hugging Face's rotate_half convention).
    hd = w.head_dim
    freqs = node("Mul", [node("Unsqueeze", [node("Cast", ["position_ids"], to=TensorProto.FLOAT), const("axis_last", np.array([-1], dtype=np.int64))]),
                         const("inv_freq", w.inv_freq.astype(np.float32))])
    emb = node("Unsqueeze", [node("Concat", [freqs, freqs], axis=-1), const("axis2", np.array([2], dtype=np.int64))])
    cos, sin = node("Cos", [emb]), node("Sin", [emb])
    split = const("rope_split", np.array([hd // 2, hd // 2], dtype=np.int64))

    def rope(x, n_heads):
        shaped = node("Reshape", [x, const(f"shape_heads_{n_heads}", np.array([0, 0, n_heads, hd], dtype=np.int64))])
        lo, hi = node("Split", [shaped, split], outputs=[f"{shaped}_lo", f"{shaped}_hi"], axis=-1)
        rotated = node("Concat", [node("Neg", [hi]), lo], axis=-1)
        out = node("Add", [node("Mul", [shaped, cos]), node("Mul", [rotated, sin])])
        return node("Reshape", [out, const(f"shape_flat_{n_heads}", np.array([0, 0, n_heads * hd], dtype=np.int64))])

    def project(h, weight, bias, name):
        y = node("MatMul", [h, const(name, weight)])
        return y if bias is None else node("Add", [y, const(f"{name}.bias", bias)])

    x = "inputs_embeds" if w.embed is None else node("Gather", [const(w.embed_name, w.embed), "input_ids"], axis=0)
    for i, layer in enumerate(w.layers):
        for part in ("q", "k", "v", "o", "gate", "up", "down"):  # the layer's weights first, in one block
            const(f"layers.{i}.{part}", getattr(layer, part))
        h = rms_norm(x, layer.input_norm)
        q = rope(project(h, layer.q, layer.q_bias, f"layers.{i}.q"), w.heads)
        k = rope(project(h, layer.k, layer.k_bias, f"layers.{i}.k"), w.kv_heads)
        v = project(h, layer.v, layer.v_bias, f"layers.{i}.v")
        attn = node(
            "GroupQueryAttention",
            [q, k, v, f"past_key_values.{i}.key", f"past_key_values.{i}.value", seqlens_k, total_length],
            [f"attn_{i}", f"present.{i}.key", f"present.{i}.value"],
            domain="com.microsoft", num_heads=w.heads, kv_num_heads=w.kv_heads, do_rotary=0)[0]
        x = node("Add", [x, node("MatMul", [attn, const(f"layers.{i}.o", layer.o)])])
        h = rms_norm(x, layer.post_norm)
        gate = node("MatMul", [h, const(f"layers.{i}.gate", layer.gate)])
        silu = node("Mul", [gate, node("Sigmoid", [gate])])
        up = node("MatMul", [h, const(f"layers.{i}.up", layer.up)])
        x = node("Add", [x, node("MatMul", [node("Mul", [silu, up]), const(f"layers.{i}.down", layer.down)])])

    final = rms_norm(x, w.final_norm)
    if w.hidden_state_output:
        nodes.append(helper.make_node("Identity", [final], ["last_hidden_state"], name="last_hidden_state"))
    nodes.append(helper.make_node("MatMul", [final, const("lm_head", w.lm_head)], ["logits"], name="lm_head"))

    kv = ["batch", w.kv_heads, "max_length", hd]
    first = (helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["batch", "sequence", w.hidden]) if w.embed is None
             else helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]))
    inputs = [first,
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total_sequence"]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "sequence"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", w.vocab])]
    if w.hidden_state_output:
        outputs.append(helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", w.hidden]))
    for i in range(len(w.layers)):
        for part in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{part}", TensorProto.FLOAT, kv))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{part}", TensorProto.FLOAT, kv))

    graph = helper.make_graph(nodes, w.graph_name, inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                              producer_name=w.producer)
    model.ir_version = ir_version
    onnx.checker.check_model(model)
    return model


def matmul_weights(graph: onnx.GraphProto):
    """The constant MatMul weights of an exported decoder in use order, each with the op types that consume its
    product (a SwiGLU gate feeds a Sigmoid), and the graph's initializers by name."""
    inits = {i.name: i for i in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n)
    weights = []
    for n in graph.node:
        if n.op_type == "MatMul":
            named = [i for i in n.input if i in inits]
            if named:
                weights.append((numpy_helper.to_array(inits[named[0]]), [c.op_type for c in consumers.get(n.output[0], [])]))
    return weights, inits
