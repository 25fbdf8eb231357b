"""Multi-resolution STFT discriminator (as in EnCodec's MS-STFT D) with hinge losses and
feature matching, for the optional adversarial stage of codec training.

Sized for a CPU: the first layer already halves the frequency axis and later ones halve time
and frequency, at 16 channels: a forward + backward of a 16 x 1 s batch costs 6-7x less
than with EnCodec's layout (32 channels, full time resolution to the end), though an
adversarial training step still costs ~7 plain ones on 2 cores (see docs/architecture.md)."""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

Judgement = tuple[torch.Tensor, list[torch.Tensor]]  # one discriminator: logits, features


class STFTDiscriminator(nn.Module):
    window: torch.Tensor  # [n_fft] Hann, a buffer: it follows the module's device

    def __init__(self, n_fft: int, channels: int = 16) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, n_fft // 4
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        c = channels
        self.convs = nn.ModuleList([
            weight_norm(nn.Conv2d(2, c, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(c, c, (3, 9), stride=(2, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(c, c, (3, 9), stride=(2, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(c, c, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(c, c, (3, 3), padding=(1, 1))),
        ])  # fmt: skip
        self.out = weight_norm(nn.Conv2d(c, 1, (3, 3), padding=(1, 1)))

    def forward(self, x: torch.Tensor) -> Judgement:
        spec = torch.stft(x, self.n_fft, self.hop, window=self.window, return_complex=True)
        h = torch.stack([spec.real, spec.imag], dim=1).transpose(2, 3)  # [B, 2, T, F]
        features = []
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.2)
            features.append(h)
        return self.out(h), features


class MultiResolutionDiscriminator(nn.Module):
    def __init__(
        self, resolutions: tuple[int, ...] = (512, 1024, 2048), channels: int = 16
    ) -> None:
        super().__init__()
        self.discriminators = nn.ModuleList(STFTDiscriminator(n, channels) for n in resolutions)

    def forward(self, x: torch.Tensor) -> list[Judgement]:
        return [d(x) for d in self.discriminators]


def discriminator_loss(real: list[Judgement], fake: list[Judgement]) -> torch.Tensor:
    hinge = sum(
        F.relu(1 - r).mean() + F.relu(1 + f).mean()
        for (r, _), (f, _) in zip(real, fake, strict=True)
    )
    # sums of tensors are tensors; sum's int start shows only for no discriminator at all
    return cast(torch.Tensor, hinge / len(real))


def generator_losses(
    real: list[Judgement], fake: list[Judgement]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(hinge adversarial loss, feature-matching L1 normalised by the real features' scale)."""
    adv = sum(F.relu(1 - f).mean() for f, _ in fake) / len(fake)
    matches = [
        F.l1_loss(f, r.detach()) / (r.detach().abs().mean() + 1e-5)
        for (_, real_feats), (_, fake_feats) in zip(real, fake, strict=True)
        for r, f in zip(real_feats, fake_feats, strict=True)
    ]
    fm = sum(matches) / len(matches)
    # as above: every discriminator judges, and each has a layer's features to match
    return cast(torch.Tensor, adv), cast(torch.Tensor, fm)
