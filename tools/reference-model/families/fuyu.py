"""Family 2: encoder-free patch projection (Fuyu).

No vision encoder: the image, at its own size (no resize; sides between MIN_SIDE and MAX_SIDE pixels), is
normalised, padded on the right and bottom to whole PATCH x PATCH patches, cut into a grid of patches in row-major
order, and each patch (flattened row, column, channel) is projected by one Linear layer straight into the LLM's
embedding space. The prompt holds one placeholder position per patch and a row-break token after every grid row
(Fuyu's |NEWLINE|), so the number of image positions is rows x (cols + 1) and depends on the image size. The LLM
is fine-tuned with the projection, as Fuyu trains its decoder; its vocabulary gains the row-break token.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from mmtiny import features as FT
from mmtiny import model as M

PATCH = 16
MIN_SIDE = 16
MAX_SIDE = 96
TRAIN_SIDES = (48, 72)  # image widths and heights drawn from this range (inclusive), independently
PAD_VALUE = 0.0  # value of padded pixels after normalisation (mid grey)
ROW_BREAK = "<|newline|>"
PATCH_DIM = PATCH * PATCH * 3


def random_resize(rng, img: np.ndarray) -> np.ndarray:
    """mmtiny's 64x64 scene at a random size (the world's quadrants and sizes stay relative to the image)."""
    w, h = (int(x) for x in rng.integers(TRAIN_SIDES[0], TRAIN_SIDES[1] + 1, size=2))
    return np.array(Image.fromarray(img).resize((w, h), Image.BILINEAR))


def grid(width: int, height: int) -> tuple[int, int]:
    """(rows, cols) of patches for an image of this size."""
    return -(-height // PATCH), -(-width // PATCH)


def patches(rgb: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] -> float32 [rows * cols, PATCH_DIM], as the server's fuyu_patches preprocessing."""
    h, w, _ = rgb.shape
    rows, cols = grid(w, h)
    x = (rgb.astype(np.float64) * FT.RESCALE - FT.IMAGE_MEAN.astype(np.float64)) / FT.IMAGE_STD.astype(np.float64)
    padded = np.full((rows * PATCH, cols * PATCH, 3), PAD_VALUE, np.float64)
    padded[:h, :w] = x
    p = padded.reshape(rows, PATCH, cols, PATCH, 3).transpose(0, 2, 1, 3, 4)  # [rows, cols, py, px, c]
    return p.reshape(rows * cols, PATCH_DIM).astype(np.float32)


# The projection starts at a quarter of PyTorch's default scale: mmserve-tiny's LLM was trained on image embeddings
# ~23x larger (RMS ~4.4) than its text embeddings (~0.19), and a default-initialised projection of raw 16x16 patches
# lands near the image scale, where the residual stream barely changes through four layers and patches are only ever
# combined linearly. Started at text scale, the LLM's blocks process the patch positions (shape needs that).
INIT_SCALE = 0.25


class PatchProjector(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(PATCH_DIM, M.D_MODEL)
        with torch.no_grad():
            self.proj.weight.mul_(INIT_SCALE)
            self.proj.bias.mul_(INIT_SCALE)

    def forward(self, image_patches):
        return self.proj(image_patches)


def widen_vocab(llm: M.LLM, init_from: int) -> M.LLM:
    """The same LLM with one more token (the row break), its embedding started from token init_from's."""
    new = M.LLM(llm.vocab_size + 1)
    state = llm.state_dict()
    w = state["embed_tokens.weight"]
    state["embed_tokens.weight"] = torch.cat([w, w[init_from:init_from + 1]])
    new.load_state_dict(state)
    return new


class FuyuTiny(nn.Module):
    """What mmtiny.generate.greedy needs (.llm), plus the patch projection."""

    def __init__(self, llm: M.LLM):
        super().__init__()
        self.llm = llm
        self.patch_projector = PatchProjector()
