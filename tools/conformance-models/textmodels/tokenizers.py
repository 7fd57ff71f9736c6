"""tokenizer.json / tokenizer_config.json / special_tokens_map.json of the three conformance models, built from the
repo's tokenizer fixtures (tests/MmServe.Model.Tests/Tokenization/Fixtures) with the real models' special tokens,
flags and chat templates (tests/MmServe.Model.Tests/Chat/Jinja/Templates, verbatim)."""
from __future__ import annotations

import copy
import json
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "MmServe.Model.Tests", "Tokenization", "Fixtures")
TEMPLATES = os.path.join(ROOT, "tests", "MmServe.Model.Tests", "Chat", "Jinja", "Templates")


def _fixture(name):
    with open(os.path.join(FIXTURES, f"{name}-style.tokenizer.json"), encoding="utf-8") as f:
        return json.load(f)


def _template(name):
    with open(os.path.join(TEMPLATES, f"{name}.jinja"), encoding="utf-8") as f:
        return f.read()


def added(id_, content, special=True, lstrip=False, rstrip=False, normalized=False):
    return {"id": id_, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": normalized, "special": special}


def decoder_entry(t):
    return {"content": t["content"], "lstrip": t["lstrip"], "normalized": t["normalized"], "rstrip": t["rstrip"],
            "single_word": t["single_word"], "special": t["special"]}


def token_map_entry(t):
    return {"content": t["content"], "lstrip": t["lstrip"], "normalized": t["normalized"], "rstrip": t["rstrip"],
            "single_word": t["single_word"]}


class Tok:
    """What the recipe needs to know about a model's tokenizer besides its files."""

    def __init__(self, tokenizer_json, tokenizer_config, special_tokens_map):
        self.tokenizer_json = tokenizer_json
        self.tokenizer_config = tokenizer_config
        self.special_tokens_map = special_tokens_map
        self.ids = {t["content"]: t["id"] for t in tokenizer_json["added_tokens"]}
        self.size = 1 + max(max(tokenizer_json["model"]["vocab"].values()), max(self.ids.values()))

    def write(self, out_dir):
        for name, obj in (("tokenizer.json", self.tokenizer_json), ("tokenizer_config.json", self.tokenizer_config),
                          ("special_tokens_map.json", self.special_tokens_map)):
            with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
                json.dump(obj, f, indent=2, ensure_ascii=False)
                f.write("\n")


def llama3() -> Tok:
    """Llama 3.1 Instruct: the fixture already has Llama 3's special tokens (<|begin_of_text|> ... <|python_tag|>,
    ids after the vocabulary) and its TemplateProcessing BOS post-processor."""
    tj = _fixture("llama3")
    toks = tj["added_tokens"]
    cfg = {
        "added_tokens_decoder": {str(t["id"]): decoder_entry(t) for t in toks},
        "bos_token": "<|begin_of_text|>",
        "chat_template": _template("meta-llama-Llama-3.1-8B-Instruct"),
        "clean_up_tokenization_spaces": True,
        "eos_token": "<|eot_id|>",
        "model_input_names": ["input_ids", "attention_mask"],
        "model_max_length": 131072,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    by = {t["content"]: t for t in toks}
    stm = {"bos_token": token_map_entry(by["<|begin_of_text|>"]), "eos_token": token_map_entry(by["<|eot_id|>"])}
    return Tok(tj, cfg, stm)


# Qwen2.5's added tokens in their real order (ids 151643.. there); the tool-call / FIM ones are not special.
QWEN25_ADDED = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True), ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True), ("<|box_start|>", True), ("<|box_end|>", True), ("<|quad_start|>", True),
    ("<|quad_end|>", True), ("<|vision_start|>", True), ("<|vision_end|>", True), ("<|vision_pad|>", True),
    ("<|image_pad|>", True), ("<|video_pad|>", True), ("<tool_call>", False), ("</tool_call>", False),
    ("<|fim_prefix|>", False), ("<|fim_middle|>", False), ("<|fim_suffix|>", False), ("<|fim_pad|>", False),
    ("<|repo_name|>", False), ("<|file_sep|>", False),
]


def qwen2() -> Tok:
    """Qwen2.5 Instruct: the fixture's byte-level BPE (NFC, Qwen2's regex) with Qwen2.5's 22 added tokens."""
    tj = _fixture("qwen2")
    first = 1 + max(tj["model"]["vocab"].values())
    toks = [added(first + i, c, special=s) for i, (c, s) in enumerate(QWEN25_ADDED)]
    tj["added_tokens"] = toks
    specials = [c for c, s in QWEN25_ADDED if s and c != "<|endoftext|>"]
    cfg = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {str(t["id"]): decoder_entry(t) for t in toks},
        "additional_special_tokens": specials,
        "bos_token": None,
        "chat_template": _template("Qwen-Qwen2.5-7B-Instruct"),
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 131072,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    by = {t["content"]: t for t in toks}
    stm = {"additional_special_tokens": specials, "eos_token": token_map_entry(by["<|im_end|>"]),
           "pad_token": token_map_entry(by["<|endoftext|>"])}
    return Tok(tj, cfg, stm)


# Phi-3 / Phi-3.5-mini's added tokens (ids 32000.. there): every chat token strips whitespace on its right.
PHI3_ADDED = [("<|endoftext|>", False), ("<|assistant|>", True), ("<|placeholder1|>", True), ("<|placeholder2|>", True),
              ("<|placeholder3|>", True), ("<|placeholder4|>", True), ("<|system|>", True), ("<|end|>", True),
              ("<|placeholder5|>", True), ("<|placeholder6|>", True), ("<|user|>", True)]


def phi3() -> Tok:
    """Phi-3.5-mini-instruct: the fixture's SentencePiece-style BPE (byte fallback, <unk>/<s>/</s> at 0-2) with
    Phi-3's added tokens after the vocabulary. As in the real files, </s> is not special and strips right."""
    tj = _fixture("llama2")
    base = copy.deepcopy(tj["added_tokens"])
    for t in base:
        if t["content"] == "</s>":
            t["rstrip"], t["special"] = True, False
    first = 1 + max(tj["model"]["vocab"].values())
    toks = base + [added(first + i, c, rstrip=r) for i, (c, r) in enumerate(PHI3_ADDED)]
    tj["added_tokens"] = toks
    cfg = {
        "add_bos_token": False,
        "add_eos_token": False,
        "added_tokens_decoder": {str(t["id"]): decoder_entry(t) for t in toks},
        "bos_token": "<s>",
        "chat_template": _template("microsoft-Phi-3.5-mini-instruct"),
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|endoftext|>",
        "legacy": False,
        "model_max_length": 131072,
        "pad_token": "<|endoftext|>",
        "padding_side": "left",
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": "<unk>",
        "use_default_system_prompt": False,
    }
    by = {t["content"]: t for t in toks}
    stm = {"bos_token": token_map_entry(by["<s>"]), "eos_token": token_map_entry(by["<|endoftext|>"]),
           "pad_token": token_map_entry(by["<|endoftext|>"]), "unk_token": token_map_entry(by["<unk>"])}
    return Tok(tj, cfg, stm)
