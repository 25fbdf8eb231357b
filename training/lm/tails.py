"""Tail frames: where a cymbal still rings and nothing has been hit for a while.

Trained on grooves, the model lets a lone crash fall 20 dB short of the sampler 2-3 s after
the hit (docs/model_quality.md): such frames are few, quiet, and cost the latent loss little
beside the hits. `--tail-weight` scales the latent head's loss on them. They are read from
the conditioning the window already carries, so no audio is needed: a cymbal's `ring` still
above RING_MIN (its velocity-weighted 1.5 s decay: a crash at velocity 100 for about 4 s) and
every class's short `decay` below QUIET_DECAY (no hit for about 0.45 s)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from drumgrid.server.drums import CLASS_LABELS, CYMBALS
from drumgrid.server.errors import UserError

RING_MIN = 0.05
QUIET_DECAY = 0.1


class TailFrames:
    """features [B, T, F] (columns `names`) -> [B, T] bool, True at tail frames."""

    def __init__(self, names: Sequence[str]) -> None:
        rings = [f"{c.label}.ring" for c in CYMBALS]
        decays = [f"{label}.decay" for label in CLASS_LABELS]
        missing = [n for n in (*rings, *decays) if n not in names]
        if missing:
            raise UserError(
                f"--tail-weight reads the conditioning features {', '.join(missing)}, which "
                "this model lacks; add them with --grow-features"
            )
        self.rings = [list(names).index(n) for n in rings]
        self.decays = [list(names).index(n) for n in decays]

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        ringing = features[..., self.rings].amax(-1) >= RING_MIN
        quiet = features[..., self.decays].amax(-1) < QUIET_DECAY
        return ringing & quiet
