"""Synthetic images: one coloured shape on a light background, rendered at any size from explicit seeds."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLOURS = {
    "red": (215, 35, 35),
    "green": (35, 155, 55),
    "blue": (40, 70, 215),
    "yellow": (230, 195, 25),
    "purple": (135, 45, 175),
    "black": (25, 25, 25),
}
COLOUR_NAMES = list(COLOURS)
SHAPES = ["circle", "square", "triangle"]


@dataclass(frozen=True)
class Scene:
    colour: str
    shape: str
    cx: float = 0.5  # centre, fraction of the image
    cy: float = 0.5
    r: float = 0.3  # radius, fraction of the image
    bg: tuple = (245, 245, 245)
    noise: float = 0.0
    seed: int = 0


def mask(shape: str, cx: float, cy: float, r: float, n: int) -> np.ndarray:
    """Boolean mask of a shape in an n x n image; cx, cy, r in pixels."""
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
    dx, dy = xx - cx, yy - cy
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":
        s = r * 0.85
        return (np.abs(dx) <= s) & (np.abs(dy) <= s)
    if shape == "triangle":  # pointing up
        top, bottom = -r, r * 0.8
        inside = (dy >= top) & (dy <= bottom)
        half_w = (dy - top) / (bottom - top) * r
        return inside & (np.abs(dx) <= half_w)
    raise ValueError(shape)


def render(scene: Scene, n: int) -> np.ndarray:
    """uint8 [n, n, 3]."""
    img = np.empty((n, n, 3), np.float32)
    img[:] = np.asarray(scene.bg, np.float32)
    m = mask(scene.shape, scene.cx * n, scene.cy * n, scene.r * n, n)
    img[m] = np.asarray(COLOURS[scene.colour], np.float32)
    if scene.noise > 0:
        rng = np.random.default_rng(scene.seed)
        img = img + rng.normal(0, scene.noise, size=img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def random_scene(rng: np.random.Generator, colour: str | None = None, shape: str | None = None) -> Scene:
    """A training scene: random colour, shape, position, size, light tinted background, mild noise."""
    colour = colour or COLOUR_NAMES[rng.integers(len(COLOUR_NAMES))]
    shape = shape or SHAPES[rng.integers(len(SHAPES))]
    r = float(rng.uniform(0.2, 0.34))
    cx = float(rng.uniform(r + 0.02, 1 - r - 0.02))
    cy = float(rng.uniform(r + 0.02, 1 - r - 0.02))
    bg = tuple(int(v) for v in rng.integers(205, 256, size=3))
    return Scene(colour, shape, cx, cy, r, bg, float(rng.uniform(0, 6)), int(rng.integers(1 << 30)))
