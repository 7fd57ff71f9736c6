"""Helpers shared by the visual-expert (CogVLM) and tensor-modality (ImageBind) conformance recipes.

Both start from mmserve-tiny's trained parts (mmtiny.from_bundle) and differ from its token-injection decoding only in
two per-row inputs: explicit prompt positions and, for the visual expert, token types. So one greedy loop, one
training-batch builder, one held-out scorer and one golden writer serve both; each family supplies how a sample's
media become embeddings (and token types / positions).
"""
from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import torch
import torch.nn.functional as F

from mmtiny import bundle as MB
from mmtiny import tasks as T
from mmtiny.train import check_finite, cosine_lr

GOLDEN_MARGIN = MB.GOLDEN_MARGIN
MAX_NEW = 24  # every answer of these tasks is a few words


def make_logger(work: str, name: str):
    os.makedirs(work, exist_ok=True)
    f = open(os.path.join(work, f"{name}.log"), "a")
    t0 = time.time()

    def log(msg: str) -> None:
        line = f"[{time.time() - t0:7.1f}s] {msg}"
        print(line, flush=True)
        f.write(line + "\n")
        f.flush()

    return log


def deterministic() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


class Row:
    """One prompt ready for the decoder: embeddings [S, D], positions [S], token types [S] (None: all text)."""

    def __init__(self, ids, emb, positions, token_types=None):
        self.ids = ids
        self.emb = emb
        self.positions = positions
        self.token_types = token_types


@torch.no_grad()
def greedy(forward, embed, rows: list[Row], eos: set[int], max_new: int = MAX_NEW):
    """Left-padded batched greedy decoding, as the server does it.

    forward(emb, mask, pos, types, past) -> (logits, hidden, presents); types is None when no row has token types.
    Decode steps are text (type 0) at position last prompt position + 1, + 2, ... (CogVLM: the prompt may hold
    fewer positions than tokens). Returns per row: generated ids (EOS kept) and the top-1/top-2 margins per step.
    """
    b = len(rows)
    L = max(r.emb.shape[0] for r in rows)
    d = rows[0].emb.shape[1]
    with_types = any(r.token_types is not None for r in rows)
    emb = torch.zeros(b, L, d)
    mask = torch.zeros(b, L, dtype=torch.long)
    pos = torch.zeros(b, L, dtype=torch.long)
    types = torch.zeros(b, L, dtype=torch.long) if with_types else None
    for i, r in enumerate(rows):
        n = r.emb.shape[0]
        emb[i, L - n:] = r.emb
        mask[i, L - n:] = 1
        pos[i, L - n:] = r.positions
        if with_types and r.token_types is not None:
            types[i, L - n:] = r.token_types
    logits, _, past = forward(emb, mask, pos, types, None)
    next_pos = torch.tensor([int(r.positions[-1]) + 1 for r in rows])
    out, margins, done = [[] for _ in range(b)], [[] for _ in range(b)], [False] * b
    last = logits[:, -1]
    for _ in range(max_new):
        top2 = torch.topk(last, 2, dim=-1)
        nxt = top2.indices[:, 0]
        for i in range(b):
            if not done[i]:
                out[i].append(int(nxt[i]))
                margins[i].append(float(top2.values[i, 0] - top2.values[i, 1]))
                done[i] = out[i][-1] in eos
        if all(done):
            break
        mask = torch.cat([mask, torch.ones(b, 1, dtype=torch.long)], dim=1)
        step_types = torch.zeros(b, 1, dtype=torch.long) if with_types else None
        logits, _, past = forward(embed(nxt)[:, None], mask, next_pos[:, None].clone(), step_types, past)
        next_pos += 1
        last = logits[:, -1]
    return out, margins


def run_samples(forward, embed, tok, samples, make_row, batch: int = 48, max_new: int = MAX_NEW):
    """Greedy results per sample: dict(prompt_ids, ids, margins, text)."""
    eos = {tok.token_id(T.IM_END), tok.token_id(T.EOT)}
    results = []
    for i in range(0, len(samples), batch):
        rows = [make_row(s) for s in samples[i:i + batch]]
        outs, margins = greedy(forward, embed, rows, eos, max_new)
        for r, o, mg in zip(rows, outs, margins):
            results.append({"prompt_ids": r.ids, "ids": o, "margins": mg, "text": tok.decode(o, skip_special=True)})
    return results


def score(samples, results, group) -> tuple[dict, list[bool]]:
    """Exact-answer accuracy per metric group (group(task) names it)."""
    groups: dict[str, list[bool]] = {}
    oks = []
    for s, r in zip(samples, results):
        ok = r["text"].strip() == s.answer
        oks.append(ok)
        groups.setdefault(group(s.task), []).append(ok)
    report = {g: {"metric": "exact answer", "value": round(float(np.mean(v)), 4), "n": len(v)} for g, v in sorted(groups.items())}
    return report, oks


def batch_check(forward, embed, tok, samples, make_row, log) -> dict:
    """Rows of different lengths decoded in one left-padded batch must equal each row decoded alone."""
    batched = run_samples(forward, embed, tok, samples, make_row, batch=len(samples))
    alone = [run_samples(forward, embed, tok, [s], make_row, batch=1)[0] for s in samples]
    same = all(a["ids"] == b["ids"] for a, b in zip(batched, alone))
    lens = sorted({len(r["prompt_ids"]) for r in batched})
    log(f"batch check: {len(samples)} rows with prompt lengths {lens}: identical tokens = {same}")
    if not same:
        raise SystemExit("batched decoding differs from single-row decoding")
    return {"rows": len(samples), "prompt_lengths": lens, "identical_tokens": same}


def right_padded_batch(tok, samples, make_row):
    """Training batch: rows right-padded; labels on the answer tokens only."""
    rows, labels = [], []
    for s in samples:
        ans = T.answer_ids(tok, s.answer)
        r = make_row(s, answer=ans)
        n_prompt = len(r.ids) - len(ans)
        rows.append(r)
        labels.append([-100] * (n_prompt - 1) + ans + [-100])
    L = max(r.emb.shape[0] for r in rows)
    b, d = len(rows), rows[0].emb.shape[1]
    emb = torch.zeros(b, L, d)
    mask = torch.zeros(b, L, dtype=torch.long)
    pos = torch.zeros(b, L, dtype=torch.long)
    types = torch.zeros(b, L, dtype=torch.long)
    lab = torch.full((b, L), -100, dtype=torch.long)
    for i, r in enumerate(rows):
        n = r.emb.shape[0]
        emb[i, :n] = r.emb
        mask[i, :n] = 1
        pos[i, :n] = r.positions
        if r.token_types is not None:
            types[i, :n] = r.token_types
        lab[i, :n] = torch.tensor(labels[i])
    return emb, mask, pos, types, lab


def train(name, forward, tok, params, sample_fn, make_row, steps, lr, batch, log, seed=0):
    """AdamW with mmtiny's warmup + cosine schedule on the answer-token loss."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    rng = np.random.default_rng(seed)
    t0 = time.time()
    for step in range(steps):
        cosine_lr(opt, lr, step, steps, warmup=30)
        emb, mask, pos, types, lab = right_padded_batch(tok, [sample_fn(rng) for _ in range(batch)], make_row)
        logits, _, _ = forward(emb, mask, pos, types, None)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), lab.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        check_finite(loss, name)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            log(f"  {name} step {step}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f}s)")


def clear_bundle_dir(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        p = os.path.join(out, f)
        if f != "README.md":
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)


def golden_picks(tok, samples, results, oks, per_task: int) -> list[int]:
    """Correct cases that end in <|im_end|> with a top-1/top-2 margin >= GOLDEN_MARGIN at every step."""
    by_task: dict[str, list[int]] = {}
    for i, (s, r) in enumerate(zip(samples, results)):
        if oks[i] and r["ids"] and min(r["margins"]) >= GOLDEN_MARGIN and r["ids"][-1] == tok.token_id(T.IM_END):
            by_task.setdefault(s.task, []).append(i)
    return [i for task in sorted(by_task) for i in by_task[task][:per_task]]


def write_golden(out: str, tok, samples, results, oks, per_task: int, write_part, log, min_cases: int = 30) -> list:
    """golden/cases.json in mmserve-tiny's format; write_part(kind, value, gdir) saves a media file, returns its part."""
    gdir = os.path.join(out, "golden")
    shutil.rmtree(gdir, ignore_errors=True)
    os.makedirs(os.path.join(gdir, "media"))
    cases = []
    for i in golden_picks(tok, samples, results, oks, per_task):
        s, r = samples[i], results[i]
        messages = []
        for role, parts in s.turns:
            content = [{"type": "text", "text": v} if k == "text" else write_part(k, v, gdir) for k, v in parts]
            messages.append({"role": role, "content": content})
        cases.append({"id": f"{s.task}_{len(cases):03d}", "task": s.task, "messages": messages, "max_tokens": MAX_NEW,
                      "prompt_token_ids": r["prompt_ids"], "completion_token_ids": r["ids"], "completion_text": r["text"],
                      "finish_reason": "stop", "min_logit_margin": round(min(r["margins"]), 3)})
    with open(os.path.join(gdir, "cases.json"), "w") as f:
        json.dump({"margin_threshold": GOLDEN_MARGIN, "note": "media urls/data are paths relative to this folder; "
                   "tests inline them as data: URLs / base64", "cases": cases}, f, indent=1)
    log(f"golden: {len(cases)} cases over {len({c['task'] for c in cases})} tasks")
    if len(cases) < min_cases:
        raise SystemExit(f"only {len(cases)} golden cases (need >= {min_cases})")
    return cases


def bundle_size_mb(out: str) -> float:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs) / 1e6


def export_decoder(module, out: str, vocab: int, token_types: bool) -> dict:
    """decoder.onnx with mmserve-tiny's tensor names (mmtiny.export), plus token_type_ids [batch, sequence] after
    position_ids when token_types; returns its manifest component entry."""
    from mmtiny import export as EX
    from mmtiny import model as M

    B = "batch"

    spec = EX.spec

    past_names, present_names, dyn = EX.decoder_io_axes(B)
    b, s, p = 2, 3, 4
    head = [torch.randn(b, s, M.D_MODEL), torch.ones(b, p + s, dtype=torch.long), torch.arange(p, p + s)[None].repeat(b, 1)]
    head_specs = [spec("inputs_embeds", "float32", [B, "sequence", M.D_MODEL]), spec("attention_mask", "int64", [B, "total_sequence"]),
                  spec("position_ids", "int64", [B, "sequence"])]
    if token_types:
        head.append(torch.tensor([[0, 1, 1], [1, 1, 0]]))
        head_specs.append(spec("token_type_ids", "int64", [B, "sequence"]))
        dyn["token_type_ids"] = {0: B, 1: "sequence"}
    args = (*head, *[torch.randn(b, M.N_KV_HEADS, p, M.HEAD_DIM) for _ in range(2 * M.N_LAYERS)])
    kv_shape = lambda seq: [B, M.N_KV_HEADS, seq, M.HEAD_DIM]  # noqa: E731
    ins = [*head_specs, *[spec(n, "float32", kv_shape("past_sequence")) for n in past_names]]
    outs = [spec("logits", "float32", [B, "sequence", vocab]), spec("last_hidden_state", "float32", [B, "sequence", M.D_MODEL]),
            *[spec(n, "float32", kv_shape("total_sequence")) for n in present_names]]
    EX._export(module, args, os.path.join(out, "decoder.onnx"), [i["name"] for i in ins], [o["name"] for o in outs], dyn)
    return {"file": "decoder.onnx", "inputs": ins, "outputs": outs}


def evaluate_and_write(name, forward, embed, tok, samples, make_row, group, out, export_fn, manifest_fn, chat_template,
                       per_task, write_part, log, min_golden: int = 30) -> dict:
    """Held-out greedy evaluation, the batched-vs-single check, then the bundle: eval.json, the ONNX components
    (export_fn(out) returns the manifest's components), tokenizer, chat template, manifest, golden cases."""
    with torch.no_grad():
        results = run_samples(forward, embed, tok, samples, make_row)
        report, oks = score(samples, results, group)
        for g, v in report.items():
            log(f"  {g}: {v['value']:.4f} (n={v['n']})")
        check = batch_check(forward, embed, tok, samples[::max(1, len(samples) // 12)][:12], make_row, log)
    clear_bundle_dir(out)
    with open(os.path.join(out, "eval.json"), "w") as f:
        json.dump({"model": name, "decoding": "greedy", "tasks": report, "checks": {"batched_equals_single": check}}, f, indent=1)
    comps = export_fn(out)
    tok.save_hf(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "chat_template.jinja"), "w") as f:
        f.write(chat_template)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest_fn(comps, len(tok.vocab)), f, indent=1)
    write_golden(out, tok, samples, results, oks, per_task, write_part, log, min_golden)
    log(f"{name} bundle {bundle_size_mb(out):.2f} MB")
    return report
