"""The codec contract every model, cache and renderer relies on.

N samples in give T = ceil(N / hop) frames (frame_rate = sample_rate / hop exactly), and
decoding T frames for N samples gives exactly N samples back. Subclasses implement the
padded, hop-aligned batch calls; this class owns padding, trimming and type conversion so
that every family honours the same lengths.
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

WaveLike = np.ndarray | torch.Tensor
# Frames of context each side of a decode chunk for a codec that does not state its decoder's
# reach: generous for convolutional decoders; EnCodec's LSTM reaches further, so its chunk
# boundaries are close to, not bit-exact with, one decode.
DEFAULT_DECODE_MARGIN = 64
DB = 10.0 / math.log(10.0)  # dB per neper of power


def power_sum_db(levels_db: torch.Tensor) -> torch.Tensor:  # [..., F] -> [...]
    """The level of the powers' sum, in dB, of powers given in dB (over the last dimension)."""
    return DB * torch.logsumexp(levels_db / DB, dim=-1)


class CodecRates:
    """What follows from a codec's four numbers; shared by codecs and their registry entries."""

    sample_rate: int
    hop_length: int  # samples per frame
    n_codebooks: int
    codebook_size: int

    @property
    def frame_rate_exact(self) -> Fraction:
        return Fraction(self.sample_rate, self.hop_length)

    @property
    def frame_rate(self) -> float:
        """Frames per second, exact as a float (44100 / 512 for DAC, not 86)."""
        return self.sample_rate / self.hop_length

    @property
    def bits_per_second(self) -> float:
        return self.n_codebooks * math.log2(self.codebook_size) * self.frame_rate


@runtime_checkable
class LevelDecoder(Protocol):
    """A codec whose coarsest levels decode on their own (the drum codec, trained with
    quantiser dropout); with one, fewer than all K levels can be scored."""

    def decode_levels(self, tokens: torch.Tensor, n_samples: int | None = None) -> torch.Tensor:
        """tokens [B, K', T] of the K' <= K coarsest levels -> waves [B, N]."""
        ...


class Codec(CodecRates, ABC):
    """A neural audio codec: mono waveform at `sample_rate` <-> int tokens [K, T]."""

    id: str

    def n_frames(self, n_samples: int) -> int:
        """T = ceil(N * frame_rate / sample_rate), computed in integers."""
        return max(1, -(-int(n_samples) // self.hop_length))

    @property
    def config_hash(self) -> str:
        """Hash of everything that changes the tokens; caches refuse to mix two of them."""
        blob = json.dumps(self.describe(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        """What identifies this codec's token space (id, rates, sizes, model config)."""
        return {
            "id": self.id,
            "class": type(self).__name__,
            "sample_rate": self.sample_rate,
            "hop_length": self.hop_length,
            "n_codebooks": self.n_codebooks,
            "codebook_size": self.codebook_size,
            "model": self.model_config(),
        }

    def model_config(self) -> dict[str, Any]:
        """The architecture's configuration; weights change tokens too, see `weights_tag`."""
        return {}

    @property
    def decode_margin(self) -> int:
        """Frames of real context a decode needs on each side of a window edge so that the
        window's audio equals that of one whole decode: chunked decoding throws away this
        many frames' audio at every inner boundary. Codecs that know their decoder's
        receptive field say so; the default is a generous guess."""
        return DEFAULT_DECODE_MARGIN

    # -- the public calls ----------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def to(self, device: str | torch.device) -> Codec:
        return self

    def encode(self, wave: WaveLike) -> torch.Tensor:
        """wave [N] float in [-1, 1] at `sample_rate` -> tokens [K, T] int64 (T = ceil(N/hop))."""
        x = _as_tensor(wave, self.device)
        if x.ndim != 1:
            raise ValueError(f"expected a mono wave [N], got shape {tuple(x.shape)}")
        return self.encode_batch(x[None])[0]

    def decode(
        self, tokens: torch.Tensor | np.ndarray, n_samples: int | None = None
    ) -> torch.Tensor:
        """tokens [K, T] -> wave [N] float32, N = n_samples (default T * hop)."""
        t = _as_tokens(tokens, self.device)
        if t.ndim != 2:
            raise ValueError(f"expected tokens [K, T], got shape {tuple(t.shape)}")
        return self.decode_batch(t[None], n_samples)[0]

    def encode_batch(self, waves: WaveLike, lengths: list[int] | None = None) -> torch.Tensor:
        """waves [B, N] (zero-padded) -> tokens [B, K, T], T = ceil(N / hop).

        Frames past a shorter item's own ceil(length / hop) encode padding; callers crop.
        """
        x = _as_tensor(waves, self.device)  # [B, N]
        if x.ndim != 2:
            raise ValueError(f"expected waves [B, N], got shape {tuple(x.shape)}")
        n = x.shape[-1]
        t = self.n_frames(n)
        x = torch.nn.functional.pad(x, (0, t * self.hop_length - n))
        with torch.inference_mode():
            codes = self._encode_aligned(x)  # [B, K, T']
        if codes.shape[1] != self.n_codebooks or codes.shape[2] < t:
            raise RuntimeError(
                f"{self.id}: expected codes [B, {self.n_codebooks}, {t}], got {tuple(codes.shape)}"
            )
        return codes[:, :, :t].long()

    def decode_batch(
        self, tokens: torch.Tensor | np.ndarray, n_samples: int | None = None
    ) -> torch.Tensor:
        """tokens [B, K, T] -> waves [B, N] float32, N = n_samples (default T * hop)."""
        t = _as_tokens(tokens, self.device)
        if t.ndim != 3 or t.shape[1] != self.n_codebooks:
            raise ValueError(
                f"expected tokens [B, {self.n_codebooks}, T], got shape {tuple(t.shape)}"
            )
        if int(t.min()) < 0 or int(t.max()) >= self.codebook_size:
            raise ValueError(
                f"token values must lie in 0..{self.codebook_size - 1}, "
                f"got {int(t.min())}..{int(t.max())}"
            )
        full = t.shape[-1] * self.hop_length
        n = full if n_samples is None else int(n_samples)
        if not (full - self.hop_length < n <= full):
            raise ValueError(
                f"{t.shape[-1]} frames decode to {full - self.hop_length + 1}..{full} samples, "
                f"got n_samples={n}"
            )
        with torch.inference_mode():
            y = self._decode_aligned(t)  # [B, N']
        if y.shape[-1] < n:
            y = torch.nn.functional.pad(y, (0, n - y.shape[-1]))
        return y[:, :n].float()

    # -- the quantiser's continuous side (models with a latent head) -------------------------

    @property
    def latent_dim(self) -> int | None:
        """Width of the latent the quantiser codes, or None where a family does not expose it."""
        return None

    def latents(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [B, K, T] -> the quantised latent [B, T, latent_dim] the decoder reads."""
        raise NotImplementedError(f"codec {self.id} does not expose its quantiser's latent")

    def quantize(self, latents: torch.Tensor) -> torch.Tensor:
        """latents [B, T, latent_dim] -> the tokens [B, K, T] whose quantised latent is
        nearest (`latents(quantize(z))` close to z; exact for z = latents(tokens))."""
        raise NotImplementedError(f"codec {self.id} does not expose its quantiser's latent")

    def frame_spectrum_db(self, latent: torch.Tensor) -> torch.Tensor:
        """latent [B, T, latent_dim] -> each frame's decoded power per bin of an n_fft STFT, in
        dB re full scale [B, T, n_fft // 2 + 1], differentiable (a training loss on what a
        latent decodes to); drumgrid-drums implements it."""
        raise NotImplementedError(f"codec {self.id} does not expose its decoded spectrum")

    def frame_levels_db(self, latent: torch.Tensor) -> torch.Tensor:
        """latent [B, T, latent_dim] -> each frame's decoded level in dB [B, T]: the sum of
        its spectrum's bins, differentiable."""
        return power_sum_db(self.frame_spectrum_db(latent))

    # -- what a family implements ------------------------------------------------------------

    @classmethod
    @abstractmethod
    def from_config(
        cls, codec_id: str, config: Any, n_codebooks: int | None = None, seed: int = 0
    ) -> Codec:
        """The family's model built from `config` with random weights seeded by `seed` (tests,
        timings); the registry's `build_random` calls this."""

    @classmethod
    @abstractmethod
    def from_pretrained(
        cls, codec_id: str, source: str | Path, n_codebooks: int | None = None
    ) -> Codec:
        """Trained weights from local folder `source`, never the network; a UserError names
        the fix. The registry's `load_codec` calls this."""

    @abstractmethod
    def _encode_aligned(self, waves: torch.Tensor) -> torch.Tensor:
        """waves [B, T * hop] -> codes [B, K, >= T]."""

    @abstractmethod
    def _decode_aligned(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [B, K, T] -> waves [B, about T * hop]."""


def _as_tensor(wave: WaveLike, device: torch.device) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(wave)) if isinstance(wave, np.ndarray) else wave
    return x.to(device=device, dtype=torch.float32)


def _as_tokens(tokens: torch.Tensor | np.ndarray, device: torch.device) -> torch.Tensor:
    t = torch.from_numpy(np.array(tokens)) if isinstance(tokens, np.ndarray) else tokens
    return t.to(device=device, dtype=torch.long)
