"""Training stages: component pre-training (encoders, generators), text pre-training of the backbone,
multimodal pre-training of the projectors, and instruction tuning (with the output projectors)."""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import data as DA
from . import model as M
from . import tasks as T
from . import world as W


class MMTiny(nn.Module):
    def __init__(self, vocab_size: int):
        super().__init__()
        self.llm = M.LLM(vocab_size)
        self.image_encoder = M.ImageEncoder()
        self.audio_encoder = M.AudioEncoder()
        self.image_projector = M.ImageProjector()
        self.audio_projector = M.MlpProjector()
        self.video_projector = M.VideoProjector()
        self.image_output_projector = M.OutputProjector()
        self.audio_output_projector = M.OutputProjector()
        self.image_cond = M.ImageCondEncoder()
        self.image_generator = M.ImageGenerator()
        self.audio_cond = M.AudioCondEncoder()
        self.audio_generator = M.AudioGenerator()


def check_finite(loss, what):
    if not torch.isfinite(loss):
        raise SystemExit(f"{what}: loss is not finite; training diverged")


def cosine_lr(opt, base, step, total, warmup=50):
    lr = base * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / total))))
    for g in opt.param_groups:
        g["lr"] = lr


# ------------------------------------------------------------------ stage 0: the "frozen foundation" components
def image_labels(objs):
    colour = np.zeros(4, np.int64)
    shape = np.zeros(4, np.int64)
    size = np.zeros(4, np.int64)
    for o in objs:
        colour[o.quadrant] = 1 + W.COLOUR_NAMES.index(o.colour)
        shape[o.quadrant] = 1 + W.SHAPES.index(o.shape)
        size[o.quadrant] = 1 + W.SIZES.index(o.size)
    centre = np.array([objs[0].cx / 64, objs[0].cy / 64], np.float32) if len(objs) == 1 else np.array([-1, -1], np.float32)
    return colour, shape, size, centre


def pretrain_image_encoder(m: MMTiny, pools: DA.Pools, steps: int, log):
    head = M.ImageEncoderPretrainHead()
    pix = torch.tensor(DA.pixels(np.stack([im for im, _ in pools.images])))
    labs = [image_labels(objs) for _, objs in pools.images]
    colour = torch.tensor(np.stack([l[0] for l in labs]))
    shape = torch.tensor(np.stack([l[1] for l in labs]))
    size = torch.tensor(np.stack([l[2] for l in labs]))
    centre = torch.tensor(np.stack([l[3] for l in labs]))
    params = list(m.image_encoder.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    t0 = time.time()
    m.image_encoder.train()
    for step in range(steps):
        cosine_lr(opt, 3e-3, step, steps)
        idx = torch.randint(0, len(pix), (64,), generator=g)
        c, s, z, ctr = head(m.image_encoder(pix[idx]))
        single = centre[idx][:, 0] >= 0
        loss = (F.cross_entropy(c.reshape(-1, c.shape[-1]), colour[idx].reshape(-1))
                + F.cross_entropy(s.reshape(-1, s.shape[-1]), shape[idx].reshape(-1))
                + F.cross_entropy(z.reshape(-1, z.shape[-1]), size[idx].reshape(-1))
                + (10 * F.mse_loss(ctr[single], centre[idx][single]) if single.any() else 0.0))
        opt.zero_grad()
        loss.backward()
        check_finite(loss, "image encoder")
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 200 == 0 or step == steps - 1:
            acc = ((c.argmax(-1) == colour[idx]) & (s.argmax(-1) == shape[idx])).float().mean()
            log(f"  image encoder step {step} loss {loss.item():.4f} quadrant acc {acc:.3f} ({time.time() - t0:.0f}s)")
    m.image_encoder.eval()  # BatchNorm uses its running statistics from here on


def pretrain_audio_encoder(m: MMTiny, mels: torch.Tensor, labels: torch.Tensor, steps: int, log):
    head = M.AudioEncoderPretrainHead()
    params = list(m.audio_encoder.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    g = torch.Generator().manual_seed(2)
    t0 = time.time()
    for step in range(steps):
        cosine_lr(opt, 1e-3, step, steps)
        idx = torch.randint(0, len(mels), (64,), generator=g)
        logits = head(m.audio_encoder(mels[idx]))
        loss = F.cross_entropy(logits, labels[idx])
        opt.zero_grad()
        loss.backward()
        check_finite(loss, "audio encoder")
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 200 == 0 or step == steps - 1:
            log(f"  audio encoder step {step} loss {loss.item():.4f} acc {(logits.argmax(-1) == labels[idx]).float().mean():.3f} ({time.time() - t0:.0f}s)")


def pretrain_image_generator(m: MMTiny, steps: int, log):
    combos = [(c, s) for c in range(len(W.COLOUR_NAMES)) for s in range(len(W.SHAPES))]
    cc = torch.tensor([c for c, _ in combos])
    ss = torch.tensor([s for _, s in combos])
    target = torch.tensor(np.stack([W.template_image(W.COLOUR_NAMES[c], W.SHAPES[s]) for c, s in combos]))
    params = list(m.image_cond.parameters()) + list(m.image_generator.parameters())
    opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.0)
    for step in range(steps):
        cosine_lr(opt, 3e-3, step, steps)
        out = m.image_generator(m.image_cond(cc, ss))
        loss = F.mse_loss(out, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 300 == 0 or step == steps - 1:
            log(f"  image generator step {step} mse {loss.item():.5f}")


def audio_control_targets():
    combos = [(c, p) for c in range(3) for p in range(3)]
    f0 = torch.zeros(len(combos), M.AUDIO_FRAMES)
    amp = torch.zeros(len(combos), M.AUDIO_FRAMES)
    for i, (c, p) in enumerate(combos):
        f0[i] = W.PITCHES[W.PITCH_NAMES[p]]
        for k in range(c + 1):  # beeps of 15 frames every 25 frames from frame 10 (== world.beeps(exact=True))
            amp[i, 10 + 25 * k: 25 + 25 * k] = 0.5
    return combos, f0, amp


def pretrain_audio_generator(m: MMTiny, steps: int, log):
    combos, f0, amp = audio_control_targets()
    cc = torch.tensor([c for c, _ in combos])
    pp = torch.tensor([p for _, p in combos])
    params = list(m.audio_cond.parameters()) + list(m.audio_generator.parameters())
    opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.0)
    for step in range(steps):
        cosine_lr(opt, 3e-3, step, steps)
        pf0, pamp = m.audio_generator.controls(m.audio_cond(cc, pp))
        loss = F.mse_loss(torch.log(pf0), torch.log(f0)) * 10 + F.mse_loss(pamp, amp) * 10
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 300 == 0 or step == steps - 1:
            log(f"  audio generator step {step} loss {loss.item():.6f}")


# ------------------------------------------------------------------ LLM batches
class Features:
    """Frozen-encoder features of a pool, computed once."""

    def __init__(self, m: MMTiny, pools: DA.Pools):
        with torch.no_grad():
            pix = torch.tensor(DA.pixels(np.stack([im for im, _ in pools.images])))
            self.image = torch.cat([m.image_encoder(pix[i:i + 512]) for i in range(0, len(pix), 512)])
            vids = []
            for v, _ in pools.videos:
                vids.append(m.image_encoder(torch.tensor(DA.pixels(v))))
            self.video = torch.stack(vids)  # [N, 8, 16, C]
            self.mels = torch.tensor(DA.log_mels(pools.audio))
            self.audio = torch.cat([m.audio_encoder(self.mels[i:i + 256]) for i in range(0, len(self.mels), 256)])


def project(m: MMTiny, kind: str, feats: torch.Tensor) -> torch.Tensor:
    if kind == "image":
        return m.image_projector(feats)
    if kind == "audio":
        return m.audio_projector(feats)
    return m.video_projector(feats)


def build_batch(m: MMTiny, tok, samples: list[T.Sample], feats: Features, plain_lines: list[str] | None = None):
    """Right-padded training batch. Loss on answer tokens (+ every token of plain text lines)."""
    rows = []
    for s in samples:
        ids, spans = T.render_ids(tok, s.turns)
        ans = T.answer_ids(tok, s.answer)
        full = ids + ans
        labels = [-100] * (len(ids) - 1) + ans + [-100]
        rows.append((full, labels, spans, s))
    for line in plain_lines or []:
        full = [tok.token_id(T.EOT)] + tok.encode(line, allow_special=False) + [tok.token_id(T.EOT)]
        rows.append((full, full[1:] + [-100], [], None))
    L = max(len(r[0]) for r in rows)
    b = len(rows)
    ids = torch.full((b, L), tok.token_id(T.PAD), dtype=torch.long)
    labels = torch.full((b, L), -100, dtype=torch.long)
    mask = torch.zeros(b, L, dtype=torch.long)
    for i, (full, lab, _, _) in enumerate(rows):
        ids[i, :len(full)] = torch.tensor(full)
        labels[i, :len(full)] = torch.tensor(lab)
        mask[i, :len(full)] = 1
    emb = m.llm.embed_tokens(ids)
    for kind in ("image", "audio", "video"):
        where = [(i, idx, start, n) for i, r in enumerate(rows) for (k, idx, start, n) in r[2] if k == kind]
        if not where:
            continue
        src = {"image": feats.image, "audio": feats.audio, "video": feats.video}[kind]
        proj = project(m, kind, src[torch.tensor([w[1] for w in where])])  # [k, n, D]
        bi = torch.tensor([w[0] for w in where for _ in range(w[3])])
        pi = torch.tensor([w[2] + j for w in where for j in range(w[3])])
        emb = emb.index_put((bi, pi), proj.reshape(-1, proj.shape[-1]))
    gens = []
    for i, (full, _, _, s) in enumerate(rows):
        if s is not None and s.gen is not None:
            sig = T.IMG_SIGNALS if s.gen[0] == "image" else T.AUD_SIGNALS
            sig_ids = [tok.token_id(x) for x in sig]
            pos = [full.index(t) for t in sig_ids]
            gens.append((i, pos, s.gen))
    pos_ids = torch.arange(L)[None].expand(b, L)
    return emb, mask, pos_ids, labels, gens


def llm_loss(m: MMTiny, batch, out_weight: float = 1.0):
    emb, mask, pos, labels, gens = batch
    logits, hidden, _ = m.llm(emb, mask, pos)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
    aux = torch.zeros(())
    if gens and out_weight > 0:
        for kind in ("image", "audio"):
            g = [x for x in gens if x[2][0] == kind]
            if not g:
                continue
            h = torch.stack([hidden[i, p] for i, p, _ in g])  # [k, 4, D]
            a = torch.tensor([x[2][1] for x in g])
            c = torch.tensor([x[2][2] for x in g])
            with torch.no_grad():
                target = m.image_cond(a, c) if kind == "image" else m.audio_cond(a, c)
            proj = m.image_output_projector if kind == "image" else m.audio_output_projector
            aux = aux + F.mse_loss(proj(h), target)
    return loss + out_weight * aux, loss.item(), aux.item()


def sample_task(rng, pools: DA.Pools, mix: dict) -> T.Sample:
    names = list(mix)
    p = np.array([mix[n] for n in names], np.float64)
    kind = names[int(rng.choice(len(names), p=p / p.sum()))]
    if kind == "image":
        i = int(rng.integers(len(pools.images)))
        return T.image_task(rng, i, pools.images[i][1])
    if kind == "caption":
        i = int(rng.integers(len(pools.images)))
        return T.image_task(rng, i, pools.images[i][1], kind="caption")
    if kind == "compare":
        singles = None
        while True:
            i1, i2 = (int(x) for x in rng.integers(len(pools.images), size=2))
            o1, o2 = pools.images[i1][1], pools.images[i2][1]
            if len(o1) == 1 and len(o2) == 1:
                break
        return T.compare_task(rng, i1, o1[0], i2, o2[0])
    if kind == "video":
        i = int(rng.integers(len(pools.videos)))
        return T.video_task(rng, i, pools.videos[i][1])
    if kind == "video_describe":
        i = int(rng.integers(len(pools.videos)))
        return T.video_task(rng, i, pools.videos[i][1], kind="describe")
    if kind == "audio":
        i = int(rng.integers(len(pools.audio)))
        return T.audio_task(rng, i, pools.audio[i][1])
    if kind == "audio_heard":
        i = int(rng.integers(len(pools.audio)))
        info = pools.audio[i][1]
        return T.audio_task(rng, i, info, kind="transcribe" if info["kind"] == "digit" else "heard")
    if kind == "text":
        return T.text_task(rng)
    if kind == "image_gen":
        return T.image_gen_task(rng)
    if kind == "audio_gen":
        return T.audio_gen_task(rng)
    raise ValueError(kind)


def train_llm_stage(name, m: MMTiny, tok, pools, feats, params, steps, lr, mix, batch, log, plain=None, seed=0, out_weight=0.0,
                    sampler=sample_task):
    """sampler(rng, pools, mix) -> Sample; other recipes (tool_tasks) bring their own task mix."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    rng = np.random.default_rng(seed)
    t0 = time.time()
    for step in range(steps):
        cosine_lr(opt, lr, step, steps)
        samples = [sampler(rng, pools, mix) for _ in range(batch)]
        lines = None
        if plain is not None:
            lines = [plain[int(i)] for i in rng.integers(len(plain), size=batch // 2)]
        loss, lm, aux = llm_loss(m, build_batch(m, tok, samples, feats, lines), out_weight)
        opt.zero_grad()
        loss.backward()
        check_finite(loss, name)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"  {name} step {step}/{steps} lm {lm:.4f} out {aux:.5f} ({time.time() - t0:.0f}s)")
