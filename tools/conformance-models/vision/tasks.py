"""Conversations the two models are trained on (and the golden cases are drawn from).

A conversation is model-neutral: an optional system text and turns (images, user text, answer); the images are
scene indices. `llava_messages` / `phi3_messages` write it in each chat template's message format.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .world import COLOUR_NAMES, SHAPES

SYSTEMS = ["You are a helpful assistant.", "Answer briefly."]

COLOUR_Q = ["What colour is the shape?", "What is the colour of the shape?"]
SHAPE_Q = ["What shape is it?", "What shape is in the picture?"]
DESCRIBE_Q = ["Describe the image.", "What is in the picture?"]
COLOURS2_Q = ["What colours are the shapes?"]
DESCRIBE2_Q = ["Describe the two images.", "What is in both pictures?"]

WORDS = ["apple", "river", "table", "cloud", "garden", "pencil", "window", "orange", "music", "stone",
         "summer", "bottle", "forest", "silver", "rabbit", "candle"]


@dataclass
class Turn:
    images: list  # scene indices shown in this user turn
    text: str
    answer: str


@dataclass
class Conversation:
    turns: list
    system: str | None = None
    kind: str = ""
    extra: dict = field(default_factory=dict)


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def answer_for(q_kind: str, scene) -> str:
    if q_kind == "colour":
        return f"It is {scene.colour}."
    if q_kind == "shape":
        return f"It is a {scene.shape}."
    return f"A {scene.colour} {scene.shape}."


def question(rng, q_kind: str) -> str:
    pool = {"colour": COLOUR_Q, "shape": SHAPE_Q, "describe": DESCRIBE_Q}[q_kind]
    return pool[rng.integers(len(pool))]


def text_task(rng) -> tuple[str, str]:
    k = int(rng.integers(6))
    if k == 0:
        return "Say hello.", "Hello! How can I help you?"
    if k == 1:
        a, b = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        return f"What is {a} plus {b}?", f"{a} plus {b} is {a + b}."
    if k == 2:
        w = WORDS[rng.integers(len(WORDS))]
        return f"Repeat the word {w}.", f"{cap(w)}."
    if k == 3:
        n = int(rng.integers(1, 10))
        return f"What comes after {n}?", f"{n + 1}."
    if k == 4:
        return "Name three colours.", "Red, green and blue."
    return "What is the capital of France?", "Paris."


def sample(rng: np.random.Generator, scenes: list, pool: np.ndarray) -> Conversation:
    """One training conversation; images drawn from `pool` (indices into `scenes`)."""
    system = SYSTEMS[rng.integers(len(SYSTEMS))] if rng.random() < 0.35 else None
    r = rng.random()

    def pick():
        return int(pool[rng.integers(len(pool))])

    if r < 0.15:
        q, a = text_task(rng)
        return Conversation([Turn([], q, a)], system, "text")
    if r < 0.55:
        i = pick()
        qk = str(rng.choice(["colour", "shape", "describe"], p=[0.2, 0.4, 0.4]))  # shape is the hard part
        return Conversation([Turn([i], question(rng, qk), answer_for(qk, scenes[i]))], system, "image1")
    if r < 0.8:
        i, j = pick(), pick()
        if rng.random() < 0.5:
            q = COLOURS2_Q[rng.integers(len(COLOURS2_Q))]
            a = f"{cap(scenes[i].colour)} and {scenes[j].colour}."
        else:
            q = DESCRIBE2_Q[rng.integers(len(DESCRIBE2_Q))]
            a = f"A {scenes[i].colour} {scenes[i].shape} and a {scenes[j].colour} {scenes[j].shape}."
        return Conversation([Turn([i, j], q, a)], system, "image2")
    # two turns: an image in the first, a follow-up (about it, or plain text) in the second
    i = pick()
    k1, k2 = rng.choice(["colour", "shape", "describe"], size=2, replace=False)
    t1 = Turn([i], question(rng, str(k1)), answer_for(str(k1), scenes[i]))
    if rng.random() < 0.25:
        q, a = text_task(rng)
        t2 = Turn([], q, a)
    else:
        t2 = Turn([], question(rng, str(k2)), answer_for(str(k2), scenes[i]))
    return Conversation([t1, t2], system, "multiturn")


def llava_messages(conv: Conversation, with_last_answer: bool = False) -> list:
    msgs = []
    if conv.system:
        msgs.append({"role": "system", "content": [{"type": "text", "text": conv.system}]})
    for k, t in enumerate(conv.turns):
        msgs.append({"role": "user", "content": [{"type": "image"} for _ in t.images] + [{"type": "text", "text": t.text}]})
        if k < len(conv.turns) - 1 or with_last_answer:
            msgs.append({"role": "assistant", "content": [{"type": "text", "text": t.answer}]})
    return msgs


def phi3_messages(conv: Conversation, with_last_answer: bool = False) -> list:
    """Content strings with <|image_k|> tags numbered across the conversation, each followed by a newline, before
    the text (the way vLLM writes OpenAI image parts for Phi-3-vision)."""
    msgs = []
    if conv.system:
        msgs.append({"role": "system", "content": conv.system})
    n = 0
    for k, t in enumerate(conv.turns):
        tags = ""
        for _ in t.images:
            n += 1
            tags += f"<|image_{n}|>\n"
        msgs.append({"role": "user", "content": tags + t.text})
        if k < len(conv.turns) - 1 or with_last_answer:
            msgs.append({"role": "assistant", "content": t.answer})
    return msgs


def all_images(conv: Conversation) -> list:
    return [i for t in conv.turns for i in t.images]


__all__ = ["Conversation", "Turn", "sample", "llava_messages", "phi3_messages", "all_images", "COLOUR_NAMES", "SHAPES"]
