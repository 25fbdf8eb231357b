"""The nearest known kit: whether a prompt is the sound of a kit the model already knows by
name, and which. The prompt's first half, as a prompt, and each of the model's kits, by name,
predict its second half (the latent head in one pass, every token masked); each is scored
against the codec's latent of what the recording holds there. A kit that predicts it nearer
than the prompt's own first half renders in the prompt's place: the model renders its kits
by name better than from a few seconds of them (docs/prompting.md, "The nearest known kit"),
and a kit it has not learnt keeps its prompt.

The held-out half must play only classes the first half plays: one-shots (each class once)
hold nothing out, and render from the prompt as given."""

from __future__ import annotations

import hashlib
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


@dataclass(frozen=True)
class PromptFit:
    """`kit`: the known kit to render instead of the prompt (None: the prompt); `errors`:
    "prompt" and each kit -> its latent error on the held-out half (empty when `skipped`
    says why nothing was compared)."""

    kit: str | None
    errors: dict[str, float]
    skipped: str = ""

    def notice(self) -> str:
        """What a user reads about it (the Max device reads the kit from "prompt: sounds like
        the known kit NAME (")."""
        if self.skipped:
            return f"prompt: rendered from it, not compared with known kits ({self.skipped})"
        own = self.errors["prompt"]
        if self.kit is not None:
            return (
                f"prompt: sounds like the known kit {self.kit} (it predicts the prompt's second "
                f"half with latent error {self.errors[self.kit]:.3f}, the prompt's first half "
                f"{own:.3f}): rendered as {self.kit}; --no-prompt-fit (OSC prompt_fit 0) "
                "renders from the prompt"
            )
        best = min((k for k in self.errors if k != "prompt"), key=self.errors.__getitem__)
        return (
            f"prompt: rendered from the prompt (its first half predicts its second with latent "
            f"error {own:.3f}; the nearest known kit, {best}, {self.errors[best]:.3f})"
        )


def nearest_known_kit(engine: Engine, prompt: Prompt) -> PromptFit:
    """The PromptFit of a prompt the engine has checked (its codec, a prompted model)."""
    model, codec, info = engine.model, engine.codec, engine.info
    if not model.latent_dim or not codec.latent_dim:
        return PromptFit(None, {}, "the model has no latent head to compare with")
    if prompt.seconds < MIN_FIT_S:
        return PromptFit(None, {}, f"shorter than {MIN_FIT_S:g} s")
    n = prompt.tokens.shape[1]
    half = n // 2
    stop = min(n, half + model.max_frames, half + round(MAX_HELD_OUT_S * info.frame_rate))
    start_s, stop_s = half / info.frame_rate, stop / info.frame_rate
    first = {h.drum_class for h in prompt.performance.hits if h.time_s < start_s}
    held = {h.drum_class for h in prompt.performance.hits if start_s <= h.time_s < stop_s}
    if not held:
        return PromptFit(None, {}, "its second half plays no hit")
    if held - first:
        return PromptFit(None, {}, "its second half plays classes its first half does not, "
                                   "as one-shots do")  # fmt: skip
    cond = frame_conditioning(
        prompt.performance, info.frame_rate, half, stop - half, features=info.features
    )
    features = torch.from_numpy(cond.features).to(engine.device)[None]  # [1, T, F]
    tokens = torch.from_numpy(prompt.tokens[:, half:stop]).to(engine.device)[None]  # [1, K, T]
    n_kits = len(engine.kits)
    masked = torch.full_like(tokens, model.codebook_size)
    first_half = replace(
        prompt, tokens=prompt.tokens[:, :half], performance=prompt.performance.cut(start_s),
        seconds=start_s,
    )  # fmt: skip
    with torch.inference_mode():
        target = codec.latents(tokens).float()  # [1, T, L]
        by_prompt = model.latent_fn(features, None, memory=engine.remember(first_half))(masked)
        kits = torch.arange(n_kits, device=engine.device)
        by_name = model.latent_fn(features.expand(n_kits, -1, -1), kits)(
            masked.expand(n_kits, -1, -1)
        )
    energy = max(float((target**2).sum()), 1e-12)
    errors = {"prompt": float(((by_prompt.float() - target) ** 2).sum()) / energy}
    per_kit = ((by_name.float() - target) ** 2).sum(dim=(1, 2)) / energy
    errors.update({name: float(e) for name, e in zip(engine.kits, per_kit, strict=True)})
    best = min(engine.kits, key=errors.__getitem__)
    return PromptFit(best if errors[best] < errors["prompt"] else None, errors)


def prompt_key(prompt: Prompt) -> str:
    """What a fit depends on, as a digest: the same tokens and grid get the same answer,
    however often a client sends the same files."""
    digest = hashlib.sha256(prompt.tokens.tobytes())
    digest.update(repr((prompt.codec_id, prompt.config_hash, prompt.performance.hits)).encode())
    return digest.hexdigest()
