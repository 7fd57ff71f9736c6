"""tiny-imagebind: generic tensor modalities (PandaGPT / ImageBind-LLM) on mmserve-tiny's world.

Two raw-tensor modalities, each with its own encoder and MLP projector whose tokens are injected into the LLM at a
placeholder run (token injection, as PandaGPT feeds ImageBind embeddings to Vicuna):
- depth: a [1, 32, 32] float32 depth map in metres of a mmtiny scene (far wall 6-9 m, each object 1-4.5 m away);
  asked which quadrant is nearest and how many objects there are;
- imu: a [T, 6] float32 IMU trace (accelerometer x, y, z in m/s^2 with gravity on z, gyroscope x, y, z in rad/s) at
  50 Hz, T from 48 to 96 samples, of a device moved left / right / up / down, shaken or not; asked the direction and
  whether it shakes.
The server receives them as .npy files (input_tensor content parts) checked against the manifest's dtype, shape
ranges and value range. Recipe: mmserve-tiny's LLM starts from its trained weights (two new placeholder tokens whose
embedding rows copy <|image|>'s) and is tuned lightly with the new encoders and projectors.
"""
from __future__ import annotations

import io
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmtiny import bpe
from mmtiny import bundle as MB
from mmtiny import export as EX
from mmtiny import model as M
from mmtiny import tasks as T
from mmtiny import world as W

from . import common_vexpert as C

DEPTH_SIZE = 32
DEPTH_RANGE = (0.1, 100.0)  # metres; the encoder reads inverse depth, so 0 is refused by the manifest's value_range
IMU_RATE = 50
IMU_LENGTHS = (48, 96)
IMU_RANGE = (-100.0, 100.0)
TOKENS = 4
FEAT = 64
PLACEHOLDERS = {"depth": "<|depth|>", "imu": "<|imu|>"}

# mmtiny's prompt renderer looks modalities up in these tables; the two new ones are added for this process.
T.PLACEHOLDER.update(PLACEHOLDERS)
T.TOKENS_PER_ITEM.update({k: TOKENS for k in PLACEHOLDERS})


# ------------------------------------------------------------------ the world's tensors
def depth_map(rng, objs) -> np.ndarray:
    """[1, 32, 32] metres: a tilted far wall with noise, each object's silhouette at its own distance."""
    yy = np.linspace(0, 1, DEPTH_SIZE, dtype=np.float32)[:, None]
    d = rng.uniform(6, 9) + rng.uniform(-1, 1) * yy + rng.normal(0, 0.05, (DEPTH_SIZE, DEPTH_SIZE))
    while True:
        z = rng.uniform(1.0, 4.5, size=len(objs))
        if len(objs) == 1 or np.min(np.diff(np.sort(z))) > 0.5:
            break
    for o, zi in zip(objs, z):
        scale = DEPTH_SIZE / W.IMG
        mask = W._mask(o.shape, o.cx * scale, o.cy * scale, max(o.r * scale, 2.5), n=DEPTH_SIZE)
        d[mask] = zi + rng.normal(0, 0.02, int(mask.sum()))
    return d[None].astype(np.float32), int(np.argmin(z))


def imu_trace(rng, direction: str, shaking: bool) -> np.ndarray:
    """[T, 6]: a minimum-jerk move of 0.2-0.5 m over most of the trace, gravity on z, sensor noise, optional shaking."""
    n = int(rng.integers(IMU_LENGTHS[0], IMU_LENGTHS[1] + 1))
    t = np.arange(n) / IMU_RATE
    acc = np.zeros((n, 3))
    gyro = rng.normal(0, 0.02, (n, 3))
    t0, t1 = rng.uniform(0, 0.15) * t[-1], rng.uniform(0.85, 1.0) * t[-1]
    dur, amp = t1 - t0, rng.uniform(0.2, 0.5)
    tau = np.clip((t - t0) / dur, 0, 1)
    profile = amp / dur ** 2 * (60 * tau - 180 * tau ** 2 + 120 * tau ** 3) * ((t >= t0) & (t <= t1))
    axis, sign = {"left": (0, -1), "right": (0, 1), "up": (2, 1), "down": (2, -1)}[direction]
    acc[:, axis] += sign * profile
    acc[:, 2] += 9.81
    if shaking:
        f, a = rng.uniform(4, 7), rng.uniform(3, 6)
        k = int(rng.integers(3))
        acc[:, k] += a * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
        gyro[:, (k + 1) % 3] += rng.uniform(1, 3) * np.sin(2 * np.pi * f * t)
    acc += rng.normal(0, 0.05, acc.shape)
    return np.concatenate([acc, gyro], axis=1).astype(np.float32)


def make_pool(seed: int, n: int, log):
    rng = np.random.default_rng(seed)
    depth, imu = [], []
    for _ in range(n):
        objs = W.random_scene(rng)
        d, nearest = depth_map(rng, objs)
        depth.append((d, {"count": len(objs), "nearest": W.QUADRANTS[objs[nearest].quadrant], "quadrants": [o.quadrant for o in objs]}))
        direction, shaking = str(rng.choice(W.DIRECTIONS)), bool(rng.random() < 0.5)
        imu.append((imu_trace(rng, direction, shaking), {"direction": direction, "shaking": shaking}))
    log(f"tensor pool seed={seed}: {n} depth maps, {n} IMU traces")
    return {"depth": depth, "imu": imu}


# ------------------------------------------------------------------ tasks
def depth_task(rng, idx, info, kind=None) -> T.Sample:
    kind = kind or T.pick(rng, ["nearest", "count"])
    if kind == "nearest":
        q, a = T.pick(rng, ["Which part of the scene is nearest?", "Where is the closest object?"]), info["nearest"]
    else:
        q, a = "How many objects are in the depth map?", T.number(info["count"])
    return T.Sample(f"depth_{kind}", T.with_system(rng, T.user(*T.media_first(rng, [("depth", idx)], q))), a)


def imu_task(rng, idx, info, kind=None) -> T.Sample:
    kind = kind or T.pick(rng, ["direction", "shaking"])
    if kind == "direction":
        q, a = T.pick(rng, ["Which direction does the device move?", "Which way did the sensor move?"]), info["direction"]
    else:
        q, a = "Is the device shaking?", "yes" if info["shaking"] else "no"
    return T.Sample(f"imu_{kind}", T.with_system(rng, T.user(*T.media_first(rng, [("imu", idx)], q))), a)


# ------------------------------------------------------------------ encoders and projectors
class DepthEncoder(nn.Module):
    """[B, 1, 32, 32] metres -> 4 tokens, one per quadrant, from inverse depth (near = large).

    No convolutions: Debian torch 1.13's Conv2d backward returned NaN gradients for these one-channel, batch-1 inputs
    (seen a few steps into training), so each quadrant's 16x16 pixels go through an MLP, then one linear layer mixes
    the four tokens so each can compare itself with the others ("which is nearest")."""

    def __init__(self):
        super().__init__()
        half = DEPTH_SIZE // 2
        self.quadrant = nn.Sequential(nn.Linear(half * half, 128), nn.GELU(), nn.Linear(128, FEAT), nn.GELU())
        self.mix = nn.Linear(TOKENS * FEAT, TOKENS * FEAT)
        self.pos = nn.Parameter(torch.zeros(1, TOKENS, FEAT))
        self.norm = nn.LayerNorm(FEAT)

    def forward(self, depth):
        b, half = depth.shape[0], DEPTH_SIZE // 2
        q = (1.0 / depth).reshape(b, 2, half, 2, half).permute(0, 1, 3, 2, 4).reshape(b, TOKENS, half * half)
        f = self.quadrant(q)  # [B, 4, FEAT] in QUADRANTS order (top left, top right, bottom left, bottom right)
        f = f + self.mix(f.reshape(b, TOKENS * FEAT)).reshape(b, TOKENS, FEAT)
        return self.norm(f + self.pos)


class ImuEncoder(nn.Module):
    """[B, T, 6] -> 4 tokens, for any length T >= 2. Per sample: gravity-free acceleration (the trace's mean removed:
    a move starts and ends at rest), its running integral (velocity: the direction), its first difference (jerk: the
    shaking) and the gyroscope go through an MLP; the mean and maximum over time make the tokens. No convolutions,
    for the reason given at DepthEncoder."""

    def __init__(self):
        super().__init__()
        self.step = nn.Sequential(nn.Linear(12, 64), nn.GELU(), nn.Linear(64, 64), nn.GELU())
        self.tokens = nn.Linear(64 * 2, TOKENS * FEAT)
        self.norm = nn.LayerNorm(FEAT)

    def forward(self, imu):
        acc = imu[:, :, :3] - imu[:, :, :3].mean(dim=1, keepdim=True)
        vel = torch.cumsum(acc, dim=1) * (1.0 / IMU_RATE)
        jerk = acc[:, 1:] - acc[:, :-1]
        f = self.step(torch.cat([acc[:, 1:] * 0.2, vel[:, 1:] * 2.0, jerk, imu[:, 1:, 3:]], dim=2))  # [B, T-1, 64]
        pooled = torch.cat([f.mean(dim=1), f.amax(dim=1)], dim=1)
        return self.norm(self.tokens(pooled).view(-1, TOKENS, FEAT))


class TensorProjector(M.MlpProjector):
    def __init__(self):
        super().__init__(FEAT)


# ------------------------------------------------------------------ the model
def extend_tokenizer(tok: bpe.Tokenizer) -> bpe.Tokenizer:
    vocab = dict(tok.vocab)
    for ph in PLACEHOLDERS.values():
        vocab[ph] = len(vocab)
    return bpe.Tokenizer(vocab, tok.merges, tok.specials + list(PLACEHOLDERS.values()))


class ImageBindTiny(nn.Module):
    def __init__(self, base, tok: bpe.Tokenizer, new_tok: bpe.Tokenizer):
        super().__init__()
        self.llm = M.LLM(len(new_tok.vocab))
        state = base.llm.state_dict()
        old = state["embed_tokens.weight"]
        image_row = old[tok.token_id(T.PLACEHOLDER["image"])]
        # placeholder rows are always replaced at the input; as copies of <|image|>'s row their logits never win
        state["embed_tokens.weight"] = torch.cat([old, image_row[None].repeat(len(PLACEHOLDERS), 1)])
        self.llm.load_state_dict(state)
        self.encoders = nn.ModuleDict({"depth": DepthEncoder(), "imu": ImuEncoder()})
        self.projectors = nn.ModuleDict({"depth": TensorProjector(), "imu": TensorProjector()})

    def forward(self, inputs_embeds, attention_mask, position_ids, token_type_ids, past=None):
        return self.llm(inputs_embeds, attention_mask, position_ids, past)


class Family:
    def __init__(self, model: ImageBindTiny, tok, pool):
        self.model, self.tok, self.pool = model, tok, pool

    def make_row(self, s: T.Sample, answer=None) -> C.Row:
        ids, spans = T.render_ids(self.tok, s.turns)
        if answer is not None:
            ids = ids + answer
        emb = self.model.llm.embed_tokens(torch.tensor(ids))
        for kind, idx, start, n in spans:
            x = torch.from_numpy(self.pool[kind][idx][0])[None]
            item = self.model.projectors[kind](self.model.encoders[kind](x))[0]
            emb = torch.cat([emb[:start], item, emb[start + n:]])
        return C.Row(ids, emb, torch.arange(len(ids)))

    def sample(self, rng) -> T.Sample:
        kind = "depth" if rng.random() < 0.5 else "imu"
        i = int(rng.integers(len(self.pool[kind])))
        return (depth_task if kind == "depth" else imu_task)(rng, i, self.pool[kind][i][1])


# ------------------------------------------------------------------ export
def export(model: ImageBindTiny, out: str, vocab: int) -> dict:
    """embed_tokens and decoder as mmserve-tiny's (same wrappers, extended vocabulary), then each modality's encoder and projector."""
    model.eval()
    holder = type("Holder", (), {})()
    holder.llm = model.llm
    B = "batch"
    comps = {}

    spec = EX.spec
    add = EX.component_adder(out, comps)

    add("embed_tokens", EX.EmbedTokens(holder), (torch.zeros(2, 5, dtype=torch.long),),
        [spec("input_ids", "int64", [B, "sequence"])], [spec("inputs_embeds", "float32", [B, "sequence", M.D_MODEL])],
        {"input_ids": {0: B, 1: "sequence"}, "inputs_embeds": {0: B, 1: "sequence"}})
    comps["decoder"] = C.export_decoder(EX.Decoder(holder), out, vocab, token_types=False)
    add("depth_encoder", model.encoders["depth"], (torch.rand(2, 1, DEPTH_SIZE, DEPTH_SIZE) + 1,),
        [spec("depth", "float32", [B, 1, DEPTH_SIZE, DEPTH_SIZE])], [spec("depth_features", "float32", [B, TOKENS, FEAT])],
        {"depth": {0: B}, "depth_features": {0: B}})
    add("imu_encoder", model.encoders["imu"], (torch.randn(2, 64, 6),),
        [spec("imu", "float32", [B, "imu_samples", 6])], [spec("imu_features", "float32", [B, TOKENS, FEAT])],
        {"imu": {0: B, 1: "imu_samples"}, "imu_features": {0: B}})
    for kind in PLACEHOLDERS:
        add(f"{kind}_projector", model.projectors[kind], (torch.randn(2, TOKENS, FEAT),),
            [spec(f"{kind}_features", "float32", [B, TOKENS, FEAT])], [spec("media_embeds", "float32", [B, TOKENS, M.D_MODEL])],
            {f"{kind}_features": {0: B}, "media_embeds": {0: B}})
    return comps


def manifest(comps: dict, vocab: int) -> dict:
    man = MB.manifest(comps, vocab)
    man["id"] = "tiny-imagebind"
    man["description"] = ("Tensor-modality conformance model (PandaGPT / ImageBind-LLM family): depth maps and IMU traces, "
                          "each with its own encoder and projector, injected into mmserve-tiny's LLM (tools/reference-model/families).")
    man["family"] = "tensor_modalities"

    def tensor(kind, shape, value_range):
        return {"placeholder_token": PLACEHOLDERS[kind], "tokens_per_item": TOKENS, "encoder": f"{kind}_encoder",
                "projector": f"{kind}_projector",
                "preprocessing": {"kind": "tensor", "dtype": "float32", "shape": shape, "value_range": list(value_range)}}

    man["input_modalities"] = {"depth": tensor("depth", [1, DEPTH_SIZE, DEPTH_SIZE], DEPTH_RANGE),
                               "imu": tensor("imu", [list(IMU_LENGTHS), 6], IMU_RANGE)}
    man["output_modalities"] = {}
    return man


CHAT_TEMPLATE_JINJA = MB.CHAT_TEMPLATE_JINJA.replace(
    "{% endif %}{% endfor %}{% endif %}<|im_end|>",
    "{% elif part['type'] == 'input_tensor' %}<|{{ part['input_tensor']['modality'] }}|>{% endif %}{% endfor %}{% endif %}<|im_end|>")


def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def write_tensor_part(kind, value, gdir, pool):
    rel = f"media/{kind}_{value:04d}.npy"
    path = os.path.join(gdir, rel)
    if not os.path.exists(path):
        open(path, "wb").write(npy_bytes(pool[kind][value][0]))
    return {"type": "input_tensor", "input_tensor": {"modality": kind, "data": rel}}


def metric_group(task: str) -> str:
    return task  # depth_nearest, depth_count, imu_direction, imu_shaking: each must reach the bar on its own


def pretrain_encoders(model: ImageBindTiny, pool, steps: int, log) -> None:
    """The encoders' stand-in for ImageBind's pre-training: label heads on their tokens (depth: which quadrants hold an
    object and which is nearest; IMU: direction and shaking), as mmtiny pre-trains its image and audio encoders."""
    heads = nn.ModuleDict({"occupied": nn.Linear(FEAT, 2), "nearest": nn.Linear(TOKENS * FEAT, 4),
                           "direction": nn.Linear(TOKENS * FEAT, 4), "shaking": nn.Linear(TOKENS * FEAT, 2)})
    params = list(model.encoders.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.01)
    g = np.random.default_rng(6)
    for step in range(steps):
        C.cosine_lr(opt, 2e-3, step, steps, warmup=20)
        idx = g.integers(len(pool["depth"]), size=32)
        depth = torch.from_numpy(np.stack([pool["depth"][i][0] for i in idx]))
        f = model.encoders["depth"](depth)
        occupied = torch.tensor([[int(q in pool["depth"][i][1]["quadrants"]) for q in range(4)] for i in idx])
        nearest = torch.tensor([W.QUADRANTS.index(pool["depth"][i][1]["nearest"]) for i in idx])
        loss = F.cross_entropy(heads["occupied"](f).reshape(-1, 2), occupied.reshape(-1)) + F.cross_entropy(heads["nearest"](f.flatten(1)), nearest)
        imu = torch.cat([model.encoders["imu"](torch.from_numpy(pool["imu"][i][0])[None]) for i in idx[:16]])
        direction = torch.tensor([W.DIRECTIONS.index(pool["imu"][i][1]["direction"]) for i in idx[:16]])
        shaking = torch.tensor([int(pool["imu"][i][1]["shaking"]) for i in idx[:16]])
        loss = loss + F.cross_entropy(heads["direction"](imu.flatten(1)), direction) + F.cross_entropy(heads["shaking"](imu.flatten(1)), shaking)
        opt.zero_grad()
        loss.backward()
        C.check_finite(loss, "tensor encoder pre-training")
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"  encoder pre-training step {step}/{steps} loss {loss.item():.4f}")


def build(base, tok, out: str, work: str, log, quick: bool = False) -> dict:
    S = (lambda full, q: q if quick else full)
    new_tok = extend_tokenizer(tok)
    model = ImageBindTiny(base, tok, new_tok)
    model.eval()
    train_fam = Family(model, new_tok, make_pool(3000, S(3000, 100), log))
    new_parts = list(model.encoders.parameters()) + list(model.projectors.parameters())
    llm_params = list(model.llm.parameters())
    forward = model
    embed = model.llm.embed_tokens
    # encoders pre-trained on labels, then encoders and projectors with the LLM frozen (PandaGPT trains only its
    # projection), then a light joint tune
    for p in llm_params:
        p.requires_grad_(False)
    pretrain_encoders(model, train_fam.pool, S(400, 10), log)
    C.train("tensor encoders", forward, new_tok, new_parts, train_fam.sample, train_fam.make_row, S(500, 10), 2e-3, 16, log, seed=4)
    for p in llm_params:
        p.requires_grad_(True)
    C.train("joint", forward, new_tok, new_parts + llm_params, train_fam.sample, train_fam.make_row, S(700, 10), 3e-4, 16, log, seed=5)

    eval_pool = make_pool(3099, S(200, 30), log)
    eval_fam = Family(model, new_tok, eval_pool)
    rng = np.random.default_rng(3199)
    samples = [depth_task(rng, i, info) for i, (_, info) in enumerate(eval_pool["depth"])]
    samples += [imu_task(rng, i, info) for i, (_, info) in enumerate(eval_pool["imu"])]
    return C.evaluate_and_write(
        "tiny-imagebind", forward, embed, new_tok, samples, eval_fam.make_row, metric_group, out,
        lambda d: export(model, d, len(new_tok.vocab)), manifest, CHAT_TEMPLATE_JINJA, 10,
        lambda k, v, g: write_tensor_part(k, v, g, eval_pool), log, min_golden=0 if quick else 30)
