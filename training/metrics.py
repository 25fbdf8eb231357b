"""Audio metrics, defined as in ../shared/DESIGN.md so that numbers compare across runs and
with the research: mel MAE in dB (floored), multi-resolution STFT spectral convergence,
RMS-envelope correlation, and onset precision / recall / F1 with timing error.

All functions take mono float numpy arrays at a given sample rate and return plain floats.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

MEL_BANDS = 80
MEL_FMIN, MEL_FMAX = 20.0, 14000.0
MEL_N_FFT, MEL_HOP = 2048, 512
FLOOR_DB = 80.0
SC_RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))


def _stft_mag(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:  # [F, T]
    import librosa

    return np.abs(librosa.stft(x.astype(np.float32), n_fft=n_fft, hop_length=hop, center=True))


@functools.lru_cache(maxsize=8)
def _mel_basis(sample_rate: int, n_fft: int) -> np.ndarray:
    import librosa

    fmax = min(MEL_FMAX, sample_rate / 2)
    return librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=MEL_BANDS, fmin=MEL_FMIN, fmax=fmax, htk=True
    )


def _match(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(len(reference), len(estimate))
    return np.asarray(reference[:n], np.float64), np.asarray(estimate[:n], np.float64)


def mel_mae_db(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Mean absolute difference of 80-band HTK mel power spectra (20 Hz-14 kHz) in dB, each
    signal peak-normalised, powers floored 80 dB below the reference spectrogram's peak."""
    ref, est = _match(reference, estimate)
    ref = ref / max(np.abs(ref).max(), 1e-9)
    est = est / max(np.abs(est).max(), 1e-9)
    basis = _mel_basis(sample_rate, MEL_N_FFT)
    ref_db = 10 * np.log10(np.maximum(basis @ _stft_mag(ref, MEL_N_FFT, MEL_HOP) ** 2, 1e-20))
    est_db = 10 * np.log10(np.maximum(basis @ _stft_mag(est, MEL_N_FFT, MEL_HOP) ** 2, 1e-20))
    floor = ref_db.max() - FLOOR_DB
    return float(np.mean(np.abs(np.maximum(ref_db, floor) - np.maximum(est_db, floor))))


def spectral_convergence(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean over (512,128), (1024,256), (2048,512) of ||S_ref - S_est||_F / ||S_ref||_F."""
    ref, est = _match(reference, estimate)
    values = []
    for n_fft, hop in SC_RESOLUTIONS:
        r, e = _stft_mag(ref, n_fft, hop), _stft_mag(est, n_fft, hop)
        values.append(np.linalg.norm(r - e) / max(np.linalg.norm(r), 1e-9))
    return float(np.mean(values))


def rms_envelope(
    x: np.ndarray, sample_rate: int, window_s: float = 0.05, hop_s: float = 0.01
) -> np.ndarray:
    win, hop = round(window_s * sample_rate), round(hop_s * sample_rate)
    if len(x) < win:
        x = np.pad(x, (0, win - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(x, np.float64), win)[::hop]
    return np.sqrt(np.mean(frames**2, axis=1))


def envelope_correlation(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Pearson correlation of 50 ms / 10 ms RMS envelopes (1.0 for identical audio)."""
    ref, est = _match(reference, estimate)
    a, b = rms_envelope(ref, sample_rate), rms_envelope(est, sample_rate)
    if a.std() < 1e-12 or b.std() < 1e-12:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def detect_onsets(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onset times in seconds (librosa's spectral-flux detector, backtracking off)."""
    import librosa

    return librosa.onset.onset_detect(
        y=np.asarray(x, np.float32), sr=sample_rate, hop_length=256, units="time", backtrack=False
    )


@dataclass(frozen=True)
class OnsetScore:
    precision: float
    recall: float
    f1: float
    timing_errors_ms: np.ndarray  # |estimate - reference| of matched pairs

    @property
    def median_error_ms(self) -> float:
        return (
            float(np.median(self.timing_errors_ms)) if len(self.timing_errors_ms) else float("nan")
        )


def onset_score(
    reference_s: np.ndarray, estimate_s: np.ndarray, window_s: float = 0.05
) -> OnsetScore:
    """Match onsets one to one within +-window (mir_eval's bipartite matching)."""
    import mir_eval

    ref = np.sort(np.asarray(reference_s, np.float64))
    est = np.sort(np.asarray(estimate_s, np.float64))
    if len(ref) == 0 and len(est) == 0:
        return OnsetScore(1.0, 1.0, 1.0, np.zeros(0))
    if len(ref) == 0 or len(est) == 0:
        return OnsetScore(0.0, 0.0, 0.0, np.zeros(0))
    pairs = mir_eval.util.match_events(ref, est, window_s)
    p = len(pairs) / len(est)
    r = len(pairs) / len(ref)
    f = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    errors = np.array([abs(est[j] - ref[i]) * 1000 for i, j in pairs])
    return OnsetScore(p, r, f, errors)
