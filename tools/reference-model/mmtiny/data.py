"""Media pools (train / eval) generated from fixed seeds, with their raw bytes-equivalent arrays."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import features as FT
from . import world as W


@dataclass
class Pools:
    images: list  # (uint8 [64,64,3], objs)
    videos: list  # (uint8 [8,64,64,3], info)
    audio: list  # (float32 [32000] pcm16-exact, info)


def make_pools(seed: int, n_images: int, n_videos: int, n_digits: int, n_beeps: int, log=print) -> Pools:
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(n_images):
        objs = W.random_scene(rng)
        images.append((W.render(objs, rng), objs))
    videos = [W.random_video(rng) for _ in range(n_videos)]
    audio = []
    for i in range(n_digits):
        d = i % 10
        voice = W.ESPEAK_VOICES[int(rng.integers(len(W.ESPEAK_VOICES)))]
        speech = W.espeak(W.NUMBER_WORDS[d], voice, int(rng.integers(120, 200)), int(rng.integers(25, 75)))
        audio.append((W.fit_clip(speech, rng), {"kind": "digit", "digit": d, "voice": voice}))
    for i in range(n_beeps):
        c, p = 1 + i % 3, W.PITCH_NAMES[(i // 3) % 3]
        audio.append((W.fit_clip(W.beeps(rng, c, p), rng), {"kind": "beeps", "count": c, "pitch": p}))
    log(f"pools seed={seed}: {len(images)} images, {len(videos)} videos, {len(audio)} clips")
    return Pools(images, videos, audio)


def pixels(batch_uint8: np.ndarray) -> np.ndarray:
    """[N,64,64,3] uint8 at the model size -> [N,3,64,64] float32; same numbers as features.image_to_pixels."""
    x = batch_uint8.astype(np.float64) * FT.RESCALE
    x = (x - FT.IMAGE_MEAN.astype(np.float64)) / FT.IMAGE_STD.astype(np.float64)
    return x.transpose(0, 3, 1, 2).astype(np.float32)


def audio_label(info: dict) -> int:
    if info["kind"] == "digit":
        return info["digit"]
    return 10 + (info["count"] - 1) * 3 + W.PITCH_NAMES.index(info["pitch"])


def log_mels(pool_audio) -> np.ndarray:
    return np.stack([FT.log_mel(a) for a, _ in pool_audio])
