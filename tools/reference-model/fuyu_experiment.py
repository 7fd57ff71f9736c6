#!/usr/bin/python3
"""Train + evaluate tiny-fuyu variants without exporting a bundle (for the shape-accuracy search; see README.md).

    /usr/bin/python3 tools/reference-model/fuyu_experiment.py [--patch 8] [--shape-frac 0.5] [--steps 900] [--neval 200]

Same model, pools (train seed 4100, held-out seed 4200), tokenizer widening, two phases (projection alone, then
projection + LLM) and greedy scorer as make_family_bundle.py --family fuyu; prints the held-out single-object QA per
task. What it varies: patch size, share of shape questions, captions in the mix, step counts, learning rates, the
projection's initial scale, pool sizes. Nothing is written except the log line.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ap = argparse.ArgumentParser()
ap.add_argument("--patch", type=int, default=8)
ap.add_argument("--warm", type=int, default=200, help="projection-only steps")
ap.add_argument("--warm-lr", type=float, default=3e-3)
ap.add_argument("--steps", type=int, default=2200, help="projection + LLM steps")
ap.add_argument("--lr", type=float, default=1.5e-3)
ap.add_argument("--batch", type=int, default=16)
ap.add_argument("--shape-frac", type=float, default=0.25, help="share of questions that ask for the shape")
ap.add_argument("--caption-frac", type=float, default=0.0, help="share of samples that are captions (any image)")
ap.add_argument("--init-scale", type=float, default=1.0, help="multiplies the projection's initial weights")
ap.add_argument("--neval", type=int, default=400)
ap.add_argument("--ntrain", type=int, default=3000)
ap.add_argument("--train-sides", default=None, help="min,max side of the training images (default: the recipe's)")
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()

import torch  # noqa: E402

torch.set_num_threads(a.threads)
torch.use_deterministic_algorithms(True)
from families import fuyu as FU  # noqa: E402

FU.PATCH, FU.PATCH_DIM = a.patch, a.patch * a.patch * 3
from families import common as C  # noqa: E402
import make_family_bundle as MF  # noqa: E402
from mmtiny import from_bundle  # noqa: E402
from mmtiny import tasks as T  # noqa: E402

t0 = time.time()
log = lambda msg: print(f"[{time.time() - t0:7.1f}s] {msg}", flush=True)  # noqa: E731
m, tok = from_bundle.load(MF.TINY)
tok = MF.widen_tokenizer(tok)
torch.manual_seed(0)
fm = FU.FuyuTiny(FU.widen_vocab(m.llm, tok.token_id("Ċ")))
with torch.no_grad():
    fm.patch_projector.proj.weight.mul_(a.init_scale)
    fm.patch_projector.proj.bias.mul_(a.init_scale)
fam = MF.FuyuFamily(fm, tok)
recipe_sides = FU.TRAIN_SIDES
if a.train_sides:
    FU.TRAIN_SIDES = tuple(int(x) for x in a.train_sides.split(","))
train_pool = C.make_image_pool(4100, a.ntrain, FU.random_resize)
FU.TRAIN_SIDES = recipe_sides  # held-out images always at the recipe's sizes
eval_pool = C.make_image_pool(4200, a.neval, FU.random_resize)
fam.pool = train_pool
others = [k for k in C.QA_KINDS if k != "shape"]


def sample(rng):
    if a.caption_frac and rng.random() < a.caption_frac:
        i = int(rng.integers(len(train_pool.images)))
        return T.image_task(rng, i, train_pool.images[i][1], kind="caption")
    while True:
        i = int(rng.integers(len(train_pool.images)))
        if len(train_pool.images[i][1]) == 1:
            kind = "shape" if rng.random() < a.shape_frac else T.pick(rng, others)
            return T.image_task(rng, i, train_pool.images[i][1], kind=kind)


fm.llm.requires_grad_(False)
if a.warm:
    C.train(fm, tok, fam, list(fm.patch_projector.parameters()), sample, a.warm, a.warm_lr, a.batch, log, "projection", seed=41)
fm.llm.requires_grad_(True)
C.train(fm, tok, fam, list(fm.parameters()), sample, a.steps, a.lr, a.batch, log, "projection + LLM", seed=42)
fm.eval()
fam.pool = eval_pool
samples = [s for s in C.eval_samples(eval_pool, 43) if a.caption_frac or s.task != "image_caption"]
report, _ = C.score(samples, C.run_samples(fm, tok, fam, samples, batch=16))
log(f"EVAL {vars(a)} image_qa={report['image_qa']['value']} (n={report['image_qa']['n']}) "
    + " ".join(f"{k}={v['value']} (n={v['n']})" for k, v in report["by_task"].items()))
