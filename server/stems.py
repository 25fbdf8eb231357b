"""Stems per drum class, and stereo from them.

The model renders a kit as one mono signal; a stem cannot be rendered on its own and then
summed, because a kit played together is not the sum of its drums played alone (the model
renders each from its own tokens). So each class present is rendered alone (solo) to learn
where in time and frequency that drum sounds, and the mix is split by those solos' share
of the power in every STFT bin (a soft mask per class, the masks summing to 1). The stems
then sum to the mix exactly, up to the STFT's float error and each file's quantisation
(`STEM_SUM_TOLERANCE_DB` below the mix, checked in tests).

Stereo places each stem by `PAN` (constant-power, audience view: the hi-hat and crash on the
left, the ride and floor tom on the right, kick and snare centred), since the codec is mono
and the SoundFont kits' own panning is not in the training audio.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from drumgrid.server.drums import DrumClass
from drumgrid.server.performance import Performance
from drumgrid.server.prompts import Prompt

N_FFT, HOP = 2048, 512
STEM_SUM_TOLERANCE_DB = -80.0  # RMS of (sum of stems - mix) relative to the mix's RMS
PAN: dict[DrumClass, float] = {  # -1 left .. 1 right, as the audience hears the kit
    DrumClass.KICK: 0.0,
    DrumClass.SNARE: 0.0,
    DrumClass.HIHAT_CLOSED: -0.35,
    DrumClass.HIHAT_OPEN: -0.35,
    DrumClass.TOM_HIGH: -0.2,
    DrumClass.TOM_MID: 0.1,
    DrumClass.TOM_LOW: 0.4,
    DrumClass.CRASH: -0.5,
    DrumClass.RIDE: 0.5,
}


@dataclass(frozen=True)
class Stems:
    mix: np.ndarray  # [N] mono
    stems: dict[DrumClass, np.ndarray]  # class -> [N], summing to the mix
    sample_rate: int


def solo(performance: Performance, cls: DrumClass) -> Performance:
    """The performance with only `cls`'s hits (same tempo map, signatures and length)."""
    return replace(performance, hits=tuple(h for h in performance.hits if h.drum_class == cls))


def _stft(x: np.ndarray) -> torch.Tensor:
    window = torch.hann_window(N_FFT, dtype=torch.float64)
    return torch.stft(
        torch.from_numpy(x.astype(np.float64)), N_FFT, HOP, window=window, return_complex=True
    )


def split(mix: np.ndarray, solos: dict[DrumClass, np.ndarray], sample_rate: int) -> Stems:
    """Split mono `mix` [N] by the solos' power shares per STFT bin."""
    n = mix.shape[0]
    spectrum = _stft(mix)
    powers = {c: _stft(s).abs().square() for c, s in solos.items()}
    total = sum(powers.values())  # [F, T]
    if not isinstance(total, torch.Tensor):  # sum's start, 0: there was no solo
        raise ValueError("expected at least one solo to split the mix by, got none")
    floor = 1e-12 * float(total.max()) + 1e-30
    share_even = 1.0 / len(powers)  # where no solo sounds, split evenly
    window = torch.hann_window(N_FFT, dtype=torch.float64)
    stems = {}
    for c, p in powers.items():
        mask = torch.where(total > floor, p / total.clamp_min(floor), share_even)
        y = torch.istft(spectrum * mask, N_FFT, HOP, window=window, length=n)
        stems[c] = y.numpy().astype(np.float32)
    return Stems(mix.astype(np.float32), stems, sample_rate)


def pan_gains(position: float) -> tuple[float, float]:
    """Constant-power gains (left, right) for a position in [-1, 1]."""
    angle = (position + 1) * math.pi / 4
    return math.cos(angle) * math.sqrt(2), math.sin(angle) * math.sqrt(2)


def stereo(stems: Stems) -> np.ndarray:
    """[N, 2]: every stem at its PAN position; a centred stem keeps its level in each side."""
    out = np.zeros((stems.mix.shape[0], 2), np.float32)
    for c, y in stems.stems.items():
        left, right = pan_gains(PAN[c])
        out[:, 0] += left * y
        out[:, 1] += right * y
    return out


def render_stems(
    engine,
    performance: Performance,
    options,
    progress: Callable[[float], None] | None = None,
    prompt: Prompt | None = None,
) -> list[Stems]:
    """One Stems per take: the render, and each class present rendered alone with the same
    options, seed and prompt (1 + classes renders in all) to split it."""
    mono = replace(options, channels=1)
    classes = sorted({h.drum_class for h in performance.hits})
    parts = [performance, *(solo(performance, c) for c in classes)]

    def part_progress(i: int) -> Callable[[float], None] | None:
        if progress is None:
            return None
        return lambda f: progress((i + f) / len(parts))

    renders = [engine.render(p, mono, part_progress(i), prompt=prompt) for i, p in enumerate(parts)]
    takes, solos = renders[0], dict(zip(classes, renders[1:], strict=True))
    return [
        split(take.audio[:, 0], {c: solos[c][b].audio[:, 0] for c in classes}, take.sample_rate)
        for b, take in enumerate(takes)
    ]
