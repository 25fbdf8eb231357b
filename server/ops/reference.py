"""Pure-PyTorch references of the native ops, for tests and benchmarks.

They state each op's contract in the plainest code: slow, but computed in the same order
(embedding) or in float64 with the same Philox numbers (sampling), so the kernels can be
compared exactly. The rules themselves are written out at the top of csrc/sample_tokens.cpp.
"""

from __future__ import annotations

import torch

from drumgrid.server.ops.philox import philox_uniform


def embed_tokens_reference(
    tokens: torch.Tensor,  # [B, K, T] int64, V = MASK
    tables: torch.Tensor,  # [K, V+1, D]
    cond: torch.Tensor,  # [B, T, D]
) -> torch.Tensor:  # [B, T, D], dtype of tables
    """cond + sum_k tables[k, tokens[:, k]], accumulated in float32 from cond then k = 0..K-1,
    the order the kernels use, so float32 results agree bit for bit."""
    n_ids = tables.shape[1]
    if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= n_ids):
        raise ValueError(f"expected token ids in [0, {n_ids - 1}], got a value outside")
    acc = cond.to(torch.float32)  # [B, T, D]
    for k in range(tables.shape[0]):
        acc = acc + tables[k].to(torch.float32)[tokens[:, k]]
    return acc.to(tables.dtype)


def sample_tokens_reference(
    logits: torch.Tensor,  # [B, K, T, V]
    temperature: float,
    top_k: int,
    top_p: float,
    seed: int,
    offset: int,
) -> tuple[torch.Tensor, torch.Tensor]:  # tokens [B, K, T] int64, probs [B, K, T] float32
    """Sort-based float64 statement of sample_tokens (see csrc/sample_tokens.cpp for the
    rules): filter in rank order, then an inverse-CDF pick in id order with one Philox
    uniform per row."""
    if temperature < 0:
        raise ValueError(f"expected temperature >= 0, got {temperature}")
    if top_p <= 0:
        raise ValueError(f"expected top_p > 0, got {top_p}")
    *lead, V = logits.shape
    x = logits.detach().to(torch.float32).reshape(-1, V)  # [R, V]
    if not bool(torch.isfinite(x).all()):
        raise ValueError("expected finite logits, got NaN or inf")
    R = x.shape[0]
    # Rank order: larger logit first, ties by lower id (a stable descending sort).
    xs, order = torch.sort(x, dim=-1, descending=True, stable=True)  # [R, V]
    xs = xs.to(torch.float64)
    temp = temperature if temperature > 0 else 1.0
    w = torch.exp((xs - xs[:, :1]) / temp)  # [R, V], rank order
    rank = torch.arange(V, device=x.device)
    if 0 < top_k < V:
        w = torch.where(rank < top_k, w, 0.0)
    if top_p < 1.0:
        cdf = torch.cumsum(w, dim=-1)
        before = torch.cat([torch.zeros_like(cdf[:, :1]), cdf[:, :-1]], dim=-1)
        w = torch.where(before < top_p * w.sum(-1, keepdim=True), w, 0.0)
    total = w.sum(-1)  # [R]
    if temperature == 0:
        pick = order[:, 0]
        prob = 1.0 / total
    else:
        w_id = torch.zeros_like(w).scatter(-1, order, w)  # [R, V], id order
        cdf = torch.cumsum(w_id, dim=-1)
        target = philox_uniform(seed, offset, torch.arange(R, device=x.device)) * total
        pick = torch.searchsorted(cdf, target.unsqueeze(-1), right=True).squeeze(-1)
        last = (V - 1) - torch.flip(w_id > 0, dims=[-1]).to(torch.int8).argmax(-1)
        pick = torch.where(pick >= V, last, pick)
        prob = w_id.gather(-1, pick.unsqueeze(-1)).squeeze(-1) / total
    return pick.reshape(lead), prob.to(torch.float32).reshape(lead)
