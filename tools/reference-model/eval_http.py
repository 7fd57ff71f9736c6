#!/usr/bin/python3
"""Runs mmserve-tiny's held-out evaluation through a running MmServe server and compares it with eval.json.

    /usr/bin/python3 tools/reference-model/eval_http.py --url http://127.0.0.1:8080 [--concurrency 16]

The held-out sets are regenerated from the recipe's seeds (the same pools and questions make_bundle.py scored;
needs espeak-ng, sox and ffmpeg like the recipe, but no training), each request is sent as an OpenAI chat
completion with its media inline (PNG data: URLs, base64 WAV input_audio, lossless MP4 data: URLs), greedy, and
scored with the recipe's own rule (exact answer). Generation tasks ask for the image or audio modality in the same
chat request; the returned PNG / WAV is decoded and measured with the recipe's rules (dominant colour and mask IoU;
FFT pitch and beep count). The same generation sets are then sent through /v1/images/generations ("a red circle")
and /v1/audio/speech ("two high beeps") and reported as image_generation (endpoint) / audio_generation (endpoint).
Prints HTTP vs eval.json per task and exits 1 if any task differs by more than --tolerance points.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from PIL import Image  # noqa: E402

from mmtiny import bundle as B, data as DA, evaluate as EV, world as W  # noqa: E402

EVAL_POOLS = (2000, 600, 300, 200, 180)  # make_bundle.py: DA.make_pools(2000, 600, 300, 200, 180)
EVAL_SEED = 99  # bundle.finish: eval_samples(eval_pools, seed=99)


def media_part(kind: str, value: int, pools: DA.Pools, tmp: str) -> dict:
    if kind == "image":
        url = "data:image/png;base64," + base64.b64encode(B.png_bytes(pools.images[value][0])).decode()
        return {"type": "image_url", "image_url": {"url": url}}
    if kind == "audio":
        path = os.path.join(tmp, f"a{value}.wav")
        W.write_wav(path, pools.audio[value][0])
        data = base64.b64encode(open(path, "rb").read()).decode()
        return {"type": "input_audio", "input_audio": {"data": data, "format": "wav"}}
    path = os.path.join(tmp, f"v{value}.mp4")
    B.write_video(path, pools.videos[value][0])
    return {"type": "video_url", "video_url": {"url": "data:video/mp4;base64," + base64.b64encode(open(path, "rb").read()).decode()}}


def to_request(sample, pools, tmp: str, model: str) -> dict:
    messages = []
    for role, parts in sample.turns:
        content = [{"type": "text", "text": v} if k == "text" else media_part(k, v, pools, tmp) for k, v in parts]
        messages.append({"role": role, "content": content})
    return {"model": model, "messages": messages, "max_tokens": B.MAX_NEW, "temperature": 0}


def with_output(body: dict, sample) -> dict:
    """Generation samples ask for their modality, as a client would."""
    if sample.gen is None:
        return body
    if sample.gen[0] == "image":
        return {**body, "modalities": ["text", "image"]}
    return {**body, "modalities": ["text", "audio"], "audio": {"voice": "default", "format": "wav"}}


def send(url: str, path: str, body: dict, timeout: float = 120) -> bytes:
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    for attempt in range(5):
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as e:
            if e.code == 400 and path != "/v1/chat/completions":
                return b""  # the model produced nothing for this prompt: scored as a miss
            if e.code != 429 or attempt == 4:
                raise SystemExit(f"HTTP {e.code}: {e.read().decode(errors='replace')[:500]}")
            time.sleep(0.5)
    raise AssertionError("unreachable")


def post(url: str, body: dict) -> dict:
    return json.loads(send(url, "/v1/chat/completions", body))["choices"][0]["message"]


def png_to_chw(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0


def wav_to_float(wav: bytes) -> np.ndarray:
    import wave
    with wave.open(io.BytesIO(wav)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0


def measure(sample, media: np.ndarray | None) -> bool:
    """The recipe's generation rules (mmtiny.bundle.score), applied to what the server sent."""
    if media is None:
        return False
    if sample.gen[0] == "image":
        return EV.measure_image(media, W.COLOUR_NAMES[sample.gen[1]], W.SHAPES[sample.gen[2]])[0]
    pitch, count = EV.measure_audio(media)
    return pitch == W.PITCH_NAMES[sample.gen[2]] and count == sample.gen[1] + 1


def chat_media(sample, message: dict) -> np.ndarray | None:
    if sample.gen[0] == "image":
        images = message.get("images") or []
        return png_to_chw(base64.b64decode(images[0]["image_url"]["url"].split(",", 1)[1])) if images else None
    audio = message.get("audio")
    wav = wav_to_float(base64.b64decode(audio["data"])) if audio else None
    return wav if wav is not None and len(wav) > 0 else None


def endpoint_score(url: str, model: str, sample) -> bool:
    """The same request through the task endpoint: "a red circle" / "two high beeps"."""
    if sample.gen[0] == "image":
        body = {"model": model, "prompt": f"a {W.COLOUR_NAMES[sample.gen[1]]} {W.SHAPES[sample.gen[2]]}", "response_format": "b64_json"}
        reply = send(url, "/v1/images/generations", body)
        return measure(sample, png_to_chw(base64.b64decode(json.loads(reply)["data"][0]["b64_json"])) if reply else None)
    c, p = sample.gen[1], sample.gen[2]
    what = f"{['one', 'two', 'three'][c]} {W.PITCH_NAMES[p]} beep{'s' if c > 0 else ''}"
    reply = send(url, "/v1/audio/speech", {"model": model, "input": what, "voice": "default", "response_format": "wav"})
    return measure(sample, wav_to_float(reply) if reply else None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--model", default="mmserve-tiny")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--tolerance", type=float, default=1.0, help="allowed difference in points (percent)")
    ap.add_argument("--bundle", default=os.path.join(HERE, "..", "..", "models", "mmserve-tiny"))
    args = ap.parse_args()

    expected = json.load(open(os.path.join(args.bundle, "eval.json")))["tasks"]
    t0 = time.time()
    pools = DA.make_pools(*EVAL_POOLS, log=lambda m: print(m, flush=True))
    samples = list(B.eval_samples(pools, seed=EVAL_SEED))
    print(f"{len(samples)} held-out requests regenerated in {time.time() - t0:.0f}s; sending to {args.url}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        bodies = [with_output(to_request(s, pools, tmp, args.model), s) for s in samples]
    t1 = time.time()
    generation = [s for s in samples if s.gen is not None]
    with ThreadPoolExecutor(args.concurrency) as pool:
        messages = list(pool.map(lambda b: post(args.url, b), bodies))
        via_endpoints = list(pool.map(lambda s: endpoint_score(args.url, args.model, s), generation))
    print(f"answered in {time.time() - t1:.0f}s", flush=True)

    groups: dict[str, list[bool]] = {}
    for s, message in zip(samples, messages):
        if s.gen is None:
            ok = (message["content"] or "").strip() == s.answer
        else:
            ok = measure(s, chat_media(s, message))
        groups.setdefault(B.metric_group(s.task), []).append(ok)
    for s, ok in zip(generation, via_endpoints):
        groups.setdefault(f"{s.task} (endpoint)", []).append(ok)
    failed = False
    print(f"{'task':<29}{'n':>6}{'HTTP':>9}{'eval.json':>11}{'diff (pts)':>12}")
    for g, oks in sorted(groups.items()):
        http = float(np.mean(oks))
        ref = expected[g.removesuffix(" (endpoint)")]["value"]
        diff = (http - ref) * 100
        bad = abs(diff) > args.tolerance
        failed |= bad
        print(f"{g:<29}{len(oks):>6}{http:>9.4f}{ref:>11.4f}{diff:>+12.2f}{'  <-- differs' if bad else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
