#!/usr/bin/python3
"""Turn an MmServe bundle's text path (embed_tokens.onnx + a decoder) into an ONNX Runtime GenAI model folder.

    /usr/bin/python3 tools/conformance-models/genai/make_genai_folder.py \
        [--bundle models/mmserve-tiny] [--decoder decoder.onnx] [--out models/conformance/genai-tiny]

What it writes into --out (see README.md beside this script):
  model.onnx             embed_tokens and the decoder merged into one graph with onnx.compose (input_ids in, so
                         ORT GenAI's "decoder" type can run it: it feeds token ids, not embeddings); outputs other
                         than logits and present.* are dropped.
  genai_config.json      model.type "decoder", the decoder's I/O names (%d for the layer), head counts, context
                         length, ids, and search defaults; search.past_present_share_buffer is true exactly when the
                         decoder uses com.microsoft.GroupQueryAttention (whose KV is one max-length buffer).
  tokenizer.json         the bundle's, unchanged.
  tokenizer_config.json  what ORT GenAI 0.18.0 (onnxruntime-extensions) reads besides tokenizer.json: the tokenizer
                         class, special tokens, add_bos_token, added_tokens_decoder and the chat template.

Pass --decoder decoder_gqa.onnx --out models/conformance/genai-tiny-gqa for the GroupQueryAttention form.
Needs Debian's python3-onnx (onnx 1.12) and numpy only; deterministic (same inputs, byte-identical outputs).
"""

import argparse
import contextlib
import json
import os
import sys

import onnx
from onnx import compose

GQA_OP = ("com.microsoft", "GroupQueryAttention")


def load_manifest(bundle):
    with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


@contextlib.contextmanager
def opsets_kept_in_submodels(opsets):
    """onnx 1.12's merge_graphs wraps each graph in helper.make_model() with the default opsets only, so shape inference
    of a graph with contrib ops (com.microsoft.GroupQueryAttention) fails with "No opset import for domain". Give
    those temporary models the inputs' opsets; the merged model's own opsets are merged by merge_models as before."""
    original = onnx.helper.make_model
    by_domain = {}
    for opset in opsets:
        by_domain[opset.domain] = max(by_domain.get(opset.domain, 0), opset.version)

    def make_model(graph, **kwargs):
        kwargs.setdefault("opset_imports", [onnx.helper.make_opsetid(d, v) for d, v in sorted(by_domain.items())])
        return original(graph, **kwargs)

    onnx.helper.make_model = make_model
    try:
        yield
    finally:
        onnx.helper.make_model = original


def merge_embed_and_decoder(bundle, manifest, decoder_file):
    """One graph: input_ids -> embed_tokens -> inputs_embeds -> decoder -> logits, present.*"""
    embedding = manifest["embedding"]
    spec = manifest["decoder"]
    embed = onnx.load(os.path.join(bundle, manifest["components"][embedding["component"]]["file"]))
    decoder = onnx.load(os.path.join(bundle, decoder_file))
    layers = spec["num_layers"]
    kept_outputs = [spec["logits"]]
    for layer in range(layers):
        kept_outputs.append(spec["present_key"].replace("{layer}", str(layer)))
        kept_outputs.append(spec["present_value"].replace("{layer}", str(layer)))
    # compose needs equal IR versions and opsets; the two exports come from one torch run, so they already agree
    # (checked rather than assumed: merge_models raises on a mismatch).
    with opsets_kept_in_submodels(list(embed.opset_import) + list(decoder.opset_import)):
        merged = compose.merge_models(
            embed,
            decoder,
            io_map=[(embedding["inputs_embeds"], spec["inputs_embeds"])],
            outputs=kept_outputs,
            producer_name="tools/conformance-models/genai/make_genai_folder.py",
        )
    onnx.checker.check_model(merged)
    uses_gqa = any((n.domain, n.op_type) == GQA_OP for n in decoder.graph.node)
    return merged, uses_gqa


def token_id(vocab, token):
    if token not in vocab:
        sys.exit(f"token {token!r} is not in tokenizer.json")
    return vocab[token]


def tokenizer_vocab(tokenizer):
    vocab = dict(tokenizer["model"]["vocab"])
    for added in tokenizer["added_tokens"]:
        vocab[added["content"]] = added["id"]
    return vocab


def genai_config(manifest, vocab, uses_gqa):
    spec = manifest["decoder"]
    tok = manifest["tokenizer"]
    eos_ids = [token_id(vocab, t) for t in tok["eos_tokens"]]

    def per_layer(pattern):
        return pattern.replace("{layer}", "%d")

    return {
        "model": {
            # mmserve-tiny renders no BOS (its template has none, add_bos_token is false); ORT GenAI still wants an id
            # here, and like Qwen2's exports this names <|endoftext|>.
            "bos_token_id": token_id(vocab, "<|endoftext|>"),
            "context_length": manifest["max_context"],
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                "filename": "model.onnx",
                "head_size": spec["head_dim"],
                "hidden_size": spec["hidden_size"],
                "inputs": {
                    "input_ids": "input_ids",
                    "attention_mask": spec["attention_mask"],
                    "position_ids": spec["position_ids"],
                    "past_key_names": per_layer(spec["past_key"]),
                    "past_value_names": per_layer(spec["past_value"]),
                },
                "outputs": {
                    "logits": spec["logits"],
                    "present_key_names": per_layer(spec["present_key"]),
                    "present_value_names": per_layer(spec["present_value"]),
                },
                "num_attention_heads": spec["num_attention_heads"],
                "num_hidden_layers": spec["num_layers"],
                "num_key_value_heads": spec["num_kv_heads"],
            },
            "eos_token_id": eos_ids,
            "pad_token_id": token_id(vocab, tok["pad_token"]),
            "type": "decoder",
            "vocab_size": spec["vocab_size"],
        },
        "search": {
            "diversity_penalty": 0.0,
            "do_sample": False,
            "early_stopping": True,
            "length_penalty": 1.0,
            "max_length": manifest["max_context"],
            "min_length": 0,
            "no_repeat_ngram_size": 0,
            "num_beams": 1,
            "num_return_sequences": 1,
            "past_present_share_buffer": uses_gqa,
            "repetition_penalty": 1.0,
            "temperature": 1.0,
            "top_k": 1,
            "top_p": 1.0,
        },
    }


def tokenizer_config(manifest, tokenizer, chat_template):
    tok = manifest["tokenizer"]
    added = {
        str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
        for t in tokenizer["added_tokens"]
    }
    return {
        "add_bos_token": False,
        "add_eos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": added,
        "bos_token": None,
        "chat_template": chat_template,
        "clean_up_tokenization_spaces": False,
        "eos_token": tok["eos_tokens"][0],
        "errors": "replace",
        "model_max_length": manifest["max_context"],
        "pad_token": tok["pad_token"],
        # A byte-level BPE with GPT-2's pre-tokenizer regex (tokenizer.json: ByteLevel, use_regex): onnxruntime-
        # extensions picks its BPE kernel and regex from this class name.
        "tokenizer_class": "GPT2Tokenizer",
        "unk_token": None,
    }


def write_json(path, value):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", default="models/mmserve-tiny")
    parser.add_argument("--decoder", default="decoder.onnx", help="decoder file inside the bundle")
    parser.add_argument("--out", default="models/conformance/genai-tiny")
    args = parser.parse_args()

    manifest = load_manifest(args.bundle)
    with open(os.path.join(args.bundle, manifest["tokenizer"]["file"]), encoding="utf-8") as f:
        tokenizer_text = f.read()
    tokenizer = json.loads(tokenizer_text)
    with open(os.path.join(args.bundle, manifest["chat_template"]["file"]), encoding="utf-8") as f:
        chat_template = f.read()

    merged, uses_gqa = merge_embed_and_decoder(args.bundle, manifest, args.decoder)
    os.makedirs(args.out, exist_ok=True)
    onnx.save(merged, os.path.join(args.out, "model.onnx"))
    write_json(os.path.join(args.out, "genai_config.json"), genai_config(manifest, tokenizer_vocab(tokenizer), uses_gqa))
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(tokenizer_text)
    write_json(os.path.join(args.out, "tokenizer_config.json"), tokenizer_config(manifest, tokenizer, chat_template))
    print(f"{args.out}: model.onnx ({'GroupQueryAttention, shared KV buffer' if uses_gqa else 'concat KV'}), "
          "genai_config.json, tokenizer.json, tokenizer_config.json")


if __name__ == "__main__":
    main()
