"""Voicing: a kit part retuned and coloured as a producer does it in a sampler, so that kit
mixes hold sounds no kit of the corpus has. Twenty kits give a prompted model twenty snares
to recognise; a continuum of tunings and tones makes it listen to the prompt instead of
naming the nearest kit.

The tune knob is a sampler's: the part plays faster or slower, so its pitch and its decay
move together. It renders the hits at stretched times and resamples the result, so every
onset stays where the MIDI puts it. The tone is a high shelf (RBJ cookbook) above SHELF_HZ."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr
from scipy.signal import lfilter

from drumgrid.training.kits.base import Hit, KitRenderer

SHELF_HZ = 2000.0  # the high shelf's corner
MAX_SEMITONES = 12.0  # beyond an octave a drum is another instrument, and the stretch is long
MAX_BRIGHT_DB = 24.0


@dataclass(frozen=True)
class Voicing:
    """`semitones` up (or down, negative) and `bright_db` of high shelf; 0 and 0 leave a part
    as its kit plays it."""

    semitones: float = 0.0
    bright_db: float = 0.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.semitones) and abs(self.semitones) <= MAX_SEMITONES):
            raise ValueError(f"voicing: {self.semitones} semitones; expected within "
                             f"+-{MAX_SEMITONES:g}")  # fmt: skip
        if not (np.isfinite(self.bright_db) and abs(self.bright_db) <= MAX_BRIGHT_DB):
            raise ValueError(f"voicing: {self.bright_db} dB of shelf; expected within "
                             f"+-{MAX_BRIGHT_DB:g}")  # fmt: skip

    @property
    def neutral(self) -> bool:
        return self.semitones == 0.0 and self.bright_db == 0.0

    @property
    def speed(self) -> float:
        """How much faster the part plays (a sampler's pitch shift)."""
        return float(2.0 ** (self.semitones / 12.0))

    def record(self) -> dict[str, float]:
        return {"semitones": self.semitones, "bright_db": self.bright_db}


def render_voiced(
    renderer: KitRenderer,
    hits: list[Hit],
    duration_s: float,
    sample_rate: int,
    voicing: Voicing,
    mono: bool = True,
) -> np.ndarray:
    """The renderer's audio of `hits` (wave [N] or [N, 2], N = round(duration_s * rate)),
    voiced."""
    if voicing.neutral:
        return renderer.render(hits, duration_s, mono)
    speed = voicing.speed
    wave = renderer.render([(t * speed, p, v) for t, p, v in hits], duration_s * speed, mono)
    if speed != 1.0:  # played `speed` times faster: read at rate * speed, written at rate
        wave = soxr.resample(wave, sample_rate * speed, sample_rate)
    n = round(duration_s * sample_rate)  # the resampled length is n give or take a sample
    wave = np.pad(wave[:n], [(0, max(0, n - len(wave)))] + [(0, 0)] * (wave.ndim - 1))
    if voicing.bright_db:
        b, a = high_shelf(voicing.bright_db, sample_rate)
        wave = lfilter(b, a, wave, axis=0)
    return np.asarray(wave, np.float32)


def high_shelf(
    gain_db: float, sample_rate: int, corner_hz: float = SHELF_HZ
) -> tuple[np.ndarray, np.ndarray]:
    """Biquad (b, a) of a high shelf with slope 1 (RBJ audio EQ cookbook)."""
    amp = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * corner_hz / sample_rate
    cos, alpha = np.cos(w0), np.sin(w0) / 2.0 * np.sqrt(2.0)
    root = 2.0 * np.sqrt(amp) * alpha
    b = [amp * ((amp + 1) + (amp - 1) * cos + root), -2 * amp * ((amp - 1) + (amp + 1) * cos),
         amp * ((amp + 1) + (amp - 1) * cos - root)]  # fmt: skip
    a = [(amp + 1) - (amp - 1) * cos + root, 2 * ((amp - 1) - (amp + 1) * cos),
         (amp + 1) - (amp - 1) * cos - root]  # fmt: skip
    return np.array(b) / a[0], np.array(a) / a[0]
