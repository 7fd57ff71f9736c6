#!/usr/bin/env python3
"""Checks the exported ONNX bundle against PyTorch's saved outputs with Python onnxruntime.

Debian has no Python onnxruntime, so this runs where one exists (the GPU machine; any pip install):
    python3 tools/reference-model/check_onnx.py models/mmserve-tiny [--cuda]
1. every component's reference tensors (golden/components) within tolerance;
2. every golden text case decoded greedily through the ONNX chain (embed -> splice media -> decoder with KV)
   gives exactly PyTorch's token ids, alone and all cases batched together with left padding.
Media preprocessing is not re-done here: it uses the golden preprocessing of the C# tests' inputs, so
cases with media are checked through the encoders starting from the decoded files (PNG via PIL, WAV via wave).
"""
import json
import os
import sys
import wave

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def read_png_rgb(path):
    """8-bit non-interlaced PNG (gray, RGB, RGBA) -> uint8 [H, W, 3]; no PIL needed."""
    import struct
    import zlib
    data = open(path, "rb").read()
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and body[12] == 0, "only 8-bit non-interlaced PNGs"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    ch = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * ch
    out = np.zeros((h, stride), np.int32)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)], np.uint8).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for x in range(stride):
            a = cur[x - ch] if x >= ch else 0
            b = prev[x]
            c = prev[x - ch] if x >= ch else 0
            if f == 0:
                pred = 0
            elif f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + pred) & 255
        out[y] = cur
        prev = cur
    img = out.reshape(h, w, ch).astype(np.uint8)
    return np.repeat(img, 3, axis=2) if ch == 1 else img[:, :, :3]


def main():
    bundle = sys.argv[1]
    cuda = "--cuda" in sys.argv
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else ["CPUExecutionProvider"]
    man = json.load(open(os.path.join(bundle, "manifest.json")))
    sess = {n: ort.InferenceSession(os.path.join(bundle, c["file"]), providers=providers) for n, c in man["components"].items()}
    print("providers:", sess["decoder"].get_providers())
    ok = True
    ref_dir = os.path.join(bundle, "golden", "components")
    idx = json.load(open(os.path.join(ref_dir, "index.json")))
    tol = idx["tolerance"] * (10 if cuda else 1)
    for name, f in idx["cases"].items():
        z = np.load(os.path.join(ref_dir, f))
        if name == "decoder":
            L = man["decoder"]["num_layers"]
            kv = man["decoder"]["num_kv_heads"]
            hd = man["decoder"]["head_dim"]
            empty = {f"past_key_values.{i}.{t}": np.zeros((2, kv, 0, hd), np.float32) for i in range(L) for t in ("key", "value")}
            out = sess["decoder"].run(None, {"inputs_embeds": z["prefill.inputs_embeds"], "attention_mask": z["prefill.attention_mask"],
                                             "position_ids": z["prefill.position_ids"], **empty})
            names = [o.name for o in sess["decoder"].get_outputs()]
            res = dict(zip(names, out))
            diffs = {"prefill.logits": np.abs(res["logits"] - z["prefill.logits"]).max()}
            past = {f"past_key_values.{i}.{t}": res[f"present.{i}.{t}"] for i in range(L) for t in ("key", "value")}
            out2 = dict(zip(names, sess["decoder"].run(None, {"inputs_embeds": z["step.inputs_embeds"], "attention_mask": z["step.attention_mask"],
                                                              "position_ids": z["step.position_ids"], **past})))
            diffs["step.logits"] = np.abs(out2["logits"] - z["step.logits"]).max()
            diffs["step.present.3.value"] = np.abs(out2[f"present.{L-1}.value"] - z[f"step.present.{L-1}.value"]).max()
        else:
            chain = {"image_generation": ["image_output_projector", "image_generator"],
                     "audio_generation": ["audio_output_projector", "audio_generator"]}.get(name, [name])
            diffs = {}
            feed = None
            for comp in chain:
                s = sess[comp]
                inp = s.get_inputs()[0].name
                x = z[inp] if feed is None else feed
                y = s.run(None, {inp: x})[0]
                outname = s.get_outputs()[0].name
                diffs[outname] = np.abs(y - z[outname]).max()
                feed = y
        bad = {k: float(v) for k, v in diffs.items() if not v <= tol}
        print(f"component {name}: max|diff| {max(float(v) for v in diffs.values()):.2e} {'OK' if not bad else 'FAIL ' + str(bad)}")
        ok &= not bad

    from mmtiny import features as FT  # numpy preprocessing (same formulas as the server)
    import shutil
    have_ffmpeg = shutil.which("ffmpeg") is not None
    gdir = os.path.join(bundle, "golden")
    cases = json.load(open(os.path.join(gdir, "cases.json")))["cases"]
    D = man["decoder"]
    eos = set()
    tokdoc = json.load(open(os.path.join(bundle, "tokenizer.json")))
    ids_of = {a["content"]: a["id"] for a in tokdoc["added_tokens"]}
    eos = {ids_of[t] for t in man["tokenizer"]["eos_tokens"]}

    def media_embed(part):
        t = part["type"]
        if t == "image_url":
            rgb = read_png_rgb(os.path.join(gdir, part["image_url"]["url"]))
            f = sess["image_encoder"].run(None, {"pixel_values": FT.image_to_pixels(rgb)[None]})[0]
            return sess["image_projector"].run(None, {"image_features": f})[0][0]
        if t == "input_audio":
            with wave.open(os.path.join(gdir, part["input_audio"]["data"])) as w:
                a = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
            f = sess["audio_encoder"].run(None, {"input_features": FT.log_mel(a)[None]})[0]
            return sess["audio_projector"].run(None, {"audio_features": f})[0][0]
        import subprocess
        raw = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", os.path.join(gdir, part["video_url"]["url"]),
                              "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
        frames = np.frombuffer(raw, np.uint8).reshape(-1, 64, 64, 3)
        pix = np.stack([FT.image_to_pixels(fr) for fr in frames])
        f = sess["image_encoder"].run(None, {"pixel_values": pix})[0]
        return sess["video_projector"].run(None, {"frame_features": f[None]})[0][0]

    def prompt_embeds(case):
        ids = np.array(case["prompt_token_ids"], np.int64)
        emb = sess["embed_tokens"].run(None, {"input_ids": ids[None]})[0][0]
        media = [p for msg in case["messages"] for p in msg["content"] if p["type"] != "text"]
        ph = {ids_of[v["placeholder_token"]]: v["tokens_per_item"] for v in man["input_modalities"].values()}
        k, i = 0, 0
        while i < len(ids):
            if int(ids[i]) in ph:
                n = ph[int(ids[i])]
                emb[i:i + n] = media_embed(media[k])
                k += 1
                i += n
            else:
                i += 1
        return emb

    def decode(rows):
        b = len(rows)
        L = max(r.shape[0] for r in rows)
        emb = np.zeros((b, L, D["hidden_size"]), np.float32)
        mask = np.zeros((b, L), np.int64)
        pos = np.zeros((b, L), np.int64)
        for r, e in enumerate(rows):
            n = e.shape[0]
            emb[r, L - n:], mask[r, L - n:], pos[r, L - n:] = e, 1, np.arange(n)
        past = {f"past_key_values.{i}.{t}": np.zeros((b, D["num_kv_heads"], 0, D["head_dim"]), np.float32)
                for i in range(D["num_layers"]) for t in ("key", "value")}
        names = [o.name for o in sess["decoder"].get_outputs()]
        outs = [[] for _ in range(b)]
        done = [False] * b
        cur = np.array([r.shape[0] for r in rows])
        for step in range(48):
            res = dict(zip(names, sess["decoder"].run(None, {"inputs_embeds": emb, "attention_mask": mask, "position_ids": pos, **past})))
            nxt = res["logits"][:, -1].argmax(-1)
            for r in range(b):
                if not done[r]:
                    outs[r].append(int(nxt[r]))
                    done[r] = int(nxt[r]) in eos
            if all(done):
                break
            past = {f"past_key_values.{i}.{t}": res[f"present.{i}.{t}"] for i in range(D["num_layers"]) for t in ("key", "value")}
            emb = sess["embed_tokens"].run(None, {"input_ids": nxt[:, None].astype(np.int64)})[0]
            mask = np.concatenate([mask, np.ones((b, 1), np.int64)], 1)
            pos = cur[:, None].copy()
            cur += 1
        return outs

    if not have_ffmpeg:
        print("ffmpeg not found: video cases skipped")
        cases = [c for c in cases if not any(p["type"] == "video_url" for m in c["messages"] for p in m["content"])]
    rows = [prompt_embeds(c) for c in cases]
    alone = [decode([r])[0] for r in rows]
    batched = decode(rows)
    n_alone = sum(a == c["completion_token_ids"] for a, c in zip(alone, cases))
    n_batch = sum(a == c["completion_token_ids"] for a, c in zip(batched, cases))
    print(f"golden cases exact through ONNX: alone {n_alone}/{len(cases)}, batched {n_batch}/{len(cases)}")
    for a, c in zip(alone, cases):
        if a != c["completion_token_ids"]:
            print("  MISMATCH", c["id"], a, c["completion_token_ids"])
    ok &= n_alone == len(cases) and n_batch == len(cases)
    print("ALL OK" if ok else "FAILURES")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
