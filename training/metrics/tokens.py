"""Token metrics from logits and decoded tokens: accuracy, negative log-likelihood, per-level
agreement."""

from __future__ import annotations

import numpy as np


def _token_selection(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:  # ([N, V], [N])
    logits = np.asarray(logits)
    targets = np.asarray(targets, np.int64)
    if logits.shape[:-1] != targets.shape:
        raise ValueError(
            f"expected logits [..., V] over targets {list(targets.shape)}, got {list(logits.shape)}"
        )
    sel = np.ones(targets.shape, bool) if mask is None else np.asarray(mask, bool)
    return logits[sel].astype(np.float64), targets[sel]


def token_accuracy(
    logits: np.ndarray,  # [..., V]
    targets: np.ndarray,  # [...]
    mask: np.ndarray | None = None,  # [...] bool, the tokens that count
) -> float:
    """Share of tokens whose argmax is the target (the seed paper's token accuracy when the
    logits come from one pass with every token masked)."""
    sel, tgt = _token_selection(logits, targets, mask)
    return float((sel.argmax(-1) == tgt).mean()) if len(tgt) else float("nan")


def token_nll(
    logits: np.ndarray,  # [..., V]
    targets: np.ndarray,  # [...]
    mask: np.ndarray | None = None,
) -> float:
    """Mean negative log-likelihood of the targets in nats (log-softmax, stable)."""
    sel, tgt = _token_selection(logits, targets, mask)
    if not len(tgt):
        return float("nan")
    top = sel.max(-1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(sel - top).sum(-1))
    return float(np.mean(log_z - sel[np.arange(len(tgt)), tgt]))


def per_level_accuracy(
    tokens: np.ndarray,  # [..., K, T] decoded
    targets: np.ndarray,  # [..., K, T]
    valid: np.ndarray | None = None,  # [..., T] bool
) -> list[float]:
    """Agreement of decoded tokens with the targets per codebook level (coarse first)."""
    eq = np.asarray(tokens) == np.asarray(targets)
    if valid is None:
        valid = np.ones(eq.shape[:-2] + eq.shape[-1:], bool)
    v = np.broadcast_to(np.expand_dims(valid, -2), eq.shape)
    axes = tuple(i for i in range(eq.ndim) if i != eq.ndim - 2)
    return list((eq & v).sum(axes) / np.maximum(v.sum(axes), 1))
