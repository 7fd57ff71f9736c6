"""tiny-cogvlm: the visual-expert family (CogVLM, CogAgent) on mmserve-tiny's world.

CogVLM keeps the language model's weights for text and adds, in every decoder layer, a second copy of the attention's
QKV and output projections and of the MLP (the "visual expert") that image positions go through instead; a
token_type_ids input (0 text, 1 image) routes each position. Attention itself is shared: every position attends to
every earlier one in one ordinary KV cache, so decode steps (always text) look exactly like a plain LLM's.

Positions follow CogVLM2's build_position_ids: within each maximal run of image tokens the first and last token count
as text (each advances the position by one) and the tokens between them share one position. A run of n >= 3 image
tokens starting at position p therefore takes positions p, p+1, p+1, ..., p+1, p+2, and the text after it continues
at p+3. Generated tokens continue from the last prompt position + 1.

Recipe: mmserve-tiny's LLM and image encoder are frozen; the expert of each layer starts as a copy of that layer's
text weights and is trained with mmserve-tiny's image projector (also starting from its trained weights) on the
image tasks of mmtiny.tasks.
"""
from __future__ import annotations

import copy
import math
import os

import numpy as np
import torch
import torch.nn as nn

from mmtiny import bundle as MB
from mmtiny import data as DA
from mmtiny import export as EX
from mmtiny import model as M
from mmtiny import tasks as T

from . import common_vexpert as C

TEXT, IMAGE = 0, 1


def cogvlm_positions(token_types: list[int]) -> list[int]:
    """CogVLM2's build_position_ids for one unpadded row (see the module docstring)."""
    n = len(token_types)
    interior = [token_types[i] == IMAGE and 0 < i < n - 1 and token_types[i - 1] == IMAGE and token_types[i + 1] == IMAGE
                for i in range(n)]
    pos = [0] * n
    for i in range(1, n):
        pos[i] = pos[i - 1] + (0 if interior[i] and interior[i - 1] else 1)
    return pos


def _route(vis, image_value, text_value):
    return text_value if vis is None else torch.where(vis, image_value, text_value)


def _rotate(x, cos, sin):
    return x * cos + M.rotate_half(x) * sin


class ExpertLLM(nn.Module):
    """mmtiny's LLM (frozen) plus a visual expert per layer: its own q/k/v/o projections and SwiGLU MLP."""

    def __init__(self, llm: M.LLM):
        super().__init__()
        self.llm = llm
        self.vis_attn = nn.ModuleList(copy.deepcopy(layer.self_attn) for layer in llm.layers)
        self.vis_mlp = nn.ModuleList(copy.deepcopy(layer.mlp) for layer in llm.layers)

    def _attention(self, i, h, vis, cos, sin, bias, past_k, past_v):
        ta, va = self.llm.layers[i].self_attn, self.vis_attn[i]
        b, s, _ = h.shape
        q = _route(vis, va.q_proj(h), ta.q_proj(h)).view(b, s, M.N_HEADS, M.HEAD_DIM).transpose(1, 2)
        k = _route(vis, va.k_proj(h), ta.k_proj(h)).view(b, s, M.N_KV_HEADS, M.HEAD_DIM).transpose(1, 2)
        v = _route(vis, va.v_proj(h), ta.v_proj(h)).view(b, s, M.N_KV_HEADS, M.HEAD_DIM).transpose(1, 2)
        q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        # mmtiny's grouped-KV form (query heads of a group stacked): no repeated KV copy in the exported graph
        rep = M.N_HEADS // M.N_KV_HEADS
        qg = q.reshape(b, M.N_KV_HEADS, rep * s, M.HEAD_DIM)
        scores = torch.matmul(qg, k.transpose(2, 3)) * (1.0 / math.sqrt(M.HEAD_DIM)) + bias.repeat(1, 1, rep, 1)
        out = torch.matmul(torch.softmax(scores, dim=-1), v).reshape(b, M.N_HEADS, s, M.HEAD_DIM)
        out = out.transpose(1, 2).reshape(b, s, M.N_HEADS * M.HEAD_DIM)
        return _route(vis, va.o_proj(out), ta.o_proj(out)), k, v

    def forward(self, inputs_embeds, attention_mask, position_ids, token_type_ids, past=None):
        s = inputs_embeds.shape[1]
        past_len = past[0][0].shape[2] if past is not None else 0
        bias = M.attention_bias(attention_mask, past_len, s)
        cos, sin = M.rope(position_ids)
        vis = None if token_type_ids is None else (token_type_ids == IMAGE)[..., None]
        x = inputs_embeds
        presents = []
        for i, layer in enumerate(self.llm.layers):
            pk, pv = past[i] if past is not None else (None, None)
            a, k, v = self._attention(i, layer.input_layernorm(x), vis, cos, sin, bias, pk, pv)
            x = x + a
            h = layer.post_attention_layernorm(x)
            x = x + _route(vis, self.vis_mlp[i](h), layer.mlp(h))
            presents.append((k, v))
        h = self.llm.norm(x)
        return self.llm.lm_head(h), h, presents


class CogVlm(nn.Module):
    def __init__(self, base):
        super().__init__()
        self.expert_llm = ExpertLLM(base.llm)
        self.image_encoder = base.image_encoder
        self.image_projector = base.image_projector


class ExportDecoder(nn.Module):
    """Flat ONNX signature: mmserve-tiny's decoder inputs plus token_type_ids [batch, sequence] (int64)."""

    def __init__(self, model: CogVlm):
        super().__init__()
        self.expert_llm = model.expert_llm

    def forward(self, inputs_embeds, attention_mask, position_ids, token_type_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(M.N_LAYERS)]
        logits, hidden, presents = self.expert_llm(inputs_embeds, attention_mask, position_ids, token_type_ids, past)
        return (logits, hidden, *[t for kv in presents for t in kv])


class Family:
    """Pools, samples and rows of the image tasks for this model."""

    def __init__(self, model: CogVlm, tok, pools: DA.Pools):
        self.model, self.tok, self.pools = model, tok, pools
        with torch.no_grad():
            pix = torch.tensor(DA.pixels(np.stack([im for im, _ in pools.images])))
            self.features = torch.cat([model.image_encoder(pix[i:i + 512]) for i in range(0, len(pix), 512)])

    def make_row(self, s: T.Sample, answer=None) -> C.Row:
        ids, spans = T.render_ids(self.tok, s.turns)
        if answer is not None:
            ids = ids + answer
        emb = self.model.expert_llm.llm.embed_tokens(torch.tensor(ids))
        types = [TEXT] * len(ids)
        for _, idx, start, n in spans:
            emb = torch.cat([emb[:start], self.model.image_projector(self.features[idx:idx + 1])[0], emb[start + n:]])
            types[start:start + n] = [IMAGE] * n
        return C.Row(ids, emb, torch.tensor(cogvlm_positions(types)), torch.tensor(types))

    def sample(self, rng) -> T.Sample:
        i = int(rng.integers(len(self.pools.images)))
        return T.image_task(rng, i, self.pools.images[i][1])


def metric_group(task: str) -> str:
    return "image_caption" if task == "image_caption" else "image_qa"


def export(model: CogVlm, out: str, vocab: int) -> dict:
    """embed_tokens, the expert decoder, image encoder and projector; returns the manifest's components."""
    model.eval()
    B = "batch"
    comps = {}

    spec = EX.spec
    add = EX.component_adder(out, comps)

    llm = model.expert_llm.llm
    add("embed_tokens", EX.EmbedTokens(type("Holder", (), {"llm": llm})()), (torch.zeros(2, 5, dtype=torch.long),),
        [spec("input_ids", "int64", [B, "sequence"])], [spec("inputs_embeds", "float32", [B, "sequence", M.D_MODEL])],
        {"input_ids": {0: B, 1: "sequence"}, "inputs_embeds": {0: B, 1: "sequence"}})
    comps["decoder"] = C.export_decoder(ExportDecoder(model), out, vocab, token_types=True)
    add("image_encoder", model.image_encoder, (torch.randn(2, 3, 64, 64),),
        [spec("pixel_values", "float32", [B, 3, 64, 64])], [spec("image_features", "float32", [B, M.IMAGE_TOKENS, M.ENC_DIM])],
        {"pixel_values": {0: B}, "image_features": {0: B}})
    add("image_projector", model.image_projector, (torch.randn(2, M.IMAGE_TOKENS, M.ENC_DIM),),
        [spec("image_features", "float32", [B, M.IMAGE_TOKENS, M.ENC_DIM])], [spec("media_embeds", "float32", [B, M.IMAGE_TOKENS, M.D_MODEL])],
        {"image_features": {0: B}, "media_embeds": {0: B}})
    return comps


def manifest(comps: dict, vocab: int) -> dict:
    man = MB.manifest(comps, vocab)
    man["id"] = "tiny-cogvlm"
    man["description"] = ("Visual-expert conformance model (CogVLM family): mmserve-tiny's frozen LLM with a trained visual "
                          "expert (QKV, output projection and MLP per layer) for image positions (tools/reference-model/families).")
    man["family"] = "visual_expert"
    man["decoder"]["token_type_ids"] = "token_type_ids"
    man["decoder"]["visual_expert"] = {"modalities": ["image"], "text_type": TEXT, "expert_type": IMAGE, "positions": "cogvlm2"}
    man["input_modalities"] = {"image": man["input_modalities"]["image"]}
    man["output_modalities"] = {}
    return man


def write_image_part(kind, value, gdir, pools):
    rel = f"media/image_{value:04d}.png"
    path = os.path.join(gdir, rel)
    if not os.path.exists(path):
        open(path, "wb").write(MB.png_bytes(pools.images[value][0]))
    return MB.openai_part("image", rel)


def build(base, tok, out: str, work: str, log, quick: bool = False) -> dict:
    S = (lambda full, q: q if quick else full)
    model = CogVlm(base)
    for p in model.parameters():
        p.requires_grad_(False)
    trained = list(model.expert_llm.vis_attn.parameters()) + list(model.expert_llm.vis_mlp.parameters()) + list(model.image_projector.parameters())
    for p in trained:
        p.requires_grad_(True)
    model.eval()  # no dropout or batch statistics anywhere; the frozen encoder keeps its running statistics
    train_fam = Family(model, tok, DA.make_pools(2000, S(3000, 200), 0, 0, 0, log))
    forward = model.expert_llm
    embed = model.expert_llm.llm.embed_tokens
    C.train("visual expert", forward, tok, trained, train_fam.sample, train_fam.make_row, S(700, 20), 1e-3, 16, log, seed=3)

    eval_fam = Family(model, tok, DA.make_pools(2099, S(500, 60), 0, 0, 0, log))
    rng = np.random.default_rng(2199)
    samples = [T.image_task(rng, i, objs) for i, (_, objs) in enumerate(eval_fam.pools.images)]
    return C.evaluate_and_write(
        "tiny-cogvlm", forward, embed, tok, samples, eval_fam.make_row, metric_group, out, lambda d: export(model, d, len(tok.vocab)),
        manifest, MB.CHAT_TEMPLATE_JINJA, 8, lambda k, v, g: write_image_part(k, v, g, eval_fam.pools), log, min_golden=0 if quick else 30)
