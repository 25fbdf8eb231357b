"""How a clip of T frames is cut into windows the model was trained on.

A clip longer than the trained window W is cut into the fewest windows of at most W frames
that overlap by at least O, all of one length L <= W (evened out, so a clip just over W
frames does not pay for a nearly redundant last window; one shape per clip suits compiled
and TensorRT bodies, whose frame dimension is dynamic). Windows start every L - O frames and
the last one is pulled back to end at T. The tokens of each overlap are given to the window
as known (continuation), so each frame is decoded once and the token sequence is one
continuous stream: there is no seam to crossfade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SEED_STRIDE = 0x9E3779B97F4A7C15  # golden-ratio stride: per-window seeds far apart


@dataclass(frozen=True)
class Window:
    start: int  # first frame
    stop: int  # one past the last frame
    known: int  # frames at the start already decoded by the previous window

    @property
    def n_frames(self) -> int:
        return self.stop - self.start


def plan_windows(n_frames: int, window: int, overlap: int) -> list[Window]:
    """Windows covering [0, n_frames): see the module docstring."""
    if window < 2 or not 0 <= overlap < window:
        raise ValueError(f"expected window >= 2 and 0 <= overlap < window, got {window}, {overlap}")
    if n_frames <= window:
        return [Window(0, n_frames, 0)]
    count = math.ceil((n_frames - overlap) / (window - overlap))
    length = math.ceil((n_frames + (count - 1) * overlap) / count)  # <= window
    out = [Window(0, length, 0)]
    while out[-1].stop < n_frames:
        start = min(out[-1].stop - overlap, n_frames - length)
        out.append(Window(start, start + length, out[-1].stop - start))
    return out


def window_seed(seed: int, index: int) -> int:
    """Window 0 uses the take's seed itself (so a clip that fits one window renders as one
    decode call with that seed); later windows get seeds far from it, because the sampler's
    draws depend on (seed, step, frame within the call) and would otherwise repeat per window."""
    return seed if index == 0 else (seed + index * SEED_STRIDE) % (2**62)
