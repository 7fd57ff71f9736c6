"""Dynamic int8 quantization of an ONNX decoder's MatMuls, in the form onnxruntime's quantize_dynamic writes
(the `model_quantized.onnx` of Hugging Face / transformers.js exports): each MatMul with a constant 2-D weight
becomes DynamicQuantizeLinear(activation) -> MatMulInteger(uint8 activation, int8 weight) -> Cast -> Mul by the
product of the two scales. Weights: symmetric per-tensor int8 (zero point 0). Inputs and outputs stay float32.
Written here because Debian has no Python onnxruntime (whose quantizer this mirrors)."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize_dynamic_int8(model: onnx.ModelProto) -> onnx.ModelProto:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    users = {}
    for n in g.node:
        for x in n.input:
            users[x] = users.get(x, 0) + 1
    new_nodes, new_inits, dropped = [], [], set()
    for n in g.node:
        w = inits.get(n.input[1]) if n.op_type == "MatMul" and len(n.input) == 2 else None
        if w is None or len(w.dims) != 2:
            new_nodes.append(n)
            continue
        wf = numpy_helper.to_array(w).astype(np.float32)
        scale = np.float32(max(float(np.abs(wf).max()), 1e-12) / 127.0)
        wq = np.clip(np.rint(wf / scale), -127, 127).astype(np.int8)
        base = n.output[0]
        a = n.input[0]
        names = {k: f"{base}_{k}" for k in ("a_q", "a_scale", "a_zp", "y_int", "y_f", "scale")}
        wq_name, ws_name, wzp_name = f"{w.name}_quantized", f"{w.name}_scale", f"{w.name}_zero_point"
        new_inits += [numpy_helper.from_array(wq, wq_name),
                      numpy_helper.from_array(np.array(scale, dtype=np.float32), ws_name),
                      numpy_helper.from_array(np.array(0, dtype=np.int8), wzp_name)]
        new_nodes += [
            helper.make_node("DynamicQuantizeLinear", [a], [names["a_q"], names["a_scale"], names["a_zp"]],
                             name=f"{n.name}_QuantizeInput"),
            helper.make_node("MatMulInteger", [names["a_q"], wq_name, names["a_zp"], wzp_name], [names["y_int"]],
                             name=f"{n.name}_quant"),
            helper.make_node("Cast", [names["y_int"]], [names["y_f"]], to=TensorProto.FLOAT,
                             name=f"{n.name}_quant_cast"),
            helper.make_node("Mul", [names["a_scale"], ws_name], [names["scale"]], name=f"{n.name}_quant_scales_mul"),
            helper.make_node("Mul", [names["y_f"], names["scale"]], [base], name=f"{n.name}_quant_output_mul"),
        ]
        users[w.name] -= 1
        if users[w.name] == 0:
            dropped.add(w.name)
    del g.node[:]
    g.node.extend(new_nodes)
    kept = [i for i in g.initializer if i.name not in dropped]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    onnx.checker.check_model(model)
    return model
