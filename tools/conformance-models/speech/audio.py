"""Synthetic audio for the speech conformance models: tones, beeps, chirps, noise; and a numpy log-mel that follows
WhisperFeatureExtractor (used for training only; the goldens and fixtures take transformers.js's own features)."""
from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np

SR = 16000
N_SAMPLES = 30 * SR          # chunk_length 30 s
N_FFT, HOP, N_MELS = 400, 160, 80
N_FRAMES = N_SAMPLES // HOP  # 3000

PITCHES = {"low": 330.0, "mid": 880.0, "high": 2200.0}
KINDS = ("beeps", "tone", "rising", "falling", "noise", "silence")


def synth(kind: str, pitch: str, count: int, dur: float, sr: int, rng: np.random.Generator,
          amp: float = 0.5, floor: float = 0.003) -> np.ndarray:
    """One clip, float32 mono in [-1, 1]. `floor` is the background noise level."""
    n = int(round(dur * sr))
    t = np.arange(n) / sr
    x = np.zeros(n)
    f0 = PITCHES[pitch] * (1 + rng.uniform(-0.04, 0.04))
    if kind == "beeps":
        slot = dur / count
        blen = min(0.25, 0.5 * slot)
        for k in range(count):
            start = (k + 0.5) * slot - blen / 2
            m = (t >= start) & (t < start + blen)
            ramp = np.clip(np.minimum(t - start, start + blen - t) / 0.01, 0, 1)
            x += np.where(m, np.sin(2 * math.pi * f0 * t) * ramp, 0)
    elif kind == "tone":
        edge = np.clip(np.minimum(t, dur - t) / 0.05, 0, 1)
        x = np.sin(2 * math.pi * f0 * t + rng.uniform(0, 6.28)) * edge
    elif kind in ("rising", "falling"):
        lo, hi = 300.0, 3000.0
        a, b = (lo, hi) if kind == "rising" else (hi, lo)
        # exponential sweep over the whole clip: phase = 2*pi * a*T/ln(b/a) * ((b/a)^(t/T) - 1)
        k = math.log(b / a)
        x = np.sin(2 * math.pi * a * dur / k * (np.exp(k * t / dur) - 1))
        x *= np.clip(np.minimum(t, dur - t) / 0.05, 0, 1)
    elif kind == "noise":
        x = rng.uniform(-1, 1, n) * 0.8
    elif kind == "silence":
        amp = 0.0
    else:
        raise ValueError(kind)
    y = amp * x + floor * rng.standard_normal(n)
    return np.clip(y, -1, 1).astype(np.float32)


def write_clip(samples: np.ndarray, sr: int, path: Path) -> None:
    """Encode with ffmpeg by extension: .wav (pcm_s16le), .mp3 (libmp3lame 48k), .flac."""
    codec = {".wav": ["-c:a", "pcm_s16le"], ".mp3": ["-c:a", "libmp3lame", "-b:a", "48k"],
             ".flac": ["-c:a", "flac", "-compression_level", "8"]}[path.suffix]
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "f32le", "-ar", str(sr),
                    "-ac", "1", "-i", "-", *codec, "-map_metadata", "-1", "-fflags", "+bitexact",
                    "-flags:a", "+bitexact", str(path)], input=samples.astype("<f4").tobytes(), check=True)


# The oracle's decode: ffmpeg, plain channel average, soxr to 16 kHz, float32 (oracle/generate-whisper.mjs runs the
# same arguments; they are written once here and there).
def decode_16k(path: Path) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path), "-vn",
                          "-af", "aresample=16000:resampler=soxr:precision=28", "-ac", "1",
                          "-c:a", "pcm_f32le", "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<f4").copy()


def _hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    lin = 3.0 * f / 200.0
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / (math.log(6.4) / 27.0), lin)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp(math.log(6.4) / 27.0 * (m - 15.0)), 200.0 * m / 3.0)


def mel_filters() -> np.ndarray:
    """[80, 201], slaney scale and norm, 0..8000 Hz."""
    fft_freqs = np.linspace(0, SR // 2, N_FFT // 2 + 1)
    mels = np.linspace(_hz_to_mel(0.0), _hz_to_mel(8000.0), N_MELS + 2)
    ff = _mel_to_hz(mels)
    diff = np.diff(ff)
    slopes = ff[None, :] - fft_freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    fb = np.maximum(0, np.minimum(down, up)).T
    fb *= (2.0 / (ff[2:N_MELS + 2] - ff[:N_MELS]))[:, None]
    return fb.astype(np.float32)


_FB = None
_WIN = (0.5 - 0.5 * np.cos(2 * math.pi * np.arange(N_FFT) / N_FFT))  # periodic Hann


def log_mel(samples: np.ndarray) -> np.ndarray:
    """[80, 3000] float32, as WhisperFeatureExtractor: pad/trim to 30 s, reflect-centred STFT, power, mel, log10,
    floor at max - 8, (x + 4) / 4."""
    global _FB
    if _FB is None:
        _FB = mel_filters()
    x = np.zeros(N_SAMPLES, np.float64)
    x[:min(len(samples), N_SAMPLES)] = samples[:N_SAMPLES]
    x = np.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect")
    idx = np.arange(N_FRAMES)[:, None] * HOP + np.arange(N_FFT)[None, :]
    spec = np.fft.rfft(x[idx] * _WIN, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)       # [3000, 201]
    mel = _FB @ power.T                                                  # [80, 3000]
    lm = np.log10(np.maximum(mel, 1e-10))
    lm = np.maximum(lm, lm.max() - 8.0)
    return ((lm + 4.0) / 4.0).astype(np.float32)
