"""The GrooVAE grid: a quantised view of a performance, for people and for comparison with
GrooVAE-style models. It is derived from a Performance and never fed to the model."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drumgrid.server.drums import CLASS_LABELS, N_CLASSES
from drumgrid.server.errors import TooLong
from drumgrid.server.performance import Performance

# The most steps a grid has: 100 000 sixteenths are 104 minutes at 240 bpm, and as text about
# 1 MB. Checked before the [steps, classes] arrays are allocated.
MAX_GRID_STEPS = 100_000


def step_and_offset(beats: np.ndarray, steps_per_beat: int) -> tuple[np.ndarray, np.ndarray]:
    """Nearest step of each position and the offset from it, in [-0.5, 0.5) of a step."""
    pos = np.asarray(beats, dtype=np.float64) * steps_per_beat
    steps = np.floor(pos + 0.5)
    offsets = pos - steps
    # floor(x + 0.5) can round x = k + 0.5 - tiny up; keep the offset inside [-0.5, 0.5).
    wrap = offsets < -0.5
    steps[wrap] -= 1
    offsets[wrap] += 1
    return steps.astype(np.int64), offsets


@dataclass(frozen=True)
class DrumGrid:
    steps_per_beat: int
    hits: np.ndarray  # [S, 9] 1.0 where a class hits in a step
    velocities: np.ndarray  # [S, 9] MIDI velocity / 127
    offsets: np.ndarray  # [S, 9] in [-0.5, 0.5) of a step
    collisions: int  # hits dropped because a louder hit of their class shared the cell

    @property
    def n_steps(self) -> int:
        return int(self.hits.shape[0])


def grid_view(performance: Performance, steps_per_beat: int = 4) -> DrumGrid:
    """Quantise to `steps_per_beat` steps per quarter note, keeping the louder of two hits that
    fall into one cell (and counting the collision)."""
    if steps_per_beat < 1:
        raise ValueError(f"steps_per_beat must be >= 1, got {steps_per_beat}")
    steps, offsets = step_and_offset(performance.hit_beats(), steps_per_beat)
    n_steps = max(math.ceil(performance.length_beats * steps_per_beat - 1e-9), 1)
    if len(steps):
        n_steps = max(n_steps, int(steps.max()) + 1)
    if n_steps > MAX_GRID_STEPS:
        raise TooLong(
            f"the grid would have {n_steps} steps ({performance.length_beats:.0f} beats at "
            f"{steps_per_beat} steps per beat), more than the {MAX_GRID_STEPS} shown at once; "
            "use fewer --steps-per-beat or a shorter clip"
        )
    hits = np.zeros((n_steps, N_CLASSES), np.float32)
    velocities = np.zeros((n_steps, N_CLASSES), np.float32)
    grid_offsets = np.zeros((n_steps, N_CLASSES), np.float32)
    collisions = 0
    for hit, step, offset in zip(performance.hits, steps, offsets, strict=True):
        c = int(hit.drum_class)
        velocity = hit.velocity / 127.0
        if hits[step, c]:
            collisions += 1
            if velocity <= velocities[step, c]:
                continue
        hits[step, c] = 1.0
        velocities[step, c] = velocity
        grid_offsets[step, c] = offset
    return DrumGrid(steps_per_beat, hits, velocities, grid_offsets, collisions)


def _velocity_glyph(velocity: float) -> str:
    return "o" if velocity < 0.4 else ("x" if velocity < 0.75 else "X")


def render_text(performance: Performance, grid: DrumGrid, width: int = 100) -> str:
    """One row per class, one column per step, '|' at bar lines; o/x/X by velocity
    (< 51, < 96, >= 96), wrapped a whole number of bars at a time."""
    bar_steps = [round(b * grid.steps_per_beat) for b in performance.bar_lines()]
    # Bars shorter than a step share one column: keep the first, so there are <= n_steps bars.
    bar_steps = sorted({s for s in bar_steps if s < grid.n_steps}) or [0]
    bounds = [*bar_steps, grid.n_steps]
    label_w = max(len(label) for label in CLASS_LABELS) + 2
    lines: list[str] = []
    bar = 0
    while bar < len(bar_steps):
        # As many bars as fit the width (at least one).
        end_bar, used = bar, label_w
        while end_bar < len(bar_steps):
            cost = bounds[end_bar + 1] - bounds[end_bar] + 1
            if end_bar > bar and used + cost > width:
                break
            used += cost
            end_bar += 1
        header = " " * label_w
        rows = [label.ljust(label_w) for label in CLASS_LABELS]
        for b in range(bar, end_bar):
            lo, hi = bounds[b], bounds[b + 1]
            header += "|" + f"{b + 1}".ljust(hi - lo)
            for c, _ in enumerate(rows):
                cells = "".join(
                    _velocity_glyph(grid.velocities[s, c]) if grid.hits[s, c] else "."
                    for s in range(lo, hi)
                )
                rows[c] += "|" + cells
        lines.append(header.rstrip())
        lines.extend(rows)
        lines.append("")
        bar = end_bar
    return "\n".join(lines).rstrip() + "\n"
