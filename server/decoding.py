"""Turning logits into tokens: parallel (the seed paper's one pass) and iterative decoding
(SoundStorm / MaskGIT: coarse to fine over levels, confidence-based unmasking), both able
to continue from known tokens.

Decoding talks to the model only through `logits_fn(tokens [B, K, T], level=None)` -> logits
[B, K, T, V], or [B, T, V] for one level
(DrumLM.logits_fn), so the engine can put a compiled or TensorRT body behind it.

Determinism: sampling goes through `sample_tokens`, whose draw for a row depends only on
(seed, offset, row). Each item is sampled on its own (row = frame index) with its own seed,
and offset = the decoding step's number (sum of the steps of earlier levels + the step), so
a result depends on the item's seed and inputs, not on the batch it ran in or its padding.

Axes: B batch, K codebooks, T frames, V codebook size, F conditioning features.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from drumgrid.bridge.contract import (
    DECODING_METHODS,
    DEFAULT_COARSE_STEPS,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_K,
    DEFAULT_TOP_P,
)
from drumgrid.server.conditioning import FrameConditioning
from drumgrid.server.model.lm import DrumLM, LogitsFn
from drumgrid.server.model.modules import PromptMemory
from drumgrid.server.ops import sample_tokens

# The methods and the iterative defaults (DEFAULT_COARSE_STEPS, DEFAULT_TOP_K, ...) are the
# render contract's (bridge/contract.py), measured on the shipped model's predecessor
# (docs/architecture.md, "Decoding defaults").
FINE_STEPS = 1  # steps of each level after the first (SoundStorm's schedule)


def coarse_to_fine_steps(steps: int | tuple[int, ...] | None, n_codebooks: int) -> tuple[int, ...]:
    """Steps per level for iterative decoding: an int S gives S steps on the coarsest level
    and FINE_STEPS on each finer one (the fine levels follow from the coarse one, so SoundStorm
    decodes them in one step each); a tuple is one count per level; None is the default."""
    steps = DEFAULT_COARSE_STEPS if steps is None else steps
    if isinstance(steps, int):
        return (steps,) + (FINE_STEPS,) * (n_codebooks - 1)
    return tuple(steps)


@dataclass(frozen=True)
class DecodeOptions:
    method: str = "iterative"  # "parallel": one pass, argmax; "iterative": see decode_tokens
    # iterative: steps per level (one number for every level, or one per level); None: what
    # a render uses, coarse_to_fine_steps' DEFAULT_COARSE_STEPS then FINE_STEPS per level
    steps: int | tuple[int, ...] | None = None
    temperature: float = DEFAULT_TEMPERATURE  # 0 = argmax
    top_k: int = DEFAULT_TOP_K  # <= 0: off
    top_p: float = DEFAULT_TOP_P  # >= 1: off
    seed: int = 0  # for every item unless decode_tokens gets per-item seeds

    def __post_init__(self) -> None:
        if self.method not in DECODING_METHODS:
            raise ValueError(f"expected method in {DECODING_METHODS}, got {self.method!r}")
        if self.steps is not None:
            steps = (self.steps,) if isinstance(self.steps, int) else tuple(self.steps)
            if not steps or min(steps) < 1:
                raise ValueError(f"expected steps >= 1 per level, got {self.steps}")
        if not (self.temperature >= 0 and math.isfinite(self.temperature)):
            raise ValueError(f"expected temperature >= 0, got {self.temperature}")
        if not self.top_p > 0:
            raise ValueError(f"expected top_p in (0, 1], got {self.top_p}")

    def steps_per_level(self, n_codebooks: int) -> tuple[int, ...]:
        if self.steps is None:
            return coarse_to_fine_steps(None, n_codebooks)
        if isinstance(self.steps, int):
            return (self.steps,) * n_codebooks
        if len(self.steps) != n_codebooks:
            raise ValueError(
                f"expected one step count per level ({n_codebooks}), got {len(self.steps)}"
            )
        return tuple(self.steps)

    def n_calls(self, n_codebooks: int) -> int:
        """Model calls a decode makes (for progress bars)."""
        return 1 if self.method == "parallel" else sum(self.steps_per_level(n_codebooks))


def masked_after(n_total: torch.Tensor, step: int, n_steps: int) -> torch.Tensor:
    """Cosine schedule: how many of a level's n_total unknown tokens are still masked after
    step `step` (0-based) of n_steps; 0 after the last step."""
    if step + 1 >= n_steps:
        return torch.zeros_like(n_total)
    return torch.floor(n_total * math.cos(math.pi / 2 * (step + 1) / n_steps)).long()


def _sample_items(
    logits: torch.Tensor,  # [B, T, V] one level's logits
    options: DecodeOptions,
    seeds: Sequence[int],
    offset: int,
) -> tuple[torch.Tensor, torch.Tensor]:  # tokens [B, T], probs [B, T]
    """One sample_tokens call per item, so item b's draws depend on (seeds[b], offset, t)."""
    toks, probs = [], []
    for b in range(logits.shape[0]):
        t, p = sample_tokens(
            logits[b][None, None].contiguous(),  # [1, 1, T, V]
            options.temperature,
            options.top_k,
            options.top_p,
            int(seeds[b]),
            offset,
        )
        toks.append(t[0, 0])
        probs.append(p[0, 0])
    return torch.stack(toks), torch.stack(probs)


def _fix_most_confident(
    masked: torch.Tensor,  # [B, T] bool, unknown real frames of this level
    conf: torch.Tensor,  # [B, T] float, confidence of each frame's new sample
    n_fix: torch.Tensor,  # [B] int64
) -> torch.Tensor:  # [B, T] bool, the frames to fix now
    """The n_fix[b] most confident masked frames of each item; ties go to the earlier frame."""
    score = torch.where(masked, conf.float(), torch.full_like(conf, -1.0, dtype=torch.float32))
    order = torch.sort(score, dim=1, descending=True, stable=True).indices  # [B, T]
    rank = torch.empty_like(order).scatter_(1, order, torch.arange(order.shape[1]).expand_as(order))
    return masked & (rank < n_fix[:, None])


def decode_tokens(
    logits_fn: LogitsFn,
    shape: tuple[int, int, int],  # (B, K, T)
    codebook_size: int,
    options: DecodeOptions = DecodeOptions(),
    known: torch.Tensor | None = None,  # [B, K, T] int64, MASK (= V) where unknown
    pad_mask: torch.Tensor | None = None,  # [B, T] bool, True at padding
    seeds: Sequence[int] | None = None,  # one per item; default options.seed for all
    device: torch.device | str = "cpu",
    on_step: Callable[[int, int], None] | None = None,  # (calls done, calls in all)
    propose: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:  # [B, K, T] int64 in [0, V)
    """Fill every unknown token. Known tokens are never changed.

    parallel: one call, argmax of every unknown token, or, with `propose` (tokens with MASK
    -> a full token guess [B, K, T]: a latent head's prediction quantised by the codec), that
    guess.
    iterative: for each level k from coarse to fine, S_k steps: sample all still-masked
    tokens of level k (levels > k stay masked unless known, levels < k are filled), keep
    the most confident so that the cosine schedule's share stays masked, re-mask the rest.
    With S_k = 1 and temperature 0 this is a level-by-level argmax.
    """
    B, K, T = shape
    V = codebook_size
    device = torch.device(device)
    seeds = [options.seed] * B if seeds is None else list(seeds)
    if len(seeds) != B:
        raise ValueError(f"expected {B} seeds, got {len(seeds)}")
    if known is None:
        tokens = torch.full(shape, V, dtype=torch.long, device=device)
    else:
        if tuple(known.shape) != shape:
            raise ValueError(f"expected known tokens {list(shape)}, got {list(known.shape)}")
        if known.numel() and (int(known.min()) < 0 or int(known.max()) > V):
            raise ValueError(f"expected known token ids in 0..{V} ({V} = MASK)")
        tokens = known.to(device=device, dtype=torch.long).clone()
    valid = (
        torch.ones(B, T, dtype=torch.bool, device=device)
        if pad_mask is None
        else ~pad_mask.to(device)
    )  # [B, T]
    total = options.n_calls(K)
    with torch.no_grad():
        if options.method == "parallel":
            if propose is not None:
                best = propose(tokens).to(device=device, dtype=torch.long)
            else:
                best, _ = sample_tokens(logits_fn(tokens), 0.0)  # [B, K, T] argmax
            tokens = torch.where(tokens == V, best, tokens)
            if on_step:
                on_step(1, 1)
            return tokens
        done = 0
        offset = 0
        for k, n_steps in enumerate(options.steps_per_level(K)):
            n_total = ((tokens[:, k] == V) & valid).sum(1)  # [B]
            for s in range(n_steps):
                masked = (tokens[:, k] == V) & valid  # [B, T]
                if bool(masked.any()):
                    logits = logits_fn(tokens, k)  # [B, T, V]
                    new, conf = _sample_items(logits, options, seeds, offset + s)
                    n_masked = masked.sum(1)
                    n_fix = (n_masked - masked_after(n_total, s, n_steps)).clamp(
                        min=(n_masked > 0).long()
                    )
                    fix = _fix_most_confident(masked, conf, n_fix)
                    tokens[:, k] = torch.where(fix, new, tokens[:, k])
                done += 1
                if on_step:
                    on_step(done, total)
            offset += n_steps
        # Padded frames were never decoded: give them a valid id so no MASK leaks out.
        return torch.where(tokens == V, torch.zeros_like(tokens), tokens)


def decode(
    model: DrumLM,
    features: torch.Tensor,  # [B, T, F]
    kit: torch.Tensor,  # [B] int64
    options: DecodeOptions = DecodeOptions(),
    known: torch.Tensor | None = None,  # [B, K, T], MASK where unknown
    pad_mask: torch.Tensor | None = None,  # [B, T] bool, True at padding
    seeds: Sequence[int] | None = None,
    body: Callable[..., torch.Tensor] | None = None,  # a compiled body to use instead
    on_step: Callable[[int, int], None] | None = None,
    quantize: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:  # [B, K, T]
    """decode_tokens with DrumLM's logits (conditioning computed once per decode). A model
    with a latent head decodes in parallel through it when given the codec's `quantize`."""
    device = model.tables.device
    features, kit = features.to(device), kit.to(device)
    if pad_mask is not None:
        pad_mask = pad_mask.to(device)
    with torch.no_grad():
        fn = model.logits_fn(features, kit, pad_mask, body)
        propose = latent_proposal(model, features, kit, pad_mask, quantize)
        B, T = features.shape[:2]
        return decode_tokens(
            fn, (B, model.n_codebooks, T), model.codebook_size, options, known, pad_mask,
            seeds, device, on_step, propose,
        )  # fmt: skip


def latent_proposal(
    model: DrumLM,
    features: torch.Tensor,  # [B, T, F]
    kit: torch.Tensor | None,  # [B]; None with a prompt's memory
    pad_mask: torch.Tensor | None,
    quantize: Callable[[torch.Tensor], torch.Tensor] | None,
    memory: PromptMemory | None = None,
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """tokens -> the codec's codes of the latent head's prediction, or None for a model
    without a latent head (or no quantiser given)."""
    if not model.latent_dim or quantize is None:
        return None
    latent = model.latent_fn(features, kit, pad_mask, memory)
    return lambda tokens: quantize(latent(tokens).float())


def batch_conditioning(
    conds: Sequence[FrameConditioning], kits: Sequence[int] | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """FrameConditionings of any lengths -> features [B, T, F] (zero-padded to the longest),
    kit [B] (from `kits`, else each conditioning's own kit) and pad_mask [B, T]."""
    if not conds:
        raise ValueError("expected at least one FrameConditioning, got none")
    T = max(c.n_frames for c in conds)
    F = conds[0].features.shape[1]
    feats = np.zeros((len(conds), T, F), np.float32)
    pad = np.ones((len(conds), T), bool)
    for i, c in enumerate(conds):
        feats[i, : c.n_frames] = c.features
        pad[i, : c.n_frames] = False
    if kits is None:
        missing = [i for i, c in enumerate(conds) if c.kit is None]
        if missing:
            raise ValueError(f"expected a kit id for every item, got none for items {missing}")
        kits = [int(c.kit) for c in conds if c.kit is not None]  # every one: none is missing
    return (
        torch.from_numpy(feats),
        torch.tensor(list(kits), dtype=torch.long),
        torch.from_numpy(pad),
    )


def prefix_known(
    prefix: torch.Tensor,  # [B, K, P] tokens of the frames already rendered
    n_frames: int,
    codebook_size: int,
) -> torch.Tensor:  # [B, K, n_frames], the prefix then MASK
    """Known tokens for continuing a window from the previous window's overlap."""
    B, K, P = prefix.shape
    if n_frames < P:
        raise ValueError(f"expected a prefix of at most {n_frames} frames, got {P}")
    out = torch.full((B, K, n_frames), codebook_size, dtype=torch.long, device=prefix.device)
    out[:, :, :P] = prefix
    return out
