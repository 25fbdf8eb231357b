"""SoundStorm's training mask (Borsos et al. 2023, section 3.3), per item:

- a prompt: with probability `prompt_prob`, the first P frames (P uniform in [0, n/2)) stay
  known at every level and carry no loss: this is what continuation from the previous
  window's tokens looks like at render time;
- a level k, uniform over the K codebooks;
- a share p = cos(pi/2 * u), u ~ U[0, 1), of level k's other frames is masked (at least one),
  every frame of the levels above k is masked, the levels below k stay known.

Cross-entropy is taken over every masked token of the real frames: the masked share of
level k and all of the finer levels. (SoundStorm scores level k only; the finer levels are
kept here because parallel decoding predicts every level from an all-masked input, which is
exactly the k = 0 case.)

With `full_prob`, that share of items is masked entirely instead (no prompt, every level of
every frame): parallel decoding's own input, which the draw above gives an item only when
k = 0 and u is near 0, so the latent head it renders from rarely trains on it.

Axes: B batch, K codebooks, T frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class MaskedBatch:
    inputs: torch.Tensor  # [B, K, T] int64, MASK (= V) at masked and padded positions
    loss_mask: torch.Tensor  # [B, K, T] bool, the tokens the loss is taken over
    level: torch.Tensor  # [B] int64, the level k each item was masked from
    prompt: torch.Tensor  # [B] int64, prompt length in frames (0: none)


def soundstorm_mask(
    tokens: torch.Tensor,  # [B, K, T] int64
    pad_mask: torch.Tensor,  # [B, T] bool, True at padding
    codebook_size: int,
    generator: torch.Generator,
    prompt_prob: float = 0.0,
    full_prob: float = 0.0,
) -> MaskedBatch:
    """Draws come from `generator` in a fixed order (level, u, prompt, scores, then full
    where full_prob > 0), so the same generator state gives the same masks on every
    process, and the masks of a run without full masking are as before it existed."""
    B, K, T = tokens.shape
    valid = ~pad_mask  # [B, T]
    n_valid = valid.sum(1)  # [B]
    level = torch.randint(K, (B,), generator=generator)  # [B]
    u = torch.rand(B, generator=generator, dtype=torch.float64)  # [B]
    has_prompt = torch.rand(B, generator=generator) < prompt_prob  # [B]
    prompt_frac = torch.rand(B, generator=generator, dtype=torch.float64)  # [B]
    scores = torch.rand(B, T, generator=generator)  # [B, T]
    if full_prob > 0:
        full = torch.rand(B, generator=generator) < full_prob  # [B]
        level = torch.where(full, 0, level)
        u = torch.where(full, 0.0, u)  # cos(0) = 1: every maskable frame
        has_prompt = has_prompt & ~full

    prompt = torch.where(has_prompt, (prompt_frac * (n_valid // 2)).long(), 0)  # [B]
    frames = torch.arange(T)
    cand = valid & (frames[None, :] >= prompt[:, None])  # [B, T] maskable frames
    n_cand = cand.sum(1)
    ratio = torch.cos(math.pi / 2 * u)  # (0, 1]
    n_mask = torch.ceil(ratio * n_cand).long().clamp(min=1).minimum(n_cand)  # [B]
    order = torch.argsort(torch.where(cand, scores, 2.0), dim=1, stable=True)  # [B, T]
    rank = torch.empty_like(order).scatter_(1, order, frames.expand(B, T).contiguous())
    chosen = cand & (rank < n_mask[:, None])  # [B, T]

    levels = torch.arange(K)[None, :, None]  # [1, K, 1]
    lv = level[:, None, None]  # [B, 1, 1]
    masked = ((levels == lv) & chosen[:, None, :]) | ((levels > lv) & cand[:, None, :])
    inputs = torch.where(masked | pad_mask[:, None, :], codebook_size, tokens)
    return MaskedBatch(inputs, masked, level, prompt)
