"""The drum codec network: wave -> log-magnitude STFT -> ConvNeXt encoder -> RVQ codes ->
ConvNeXt decoder -> magnitude and phase per bin -> inverse STFT -> wave (as in Vocos)."""

from __future__ import annotations

import hashlib
import math

import torch
from torch import nn

from drumgrid.server.drum_codec.config import DrumCodecConfig
from drumgrid.server.drum_codec.modules import ConvNeXtStack, FrameISTFT, FrameSTFT
from drumgrid.server.drum_codec.quantizer import QuantizerOutput, ResidualVQ

# The parts that decide the codes (and what each code means); the decoder and head only
# render them, so a decoder fine-tune keeps the token space.
TOKEN_PARTS = ("stft", "encoder", "quantizer")
MAX_LOG_MAGNITUDE = 5.0  # exp(5) ~ 148: bounds the head's magnitudes early in training


class DrumCodecModel(nn.Module):
    centre_sign: torch.Tensor  # [F, 1] (-1)^k, a buffer: phase about the window's centre

    def __init__(self, config: DrumCodecConfig) -> None:
        super().__init__()
        c = config
        self.config = c
        n_bins = c.n_fft // 2 + 1
        self.stft = FrameSTFT(c.n_fft, c.hop_length)
        self.istft = FrameISTFT(c.n_fft, c.hop_length)
        n_features = (3 if c.phase_features else 1) * n_bins  # log |X| [, cos, sin of phase]
        self.encoder = ConvNeXtStack(
            n_features, c.dim, c.dim, c.encoder_blocks, c.expansion, c.kernel_size
        )
        self.quantizer = ResidualVQ(
            c.dim, c.n_codebooks, c.codebook_size, c.codebook_dim, c.quantizer_dropout
        )
        self.decoder = ConvNeXtStack(
            c.dim, c.dim, c.dim, c.decoder_blocks, c.expansion, c.kernel_size
        )
        self.register_buffer(
            "centre_sign", (1.0 - 2.0 * (torch.arange(n_bins) % 2))[:, None], persistent=False
        )
        self.head = nn.Linear(c.dim, 2 * n_bins)
        # Start quiet (magnitudes ~ e^-5) so early reconstructions don't blow up the losses.
        nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)
        with torch.no_grad():
            self.head.bias[:n_bins] = -5.0

    def token_space_digest(self) -> str:
        """Hash of the token-deciding weights: equal for two codecs whose codes are the same."""
        h = hashlib.sha256()
        for name, tensor in sorted(self.state_dict().items()):
            if name.startswith(TOKEN_PARTS) and name != "quantizer.usage":  # usage: training only
                h.update(name.encode())
                h.update(tensor.detach().cpu().float().numpy().tobytes())
        return h.hexdigest()[:16]

    def analyse(self, wave: torch.Tensor) -> torch.Tensor:  # [B, N] -> [B, T, D]
        spec = torch.view_as_real(self.stft(wave))  # [B, F, T, 2]
        power = spec.square().sum(-1).clamp_min(1e-10)  # [B, F, T]
        # log |X| floored at 1e-5, from the power (cheaper than the complex abs's hypot)
        features = 0.5 * torch.log(power)
        if self.config.phase_features:
            # Phase about the window's centre ((-1)^k), so a centred click reads 0 everywhere.
            unit = spec * (self.centre_sign / power.sqrt())[..., None]  # [B, F, T, 2]
            features = torch.cat([features, unit[..., 0], unit[..., 1]], dim=1)
        return self.encoder(features)

    def spectrum(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """latent [B, T, D] -> (log-magnitude, phase) [B, F, T] each, what the iSTFT reads."""
        x = self.decoder(latent.transpose(1, 2))  # [B, T, D]
        log_mag, phase = self.head(x).transpose(1, 2).chunk(2, dim=1)  # [B, F, T] each
        return log_mag.clamp(max=MAX_LOG_MAGNITUDE), phase

    def synthesise(self, latent: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T * hop]
        log_mag, phase = self.spectrum(latent)
        return self.istft(torch.polar(torch.exp(log_mag), phase))

    def frame_spectrum_db(self, latent: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, F]
        """Each frame's power per bin in dB re full scale, from the magnitude spectrum the iSTFT
        reads, scaled (Parseval, and the Hann overlap-add's mean gain 3 n_fft / 8 hop) so the
        bins' powers sum to the decoded frame's mean square, for spectra whose phases do not
        cancel (Codec.frame_levels_db sums them). Differentiable, so a loss can reach what a
        latent decodes to, which the latent's squared error weighs little in quiet frames and
        bands."""
        log_mag, _ = self.spectrum(latent)
        n, hop = self.config.n_fft, self.config.hop_length
        gain_db = 10.0 * math.log10(2.0 / n**2) - 10.0 * math.log10(3.0 * n / (8.0 * hop))
        return ((20.0 / math.log(10.0)) * log_mag + gain_db).transpose(1, 2)

    def forward(
        self, wave: torch.Tensor, n_levels: int | None = None
    ) -> tuple[torch.Tensor, QuantizerOutput]:
        """wave [B, T * hop] -> (reconstruction [B, T * hop], quantiser output)."""
        q = self.quantizer(self.analyse(wave), n_levels)
        return self.synthesise(q.latent), q

    @torch.no_grad()
    def encode(self, wave: torch.Tensor) -> torch.Tensor:  # [B, T * hop] -> [B, K, T]
        return self.quantizer.encode(self.analyse(wave))

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:  # [B, K', T] -> [B, T * hop]
        return self.synthesise(self.quantizer.decode(codes))
