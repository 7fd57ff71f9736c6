"""Greedy decoding in PyTorch with a KV cache, batched with left padding exactly as the server does it."""
from __future__ import annotations

import torch

from . import tasks as T


@torch.no_grad()
def embed_prompt(m, ids: list[int], spans, media_embeds) -> torch.Tensor:
    """inputs_embeds [S, D] for one prompt: token embeddings with projected media spliced at placeholder spans."""
    x = m.llm.embed_tokens(torch.tensor(ids))
    for (kind, idx, start, n), emb in zip(spans, media_embeds):
        x[start:start + n] = emb
    return x


@torch.no_grad()
def greedy(m, tok, prompts: list[tuple[torch.Tensor, int]], max_new: int = 48):
    """prompts: [(inputs_embeds [S,D], _)] -> per row: token ids, per-step top1-top2 margins, hidden states of new tokens.

    Rows are left-padded to the longest prompt; attention_mask marks real slots; position_ids count each row's
    own tokens. Stops a row at an EOS token (kept in the output).
    """
    eos = {tok.token_id(T.IM_END), tok.token_id(T.EOT)}
    b = len(prompts)
    lens = [p[0].shape[0] for p in prompts]
    L = max(lens)
    d = prompts[0][0].shape[1]
    emb = torch.zeros(b, L, d)
    mask = torch.zeros(b, L, dtype=torch.long)
    pos = torch.zeros(b, L, dtype=torch.long)
    for r, (e, _) in enumerate(prompts):
        n = e.shape[0]
        emb[r, L - n:] = e
        mask[r, L - n:] = 1
        pos[r, L - n:] = torch.arange(n)
    logits, hidden, past = m.llm(emb, mask, pos, None)
    out = [[] for _ in range(b)]
    margins = [[] for _ in range(b)]
    hid = [[] for _ in range(b)]
    done = [False] * b
    cur_len = torch.tensor(lens)
    last = logits[:, -1]
    for step in range(max_new):
        top2 = torch.topk(last, 2, dim=-1)
        nxt = top2.indices[:, 0]
        for r in range(b):
            if not done[r]:
                out[r].append(int(nxt[r]))
                margins[r].append(float(top2.values[r, 0] - top2.values[r, 1]))
        # feed the chosen tokens (every row advances one slot; finished rows are fed but ignored)
        e = m.llm.embed_tokens(nxt)[:, None]
        mask = torch.cat([mask, torch.ones(b, 1, dtype=torch.long)], dim=1)
        p = cur_len[:, None].clone()
        logits, hidden, past = m.llm(e, mask, p, past)
        cur_len += 1
        for r in range(b):
            if not done[r]:
                hid[r].append(hidden[r, 0].clone())
                if out[r][-1] in eos:
                    done[r] = True
        last = logits[:, -1]
        if all(done):
            break
    return out, margins, hid
