#!/usr/bin/python3
"""Conformance bundles of the architecture families beyond token injection (issue 19), trained from mmserve-tiny.

    /usr/bin/python3 tools/reference-model/make_family_bundle.py --family blip2|fuyu [--quick] [--out DIR]

blip2 -> models/families/tiny-blip2 (instruction-aware Q-Former, plus the plain BLIP-2 form as a second component);
fuyu  -> models/families/tiny-fuyu (encoder-free patch projection with row breaks).
Both start from models/mmserve-tiny's trained weights (mmtiny.from_bundle) and its world, tasks and chat template.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see make_bundle.py

import numpy as np  # noqa: E402
import torch  # noqa: E402

from families import common as C  # noqa: E402
from families import fuyu as FU  # noqa: E402
from families import qformer as QF  # noqa: E402
from mmtiny import bundle as BU  # noqa: E402
from mmtiny import data as DA  # noqa: E402
from mmtiny import export as EX  # noqa: E402
from mmtiny import from_bundle  # noqa: E402
from mmtiny import model as M  # noqa: E402
from mmtiny import tasks as T  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TINY = os.path.join(ROOT, "models", "mmserve-tiny")


spec = EX.spec


def copy_components(out: str, names: list[str]) -> dict:
    """mmserve-tiny's ONNX files for frozen parts, byte for byte, with their manifest entries."""
    with open(os.path.join(TINY, "manifest.json")) as f:
        comps = json.load(f)["components"]
    for n in names:
        shutil.copy(os.path.join(TINY, comps[n]["file"]), os.path.join(out, comps[n]["file"]))
    return {n: comps[n] for n in names}


def write_common_files(out: str, man: dict, tok, report: dict) -> None:
    shutil.copy(os.path.join(TINY, "chat_template.jinja"), os.path.join(out, "chat_template.jinja"))
    tok.save_hf(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)
    with open(os.path.join(out, "eval.json"), "w") as f:
        json.dump(report, f, indent=1)


# ------------------------------------------------------------------ family 1: Q-Former
class QFormerFamily(C.Family):
    def __init__(self, m, qf: QF.QFormer, pools: dict, pad_id: int, plain: bool = False):
        self.m, self.qf, self.pools, self.pad_id, self.plain = m, qf, pools, pad_id, plain
        self.features: dict = {}
        self.drop_rng = None  # set while training: instruction dropout teaches the plain form too

    def placeholder_ids(self, tok, idx):
        return [tok.token_id(T.PLACEHOLDER["image"])] * QF.N_QUERIES

    def pool_features(self, pool: C.ImagePool):
        key = id(pool)
        if key not in self.features:
            with torch.no_grad():
                pix = torch.tensor(DA.pixels(np.stack([im for im, _ in pool.images])))
                self.features[key] = torch.cat([self.m.image_encoder(pix[i:i + 256]) for i in range(0, len(pix), 256)])
        return self.features[key]

    def media_rows_batch(self, items):
        """One Q-Former run for the batch; a dropped or plain instruction is an all-zero mask (== forward_plain)."""
        feats = self.pool_features(self.pool)[torch.tensor([idx for _, idx, _ in items])]
        ids, masks = [], []
        for sample, idx, _ in items:
            i, k = QF.instruction_ids(self.tok, C.instruction_text(sample.turns, idx), self.pad_id)
            if self.plain or (self.drop_rng is not None and self.drop_rng.random() < 0.25):
                k = [0] * len(k)
            ids.append(i)
            masks.append(k)
        if self.plain:
            return list(self.qf.forward_plain(feats))
        return list(self.qf(feats, torch.tensor(ids), torch.tensor(masks)))


def make_blip2(args, log):
    S = (lambda full, quick: quick if args.quick else full)
    m, tok = from_bundle.load(TINY)
    log(f"mmserve-tiny rebuilt; worst difference against its golden tensors {from_bundle.check_against_golden(m, TINY):.2e}")
    m.requires_grad_(False)
    torch.manual_seed(0)
    qf = QF.QFormer(len(tok.vocab))
    train_pool = C.make_image_pool(3100, S(3000, 200))
    eval_pool = C.make_image_pool(3200, S(400, 40))
    fam = QFormerFamily(m, qf, {}, tok.token_id(T.PAD))
    fam.tok = tok
    fam.pool = train_pool
    fam.drop_rng = np.random.default_rng(5)
    C.train(m, tok, fam, list(qf.parameters()), lambda rng: C.image_sample(rng, train_pool), S(args.steps or 700, 20), 2e-3,
            32, log, "q-former", seed=31)
    fam.drop_rng = None
    qf.eval()
    fam.pool = eval_pool
    samples = C.eval_samples(eval_pool, 33)
    results = C.run_samples(m, tok, fam, samples)
    report, oks = C.score(samples, results)
    fam.plain = True
    plain_results = C.run_samples(m, tok, fam, samples)
    plain_report, plain_oks = C.score(samples, plain_results)
    fam.plain = False
    log(f"eval (instruction-aware): {report}")
    log(f"eval (plain, no instruction): {plain_report}")

    out = args.out or os.path.join(ROOT, "models", "families", "tiny-blip2")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    comps = copy_components(out, ["embed_tokens", "decoder", "image_encoder"])
    B, Q = "batch", QF.N_QUERIES
    feats_spec = spec("image_features", "float32", [B, M.IMAGE_TOKENS, M.ENC_DIM])
    out_spec = spec("media_embeds", "float32", [B, Q, M.D_MODEL])
    ids_spec = spec("instruction_ids", "int64", [B, QF.MAX_INSTRUCTION])
    mask_spec = spec("instruction_mask", "int64", [B, QF.MAX_INSTRUCTION])
    x = torch.randn(2, M.IMAGE_TOKENS, M.ENC_DIM)
    ids = torch.randint(0, len(tok.vocab), (2, QF.MAX_INSTRUCTION))
    mask = torch.ones(2, QF.MAX_INSTRUCTION, dtype=torch.long)
    mask[1, 5:] = 0
    EX._export(qf, (x, ids, mask), os.path.join(out, "image_projector.onnx"), ["image_features", "instruction_ids", "instruction_mask"],
               ["media_embeds"], {n: {0: B} for n in ("image_features", "instruction_ids", "instruction_mask", "media_embeds")})
    comps["image_projector"] = {"file": "image_projector.onnx", "inputs": [feats_spec, ids_spec, mask_spec], "outputs": [out_spec]}
    EX._export(QF.Plain(qf), (x,), os.path.join(out, "image_projector_plain.onnx"), ["image_features"], ["media_embeds"],
               {"image_features": {0: B}, "media_embeds": {0: B}})
    comps["image_projector_plain"] = {"file": "image_projector_plain.onnx", "inputs": [feats_spec], "outputs": [out_spec]}
    with torch.no_grad():  # an all-zero instruction mask is exactly the plain form
        worst = float((qf(x, ids, torch.zeros_like(mask)) - qf.forward_plain(x)).abs().max())
    log(f"masked instruction vs plain form: {worst:.1e}")

    man = C.base_manifest("tiny-blip2", "Instruction-aware Q-Former conformance model (InstructBLIP form; BLIP-2 form as "
                          "component image_projector_plain) on mmserve-tiny's frozen image encoder and LLM.", "q_former", comps, len(tok.vocab))
    img = man["input_modalities"]["image"]
    img["tokens_per_item"] = Q
    img["instruction"] = {"ids_input": "instruction_ids", "mask_input": "instruction_mask", "max_tokens": QF.MAX_INSTRUCTION,
                          "pad_token": T.PAD, "source": "message_text"}
    write_common_files(out, man, tok, {"family": "q_former", "held_out": report, "plain_form": plain_report,
                                        "note": "held-out images of mmserve-tiny's world (seed 3200); the plain form is the "
                                                "same Q-Former without instruction tokens"})

    gdir = C.fresh_golden_dir(out)

    def extra(s, r):
        idx = next(v for _, parts in s.turns for k, v in parts if k == "image")
        ids_, mask_ = QF.instruction_ids(tok, C.instruction_text(s.turns, idx), tok.token_id(T.PAD))
        return {"instruction_ids": ids_[:sum(mask_)]}

    C.write_golden(samples, results, C.golden_indices(tok, samples, results, oks, 8), eval_pool, gdir, "cases.json", log, extra)
    C.write_golden(samples, plain_results, C.golden_indices(tok, samples, plain_results, plain_oks, 2), eval_pool, gdir,
                   "plain_cases.json", log)
    return report


# ------------------------------------------------------------------ family 2: Fuyu
class FuyuFamily(C.Family):
    def __init__(self, fm: FU.FuyuTiny, tok):
        self.fm, self.tok = fm, tok
        self.image_id, self.nl_id = tok.token_id(T.PLACEHOLDER["image"]), tok.token_id(FU.ROW_BREAK)
        self.pool = None
        self.cache: dict = {}

    def patches(self, idx):
        key = (id(self.pool), idx)
        if key not in self.cache:
            self.cache[key] = torch.tensor(FU.patches(self.pool.images[idx][0]))
        return self.cache[key]

    def placeholder_ids(self, tok, idx):
        h, w, _ = self.pool.images[idx][0].shape
        rows, cols = FU.grid(w, h)
        return ([self.image_id] * cols + [self.nl_id]) * rows

    def media_rows(self, sample, idx, run_ids):
        h, w, _ = self.pool.images[idx][0].shape
        rows, cols = FU.grid(w, h)
        proj = self.fm.patch_projector(self.patches(idx)).view(rows, cols, M.D_MODEL)
        nl = self.fm.llm.embed_tokens(torch.tensor([self.nl_id]))[None].expand(rows, 1, M.D_MODEL)
        return torch.cat([proj, nl], dim=1).reshape(rows * (cols + 1), M.D_MODEL)


def widen_tokenizer(tok):
    from mmtiny import bpe
    vocab = dict(tok.vocab)
    vocab[FU.ROW_BREAK] = len(vocab)
    return bpe.Tokenizer(vocab, tok.merges, [*tok.specials, FU.ROW_BREAK])


def make_fuyu(args, log):
    S = (lambda full, quick: quick if args.quick else full)
    m, tok = from_bundle.load(TINY)
    tok = widen_tokenizer(tok)
    torch.manual_seed(0)
    fm = FU.FuyuTiny(FU.widen_vocab(m.llm, tok.token_id("Ċ")))
    fam = FuyuFamily(fm, tok)
    train_pool = C.make_image_pool(4100, S(20000, 200), FU.random_resize)
    eval_pool = C.make_image_pool(4200, S(400, 40), FU.random_resize)
    fam.pool = train_pool
    params = list(fm.parameters())
    # the projection learns from scratch first (LLM frozen), then both train together
    fm.llm.requires_grad_(False)
    # Trained on single-object attribute questions only: with captions in the mix (60 % of samples, most of the
    # tokens) the same 1000 steps reached 0.77 on the held-out questions; the captions are evaluated but not trained.
    # Half the questions ask for the shape, the one attribute that needs patches combined non-linearly; the other
    # three stay at 0.9-1.0 with a sixth of the questions each (README: the shape search).
    others = [k for k in C.QA_KINDS if k != "shape"]

    def qa(rng):
        while True:
            i = int(rng.integers(len(train_pool.images)))
            if len(train_pool.images[i][1]) == 1:
                kind = "shape" if rng.random() < 0.5 else T.pick(rng, others)
                return T.image_task(rng, i, train_pool.images[i][1], kind=kind)

    C.train(fm, tok, fam, list(fm.patch_projector.parameters()), qa, S(args.warmup_steps or 300, 10), 3e-3, 16, log,
            "patch projection", seed=41)
    fm.llm.requires_grad_(True)
    C.train(fm, tok, fam, params, qa, S(args.steps or 20000, 20), 1.5e-3, 16, log, "fuyu (LLM + projection)", seed=42)
    torch.save(fm.state_dict(), os.path.join(args.work, "fuyu.pt"))
    fm.eval()
    fam.pool = eval_pool
    samples = C.eval_samples(eval_pool, 43)
    results = C.run_samples(fm, tok, fam, samples, batch=16)
    report, oks = C.score(samples, results)
    log(f"eval: {report}")

    out = args.out or os.path.join(ROOT, "models", "families", "tiny-fuyu")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    holder = torch.nn.Module()
    holder.llm = fm.llm
    comps = {}
    with tempfile.TemporaryDirectory() as tmp:
        full = EX.export_all(_as_mmtiny(fm, len(tok.vocab)), tmp, len(tok.vocab))
        for n in ("embed_tokens", "decoder"):
            shutil.copy(os.path.join(tmp, full[n]["file"]), os.path.join(out, full[n]["file"]))
            comps[n] = full[n]
    B = "batch"
    EX._export(fm.patch_projector, (torch.randn(2, 6, FU.PATCH_DIM),), os.path.join(out, "patch_projector.onnx"),
               ["image_patches"], ["media_embeds"], {"image_patches": {0: B, 1: "patches"}, "media_embeds": {0: B, 1: "patches"}})
    comps["patch_projector"] = {"file": "patch_projector.onnx", "inputs": [spec("image_patches", "float32", [B, "patches", FU.PATCH_DIM])],
                                "outputs": [spec("media_embeds", "float32", [B, "patches", M.D_MODEL])]}
    man = C.base_manifest("tiny-fuyu", "Encoder-free conformance model (Fuyu form): image patches linearly projected into "
                          "mmserve-tiny's LLM, fine-tuned, with a row-break token after every patch row.", "patch_projection",
                          comps, len(tok.vocab))
    man["input_modalities"]["image"] = {
        "placeholder_token": T.PLACEHOLDER["image"], "tokens_per_item": 0, "projector": "patch_projector",
        "row_break_token": FU.ROW_BREAK,
        "preprocessing": {"kind": "fuyu_patches", "patch_size": FU.PATCH, "min_width": FU.MIN_SIDE, "min_height": FU.MIN_SIDE,
                          "max_width": FU.MAX_SIDE, "max_height": FU.MAX_SIDE, "resize": "none",
                          "rescale_factor": float(BU.FT.RESCALE), "mean": BU.FT.IMAGE_MEAN.tolist(), "std": BU.FT.IMAGE_STD.tolist(),
                          "padding_value": FU.PAD_VALUE, "patch_layout": "row,col,channel", "channel_order": "rgb", "alpha": "drop"}}
    write_common_files(out, man, tok, {"family": "patch_projection", "held_out": report,
                                       "note": f"held-out images of mmserve-tiny's world (seed 4200) at random sizes {FU.TRAIN_SIDES[0]}-{FU.TRAIN_SIDES[1]} px"})
    gdir = C.fresh_golden_dir(out)

    def extra(s, r):
        idx = next(v for _, parts in s.turns for k, v in parts if k == "image")
        h, w, _ = eval_pool.images[idx][0].shape
        return {"image_grid": list(FU.grid(w, h))}

    C.write_golden(samples, results, C.golden_indices(tok, samples, results, oks, 10), eval_pool, gdir, "cases.json", log, extra)
    pdir = os.path.join(gdir, "preprocessing")
    os.makedirs(pdir)
    entries = []
    for k, (w, h) in enumerate([(64, 64), (33, 90), (96, 17), (16, 16)]):
        img = np.array(BU.Image.fromarray(eval_pool.images[k][0]).resize((w, h), BU.Image.NEAREST))
        name = f"image_{k}_{w}x{h}"
        BU.Image.fromarray(img).save(os.path.join(pdir, name + ".png"))
        np.save(os.path.join(pdir, name + ".patches.npy"), FU.patches(img))
        entries.append({"input": name + ".png", "expected": name + ".patches.npy", "grid": list(FU.grid(w, h))})
    with open(os.path.join(pdir, "index.json"), "w") as f:
        json.dump({"entries": entries, "tolerance": 1e-6}, f, indent=1)
    return report


def _as_mmtiny(fm: FU.FuyuTiny, vocab: int):
    """An MMTiny whose LLM is the fine-tuned one, so mmtiny.export writes its embed_tokens and decoder."""
    from mmtiny.train import MMTiny
    shell = MMTiny(vocab)
    shell.llm = fm.llm
    shell.eval()
    return shell


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", required=True, choices=["blip2", "fuyu"])
    ap.add_argument("--quick", action="store_true", help="tiny pools and step counts: a smoke test (useless model)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--warmup-steps", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work"), help="checkpoints")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()
    log = lambda msg: print(f"[{time.time() - t0:7.1f}s] {msg}", flush=True)  # noqa: E731
    report = make_blip2(args, log) if args.family == "blip2" else make_fuyu(args, log)
    log(f"done: {report}")


if __name__ == "__main__":
    main()
