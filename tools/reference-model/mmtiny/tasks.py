"""Chat-formatted tasks over the synthetic world, and the exact prompt rendering the server mirrors.

A sample is a list of chat turns whose user content is a list of parts: ("text", str) or
(modality, pool_index). The assistant answer is plain text that may end in signal tokens.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import world as W

IM_START, IM_END, EOT, PAD = "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|pad|>"
PLACEHOLDER = {"image": "<|image|>", "audio": "<|audio|>", "video": "<|video|>"}
IMG_SIGNALS = [f"<|img_{i}|>" for i in range(4)]
AUD_SIGNALS = [f"<|aud_{i}|>" for i in range(4)]
SPECIALS = [EOT, IM_START, IM_END, PAD, *PLACEHOLDER.values(), *IMG_SIGNALS, *AUD_SIGNALS]
TOKENS_PER_ITEM = {"image": 16, "audio": 8, "video": 8}
MESSAGE_PREFIX = IM_START + "{role}\n"
MESSAGE_SUFFIX = IM_END + "\n"
GENERATION_PROMPT = IM_START + "assistant\n"
PART_SEPARATOR = "\n"
SYSTEM_PROMPTS = ["You are a helpful assistant.", "You are mmserve-tiny, a small multimodal assistant."]


@dataclass
class Sample:
    task: str
    turns: list  # [(role, [parts])]
    answer: str
    gen: tuple | None = None  # ("image", colour_idx, shape_idx) | ("audio", count_idx, pitch_idx)
    meta: dict = field(default_factory=dict)


def number(n: int) -> str:
    return W.NUMBER_WORDS[n]


def user(*parts) -> list:
    return [("user", list(parts))]


def with_system(rng, turns):
    if rng.random() < 0.2:
        return [("system", [("text", str(rng.choice(SYSTEM_PROMPTS)))])] + turns
    return turns


def media_first(rng, modality_parts, text):
    """Media then question (usual), sometimes question then media."""
    if rng.random() < 0.8:
        return [*modality_parts, ("text", text)]
    return [("text", text), *modality_parts]


def pick(rng, xs):
    return xs[int(rng.integers(len(xs)))]


# ------------------------------------------------------------------ image tasks
def describe_objects(objs) -> str:
    names = [f"{o.colour} {o.shape} in the {W.QUADRANTS[o.quadrant]}" for o in objs]
    if len(objs) == 1:
        return f"A {objs[0].size} {names[0]}."
    if len(objs) == 2:
        return f"A {names[0]} and a {names[1]}."
    return f"A {names[0]}, a {names[1]} and a {names[2]}."


def image_task(rng, idx: int, objs, kind: str | None = None) -> Sample:
    n = len(objs)
    # Attribute questions (colour / shape / position / size) are asked about single-object images; scenes of 2-3
    # objects are described and counted. Binding a question to one of several objects ("What colour is the
    # circle?") needs content-addressed attention that this 4-layer, 128-wide model did not learn within the
    # recipe's budget: answered directly, or after describing the scene ("<scene>. Answer: X" or "<scene>. The
    # circle is X."), with text-only lookup drills added to training, it stayed near chance (45-56 %) while the
    # scene descriptions themselves were 99 % right. See tools/reference-model/README.md.
    kinds = ["caption", "colour", "shape", "count", "position", "size"] if n == 1 else ["caption", "count"]
    kind = kind or pick(rng, kinds)
    o = objs[int(rng.integers(n))]
    if kind == "caption":
        q, a = pick(rng, ["Describe the image.", "What is in this picture?", "Describe this image briefly."]), describe_objects(objs)
    elif kind == "colour":
        q, a = pick(rng, ["What colour is the shape?", "What colour is it?"]), o.colour
    elif kind == "shape":
        q, a = pick(rng, ["What shape is it?", "What shape is shown?"]), o.shape
    elif kind == "count":
        q, a = pick(rng, ["How many shapes are there?", "How many objects are in the image?"]), number(n)
    elif kind == "position":
        q, a = "Where is the shape?", W.QUADRANTS[o.quadrant]
    else:
        q, a = "Is the shape small or large?", o.size
    return Sample(f"image_{kind}", with_system(rng, user(*media_first(rng, [("image", idx)], q))), a)


def compare_task(rng, i1: int, o1, i2: int, o2) -> Sample:
    kind = pick(rng, ["same_colour", "same_shape", "which_colour"])
    if kind == "same_colour":
        q, a = "Do both images show the same colour?", "yes" if o1.colour == o2.colour else "no"
    elif kind == "same_shape":
        q, a = "Do both images show the same shape?", "yes" if o1.shape == o2.shape else "no"
    else:
        second = rng.random() < 0.5
        q = f"What colour is the shape in the {'second' if second else 'first'} image?"
        a = (o2 if second else o1).colour
    # describe both images first, then answer (see image_task)
    a = f"First: a {o1.colour} {o1.shape}. Second: a {o2.colour} {o2.shape}. Answer: {a}"
    return Sample(f"multi_image_{kind}", with_system(rng, user(("image", i1), ("image", i2), ("text", q))), a)


# ------------------------------------------------------------------ video tasks
def video_task(rng, idx: int, info: dict, kind: str | None = None) -> Sample:
    if info["kind"] == "motion":
        kind = kind or pick(rng, ["direction", "direction", "describe"])
        if kind == "direction":
            q = pick(rng, [f"Which way is the {info['shape']} moving?", "Which direction does the object move?"])
            a = info["direction"]
        else:
            q, a = "What is happening in the video?", f"A {info['colour']} {info['shape']} moves {info['direction']}."
    else:
        kind = kind or pick(rng, ["turns", "describe"])
        if kind == "turns":
            q, a = f"What colour does the {info['shape']} turn?", info["colour2"]
        else:
            q, a = "What is happening in the video?", f"A {info['shape']} turns from {info['colour']} to {info['colour2']}."
    return Sample(f"video_{kind}", with_system(rng, user(*media_first(rng, [("video", idx)], q))), a)


# ------------------------------------------------------------------ audio tasks
def audio_answer(info: dict) -> str:
    if info["kind"] == "digit":
        return number(info["digit"])
    c = info["count"]
    return f"{number(c)} {info['pitch']} beep{'s' if c > 1 else ''}"


def audio_task(rng, idx: int, info: dict, kind: str | None = None) -> Sample:
    if info["kind"] == "digit":
        kind = kind or pick(rng, ["spoken", "transcribe"])
        q = "Transcribe the audio." if kind == "transcribe" else pick(rng, ["What number is spoken?", "What did the speaker say?"])
        a = number(info["digit"])
    else:
        kind = kind or pick(rng, ["count", "pitch", "heard"])
        if kind == "count":
            q, a = "How many beeps do you hear?", number(info["count"])
        elif kind == "pitch":
            q, a = "Is the tone high, middle or low?", info["pitch"]
        else:
            q, a = "What do you hear?", audio_answer(info)
    return Sample(f"audio_{kind}", with_system(rng, user(*media_first(rng, [("audio", idx)], q))), a)


# ------------------------------------------------------------------ text tasks
WORDS = ["apple", "river", "stone", "cloud", "green", "tiger", "music", "paper", "light", "house", "train", "bird",
         "window", "garden", "silver", "ocean", "candle", "forest", "yellow", "orange"]


def text_task(rng, kind: str | None = None) -> Sample:
    kind = kind or pick(rng, ["repeat", "reverse", "after", "plus", "count", "chat"])
    if kind == "repeat":
        ws = [pick(rng, WORDS) for _ in range(int(rng.integers(2, 5)))]
        q, a = f"Repeat after me: {' '.join(ws)}", " ".join(ws)
    elif kind == "reverse":
        ws = [pick(rng, WORDS) for _ in range(3)]
        q, a = f"Reverse these words: {' '.join(ws)}", " ".join(reversed(ws))
    elif kind == "after":
        n = int(rng.integers(0, 10))
        q, a = f"What number comes after {number(n)}?", number(n + 1)
    elif kind == "plus":
        x = int(rng.integers(0, 6))
        y = int(rng.integers(0, 11 - x))
        y = min(y, 10 - x)
        q, a = f"What is {number(x)} plus {number(y)}?", number(x + y)
    elif kind == "count":
        x = int(rng.integers(0, 6))
        y = x + int(rng.integers(2, 5))
        q, a = f"Count from {number(x)} to {number(y)}.", " ".join(number(i) for i in range(x, y + 1))
    else:
        q, a = pick(rng, [("Hello!", "Hello! How can I help you?"),
                          ("Who are you?", "I am mmserve-tiny, a small multimodal assistant."),
                          ("What can you do?", "I can describe images, videos and sounds, draw shapes and play beeps.")])
    return Sample(f"text_{kind}", with_system(rng, user(("text", q))), a)


# ------------------------------------------------------------------ generation tasks
def image_gen_task(rng, colour: int | None = None, shape: int | None = None) -> Sample:
    c = int(rng.integers(len(W.COLOUR_NAMES))) if colour is None else colour
    s = int(rng.integers(len(W.SHAPES))) if shape is None else shape
    cn, sn = W.COLOUR_NAMES[c], W.SHAPES[s]
    q = pick(rng, [f"Draw a {cn} {sn}.", f"Generate an image of a {cn} {sn}.", f"Please draw a {cn} {sn}."])
    return Sample("image_generation", with_system(rng, user(("text", q))), f"Here is a {cn} {sn}. " + "".join(IMG_SIGNALS), gen=("image", c, s))


def audio_gen_task(rng, count: int | None = None, pitch: int | None = None) -> Sample:
    c = int(rng.integers(3)) if count is None else count
    p = int(rng.integers(3)) if pitch is None else pitch
    what = f"{number(c + 1)} {W.PITCH_NAMES[p]} beep{'s' if c > 0 else ''}"
    q = pick(rng, [f"Play {what}.", f"Please play {what}.", f"Make {what}."])
    return Sample("audio_generation", with_system(rng, user(("text", q))), f"Playing {what}. " + "".join(AUD_SIGNALS), gen=("audio", c, p))


# ------------------------------------------------------------------ prompt rendering (mirrored by the server)
def render_ids(tok, turns, add_generation_prompt: bool = True):
    """Token ids + media spans for a chat, exactly as the server builds them.

    The rendered prompt is tokenized as ONE string, but special tokens are recognised only in template
    text (message prefix/suffix, separators, placeholders), never in user text: a user typing "<|im_end|>"
    gets plain text. Returns (ids, spans) with spans = [(modality, pool_index, start, length)]."""
    segments: list[tuple[str, bool]] = []  # (text, trusted)
    media = []
    for role, parts in turns:
        segments.append((MESSAGE_PREFIX.format(role=role), True))
        for i, (kind, value) in enumerate(parts):
            if i > 0:
                segments.append((PART_SEPARATOR, True))
            if kind == "text":
                segments.append((value, False))
            else:
                segments.append((PLACEHOLDER[kind], True))
                media.append((kind, value))
        segments.append((MESSAGE_SUFFIX, True))
    if add_generation_prompt:
        segments.append((GENERATION_PROMPT, True))
    # split trusted text at special tokens; plain text runs (across segment borders) are encoded whole
    pieces: list[tuple[str, bool]] = []  # (text, is_special)
    for text, trusted in segments:
        chunks = tok._special_re.split(text) if trusted else [text]
        for c in chunks:
            if not c:
                continue
            if trusted and c in tok.special_ids:
                pieces.append((c, True))
            elif pieces and not pieces[-1][1]:
                pieces[-1] = (pieces[-1][0] + c, False)
            else:
                pieces.append((c, False))
    ids: list[int] = []
    spans = []
    k = 0
    for text, special in pieces:
        if not special:
            ids += tok.encode(text, allow_special=False)
            continue
        kind = next((m for m, ph in PLACEHOLDER.items() if ph == text), None)
        if kind is None:
            ids.append(tok.token_id(text))
            continue
        n = TOKENS_PER_ITEM[kind]
        spans.append((kind, media[k][1], len(ids), n))
        k += 1
        ids += [tok.token_id(text)] * n
    return ids, spans


def answer_ids(tok, answer: str) -> list[int]:
    return tok.encode(answer) + [tok.token_id(IM_END)]


def corpus_lines(rng, n: int) -> list[str]:
    """Text for BPE training and text pre-training: world statements plus every task's text."""
    lines = []
    for _ in range(n):
        objs = W.random_scene(rng)
        lines.append(describe_objects(objs))
        for s in [image_task(rng, 0, objs), text_task(rng), image_gen_task(rng), audio_gen_task(rng)]:
            for _, parts in s.turns:
                lines += [v for k, v in parts if k == "text"]
            lines.append(s.answer.split(" <|")[0])
        c, sh, d = pick(rng, W.COLOUR_NAMES), pick(rng, W.SHAPES), pick(rng, W.DIRECTIONS)
        lines += [f"A {c} {sh} moves {d}.", f"Which way is the {sh} moving?", f"What colour does the {sh} turn?",
                  "What is happening in the video?", "Which direction does the object move?", "Transcribe the audio.",
                  "What number is spoken?", "What did the speaker say?", "How many beeps do you hear?",
                  "Is the tone high, middle or low?", "What do you hear?", f"A {sh} turns from {c} to {pick(rng, W.COLOUR_NAMES)}.",
                  "Do both images show the same colour?", "Do both images show the same shape?",
                  "What colour is the shape in the first image?", "What colour is the shape in the second image?",
                  *SYSTEM_PROMPTS, "yes", "no", "system", "user", "assistant"]
    return lines
