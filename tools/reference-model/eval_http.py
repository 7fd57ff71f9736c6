#!/usr/bin/python3
"""Runs mmserve-tiny's held-out evaluation through a running MmServe server and compares it with eval.json.

    /usr/bin/python3 tools/reference-model/eval_http.py --url http://127.0.0.1:8080 [--concurrency 16]

The held-out sets are regenerated from the recipe's seeds (the same pools and questions make_bundle.py scored;
needs espeak-ng, sox and ffmpeg like the recipe, but no training), each request is sent as an OpenAI chat
completion with its media inline (PNG data: URLs, base64 WAV input_audio, lossless MP4 data: URLs), greedy, and
scored with the recipe's own rule (exact answer). Generation tasks are left to the generation endpoints. Prints
HTTP vs eval.json per task and exits 1 if any task differs by more than --tolerance points.
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

from mmtiny import bundle as B, data as DA, world as W  # noqa: E402

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


def post(url: str, body: dict, timeout: float = 120) -> str:
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    for attempt in range(5):
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.load(resp)["choices"][0]["message"]["content"]
        except urllib.error.HTTPError as e:
            if e.code != 429 or attempt == 4:
                raise SystemExit(f"HTTP {e.code}: {e.read().decode(errors='replace')[:500]}")
            time.sleep(0.5)
    raise AssertionError("unreachable")


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
    samples = [s for s in B.eval_samples(pools, seed=EVAL_SEED) if s.gen is None]
    print(f"{len(samples)} held-out requests regenerated in {time.time() - t0:.0f}s; sending to {args.url}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        bodies = [to_request(s, pools, tmp, args.model) for s in samples]
    t1 = time.time()
    with ThreadPoolExecutor(args.concurrency) as pool:
        texts = list(pool.map(lambda b: post(args.url, b), bodies))
    print(f"answered in {time.time() - t1:.0f}s", flush=True)

    groups: dict[str, list[bool]] = {}
    for s, text in zip(samples, texts):
        groups.setdefault(B.metric_group(s.task), []).append(text.strip() == s.answer)
    failed = False
    print(f"{'task':<18}{'n':>6}{'HTTP':>9}{'eval.json':>11}{'diff (pts)':>12}")
    for g, oks in sorted(groups.items()):
        http = float(np.mean(oks))
        ref = expected[g]["value"]
        diff = (http - ref) * 100
        bad = abs(diff) > args.tolerance
        failed |= bad
        print(f"{g:<18}{len(oks):>6}{http:>9.4f}{ref:>11.4f}{diff:>+12.2f}{'  <-- differs' if bad else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
