"""Output level: every render leaves drumgrid at a known level, whatever the kit.

Two targets, one ceiling:

- `peak` (the default, -1 dBFS): the render's sample peak is set to the target, as sample
  packs normalise loops. Drums have a high crest factor: the shipped model's renders of the
  example grooves peak 22-25 dB above their integrated loudness, so a loudness target such as
  streaming's -14 LUFS would put peaks at +8 to +11 dBFS, i.e. need that much limiting on
  every hit; drumgrid does not limit (transients are what a mix engineer wants to keep).
- `loudness` (ITU-R BS.1770-4 integrated loudness, LUFS): kits and grooves come out equally
  loud, as far as the ceiling allows: the gain never lifts the peak above -1 dBFS, and when
  it would, the report says how far short of the target the render stayed.

Clips shorter than BS.1770's 400 ms block have no integrated loudness; they are set by peak
(and the report says so). Silence is left alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drumgrid.bridge.contract import (
    DEFAULT_PEAK_DBFS,
    LOUDNESS_RANGE,
    PEAK_CEILING_DBFS,
    PEAK_RANGE,
)
from drumgrid.server.errors import UserError

# The targets' defaults and ranges are the render contract's (bridge/contract.py).
MIN_LOUDNESS_S = 0.4  # one BS.1770 gating block


@dataclass(frozen=True)
class LevelTarget:
    mode: str  # "peak", "loudness" or "off"
    value: float = DEFAULT_PEAK_DBFS  # dBFS for peak, LUFS for loudness

    def __post_init__(self) -> None:
        if self.mode not in ("peak", "loudness", "off"):
            raise UserError(f"level mode {self.mode!r}: expected peak, loudness or off")
        low, high = PEAK_RANGE if self.mode == "peak" else LOUDNESS_RANGE
        if self.mode != "off" and not (math.isfinite(self.value) and low <= self.value <= high):
            unit = "dBFS" if self.mode == "peak" else "LUFS"
            raise UserError(f"{self.mode} {self.value:g} {unit}: expected {low:g} to {high:g}")

    def describe(self) -> str:
        if self.mode == "off":
            return "as the model made it"
        return f"peak {self.value:g} dBFS" if self.mode == "peak" else f"{self.value:g} LUFS"


DEFAULT_LEVEL = LevelTarget("peak", DEFAULT_PEAK_DBFS)


@dataclass(frozen=True)
class LevelReport:
    gain_db: float
    peak_dbfs: float  # after the gain
    loudness_lufs: float | None  # after the gain; None when too short or silent
    note: str = ""  # why the target was not reached, if it was not

    def describe(self) -> str:
        loud = f", {self.loudness_lufs:.1f} LUFS" if self.loudness_lufs is not None else ""
        text = f"level: gain {self.gain_db:+.1f} dB, peak {self.peak_dbfs:.1f} dBFS{loud}"
        return text + (f" ({self.note})" if self.note else "")


def _db(x: float) -> float:
    return 20 * math.log10(x) if x > 0 else -math.inf


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float | None:
    """BS.1770-4 integrated loudness of [N] or [N, C] audio, None when shorter than one block
    or gated away entirely (silence)."""
    import pyloudnorm

    data = np.asarray(audio, dtype=np.float64)
    if data.shape[0] < MIN_LOUDNESS_S * sample_rate:
        return None
    value = pyloudnorm.Meter(sample_rate).integrated_loudness(data)
    return float(value) if math.isfinite(value) else None


def apply_level(
    audio: np.ndarray, sample_rate: int, target: LevelTarget = DEFAULT_LEVEL
) -> tuple[np.ndarray, LevelReport]:
    """(audio at the target level, what was done). Gains only scale: no limiting, no
    clipping (the ceiling caps loudness targets)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak == 0.0:
        return audio, LevelReport(0.0, -math.inf, None, "" if target.mode == "off" else "silent")
    # Loudness is read once, at the ceiling's level (it scales with gain, but BS.1770's -70
    # LUFS absolute gate would read a very quiet render as silence), and follows the gain.
    headroom = PEAK_CEILING_DBFS - _db(peak)
    at_ceiling = integrated_loudness(audio * 10 ** (headroom / 20), sample_rate)
    note = ""
    if target.mode == "off":
        gain_db = 0.0
    elif target.mode == "peak":
        gain_db = target.value - _db(peak)
    elif at_ceiling is None:
        gain_db = headroom
        note = f"no loudness reading (too short): peak set to {PEAK_CEILING_DBFS:g} dBFS"
    elif target.value > at_ceiling:
        gain_db = headroom
        note = (
            f"{target.value - at_ceiling:.1f} dB short of {target.value:g} LUFS: the peak "
            f"stays at {PEAK_CEILING_DBFS:g} dBFS (drumgrid does not limit)"
        )
    else:
        gain_db = headroom + target.value - at_ceiling
    out = audio if gain_db == 0.0 else (audio * 10 ** (gain_db / 20)).astype(audio.dtype)
    loudness = None if at_ceiling is None else at_ceiling + gain_db - headroom
    return out, LevelReport(gain_db, _db(peak) + gain_db, loudness, note)
