"""A small byte-level BPE (GPT-2 scheme) trained on the task corpus, saved as a HuggingFace tokenizer.json."""
from __future__ import annotations

import collections
import json

import regex

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_PRE = regex.compile(GPT2_PATTERN)


def bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()
U2B = {u: b for b, u in B2U.items()}


def pretokenize(text: str) -> list[str]:
    return ["".join(B2U[b] for b in piece.encode("utf-8")) for piece in _PRE.findall(text)]


class Tokenizer:
    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]], specials: list[str]):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.merges = merges
        self.specials = specials
        self.special_ids = {s: vocab[s] for s in specials}
        self._cache: dict[str, list[int]] = {}
        self._special_re = regex.compile("(" + "|".join(regex.escape(s) for s in sorted(specials, key=len, reverse=True)) + ")")

    def _bpe(self, word: str) -> list[int]:
        if word in self._cache:
            return self._cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            parts = parts[:best] + [parts[best] + parts[best + 1]] + parts[best + 2:]
        ids = [self.vocab[p] for p in parts]
        self._cache[word] = ids
        return ids

    def encode(self, text: str, allow_special: bool = True) -> list[int]:
        ids: list[int] = []
        chunks = self._special_re.split(text) if allow_special else [text]
        for chunk in chunks:
            if not chunk:
                continue
            if allow_special and chunk in self.special_ids:
                ids.append(self.special_ids[chunk])
                continue
            for w in pretokenize(chunk):
                ids.extend(self._bpe(w))
        return ids

    def decode(self, ids: list[int], skip_special: bool = True) -> str:
        out = bytearray()
        for i in ids:
            t = self.inv[i]
            if t in self.special_ids:
                if not skip_special:
                    out.extend(t.encode("utf-8"))
                continue
            out.extend(U2B[c] for c in t)
        return out.decode("utf-8", errors="replace")

    def token_id(self, s: str) -> int:
        return self.vocab[s]

    def save_hf(self, path: str) -> None:
        added = [{"id": self.vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for s in self.specials]
        base_vocab = {t: i for t, i in self.vocab.items() if t not in self.special_ids}
        doc = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": base_vocab, "merges": [f"{a} {b}" for a, b in self.merges]},
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)


def train(corpus: list[str], vocab_size: int, specials: list[str]) -> Tokenizer:
    """Classic BPE: start from the 256 byte symbols, merge the most frequent adjacent pair (ties by order)."""
    words = collections.Counter()
    for line in corpus:
        for w in pretokenize(line):
            words[w] += 1
    vocab = {B2U[b]: b for b in range(256)}
    seqs = {w: list(w) for w in words}
    merges: list[tuple[str, str]] = []
    target = vocab_size - len(specials)
    while len(vocab) < target:
        pairs = collections.Counter()
        for w, c in words.items():
            s = seqs[w]
            for i in range(len(s) - 1):
                pairs[(s[i], s[i + 1])] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merged = best[0] + best[1]
        merges.append(best)
        vocab[merged] = len(vocab)
        for w in words:
            s = seqs[w]
            i, out = 0, []
            while i < len(s):
                if i < len(s) - 1 and s[i] == best[0] and s[i + 1] == best[1]:
                    out.append(merged)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    for s in specials:
        vocab[s] = len(vocab)
    return Tokenizer(vocab, merges, specials)
