#!/usr/bin/python3
"""Builds the text conformance models: tiny Llama-3 / Qwen2 / Phi-3 decoders in the Hugging Face ONNX-export layout
(the onnx-community / transformers.js layout), their golden cases, and (unless --no-goldens) the goldens that
transformers.js produces for them.

    npm ci --ignore-scripts --prefix tools/conformance-models/oracle     # once
    /usr/bin/python3 tools/conformance-models/make_text_models.py [--only tiny-qwen2] [--no-goldens]

Writes models/conformance/<name>/, tests/conformance/cases/<name>.json, tests/conformance/goldens/<name>.json;
logs and checkpoints go to tools/conformance-models/work/ (git-ignored). Deterministic: fixed seeds, 2 torch threads,
step counts (not time) end training.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from textmodels import data as D  # noqa: E402
from textmodels import tokenizers as TK  # noqa: E402
from textmodels.model import Arch, CausalLM, OnnxDecoder, greedy  # noqa: E402
from textmodels.quantize import quantize_dynamic_int8  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
ORACLE = os.path.join(HERE, "oracle")
TRANSFORMERS_VERSION = "4.46.3"
MAX_NEW_TOKENS = 24
MIN_MARGIN = 0.02
OPSET = 14


def pad_to(n, multiple):
    return (n + multiple - 1) // multiple * multiple


def spec_llama3(tok):
    """Llama 3.1 8B Instruct's config shape (untied head, GQA, llama3 RoPE scaling, eos list)."""
    ids = tok.ids
    arch = Arch(vocab_size=tok.size, hidden_size=96, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, head_dim=24, rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=False,
                rope_scaling={"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 512, "rope_type": "llama3"})
    eos = [ids["<|end_of_text|>"], ids["<|eom_id|>"], ids["<|eot_id|>"]]
    config = {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": ids["<|begin_of_text|>"], "eos_token_id": eos, "head_dim": arch.head_dim,
        "hidden_act": "silu", "hidden_size": arch.hidden_size, "initializer_range": 0.02,
        "intermediate_size": arch.intermediate_size, "max_position_embeddings": 4096, "mlp_bias": False,
        "model_type": "llama", "num_attention_heads": arch.num_attention_heads,
        "num_hidden_layers": arch.num_hidden_layers, "num_key_value_heads": arch.num_key_value_heads,
        "pretraining_tp": 1, "rms_norm_eps": arch.rms_norm_eps, "rope_scaling": arch.rope_scaling,
        "rope_theta": arch.rope_theta, "tie_word_embeddings": False, "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION, "use_cache": True, "vocab_size": arch.vocab_size,
    }
    gen = {"bos_token_id": ids["<|begin_of_text|>"], "do_sample": True, "eos_token_id": eos, "temperature": 0.6,
           "top_p": 0.9, "transformers_version": TRANSFORMERS_VERSION}
    return arch, config, gen, "<|eot_id|>"


def spec_qwen2(tok):
    """Qwen2.5 Instruct's config shape (q/k/v biases, tied embeddings, vocab padded past the tokenizer)."""
    ids = tok.ids
    arch = Arch(vocab_size=pad_to(tok.size, 128), hidden_size=128, intermediate_size=320, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, head_dim=32, rms_norm_eps=1e-6, rope_theta=1000000.0,
                qkv_bias=True, tie_word_embeddings=True)
    config = {
        "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"], "hidden_act": "silu", "hidden_size": arch.hidden_size,
        "initializer_range": 0.02, "intermediate_size": arch.intermediate_size, "max_position_embeddings": 4096,
        "max_window_layers": arch.num_hidden_layers, "model_type": "qwen2",
        "num_attention_heads": arch.num_attention_heads, "num_hidden_layers": arch.num_hidden_layers,
        "num_key_value_heads": arch.num_key_value_heads, "rms_norm_eps": arch.rms_norm_eps, "rope_scaling": None,
        "rope_theta": arch.rope_theta, "sliding_window": 4096, "tie_word_embeddings": True, "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION, "use_cache": True, "use_sliding_window": False,
        "vocab_size": arch.vocab_size,
        # transformers.js reads this block: the fp32 graph keeps its weights in onnx/model.onnx_data
        "transformers.js_config": {"use_external_data_format": {"model.onnx": 1}},
    }
    gen = {"bos_token_id": ids["<|endoftext|>"], "do_sample": True,
           "eos_token_id": [ids["<|im_end|>"], ids["<|endoftext|>"]], "pad_token_id": ids["<|endoftext|>"],
           "temperature": 0.7, "top_k": 20, "top_p": 0.8, "transformers_version": TRANSFORMERS_VERSION}
    return arch, config, gen, "<|im_end|>"


def spec_phi3(tok):
    """Phi-3.5-mini-instruct's config shape (fused qkv / gate_up, untied head, vocab padded to 64, eos list)."""
    ids = tok.ids
    arch = Arch(vocab_size=pad_to(tok.size, 64), hidden_size=96, intermediate_size=256, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, head_dim=24, rms_norm_eps=1e-5, rope_theta=10000.0,
                fused=True, tie_word_embeddings=False)
    config = {
        "architectures": ["Phi3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": ids["<s>"], "embd_pdrop": 0.0, "eos_token_id": ids["<|endoftext|>"], "hidden_act": "silu",
        "hidden_size": arch.hidden_size, "initializer_range": 0.02, "intermediate_size": arch.intermediate_size,
        "max_position_embeddings": 4096, "model_type": "phi3", "num_attention_heads": arch.num_attention_heads,
        "num_hidden_layers": arch.num_hidden_layers, "num_key_value_heads": arch.num_key_value_heads,
        "original_max_position_embeddings": 4096, "pad_token_id": ids["<|endoftext|>"], "resid_pdrop": 0.0,
        "rms_norm_eps": arch.rms_norm_eps, "rope_scaling": None, "rope_theta": arch.rope_theta,
        "sliding_window": 262144, "tie_word_embeddings": False, "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION, "use_cache": True, "vocab_size": arch.vocab_size,
    }
    gen = {"bos_token_id": ids["<s>"], "eos_token_id": [ids["<|end|>"], ids["<|assistant|>"], ids["<|endoftext|>"]],
           "pad_token_id": ids["<|endoftext|>"], "transformers_version": TRANSFORMERS_VERSION}
    return arch, config, gen, "<|end|>"


MODELS = {
    # name: (tokenizer, spec, seed, training steps, external data, quantized variant)
    "tiny-llama3": (TK.llama3, spec_llama3, 101, 1500, False, True),
    "tiny-qwen2": (TK.qwen2, spec_qwen2, 202, 1500, True, False),
    "tiny-phi3": (TK.phi3, spec_phi3, 303, 1500, False, False),
}


class Log:
    def __init__(self, path):
        self.t0 = time.time()
        self.f = open(path, "a", encoding="utf-8")

    def __call__(self, msg):
        line = f"[{time.time() - self.t0:7.1f}s] {msg}"
        print(line, flush=True)
        self.f.write(line + "\n")
        self.f.flush()


def node(script, *args):
    subprocess.run(["node", os.path.join(ORACLE, script), *args], check=True)


def tokenize(model_dir, work, items, tag):
    """Render + tokenize through transformers.js (the oracle's own tokenizer and template engine)."""
    inp, out = os.path.join(work, f"{tag}.in.json"), os.path.join(work, f"{tag}.out.json")
    with open(inp, "w", encoding="utf-8") as f:
        json.dump(items, f, ensure_ascii=False)
    node("tokenize.mjs", model_dir, inp, out)
    with open(out, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def training_set(model_dir, work, seed, n, log):
    """(ids, first answer position) per conversation; the loss covers the last assistant reply and what follows it
    in the template (its end-of-turn token(s))."""
    convs = D.training_conversations(seed, n)
    items = []
    for c in convs:
        items.append({"messages": c[:-1], "add_generation_prompt": True})
        items.append({"messages": c, "add_generation_prompt": False})
    toks = tokenize(model_dir, work, items, "train")
    out = []
    for i in range(0, len(toks), 2):
        prompt, full = toks[i]["ids"], toks[i + 1]["ids"]
        if full[: len(prompt)] != prompt:
            raise SystemExit(f"prompt is not a prefix of the full conversation:\n{toks[i]['text']!r}\n{toks[i + 1]['text']!r}")
        out.append((full, len(prompt)))
    lens = [len(f) for f, _ in out]
    log(f"  training set: {len(out)} conversations, {min(lens)}-{max(lens)} tokens (mean {np.mean(lens):.0f})")
    return out


def train(m: CausalLM, examples, steps, seed, log, batch=16, lr=3e-3):
    g = torch.Generator().manual_seed(seed)
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]), i))
    opt = torch.optim.AdamW(m.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    warm = 60
    m.train()
    t0 = time.time()
    for step in range(steps):
        frac = step / steps
        cur = lr * min(1.0, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * frac)))
        for pg in opt.param_groups:
            pg["lr"] = cur
        # neighbours in length order: batches of nearly equal lengths waste little on padding
        start = int(torch.randint(len(order) - batch + 1, (1,), generator=g))
        rows = [examples[i] for i in order[start: start + batch]]
        T = max(len(r[0]) for r in rows)
        ids = torch.zeros(batch, T, dtype=torch.long)
        mask = torch.zeros(batch, T, dtype=torch.long)
        target = torch.full((batch, T), -100, dtype=torch.long)
        for b, (full, start) in enumerate(rows):
            ids[b, : len(full)] = torch.tensor(full)
            mask[b, : len(full)] = 1
            target[b, start - 1: len(full) - 1] = torch.tensor(full[start:])
        pos = torch.arange(T)[None].expand(batch, T)
        h, _ = m.hidden(ids, mask, pos)
        sel = target.view(-1) != -100
        logits = m.head(h.reshape(-1, h.shape[-1])[sel])
        loss = F.cross_entropy(logits, target.view(-1)[sel])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"  step {step:4d}  loss {loss.item():.4f}  lr {cur:.5f}  ({time.time() - t0:.0f}s)")
    m.eval()


def export_onnx(m: CausalLM, path, external_data):
    a = m.a
    n = a.num_hidden_layers
    B, S, P = 2, 3, 4
    args = [torch.randint(0, a.vocab_size, (B, S)), torch.ones(B, P + S, dtype=torch.long),
            torch.arange(P, P + S)[None].expand(B, S).contiguous()]
    names_in = ["input_ids", "attention_mask", "position_ids"]
    names_out = ["logits"]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(n):
        for kv in ("key", "value"):
            args.append(torch.randn(B, a.num_key_value_heads, P, a.head_dim))
            names_in.append(f"past_key_values.{i}.{kv}")
            dyn[names_in[-1]] = {0: "batch_size", 2: "past_sequence_length"}
            names_out.append(f"present.{i}.{kv}")
            dyn[names_out[-1]] = {0: "batch_size", 2: "total_sequence_length"}
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(OnnxDecoder(m), tuple(args), tmp, input_names=names_in, output_names=names_out,
                          dynamic_axes=dyn, opset_version=OPSET, do_constant_folding=True)
    model = onnx.load(tmp)
    os.remove(tmp)
    onnx.checker.check_model(model)
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    if external_data:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + "_data", size_threshold=1024)
    else:
        onnx.save_model(model, path)
    return model


def io_summary(model):
    def shape(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    def dtype(v):
        return onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type).lower()

    return ({v.name: (dtype(v), shape(v)) for v in model.graph.input},
            {v.name: (dtype(v), shape(v)) for v in model.graph.output})


def model_readme(name, arch, config, tok, extra):
    return f"""# {name}

A tiny conformance model in the Hugging Face ONNX-export layout (the `onnx-community/*` / transformers.js layout),
built by `tools/conformance-models/make_text_models.py` (see `tools/conformance-models/README.md`). **The weights are
synthetic**: a {arch.num_hidden_layers}-layer decoder trained here for a few minutes on a small synthetic chat
corpus rendered through the real chat template, so that it answers confidently (greedy decoding does not flip on
last-bit float differences). It knows nothing; its goldens are in `tests/conformance/goldens/{name}.json`.

| | |
|---|---|
| mirrors | {extra['mirrors']} |
| model_type / architectures | `{config['model_type']}` / `{config['architectures'][0]}` |
| hidden / intermediate | {arch.hidden_size} / {arch.intermediate_size} |
| layers, heads, KV heads, head_dim | {arch.num_hidden_layers}, {arch.num_attention_heads}, {arch.num_key_value_heads}, {arch.head_dim} |
| vocab_size (config) / tokenizer ids | {arch.vocab_size} / {tok.size} |
| RoPE | theta {arch.rope_theta:g}{', llama3 scaling' if arch.rope_scaling else ''} |
| tied embeddings | {str(arch.tie_word_embeddings).lower()} |
| tokenizer | {extra['tokenizer']} |
| chat template | {extra['template']} |
| ONNX files | {extra['files']} |

ONNX I/O (opset {OPSET}): `input_ids` int64 [batch_size, sequence_length], `attention_mask` int64
[batch_size, total_sequence_length], `position_ids` int64 [batch_size, sequence_length],
`past_key_values.{{i}}.key|value` float32 [batch_size, {arch.num_key_value_heads}, past_sequence_length, {arch.head_dim}] →
`logits` float32 [batch_size, sequence_length, {arch.vocab_size}], `present.{{i}}.key|value` float32
[batch_size, {arch.num_key_value_heads}, total_sequence_length, {arch.head_dim}] (keys after RoPE).
{extra.get('notes', '')}"""


EXTRA = {
    "tiny-llama3": {
        "mirrors": "meta-llama/Llama-3.1-8B-Instruct (config fields, special tokens, eos list, generation_config)",
        "tokenizer": "`llama3-style` fixture (Llama 3 regex + ByteLevel, TemplateProcessing BOS) with Llama 3's "
                     "special tokens after the vocabulary",
        "template": "Llama 3.1 Instruct's, verbatim (renders `Today Date: 26 Jul 2024` unless `date_string` is passed)",
        "files": "`onnx/model.onnx` (fp32), `onnx/model_quantized.onnx` (dtype `q8`: dynamic int8 MatMuls, "
                 "fp32 I/O, as onnxruntime's quantize_dynamic writes them; goldens in "
                 "`tests/conformance/goldens/tiny-llama3.q8.json`)",
        "notes": "\nThe q8 goldens hold for batch 1 only: DynamicQuantizeLinear takes one scale per activation tensor, "
                 "over the whole batch, so a row's numbers depend on the other rows (and their padding).\n",
    },
    "tiny-qwen2": {
        "mirrors": "Qwen/Qwen2.5-0.5B-Instruct (q/k/v biases, tied embeddings, vocab padded past the tokenizer)",
        "tokenizer": "`qwen2-style` fixture (NFC, Qwen2 regex, ByteLevel) with Qwen2.5's 22 added tokens "
                     "(`<tool_call>` and the FIM tokens are not special, as in Qwen2.5)",
        "template": "Qwen2.5 Instruct's, verbatim (default system prompt when none is given)",
        "files": "`onnx/model.onnx` + `onnx/model.onnx_data` (external data, one file); config.json's "
                 "`transformers.js_config.use_external_data_format` says so",
        "notes": "\ngeneration_config.json leaves out Qwen2.5's `repetition_penalty` (1.05-1.1): transformers.js applies "
                 "it even when greedy, and the goldens are plain greedy.\n",
    },
    "tiny-phi3": {
        "mirrors": "microsoft/Phi-3.5-mini-instruct (fused qkv_proj / gate_up_proj, eos list [<|end|>, "
                   "<|assistant|>, <|endoftext|>], vocab padded to a multiple of 64) — with GQA and without longrope",
        "tokenizer": "`llama2-style` fixture (SentencePiece-style BPE, byte fallback) with Phi-3's 11 added tokens "
                     "(rstrip on every chat token, `</s>` not special), no BOS in chat prompts (add_bos_token false)",
        "template": "Phi-3.5-mini-instruct's, verbatim",
        "files": "`onnx/model.onnx` (fp32)",
    },
}


def build(name, args, log):
    make_tok, make_spec, seed, steps, external, quantized = MODELS[name]
    out = os.path.join(ROOT, "models", "conformance", name)
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "onnx"))
    tok = make_tok()
    arch, config, gen, lookalike = make_spec(tok)
    assert arch.vocab_size >= tok.size
    tok.write(out)
    write_json(os.path.join(out, "config.json"), config)
    write_json(os.path.join(out, "generation_config.json"), gen)
    log(f"{name}: tokenizer {tok.size} ids, vocab_size {arch.vocab_size}")

    examples = training_set(out, work, seed, args.train_size, log)
    torch.manual_seed(seed)
    m = CausalLM(arch)
    ckpt = os.path.join(work, "model.pt")
    if args.reuse and os.path.exists(ckpt):
        log(f"  {sum(p.numel() for p in m.parameters())} parameters; reusing {ckpt} (--reuse)")
        m.load_state_dict(torch.load(ckpt))
        m.eval()
    else:
        log(f"  {sum(p.numel() for p in m.parameters())} parameters; training {steps} steps")
        train(m, examples, steps if not args.quick else 20, seed + 1, log)
        torch.save(m.state_dict(), ckpt)

    path = os.path.join(out, "onnx", "model.onnx")
    model = export_onnx(m, path, external)
    ins, outs = io_summary(model)
    log(f"  ONNX inputs {ins}")
    log(f"  ONNX outputs {outs}")
    if quantized:
        q = quantize_dynamic_int8(model)
        onnx.save_model(q, os.path.join(out, "onnx", "model_quantized.onnx"))
        log("  wrote onnx/model_quantized.onnx (dynamic int8)")

    cases = D.cases(lookalike)
    flat = [(ci, msgs) for ci, c in enumerate(cases) for msgs in c["variants"]]
    toks = tokenize(out, work, [{"messages": msgs, "add_generation_prompt": True} for _, msgs in flat], "cases")
    eos = set(gen["eos_token_id"] if isinstance(gen["eos_token_id"], list) else [gen["eos_token_id"]])
    chosen = {}
    for (ci, msgs), t in zip(flat, toks):
        if ci in chosen:
            continue
        ids, margins = greedy(m, t["ids"], MAX_NEW_TOKENS, eos)
        c = cases[ci]
        last = msgs is c["variants"][-1]
        if min(margins) >= MIN_MARGIN or last:
            chosen[ci] = (msgs, t["ids"], ids, min(margins), c["variants"].index(msgs))
        else:
            log(f"    {c['id']}: variant {c['variants'].index(msgs)} has margin {min(margins):.4f}; trying the next")
    worst = 1e9
    for ci, c in enumerate(cases):
        msgs, prompt, ids, mm, vi = chosen[ci]
        c["messages"], c["_prompt"], c["_torch"] = msgs, prompt, ids
        worst = min(worst, mm)
        log(f"    {c['id']}: variant {vi}, prompt {len(prompt):3d} tokens, {len(ids):2d} new "
            f"{'(eos)' if ids[-1] in eos else '     '} min margin {mm:7.3f}  distinct {len(set(ids))}")
    log(f"  {name}: minimum top1-top2 logit margin over all greedy steps of all cases: {worst:.4f}")
    if worst < MIN_MARGIN:
        raise SystemExit(f"{name}: a case has no variant with margin >= {MIN_MARGIN}; add variants in textmodels/data.py")
    cases_doc = {"model": name, "kind": "text", "max_new_tokens": MAX_NEW_TOKENS,
                 "cases": [{k: v for k, v in c.items() if k in ("id", "messages", "special_lookalike")}
                           for c in cases]}
    cases_path = os.path.join(ROOT, "tests", "conformance", "cases", f"{name}.json")
    write_json(cases_path, cases_doc)

    files = sorted(os.listdir(os.path.join(out, "onnx")))
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(model_readme(name, arch, config, tok, EXTRA[name]))
    size = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(out) for fn in fns)
    log(f"  {out}: {size / 1e6:.2f} MB ({', '.join(files)})")

    if args.goldens:
        golden = os.path.join(ROOT, "tests", "conformance", "goldens", f"{name}.json")
        node("generate.mjs", "--model", out, "--cases", cases_path, "--out", golden)
        with open(golden, encoding="utf-8") as f:
            g = json.load(f)
        bad = [(c["id"], c["_torch"], gc["output_ids"]) for c, gc in zip(cases, g["cases"]) if c["_torch"] != gc["output_ids"]]
        prompt_bad = [c["id"] for c, gc in zip(cases, g["cases"]) if gc["prompt_ids"] != c["_prompt"]]
        if bad or prompt_bad:
            raise SystemExit(f"transformers.js differs from PyTorch: outputs {bad}, prompts {prompt_bad}")
        log(f"  goldens: transformers.js == PyTorch greedy on all {len(cases)} cases")
        if quantized:
            gq = os.path.join(ROOT, "tests", "conformance", "goldens", f"{name}.q8.json")
            node("generate.mjs", "--model", out, "--cases", cases_path, "--out", gq, "--dtype", "q8",
                 "--min-margin", str(MIN_MARGIN))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", action="append", choices=sorted(MODELS), help="build only this model (repeatable)")
    ap.add_argument("--no-goldens", dest="goldens", action="store_false", help="skip transformers.js")
    ap.add_argument("--quick", action="store_true", help="20 training steps: a smoke test")
    ap.add_argument("--reuse", action="store_true",
                    help="load work/<name>/model.pt from an earlier run instead of training (to iterate on cases)")
    ap.add_argument("--train-size", type=int, default=6000)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.work, exist_ok=True)
    if not os.path.isdir(os.path.join(ORACLE, "node_modules", "@huggingface", "transformers")):
        raise SystemExit("run: npm ci --ignore-scripts --prefix tools/conformance-models/oracle")
    log = Log(os.path.join(args.work, "log.txt"))
    margins = {name: build(name, args, log) for name in (args.only or list(MODELS))}
    log("minimum margins: " + ", ".join(f"{k} {v:.4f}" for k, v in margins.items()))


if __name__ == "__main__":
    main()
