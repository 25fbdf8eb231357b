"""How a clip of T frames is cut into windows the model was trained on.

Every window but a short clip's only one is exactly W frames long (a constant shape, which
compiled and TensorRT bodies like): windows start every W - O frames, and the last one is
pulled back to end at T, so it overlaps its predecessor by O frames or more. The tokens of
that overlap are given to the window as known (continuation), so each frame is decoded once
and the token sequence is one continuous stream: there is no seam to crossfade.
"""

from __future__ import annotations

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
    out = [Window(0, window, 0)]
    while out[-1].stop < n_frames:
        start = min(out[-1].stop - overlap, n_frames - window)
        out.append(Window(start, start + window, out[-1].stop - start))
    return out


def window_seed(seed: int, index: int) -> int:
    """Window 0 uses the take's seed itself (so a clip that fits one window renders as one
    decode call with that seed); later windows get seeds far from it, because the sampler's
    draws depend on (seed, step, frame within the call) and would otherwise repeat per window."""
    return seed if index == 0 else (seed + index * SEED_STRIDE) % (2**62)
