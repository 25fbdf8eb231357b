"""Carrying a trained model over to another codec's tokens and another kit list, so a new
model starts from the CPU hours the old one spent (docs/prompting.md, "Transfer").

drumgrid-drums-2 is drumgrid-drums fine-tuned whole: its latent of an audio is within 6% of
the first codec's (normalised squared error), but its code indices are a new space (the same
index at level 0 on 16% of frames, 0.5% at the others). So the body, the conditioning
projection and the latent head carry over as they are; kits carry by name (a new kit starts
at the mean of the old kits' rows); and each code's input row and output head become the
mean of the old codes it co-occurs with, counted by quantising the new codec's latents of
the training tokens with the old codec."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from drumgrid.server.codecs.base import Codec

# Token tracks read for the co-occurrence counts: enough to see nearly every code used.
COUNT_TRACKS = 256


def code_counts(new: Codec, old: Codec, tracks: Sequence[np.ndarray]) -> np.ndarray:
    """[K, V_new, V_old] int64: for each level, how often a frame holding new code c at that
    level holds old code j when its new latent is quantised by the old codec. `tracks`: the
    new codec's tokens [K, T] each."""
    K = new.n_codebooks
    counts = np.zeros((K, new.codebook_size, old.codebook_size), np.int64)
    step = max(1, len(tracks) // COUNT_TRACKS)
    for tokens in list(tracks)[::step][:COUNT_TRACKS]:
        t_new = torch.from_numpy(np.asarray(tokens, np.int64))[None]  # [1, K, T]
        t_old = old.quantize(new.latents(t_new))[0].cpu().numpy()  # [K_old, T]
        for k in range(min(K, t_old.shape[0])):
            np.add.at(counts[k], (t_new[0, k].numpy(), t_old[k]), 1)
    return counts


def mapped_rows(old_rows: torch.Tensor, counts: np.ndarray, keep: torch.Tensor) -> torch.Tensor:
    """[K, V_new, ...]: each new code's row the count-weighted mean of the old codes' rows
    `old_rows` [K, V_old, ...]; a code never counted keeps its row of `keep`."""
    weights = torch.from_numpy(counts).to(old_rows.dtype)  # [K, V_new, V_old]
    totals = weights.sum(-1, keepdim=True)
    flat = old_rows.reshape(old_rows.shape[0], old_rows.shape[1], -1)
    mean = (weights / totals.clamp_min(1)) @ flat  # [K, V_new, X]
    mean = mean.reshape(keep.shape)
    seen = (totals > 0).reshape(*totals.shape[:2], *([1] * (keep.dim() - 2)))
    return torch.where(seen, mean, keep)


def kit_rows(
    old: torch.Tensor, old_kits: Sequence[str], new: Sequence[str]
) -> tuple[torch.Tensor, list[str]]:
    """(the kit table for `new` kits, the kits carried): a kit the old model knows keeps its
    row, a new one starts at the mean of the old rows."""
    mean = old.mean(0)
    rows = [old[old_kits.index(k)] if k in old_kits else mean for k in new]
    return torch.stack(rows), [k for k in new if k in old_kits]


def transfer_state(
    old: dict[str, torch.Tensor],
    fresh: dict[str, torch.Tensor],
    counts: np.ndarray | None,
    old_kits: Sequence[str],
    new_kits: Sequence[str],
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """(the entries of the trained model's state `old` that change, the kits carried): the kit
    table, and with `counts` (None: the same codes) the code tables and output heads. `fresh`:
    the new model's initial state (its shapes, and the rows nothing maps to)."""
    changed: dict[str, torch.Tensor] = {}
    changed["kit_embedding.weight"], carried = kit_rows(
        old["kit_embedding.weight"], old_kits, new_kits
    )
    if counts is None:
        return changed, carried
    V = counts.shape[1]
    tables = fresh["tables"].clone()  # [K, V + 1, D]: the last row is the mask
    tables[:, :V] = mapped_rows(old["tables"][:, :-1], counts, fresh["tables"][:, :V])
    tables[:, V] = old["tables"][:, -1]
    changed["tables"] = tables
    changed["body.heads"] = mapped_rows(old["body.heads"], counts, fresh["body.heads"])
    bias = mapped_rows(
        old["body.head_bias"].transpose(1, 2), counts, fresh["body.head_bias"].transpose(1, 2)
    )
    changed["body.head_bias"] = bias.transpose(1, 2).contiguous()
    return changed, carried


def code_agreement(counts: np.ndarray) -> list[float]:
    """Per level, the share of counted frames whose old code is its new code's commonest: how
    far one old code stands for each new one."""
    top, totals = counts.max(-1).sum(-1), counts.sum((1, 2))  # [K] each
    return [round(float(t / max(n, 1)), 3) for t, n in zip(top, totals, strict=True)]
