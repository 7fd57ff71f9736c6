#!/usr/bin/python3
"""tiny-flamingo: the gated cross-attention conformance model (Flamingo, OpenFlamingo, IDEFICS), from mmserve-tiny.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/reference-model/families/flamingo.py [--steps N] [--out DIR]

mmserve-tiny's image encoder and decoder are loaded from its committed bundle and frozen; only the resampler
(initialised from mmserve-tiny's image projector) and the gated cross-attention blocks (xattn_model.py) are trained.
Writes models/families/tiny-flamingo: ONNX components, manifest.json, eval.json, golden/ (cases, media, tensors).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tools/reference-model: the mmtiny package
sys.path.insert(0, HERE)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from mmtiny import bundle as B, data as DA, model as M, tasks as T  # noqa: E402
from mmtiny.from_bundle import load  # noqa: E402

import flamingo_export as FX  # noqa: E402
import flamingo_tasks as FT  # noqa: E402
from xattn_model import FlamingoLM, media_mask, stack_media  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TRAIN_SINGLES, TRAIN_SCENES = 1500, 400
EVAL_SINGLES, EVAL_SCENES = 240, 60


def build_batch(fm, resampler, feats, tok, samples):
    """Right-padded batch: embeddings, masks, positions, labels (answer tokens), stacked media tokens, markers."""
    rows = []
    for s in samples:
        ids, markers, images = FT.render(tok, s.turns)
        ans = T.answer_ids(tok, s.answer)
        rows.append((ids + ans, [-100] * (len(ids) - 1) + ans + [-100], markers, images))
    L, b = max(len(r[0]) for r in rows), len(rows)
    ids = torch.full((b, L), tok.token_id(T.PAD), dtype=torch.long)
    labels = torch.full((b, L), -100, dtype=torch.long)
    mask = torch.zeros(b, L, dtype=torch.long)
    for i, (full, lab, _, _) in enumerate(rows):
        ids[i, :len(full)], labels[i, :len(full)], mask[i, :len(full)] = torch.tensor(full), torch.tensor(lab), 1
    media = stack_media([resampler(feats[r[3]]).reshape(-1, M.D_MODEL) if r[3] else None for r in rows])
    pos = torch.arange(L)[None].expand(b, L)
    return fm.llm.embed_tokens(ids), mask, pos, media_mask(pos, [r[2] for r in rows], media.shape[1]), media, labels


def train(fm, resampler, feats, pool, tok, steps: int, batch: int, lr: float, log):
    params = [p for p in list(fm.xattn.parameters()) + list(resampler.parameters())]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0, betas=(0.9, 0.98))
    rng = np.random.default_rng(11)
    t0 = time.time()
    for step in range(steps):
        for g in opt.param_groups:  # warm-up then cosine
            g["lr"] = lr * min(1.0, (step + 1) / 50) * 0.5 * (1 + np.cos(np.pi * step / steps))
        samples = [FT.sample(rng, pool, TRAIN_SINGLES) for _ in range(batch)]
        emb, mask, pos, mmask, media, labels = build_batch(fm, resampler, feats, tok, samples)
        logits, _, _ = fm(emb, mask, pos, mmask, fm.cross_kv(media))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        if not torch.isfinite(loss):
            raise SystemExit("training diverged")
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            gates = " ".join(f"{float(torch.tanh(x.attn_gate)):+.2f}/{float(torch.tanh(x.ffn_gate)):+.2f}" for x in fm.xattn)
            log(f"  step {step}/{steps} loss {loss.item():.4f} gates {gates} ({time.time() - t0:.0f}s)")


def score(samples, results):
    groups: dict[str, list[bool]] = {}
    oks = []
    for s, r in zip(samples, results):
        ok = r["text"].strip() == s.answer
        oks.append(ok)
        groups.setdefault(FT.metric_group(s.task), []).append(ok)
    report = {g: {"metric": "exact answer" if g != "image_caption" else "exact caption", "value": round(float(np.mean(v)), 4), "n": len(v)}
              for g, v in sorted(groups.items())}
    return report, oks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)  # the committed bundle's (reproduced byte for byte)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--base", default=os.path.join(ROOT, "models", "mmserve-tiny"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "families", "tiny-flamingo"))
    ap.add_argument("--work", default=os.path.join(os.path.dirname(HERE), "work", "tiny-flamingo"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.work, exist_ok=True)
    t_start = time.time()
    logf = open(os.path.join(args.work, "log.txt"), "a")

    def log(msg):
        line = f"[{time.time() - t_start:7.1f}s] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    m, tok = load(args.base)
    for p in m.parameters():
        p.requires_grad_(False)
    fm = FlamingoLM(m.llm)
    resampler = copy.deepcopy(m.image_projector)
    for p in list(fm.xattn.parameters()) + list(resampler.parameters()):
        p.requires_grad_(True)
    pool = FT.image_pool(3000, TRAIN_SINGLES, TRAIN_SCENES)
    eval_pool = FT.image_pool(4000, EVAL_SINGLES, EVAL_SCENES)
    with torch.no_grad():
        feats = m.image_encoder(torch.tensor(DA.pixels(np.stack([im for im, _ in pool]))))
        eval_feats = m.image_encoder(torch.tensor(DA.pixels(np.stack([im for im, _ in eval_pool]))))
    log(f"base {args.base}; {len(pool)} train / {len(eval_pool)} eval images; training {args.steps} steps of {args.batch}")
    train(fm, resampler, feats, pool, tok, args.steps, args.batch, args.lr, log)
    fm.eval()
    resampler.eval()

    samples = FT.eval_samples(eval_pool, EVAL_SINGLES, seed=99, n_text=60)
    media_of = lambda images: resampler(eval_feats[images]).reshape(-1, M.D_MODEL)  # noqa: E731
    results = FT.run_samples(fm, media_of, tok, samples, batch=48, max_new=B.MAX_NEW)
    report, oks = score(samples, results)
    for g, v in report.items():
        log(f"  {g}: {v['value']:.4f} (n={v['n']})")
    picks = [samples[i] for i in range(0, len(samples), max(1, len(samples) // 12))][:12]
    batched = FT.run_samples(fm, media_of, tok, picks, batch=len(picks))
    alone = [FT.run_samples(fm, media_of, tok, [s], batch=1)[0] for s in picks]
    same = all(a["ids"] == b["ids"] for a, b in zip(batched, alone))
    log(f"batch check: {len(picks)} rows, identical tokens = {same}")
    if not same:
        raise SystemExit("batched decoding differs from single-row decoding")

    out = args.out
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    comps = FX.export_all(m, fm, resampler, out, len(tok.vocab))
    tok.save_hf(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "chat_template.jinja"), "w") as f:
        f.write(B.CHAT_TEMPLATE_JINJA)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(FX.manifest(comps, len(tok.vocab)), f, indent=1)
    with open(os.path.join(out, "eval.json"), "w") as f:
        json.dump({"model": "tiny-flamingo", "decoding": "greedy", "tasks": report,
                   "checks": {"batched_equals_single": {"rows": len(picks), "identical_tokens": same}},
                   "training": {"steps": args.steps, "batch": args.batch, "seconds": round(time.time() - t_start)}}, f, indent=1)
    cases = B.write_golden(None, tok, samples, results, oks, DA.Pools(eval_pool, [], []), out, log)
    FX.write_reference_tensors(fm, resampler, out)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    log(f"wrote {out}: {len(cases)} golden cases, {size / 1e6:.2f} MB, {time.time() - t_start:.0f}s in all")


if __name__ == "__main__":
    main()
