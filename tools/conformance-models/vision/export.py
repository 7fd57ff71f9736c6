"""ONNX export in the Hugging Face / transformers.js layout (onnx/<session>.onnx), opset 17."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch
from torch import nn

OPSET = 17


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


def _export(module: nn.Module, args: tuple, in_names: list, out_names: list, axes: dict) -> onnx.ModelProto:
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, args, buf, input_names=in_names, output_names=out_names, dynamic_axes=axes,
                          opset_version=OPSET, do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


class _Embed(nn.Module):
    def __init__(self, emb):
        super().__init__()
        self.emb = emb

    def forward(self, input_ids):
        return self.emb(input_ids)


def export_embed_tokens(emb: nn.Embedding, path: Path) -> None:
    m = _export(_Embed(emb).eval(), (torch.tensor([[1, 5, 7]], dtype=torch.long),), ["input_ids"], ["inputs_embeds"],
                {"input_ids": {0: "batch_size", 1: "sequence_length"},
                 "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})
    _finish(m, path)


class _Dec(nn.Module):
    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, inputs_embeds, attention_mask, position_ids, *past):
        logits, presents = self.dec(inputs_embeds, attention_mask, position_ids, list(past))
        return (logits, *presents)


def export_decoder(dec, path: Path) -> None:
    cfg = dec.cfg
    n_layers, kv, hd = cfg["num_hidden_layers"], cfg["num_key_value_heads"], cfg["hidden_size"] // cfg["num_attention_heads"]
    b, s, p = 2, 3, 4
    args = (torch.randn(b, s, cfg["hidden_size"]), torch.ones(b, p + s, dtype=torch.long),
            torch.arange(p, p + s, dtype=torch.long)[None].expand(b, s).contiguous(),
            *[torch.randn(b, kv, p, hd) for _ in range(2 * n_layers)])
    ins = ["inputs_embeds", "attention_mask", "position_ids"]
    outs = ["logits"]
    axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(n_layers):
        for kind in ("key", "value"):
            ins.append(f"past_key_values.{i}.{kind}")
            outs.append(f"present.{i}.{kind}")
            axes[ins[-1]] = {0: "batch_size", 2: "past_sequence_length"}
            axes[outs[-1]] = {0: "batch_size", 2: "total_sequence_length"}
    _finish(_export(_Dec(dec).eval(), args, ins, outs, axes), path)


class _LlavaVision(nn.Module):
    def __init__(self, v):
        super().__init__()
        self.v = v

    def forward(self, pixel_values):
        return self.v(pixel_values)


def export_llava_vision(vision, image_size: int, path: Path) -> None:
    x = torch.randn(2, 3, image_size, image_size)
    m = _export(_LlavaVision(vision).eval(), (x,), ["pixel_values"],
                ["image_features"], {"pixel_values": {0: "batch_size"}, "image_features": {0: "batch_size"}})
    with torch.no_grad():
        shape = vision(x).shape
    dims = m.graph.output[0].type.tensor_type.shape.dim
    for k in (1, 2):  # static: tokens per image, text width (the tracer leaves a generated name on dim 1)
        dims[k].Clear()
        dims[k].dim_value = int(shape[k])
    _finish(m, path)


class _Prepare(nn.Module):
    """input_ids (image positions negative) + image_features [n, H] -> inputs_embeds. Non-negative ids are
    embedding lookups; the k-th negative id (row-major over the batch) takes image_features[k]."""

    def __init__(self, emb):
        super().__init__()
        self.emb = emb

    def forward(self, input_ids, image_features):
        is_img = input_ids < 0
        emb = self.emb(input_ids.clamp(min=0))
        flat = is_img.reshape(-1).to(torch.long)
        idx = torch.where(flat > 0, flat.cumsum(0), torch.zeros_like(flat))  # 1-based row; 0 = the zero row
        rows = torch.cat([torch.zeros(1, image_features.shape[1]), image_features], dim=0)
        img = rows.index_select(0, idx).reshape(emb.shape)
        return torch.where(is_img[..., None], img, emb)


def export_prepare_inputs_embeds(emb: nn.Embedding, path: Path) -> None:
    h = emb.weight.shape[1]
    ids = torch.tensor([[1, -9, -9, 5], [-9, 3, 4, 2]], dtype=torch.long)
    m = _export(_Prepare(emb).eval(), (ids, torch.randn(3, h)), ["input_ids", "image_features"], ["inputs_embeds"],
                {"input_ids": {0: "batch_size", 1: "sequence_length"},
                 "image_features": {0: "num_image_tokens"},
                 "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})
    _finish(m, path)


class _Crops(nn.Module):
    def __init__(self, crop):
        super().__init__()
        self.crop = crop

    def forward(self, pixel_values):
        n, k = pixel_values.shape[0], pixel_values.shape[1]
        x = pixel_values.reshape(n * k, 3, pixel_values.shape[3], pixel_values.shape[4])
        t = self.crop.project(self.crop.after_conv(self.crop.conv(x)))
        return t.reshape(n, k, t.shape[1], t.shape[2], t.shape[3])


def export_phi3_vision(crop, num_crops: int, crop_size: int, path: Path) -> None:
    """pixel_values [num_images, 1 + num_crops, 3, 336, 336] + image_sizes int64 [num_images, 2] ->
    image_features [total_tokens, H]. The per-crop encoder is traced; the HD merge (how many sub-crops an image
    uses, from image_sizes) is an ONNX Loop over the images written with onnx.helper."""
    base = _export(_Crops(crop).eval(), (torch.randn(1, 1 + num_crops, 3, crop_size, crop_size),), ["pixel_values"],
                   ["crop_tokens"], {"pixel_values": {0: "num_images"}, "crop_tokens": {0: "num_images"}})
    g = base.graph
    with torch.no_grad():
        sub_nl = crop.project(crop.sub_GN).numpy().astype(np.float32)
        glb_sep = crop.project(crop.glb_GN).numpy().astype(np.float32)
    h = sub_nl.shape[0]
    t = crop.g // 2

    def c64(name, vals):
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(vals, np.int64), name))

    def cf(name, arr):
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(arr, np.float32), name))

    body_nodes = [
        c64("b_crop", crop_size), c64("b_zero", 0), c64("b_one", 1), c64("b_ax0", [0]), c64("b_one1", [1]),
        c64("b_t", [t]), c64("b_tth", [t, t, h]), c64("b_neg1_h", [-1, h]), c64("b_one_h", [1, h]), c64("b_hid", [h]),
        cf("b_sub_nl", sub_nl.reshape(1, 1, h)), cf("b_glb_sep", glb_sep.reshape(1, h)),
        helper.make_node("Gather", ["image_sizes", "i"], ["b_size"], axis=0),          # [2]
        helper.make_node("Gather", ["b_size", "b_zero"], ["b_hpx"], axis=0),
        helper.make_node("Gather", ["b_size", "b_one"], ["b_wpx"], axis=0),
        helper.make_node("Div", ["b_hpx", "b_crop"], ["b_h"]),                          # crops down
        helper.make_node("Div", ["b_wpx", "b_crop"], ["b_w"]),                          # crops across
        helper.make_node("Mul", ["b_h", "b_w"], ["b_n"]),
        helper.make_node("Unsqueeze", ["b_h", "b_ax0"], ["b_h1"]),
        helper.make_node("Unsqueeze", ["b_w", "b_ax0"], ["b_w1"]),
        helper.make_node("Unsqueeze", ["b_n", "b_ax0"], ["b_n1"]),
        helper.make_node("Add", ["b_n1", "b_one1"], ["b_end"]),
        helper.make_node("Gather", ["crop_tokens", "i"], ["b_img"], axis=0),            # [1+C, t, t, H]
        helper.make_node("Gather", ["b_img", "b_zero"], ["b_glb"], axis=0),             # [t, t, H]
        helper.make_node("Slice", ["b_img", "b_one1", "b_end", "b_ax0"], ["b_sub"]),    # [h*w, t, t, H]
        helper.make_node("Concat", ["b_h1", "b_w1", "b_tth"], ["b_shape5"], axis=0),
        helper.make_node("Reshape", ["b_sub", "b_shape5"], ["b_sub5"]),                 # [h, w, t, t, H]
        helper.make_node("Transpose", ["b_sub5"], ["b_subT"], perm=[0, 2, 1, 3, 4]),   # [h, t, w, t, H]
        helper.make_node("Mul", ["b_h1", "b_t"], ["b_rows"]),
        helper.make_node("Mul", ["b_w1", "b_t"], ["b_cols"]),
        helper.make_node("Concat", ["b_rows", "b_cols", "b_hid"], ["b_shape3"], axis=0),
        helper.make_node("Reshape", ["b_subT", "b_shape3"], ["b_grid"]),               # [h*t, w*t, H]
        helper.make_node("Concat", ["b_rows", "b_one_h"], ["b_nl_shape"], axis=0),
        helper.make_node("Expand", ["b_sub_nl", "b_nl_shape"], ["b_nl"]),              # [h*t, 1, H]
        helper.make_node("Concat", ["b_grid", "b_nl"], ["b_grid_nl"], axis=1),
        helper.make_node("Reshape", ["b_grid_nl", "b_neg1_h"], ["b_sub_flat"]),
        helper.make_node("Concat", ["b_t", "b_one_h"], ["b_gnl_shape"], axis=0),
        helper.make_node("Expand", ["b_sub_nl", "b_gnl_shape"], ["b_gnl"]),            # [t, 1, H]
        helper.make_node("Concat", ["b_glb", "b_gnl"], ["b_glb_nl"], axis=1),
        helper.make_node("Reshape", ["b_glb_nl", "b_neg1_h"], ["b_glb_flat"]),
        helper.make_node("Concat", ["acc_in", "b_sub_flat", "b_glb_sep", "b_glb_flat"], ["acc_out"], axis=0),
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
    ]
    body = helper.make_graph(
        body_nodes, "hd_merge_one_image",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [None, h])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [None, h])])
    nodes = [
        helper.make_node("Shape", ["image_sizes"], ["vm_sizes_shape"]),
        helper.make_node("Constant", [], ["vm_zero"], value=numpy_helper.from_array(np.asarray(0, np.int64), "z")),
        helper.make_node("Gather", ["vm_sizes_shape", "vm_zero"], ["vm_num_images"], axis=0),
        helper.make_node("Constant", [], ["vm_true"], value=numpy_helper.from_array(np.asarray(True), "t")),
        helper.make_node("Constant", [], ["vm_acc0"],
                         value=helper.make_tensor("acc0", TensorProto.FLOAT, [0, h], [])),
        helper.make_node("Loop", ["vm_num_images", "vm_true", "vm_acc0"], ["image_features"], body=body),
    ]
    g.node.extend(nodes)
    g.input.append(helper.make_tensor_value_info("image_sizes", TensorProto.INT64, ["num_images", 2]))
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("image_features", TensorProto.FLOAT, ["num_image_tokens", h]))
    _finish(base, path)


def io_summary(path: Path) -> list:
    m = onnx.load(str(path))
    def fmt(v):
        tt = v.type.tensor_type
        dims = [d.dim_param or d.dim_value for d in tt.shape.dim]
        return f"{v.name} {TensorProto.DataType.Name(tt.elem_type).lower()} {dims}"
    return [("in", fmt(v)) for v in m.graph.input] + [("out", fmt(v)) for v in m.graph.output]
