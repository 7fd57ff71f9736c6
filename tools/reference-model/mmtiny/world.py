"""The synthetic multimodal world: shapes in images and videos, spoken digits and beeps in audio.

Everything is generated from explicit numpy Generators so a seed fixes every sample.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from dataclasses import dataclass

import numpy as np

IMG = 64
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (50, 90, 230),
    "yellow": (235, 215, 40),
    "purple": (150, 60, 200),
    "white": (245, 245, 245),
}
COLOUR_NAMES = list(COLOURS)
SHAPES = ["circle", "square", "triangle", "cross"]
QUADRANTS = ["top left", "top right", "bottom left", "bottom right"]
SIZES = ["small", "large"]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
DIRECTIONS = ["left", "right", "up", "down"]
PITCHES = {"low": 262.0, "middle": 440.0, "high": 784.0}
PITCH_NAMES = list(PITCHES)


@dataclass(frozen=True)
class Obj:
    colour: str
    shape: str
    quadrant: int  # index into QUADRANTS
    size: str
    cx: float = 0.0
    cy: float = 0.0
    r: float = 0.0


def _mask(shape: str, cx: float, cy: float, r: float, n: int = IMG) -> np.ndarray:
    """Boolean mask of one shape; sub-pixel centre, radius r (half side for square)."""
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
    dx, dy = xx - cx, yy - cy
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":
        s = r * 0.85
        return (np.abs(dx) <= s) & (np.abs(dy) <= s)
    if shape == "triangle":  # pointing up
        top, bottom = -r, r * 0.8
        inside_y = (dy >= top) & (dy <= bottom)
        half_w = (dy - top) / (bottom - top) * r
        return inside_y & (np.abs(dx) <= half_w)
    if shape == "cross":
        t = r * 0.32
        return ((np.abs(dx) <= t) & (np.abs(dy) <= r)) | ((np.abs(dy) <= t) & (np.abs(dx) <= r))
    raise ValueError(shape)


def background(rng: np.random.Generator) -> np.ndarray:
    """A dark, slightly noisy, gradient background (objects stay clearly visible)."""
    base = rng.uniform(10, 70, size=3)
    grad = rng.uniform(-20, 20, size=3)
    t = np.linspace(0, 1, IMG, dtype=np.float32)
    horizontal = rng.random() < 0.5
    ramp = t[None, :, None] if horizontal else t[:, None, None]
    img = base[None, None, :] + grad[None, None, :] * ramp
    img = img + rng.normal(0, 4, size=(IMG, IMG, 3))
    return np.clip(img, 0, 255)


def place(rng: np.random.Generator, obj: Obj) -> Obj:
    """Choose a concrete centre and radius inside the object's quadrant."""
    r = rng.uniform(5.5, 7.5) if obj.size == "small" else rng.uniform(10.5, 13.0)
    qx, qy = obj.quadrant % 2, obj.quadrant // 2
    lo, hi = r + 1, 32 - r - 1
    cx = qx * 32 + rng.uniform(lo, hi)
    cy = qy * 32 + rng.uniform(lo, hi)
    return Obj(obj.colour, obj.shape, obj.quadrant, obj.size, cx, cy, r)


def draw(img: np.ndarray, obj: Obj, rng: np.random.Generator | None = None) -> None:
    col = np.array(COLOURS[obj.colour], dtype=np.float32)
    if rng is not None:
        col = np.clip(col + rng.normal(0, 6, size=3), 0, 255)
    img[_mask(obj.shape, obj.cx, obj.cy, obj.r)] = col


def render(objs: list[Obj], rng: np.random.Generator) -> np.ndarray:
    img = background(rng)
    for o in objs:
        draw(img, o, rng)
    return np.round(img).astype(np.uint8)


def random_scene(rng: np.random.Generator, count: int | None = None) -> list[Obj]:
    """1-3 objects in distinct quadrants with distinct (colour, shape) pairs."""
    n = count if count is not None else int(rng.choice([1, 1, 2, 3]))
    quads = rng.permutation(4)[:n]
    used: set[tuple[str, str]] = set()
    objs = []
    for q in sorted(quads):
        while True:
            c, s = str(rng.choice(COLOUR_NAMES)), str(rng.choice(SHAPES))
            if (c, s) not in used and all(c != u[0] and s != u[1] for u in used):
                break
        used.add((c, s))
        size = str(rng.choice(SIZES)) if n == 1 else "small"
        objs.append(place(rng, Obj(c, s, int(q), size)))
    return objs


def template_image(colour: str, shape: str) -> np.ndarray:
    """The image generator's target: one large centred shape on black. float32 [3,64,64] in [0,1]."""
    img = np.zeros((IMG, IMG, 3), np.float32)
    img[_mask(shape, 32.0, 32.0, 20.0)] = np.array(COLOURS[colour], np.float32)
    return (img / 255.0).transpose(2, 0, 1).copy()


def template_mask(shape: str) -> np.ndarray:
    return _mask(shape, 32.0, 32.0, 20.0)


# ---------------------------------------------------------------- video
FRAMES = 8


def motion_video(rng: np.random.Generator, colour: str, shape: str, direction: str) -> tuple[np.ndarray, dict]:
    """8 frames of one object moving ~28 px in a direction. uint8 [8,64,64,3]."""
    r = rng.uniform(7, 10)
    travel = rng.uniform(24, 32)
    dx, dy = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}[direction]
    # start so that the whole path stays inside the frame
    margin = r + 1
    sx = rng.uniform(margin, IMG - margin) if dx == 0 else (IMG - margin - rng.uniform(0, IMG - 2 * margin - travel) if dx < 0 else margin + rng.uniform(0, IMG - 2 * margin - travel))
    sy = rng.uniform(margin, IMG - margin) if dy == 0 else (IMG - margin - rng.uniform(0, IMG - 2 * margin - travel) if dy < 0 else margin + rng.uniform(0, IMG - 2 * margin - travel))
    bg = background(rng)
    frames = []
    for t in range(FRAMES):
        f = bg.copy()
        k = t / (FRAMES - 1)
        draw(f, Obj(colour, shape, 0, "large", sx + dx * travel * k, sy + dy * travel * k, r))
        frames.append(np.round(f).astype(np.uint8))
    return np.stack(frames), {"kind": "motion", "colour": colour, "shape": shape, "direction": direction}


def colour_change_video(rng: np.random.Generator, colour: str, colour2: str, shape: str) -> tuple[np.ndarray, dict]:
    """A still object that turns from one colour to another half way."""
    obj = place(rng, Obj(colour, shape, int(rng.integers(4)), "large"))
    bg = background(rng)
    frames = []
    for t in range(FRAMES):
        f = bg.copy()
        c = colour if t < FRAMES // 2 else colour2
        draw(f, Obj(c, shape, obj.quadrant, obj.size, obj.cx, obj.cy, obj.r))
        frames.append(np.round(f).astype(np.uint8))
    return np.stack(frames), {"kind": "change", "colour": colour, "colour2": colour2, "shape": shape}


def random_video(rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    c, s = str(rng.choice(COLOUR_NAMES)), str(rng.choice(SHAPES))
    if rng.random() < 0.7:
        return motion_video(rng, c, s, str(rng.choice(DIRECTIONS)))
    c2 = str(rng.choice([x for x in COLOUR_NAMES if x != c]))
    return colour_change_video(rng, c, c2, s)


# ---------------------------------------------------------------- audio
SR = 16000
CLIP = 2 * SR
ESPEAK_VOICES = ["en", "en-us", "en-gb", "en-gb-scotland", "en-us+f2", "en+m3", "en+f3", "en-gb+m2"]


def espeak(word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """Speak a word with espeak-ng and return float32 mono at 16 kHz."""
    with tempfile.TemporaryDirectory() as d:
        raw = os.path.join(d, "raw.wav")
        out = os.path.join(d, "out.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", raw, word], check=True)
        # -R: repeatable dither (sox dithers randomly by default when writing 16-bit, which made the
        # audio pools differ between runs)
        subprocess.run(["sox", "-R", raw, "-r", str(SR), "-c", "1", "-b", "16", out], check=True)
        return read_wav(out)


def read_wav(path: str) -> np.ndarray:
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1)
        return data


def write_wav(path: str, x: np.ndarray) -> None:
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def quantize_pcm16(x: np.ndarray) -> np.ndarray:
    """What a clip becomes after a round trip through a 16-bit WAV file (what the server will read)."""
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.float32) / 32768.0


def beeps(rng: np.random.Generator | None, count: int, pitch: str, exact: bool = False) -> np.ndarray:
    """count beeps (0.15 s on, 0.1 s off) of one pitch. exact=True gives the generator's target clip."""
    f0 = PITCHES[pitch]
    out = np.zeros(SR, np.float32)  # 1 s
    start = 0.1 if exact else float(rng.uniform(0.02, 0.2))
    on = 0.15 if exact else float(rng.uniform(0.12, 0.18))
    gap = 0.1 if exact else float(rng.uniform(0.08, 0.14))
    amp = 0.5 if exact else float(rng.uniform(0.3, 0.7))
    f = f0 if exact else f0 * float(rng.uniform(0.97, 1.03))
    for i in range(count):
        a = int((start + i * (on + gap)) * SR)
        b = a + int(on * SR)
        t = np.arange(b - a, dtype=np.float32) / SR
        out[a:b] = amp * np.sin(2 * np.pi * f * t)
    return out


def fit_clip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Place a short sound at a random offset in a 2 s clip with light noise."""
    x = x[:CLIP]
    clip = np.zeros(CLIP, np.float32)
    off = int(rng.integers(0, max(1, CLIP - len(x))))
    gain = rng.uniform(0.6, 1.0) / max(1e-3, float(np.abs(x).max()))
    clip[off:off + len(x)] = x * gain * 0.8
    clip += rng.normal(0, rng.uniform(0.0005, 0.01), size=CLIP).astype(np.float32)
    return quantize_pcm16(np.clip(clip, -1, 1))
