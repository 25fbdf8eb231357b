"""Reconstruction losses: multi-resolution log-mel L1, log-magnitude STFT L1 and spectral
convergence. They compare spectra, not samples, so the iSTFT head may choose its own phase."""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

RESOLUTIONS = ((512, 128, 64), (1024, 256, 80), (2048, 512, 128))  # n_fft, hop, mel bands


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


def _mag(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:  # [B, N] -> [B, F, T]
    spec = torch.stft(x, n_fft, hop, window=_window(n_fft, str(x.device)), return_complex=True)
    return spec.abs().clamp_min(1e-7)


def reconstruction_losses(
    reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int
) -> dict[str, torch.Tensor]:
    """reference, estimate [B, N] -> {'mel', 'logmag', 'sc'} averaged over resolutions."""
    mel = logmag = sc = reference.new_zeros(())
    for n_fft, hop, n_mels in RESOLUTIONS:
        r, e = _mag(reference, n_fft, hop), _mag(estimate, n_fft, hop)
        basis = _mel_basis(sample_rate, n_fft, n_mels).to(reference.device)
        mel = mel + F.l1_loss(
            torch.log10((basis @ e).clamp_min(1e-5)), torch.log10((basis @ r).clamp_min(1e-5))
        )
        logmag = logmag + F.l1_loss(torch.log(e), torch.log(r))
        # Over the whole batch, so that a near-silent item cannot blow the ratio up.
        sc = sc + torch.linalg.norm(r - e) / torch.linalg.norm(r).clamp_min(1e-7)
    n = len(RESOLUTIONS)
    return {"mel": mel / n, "logmag": logmag / n, "sc": sc / n}
