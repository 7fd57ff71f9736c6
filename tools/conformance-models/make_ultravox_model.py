#!/usr/bin/python3
"""Builds the Ultravox conformance model (models/conformance/tiny-ultravox), its cases, goldens and processor
fixtures, deterministically, in one command (from the repository root):

    /usr/bin/python3 tools/conformance-models/make_ultravox_model.py [--seed N] [--no-goldens]

1. tokenizer + configs: the repo's llama3-style fixture with Llama 3's specials, then Ultravox's "<|audio|>" right
   after them (128256 in fixie-ai/ultravox-v0_5-llama-3_1-8b), Llama 3.1's chat template, Ultravox's config fields;
2. the case list (tests/conformance/cases/tiny-ultravox.json) over tiny-whisper's clips (tests/conformance/audio/,
   1-30 s, 8/16/44.1 kHz, WAV/MP3/FLAC), one or two clips per prompt;
3. the model, NOT trained: fixed-seed random weights with the LM head scaled up so greedy choices are confident
   (large top-1 minus top-2 margins) and depend on the audio; answers are gibberish, the wiring is what is checked;
4. ONNX export (onnx/audio_encoder.onnx, onnx/embed_tokens.onnx, onnx/decoder_model_merged.onnx);
5. goldens + processor fixtures from transformers.js (oracle/generate-ultravox.mjs golden);
6. the check: PyTorch, fed transformers.js's own input_features and prompt ids, picks the same greedy tokens with a
   top-1 minus top-2 logit margin >= MIN_MARGIN at every step of every case (else the next seed is tried).

Needs Debian's python3-torch, python3-onnx, python3-numpy (hence /usr/bin/python3), ffmpeg, and Node with
`npm ci --ignore-scripts --prefix tools/conformance-models/oracle` done.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from speech.ultravox_net import AudioEncoder, export_audio_encoder  # noqa: E402
from textmodels import tokenizers as TK  # noqa: E402
from vision.tok import write_json as dump  # noqa: E402
from vision.export import export_decoder, export_embed_tokens  # noqa: E402
from vision.nets import Decoder  # noqa: E402

NAME = "tiny-ultravox"
MODEL_DIR = ROOT / "models" / "conformance" / NAME
CONF = ROOT / "tests" / "conformance"
CASES = CONF / "cases" / f"{NAME}.json"
WORK = HERE / "work" / NAME
MIN_MARGIN = 0.02
MAX_NEW_TOKENS = 16
LOGIT_SCALE = 200.0     # on the LM head: random logits with a spread of ~100, so near-ties are rare
AUDIO_SCALE = 4.0       # on the projector output: audio embeddings outweigh the text around them
AUDIO_TOKEN = "<|audio|>"
STACK, DS_FACTOR = 8, 320


def log(msg: str) -> None:
    print(f"[{NAME}] {msg}", flush=True)


def build_tokenizer():
    tok = TK.llama3()
    audio_id = tok.size
    entry = TK.added(audio_id, AUDIO_TOKEN)
    tok.tokenizer_json["added_tokens"].append(entry)
    tok.tokenizer_config["added_tokens_decoder"][str(audio_id)] = TK.decoder_entry(entry)
    tok.tokenizer_config["processor_class"] = "UltravoxProcessor"
    return TK.Tok(tok.tokenizer_json, tok.tokenizer_config, tok.special_tokens_map)


def build_configs(tok):
    ids = tok.ids
    text = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
        "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "max_position_embeddings": 2048,
        "vocab_size": tok.size, "bos_token_id": ids["<|begin_of_text|>"],
        "eos_token_id": [ids["<|end_of_text|>"], ids["<|eom_id|>"], ids["<|eot_id|>"]],
        "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False, "torch_dtype": "float32",
    }
    audio = {
        "architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper", "d_model": 32,
        "encoder_layers": 1, "encoder_attention_heads": 2, "encoder_ffn_dim": 64, "num_mel_bins": 80,
        "max_source_positions": 1500, "activation_function": "gelu", "torch_dtype": "float32",
    }
    # fixie-ai/ultravox-v0_5-*'s fields. Its "ignore_index": -100 is left out: transformers.js 4.3.1 reads
    # ignore_index before audio_token_index as the audio token id, which would match no position.
    config = {
        "architectures": ["UltravoxModel"], "model_type": "ultravox", "audio_config": audio, "text_config": text,
        "audio_model_id": "openai/whisper-large-v3-turbo", "text_model_id": "meta-llama/Llama-3.1-8B-Instruct",
        "audio_token_index": ids[AUDIO_TOKEN], "hidden_size": 128, "stack_factor": STACK, "norm_init": 0.4,
        "projector_act": "swiglu", "projector_ln_mid": True, "vocab_size": tok.size, "pad_token_id": ids["<|eot_id|>"],
        "initializer_range": 0.02, "torch_dtype": "float32", "transformers_version": "4.47.0",
    }
    generation = {"bos_token_id": text["bos_token_id"], "eos_token_id": text["eos_token_id"], "do_sample": False,
                  "transformers_version": "4.47.0"}
    preprocessor = {
        "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 80, "sampling_rate": 16000,
        "hop_length": 160, "n_fft": 400, "chunk_length": 30, "n_samples": 480000, "nb_max_frames": 3000,
        "padding_side": "right", "padding_value": 0.0, "return_attention_mask": False,
        "processor_class": "UltravoxProcessor",
    }
    processor = {"audio_context_size": 3000, "audio_padding": "longest", "audio_placeholder": AUDIO_TOKEN,
                 "encoder_ds_factor": DS_FACTOR, "stack_factor": STACK, "processor_class": "UltravoxProcessor"}
    return config, generation, preprocessor, processor


# (clip, question before or after the clip); all 22 of tiny-whisper's clips, 1-30 s
SINGLE = [
    ("beeps2-high-16k.wav", "What do you hear?"), ("beeps3-low-8k.wav", "Describe the sound."),
    ("beeps1-mid-44k.wav", "How many beeps?"), ("beeps4-high-8k.flac", "What do you hear?"),
    ("beeps2-low-44k.mp3", "Is it high or low?"), ("beeps3-mid-16k.mp3", "Describe the sound."),
    ("beeps1-low-16k.flac", "What do you hear?"), ("tone-low-16k.wav", "Describe the sound."),
    ("tone-high-44k.flac", "Is it high or low?"), ("tone-mid-8k.mp3", "What do you hear?"),
    ("rising-16k.flac", "Describe the sound."), ("rising-44k.mp3", "Does the pitch rise or fall?"),
    ("falling-8k.wav", "Does the pitch rise or fall?"), ("falling-44k.flac", "What do you hear?"),
    ("noise-16k.wav", "Describe the sound."), ("noise-8k.mp3", "What do you hear?"),
    ("noise-44k.wav", "Is this noise?"), ("silence-16k.wav", "What do you hear?"),
    ("silence-8k.flac", "Describe the sound."), ("beeps4-low-44k.mp3", "How many beeps?"),
    ("tone-mid-16k.flac", "What do you hear?"), ("beeps2-mid-8k.mp3", "Describe the sound."),
]
PAIRS = [
    ("beeps2-high-16k.wav", "tone-low-16k.wav", "Which clip is higher?"),
    ("rising-44k.mp3", "falling-8k.wav", "Compare the two clips."),
    ("noise-16k.wav", "silence-8k.flac", "Which one is louder?"),
    ("beeps1-mid-44k.wav", "beeps1-mid-44k.wav", "Are they the same?"),
]
FIXTURE_CLIPS = ["beeps2-high-16k.wav", "beeps3-low-8k.wav", "falling-44k.flac", "beeps2-low-44k.mp3"]


def audio_part() -> dict:
    return {"type": "audio"}


def text_part(t: str) -> dict:
    return {"type": "text", "text": t}


README = """# tiny-ultravox — a conformance model in the `ultravox` (fixie-ai Ultravox on Llama 3, onnx-community) ONNX layout

A tiny Ultravox with the file layout, configs (`config.json` with `audio_config` / `text_config`,
`processor_config.json` with `audio_placeholder`, `encoder_ds_factor`, `stack_factor`), Llama 3 tokenizer layout with
`<|audio|>`, Llama 3.1's chat template and ONNX I/O contract (`onnx/audio_encoder.onnx` with `audio_values`
[batch, 80, frames] -> `audio_features` [batch, tokens, 64], `onnx/embed_tokens.onnx`, `onnx/decoder_model_merged.onnx`)
of a transformers.js export. Random weights (fixed seed, not trained): the answers are gibberish, but confident and
audio-dependent. It exists to check that MmServe runs an `ultravox` folder as transformers.js 4.3.1 does
(`AutoModelForAudioTextToText`).

Made by `tools/conformance-models/make_ultravox_model.py`; contract, processor, cases, goldens and fixtures:
`tools/conformance-models/README-part2.md`. Goldens: `tests/conformance/goldens/tiny-ultravox.json`.
"""


def make_cases():
    cases = []
    for k, (clip, q) in enumerate(SINGLE, 1):
        parts = [audio_part(), text_part(q)] if k % 3 else [text_part(q), audio_part()]
        messages = [{"role": "user", "content": parts}]
        if k == 5:
            messages.insert(0, {"role": "system", "content": "You are a friendly and helpful character."})
        cases.append({"id": f"u{k:02d}", "messages": messages, "media": [{"type": "audio", "path": f"audio/{clip}"}]})
    for a, b, q in PAIRS:
        k = len(cases) + 1
        cases.append({"id": f"u{k:02d}", "messages": [{"role": "user", "content": [audio_part(), audio_part(), text_part(q)]}],
                      "media": [{"type": "audio", "path": f"audio/{a}"}, {"type": "audio", "path": f"audio/{b}"}]})
    # a follow-up turn with a clip in each user turn, and one text-only prompt
    cases.append({"id": f"u{len(cases) + 1:02d}", "messages": [
        {"role": "user", "content": [audio_part(), text_part("What do you hear?")]},
        {"role": "assistant", "content": "Two high beeps."},
        {"role": "user", "content": [text_part("And now?"), audio_part()]}],
        "media": [{"type": "audio", "path": "audio/beeps2-high-16k.wav"}, {"type": "audio", "path": "audio/tone-mid-16k.flac"}]})
    cases.append({"id": f"u{len(cases) + 1:02d}", "messages": [{"role": "user", "content": "Say something."}], "media": []})
    dump(CASES, {"model": NAME, "kind": "ultravox", "max_new_tokens": MAX_NEW_TOKENS,
                 "decode": "ffmpeg -i FILE -vn -af aresample=16000:resampler=soxr:precision=28 -ac 1 -c:a pcm_f32le -f f32le -",
                 "fixtures": [f"audio/{f}" for f in FIXTURE_CLIPS], "cases": cases})
    return cases


def build_model(config, seed):
    torch.manual_seed(seed)
    text = config["text_config"]
    dec = Decoder(text, fused=False).eval()
    with torch.no_grad():
        dec.lm_head.weight.mul_(LOGIT_SCALE)
    enc = AudioEncoder(config["audio_config"], STACK, config["hidden_size"], text["hidden_size"]).eval()
    with torch.no_grad():
        enc.projector.linear_2.weight.mul_(AUDIO_SCALE)
    return enc, dec


def export(enc, dec):
    onnx_dir = MODEL_DIR / "onnx"
    export_audio_encoder(enc, onnx_dir / "audio_encoder.onnx")
    export_embed_tokens(dec.embed_tokens, onnx_dir / "embed_tokens.onnx")
    export_decoder(dec, onnx_dir / "decoder_model_merged.onnx")


def greedy(enc, dec, prompt_ids, clips, audio_id, eos, max_new):
    """PyTorch greedy decode (full recompute each step) on the oracle's features; returns ids and the min margin."""
    with torch.no_grad():
        ids = torch.tensor([prompt_ids])
        x = dec.embed_tokens(ids)
        if clips:
            feats = torch.cat([enc(torch.from_numpy(c)[None])[0] for c in clips], dim=0)
            pos = (ids[0] == audio_id).nonzero()[:, 0]
            assert len(pos) == feats.shape[0], (len(pos), feats.shape)
            x[0, pos] = feats
        out, margin = [], float("inf")
        for _ in range(max_new):
            s = x.shape[1]
            logits, _ = dec(x, torch.ones(1, s, dtype=torch.long), torch.arange(s)[None], dec.empty_past(1))
            top = torch.topk(logits[0, -1], 2)
            margin = min(margin, float(top.values[0] - top.values[1]))
            nxt = int(top.indices[0])
            out.append(nxt)
            if nxt in eos:
                break
            x = torch.cat([x, dec.embed_tokens(torch.tensor([[nxt]]))], dim=1)
    return out, margin


def check(enc, dec, config, features_dir):
    golden = json.loads((CONF / "goldens" / f"{NAME}.json").read_text())
    audio_id = config["audio_token_index"]
    eos = set(config["text_config"]["eos_token_id"])
    worst, mismatches, texts = float("inf"), [], set()
    for c in golden["cases"]:
        clips = []
        for k, m in enumerate(c["media"]):
            raw = np.fromfile(features_dir / f"{c['id']}.{k}.f32", dtype=np.float32)
            clips.append(raw.reshape(80, m["frames"]))
        ids, margin = greedy(enc, dec, c["prompt_ids"], clips, audio_id, eos, golden["max_new_tokens"])
        worst = min(worst, margin)
        texts.add(tuple(c["output_ids"]))
        if ids != c["output_ids"]:
            mismatches.append(c["id"])
        log(f"{c['id']}: margin {margin:.3f}{'' if ids == c['output_ids'] else ' MISMATCH'}")
    log(f"min margin {worst:.4f}; {len(texts)} distinct outputs over {len(golden['cases'])} cases; mismatches {mismatches}")
    return not mismatches and worst >= MIN_MARGIN


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2)  # the first seed that passes the check
    ap.add_argument("--tries", type=int, default=5)
    ap.add_argument("--no-goldens", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    tok = build_tokenizer()
    config, generation, preprocessor, processor = build_configs(tok)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    tok.write(str(MODEL_DIR))
    for name, obj in (("config.json", config), ("generation_config.json", generation),
                      ("preprocessor_config.json", preprocessor), ("processor_config.json", processor)):
        dump(MODEL_DIR / name, obj)
    (MODEL_DIR / "README.md").write_text(README, encoding="utf-8")
    make_cases()
    for seed in range(args.seed, args.seed + args.tries):
        log(f"seed {seed}")
        enc, dec = build_model(config, seed)
        export(enc, dec)
        if args.no_goldens:
            return
        features = WORK / "features"
        subprocess.run(["node", str(HERE / "oracle" / "generate-ultravox.mjs"), "golden", "--features-dir", str(features)],
                       check=True, cwd=ROOT)
        if check(enc, dec, config, features):
            log(f"done with seed {seed}")
            return
    sys.exit(f"no seed in {args.seed}..{args.seed + args.tries - 1} passed the check")


if __name__ == "__main__":
    main()
