#!/usr/bin/python3
"""One command: data -> tokenizer -> training stages -> eval -> ONNX export -> golden files.

    /usr/bin/python3 tools/reference-model/make_bundle.py [--quick] [--out models/mmserve-tiny]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# torch parallelises over its own 2 intra-op threads; OpenBLAS spinning up its own threads on top of
# them oversubscribes the 2 cores (measured here: an LLM training step 0.19-0.27 s with this, 0.42-0.57 s without)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmtiny import bpe, data as DA, run, tasks as T, train as TR  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="tiny pools and step counts: a smoke test of the pipeline")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "models", "mmserve-tiny"))
    ap.add_argument("--work", default=os.path.join(os.path.dirname(__file__), "work"))
    ap.add_argument("--stop-after", default=None, help="train|eval (debugging)")
    args = ap.parse_args()
    log, t_start = run.start(args.work, 2)

    q = args.quick
    S = (lambda full, quick: quick if q else full)
    train_pools = DA.make_pools(1000, S(6000, 300), S(2500, 80), S(800, 40), S(810, 45), log)
    eval_pools = DA.make_pools(2000, S(600, 60), S(300, 30), S(200, 20), S(180, 18), log)

    tok = bpe.train(T.corpus_lines(np.random.default_rng(7), 3000), vocab_size=1024, specials=T.SPECIALS)
    log(f"tokenizer: {len(tok.vocab)} tokens, {len(tok.merges)} merges")

    m = TR.MMTiny(len(tok.vocab))
    log("stage 0: component pre-training (encoders and generators, then frozen)")
    TR.pretrain_image_encoder(m, train_pools, S(600, 30), log)
    train_feats = TR.Features(m, train_pools)
    labels = torch.tensor([DA.audio_label(i) for _, i in train_pools.audio])
    TR.pretrain_audio_encoder(m, train_feats.mels, labels, S(800, 30), log)
    TR.pretrain_image_generator(m, S(1500, 30), log)
    TR.pretrain_audio_generator(m, S(1500, 30), log)
    for part in (m.image_encoder, m.audio_encoder, m.image_cond, m.image_generator, m.audio_cond, m.audio_generator):
        part.requires_grad_(False)
    train_feats = TR.Features(m, train_pools)
    eval_feats = TR.Features(m, eval_pools)

    plain = T.corpus_lines(np.random.default_rng(11), 2000)
    log("stage 1: text pre-training of the LLM backbone")
    TR.train_llm_stage("text-pretrain", m, tok, train_pools, train_feats, list(m.llm.parameters()), S(700, 10), 3e-3,
                       {"text": 3, "image_gen": 1, "audio_gen": 1}, 32, log, plain=plain, seed=21)
    log("stage 2: multimodal pre-training of the input projectors (LLM frozen)")
    proj = [*m.image_projector.parameters(), *m.audio_projector.parameters(), *m.video_projector.parameters()]
    TR.train_llm_stage("mm-pretrain", m, tok, train_pools, train_feats, proj, S(400, 10), 3e-3,
                       {"caption": 2, "video_describe": 1, "audio_heard": 1}, 32, log, seed=22)
    log("stage 3: instruction tuning (LLM + input and output projectors)")
    tune = [*m.llm.parameters(), *proj, *m.image_output_projector.parameters(), *m.audio_output_projector.parameters()]
    TR.train_llm_stage("instruct", m, tok, train_pools, train_feats, tune, S(3000, 20), 2e-3,
                       {"image": 5, "compare": 1.5, "video": 2.5, "audio": 2.5, "text": 2, "image_gen": 1, "audio_gen": 1},
                       32, log, seed=23, out_weight=1.0)
    os.makedirs(args.work, exist_ok=True)
    torch.save(m.state_dict(), os.path.join(args.work, "mmtiny.pt"))
    tok.save_hf(os.path.join(args.work, "tokenizer.json"))
    log(f"training done in {time.time() - t_start:.0f}s")
    if args.stop_after == "train":
        return
    from mmtiny import bundle
    bundle.finish(m, tok, eval_pools, eval_feats, args.out, args.work, log, quick=q)
    log(f"all done in {time.time() - t_start:.0f}s")


if __name__ == "__main__":
    main()
