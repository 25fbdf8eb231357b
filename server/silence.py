"""Clean silence: where the grid has no hit ringing, the render is digital silence.

A sampler is silent before the first note, after the last one has rung out and in breaks;
a token model is not quite: it can place faint transients (a phantom hit) or a noise floor
anywhere. So the engine multiplies each take by a ring mask made from the performance: 1
from 5 ms before each hit until its class's ring time after it, raised-cosine fades of 5 ms
in and 50 ms out, 0 elsewhere. The ring times are generous (a crash 4 s, about as long as
the kits' crash samples ring; the corpus lets a hit ring 2 s), so nothing a kit plays is cut
short; a phantom hit inside a real hit's ring is not removed (the model's own job).
"""

from __future__ import annotations

import numpy as np

from drumgrid.server.drums import DrumClass
from drumgrid.server.performance import Performance

RING_S: dict[DrumClass, float] = {
    DrumClass.KICK: 1.5,
    DrumClass.SNARE: 1.5,
    DrumClass.HIHAT_CLOSED: 1.0,
    DrumClass.HIHAT_OPEN: 2.5,
    DrumClass.TOM_LOW: 2.5,
    DrumClass.TOM_MID: 2.5,
    DrumClass.TOM_HIGH: 2.5,
    DrumClass.CRASH: 4.0,
    DrumClass.RIDE: 4.0,
}
PRE_ROLL_S = 0.005  # a hit's onset may sit a few ms early in the audio
FADE_OUT_S = 0.05


def _intervals(performance: Performance) -> list[tuple[float, float]]:
    """Merged [start, end) seconds in which some hit rings."""
    spans = sorted(
        (h.time_s - PRE_ROLL_S, h.time_s + RING_S[h.drum_class]) for h in performance.hits
    )
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def ring_mask(performance: Performance, n_samples: int, sample_rate: int) -> np.ndarray:
    """[n_samples] float32 in [0, 1]: 1 where a hit rings, fading to 0 outside."""
    mask = np.zeros(n_samples, np.float32)
    fade_in = max(1, round(PRE_ROLL_S * sample_rate))
    fade_out = max(1, round(FADE_OUT_S * sample_rate))
    ramp_in = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade_in) + 0.5) / fade_in)
    ramp_out = 0.5 + 0.5 * np.cos(np.pi * (np.arange(fade_out) + 0.5) / fade_out)
    for start_s, end_s in _intervals(performance):
        a = round(start_s * sample_rate)
        b = round(end_s * sample_rate)
        lo, hi = max(a - fade_in, 0), min(a, n_samples)  # fade in, ending at the pre-roll
        if hi > lo:
            mask[lo:hi] = np.maximum(mask[lo:hi], ramp_in[fade_in - (hi - lo) :][: hi - lo])
        mask[max(a, 0) : min(b, n_samples)] = 1.0
        lo, hi = max(b, 0), min(b + fade_out, n_samples)
        if hi > lo:
            mask[lo:hi] = np.maximum(mask[lo:hi], ramp_out[: hi - lo])
    return mask
