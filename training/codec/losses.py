"""Reconstruction losses: multi-resolution log-mel L1, log-magnitude STFT L1 and spectral
convergence compare magnitudes, so the iSTFT head may choose its own phase; the optional
compressed complex-spectrum L1 also asks for the reference's phase.

Log spectra are floored 80 dB below each reference item's peak, as the mel metric is: below
that a drum render is decay tails and 16-bit noise, and an absolute floor would spend most of
the loss on matching inaudible levels between the hits."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

RESOLUTIONS = ((512, 128, 64), (1024, 256, 80), (2048, 512, 128))  # n_fft, hop, mel bands
FLOOR_RATIO = 1e-4  # 80 dB below the peak, in magnitude
COMPRESSION = 0.3  # complex loss on |X|^0.3 e^(i phase): quiet bins' phases count too


@functools.lru_cache(maxsize=16)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> torch.Tensor:
    import librosa

    basis = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=20.0, fmax=sample_rate / 2
    )
    return torch.from_numpy(basis).float()


@functools.lru_cache(maxsize=16)
def _window(n_fft: int, device: str) -> torch.Tensor:
    return torch.hann_window(n_fft, device=device)


def _stft(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:  # [B, N] -> complex [B, F, T]
    return torch.stft(x, n_fft, hop, window=_window(n_fft, str(x.device)), return_complex=True)


def _compressed(spec: torch.Tensor, peak: torch.Tensor) -> torch.Tensor:
    """|X / peak|^c with X's phase, as real [..., 2]: an 80 dB range becomes 24 dB."""
    x = spec / peak
    return torch.view_as_real(x * (x.abs() + 1e-8) ** (COMPRESSION - 1))


def _floored_log_l1(reference: torch.Tensor, estimate: torch.Tensor, least: float) -> torch.Tensor:
    """L1 of natural-log spectra [B, F, T], both floored FLOOR_RATIO below each reference
    item's peak (and never below `least`, so silent items stay finite)."""
    floor = (reference.amax(dim=(1, 2), keepdim=True) * FLOOR_RATIO).clamp_min(least)
    return F.l1_loss(
        torch.log(torch.maximum(estimate, floor)), torch.log(torch.maximum(reference, floor))
    )


def reconstruction_losses(
    reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int, with_complex: bool = False
) -> dict[str, torch.Tensor]:
    """reference, estimate [B, N] -> {'mel', 'logmag', 'sc', 'complex'} averaged over
    resolutions ('complex' stays 0 unless asked for)."""
    mel = logmag = sc = complex_l1 = reference.new_zeros(())
    for n_fft, hop, n_mels in RESOLUTIONS:
        rs, es = _stft(reference, n_fft, hop), _stft(estimate, n_fft, hop)
        r, e = rs.abs(), es.abs()
        basis = _mel_basis(sample_rate, n_fft, n_mels).to(reference.device)
        mel = mel + _floored_log_l1(basis @ r, basis @ e, 1e-5) / math.log(10)
        logmag = logmag + _floored_log_l1(r, e, 1e-7)
        # Over the whole batch, so that a near-silent item cannot blow the ratio up.
        sc = sc + torch.linalg.norm(r - e) / torch.linalg.norm(r).clamp_min(1e-7)
        if with_complex:
            peak = r.amax(dim=(1, 2), keepdim=True).clamp_min(1e-7)
            complex_l1 = complex_l1 + F.l1_loss(_compressed(es, peak), _compressed(rs, peak))
    n = len(RESOLUTIONS)
    return {"mel": mel / n, "logmag": logmag / n, "sc": sc / n, "complex": complex_l1 / n}
