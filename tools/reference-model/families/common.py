"""Shared by the family recipes: image pools, prompt rendering with a family's own placeholder expansion,
training on answer tokens, greedy evaluation and the golden writer.

Everything runs on mmserve-tiny's world, tasks, chat template and greedy decoder (mmtiny.*); a family only says
how an image becomes embedding rows (`Family.media_rows`) and how its placeholder expands in the prompt.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from mmtiny import bundle as BU
from mmtiny import generate as G
from mmtiny import tasks as T
from mmtiny import world as W

# Attribute questions are asked about single-object images, captions about any (as mmtiny's image_task does).
QA_KINDS = ["colour", "shape", "position", "size"]


@dataclass
class ImagePool:
    images: list  # (uint8 [H, W, 3], objs)


def make_image_pool(seed: int, n: int, resize: Callable | None = None) -> ImagePool:
    """n scenes of mmtiny's world (64x64), optionally resized per image by resize(rng, img) (Fuyu: any size)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        objs = W.random_scene(rng)
        img = W.render(objs, rng)
        out.append((resize(rng, img) if resize else img, objs))
    return ImagePool(out)


def image_sample(rng, pool: ImagePool, kinds=None) -> T.Sample:
    """A single-object attribute question or a caption (mmtiny's image tasks, counts left out)."""
    i = int(rng.integers(len(pool.images)))
    objs = pool.images[i][1]
    allowed = (kinds or QA_KINDS + ["caption"]) if len(objs) == 1 else ["caption"]
    return T.image_task(rng, i, objs, kind=T.pick(rng, allowed))


def single_object_qa(rng, pool: ImagePool) -> T.Sample:
    """An attribute question about a single-object image of the pool (no captions)."""
    while True:
        i = int(rng.integers(len(pool.images)))
        if len(pool.images[i][1]) == 1:
            return T.image_task(rng, i, pool.images[i][1], kind=T.pick(rng, QA_KINDS))


def eval_samples(pool: ImagePool, seed: int) -> list[T.Sample]:
    """Held-out set: every single-object image asked one attribute question, every image captioned once."""
    rng = np.random.default_rng(seed)
    out = []
    for i, (_, objs) in enumerate(pool.images):
        if len(objs) == 1:
            out.append(T.image_task(rng, i, objs, kind=T.pick(rng, QA_KINDS)))
        out.append(T.image_task(rng, i, objs, kind="caption"))
    return out


def render_ids(tok, turns, expand: Callable[[int], list[int]]):
    """mmtiny's rendering (T.render_ids) with each image placeholder replaced by expand(pool_index): its token ids.

    Returns ids and spans [(pool_index, start, ids_of_run)] where the run is what expand returned.
    """
    saved = T.TOKENS_PER_ITEM["image"]
    T.TOKENS_PER_ITEM["image"] = 1  # one placeholder token per image; expanded below
    try:
        ids, spans = T.render_ids(tok, turns)
    finally:
        T.TOKENS_PER_ITEM["image"] = saved
    out, runs, prev = [], [], 0
    for kind, idx, start, _ in spans:
        out += ids[prev:start]
        run = expand(idx)
        runs.append((idx, len(out), run))
        out += run
        prev = start + 1
    out += ids[prev:]
    return out, runs


def instruction_text(turns, image_index: int) -> str:
    """The text parts of the message that holds the image, joined by the template's part separator (InstructBLIP's
    instruction for its Q-Former); docs/model-bundle.md states the same rule for the server."""
    for _, parts in turns:
        if any(k == "image" and v == image_index for k, v in parts):
            return T.PART_SEPARATOR.join(v for k, v in parts if k == "text")
    return ""


class Family:
    """What a family recipe supplies; the rest of this module is the same for every family."""

    def placeholder_ids(self, tok, idx: int) -> list[int]:
        raise NotImplementedError

    def media_rows(self, sample: T.Sample, idx: int, run_ids: list[int]) -> torch.Tensor:
        """Embedding rows [len(run_ids), D] that the image's run of prompt positions gets."""
        raise NotImplementedError

    def media_rows_batch(self, items: list) -> list[torch.Tensor]:
        """media_rows for many (sample, idx, run_ids) at once; a family overrides it to run its parts batched."""
        return [self.media_rows(s, idx, run) for s, idx, run in items]


def prompt_embeds_batch(m, tok, fam: Family, samples: list[T.Sample]):
    """[(ids, inputs_embeds [S, D])] per sample, the image runs' rows from the family."""
    rendered = [render_ids(tok, s.turns, lambda idx: fam.placeholder_ids(tok, idx)) for s in samples]
    items = [(s, idx, run) for s, (_, runs) in zip(samples, rendered) for idx, _, run in runs]
    rows = iter(fam.media_rows_batch(items))
    out = []
    for ids, runs in rendered:
        x = m.llm.embed_tokens(torch.tensor(ids))
        for idx, start, run in runs:
            x = torch.cat([x[:start], next(rows), x[start + len(run):]])
        out.append((ids, x))
    return out


def train(m, tok, fam: Family, params, sample_fn, steps: int, lr: float, batch: int, log, name: str, seed: int):
    """AdamW on the answer tokens' cross entropy; prompts right-padded (positions count from 0 in every row)."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    rng = np.random.default_rng(seed)
    t0 = time.time()
    pad = tok.token_id(T.PAD)
    for step in range(steps):
        lr_now = lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = lr_now
        rows = []
        batch_samples = [sample_fn(rng) for _ in range(batch)]
        for s, (ids, x) in zip(batch_samples, prompt_embeds_batch(m, tok, fam, batch_samples)):
            ans = T.answer_ids(tok, s.answer)
            x = torch.cat([x, m.llm.embed_tokens(torch.tensor(ans))])
            rows.append((x, [-100] * (len(ids) - 1) + ans + [-100]))
        L = max(len(r[1]) for r in rows)
        emb = torch.cat([torch.cat([x, m.llm.embed_tokens(torch.full((L - len(x),), pad))])[None] for x, _ in rows])
        labels = torch.tensor([lab + [-100] * (L - len(lab)) for _, lab in rows])
        mask = torch.tensor([[1] * len(lab) + [0] * (L - len(lab)) for _, lab in rows])
        logits, _, _ = m.llm(emb, mask, torch.arange(L)[None].expand(batch, L))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        if not torch.isfinite(loss):
            raise SystemExit(f"{name}: loss is not finite")
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"  {name} step {step}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f}s)")


@torch.no_grad()
def run_samples(m, tok, fam: Family, samples, batch: int = 32):
    """Greedy outputs (mmtiny.generate.greedy: left-padded batches, as the server decodes)."""
    results = []
    for i in range(0, len(samples), batch):
        chunk = samples[i:i + batch]
        built = prompt_embeds_batch(m, tok, fam, chunk)
        outs, margins, _ = G.greedy(m, tok, [(x, 0) for _, x in built], BU.MAX_NEW)
        for (ids, _), o, mg in zip(built, outs, margins):
            results.append({"prompt_ids": ids, "ids": o, "margins": mg, "text": tok.decode(o, skip_special=True)})
    return results


def score(samples, results) -> tuple[dict, list[bool]]:
    groups: dict[str, list[bool]] = {}
    oks = []
    for s, r in zip(samples, results):
        ok = r["text"].strip() == s.answer
        oks.append(ok)
        groups.setdefault("image_caption" if s.task == "image_caption" else "image_qa", []).append(ok)
    metric = {"image_qa": "exact answer (single-object colour, shape, position, size)", "image_caption": "exact caption"}
    report = {g: {"metric": metric[g], "value": round(float(np.mean(v)), 4), "n": len(v)} for g, v in sorted(groups.items())}
    by_task: dict[str, list[bool]] = {}
    for s, ok in zip(samples, oks):
        by_task.setdefault(s.task, []).append(ok)
    report["by_task"] = {t: {"value": round(float(np.mean(v)), 4), "n": len(v)} for t, v in sorted(by_task.items())}
    return report, oks


def golden_indices(tok, samples, results, oks, per_task: int) -> list[int]:
    """Correct cases that end in <|im_end|> with a top-1/top-2 logit margin >= 1.0 at every step, per_task per task."""
    by_task: dict[str, list[int]] = {}
    for i, (s, r) in enumerate(zip(samples, results)):
        if oks[i] and r["ids"] and min(r["margins"]) >= BU.GOLDEN_MARGIN and r["ids"][-1] == tok.token_id(T.IM_END):
            by_task.setdefault(s.task, []).append(i)
    return [i for t in sorted(by_task) for i in by_task[t][:per_task]]


def write_golden(samples, results, indices, pool: ImagePool, gdir: str, file: str, log, extra=None) -> list:
    """cases.json in mmserve-tiny's format (docs/model-bundle.md "Golden files"); media as PNG at their own size."""
    os.makedirs(os.path.join(gdir, "media"), exist_ok=True)
    cases = []
    for i in indices:
        s, r = samples[i], results[i]
        messages = []
        for role, parts in s.turns:
            content = []
            for kind, value in parts:
                if kind == "text":
                    content.append({"type": "text", "text": value})
                    continue
                rel = f"media/image_{value:04d}.png"
                path = os.path.join(gdir, rel)
                if not os.path.exists(path):
                    with open(path, "wb") as f:
                        f.write(BU.png_bytes(pool.images[value][0]))
                content.append(BU.openai_part("image", rel))
            messages.append({"role": role, "content": content})
        case = {"id": f"{s.task}_{len(cases):03d}", "task": s.task, "messages": messages, "max_tokens": BU.MAX_NEW,
                "prompt_token_ids": r["prompt_ids"], "completion_token_ids": r["ids"], "completion_text": r["text"],
                "finish_reason": "stop", "min_logit_margin": round(min(r["margins"]), 3)}
        if extra:
            case.update(extra(s, r))
        cases.append(case)
    with open(os.path.join(gdir, file), "w") as f:
        json.dump({"margin_threshold": BU.GOLDEN_MARGIN, "note": "media urls are paths relative to this folder; "
                   "tests inline them as data: URLs", "cases": cases}, f, indent=1)
    log(f"golden {file}: {len(cases)} cases")
    return cases


def fresh_golden_dir(out: str) -> str:
    gdir = os.path.join(out, "golden")
    shutil.rmtree(gdir, ignore_errors=True)
    os.makedirs(gdir)
    return gdir


def base_manifest(bundle_id: str, description: str, family: str, comps: dict, vocab: int) -> dict:
    """mmserve-tiny's manifest (mmtiny.bundle.manifest) cut to text + image input, under the family's id."""
    full = BU.manifest(comps, vocab)
    keep = {"format", "max_context", "tokenizer", "chat_template", "components", "embedding", "decoder"}
    man = {k: v for k, v in full.items() if k in keep}
    man["id"], man["description"], man["family"] = bundle_id, description, family
    man["input_modalities"] = {"image": dict(full["input_modalities"]["image"])}
    return man
