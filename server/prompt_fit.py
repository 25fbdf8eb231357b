"""The nearest known kit: whether a prompt is the sound of a kit the model already knows by
name, and which. The model renders its kits by name better than from a few seconds of them
(docs/prompting.md, "The nearest known kit"), so a prompt of one renders as it.

A recording whose halves play the same classes: its first half, as a prompt, and each of the
model's kits, by name, predict its second half (the latent head in one pass, every token
masked), each scored against the codec's latent of what the recording holds there. A kit
that predicts it nearer than the prompt's own first half renders in its place.

A prompt whose halves cannot be compared (one-shots: each class once; a recording under
MIN_FIT_S, or whose second half brings new classes): each kit by name predicts the whole
prompt, and the nearest renders in its place only where it stands out: NAME_MARGIN times the
runner-up's error or less, and the nearest on every onset the prompt plays. A kit the model
knows is far nearer than its others on each of its drums; a kit it never heard comes about
as near to several, and its drums are nearest to different kits (docs/prompting.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import torch

from drumgrid.server.conditioning import frame_conditioning

if TYPE_CHECKING:
    from drumgrid.server.engine.engine import Engine
    from drumgrid.server.prompts import Prompt

MIN_FIT_S = 2.0  # a shorter prompt's halves hold too few hits to tell kits apart
# The held-out span: 2 s tells the seen kits from the rest as 4 s does (docs/prompting.md)
# at half the cost, which is one pass per known kit.
MAX_HELD_OUT_S = 2.0
NAME_MARGIN = 0.7  # the nearest kit's error against the runner-up's, where no halves compare


@dataclass(frozen=True)
class PromptFit:
    """`kit`: the known kit to render instead of the prompt (None: the prompt); `errors`:
    each kit, and the prompt's first half ("prompt") where its halves compare -> its latent
    error on what it predicted (empty when `skipped` says why nothing was compared);
    `onsets_won`: where no halves compare, on how many of the prompt's onsets the nearest kit
    was the nearest, and of how many."""

    kit: str | None
    errors: dict[str, float]
    skipped: str = ""
    onsets_won: tuple[int, int] = (0, 0)

    def ranked(self) -> list[str]:
        """The known kits, the nearest first."""
        return sorted((k for k in self.errors if k != "prompt"), key=self.errors.__getitem__)

    def notice(self) -> str:
        """What a user reads about it (the Max device reads the kit from "prompt: sounds like
        the known kit NAME (")."""
        if self.skipped:
            return f"prompt: rendered from it, not compared with known kits ({self.skipped})"
        ranked = self.ranked()
        nearest, own = ranked[0], self.errors.get("prompt")
        if own is None:  # no halves to compare: the kits against one another
            won, of = self.onsets_won
            detail = (f"predicts the prompt with latent error {self.errors[nearest]:.3f} and is "
                      f"the nearest on {won} of its {of} onsets; the next nearest kit, "
                      f"{ranked[1]}, {self.errors[ranked[1]]:.3f}")  # fmt: skip
            why = f"it {detail}"
        else:
            why = (f"it predicts the prompt's second half with latent error "
                   f"{self.errors[nearest]:.3f}, the prompt's first half {own:.3f}")  # fmt: skip
        if self.kit is not None:
            return (f"prompt: sounds like the known kit {self.kit} ({why}): rendered as "
                    f"{self.kit}; --no-prompt-fit (OSC prompt_fit 0) renders from the "
                    "prompt")  # fmt: skip
        if own is None:
            return (f"prompt: rendered from the prompt (no known kit stands out: the nearest, "
                    f"{nearest}, {detail})")  # fmt: skip
        return (
            f"prompt: rendered from the prompt (its first half predicts its second with latent "
            f"error {own:.3f}; the nearest known kit, {nearest}, {self.errors[nearest]:.3f})"
        )


def nearest_known_kit(engine: Engine, prompt: Prompt) -> PromptFit:
    """The PromptFit of a prompt the engine has checked (its codec, a prompted model)."""
    model, codec, info = engine.model, engine.codec, engine.info
    if not model.latent_dim or not codec.latent_dim:
        return PromptFit(None, {}, "the model has no latent head to compare with")
    n = prompt.tokens.shape[1]
    half = n // 2
    stop = min(n, half + model.max_frames, half + round(MAX_HELD_OUT_S * info.frame_rate))
    start_s = half / info.frame_rate
    first = {h.drum_class for h in prompt.performance.hits if h.time_s < start_s}
    held = {h.drum_class for h in prompt.performance.hits
            if start_s <= h.time_s < stop / info.frame_rate}  # fmt: skip
    if prompt.seconds >= MIN_FIT_S and held and not held - first:
        errors, _ = latent_errors(engine, prompt, half, stop, prompt_head(prompt, half, start_s))
        best = min(engine.kits, key=errors.__getitem__)
        return PromptFit(best if errors[best] < errors["prompt"] else None, errors)
    if len(engine.kits) < 2:
        return PromptFit(None, {}, "its halves do not compare, and the model knows one kit")
    stop = min(n, model.max_frames)
    onsets = sorted(
        {f for h in prompt.performance.hits if (f := round(h.time_s * info.frame_rate)) < stop}
    )
    spans = list(zip(onsets, [*onsets[1:], stop], strict=True))
    return fit_by_names(*latent_errors(engine, prompt, 0, stop, spans=spans))


def fit_by_names(errors: dict[str, float], by_onset: list[dict[str, float]]) -> PromptFit:
    """The kits' errors on the whole prompt and on each onset's frames -> the nearest kit
    where it stands out: NAME_MARGIN of the runner-up's error or less, nearest on every
    onset."""
    nearest, runner_up = sorted(errors, key=errors.__getitem__)[:2]
    won = sum(min(onset, key=onset.__getitem__) == nearest for onset in by_onset)
    stands_out = errors[nearest] <= NAME_MARGIN * errors[runner_up] and won == len(by_onset)
    return PromptFit(nearest if stands_out else None, errors, onsets_won=(won, len(by_onset)))


def prompt_head(prompt: Prompt, frames: int, seconds: float) -> Prompt:
    """The prompt's first `frames` frames (`seconds` long), as a prompt of its own."""
    return replace(prompt, tokens=prompt.tokens[:, :frames], seconds=seconds,
                   performance=prompt.performance.cut(seconds))  # fmt: skip


def latent_errors(
    engine: Engine,
    prompt: Prompt,
    start: int,
    stop: int,
    first_half: Prompt | None = None,
    spans: Sequence[tuple[int, int]] = (),
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Each kit's, by name, and `first_half`'s, as a prompt ("prompt"), latent error on the
    prompt's frames [start, stop), relative to their energy; and each kit's on each of
    `spans` (frames from `start`), relative to the span's."""
    model, codec, info = engine.model, engine.codec, engine.info
    cond = frame_conditioning(
        prompt.performance, info.frame_rate, start, stop - start, features=info.features
    )
    features = torch.from_numpy(cond.features).to(engine.device)[None]  # [1, T, F]
    tokens = torch.from_numpy(prompt.tokens[:, start:stop]).to(engine.device)[None]  # [1, K, T]
    n_kits = len(engine.kits)
    masked = torch.full_like(tokens, model.codebook_size)
    with torch.inference_mode():
        target = codec.latents(tokens).float()  # [1, T, L]
        kits = torch.arange(n_kits, device=engine.device)
        by_name = model.latent_fn(features.expand(n_kits, -1, -1), kits)(
            masked.expand(n_kits, -1, -1)
        )
        by_prompt = None
        if first_half is not None:
            memory = engine.remember(first_half)
            by_prompt = model.latent_fn(features, None, memory=memory)(masked)
    energy = max(float((target**2).sum()), 1e-12)
    errors = {}
    if by_prompt is not None:
        errors["prompt"] = float(((by_prompt.float() - target) ** 2).sum()) / energy
    squared = ((by_name.float() - target) ** 2).sum(dim=2)  # [kits, T]
    errors.update(dict(zip(engine.kits, (squared.sum(1) / energy).tolist(), strict=True)))
    by_span = []
    for a, b in spans:
        span_energy = max(float((target[0, a:b] ** 2).sum()), 1e-12)
        per_kit = (squared[:, a:b].sum(1) / span_energy).tolist()
        by_span.append(dict(zip(engine.kits, per_kit, strict=True)))
    return errors, by_span


def prompt_key(prompt: Prompt) -> str:
    """What a fit depends on, as a digest: the same tokens and grid get the same answer,
    however often a client sends the same files."""
    digest = hashlib.sha256(prompt.tokens.tobytes())
    digest.update(repr((prompt.codec_id, prompt.config_hash, prompt.performance.hits)).encode())
    return digest.hexdigest()
