"""Losses on what a predicted latent decodes to, through the codec's frozen decoder: each
frame's level and its mel bands. The latent's squared error weighs little where the ear hears
much: a quiet tail 10 dB short, a band's colour (docs/model_quality.md, levers 4-7).

Both errors are in dB over a soft floor under the window's loudest target (its loudest frame
for levels, its loudest mel cell for bands, as the mel metric floors), and are per frame
[B, T], so the trainer sums them over the latent loss's frames and tail weights."""

from __future__ import annotations

import math

import torch

from drumgrid.server.codecs.base import DB, Codec, power_sum_db
from drumgrid.server.errors import UserError
from drumgrid.training.metrics.spectral import mel_basis

# The unit of both losses: a frame whose decoded level (or mean band) is this far off costs
# as much as a latent no nearer than the latent's mean (1 in the latent loss's units).
LEVEL_UNIT_DB = 10.0
# Levels count down to a range below the window's loudest target, and no lower than
# LEVEL_FLOOR_DBFS (under 16-bit audio's quantisation floor, -96 dBFS): under that, what the
# ear cannot hear beside the window's peak or at all (a codec's digital silence decodes 160 dB
# down) adds little (a soft floor: the energies add, so the gradient never vanishes).
LEVEL_FLOOR_DBFS = -100.0


def _over_floor(levels_db: torch.Tensor, floor_db: torch.Tensor) -> torch.Tensor:
    """The level of each energy plus the floor's, in dB."""
    scale = math.log(10.0) / 10.0
    return torch.logaddexp(levels_db * scale, floor_db * scale) / scale


def _floor(want: torch.Tensor, valid: torch.Tensor, range_db: float) -> torch.Tensor:
    """[B, 1, ...]: `range_db` under the loudest of each window's `valid` frames of `want`
    [B, T, ...] (over every band too), and no lower than LEVEL_FLOOR_DBFS."""
    with torch.no_grad():
        mask = valid.reshape(*valid.shape, *([1] * (want.dim() - 2)))
        loudest = want.masked_fill(~mask, -torch.inf).flatten(1).amax(-1)
        floor = (loudest - range_db).clamp_min(LEVEL_FLOOR_DBFS)  # [B]
    return floor.reshape(-1, *([1] * (want.dim() - 1)))


def level_error_db(
    got: torch.Tensor, want: torch.Tensor, valid: torch.Tensor, range_db: float
) -> torch.Tensor:
    """[B, T]: the squared error, in LEVEL_UNIT_DB, of frame levels `got` against `want` (dB),
    both over a soft floor `range_db` under the loudest of each window's `valid` frames."""
    floor = _floor(want, valid, range_db)
    return ((_over_floor(got, floor) - _over_floor(want, floor)) / LEVEL_UNIT_DB).square()


def band_error_db(
    got: torch.Tensor, want: torch.Tensor, valid: torch.Tensor, range_db: float
) -> torch.Tensor:
    """[B, T]: the mean absolute error over bands, in LEVEL_UNIT_DB, of band levels `got`
    against `want` [B, T, M] (dB), over a soft floor `range_db` under the loudest cell of
    each window's `valid` frames: the mel metric's MAE, frame by frame."""
    floor = _floor(want, valid, range_db)
    return (_over_floor(got, floor) - _over_floor(want, floor)).abs().mean(-1) / LEVEL_UNIT_DB


class DecodedErrors:
    """The level and mel errors of predicted latents against target ones, those of `names`
    ("level", "mel"), from one decoder pass each; the codec's network is frozen (the losses
    reach the latent, not it)."""

    def __init__(self, codec: Codec, range_db: float, names: tuple[str, ...], flag: str) -> None:
        self.codec, self.range_db, self.names = codec, range_db, names
        assert codec.latent_dim is not None  # a latent head trains only with its codec
        try:
            spectrum = codec.frame_spectrum_db(torch.zeros(1, 1, codec.latent_dim))
        except NotImplementedError:
            raise UserError(
                f"{flag} needs a codec that decodes frame spectra; {codec.id} does not "
                "(drumgrid-drums does)"
            ) from None
        n_fft = 2 * (spectrum.shape[-1] - 1)
        self.basis = torch.from_numpy(mel_basis(codec.sample_rate, n_fft)).float().T  # [F, M]
        network = getattr(codec, "model", None)
        if isinstance(network, torch.nn.Module):
            network.requires_grad_(False)

    def _mel_db(self, spectrum_db: torch.Tensor) -> torch.Tensor:  # [B, T, F] -> [B, T, M]
        """Mel band levels in dB: the bins' powers summed through the metric's mel basis,
        relative to each frame's loudest bin so the powers stay within float range."""
        top = spectrum_db.detach().amax(-1, keepdim=True)
        power = torch.exp((spectrum_db - top) / DB) @ self.basis.to(spectrum_db.device)
        return DB * torch.log(power.clamp_min(1e-30)) + top

    def __call__(
        self, pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Name -> its error [B, T] for latents [B, T, D], over the `valid` [B, T] frames'
        floors."""
        with torch.no_grad():
            want = self.codec.frame_spectrum_db(target)
        got = self.codec.frame_spectrum_db(pred.float()).to(want.device)
        valid = valid.to(want.device)
        out = {}
        if "level" in self.names:
            out["level"] = level_error_db(power_sum_db(got), power_sum_db(want), valid,
                                          self.range_db)  # fmt: skip
        if "mel" in self.names:
            out["mel"] = band_error_db(self._mel_db(got), self._mel_db(want), valid,
                                       self.range_db)  # fmt: skip
        return out
