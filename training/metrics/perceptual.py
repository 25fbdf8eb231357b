"""ViSQOL (audio mode) for evaluation: how close a render sounds to its reference.

Onset F1 and timing no longer tell models apart; timbre does, and mel MAE alone is blind to
some of it. ViSQOL v3 in audio mode (the pure-Python `visqol-python` port, its SVR model
bundled, so it runs offline) maps a 48 kHz reference/degraded pair to MOS-LQO: 4.73 for
identical signals, lower as the degraded one departs. It ignores gain and small shifts,
which is what a listener does too. Both signals are mixed to mono and resampled to 48 kHz
here, since the audio mode is defined at that rate.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
import soxr

VISQOL_RATE = 48_000
VISQOL_IDENTICAL = 4.73  # what audio mode gives a signal against itself (the scale's top)
MIN_SECONDS = 0.5  # ViSQOL compares 256 ms patches; shorter signals cannot be scored


@functools.lru_cache(maxsize=1)
def _api():
    from visqol import VisqolApi

    logging.getLogger("visqol").setLevel(logging.WARNING)
    api = VisqolApi()
    api.create(mode="audio")
    return api


def _prepare(x: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if sample_rate != VISQOL_RATE:
        x = soxr.resample(x, sample_rate, VISQOL_RATE, quality="HQ")
    return x


def visqol_moslqo(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float | None:
    """MOS-LQO of `estimate` against `reference` (both [N] or [N, C] at sample_rate), or None
    when either is shorter than MIN_SECONDS or silent (ViSQOL has nothing to compare)."""
    ref, est = _prepare(reference, sample_rate), _prepare(estimate, sample_rate)
    n = min(len(ref), len(est))
    if n < MIN_SECONDS * VISQOL_RATE or not np.any(ref[:n]) or not np.any(est[:n]):
        return None
    return float(_api().measure_from_arrays(ref[:n], est[:n], VISQOL_RATE).moslqo)
