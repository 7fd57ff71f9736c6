#!/usr/bin/python3
"""mmserve-tiny-tools: mmserve-tiny fine-tuned to call tools (count_shapes, zoom, play_tone) and answer from results.

    /usr/bin/python3 tools/reference-model/make_tools_bundle.py [--steps 900] [--out models/mmserve-tiny-tools]

Starts from the committed mmserve-tiny bundle's weights (mmtiny.from_bundle), fine-tunes the LLM backbone on the
tasks of mmtiny/tool_tasks.py (encoders and projectors stay frozen), evaluates the held-out set, exports an
image + text bundle with golden cases and the held-out tool set (golden/tools_heldout.json) the C# tests replay.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see make_bundle.py: OpenBLAS threads on top of torch's oversubscribe

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmtiny import bundle as B, data as DA, evaluate as EV, export as EX, from_bundle, tool_tasks as TT, train as TR  # noqa: E402
from mmtiny import run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_NEW = 96  # a call is ~66 tokens in mmserve-tiny's byte-level vocabulary
KEEP = ["embed_tokens", "decoder", "image_encoder", "image_projector"]  # the image + text parts this model uses
MIX = {"call": 5, "answer": 3, "no_fit": 1, "not_offered": 1, "plain": 0.5}


def sampler(rng, pools, mix):
    kind = list(mix)[int(rng.choice(len(mix), p=np.array(list(mix.values())) / sum(mix.values())))]
    if kind == "plain":  # mmserve-tiny's own image and text tasks without tools, so they are not forgotten
        return TR.sample_task(rng, pools, {"image": 2, "text": 1})
    return TT.sample_mix(rng, pools, {kind: 1})


def image_features(m, pools):
    with torch.no_grad():
        pix = torch.tensor(DA.pixels(np.stack([im for im, _ in pools.images])))
        return SimpleNamespace(image=torch.cat([m.image_encoder(pix[i:i + 512]) for i in range(0, len(pix), 512)]), audio=None, video=None)


def score(samples, results):
    """Per case: the call (name + arguments) when one is expected, no call otherwise, the exact answer after a result."""
    oks, groups = [], {}
    for s, r in zip(samples, results):
        calls = TT.parse_calls(r["text"])
        if s.task.startswith("tool_call_"):
            ok, g = calls == [(s.meta["call"]["name"], s.meta["call"]["arguments"])], "tool_call"
        elif s.task.startswith("tool_answer_"):
            ok, g = not calls and r["text"].strip() == s.answer, "answer_from_result"
        else:
            ok, g = not calls and r["text"].strip() == s.answer, "no_call"
        oks.append(ok)
        groups.setdefault(g, []).append(ok)
    return oks, {g: {"value": round(float(np.mean(v)), 4), "n": len(v)} for g, v in sorted(groups.items())}


def openai_messages(s) -> tuple[list, list]:
    """The OpenAI request for a sample: (messages, tools); the leading "Tools:" system turn becomes the tools array."""
    messages = []
    for role, parts in s.turns:
        text = parts[0][1] if parts[0][0] == "text" else None
        if role == "system" and text and text.startswith(TT.TOOLS_PREFIX):
            continue
        if role == "assistant":
            name, args = TT.parse_calls(text)[0]
            messages.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]})
        elif role == "tool":
            messages.append({"role": "tool", "tool_call_id": "call_1", "content": text})
        else:
            messages.append({"role": role, "content": [{"type": "text", "text": v} if k == "text" else
                                                       {"type": "image_url", "image_url": {"url": f"media/image_{v:04d}.png"}} for k, v in parts]})
    return messages, [TT.tool_schema(n) for n in s.meta["tools"]]


def write_heldout(samples, results, pools, gdir):
    cases = []
    for k, (s, r) in enumerate(zip(samples, results)):
        messages, tools = openai_messages(s)
        img = next((v for _, parts in s.turns for kind, v in parts if kind == "image"), None)
        if img is not None and not os.path.exists(os.path.join(gdir, f"media/image_{img:04d}.png")):
            open(os.path.join(gdir, f"media/image_{img:04d}.png"), "wb").write(B.png_bytes(pools.images[img][0]))
        cases.append({"id": f"{s.task}_{k:03d}", "task": s.task, "messages": messages, "tools": tools,
                      "expected_call": s.meta["call"] if s.task.startswith("tool_call_") else None,
                      "scene": TT.scene_json(pools.images[img][1]) if img is not None else None,
                      "expected_answer": None if s.task.startswith("tool_call_") else s.answer,
                      "prompt_token_ids": r["prompt_ids"],
                      "reference_text": r["text"]})
    with open(os.path.join(gdir, "tools_heldout.json"), "w") as f:
        json.dump({"note": "held-out tool cases from their own seeds; expected_call is the tool + arguments the question "
                   "asks for, expected_answer the answer (plain cases, or after the tool result in the messages); scene is the "
                   "image's ground truth the tools run on (tool_tasks.run_tool)", "cases": cases}, f, indent=1)
    return len(cases)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--base", default=os.path.join(HERE, "..", "..", "models", "mmserve-tiny"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "mmserve-tiny-tools"))
    ap.add_argument("--work", default=os.path.join(HERE, "work", "tools"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint", default=None, help="a fine-tuned state dict (work/tools/mmtiny-tools.pt): skip training")
    args = ap.parse_args()
    log, t0 = run.start(args.work, args.threads)

    m, tok = from_bundle.load(args.base)
    log(f"loaded {args.base}: worst difference against its golden tensors {from_bundle.check_against_golden(m, args.base):.1e}")
    eval_pools = DA.make_pools(4100, 120, 0, 0, 0, log)
    eval_feats = image_features(m, eval_pools)
    if args.checkpoint:
        m.load_state_dict(torch.load(args.checkpoint))
        log(f"loaded the fine-tuned weights of {args.checkpoint}")
    else:
        for p in m.parameters():
            p.requires_grad_(False)
        m.llm.requires_grad_(True)
        train_pools = DA.make_pools(3100, 1500, 0, 0, 0, log)
        train_feats = image_features(m, train_pools)
        log("fine-tuning the LLM backbone on tool tasks")
        TR.train_llm_stage("tools", m, tok, train_pools, train_feats, list(m.llm.parameters()), args.steps, 2e-3, MIX, args.batch, log,
                           seed=31, sampler=sampler)
        torch.save(m.state_dict(), os.path.join(args.work, "mmtiny-tools.pt"))
        log(f"training done in {time.time() - t0:.0f}s")
    m.eval()

    sent = TT.heldout(np.random.default_rng(4200), eval_pools, 300)  # tool results as clients send them
    samples = [TT.as_served(s) for s in sent]  # and as the server shows them to the model
    results = EV.run_samples(m, tok, samples, eval_feats, batch=50, max_new=MAX_NEW)
    oks, report = score(samples, results)
    for g, v in report.items():
        log(f"  {g}: {v['value']:.4f} (n={v['n']})")
    log(f"longest held-out sequence: {max(len(r['prompt_ids']) + len(r['ids']) for r in results)} tokens")
    finish(m, tok, sent, samples, results, oks, report, eval_pools, eval_feats, args.out, log)
    log(f"all done in {time.time() - t0:.0f}s")


def finish(m, tok, sent, samples, results, oks, report, pools, feats, out, log):
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        p = os.path.join(out, f)
        __import__("shutil").rmtree(p) if os.path.isdir(p) else os.remove(p)
    check = B.batch_check(m, tok, samples[::25][:12], feats, log)
    with open(os.path.join(out, "eval.json"), "w") as f:
        json.dump({"model": "mmserve-tiny-tools", "decoding": "greedy", "heldout": "golden/tools_heldout.json",
                   "metrics": {"tool_call": "exact tool name + arguments", "no_call": "no call and the exact plain answer",
                               "answer_from_result": "exact answer after the tool result"},
                   "tasks": report, "checks": {"batched_equals_single": check}}, f, indent=1)
    comps = {k: v for k, v in EX.export_all(m, out, len(tok.vocab)).items() if k in KEEP}
    for f in os.listdir(out):
        if f.endswith(".onnx") and f[:-5] not in KEEP:
            os.remove(os.path.join(out, f))
    tok.save_hf(os.path.join(out, "tokenizer.json"))
    man = B.manifest(comps, len(tok.vocab))
    man["id"] = "mmserve-tiny-tools"
    # A second turn holds the first one's prompt, the ~66-token call and the result (~200 tokens); clients send the same
    # max_tokens for both turns (Microsoft.Extensions.AI's loop does), so 256 would refuse the answer turn. The decoder
    # has no position table (RoPE), and the answers stay short.
    man["max_context"] = 512
    man["description"] = ("mmserve-tiny fine-tuned to call tools over its synthetic world (count_shapes, zoom, play_tone) and "
                          "answer from their results (tools/reference-model/make_tools_bundle.py). Text and image input.")
    man["input_modalities"] = {"image": man["input_modalities"]["image"]}
    man["output_modalities"] = {}
    man["chat_template"].pop("file")
    man["chat_template"]["tools"] = {"system_prefix": TT.TOOLS_PREFIX, "call_format": TT.CALL_FORMAT}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)
    # golden greedy cases (margin >= 1 at every step), rewritten as OpenAI requests with tools and tool messages
    cases = B.write_golden(m, tok, samples, results, oks, pools, out, log)
    for c, i in zip(cases, B.golden_picks(tok, samples, results, oks)):
        c["messages"], c["tools"] = openai_messages(sent[i])
        c["max_tokens"] = MAX_NEW
    gdir = os.path.join(out, "golden")
    with open(os.path.join(gdir, "cases.json")) as f:
        doc = json.load(f)
    doc["cases"] = cases
    with open(os.path.join(gdir, "cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
    log(f"held-out tool cases: {write_heldout(sent, results, pools, gdir)}")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    log(f"bundle size {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
