"""Sample-rate conversion through soxr (libsoxr's VHQ polyphase filters, linear phase, so
onsets stay where they were: the corpus's 1 ms alignment survives resampling)."""

from __future__ import annotations

import numpy as np
import soxr


def resample(wave: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """wave [N] or [N, C] float -> float32 at `to_rate`; identity when the rates agree."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    x = np.asarray(wave, dtype=np.float32)
    if from_rate == to_rate:
        return x
    return soxr.resample(x, from_rate, to_rate, quality="VHQ").astype(np.float32, copy=False)


def to_mono(wave: np.ndarray) -> np.ndarray:
    """[N] or [N, C] -> [N] float32 by averaging channels (codecs here are mono)."""
    x = np.asarray(wave, dtype=np.float32)
    return x.mean(axis=1) if x.ndim == 2 else x
