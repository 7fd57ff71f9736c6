"""Rebuild mmserve-tiny's PyTorch model from its exported ONNX bundle (no checkpoint needed).

The conformance models of other architecture families (tools/reference-model/families) start from mmserve-tiny's
trained parts, frozen as the literature freezes its CLIP and LLM: only the family's new parts are trained. The
PyTorch checkpoint (work/mmtiny.pt) is not committed, but the bundle is, so the weights come from the ONNX files.

Most ONNX initializers are anonymous (`onnx::MatMul_816`: a Linear weight, transposed and constant-folded), so the
name of each is learned by exporting a freshly initialised model with the same code: an initializer of the fresh
export holds a fresh parameter's values (or their transpose), and the bundle's initializer of the same name holds
the trained ones. BatchNorm layers were folded into their convolutions at export; they are set to the identity
here before the fresh export, so the folded convolution weights map onto the plain convolution weights.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from . import bpe
from . import export as E
from .train import MMTiny


def _identity_batchnorms(m: torch.nn.Module) -> None:
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.eval()
            mod.running_mean.zero_()
            mod.running_var.fill_(1.0 - mod.eps)  # (x - 0) / sqrt(1 - eps + eps) * 1 + 0 = x
            mod.weight.data.fill_(1.0)
            mod.bias.data.zero_()
            mod.weight.requires_grad_(False)
            mod.bias.requires_grad_(False)


def _initializers(path: str) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def _match(params: dict[str, torch.Tensor], value: np.ndarray) -> tuple[str, bool] | None:
    """The parameter whose fresh values this initializer holds, and whether it is stored transposed."""
    found = []
    for name, p in params.items():
        t = p.detach().numpy()
        if t.shape == value.shape and np.allclose(t, value, atol=1e-6, rtol=1e-5):
            found.append((name, False))
        elif t.ndim == 2 and t.T.shape == value.shape and np.allclose(t.T, value, atol=1e-6, rtol=1e-5):
            found.append((name, True))
    if len(found) > 1:
        raise SystemExit(f"ambiguous initializer: matches {found}")
    return found[0] if found else None


@torch.no_grad()
def load(bundle_dir: str) -> tuple[MMTiny, bpe.Tokenizer]:
    """mmserve-tiny's parts with the bundle's weights (eval mode), and its tokenizer."""
    tok = load_tokenizer(os.path.join(bundle_dir, "tokenizer.json"))
    vocab = len(tok.vocab)
    torch.manual_seed(1234)
    m = MMTiny(vocab)
    for p in m.parameters():  # distinct random values everywhere, so every initializer matches one parameter
        p.normal_(0.0, 0.05)
    _identity_batchnorms(m)
    m.eval()
    params = {n: p for n, p in m.named_parameters()} | {n: b for n, b in m.named_buffers() if "running" not in n}
    loaded: set[str] = set()
    with tempfile.TemporaryDirectory() as fresh_dir:
        comps = E.export_all(m, fresh_dir, vocab)
        for comp in comps.values():
            fresh = _initializers(os.path.join(fresh_dir, comp["file"]))
            trained = _initializers(os.path.join(bundle_dir, comp["file"]))
            for name, value in fresh.items():
                hit = _match(params, value)
                if hit is None:
                    continue  # a constant of the graph (shape, scale), not a parameter
                pname, transposed = hit
                if name not in trained:
                    raise SystemExit(f"{comp['file']}: the bundle has no initializer {name} (exported by another recipe?)")
                w = trained[name].T if transposed else trained[name]
                params[pname].copy_(torch.from_numpy(np.ascontiguousarray(w)))
                loaded.add(pname)
    exported = {n for n in params if not n.startswith(("image_cond.", "audio_cond."))}  # generator-side text encoders are not exported
    missing = sorted(n for n in exported - loaded if params[n].requires_grad)
    if missing:
        raise SystemExit(f"parameters not found in the bundle: {missing[:8]}{' …' if len(missing) > 8 else ''}")
    return m, tok


def load_tokenizer(path: str) -> bpe.Tokenizer:
    """The byte-level BPE tokenizer from a Hugging Face tokenizer.json written by bpe.Tokenizer.save_hf."""
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    model = j["model"]
    merges = [tuple(x.split(" ")) if isinstance(x, str) else tuple(x) for x in model["merges"]]
    specials = [a["content"] for a in j["added_tokens"]]
    vocab = dict(model["vocab"]) | {a["content"]: a["id"] for a in j["added_tokens"]}
    return bpe.Tokenizer(vocab, merges, specials)


@torch.no_grad()
def check_against_golden(m: MMTiny, bundle_dir: str, tol: float = 1e-4) -> float:
    """Worst difference between the rebuilt model and the bundle's golden component tensors."""
    g = os.path.join(bundle_dir, "golden", "components")
    worst = 0.0

    def cmp(a, b):
        nonlocal worst
        worst = max(worst, float(np.abs(a.detach().numpy() - b).max()))

    z = np.load(os.path.join(g, "embed_tokens.npz"))
    cmp(m.llm.embed_tokens(torch.from_numpy(z["input_ids"])), z["inputs_embeds"])
    z = np.load(os.path.join(g, "image_encoder.npz"))
    cmp(m.image_encoder(torch.from_numpy(z["pixel_values"])), z["image_features"])
    z = np.load(os.path.join(g, "audio_encoder.npz"))
    cmp(m.audio_encoder(torch.from_numpy(z["input_features"])), z["audio_features"])
    z = np.load(os.path.join(g, "decoder.npz"))
    logits, hidden, presents = m.llm(torch.from_numpy(z["prefill.inputs_embeds"]), torch.from_numpy(z["prefill.attention_mask"]),
                                     torch.from_numpy(z["prefill.position_ids"]))
    cmp(logits, z["prefill.logits"])
    cmp(hidden, z["prefill.last_hidden_state"])
    logits, hidden, _ = m.llm(torch.from_numpy(z["step.inputs_embeds"]), torch.from_numpy(z["step.attention_mask"]),
                              torch.from_numpy(z["step.position_ids"]), presents)
    cmp(logits, z["step.logits"])
    if worst > tol:
        raise SystemExit(f"the model rebuilt from {bundle_dir} differs from its golden tensors by {worst}")
    return worst


if __name__ == "__main__":
    import sys

    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../models/mmserve-tiny")
    model, _ = load(d)
    print(f"rebuilt from {d}; worst difference against golden components: {check_against_golden(model, d):.2e}")
