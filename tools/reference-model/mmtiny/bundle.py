"""Everything after training: evaluation, ONNX export, manifest, golden files."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess

import numpy as np
import torch
from PIL import Image

from . import data as DA
from . import evaluate as EV
from . import export as EX
from . import features as FT
from . import model as M
from . import tasks as T
from . import world as W

GOLDEN_MARGIN = 1.0  # minimum top1 - top2 logit gap at every step of a golden case
MAX_NEW = 48


def eval_samples(pools: DA.Pools, seed: int):
    """Held-out requests per task (eval pools were generated from their own seed)."""
    rng = np.random.default_rng(seed)
    out = []
    for i, (_, objs) in enumerate(pools.images):
        out.append(T.image_task(rng, i, objs))
    singles = [i for i, (_, objs) in enumerate(pools.images) if len(objs) == 1]
    for k in range(min(200, len(singles) // 2)):
        i1, i2 = singles[2 * k], singles[2 * k + 1]
        out.append(T.compare_task(rng, i1, pools.images[i1][1][0], i2, pools.images[i2][1][0]))
    for i, (_, info) in enumerate(pools.videos):
        out.append(T.video_task(rng, i, info))
    for i, (_, info) in enumerate(pools.audio):
        out.append(T.audio_task(rng, i, info))
    for _ in range(300):
        out.append(T.text_task(rng))
    for c in range(len(W.COLOUR_NAMES)):
        for s in range(len(W.SHAPES)):
            for _ in range(4):
                out.append(T.image_gen_task(rng, c, s))
    for c in range(3):
        for p in range(3):
            for _ in range(10):
                out.append(T.audio_gen_task(rng, c, p))
    return out


def metric_group(task: str) -> str:
    if task == "image_caption":
        return "image_caption"
    if task.startswith("image_") and task != "image_generation":
        return "image_qa"
    if task.startswith("multi_image"):
        return "multi_image"
    if task == "video_direction":
        return "video_direction"
    if task.startswith("video_"):
        return "video_other"
    if task.startswith("audio_") and task != "audio_generation":
        return "audio_qa"
    if task.startswith("text_"):
        return "text"
    return task


def score(samples, results, m, tok):
    groups: dict[str, list[bool]] = {}
    oks = []
    for s, r in zip(samples, results):
        g = metric_group(s.task)
        if s.gen is None:
            ok = EV.strip_answer(r["text"]) == s.answer
        else:
            media = EV.generate_media(m, tok, s, r)
            if media is None:
                ok = False
            elif s.gen[0] == "image":
                ok = EV.measure_image(media, W.COLOUR_NAMES[s.gen[1]], W.SHAPES[s.gen[2]])[0]
            else:
                pitch, count = EV.measure_audio(media)
                ok = pitch == W.PITCH_NAMES[s.gen[2]] and count == s.gen[1] + 1
        oks.append(ok)
        groups.setdefault(g, []).append(ok)
    metrics = {
        "image_qa": "exact answer", "image_caption": "exact caption", "multi_image": "exact answer",
        "video_direction": "exact answer", "video_other": "exact answer", "audio_qa": "exact answer", "text": "exact answer",
        "image_generation": "requested colour recovered (dominant colour) and mask IoU >= 0.6 against the template",
        "audio_generation": "requested pitch recovered (FFT peak) and beep count recovered (RMS envelope)"}
    report = {g: {"metric": metrics[g], "value": round(float(np.mean(v)), 4), "n": len(v)} for g, v in sorted(groups.items())}
    return report, oks


@torch.no_grad()
def batch_check(m, tok, samples, feats, log) -> dict:
    """Rows of different lengths decoded in one left-padded batch must equal each row decoded alone."""
    batched = EV.run_samples(m, tok, samples, feats, batch=len(samples), max_new=MAX_NEW)
    alone = [EV.run_samples(m, tok, [s], feats, batch=1, max_new=MAX_NEW)[0] for s in samples]
    same = all(a["ids"] == b["ids"] for a, b in zip(batched, alone))
    lens = sorted({len(r["prompt_ids"]) for r in batched})
    log(f"batch check: {len(samples)} rows with prompt lengths {lens}: identical tokens = {same}")
    if not same:
        raise SystemExit("batched decoding differs from single-row decoding")
    return {"rows": len(samples), "prompt_lengths": lens, "identical_tokens": same}


def c_order(a: np.ndarray) -> np.ndarray:
    """Golden .npy files are always C-ordered (simple readers need not handle Fortran order)."""
    return np.ascontiguousarray(a)


def png_bytes(arr_uint8: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr_uint8).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_video(path: str, frames: np.ndarray) -> None:
    """Lossless H.264 RGB in MP4, so decoded frames equal the frames the model saw."""
    n, h, w, _ = frames.shape
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                    "-r", "8", "-i", "-", "-c:v", "libx264rgb", "-qp", "0", "-preset", "veryslow", "-pix_fmt", "rgb24", path],
                   input=frames.tobytes(), check=True)
    back = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          capture_output=True, check=True).stdout
    if np.frombuffer(back, np.uint8).reshape(frames.shape).tolist() != frames.tolist():
        raise SystemExit(f"{path}: video round trip is not lossless")


def openai_part(kind: str, rel: str):
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": rel}}
    if kind == "audio":
        return {"type": "input_audio", "input_audio": {"data": rel, "format": "wav"}}
    return {"type": "video_url", "video_url": {"url": rel}}


def golden_picks(tok, samples, results, oks) -> list[int]:
    """Indices of the golden cases, in case order: up to 4 right answers per task whose top-1/top-2 logit margin is
    >= GOLDEN_MARGIN at every step (so float differences between runtimes cannot flip a token)."""
    by_task: dict[str, list[int]] = {}
    for i, (s, r) in enumerate(zip(samples, results)):
        if oks[i] and r["ids"] and min(r["margins"]) >= GOLDEN_MARGIN and r["ids"][-1] == tok.token_id(T.IM_END):
            by_task.setdefault(s.task, []).append(i)
    return [i for task in sorted(by_task) for i in by_task[task][:4]]


def write_golden(m, tok, samples, results, oks, pools: DA.Pools, out: str, log) -> list:
    gdir = os.path.join(out, "golden")
    shutil.rmtree(gdir, ignore_errors=True)
    os.makedirs(os.path.join(gdir, "media"))
    os.makedirs(os.path.join(gdir, "generated"))
    cases = []
    written = set()
    for i in golden_picks(tok, samples, results, oks):
        s, r = samples[i], results[i]
        case_id = f"{s.task}_{len(cases):03d}"
        messages = []
        for role, parts in s.turns:
            content = []
            for kind, value in parts:
                if kind == "text":
                    content.append({"type": "text", "text": value})
                    continue
                ext = {"image": "png", "audio": "wav", "video": "mp4"}[kind]
                rel = f"media/{kind}_{value:04d}.{ext}"
                if rel not in written:
                    path = os.path.join(gdir, rel)
                    if kind == "image":
                        open(path, "wb").write(png_bytes(pools.images[value][0]))
                    elif kind == "audio":
                        W.write_wav(path, pools.audio[value][0])
                    else:
                        write_video(path, pools.videos[value][0])
                    written.add(rel)
                content.append(openai_part(kind, rel))
            messages.append({"role": role, "content": content})
        case = {"id": case_id, "task": s.task, "messages": messages, "max_tokens": MAX_NEW,
                "prompt_token_ids": r["prompt_ids"], "completion_token_ids": r["ids"],
                "completion_text": r["text"], "finish_reason": "stop", "min_logit_margin": round(min(r["margins"]), 3)}
        if s.gen is not None:
            media = EV.generate_media(m, tok, s, r)
            if s.gen[0] == "image":
                rel = f"generated/{case_id}.png"
                Image.fromarray(np.clip(np.round(media.transpose(1, 2, 0) * 255), 0, 255).astype(np.uint8)).save(os.path.join(gdir, rel))
                np.save(os.path.join(gdir, f"generated/{case_id}.npy"), media.astype(np.float32))
                case["generated"] = {"modality": "image", "png": rel, "float32_npy": f"generated/{case_id}.npy"}
            else:
                rel = f"generated/{case_id}.wav"
                W.write_wav(os.path.join(gdir, rel), media)
                np.save(os.path.join(gdir, f"generated/{case_id}.npy"), media.astype(np.float32))
                case["generated"] = {"modality": "audio", "wav": rel, "float32_npy": f"generated/{case_id}.npy"}
        cases.append(case)
    with open(os.path.join(gdir, "cases.json"), "w") as f:
        json.dump({"margin_threshold": GOLDEN_MARGIN, "note": "media urls/data are paths relative to this folder; "
                   "tests inline them as data: URLs / base64", "cases": cases}, f, indent=1)
    log(f"golden: {len(cases)} cases over {len({c['task'] for c in cases})} tasks, {len(written)} media files")
    return cases


def write_preprocessing_golden(pools: DA.Pools, out: str, log) -> None:
    pdir = os.path.join(out, "golden", "preprocessing")
    os.makedirs(pdir, exist_ok=True)
    entries = []
    rng = np.random.default_rng(5)
    # images: the model size, a downscale, an upscale with an odd aspect, grayscale and RGBA inputs
    for k, (w, h, mode) in enumerate([(64, 64, "RGB"), (100, 80, "RGB"), (37, 50, "RGB"), (90, 90, "L"), (64, 48, "RGBA")]):
        src = Image.fromarray(pools.images[k][0]).resize((w, h), Image.NEAREST)
        if mode == "L":
            src = src.convert("L")
        if mode == "RGBA":
            arr = np.array(src)
            alpha = rng.integers(0, 256, size=(h, w, 1), dtype=np.uint8)
            src = Image.fromarray(np.concatenate([arr, alpha], axis=2), "RGBA")
        name = f"image_{k}_{w}x{h}_{mode}"
        src.save(os.path.join(pdir, name + ".png"))
        rgb = np.array(Image.open(os.path.join(pdir, name + ".png")).convert("RGB"))
        np.save(os.path.join(pdir, name + ".pixels.npy"), FT.image_to_pixels(rgb)[None])
        entries.append({"kind": "image", "input": name + ".png", "expected": name + ".pixels.npy", "shape": [1, 3, 64, 64]})
    for k in range(4):
        a, info = pools.audio[k * 7 % len(pools.audio)]
        name = f"audio_{k}"
        W.write_wav(os.path.join(pdir, name + ".wav"), a)
        np.save(os.path.join(pdir, name + ".log_mel.npy"), c_order(FT.log_mel(W.read_wav(os.path.join(pdir, name + ".wav")))[None]))
        entries.append({"kind": "log_mel", "input": name + ".wav", "expected": name + ".log_mel.npy", "shape": [1, FT.N_MELS, FT.n_frames()]})
    # a clip shorter than the window is zero-padded to clip_seconds
    short = W.quantize_pcm16(W.beeps(rng, 1, "high"))[:4000]
    W.write_wav(os.path.join(pdir, "audio_short.wav"), short)
    np.save(os.path.join(pdir, "audio_short.log_mel.npy"), c_order(FT.log_mel(W.read_wav(os.path.join(pdir, "audio_short.wav")))[None]))
    entries.append({"kind": "log_mel", "input": "audio_short.wav", "expected": "audio_short.log_mel.npy", "shape": [1, FT.N_MELS, FT.n_frames()]})
    frames, _ = pools.videos[0]
    write_video(os.path.join(pdir, "video_0.mp4"), frames)
    np.save(os.path.join(pdir, "video_0.frames.npy"), frames)
    np.save(os.path.join(pdir, "video_0.pixels.npy"), DA.pixels(frames))
    entries.append({"kind": "video_frames", "input": "video_0.mp4", "expected": "video_0.frames.npy", "shape": list(frames.shape),
                    "expected_pixels": "video_0.pixels.npy"})
    with open(os.path.join(pdir, "index.json"), "w") as f:
        json.dump({"entries": entries, "tolerance": {"image": 1e-5, "log_mel": 1e-4, "video_frames": 0}}, f, indent=1)
    log(f"preprocessing golden: {len(entries)} entries")


def manifest(comps: dict, vocab: int) -> dict:
    img_pre = {"kind": "image", "width": 64, "height": 64, "resize": "bilinear_antialias", "rescale_factor": FT.RESCALE,
               "mean": FT.IMAGE_MEAN.tolist(), "std": FT.IMAGE_STD.tolist(), "channel_order": "rgb", "layout": "nchw",
               "alpha": "drop"}
    return {
        "format": "mmserve.bundle/v1",
        "id": "mmserve-tiny",
        "description": "A ~2M-parameter any-to-any MM-LLM trained on a synthetic world of shapes, spoken digits and beeps "
                       "(tools/reference-model). MmServe's default model and test ground truth.",
        "family": "token_injection",
        "max_context": 256,
        "tokenizer": {"file": "tokenizer.json", "eos_tokens": [T.IM_END, T.EOT], "pad_token": T.PAD, "bos_token": None},
        "chat_template": {"file": "chat_template.jinja", "message_format": T.MESSAGE_PREFIX + "{content}" + T.MESSAGE_SUFFIX,
                          "generation_prompt": T.GENERATION_PROMPT, "part_separator": T.PART_SEPARATOR,
                          "default_system_prompt": None},
        "components": comps,
        "embedding": {"component": "embed_tokens", "input_ids": "input_ids", "inputs_embeds": "inputs_embeds"},
        "decoder": {"component": "decoder", "hidden_size": M.D_MODEL, "num_layers": M.N_LAYERS, "num_attention_heads": M.N_HEADS,
                    "num_kv_heads": M.N_KV_HEADS, "head_dim": M.HEAD_DIM, "vocab_size": vocab,
                    "inputs_embeds": "inputs_embeds", "attention_mask": "attention_mask", "position_ids": "position_ids",
                    "past_key": "past_key_values.{layer}.key", "past_value": "past_key_values.{layer}.value",
                    "logits": "logits", "hidden_states": "last_hidden_state",
                    "present_key": "present.{layer}.key", "present_value": "present.{layer}.value",
                    "kv_layout": "batch,kv_heads,seq,head_dim", "rope_theta": M.ROPE_THETA},
        "input_modalities": {
            "image": {"placeholder_token": T.PLACEHOLDER["image"], "tokens_per_item": M.IMAGE_TOKENS, "encoder": "image_encoder",
                      "projector": "image_projector", "preprocessing": img_pre},
            "audio": {"placeholder_token": T.PLACEHOLDER["audio"], "tokens_per_item": M.AUDIO_TOKENS, "encoder": "audio_encoder",
                      "projector": "audio_projector", "transcription_prompt": "Transcribe the audio.",
                      "preprocessing": {"kind": "log_mel", "sample_rate": FT.SAMPLE_RATE, "clip_seconds": FT.CLIP_SECONDS,
                                        "n_fft": FT.N_FFT, "win_length": FT.N_FFT, "hop_length": FT.HOP, "window": "hann_periodic",
                                        "center": False, "n_mels": FT.N_MELS, "f_min": FT.F_MIN, "f_max": FT.F_MAX,
                                        "mel_scale": "htk", "mel_norm": None, "power": 2.0, "log": "ln",
                                        "log_offset": FT.LOG_OFFSET, "layout": "batch,mels,frames"}},
            "video": {"placeholder_token": T.PLACEHOLDER["video"], "tokens_per_item": M.VIDEO_TOKENS, "frame_encoder": "image_encoder",
                      "projector": "video_projector",
                      "preprocessing": {"kind": "video_frames", "num_frames": W.FRAMES, "sampling": "uniform",
                                        "frame_preprocessing": "image"}},
        },
        "output_modalities": {
            "image": {"signal_tokens": T.IMG_SIGNALS, "output_projector": "image_output_projector", "generator": "image_generator",
                      "width": 64, "height": 64, "layout": "nchw", "value_range": [0, 1],
                      "prompt_template": "Generate an image of {text}."},
            "audio": {"signal_tokens": T.AUD_SIGNALS, "output_projector": "audio_output_projector", "generator": "audio_generator",
                      "sample_rate": W.SR, "value_range": [-1, 1],
                      "prompt_template": "Please play {text}.", "voices": ["default"]},
        },
    }


CHAT_TEMPLATE_JINJA = (
    "{% for message in messages %}<|im_start|>{{ 'system' if message['role'] == 'developer' else message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    # HF renders with trim_blocks, which drops a newline right after a block tag: the part separator is printed.
    "{% for part in message['content'] %}{% if not loop.first %}{{ '\\n' }}{% endif %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}{% elif part['type'] == 'image_url' or part['type'] == 'image' %}<|image|>"
    "{% elif part['type'] == 'input_audio' or part['type'] == 'audio' %}<|audio|>{% elif part['type'] == 'video_url' or part['type'] == 'video' %}<|video|>{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def finish(m, tok, eval_pools: DA.Pools, eval_feats, out: str, work: str, log, quick: bool = False):
    m.eval()
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        p = os.path.join(out, f)
        if f != "README.md":
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    samples = eval_samples(eval_pools, seed=99)
    log(f"evaluating {len(samples)} held-out requests")
    results = EV.run_samples(m, tok, samples, eval_feats, batch=48, max_new=MAX_NEW)
    report, oks = score(samples, results, m, tok)
    for g, v in report.items():
        log(f"  {g}: {v['value']:.4f} (n={v['n']})")
    picks = [samples[i] for i in range(0, len(samples), max(1, len(samples) // 12))][:12]
    check = batch_check(m, tok, picks, eval_feats, log)
    with open(os.path.join(out, "eval.json"), "w") as f:
        json.dump({"model": "mmserve-tiny", "decoding": "greedy", "tasks": report, "checks": {"batched_equals_single": check}}, f, indent=1)
    comps = EX.export_all(m, out, len(tok.vocab))
    log(f"exported {len(comps)} ONNX components")
    tok.save_hf(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "chat_template.jinja"), "w") as f:
        f.write(CHAT_TEMPLATE_JINJA)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest(comps, len(tok.vocab)), f, indent=1)
    write_golden(m, tok, samples, results, oks, eval_pools, out, log)
    write_preprocessing_golden(eval_pools, out, log)
    write_reference_tensors(m, tok, out, log)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    log(f"bundle size {size / 1e6:.2f} MB")


@torch.no_grad()
def write_reference_tensors(m, tok, out: str, log) -> None:
    """Inputs and PyTorch outputs for each component, so ONNX exports can be checked numerically elsewhere."""
    rdir = os.path.join(out, "golden", "components")
    os.makedirs(rdir, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    cases = {}

    def save(name, arrays):
        path = os.path.join(rdir, name + ".npz")
        np.savez(path, **{k: v.numpy() if torch.is_tensor(v) else v for k, v in arrays.items()})
        cases[name] = name + ".npz"

    pix = torch.randn(2, 3, 64, 64, generator=g)
    save("image_encoder", {"pixel_values": pix, "image_features": m.image_encoder(pix)})
    mel = torch.randn(2, 40, 198, generator=g) * 3 - 6
    save("audio_encoder", {"input_features": mel, "audio_features": m.audio_encoder(mel)})
    ff = torch.randn(2, 8, 16, M.ENC_DIM, generator=g)
    save("video_projector", {"frame_features": ff, "media_embeds": m.video_projector(ff)})
    h = torch.randn(2, 4, M.D_MODEL, generator=g)
    c = m.image_output_projector(h)
    save("image_generation", {"signal_hidden_states": h, "condition": c, "image": m.image_generator(c)})
    c2 = m.audio_output_projector(h)
    save("audio_generation", {"signal_hidden_states": h, "condition": c2, "waveform": m.audio_generator(c2)})
    # decoder: a 2-row left-padded prefill then one decode step with past
    emb = torch.randn(2, 5, M.D_MODEL, generator=g) * 0.05
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    pos = torch.tensor([[0, 0, 0, 1, 2], [0, 1, 2, 3, 4]])
    logits, hid, past = m.llm(emb, mask, pos, None)
    e2 = torch.randn(2, 1, M.D_MODEL, generator=g) * 0.05
    mask2 = torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], 1)
    pos2 = torch.tensor([[3], [5]])
    logits2, hid2, past2 = m.llm(e2, mask2, pos2, past)
    arrays = {"prefill.inputs_embeds": emb, "prefill.attention_mask": mask, "prefill.position_ids": pos, "prefill.logits": logits,
              "prefill.last_hidden_state": hid, "step.inputs_embeds": e2, "step.attention_mask": mask2, "step.position_ids": pos2,
              "step.logits": logits2, "step.last_hidden_state": hid2}
    for i, (k, v) in enumerate(past):
        arrays[f"prefill.present.{i}.key"], arrays[f"prefill.present.{i}.value"] = k, v
    for i, (k, v) in enumerate(past2):
        arrays[f"step.present.{i}.key"], arrays[f"step.present.{i}.value"] = k, v
    save("decoder", arrays)
    ids = torch.tensor([[1, 2, 3], [4, 5, 6]])
    save("embed_tokens", {"input_ids": ids, "inputs_embeds": m.llm.embed_tokens(ids)})
    with open(os.path.join(rdir, "index.json"), "w") as f:
        json.dump({"cases": cases, "tolerance": 1e-4}, f, indent=1)
    log(f"component reference tensors: {len(cases)}")
