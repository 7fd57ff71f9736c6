#!/usr/bin/python3
"""Builds the vision conformance models and their goldens, deterministically, in one command:

    /usr/bin/python3 tools/conformance-models/make_vision_models.py          # from the repository root

1. golden images (tests/conformance/images/*.png) and the case lists (tests/conformance/cases/<model>.json);
2. each model folder's configs and tokenizer (models/conformance/<model>/);
3. training conversations, tokenized by transformers.js itself (oracle/generate-vision.mjs tokenize);
4. brief CPU training of each model (PyTorch, fixed seeds, 1 thread) on the synthetic colour/shape/text tasks;
5. ONNX export (onnx/*.onnx, the transformers.js layout);
6. goldens from transformers.js (oracle/generate-vision.mjs golden);
7. the check: PyTorch, fed the goldens' prompt ids and the PNGs, must pick the same greedy tokens, and the top-1
   minus top-2 logit margin at every step of every case must be >= MIN_MARGIN.

Needs Debian's python3-torch, python3-onnx, python3-numpy, python3-pil (hence /usr/bin/python3) and Node with
`npm ci --ignore-scripts --prefix tools/conformance-models/oracle` done.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from vision import configs as C  # noqa: E402
from vision import export as X  # noqa: E402
from vision import nets, tasks, tok, world  # noqa: E402
from vision.world import Scene  # noqa: E402

ORACLE = HERE / "oracle"
MODELS = ROOT / "models" / "conformance"
CONF = ROOT / "tests" / "conformance"
MIN_MARGIN = 0.02
T0 = time.time()


def log(msg: str) -> None:
    print(f"[{time.time() - T0:7.1f}s] {msg}", flush=True)


# ------------------------------------------------------------------------------------------------ images, cases
WHITE, GREY, CREAM = (255, 255, 255), (236, 236, 236), (250, 244, 228)

# name -> (scene, mode). Centred, clean shapes; the training scenes are random variations of these.
LLAVA_IMAGES = {
    "red-circle-112.png": (Scene("red", "circle", 0.5, 0.5, 0.3, WHITE), "RGB"),
    "blue-square-112.png": (Scene("blue", "square", 0.5, 0.5, 0.3, WHITE), "RGB"),
    "green-triangle-112.png": (Scene("green", "triangle", 0.5, 0.52, 0.32, GREY), "RGB"),
    "yellow-square-112.png": (Scene("yellow", "square", 0.45, 0.55, 0.28, CREAM), "RGB"),
    "purple-circle-112.png": (Scene("purple", "circle", 0.55, 0.45, 0.27, WHITE), "RGB"),
    "gray-black-triangle-112.png": (Scene("black", "triangle", 0.5, 0.52, 0.3, GREY), "L"),
    "rgba-blue-circle-112.png": (Scene("blue", "circle", 0.5, 0.5, 0.3, WHITE), "RGBA"),
}
PHI3_IMAGES = {
    "red-circle-672.png": (Scene("red", "circle", 0.5, 0.5, 0.3, WHITE), "RGB"),
    "blue-square-672.png": (Scene("blue", "square", 0.5, 0.5, 0.3, WHITE), "RGB"),
    "green-triangle-672.png": (Scene("green", "triangle", 0.5, 0.52, 0.32, GREY), "RGB"),
    "yellow-square-672.png": (Scene("yellow", "square", 0.45, 0.55, 0.28, CREAM), "RGB"),
    "purple-circle-672.png": (Scene("purple", "circle", 0.55, 0.45, 0.27, WHITE), "RGB"),
}


def write_image(path: Path, scene: Scene, size: int, mode: str) -> None:
    rgb = world.render(scene, size)
    if mode == "L":  # the shape and background are grey levels already; keep one channel
        img = Image.fromarray(rgb[..., 0], "L")
    elif mode == "RGBA":  # alpha varies (opaque shape, translucent background); readers drop it
        alpha = np.where(world.mask(scene.shape, scene.cx * size, scene.cy * size, scene.r * size, size), 255, 160)
        img = Image.fromarray(np.dstack([rgb, alpha.astype(np.uint8)]), "RGBA")
    else:
        img = Image.fromarray(rgb, "RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", optimize=False, compress_level=9)


def golden_conversations(names: list) -> list:
    """(id, Conversation with image indices into `names`). Same plan for both models."""
    T = tasks.Turn
    Conv = tasks.Conversation
    r, b, g, y, p = 0, 1, 2, 3, 4
    cases = [
        Conv([T([r], "What colour is the shape?", "")]),
        Conv([T([b], "What colour is the shape?", "")]),
        Conv([T([g], "What colour is the shape?", "")]),
        Conv([T([y], "What is the colour of the shape?", "")]),
        Conv([T([r], "What shape is it?", "")]),
        Conv([T([b], "What shape is in the picture?", "")]),
        Conv([T([g], "What shape is it?", "")]),
        Conv([T([p], "Describe the image.", "")]),
        Conv([T([y], "What is in the picture?", "")]),
        Conv([T([r, b], "What colours are the shapes?", "")]),
        Conv([T([g, p], "Describe the two images.", "")]),
        Conv([T([y, r], "What is in both pictures?", "")]),
        Conv([T([r], "What colour is the shape?", "It is red."), T([], "What shape is it?", "")]),
        Conv([T([b], "What shape is it?", "It is a square."), T([], "Describe the image.", "")]),
        Conv([T([p], "Describe the image.", "A purple circle."), T([], "Say hello.", "")]),
        Conv([T([g], "What colour is the shape?", "")], "You are a helpful assistant."),
        Conv([T([b, y], "What colours are the shapes?", "")], "Answer briefly."),
        Conv([T([], "What is 2 plus 3?", "")], "You are a helpful assistant."),
        Conv([T([], "Say hello.", "")]),
        Conv([T([], "What is 4 plus 1?", "")]),
        Conv([T([], "Repeat the word garden.", "")]),
        Conv([T([], "What comes after 7?", "")]),
        Conv([T([], "Name three colours.", "")]),
    ]
    if len(names) > 5:  # llava: the greyscale and RGBA PNGs
        cases += [Conv([T([5], "What colour is the shape?", "")]),
                  Conv([T([6], "Describe the image.", "")]),
                  Conv([T([6, 5], "What colours are the shapes?", "")])]
    return [(f"v{k + 1:02d}", c) for k, c in enumerate(cases)]


def write_cases(model: str, images: dict, kind: str) -> None:
    names = list(images)
    out = {"model": model, "cases": []}
    for cid, conv in golden_conversations(names):
        msgs = tasks.llava_messages(conv) if kind == "llava" else tasks.phi3_messages(conv)
        out["cases"].append({"id": cid, "messages": msgs, "images": [f"images/{names[i]}" for i in tasks.all_images(conv)]})
    tok.write_json(CONF / "cases" / f"{model}.json", out)


# ------------------------------------------------------------------------------------------------ node oracle
def node(*args: str) -> None:
    subprocess.run(["node", str(ORACLE / "generate-vision.mjs"), *args], check=True, cwd=str(ROOT))


def tokenize(model: str, items: list, work: Path, image_size=None) -> dict:
    src, dst = work / f"{model}-train-in.json", work / f"{model}-train-out.json"
    src.write_text(json.dumps({"image_size": image_size, "items": items}))
    node("tokenize", model, str(src), str(dst))
    return json.loads(dst.read_text())


# ------------------------------------------------------------------------------------------------ preprocessing
MEAN = torch.tensor(C.CLIP_MEAN).view(3, 1, 1)
STD = torch.tensor(C.CLIP_STD).view(3, 1, 1)


def normalize(rgb: np.ndarray) -> torch.Tensor:
    """uint8 [H,W,3] -> float [3,H,W] as CLIPImageProcessor (rescale 1/255, CLIP mean/std)."""
    x = torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1) * np.float32(1 / 255)
    return (x - MEAN) / STD


def phi3_pixels(rgb: np.ndarray) -> torch.Tensor:
    """672x672 uint8 -> [1 + 4, 3, 336, 336]: the global image (bicubic, as transformers.js' interpolate_4d: ONNX
    Resize cubic, half_pixel, a = -0.75, = torch's bicubic with align_corners=False) then the 2x2 tiles."""
    x = normalize(rgb)[None]
    glb = F.interpolate(x, size=(C.PHI3_CROP, C.PHI3_CROP), mode="bicubic", align_corners=False)
    s = C.PHI3_CROP
    tiles = [x[:, :, i * s:(i + 1) * s, j * s:(j + 1) * s] for i in range(2) for j in range(2)]
    return torch.cat([glb, *tiles], 0)


def load_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


# ------------------------------------------------------------------------------------------------ models
class Llava(torch.nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        self.dec = nets.Decoder(cfg["text_config"], fused=False)
        # vision_feature_layer -2: the tower's last encoder layer is never used (as in LLaVA-1.5), so it is not built
        used = cfg["vision_config"]["num_hidden_layers"] + 1 + cfg["vision_feature_layer"]
        self.vision = nets.LlavaVision(cfg["vision_config"], cfg["text_config"]["hidden_size"], layers_used=used)
        self.image_id = cfg["image_token_index"]

    def embeds(self, ids, pixels):
        e = self.dec.embed_tokens(ids)
        if pixels is not None and pixels.shape[0] > 0:
            f = self.vision(pixels).reshape(-1, e.shape[-1])
            e = e.masked_scatter((ids == self.image_id)[..., None], f)
        return e


class Phi3V(torch.nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        self.dec = nets.Decoder(cfg, fused=True)
        self.crop = nets.Phi3Crop(C.PHI3_VISION_DIM, C.PHI3_PATCH, C.PHI3_CROP, cfg["hidden_size"])
        self.crop.patch_embedding.weight.requires_grad_(False)  # frozen: training reads cached conv outputs

    def embeds(self, ids, conv_feats, sizes):
        e = self.dec.embed_tokens(ids.clamp(min=0))
        if conv_feats is not None and conv_feats.shape[0] > 0:
            f = self.crop.image_features(conv_feats, sizes)
            e = e.masked_scatter((ids < 0)[..., None], f)
        return e


# ------------------------------------------------------------------------------------------------ training
def make_batches(rng, n_items: int, batch: int, steps: int):
    order = np.concatenate([rng.permutation(n_items) for _ in range(math.ceil(steps * batch / n_items) + 1)])
    for s in range(steps):
        yield order[s * batch:(s + 1) * batch]


def collate(items: list, sel, pad_id: int):
    seqs, labels = [], []
    for k in sel:
        it = items[k]
        ids = it["prompt_ids"] + it["answer_ids"][:-1]
        lab = [-100] * (len(it["prompt_ids"]) - 1) + it["answer_ids"]
        seqs.append(ids)
        labels.append(lab)
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), pad_id, dtype=torch.long)
    lab = torch.full((len(seqs), L), -100, dtype=torch.long)
    mask = torch.zeros((len(seqs), L), dtype=torch.long)
    for i, (s, l) in enumerate(zip(seqs, labels)):
        ids[i, : len(s)] = torch.tensor(s)
        lab[i, : len(l)] = torch.tensor(l)
        mask[i, : len(s)] = 1
    return ids, lab, mask


def forward_logits(model, embeds, mask, head=True):
    pos = torch.arange(embeds.shape[1])[None].expand(embeds.shape[0], -1)
    out, _ = model.dec(embeds, mask, pos, model.dec.empty_past(embeds.shape[0]), head=head)
    return out


def train(model, items, convs, images_for, pad_id, steps, batch, lr, seed, name):
    """images_for(list of pool indices) -> the model's image input(s)."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    rng = np.random.default_rng(seed)
    model.train()
    avg = None
    for step, sel in enumerate(make_batches(rng, len(items), batch, steps)):
        ids, lab, mask = collate(items, sel, pad_id)
        pool_idx = [i for k in sel for i in tasks.all_images(convs[k])]
        emb = model.embeds(ids, *images_for(pool_idx))
        hidden = forward_logits(model, emb, mask, head=False)
        tgt = lab  # lab[b, j]: the token position j must predict
        keep = tgt != -100
        loss = F.cross_entropy(model.dec.lm_head(hidden[keep]), tgt[keep])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        avg = loss.item() if avg is None else 0.95 * avg + 0.05 * loss.item()
        if step % 100 == 0 or step == steps - 1:
            log(f"{name} step {step}/{steps} loss {avg:.4f}")
    model.eval()


@torch.no_grad()
def answer_accuracy(model, items, convs, images_for, pad_id) -> dict:
    """Teacher-forced: every answer token is the argmax (per conversation kind)."""
    stats = {}
    for k in range(0, len(items), 32):
        sel = list(range(k, min(k + 32, len(items))))
        ids, lab, mask = collate(items, sel, pad_id)
        pool_idx = [i for j in sel for i in tasks.all_images(convs[j])]
        logits = forward_logits(model, model.embeds(ids, *images_for(pool_idx)), mask)
        pred = logits.argmax(-1)
        tgt = lab
        ok = ((pred == tgt) | (tgt == -100)).all(-1)
        for j, o in zip(sel, ok.tolist()):
            s = stats.setdefault(convs[j].kind, [0, 0])
            s[0] += int(o)
            s[1] += 1
    return {k: f"{v[0]}/{v[1]}" for k, v in sorted(stats.items())}


# ------------------------------------------------------------------------------------------------ check
@torch.no_grad()
def check_goldens(model, golden: dict, images_for_case) -> float:
    """Greedy in PyTorch from the golden prompt ids: same tokens as the oracle, and the margin at every step."""
    worst = float("inf")
    for case in golden["cases"]:
        ids = torch.tensor([case["prompt_ids"]], dtype=torch.long)
        img_args = images_for_case(case["images"])
        emb = model.embeds(ids, *img_args)
        seq_emb = emb
        margins = []
        for t, want in enumerate(case["output_ids"]):
            mask = torch.ones((1, seq_emb.shape[1]), dtype=torch.long)
            logits = forward_logits(model, seq_emb, mask)[0, -1]
            top = torch.topk(logits, 2)
            margins.append(float(top.values[0] - top.values[1]))
            got = int(top.indices[0])
            if got != want:
                raise SystemExit(f"{golden['model']} {case['id']} step {t}: PyTorch picks {got}, oracle {want}")
            nxt = model.dec.embed_tokens(torch.tensor([[got]]))
            seq_emb = torch.cat([seq_emb, nxt], 1)
        m = min(margins)
        worst = min(worst, m)
        log(f"  {case['id']}: margin {m:.3f}  {case['output_text']!r}")
    return worst


# ------------------------------------------------------------------------------------------------ main
def build_llava(args, work: Path) -> None:
    name = "tiny-llava"
    d = MODELS / name
    for fn, (scene, mode) in LLAVA_IMAGES.items():
        write_image(CONF / "images" / fn, scene, C.LLAVA_IMAGE, mode)
    write_cases(name, LLAVA_IMAGES, "llava")
    tj, tc, stm, ids = tok.llava_tokenizer()
    vocab = 1760
    assert max(ids.values()) < vocab
    cfg = C.llava_config(ids, vocab)
    tok.write_json(d / "config.json", cfg)
    tok.write_json(d / "generation_config.json", C.llava_generation_config(ids))
    tok.write_json(d / "preprocessor_config.json", C.llava_preprocessor_config())
    tok.write_json(d / "processor_config.json", C.llava_processor_config())
    tok.write_json(d / "chat_template.json", {"chat_template": tok.LLAVA_CHAT_TEMPLATE})
    tok.write_json(d / "tokenizer.json", tj)
    tok.write_json(d / "tokenizer_config.json", tc)
    tok.write_json(d / "special_tokens_map.json", stm)

    # training data
    rng = np.random.default_rng(101)
    scenes = [world.random_scene(rng) for _ in range(args.llava_pool)]
    raw = np.stack([world.render(s, C.LLAVA_IMAGE) for s in scenes])  # uint8, normalized per batch
    rng = np.random.default_rng(102)
    pool = np.arange(len(scenes))
    convs = [tasks.sample(rng, scenes, pool) for _ in range(args.llava_convs)]
    items = [{"messages": tasks.llava_messages(c), "answer": c.turns[-1].answer} for c in convs]
    log(f"{name}: tokenizing {len(items)} training conversations with transformers.js")
    data = tokenize(name, items, work)["items"]
    log(f"{name}: mean length {np.mean([len(x['prompt_ids']) + len(x['answer_ids']) for x in data]):.1f} tokens")

    torch.manual_seed(103)
    model = Llava(cfg)
    images_for = lambda idx: (torch.stack([normalize(raw[i]) for i in idx]) if idx else None,)  # noqa: E731
    n_eval = 400
    train(model, data[n_eval:], convs[n_eval:], images_for, ids["<pad>"], args.llava_steps, 32, 2e-3, 104, name)
    log(f"{name}: held-out teacher-forced answer accuracy {answer_accuracy(model, data[:n_eval], convs[:n_eval], images_for, ids['<pad>'])}")

    onnx_dir = d / "onnx"
    X.export_embed_tokens(model.dec.embed_tokens, onnx_dir / "embed_tokens.onnx")
    X.export_llava_vision(model.vision, C.LLAVA_IMAGE, onnx_dir / "vision_encoder.onnx")
    X.export_decoder(model.dec, onnx_dir / "decoder_model_merged.onnx")
    torch.save(model.state_dict(), work / f"{name}.pt")
    log(f"{name}: exported")
    return model


def build_phi3(args, work: Path):
    name = "tiny-phi3-vision"
    d = MODELS / name
    for fn, (scene, mode) in PHI3_IMAGES.items():
        write_image(CONF / "images" / fn, scene, 2 * C.PHI3_CROP, mode)
    write_cases(name, PHI3_IMAGES, "phi3_v")
    tj, tc, stm, ids = tok.phi3v_tokenizer()
    vocab = 1792
    assert max(ids.values()) < vocab
    cfg = C.phi3_config(ids, vocab)
    tok.write_json(d / "config.json", cfg)
    tok.write_json(d / "generation_config.json", C.phi3_generation_config(ids))
    tok.write_json(d / "preprocessor_config.json", C.phi3_preprocessor_config())
    tok.write_json(d / "tokenizer.json", tj)
    tok.write_json(d / "tokenizer_config.json", tc)
    tok.write_json(d / "special_tokens_map.json", stm)

    torch.manual_seed(203)
    model = Phi3V(cfg)

    rng = np.random.default_rng(201)
    scenes = [world.random_scene(rng) for _ in range(args.phi3_pool)]
    log(f"{name}: rendering {len(scenes)} 672x672 training images and caching their (frozen) conv patch features")
    feats = []
    with torch.no_grad():
        for k in range(0, len(scenes), 16):
            px = torch.stack([phi3_pixels(world.render(s, 2 * C.PHI3_CROP)) for s in scenes[k:k + 16]])
            n = px.shape[0]
            feats.append(model.crop.conv(px.reshape(n * 5, 3, C.PHI3_CROP, C.PHI3_CROP)).reshape(n, 5, C.PHI3_VISION_DIM, 8, 8))
    feats = torch.cat(feats)
    rng = np.random.default_rng(202)
    pool = np.arange(len(scenes))
    convs = [tasks.sample(rng, scenes, pool) for _ in range(args.phi3_convs)]
    items = [{"messages": tasks.phi3_messages(c), "answer": c.turns[-1].answer} for c in convs]
    log(f"{name}: tokenizing {len(items)} training conversations with transformers.js")
    data = tokenize(name, items, work, [2 * C.PHI3_CROP, 2 * C.PHI3_CROP])["items"]
    log(f"{name}: mean length {np.mean([len(x['prompt_ids']) + len(x['answer_ids']) for x in data]):.1f} tokens")
    size = (2 * C.PHI3_CROP, 2 * C.PHI3_CROP)
    images_for = lambda idx: ((feats[idx], [size] * len(idx)) if idx else (None, None))  # noqa: E731
    n_eval = 300
    pad = ids["<|endoftext|>"]
    train(model, data[n_eval:], convs[n_eval:], images_for, pad, args.phi3_steps, 16, 2e-3, 204, name)
    log(f"{name}: held-out teacher-forced answer accuracy {answer_accuracy(model, data[:n_eval], convs[:n_eval], images_for, pad)}")

    onnx_dir = d / "onnx"
    X.export_prepare_inputs_embeds(model.dec.embed_tokens, onnx_dir / "prepare_inputs_embeds.onnx")
    X.export_phi3_vision(model.crop, C.PHI3_NUM_CROPS, C.PHI3_CROP, onnx_dir / "vision_encoder.onnx")
    X.export_decoder(model.dec, onnx_dir / "model.onnx")
    torch.save(model.state_dict(), work / f"{name}.pt")
    log(f"{name}: exported")
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new temporary folder)")
    ap.add_argument("--only", choices=["tiny-llava", "tiny-phi3-vision"], default=None)
    ap.add_argument("--quick", action="store_true", help="smoke test: few steps (goldens will fail the margin check)")
    ap.add_argument("--llava-steps", type=int, default=2500)
    ap.add_argument("--phi3-steps", type=int, default=2000)
    args = ap.parse_args()
    args.llava_pool, args.llava_convs = (300, 1200) if args.quick else (3000, 12000)
    args.phi3_pool, args.phi3_convs = (80, 800) if args.quick else (1200, 8000)
    if args.quick:
        args.llava_steps = args.phi3_steps = 10

    # One thread: results do not depend on the core count, and on a shared 2-core machine two OpenMP threads
    # wait on each other (measured 5x slower than one under load).
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.chdir(ROOT)
    work = args.work or Path(tempfile.mkdtemp(prefix="vision-models-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"work folder {work}")

    built = {}
    if args.only in (None, "tiny-llava"):
        built["tiny-llava"] = build_llava(args, work)
    if args.only in (None, "tiny-phi3-vision"):
        built["tiny-phi3-vision"] = build_phi3(args, work)

    log("goldens from transformers.js")
    node("golden", *built)

    failed = False
    for name, model in built.items():
        golden = json.loads((CONF / "goldens" / f"{name}.json").read_text())
        if name == "tiny-llava":
            def images_for_case(paths):
                return (torch.stack([normalize(load_png(CONF / p)) for p in paths]) if paths else None,)
        else:
            def images_for_case(paths, model=model):
                if not paths:
                    return None, None
                px = torch.stack([phi3_pixels(load_png(CONF / p)) for p in paths])
                n = px.shape[0]
                conv = model.crop.conv(px.reshape(n * 5, 3, C.PHI3_CROP, C.PHI3_CROP)).reshape(n, 5, C.PHI3_VISION_DIM, 8, 8)
                return conv, [(2 * C.PHI3_CROP, 2 * C.PHI3_CROP)] * n
        log(f"{name}: PyTorch vs the goldens")
        worst = check_goldens(model, golden, images_for_case)
        log(f"{name}: minimum top-1 minus top-2 logit margin over all steps of all cases: {worst:.4f}")
        if worst < MIN_MARGIN:
            failed = True
    for name in built:
        for f in sorted((MODELS / name / "onnx").glob("*.onnx")):
            log(f"{name}/onnx/{f.name} ({f.stat().st_size} bytes)")
            for kind, desc in X.io_summary(f):
                log(f"    {kind}: {desc}")
    if failed:
        raise SystemExit(f"a margin is below {MIN_MARGIN}")
    log("done")


if __name__ == "__main__":
    main()
