"""Output levels: peak and loudness targets, the -1 dBFS ceiling, short and silent clips, and
the same over the command line and OSC."""

from __future__ import annotations

import numpy as np
import pytest

from drumgrid.server.errors import UserError
from drumgrid.server.levels import (
    DEFAULT_LEVEL,
    LevelTarget,
    apply_level,
    integrated_loudness,
)

SR = 44100


def hits(seconds: float = 4.0, decay_s: float = 0.08, level: float = 0.05) -> np.ndarray:
    """Decaying noise bursts every 250 ms: a drum-like crest factor."""
    rng = np.random.default_rng(0)
    x = np.zeros(int(seconds * SR), np.float32)
    n = int(0.3 * SR)
    env = np.exp(-np.arange(n) / (decay_s * SR))
    for start in range(0, len(x) - n, SR // 4):
        x[start : start + n] += level * rng.standard_normal(n).astype(np.float32) * env
    return x


def peak_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.abs(x).max())


def test_peak_target_is_exact_and_the_default():
    out, report = apply_level(hits(), SR)
    assert LevelTarget("peak", -1.0) == DEFAULT_LEVEL
    assert peak_db(out) == pytest.approx(-1.0, abs=1e-4) and report.peak_dbfs == pytest.approx(-1)
    assert report.note == "" and report.loudness_lufs is not None


def test_loudness_target_within_1_lu_when_the_ceiling_allows():
    for decay in (0.02, 0.08, 0.3):  # different crest factors, the same loudness out
        out, report = apply_level(hits(decay_s=decay), SR, LevelTarget("loudness", -30.0))
        assert integrated_loudness(out, SR) == pytest.approx(-30.0, abs=1.0)
        assert report.note == "" and peak_db(out) <= -1.0


def test_the_ceiling_stops_a_loudness_target_and_says_so():
    out, report = apply_level(hits(), SR, LevelTarget("loudness", -8.0))
    assert peak_db(out) == pytest.approx(-1.0, abs=1e-4)  # never above the ceiling: no clipping
    assert "short of -8 LUFS" in report.note and "does not limit" in report.note
    assert report.loudness_lufs < -8.0


def test_short_silent_and_off():
    short = hits(1.0)[: int(0.2 * SR)]
    out, report = apply_level(short, SR, LevelTarget("loudness", -20.0))
    assert peak_db(out) == pytest.approx(-1.0, abs=1e-4) and "too short" in report.note
    silent = np.zeros(SR, np.float32)
    out, report = apply_level(silent, SR)
    assert not out.any() and report.note == "silent"
    x = hits()
    out, report = apply_level(x, SR, LevelTarget("off"))
    assert out is x and report.gain_db == 0.0


def test_stereo_is_scaled_alike():
    x = hits()
    stereo = np.stack([x, 0.5 * x], axis=1)
    out, _ = apply_level(stereo, SR)
    assert np.allclose(out[:, 1], 0.5 * out[:, 0])


@pytest.mark.parametrize(
    "mode, value, needle",
    [("peak", 3.0, "expected -60 to 0"), ("loudness", -80.0, "expected -70 to -5"),
     ("loud", -14.0, "expected peak, loudness or off"), ("peak", float("nan"), "expected")],
)  # fmt: skip
def test_bad_targets(mode, value, needle):
    with pytest.raises(UserError, match=needle):
        LevelTarget(mode, value)
