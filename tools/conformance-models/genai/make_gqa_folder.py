"""The Hugging Face conformance decoders (tiny-llama3, tiny-qwen2, tiny-phi3) as ONNX Runtime GenAI folders in the
GroupQueryAttention form its model builder writes: model.onnx takes input_ids and binds one max-length KV buffer per
tensor as past and present (search.past_present_share_buffer), genai_config.json of the folder's model type.

The weights come from the conformance folder's onnx/model.onnx (the Optimum-layout concat export that transformers.js
runs for the goldens), so the same prompts must give the goldens' greedy tokens: MmServe serving the new folder is
checked against tests/conformance/goldens/<model>.json (GqaConformanceGoldenTests) and against ORT GenAI's own
Generator on it (GenAiParityTests).

    /usr/bin/python3 tools/conformance-models/genai/make_gqa_folder.py tiny-llama3 tiny-qwen2 tiny-phi3

writes models/conformance/genai-<name>-gqa/ (model.onnx, genai_config.json, tokenizer.json, tokenizer_config.json,
README.md); deterministic.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference-model"))
sys.path.insert(0, os.path.join(ROOT, "tools", "conformance-models"))

import gqa_graph  # noqa: E402
from textmodels.model import Arch, inv_freq  # noqa: E402

SUPPORTED = ("llama", "qwen2", "phi3")


def layer_weights(weights, config, i: int) -> dict:
    """The i-th layer's projections ([in, out]) from the export's MatMul weights in use order."""
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    if config["model_type"] == "phi3":  # fused qkv_proj and gate_up_proj: split them as Phi-3's forward does
        qkv, o, gate_up, down = (weights[4 * i + j] for j in range(4))
        q_end, k_end = heads * head_dim, heads * head_dim + kv_heads * head_dim
        half = gate_up[0].shape[1] // 2
        return {"q": qkv[0][:, :q_end], "k": qkv[0][:, q_end:k_end], "v": qkv[0][:, k_end:], "o": o[0],
                "gate": gate_up[0][:, :half], "up": gate_up[0][:, half:], "down": down[0], "gate_feeds": ["Sigmoid"]}
    q, k, v, o, gate, up, down = (weights[7 * i + j] for j in range(7))
    return {"q": q[0], "k": k[0], "v": v[0], "o": o[0], "gate": gate[0], "up": up[0], "down": down[0], "gate_feeds": gate[1]}


def build_model(folder: str, config: dict) -> onnx.ModelProto:
    source = onnx.load(os.path.join(folder, "onnx", "model.onnx"))
    weights, inits = gqa_graph.matmul_weights(source.graph)
    n_layers = config["num_hidden_layers"]
    per_layer = 4 if config["model_type"] == "phi3" else 7
    if len(weights) != n_layers * per_layer + 1:
        raise SystemExit(f"{folder}: expected {n_layers * per_layer + 1} projection MatMuls, found {len(weights)}")
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    layers = []
    for i in range(n_layers):
        w = layer_weights(weights, config, i)
        if "Sigmoid" not in w.pop("gate_feeds"):
            raise SystemExit(f"{folder}: layer {i}'s gate projection does not feed SiLU's Sigmoid")
        biases = {}
        if config["model_type"] == "qwen2":
            for p in ("q", "k", "v"):
                biases[f"{p}_bias"] = numpy_helper.to_array(inits[f"model.layers.{i}.self_attn.{p}_proj.bias"])
        layers.append(gqa_graph.Layer(f"model.layers.{i}.input_layernorm.weight", f"model.layers.{i}.post_attention_layernorm.weight", **w, **biases))
    norm_names = [n for layer in layers for n in (layer.input_norm, layer.post_norm)] + ["model.norm.weight"]
    arch = Arch(vocab_size=config["vocab_size"], hidden_size=config["hidden_size"], intermediate_size=config["intermediate_size"],
                num_hidden_layers=n_layers, num_attention_heads=heads, num_key_value_heads=config["num_key_value_heads"],
                head_dim=head_dim, rms_norm_eps=config["rms_norm_eps"], rope_theta=config["rope_theta"], rope_scaling=config.get("rope_scaling"))
    with torch.no_grad():
        freqs = inv_freq(arch).numpy().astype(np.float32)
    embed = numpy_helper.to_array(inits["model.embed_tokens.weight"])
    w = gqa_graph.DecoderWeights(
        layers=layers, final_norm="model.norm.weight", norms=[inits[n] for n in norm_names], lm_head=weights[-1][0],
        heads=heads, kv_heads=config["num_key_value_heads"], head_dim=head_dim, hidden=config["hidden_size"],
        vocab=config["vocab_size"], inv_freq=freqs, rms_eps=config["rms_norm_eps"], embed=embed,
        embed_name="model.embed_tokens.weight", hidden_state_output=False, graph_name=f"{config['model_type']}_gqa",
        producer="MmServe conformance recipe (make_gqa_folder.py)")
    return gqa_graph.build(w, source.ir_version)


def genai_config(config: dict, generation: dict) -> dict:
    heads = config["num_attention_heads"]
    eos = generation.get("eos_token_id", config.get("eos_token_id"))
    eos = eos if isinstance(eos, list) else [eos]
    pad = config.get("pad_token_id")
    context = 1024  # the conformance prompts are short; the shared KV buffer is [batch, kv_heads, context, head_dim]
    return {
        "model": {
            "bos_token_id": config.get("bos_token_id"),
            "context_length": context,
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                "filename": "model.onnx",
                "head_size": config.get("head_dim") or config["hidden_size"] // heads,
                "hidden_size": config["hidden_size"],
                "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask", "position_ids": "position_ids",
                           "past_key_names": "past_key_values.%d.key", "past_value_names": "past_key_values.%d.value"},
                "outputs": {"logits": "logits", "present_key_names": "present.%d.key", "present_value_names": "present.%d.value"},
                "num_attention_heads": heads,
                "num_hidden_layers": config["num_hidden_layers"],
                "num_key_value_heads": config["num_key_value_heads"],
            },
            "eos_token_id": eos,
            "pad_token_id": pad if pad is not None else eos[0],
            "type": config["model_type"],
            "vocab_size": config["vocab_size"],
        },
        "search": {"diversity_penalty": 0.0, "do_sample": False, "early_stopping": True, "length_penalty": 1.0,
                   "max_length": context, "min_length": 0, "no_repeat_ngram_size": 0, "num_beams": 1,
                   "num_return_sequences": 1, "past_present_share_buffer": True, "repetition_penalty": 1.0,
                   "temperature": 1.0, "top_k": 1, "top_p": 1.0},
    }


def readme(name: str, config: dict) -> str:
    return f"""# genai-{name}-gqa — {name}'s decoder as an ONNX Runtime GenAI folder, GroupQueryAttention form

Made by a recipe, not by hand: `tools/conformance-models/genai/make_gqa_folder.py {name}`.

| file | what it is |
|---|---|
| `model.onnx` | `models/conformance/{name}/onnx/model.onnx`'s weights in the graph ORT GenAI's model builder writes: `input_ids` → embedding, per layer RMSNorm, projections{' (fused qkv / gate_up split)' if config['model_type'] == 'phi3' else ''}{', q/k/v biases' if config['model_type'] == 'qwen2' else ''}, RoPE from `position_ids`, `com.microsoft.GroupQueryAttention` (`do_rotary=0`) over one `[batch, kv_heads, max_length, head_dim]` buffer per tensor bound as past and present, SwiGLU, final norm, LM head → `logits` |
| `genai_config.json` | `model.type` `{config['model_type']}`, I/O names, head counts, `context_length` 1024, `search.past_present_share_buffer` true |
| `tokenizer.json`, `tokenizer_config.json` | copied from `models/conformance/{name}` (same ids, same chat template) |

Same weights, same prompts: MmServe serving this folder gives the transformers.js goldens of `{name}`
(`tests/conformance/goldens/{name}.json`, `GqaConformanceGoldenTests`).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="conformance folder names under models/conformance")
    args = ap.parse_args()
    for name in args.models:
        folder = os.path.join(ROOT, "models", "conformance", name)
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        if config["model_type"] not in SUPPORTED:
            raise SystemExit(f"{name}: model_type {config['model_type']} (supported: {', '.join(SUPPORTED)})")
        generation_path = os.path.join(folder, "generation_config.json")
        generation = json.load(open(generation_path, encoding="utf-8")) if os.path.exists(generation_path) else {}
        out = os.path.join(ROOT, "models", "conformance", f"genai-{name}-gqa")
        os.makedirs(out, exist_ok=True)
        onnx.save(build_model(folder, config), os.path.join(out, "model.onnx"))
        with open(os.path.join(out, "genai_config.json"), "w", encoding="utf-8") as f:
            json.dump(genai_config(config, generation), f, indent=2, sort_keys=True)
            f.write("\n")
        for file in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copyfile(os.path.join(folder, file), os.path.join(out, file))
        with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
            f.write(readme(name, config))
        print(f"wrote {out} ({os.path.getsize(os.path.join(out, 'model.onnx'))} bytes of model.onnx)")


if __name__ == "__main__":
    main()
