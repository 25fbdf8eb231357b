"""Frame-rate conditioning: what the Transformer reads for every codec frame.

Per class it carries the onset flag, the velocity and the onset's exact position inside the
frame (so microtiming below one frame survives), plus two velocity-weighted exponential
decays since the class's last onset: a short one (0.2 s) that marks the attack and a long one
(1.5 s, "ring") that still says a crash rang 3 s later; and that onset's age, a clock rising
from 0 at the hit to 1 at AGE_MAX_S (1 before any onset): the ring alone cannot tell a loud
crash long ago from a soft one just now, and a tail's level depends on which. Globally the
beat and bar phase (as sin/cos) and the tempo; and which of a class's sounds (a splash, a
side stick, a pedal hi-hat, a ride's bell) sounds. All of it is computed from seconds, so tempo
maps and signature changes are honoured.

A model records the feature names it was trained on and gets exactly those columns, in its
order, so models from before a feature was added keep rendering (`features=`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drumgrid.server.drums import CLASS_LABELS, CYMBALS, N_CLASSES, VARIANT_WORDS, DrumClass
from drumgrid.server.performance import Performance

PER_CLASS_FEATURES = ("onset", "velocity", "position", "decay", "ring", "age")
GLOBAL_FEATURES = ("beat_sin", "beat_cos", "bar_sin", "bar_cos", "log2_tempo")
# Per told-apart sound of a class (drums.VARIANT_WORDS), the class's decay again (its ring
# for a cymbal) while the class's latest hit was that sound (Hit.variant): a splash dies in a
# second where a crash rings for three, a side stick is not a snare, a pedal hi-hat not a
# stick hit. GMD's most played crash pitch (55) sounds as General MIDI's splash.
VARIANTS: tuple[tuple[DrumClass, str], ...] = tuple(
    (c, v) for c, words in VARIANT_WORDS.items() for v in words
)
VARIANT_FEATURES = tuple(f"{c.label}.{v}" for c, v in VARIANTS)
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{c}.{f}" for f in PER_CLASS_FEATURES for c in CLASS_LABELS),
    *GLOBAL_FEATURES,
    *VARIANT_FEATURES,
)
N_FEATURES = len(FEATURE_NAMES)
VARIANT_COLUMN = FEATURE_NAMES.index(VARIANT_FEATURES[0])
DEFAULT_DECAY_S = 0.2
RING_DECAY_S = 1.5  # a crash sample rings 3-4 s; e^(-3 / 1.5) still tells the model it rang
AGE_MAX_S = 5.0  # longer than any kit's crash rings (FluidR3's: about 3.5 s)


@dataclass(frozen=True)
class FrameConditioning:
    features: np.ndarray  # [T, F] float32, columns as `names`
    frame_rate: float
    start_frame: int  # index of the first row in the whole performance
    tempo_bpm: np.ndarray  # [T] tempo in force at each frame's start
    kit: int | None = None
    names: tuple[str, ...] = FEATURE_NAMES

    @property
    def n_frames(self) -> int:
        return int(self.features.shape[0])

    def column(self, name: str) -> np.ndarray:  # [T]
        return self.features[:, self.names.index(name)]


def n_frames_for(duration_s: float, frame_rate: float) -> int:
    """Frames a codec produces for `duration_s` of audio (the codec contract's ceil)."""
    return max(1, math.ceil(duration_s * frame_rate - 1e-9))


def frame_conditioning(
    performance: Performance,
    frame_rate: float,
    start_frame: int = 0,
    n_frames: int | None = None,
    decay_s: float = DEFAULT_DECAY_S,
    kit: int | None = None,
    features: tuple[str, ...] = FEATURE_NAMES,
) -> FrameConditioning:
    """Columns `features` for frames [start_frame, start_frame + n_frames) (default: the
    whole length).

    Frame f covers [f / rate, (f + 1) / rate). A hit at time t lands in frame floor(t * rate)
    with position t * rate - floor(t * rate) in [0, 1); when two hits of one class share a
    frame the louder one is kept. The decays of frame f are measured at the frame's end.
    """
    if not (math.isfinite(frame_rate) and frame_rate > 0):
        raise ValueError(f"frame_rate must be positive, got {frame_rate}")
    unknown = [n for n in features if n not in FEATURE_NAMES]
    if unknown:
        raise ValueError(f"unknown conditioning features {unknown}")
    if n_frames is None:
        n_frames = n_frames_for(performance.length_s, frame_rate) - start_frame
    if n_frames < 0 or start_frame < 0:
        raise ValueError(f"bad frame window: start {start_frame}, length {n_frames}")
    out = np.zeros((n_frames, N_FEATURES), np.float32)
    frames = np.arange(start_frame, start_frame + n_frames, dtype=np.float64)
    frame_end = (frames + 1.0) / frame_rate

    times = performance.hit_times()
    classes = np.fromiter((int(h.drum_class) for h in performance.hits), np.int64, len(times))
    velocities = np.fromiter((h.velocity for h in performance.hits), np.float64, len(times)) / 127.0
    variants = np.array([h.variant for h in performance.hits], dtype=object)
    positions = times * frame_rate
    hit_frames = np.floor(positions).astype(np.int64)
    for c in range(N_CLASSES):
        sel = classes == c
        t, v, pos, f = times[sel], velocities[sel], positions[sel], hit_frames[sel]
        # Onsets inside the window, quietest first so the louder of a shared frame wins.
        inside = (f >= start_frame) & (f < start_frame + n_frames)
        order = np.argsort(v[inside], kind="stable")
        rows = (f[inside] - start_frame)[order]
        out[rows, c] = 1.0
        out[rows, N_CLASSES + c] = v[inside][order]
        out[rows, 2 * N_CLASSES + c] = (pos[inside] - f[inside])[order]
        # Decays of the latest onset before each frame's end (t is sorted: hits are).
        if len(t):
            last = np.searchsorted(t, frame_end, side="left") - 1
            idx = np.clip(last, 0, None)
            age = np.where(last >= 0, frame_end - t[idx], np.inf)  # no onset yet: no decay
            out[:, 3 * N_CLASSES + c] = v[idx] * np.exp(-age / decay_s)
            out[:, 4 * N_CLASSES + c] = v[idx] * np.exp(-age / RING_DECAY_S)
            held_by = variants[sel][idx]
            gated = out[:, (4 if c in CYMBALS else 3) * N_CLASSES + c]
            for column, (vc, name) in enumerate(VARIANTS, start=VARIANT_COLUMN):
                if vc == c:
                    out[:, column] = np.where((last >= 0) & (held_by == name), gated, 0.0)
        else:
            age = np.full(n_frames, np.inf)
        out[:, 5 * N_CLASSES + c] = np.minimum(age / AGE_MAX_S, 1.0)

    frame_start = frames / frame_rate
    beats = performance.tempo_map.beat_at(frame_start)
    beat_phase = 2 * np.pi * np.mod(beats, 1.0)
    bar_phase = 2 * np.pi * performance.bar_phase(beats)
    tempo = performance.tempo_map.bpm_at(frame_start)
    g = len(PER_CLASS_FEATURES) * N_CLASSES
    out[:, g + 0] = np.sin(beat_phase)
    out[:, g + 1] = np.cos(beat_phase)
    out[:, g + 2] = np.sin(bar_phase)
    out[:, g + 3] = np.cos(bar_phase)
    out[:, g + 4] = np.log2(tempo / 120.0)
    if features != FEATURE_NAMES:
        out = np.ascontiguousarray(out[:, [FEATURE_NAMES.index(n) for n in features]])
    return FrameConditioning(
        out, float(frame_rate), start_frame, tempo.astype(np.float32), kit, tuple(features)
    )
