"""Preprocessing that the server re-implements in C# (docs/model-bundle.md gives the same formulas).

Kept in plain numpy, outside the ONNX graphs, so every step is explicit and checkable number for number.
"""
from __future__ import annotations

import numpy as np

IMAGE_MEAN = np.array([0.5, 0.5, 0.5], np.float32)
IMAGE_STD = np.array([0.25, 0.25, 0.25], np.float32)
RESCALE = 1.0 / 255.0

# log-mel front end
SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 40
F_MIN = 0.0
F_MAX = 8000.0
LOG_OFFSET = 1e-6
CLIP_SECONDS = 2.0


def aa_weights(n_in: int, n_out: int) -> list[tuple[int, np.ndarray]]:
    """Antialiased bilinear weights, as torch interpolate(antialias=True) / PIL BILINEAR."""
    scale = n_in / n_out
    support = scale if scale >= 1.0 else 1.0
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    rows = []
    for i in range(n_out):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), n_in)
        j = np.arange(xmax - xmin, dtype=np.float64)
        w = np.maximum(0.0, 1.0 - np.abs((j + xmin - center + 0.5) * invscale))
        w = w / w.sum()
        rows.append((xmin, w))
    return rows


def resize_aa(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """img float [H, W, C] -> [height, width, C]: horizontal pass then vertical pass, float64."""
    x = img.astype(np.float64)
    h, w, c = x.shape
    if w != width:
        out = np.empty((h, width, c))
        for i, (xmin, wt) in enumerate(aa_weights(w, width)):
            out[:, i, :] = np.tensordot(x[:, xmin:xmin + len(wt), :], wt, axes=([1], [0]))
        x = out
    if h != height:
        out = np.empty((height, width, c))
        for i, (ymin, wt) in enumerate(aa_weights(h, height)):
            out[i, :, :] = np.tensordot(x[ymin:ymin + len(wt), :, :], wt, axes=([0], [0]))
        x = out
    return x


def image_to_pixels(rgb: np.ndarray, size: int = 64) -> np.ndarray:
    """uint8 RGB [H, W, 3] -> float32 [3, size, size] normalised pixel tensor."""
    x = resize_aa(rgb.astype(np.float64), size, size)
    x = (x * RESCALE - IMAGE_MEAN.astype(np.float64)) / IMAGE_STD.astype(np.float64)
    return x.transpose(2, 0, 1).astype(np.float32)


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


def mel_filterbank() -> np.ndarray:
    """[n_mels, n_fft//2+1] HTK-scale triangles on the FFT bin frequencies, no area normalisation."""
    n_bins = N_FFT // 2 + 1
    fft_freqs = np.arange(n_bins, dtype=np.float64) * SAMPLE_RATE / N_FFT
    mel_pts = np.linspace(_hz_to_mel(F_MIN), _hz_to_mel(F_MAX), N_MELS + 2)
    hz = _mel_to_hz(mel_pts)
    fb = np.zeros((N_MELS, n_bins))
    for m in range(N_MELS):
        lo, c, hi = hz[m], hz[m + 1], hz[m + 2]
        up = (fft_freqs - lo) / (c - lo)
        down = (hi - fft_freqs) / (hi - c)
        fb[m] = np.maximum(0.0, np.minimum(up, down))
    return fb


def hann_periodic(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


_FB = None


def log_mel(audio: np.ndarray) -> np.ndarray:
    """float mono 16 kHz -> float32 [n_mels, frames]; the clip is padded / cut to CLIP_SECONDS first."""
    global _FB
    if _FB is None:
        _FB = mel_filterbank()
    n = int(CLIP_SECONDS * SAMPLE_RATE)
    x = np.zeros(n, np.float64)
    a = np.asarray(audio, np.float64)[:n]
    x[:len(a)] = a
    frames = 1 + (n - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    spec = np.fft.rfft(x[idx] * hann_periodic(N_FFT)[None, :], n=N_FFT, axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    mel = power @ _FB.T  # [frames, n_mels]
    return np.ascontiguousarray(np.log(mel + LOG_OFFSET).T, dtype=np.float32)


def n_frames() -> int:
    n = int(CLIP_SECONDS * SAMPLE_RATE)
    return 1 + (n - N_FFT) // HOP
