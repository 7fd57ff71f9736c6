#!/usr/bin/python3
"""Builds the Florence-2 conformance model (models/conformance/tiny-florence2), its test images, cases, goldens and
processor fixtures, deterministically, in one command (from the repository root):

    /usr/bin/python3 tools/conformance-models/make_florence2_model.py [--quick] [--steps N] [--no-goldens]

1. tokenizer (BART's layout: <s> 0, <pad> 1, </s> 2, <unk> 3, byte-level BPE, <mask> last; RobertaProcessing) and
   configs (config.json with florence2's fields, text_config florence2_language; preprocessor_config.json with
   Florence-2's CLIPImageProcessor fields and task prompt tables, at a tiny 96 x 96 size);
2. test images (tests/conformance/images/florence2/, several sizes) and the case list
   (tests/conformance/cases/florence2/tiny-florence2.json);
3. prompts and targets tokenized by transformers.js itself (oracle/generate-florence2.mjs prompts|tokenize);
4. brief CPU training on synthetic shapes: <CAPTION>, <DETAILED_CAPTION>, <OCR> and one free-text question;
5. ONNX export (vision_encoder, embed_tokens, encoder_model, decoder_model_merged);
6. goldens + pixel_values fixtures from transformers.js (oracle/generate-florence2.mjs golden);
7. the check: PyTorch, fed transformers.js's own pixel_values and prompt ids, picks the same greedy tokens with a
   top-1 minus top-2 logit margin >= MIN_MARGIN at every unforced step of every case.

Needs Debian's python3-torch, python3-onnx, python3-numpy, python3-pil (hence /usr/bin/python3), and Node with
`npm ci --ignore-scripts --prefix tools/conformance-models/oracle` done.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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

from florence2 import net as N  # noqa: E402
from vision import world  # noqa: E402
from vision.world import Scene  # noqa: E402

ORACLE = HERE / "oracle"
NAME = "tiny-florence2"
MODEL_DIR = ROOT / "models" / "conformance" / NAME
CONF = ROOT / "tests" / "conformance"
IMAGES = CONF / "images" / "florence2"
CASES = CONF / "cases" / "florence2" / f"{NAME}.json"
WORK = HERE / "work" / NAME
FIXTURE = ROOT / "tests/MmServe.Model.Tests/Tokenization/Fixtures/gpt2-style.tokenizer.json"
SIZE = 96          # the processor's fixed size (Florence-2: 768)
PATCH = 16
MIN_MARGIN = 0.02
MAX_NEW_TOKENS = 32
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]   # Florence-2's (ImageNet) mean/std
T0 = time.time()

# Florence-2's task prompt tables (microsoft/Florence-2-base-ft processing_florence2.py, as onnx-community puts them
# into preprocessor_config.json for transformers.js).
TASKS_WITHOUT_INPUT = {
    "<OCR>": "What is the text in the image?",
    "<OCR_WITH_REGION>": "What is the text in the image, with regions?",
    "<CAPTION>": "What does the image describe?",
    "<DETAILED_CAPTION>": "Describe in detail what is shown in the image.",
    "<MORE_DETAILED_CAPTION>": "Describe with a paragraph what is shown in the image.",
    "<OD>": "Locate the objects with category name in the image.",
    "<DENSE_REGION_CAPTION>": "Locate the objects in the image, with their descriptions.",
    "<REGION_PROPOSAL>": "Locate the region proposals in the image.",
}
TASKS_WITH_INPUT = {
    "<CAPTION_TO_PHRASE_GROUNDING>": "Locate the phrases in the caption: {input}",
    "<REFERRING_EXPRESSION_SEGMENTATION>": "Locate {input} in the image with mask",
    "<REGION_TO_SEGMENTATION>": "What is the polygon mask of region {input}",
    "<OPEN_VOCABULARY_DETECTION>": "Locate {input} in the image.",
    "<REGION_TO_CATEGORY>": "What is the region {input}?",
    "<REGION_TO_DESCRIPTION>": "What does the region {input} describe?",
    "<REGION_TO_OCR>": "What text is in the region {input}?",
}
POST_PROCESSING = {
    "<OCR>": "pure_text", "<OCR_WITH_REGION>": "ocr", "<CAPTION>": "pure_text", "<DETAILED_CAPTION>": "pure_text",
    "<MORE_DETAILED_CAPTION>": "pure_text", "<OD>": "description_with_bboxes",
    "<DENSE_REGION_CAPTION>": "description_with_bboxes", "<CAPTION_TO_PHRASE_GROUNDING>": "phrase_grounding",
    "<REFERRING_EXPRESSION_SEGMENTATION>": "polygons", "<REGION_TO_SEGMENTATION>": "polygons",
    "<OPEN_VOCABULARY_DETECTION>": "description_with_bboxes_or_polygons", "<REGION_TO_CATEGORY>": "pure_text",
    "<REGION_TO_DESCRIPTION>": "pure_text", "<REGION_TO_OCR>": "pure_text", "<REGION_PROPOSAL>": "bboxes",
}
QUESTION = "What colour is the shape?"   # a free-text prompt: Florence2Processor passes it through unchanged
TRAINED = ["<CAPTION>", "<DETAILED_CAPTION>", "<OCR>", QUESTION]


def log(msg: str) -> None:
    print(f"[{time.time() - T0:7.1f}s] {msg}", flush=True)


def dump(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------------------ tokenizer
def _added(i, content, special=True, lstrip=False):
    return {"id": i, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": False,
            "normalized": False, "special": special}


def build_tokenizer():
    """facebook/bart-large's layout (Florence-2 uses BART's tokenizer): <s> <pad> </s> <unk> first, the byte-level BPE
    vocabulary after them, <mask> last; RobertaProcessing wraps one sequence as <s> A </s>."""
    tj = json.loads(FIXTURE.read_text(encoding="utf-8"))
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    tj["model"]["vocab"] = {**{s: i for i, s in enumerate(specials)},
                            **{t: i + len(specials) for t, i in tj["model"]["vocab"].items()}}
    n = len(tj["model"]["vocab"])
    tj["added_tokens"] = [_added(i, s) for i, s in enumerate(specials)] + [_added(n, "<mask>", lstrip=True)]
    tj["post_processor"] = {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                            "trim_offsets": True, "add_prefix_space": False}
    ids = {t["content"]: t["id"] for t in tj["added_tokens"]}
    dec = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
           for t in tj["added_tokens"]}
    cfg = {"add_prefix_space": False, "added_tokens_decoder": dec, "bos_token": "<s>", "clean_up_tokenization_spaces": True,
           "cls_token": "<s>", "eos_token": "</s>", "errors": "replace", "mask_token": "<mask>",
           "model_max_length": 1024, "pad_token": "<pad>", "processor_class": "Florence2Processor",
           "sep_token": "</s>", "tokenizer_class": "BartTokenizer", "unk_token": "<unk>"}
    stm = {k: v for k, v in (("bos_token", "<s>"), ("cls_token", "<s>"), ("eos_token", "</s>"), ("mask_token", "<mask>"),
                             ("pad_token", "<pad>"), ("sep_token", "</s>"), ("unk_token", "<unk>"))}
    return tj, cfg, stm, ids, n + 1


def build_configs(vocab_size):
    text = {
        "model_type": "florence2_language", "activation_function": "gelu", "d_model": 64,
        "encoder_layers": 1, "decoder_layers": 2, "encoder_attention_heads": 4, "decoder_attention_heads": 4,
        "encoder_ffn_dim": 128, "decoder_ffn_dim": 128, "max_position_embeddings": 128, "vocab_size": vocab_size,
        "scale_embedding": False, "is_encoder_decoder": True, "bos_token_id": 0, "pad_token_id": 1,
        "eos_token_id": 2, "decoder_start_token_id": 2, "forced_bos_token_id": 0, "dropout": 0.0,
        "attention_dropout": 0.0, "activation_dropout": 0.0, "init_std": 0.02, "use_cache": True,
    }
    cfg = {
        "_name_or_path": "microsoft/Florence-2-base-ft", "architectures": ["Florence2ForConditionalGeneration"],
        "model_type": "florence2", "is_encoder_decoder": True, "bos_token_id": 0, "pad_token_id": 1,
        "eos_token_id": 2, "ignore_index": -100, "projection_dim": 64, "vocab_size": vocab_size,
        "torch_dtype": "float32", "transformers_version": "4.41.0", "text_config": text,
        "vision_config": {"model_type": "davit", "patch_size": PATCH, "embed_dim": 32, "projection_dim": 64,
                          "image_feature_source": ["spatial_avg_pool", "temporal_avg_pool"]},
    }
    gen = {"bos_token_id": 0, "decoder_start_token_id": 2, "eos_token_id": 2, "forced_bos_token_id": 0,
           "pad_token_id": 1, "transformers_version": "4.41.0"}
    pre = {
        "crop_size": {"height": SIZE, "width": SIZE}, "do_center_crop": False, "do_convert_rgb": None,
        "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": MEAN,
        "image_processor_type": "CLIPImageProcessor", "image_seq_length": (SIZE // PATCH) ** 2 + 1,
        "image_std": STD, "processor_class": "Florence2Processor", "resample": 3,
        "rescale_factor": 0.00392156862745098, "size": {"height": SIZE, "width": SIZE},
        "tasks_answer_post_processing_type": POST_PROCESSING, "task_prompts_without_inputs": TASKS_WITHOUT_INPUT,
        "task_prompts_with_input": TASKS_WITH_INPUT,
    }
    return cfg, gen, pre


# -------------------------------------------------------------------------------------------------- the task
def where(s: Scene) -> str:
    return "on the left" if s.cx < 0.42 else "on the right" if s.cx > 0.58 else "in the middle"


def target(task: str, s: Scene) -> str:
    if task == "<CAPTION>":
        return f"A {s.colour} {s.shape}."
    if task == "<DETAILED_CAPTION>":
        return f"A {s.colour} {s.shape} on a light background, {where(s)}."
    if task == "<OCR>":
        return s.colour.upper()
    return s.colour


def all_targets():
    out = set()
    for c in world.COLOUR_NAMES:
        for sh in world.SHAPES:
            for cx in (0.3, 0.5, 0.7):
                for t in TRAINED:
                    out.add(target(t, Scene(c, sh, cx)))
    return sorted(out)


W, G, C = (250, 250, 250), (228, 228, 228), (245, 238, 220)
# name -> (scene, width, height). 96 x 96 is the processor's size (no resize: pixel parity exact); the others are
# resized by transformers.js with sharp and by the server with PIL's bicubic (the goldens rely on the margins).
GOLDEN_IMAGES = {
    "red-circle-96.png": (Scene("red", "circle", 0.5, 0.5, 0.3, W), 96, 96),
    "blue-square-96.png": (Scene("blue", "square", 0.3, 0.5, 0.25, W), 96, 96),
    "green-triangle-96.png": (Scene("green", "triangle", 0.7, 0.5, 0.27, G), 96, 96),
    "yellow-square-96.png": (Scene("yellow", "square", 0.5, 0.45, 0.28, C), 96, 96),
    "purple-circle-96.png": (Scene("purple", "circle", 0.5, 0.4, 0.26, W), 96, 96),
    "black-triangle-96.png": (Scene("black", "triangle", 0.32, 0.52, 0.28, G), 96, 96),
    "blue-circle-192.png": (Scene("blue", "circle", 0.5, 0.5, 0.3, W), 192, 192),
    "red-triangle-144.png": (Scene("red", "triangle", 0.5, 0.52, 0.3, C), 144, 144),
    "green-square-160x120.png": (Scene("green", "square", 0.5, 0.5, 0.24, W), 160, 120),
}
# Cases left out of the goldens because this build's model answers them with a top-1 - top-2 margin below MIN_MARGIN
# (too fragile to check a server by); ids stay as numbered. 350 steps: f23 (0.012). A 700-step run learned the shapes
# better but had three cases below 0.01, so the 350-step build is the committed one.
LOW_MARGIN = {"f23"}
FIXTURE_IMAGES = ["red-circle-96.png", "black-triangle-96.png", "blue-circle-192.png", "green-square-160x120.png"]


def render(scene: Scene, w: int, h: int) -> np.ndarray:
    """uint8 [h, w, 3]: the scene rendered square at the larger side, centre-cropped to w x h."""
    n = max(w, h)
    rgb = world.render(scene, n)
    y0, x0 = (n - h) // 2, (n - w) // 2
    return rgb[y0:y0 + h, x0:x0 + w]


def make_images_and_cases():
    for name, (scene, w, h) in GOLDEN_IMAGES.items():
        IMAGES.mkdir(parents=True, exist_ok=True)
        Image.fromarray(render(scene, w, h), "RGB").save(IMAGES / name, format="PNG", compress_level=9)
    cases, k = [], 0
    for name in GOLDEN_IMAGES:
        for task in ("<CAPTION>", "<DETAILED_CAPTION>", "<OCR>"):
            k += 1
            if f"f{k:02d}" not in LOW_MARGIN:
                cases.append({"id": f"f{k:02d}", "image": f"images/florence2/{name}", "text": task})
    for name in ("red-circle-96.png", "green-triangle-96.png", "green-square-160x120.png"):
        k += 1
        cases.append({"id": f"f{k:02d}", "image": f"images/florence2/{name}", "text": QUESTION})
    dump(CASES, {"model": NAME, "kind": "florence2", "max_new_tokens": MAX_NEW_TOKENS,
                 "fixtures": [f"images/florence2/{n}" for n in FIXTURE_IMAGES], "cases": cases})
    return cases


# -------------------------------------------------------------------------------------------------------- train
def node(*args):
    subprocess.run(["node", str(ORACLE / "generate-florence2.mjs"), *args], check=True, cwd=ROOT)


def pixels(rgb: np.ndarray) -> torch.Tensor:
    """uint8 [96, 96, 3] -> float [3, 96, 96]: rescale 1/255 (float64, then float32), ImageNet mean/std."""
    x = torch.from_numpy((rgb.astype(np.float64) * (1 / 255)).astype(np.float32)).permute(2, 0, 1)
    return (x - torch.tensor(MEAN, dtype=torch.float32).view(3, 1, 1)) / torch.tensor(STD, dtype=torch.float32).view(3, 1, 1)


def training_pool(n, seed):
    """n random scenes; 40 % rendered at another size and resized to 96 with PIL's bicubic, so that the model does not
    care about the resampler (transformers.js resizes with sharp)."""
    rng = np.random.default_rng(seed)
    xs, scenes = torch.zeros(n, 3, SIZE, SIZE), []
    for i in range(n):
        s = world.random_scene(rng)
        if rng.uniform() < 0.4:
            w, h = int(rng.integers(40, 220)), int(rng.integers(40, 220))
            img = Image.fromarray(render(s, w, h), "RGB").resize((SIZE, SIZE), Image.BICUBIC)
            rgb = np.asarray(img)
        else:
            rgb = world.render(s, SIZE)
        xs[i] = pixels(rgb)
        scenes.append(s)
    return xs, scenes


def train(model, xs, scenes, prompts, targets, steps, batch, lr, seed):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    for step in range(steps):
        idx = torch.randint(0, len(scenes), (batch,), generator=g).tolist()
        tasks = [TRAINED[int(torch.randint(0, len(TRAINED), (1,), generator=g))] for _ in idx]
        p = [prompts[t] for t in tasks]
        y = [[2, 0] + targets[target(t, scenes[i])] + [2] for t, i in zip(tasks, idx)]
        P, T = max(map(len, p)), max(map(len, y))
        ids = torch.full((batch, P), 1, dtype=torch.long)
        mask = torch.zeros(batch, P, dtype=torch.long)
        dec = torch.full((batch, T - 1), 1, dtype=torch.long)
        lab = torch.full((batch, T - 1), -100, dtype=torch.long)
        for r in range(batch):
            ids[r, :len(p[r])] = torch.tensor(p[r])
            mask[r, :len(p[r])] = 1
            dec[r, :len(y[r]) - 1] = torch.tensor(y[r][:-1])
            lab[r, 1:len(y[r]) - 1] = torch.tensor(y[r][2:])   # position 0 predicts the forced <s>: not trained
        logits = model(xs[idx], ids, mask, dec)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), lab.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (step + 1) / 30) * (0.05 + 0.95 * (1 - step / steps))
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            log(f"step {step} loss {loss.item():.4f}")
    model.eval()


# -------------------------------------------------------------------------------------------------------- check
def check(model):
    golden = json.loads((CONF / "goldens" / "florence2" / f"{NAME}.json").read_text(encoding="utf-8"))
    pdir = WORK / "pixels"
    worst, bad = float("inf"), []
    for c in golden["cases"]:
        px = torch.from_numpy(np.fromfile(pdir / f"{c['id']}.pixel_values.f32", dtype="<f4").reshape(1, 3, SIZE, SIZE))
        ids = torch.tensor([json.loads((pdir / f"{c['id']}.input_ids.json").read_text())])
        out, margin = model.greedy(px, ids, 2, MAX_NEW_TOKENS, 2, 0)
        worst = min(worst, margin)
        if out != c["output_ids"]:
            bad.append(f"{c['id']}: torch {out} vs transformers.js {c['output_ids']}")
        if margin < MIN_MARGIN:
            bad.append(f"{c['id']}: margin {margin:.4f}")
        if not c["output_ids"] or c["output_ids"][-1] != 2:
            bad.append(f"{c['id']}: does not end with </s> within {MAX_NEW_TOKENS} tokens")
        rgb = np.asarray(Image.open(CONF / c["image"]).convert("RGB"))
        if rgb.shape[:2] == (SIZE, SIZE):
            diff = float((pixels(rgb)[None] - px).abs().max())
            if diff > 1e-5:
                bad.append(f"{c['id']}: numpy pixels differ by {diff}")
    log(f"check: {len(golden['cases'])} cases, min margin {worst:.3f}")
    if bad:
        raise SystemExit("check failed:\n" + "\n".join(bad))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=350)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--pool", type=int, default=2000)
    ap.add_argument("--no-goldens", action="store_true")
    ap.add_argument("--check-only", action="store_true", help="goldens + check from work/tiny-florence2/model.pt")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    WORK.mkdir(parents=True, exist_ok=True)

    tj, tcfg, stm, ids, vocab_size = build_tokenizer()
    cfg, gen, pre = build_configs(vocab_size)
    for name, obj in (("tokenizer.json", tj), ("tokenizer_config.json", tcfg), ("special_tokens_map.json", stm),
                      ("config.json", cfg), ("generation_config.json", gen), ("preprocessor_config.json", pre)):
        dump(MODEL_DIR / name, obj)
    make_images_and_cases()
    log("images + cases written")

    dump(WORK / "prompts-in.json", TRAINED)
    node("prompts", str(WORK / "prompts-in.json"), str(WORK / "prompts-out.json"))
    prompts = {t: p["ids"] for t, p in zip(TRAINED, json.loads((WORK / "prompts-out.json").read_text()))}
    texts = all_targets()
    dump(WORK / "targets-in.json", texts)
    node("tokenize", str(WORK / "targets-in.json"), str(WORK / "targets-out.json"))
    targets = dict(zip(texts, json.loads((WORK / "targets-out.json").read_text())))

    model = N.Florence2({**cfg, "image_size": SIZE})
    ckpt = WORK / "model.pt"
    if args.check_only:
        model.load_state_dict(torch.load(ckpt))
        model.eval()
    else:
        xs, scenes = training_pool(64 if args.quick else args.pool, seed=7)
        log("training pool ready")
        train(model, xs, scenes, prompts, targets, 20 if args.quick else args.steps, args.batch, 3e-3, seed=1)
        torch.save(model.state_dict(), ckpt)
        N.export_all(model, MODEL_DIR / "onnx")
        log("exported")
    if args.no_goldens:
        return
    node("golden", "--pixels-dir", str(WORK / "pixels"))
    check(model)


if __name__ == "__main__":
    main()
