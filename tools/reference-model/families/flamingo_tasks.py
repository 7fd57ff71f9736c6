"""tiny-flamingo's tasks: mmserve-tiny's world and chat template, with Flamingo-style interleaved image prompts.

Every image is ONE marker token (<|image|>) in the prompt; the image itself enters through cross-attention.
Tasks whose answer depends on which image a position may see (the per-image masking):
- multi_image_last: two or three images, then a question about the last one;
- multi_image_fewshot: Flamingo's few-shot captioning, "<image> caption <image>" -> the second image's caption.
"""
from __future__ import annotations

import numpy as np
import torch

from mmtiny import generate as G
from mmtiny import tasks as T
from mmtiny import world as W

from xattn_model import BoundLM, stack_media

ORDINALS = ["first", "second", "third"]


def image_pool(seed: int, singles: int, scenes: int) -> list:
    """[(uint8 image, objs)]: single-object images, then scenes of 1-3 objects (counted)."""
    rng = np.random.default_rng(seed)
    pool = []
    for i in range(singles + scenes):
        objs = W.random_scene(rng, 1 if i < singles else None)
        pool.append((W.render(objs, rng), objs))
    return pool


def single_task(rng, pool, singles: int) -> T.Sample:
    i = int(rng.integers(singles))
    return T.image_task(rng, i, pool[i][1])


def count_task(rng, pool, singles: int) -> T.Sample:
    i = singles + int(rng.integers(len(pool) - singles))
    return T.image_task(rng, i, pool[i][1], kind="count")


def last_image_task(rng, pool, singles: int) -> T.Sample:
    n = int(rng.integers(2, 4))
    idx = [int(x) for x in rng.choice(singles, size=n, replace=False)]
    o = pool[idx[-1]][1][0]
    if rng.random() < 0.5:
        q, a = f"What colour is the shape in the {ORDINALS[n - 1]} image?", o.colour
    else:
        q, a = f"What shape is in the {ORDINALS[n - 1]} image?", o.shape
    parts = [("image", i) for i in idx] + [("text", q)]
    return T.Sample("multi_image_last", T.with_system(rng, T.user(*parts)), a)


def fewshot_task(rng, pool, singles: int) -> T.Sample:
    i1, i2 = (int(x) for x in rng.choice(singles, size=2, replace=False))
    parts = [("image", i1), ("text", T.describe_objects(pool[i1][1])), ("image", i2)]
    return T.Sample("multi_image_fewshot", T.with_system(rng, T.user(*parts)), T.describe_objects(pool[i2][1]))


MIX = {single_task: 0.45, count_task: 0.1, last_image_task: 0.25, fewshot_task: 0.2}


def sample(rng, pool, singles: int) -> T.Sample:
    fns = list(MIX)
    p = np.array([MIX[f] for f in fns])
    return fns[int(rng.choice(len(fns), p=p / p.sum()))](rng, pool, singles)


def render(tok, turns) -> tuple[list[int], list[int], list[int]]:
    """(prompt ids, marker positions, pool index of each image): mmtiny's rendering with each image's run of
    placeholder tokens collapsed to the one marker token the server puts in the prompt."""
    ids, spans = T.render_ids(tok, turns)
    out, markers, images, at = [], [], [], 0
    for kind, idx, start, n in spans:
        out += ids[at:start + 1]
        markers.append(len(out) - 1)
        images.append(idx)
        at = start + n
    return out + ids[at:], markers, images


def eval_samples(pool, singles: int, seed: int, n_text: int) -> list:
    rng = np.random.default_rng(seed)
    out = [T.image_task(rng, i, pool[i][1]) for i in range(singles)]
    out += [T.image_task(rng, i, pool[i][1], kind="count") for i in range(singles, len(pool))]
    out += [last_image_task(rng, pool, singles) for _ in range(singles // 2)]
    out += [fewshot_task(rng, pool, singles) for _ in range(singles // 2)]
    out += [T.text_task(rng) for _ in range(n_text)]  # no image: the frozen mmserve-tiny decoder, exactly
    return out


def metric_group(task: str) -> str:
    if task == "image_caption":
        return "image_caption"
    if task.startswith("image_"):
        return "image_qa"
    if task.startswith("text_"):
        return "text"
    return task


@torch.no_grad()
def run_samples(fm, media_of, tok, samples, batch: int = 32, max_new: int = 48) -> list:
    """Greedy results (mmtiny.generate.greedy over the bound cross-attention LM), batched with left padding."""
    results = []
    for s0 in range(0, len(samples), batch):
        chunk = samples[s0:s0 + batch]
        rendered = [render(tok, s.turns) for s in chunk]
        media = stack_media([media_of(images) if images else None for _, _, images in rendered])
        bound = BoundLM(fm, media, [markers for _, markers, _ in rendered])
        prompts = [(fm.llm.embed_tokens(torch.tensor(ids)), 0) for ids, _, _ in rendered]
        outs, margins, hids = G.greedy(type("Bound", (), {"llm": bound})(), tok, prompts, max_new)
        for (ids, _, _), o, mg, h in zip(rendered, outs, margins, hids):
            results.append({"prompt_ids": ids, "ids": o, "margins": mg, "hidden": h, "text": tok.decode(o, skip_special=True)})
    return results
