"""Held-out evaluation in PyTorch (greedy), non-learned measurements for generated media."""
from __future__ import annotations

import numpy as np
import torch

from . import generate as G
from . import tasks as T
from . import world as W
from .train import MMTiny, project


@torch.no_grad()
def media_embeds(m: MMTiny, feats, spans):
    out = []
    for kind, idx, _, _ in spans:
        src = {"image": feats.image, "audio": feats.audio, "video": feats.video}[kind]
        out.append(project(m, kind, src[idx:idx + 1])[0])
    return out


@torch.no_grad()
def run_samples(m: MMTiny, tok, samples, feats, batch: int = 32, max_new: int = 48):
    """Greedy outputs for samples: list of dict(ids, text, margins, hidden, prompt_ids)."""
    results = []
    for i in range(0, len(samples), batch):
        chunk = samples[i:i + batch]
        prompts = []
        meta = []
        for s in chunk:
            ids, spans = T.render_ids(tok, s.turns)
            prompts.append((G.embed_prompt(m, ids, spans, media_embeds(m, feats, spans)), 0))
            meta.append(ids)
        outs, margins, hids = G.greedy(m, tok, prompts, max_new)
        for s, ids, o, mg, h in zip(chunk, meta, outs, margins, hids):
            results.append({"prompt_ids": ids, "ids": o, "margins": mg, "hidden": h,
                            "text": tok.decode(o, skip_special=True)})
    return results


def strip_answer(text: str) -> str:
    return text.strip()


@torch.no_grad()
def generate_media(m: MMTiny, tok, sample: T.Sample, result) -> np.ndarray | None:
    """Run output projector + generator on the hidden states at the emitted signal tokens."""
    kind = sample.gen[0]
    sig = [tok.token_id(x) for x in (T.IMG_SIGNALS if kind == "image" else T.AUD_SIGNALS)]
    ids = result["ids"]
    try:
        pos = [ids.index(t) for t in sig]
    except ValueError:
        return None
    h = torch.stack([result["hidden"][p] for p in pos])[None]
    if kind == "image":
        return m.image_generator(m.image_output_projector(h))[0].numpy()
    return m.audio_generator(m.audio_output_projector(h))[0].numpy()


def measure_image(img: np.ndarray, colour: str, shape: str) -> tuple[bool, str, float]:
    """Dominant colour of bright pixels + IoU of the bright mask with the template mask."""
    hwc = img.transpose(1, 2, 0)
    mask = hwc.max(axis=2) > 0.35
    if mask.sum() == 0:
        return False, "none", 0.0
    mean = hwc[mask].mean(axis=0) * 255
    names = W.COLOUR_NAMES
    dists = [np.linalg.norm(mean - np.array(W.COLOURS[n])) for n in names]
    found = names[int(np.argmin(dists))]
    tm = W.template_mask(shape)
    iou = float((mask & tm).sum() / (mask | tm).sum())
    return (found == colour and iou >= 0.6), found, iou


def measure_audio(wave: np.ndarray) -> tuple[str, int]:
    """Dominant pitch (FFT peak, nearest named pitch) and beep count (10 ms RMS envelope segments)."""
    spec = np.abs(np.fft.rfft(wave))
    f = np.fft.rfftfreq(len(wave), 1 / W.SR)[int(np.argmax(spec))]
    pitch = W.PITCH_NAMES[int(np.argmin([abs(np.log(f / W.PITCHES[p])) for p in W.PITCH_NAMES]))]
    rms = np.sqrt((wave[: len(wave) // 160 * 160].reshape(-1, 160) ** 2).mean(axis=1))
    on = rms > 0.1
    count = int(np.sum(on[1:] & ~on[:-1]) + (1 if on[0] else 0))
    return pitch, count
