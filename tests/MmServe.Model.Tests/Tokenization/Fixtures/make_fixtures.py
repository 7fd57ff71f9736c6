#!/usr/bin/env python3
"""Writes the small tokenizer.json fixtures in this folder (see README.md).

HF tokenizers (the Python package) is not installable here, so BPE is trained by this script: a plain
greedy pair-count BPE over the repo's Markdown plus a multilingual seed. The files only need to be
real-shaped (same JSON layout, normalizers, pre-tokenizers, decoders and special tokens as the models they
mirror); parity is checked against HF's Rust tokenizers at test time, so their quality does not matter.
Run from the repo root: python3 tests/MmServe.Model.Tests/Tokenization/Fixtures/make_fixtures.py
"""
import collections
import glob
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))

SEED = """
Der schnelle braune Fuchs springt über den faulen Hund. Übermäßig große Äpfel schmecken süß.
Le cœur a ses raisons que la raison ne connaît point. Où est la bibliothèque ? C'était l'été.
El niño comió una manzana. ¿Dónde está la estación? Mañana será otro día.
Быстрая коричневая лиса прыгает через ленивую собаку. Привет, как дела?
Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.
我们今天去公园散步，天气很好。机器学习模型需要大量的数据。你好，世界！
東京は日本の首都です。ひらがなとカタカナと漢字を使います。ありがとうございます。
안녕하세요, 만나서 반갑습니다. 오늘 날씨가 좋네요.
مرحبا بالعالم. كيف حالك اليوم؟
नमस्ते दुनिया। आप कैसे हैं?
I'm sure you'll see it's what we've done; they'd said we'll.
Numbers: 0 1 2 3 12 123 1234 3.14159 2026-11-30 $42.00 100% 1,000,000
Emoji: 😀 😂 👍 🎉 ❤️ 👨‍👩‍👧‍👦 🏳️‍🌈 🇩🇪 👋🏽
Code: def f(x): return x * 2  # comment
    if (a && b) { return c[i] + d->e; }
\tindented\twith\ttabs
"""


def corpus():
    text = SEED * 3
    for path in sorted(glob.glob(os.path.join(ROOT, "*.md")) + glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        with open(path, encoding="utf-8") as f:
            text += f.read()
    return text


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def train(words, initial_symbols, merges_wanted):
    """Greedy BPE: words is {tuple(symbols): count}; returns (vocab list in id order, merges list)."""
    vocab = list(initial_symbols)
    known = set(vocab)
    words = {w: c for w, c in words.items()}
    merges = []
    for _ in range(merges_wanted):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        (a, b), count = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        if count < 2:
            break
        merges.append((a, b))
        if a + b not in known:
            known.add(a + b)
            vocab.append(a + b)
        new_words = {}
        for w, c in words.items():
            out = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    return vocab, merges


def added(id_, content, special=True, rstrip=False, lstrip=False):
    return {"id": id_, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": False, "special": special}


def bpe_model(vocab, merges, **kw):
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False}
    model.update(kw)
    model["vocab"] = {t: i for i, t in enumerate(vocab)}
    model["merges"] = [[a, b] for a, b in merges]
    return model


def write(name, doc):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")


def byte_level(text, merges_wanted, extra_words=()):
    table = bytes_to_unicode()
    counts = collections.Counter(re.findall(r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d{1,3}| ?[^\s\w]+|\s+", text))
    words = collections.Counter()
    for w, c in counts.items():
        words[tuple(table[b] for b in w.encode("utf-8"))] += c
    vocab, merges = train(words, [table[b] for b in range(256)], merges_wanted)
    # Whole-word tokens that no merge reaches: only ignore_merges (Llama-3) can produce them.
    for w in extra_words:
        token = "".join(table[b] for b in w.encode("utf-8"))
        if token not in vocab:
            vocab.append(token)
    return vocab, merges


def byte_level_doc(vocab, merges, added_tokens, pre_tokenizer, normalizer=None, post_processor=None, **model_kw):
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added_tokens,
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post_processor,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": bpe_model(vocab, merges, **model_kw)}


LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def main():
    text = corpus()

    vocab, merges = byte_level(text, 1500)
    write("gpt2-style.tokenizer.json", byte_level_doc(
        vocab, merges, [added(len(vocab), "<|endoftext|>")],
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        post_processor={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}))

    vocab, merges = byte_level(text, 1500, extra_words=["Ġsupercalifragilistic", " tokenizer", "tokenization"])
    n = len(vocab)
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"]
    bos = {"id": "<|begin_of_text|>", "type_id": 0}
    write("llama3-style.tokenizer.json", byte_level_doc(
        vocab, merges, [added(n + i, s) for i, s in enumerate(specials)],
        {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        post_processor={"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": bos}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": bos}, {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [n], "tokens": ["<|begin_of_text|>"]}}}]},
        ignore_merges=True))

    vocab, merges = byte_level(text, 1500)
    n = len(vocab)
    write("qwen2-style.tokenizer.json", byte_level_doc(
        vocab, merges, [added(n + i, s) for i, s in enumerate(["<|endoftext|>", "<|im_start|>", "<|im_end|>",
                                                              "<|vision_start|>", "<|image_pad|>"])],
        {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        normalizer={"type": "NFC"},
        post_processor={"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}))

    # DeepSeek-V3 style: several Split steps before ByteLevel (digits, CJK runs, then a GPT-4-like pattern).
    vocab, merges = byte_level(text, 1500)
    n = len(vocab)
    # DeepSeek's letter class is a long literal list of ranges; a shorter one of the same kind, escaped so no
    # editor normalizes it.
    deepseek_split = (r"[\r\n]|\s[^\S\r\n]+|\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u0370-\u03ff"
                      r"\u0400-\u04ff\u1f00-\u1fff\uff21-\uff3a\uff41-\uff5a]+|\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e"
                      r"\u2018-\u201f\u3000-\u3002]+|\s+$|[^\r\n\p{L}\p{P}\p{S}]*[\p{L}\p{M}]+|\s*\p{N}+"
                      r"|\s+(?!\S)|\s+|.")
    write("deepseek-style.tokenizer.json", byte_level_doc(
        vocab, merges, [added(n + i, s) for i, s in enumerate(["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
                                                              "<｜User｜>", "<｜Assistant｜>"])],
        {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": r"\p{N}{1,3}"}, "behavior": "Isolated", "invert": False},
            {"type": "Split", "pattern": {"Regex": "[一-龥\u3040-ゟ゠-ヿ]+"}, "behavior": "Isolated", "invert": False},
            {"type": "Split", "pattern": {"Regex": deepseek_split}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}))

    # SentencePiece-style BPE: "▁" for spaces, byte fallback for characters outside the vocab.
    sp_text = "▁" + text.replace(" ", "▁")
    chars = collections.Counter(sp_text)
    alphabet = sorted(c for c, k in chars.items() if k >= 3 and c not in "\r\n\t")
    # Characters outside the alphabet are left to byte fallback, so words holding one are not trained on.
    words = collections.Counter(tuple(w) for w in re.findall(r"▁?[^▁]+|▁+", sp_text) if set(w) <= set(alphabet))
    head = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    vocab, merges = train(words, head + alphabet, 1200)
    sp_decoder = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    sp_added = [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")]
    template = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    sp_model = dict(unk_token="<unk>", fuse_unk=True, byte_fallback=True)

    write("llama2-style.tokenizer.json", {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": sp_added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": None, "post_processor": template, "decoder": sp_decoder,
        "model": bpe_model(vocab, merges, **sp_model)})

    # Mistral (newer conversions) moves the "▁" handling into a Metaspace pre-tokenizer; the chat tokens are
    # Phi-3's, which strip the whitespace after them.
    n = len(vocab)
    phi3 = [added(n + i, s, rstrip=True) for i, s in enumerate(["<|user|>", "<|assistant|>", "<|end|>", "<|system|>"])]
    write("mistral-style.tokenizer.json", {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": sp_added + phi3,
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False},
        "post_processor": template, "decoder": sp_decoder,
        "model": bpe_model(vocab, merges, **sp_model)})

    # Older Metaspace conversions (tokenizers < 0.19, e.g. early Mistral/Zephyr files): add_prefix_space instead of
    # prepend_scheme (meaning "always") and split on every "▁"; decoder Metaspace instead of the sequence.
    write("metaspace-split-style.tokenizer.json", {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": sp_added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "add_prefix_space": True},
        "post_processor": template,
        "decoder": {"type": "Metaspace", "replacement": "▁", "add_prefix_space": True},
        "model": bpe_model(vocab, merges, **sp_model)})


if __name__ == "__main__":
    main()
