"""Spectral metrics of an estimate against a reference audio: mel MAE in dB (floored),
multi-resolution STFT spectral convergence, spectral-flux cosine."""

from __future__ import annotations

import functools

import numpy as np

from drumgrid.training.metrics.signals import FLOOR_DB, common_length

MEL_BANDS = 80
MEL_FMIN, MEL_FMAX = 20.0, 14000.0
MEL_N_FFT, MEL_HOP = 2048, 512
SC_RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))
FLUX_N_FFT, FLUX_HOP = 1024, 256


def _stft_mag(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:  # [F, T]
    import librosa

    return np.abs(librosa.stft(x.astype(np.float32), n_fft=n_fft, hop_length=hop, center=True))


@functools.lru_cache(maxsize=8)
def mel_basis(sample_rate: int, n_fft: int) -> np.ndarray:  # [MEL_BANDS, n_fft // 2 + 1]
    """The metric's mel bands for an n_fft STFT (also what the LM's mel loss compares)."""
    import librosa

    fmax = min(MEL_FMAX, sample_rate / 2)
    return librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=MEL_BANDS, fmin=MEL_FMIN, fmax=fmax, htk=True
    )


def mel_mae_db(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Mean absolute difference of 80-band HTK mel power spectra (20 Hz-14 kHz) in dB, each
    signal peak-normalised, powers floored 80 dB below the reference spectrogram's peak."""
    ref, est = common_length(reference, estimate)
    ref = ref / max(np.abs(ref).max(), 1e-9)
    est = est / max(np.abs(est).max(), 1e-9)
    basis = mel_basis(sample_rate, MEL_N_FFT)
    ref_db = 10 * np.log10(np.maximum(basis @ _stft_mag(ref, MEL_N_FFT, MEL_HOP) ** 2, 1e-20))
    est_db = 10 * np.log10(np.maximum(basis @ _stft_mag(est, MEL_N_FFT, MEL_HOP) ** 2, 1e-20))
    floor = ref_db.max() - FLOOR_DB
    return float(np.mean(np.abs(np.maximum(ref_db, floor) - np.maximum(est_db, floor))))


def spectral_convergence(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean over (512,128), (1024,256), (2048,512) of ||S_ref - S_est||_F / ||S_ref||_F."""
    ref, est = common_length(reference, estimate)
    values = []
    for n_fft, hop in SC_RESOLUTIONS:
        r, e = _stft_mag(ref, n_fft, hop), _stft_mag(est, n_fft, hop)
        values.append(np.linalg.norm(r - e) / max(np.linalg.norm(r), 1e-9))
    return float(np.mean(values))


def spectral_flux(x: np.ndarray, sample_rate: int) -> np.ndarray:  # [frames]
    """Half-wave rectified frame-to-frame rise of the log-mel spectrum (80 HTK bands, dB
    floored 80 dB below the signal's peak), summed over bands: the onset-strength curve."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(x, np.float32), sr=sample_rate, n_fft=FLUX_N_FFT, hop_length=FLUX_HOP,
        n_mels=MEL_BANDS, fmin=MEL_FMIN, fmax=min(MEL_FMAX, sample_rate / 2), htk=True,
    )  # fmt: skip
    db = librosa.power_to_db(mel, ref=np.max, top_db=FLOOR_DB)
    return np.maximum(np.diff(db, axis=1), 0.0).sum(0)


def flux_cosine(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Cosine similarity of the two spectral-flux curves: 1 when hits of the same spectral
    shape rise at the same frames, whatever the overall gain; 0 if either is flat."""
    ref, est = common_length(reference, estimate)
    a, b = spectral_flux(ref, sample_rate), spectral_flux(est, sample_rate)
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / norm) if norm > 0 else 0.0
