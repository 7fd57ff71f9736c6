"""Tokenizer files: the repo's llama2-style fixture (SentencePiece-style BPE, <s> via TemplateProcessing) plus each
model's added tokens, laid out as the real checkpoints lay them out (ids right after the base vocabulary)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[3] / "tests/MmServe.Model.Tests/Tokenization/Fixtures/llama2-style.tokenizer.json"

# llava-hf/llava-1.5-7b-hf's chat_template (chat_template.json), verbatim. @huggingface/jinja renders
# {% generation %} (it only marks assistant text for training masks), so it is kept.
LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}"
    "{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>\n' }}{% endfor %}{# Render all text next #}{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}"
    "{% endfor %}{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)

# microsoft/Phi-3.5-vision-instruct's chat_template (tokenizer_config.json), verbatim (same as Phi-3-vision's).
PHI3V_CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt and messages[-1]['role'] != 'assistant' %}{{- '<|assistant|>\n' -}}{% endif %}"
)


def _added(i: int, content: str, rstrip: bool = False, special: bool = True) -> dict:
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": rstrip,
            "normalized": False, "special": special}


def _decoder_entry(t: dict) -> dict:
    return {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}


def base() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def llava_tokenizer() -> tuple[dict, dict, dict, dict]:
    """tokenizer.json, tokenizer_config.json, special_tokens_map.json, ids; as llava-hf: <image>, <pad> after the
    base vocabulary (32000, 32001 there)."""
    tok = base()
    n = len(tok["model"]["vocab"])
    ids = {"<unk>": 0, "<s>": 1, "</s>": 2, "<image>": n, "<pad>": n + 1}
    tok["added_tokens"] = tok["added_tokens"] + [_added(n, "<image>"), _added(n + 1, "<pad>")]
    cfg = {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": {str(t["id"]): _decoder_entry(t) for t in tok["added_tokens"]},
        "bos_token": "<s>",
        "chat_template": LLAVA_CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "legacy": False,
        "model_max_length": 4096,
        "pad_token": "<pad>",
        "padding_side": "left",
        "processor_class": "LlavaProcessor",
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": "<unk>",
        "use_default_system_prompt": False,
    }
    stm = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
    for k in ("bos_token", "eos_token", "pad_token", "unk_token"):
        stm[k] = {"content": stm[k], "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}
    return tok, cfg, stm, ids


PHI3_ADDED = [  # (offset from the base vocabulary, content, rstrip) as in Phi-3's tokenizer.json (32000 + offset)
    (0, "<|endoftext|>", False),
    (1, "<|assistant|>", True),
    (2, "<|placeholder1|>", True),
    (3, "<|placeholder2|>", True),
    (4, "<|placeholder3|>", True),
    (5, "<|placeholder4|>", True),
    (6, "<|system|>", True),
    (7, "<|end|>", True),
    (8, "<|placeholder5|>", True),
    (9, "<|placeholder6|>", True),
    (10, "<|user|>", True),
    (11, "<|image|>", False),
]


def phi3v_tokenizer() -> tuple[dict, dict, dict, dict]:
    tok = base()
    n = len(tok["model"]["vocab"])
    ids = {"<unk>": 0, "<s>": 1, "</s>": 2}
    extra = []
    for off, content, rstrip in PHI3_ADDED:
        extra.append(_added(n + off, content, rstrip=rstrip))
        ids[content] = n + off
    tok["added_tokens"] = tok["added_tokens"] + extra
    cfg = {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": {str(t["id"]): _decoder_entry(t) for t in tok["added_tokens"]},
        "bos_token": "<s>",
        "chat_template": PHI3V_CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|endoftext|>",
        "legacy": False,
        "model_max_length": 131072,
        "pad_token": "<|endoftext|>",
        "padding_side": "right",
        "processor_class": "Phi3VProcessor",
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": "<unk>",
        "use_default_system_prompt": False,
    }
    stm = {}
    for k, v in (("bos_token", "<s>"), ("eos_token", "<|endoftext|>"), ("pad_token", "<|endoftext|>"), ("unk_token", "<unk>")):
        stm[k] = {"content": v, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}
    return tok, cfg, stm, ids


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
