"""What the audio-to-audio metrics share: a pair cut to one length, and the dB floor below
a signal's peak that keeps silence from deciding a level difference."""

from __future__ import annotations

import numpy as np

FLOOR_DB = 80.0


def common_length(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both signals as float64, cut to the shorter one's length."""
    n = min(len(reference), len(estimate))
    return np.asarray(reference[:n], np.float64), np.asarray(estimate[:n], np.float64)
