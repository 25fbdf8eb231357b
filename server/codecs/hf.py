"""The Hugging Face `transformers` codec families (EnCodec, DAC, X-Codec) behind `Codec`.

One class per family wraps the HF model; `from_pretrained` reads weights only from disk
(the HF cache or a folder) so that a machine without network fails at once instead of
waiting on a download, and `from_config` builds the same class with random weights for
tests and timings.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, ClassVar

import torch
from transformers import (
    DacConfig,
    DacModel,
    EncodecConfig,
    EncodecModel,
    PretrainedConfig,
    PreTrainedModel,
    XcodecConfig,
    XcodecModel,
)
from transformers.models.encodec.modeling_encodec import (
    EncodecDecoderOutput,
    EncodecEncoderOutput,
)

from drumgrid.server.codecs.base import Codec
from drumgrid.server.errors import UserError


class HFCodec(Codec):
    """Shared plumbing: the wrapped model, its config, device moves, loading. The decode
    margin is the base's generous default: a DAC code reaches about 5 frames each side of its
    own, EnCodec's LSTM decoder further (chunk edges there are close, not exact)."""

    model_class: ClassVar[type[PreTrainedModel]]  # the family's transformers model class
    config_class: ClassVar[type[PretrainedConfig]]
    model: PreTrainedModel  # an instance of model_class; families narrow the type

    def __init__(self, codec_id: str, model: PreTrainedModel, n_codebooks: int | None = None):
        self.id = codec_id
        self.model = model.eval()
        cfg = model.config
        self.sample_rate = int(self._sample_rate(cfg))
        self.hop_length = int(self._hop_length(cfg))
        self.codebook_size = int(cfg.codebook_size)
        self.n_codebooks = int(n_codebooks or self._max_codebooks(cfg))
        self.weights_tag = "unknown"  # set by the constructors below; part of config_hash
        if not 1 <= self.n_codebooks <= self._max_codebooks(cfg):
            raise ValueError(
                f"{codec_id}: n_codebooks must be 1..{self._max_codebooks(cfg)}, "
                f"got {self.n_codebooks}"
            )

    # family-specific config readers
    @staticmethod
    def _sample_rate(cfg: Any) -> int:
        return cfg.sampling_rate

    @staticmethod
    def _hop_length(cfg: Any) -> int:
        return cfg.hop_length

    @staticmethod
    def _max_codebooks(cfg: Any) -> int:
        return cfg.num_quantizers

    @classmethod
    def from_config(
        cls, codec_id: str, config: Any, n_codebooks: int | None = None, seed: int = 0
    ) -> HFCodec:
        """Random-initialised model of `config` (tests, timings): same class as real weights."""
        torch.manual_seed(seed)
        codec = cls(codec_id, cls.model_class(config), n_codebooks)
        codec.weights_tag = f"random:seed={seed}"
        return codec

    @classmethod
    def from_pretrained(
        cls, codec_id: str, source: str | Path, n_codebooks: int | None = None
    ) -> HFCodec:
        """Weights from a folder or the local HF cache; never touches the network."""
        try:
            model = cls.model_class.from_pretrained(str(source), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise UserError(
                f"codec {codec_id}: cannot load weights from {source} ({_first_line(exc)})"
            ) from None
        codec = cls(codec_id, model, n_codebooks)
        codec.weights_tag = _weights_tag(Path(source))
        return codec

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: str | torch.device) -> HFCodec:
        # transformers wraps Module.to with functools.wraps, which typeshed types as unbound
        self.model.to(device)  # type: ignore[arg-type]
        return self

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "weights": self.weights_tag}

    def model_config(self) -> dict[str, Any]:
        cfg = self.model.config.to_dict()
        for key in ("transformers_version", "_name_or_path", "architectures", "dtype"):
            cfg.pop(key, None)
        return cfg


class EncodecCodec(HFCodec):
    """Meta's EnCodec (transformers.EncodecModel); K chosen through the target bandwidth."""

    model_class = EncodecModel
    config_class = EncodecConfig
    model: EncodecModel

    def __init__(self, codec_id: str, model: PreTrainedModel, n_codebooks: int | None = None):
        super().__init__(codec_id, model, n_codebooks)
        cfg = model.config
        if cfg.normalize or cfg.chunk_length_s:
            raise UserError(
                f"codec {codec_id}: EnCodec models with normalize or chunking (48 kHz) are not "
                "supported; use facebook/encodec_24khz or facebook/encodec_32khz"
            )
        if cfg.audio_channels != 1:
            raise UserError(
                f"codec {codec_id}: expected a mono EnCodec, got {cfg.audio_channels} channels"
            )
        self.bandwidth = _bandwidth_for(self.n_codebooks, cfg)

    def _encode_aligned(self, waves: torch.Tensor) -> torch.Tensor:
        out = self.model.encode(waves[:, None, :], bandwidth=self.bandwidth, return_dict=True)
        # return_dict=True gives the output dataclass; encode always fills its codes
        assert isinstance(out, EncodecEncoderOutput) and out.audio_codes is not None
        return out.audio_codes[0]  # [chunks=1, B, K, T] -> [B, K, T]

    def _decode_aligned(self, tokens: torch.Tensor) -> torch.Tensor:
        # transformers annotates one Tensor of scales; it takes one per chunk (None: no
        # normalize), and int64 codes as a Tensor rather than the legacy LongTensor class
        out = self.model.decode(tokens[None], [None], return_dict=True)  # type: ignore[arg-type]
        assert isinstance(out, EncodecDecoderOutput) and out.audio_values is not None
        return out.audio_values[:, 0]  # [B, 1, N] -> [B, N]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "bandwidth": self.bandwidth}


class DacCodec(HFCodec):
    """Descript Audio Codec (transformers.DacModel); K = the first n_codebooks quantizers."""

    model_class = DacModel
    config_class = DacConfig
    model: DacModel

    @staticmethod
    def _max_codebooks(cfg: Any) -> int:
        return cfg.n_codebooks

    def _encode_aligned(self, waves: torch.Tensor) -> torch.Tensor:
        return self.model.encode(waves[:, None, :], n_quantizers=self.n_codebooks).audio_codes[
            :, : self.n_codebooks
        ]

    def _decode_aligned(self, tokens: torch.Tensor) -> torch.Tensor:
        # from_codes sums the quantizers present, so K below the model's maximum decodes too.
        return self.model.decode(audio_codes=tokens).audio_values  # [B, N]


class XcodecCodec(HFCodec):
    """X-Codec (transformers.XcodecModel): acoustic DAC + semantic HuBERT, RVQ at 50 Hz."""

    model_class = XcodecModel
    config_class = XcodecConfig
    model: XcodecModel

    def __init__(self, codec_id: str, model: PreTrainedModel, n_codebooks: int | None = None):
        super().__init__(codec_id, model, n_codebooks)
        self.bandwidth = _bandwidth_for(self.n_codebooks, model.config)

    @staticmethod
    def _sample_rate(cfg: Any) -> int:
        return cfg.sample_rate

    def _encode_aligned(self, waves: torch.Tensor) -> torch.Tensor:
        return self.model.encode(waves[:, None, :], bandwidth=self.bandwidth).audio_codes

    def _decode_aligned(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model.decode(tokens).audio_values[:, 0]  # [B, 1, N] -> [B, N]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "bandwidth": self.bandwidth}


def _bandwidth_for(n_codebooks: int, cfg: Any) -> float:
    """The config's target bandwidth (kbps) that gives exactly n_codebooks quantizers."""
    bits = math.ceil(math.log2(cfg.codebook_size))
    want = n_codebooks * bits * cfg.frame_rate / 1000
    for bw in cfg.target_bandwidths:
        if abs(float(bw) - want) < 1e-6:
            return bw
    raise UserError(
        f"no target bandwidth of this model gives {n_codebooks} codebooks "
        f"(wanted {want:g} kbps, the model offers {list(cfg.target_bandwidths)})"
    )


def _weights_tag(folder: Path) -> str:
    """Identifies the weights cheaply: the safetensors headers (names, shapes, offsets) and
    file sizes, hashed; a hub snapshot's folder name is its commit and is kept too."""
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        h.update(f.name.encode())
        h.update(str(f.stat().st_size).encode())
        if f.suffix == ".safetensors":
            with f.open("rb") as fh:
                n = int.from_bytes(fh.read(8), "little")
                h.update(fh.read(min(n, 1 << 24)))
    return f"{folder.name}:{h.hexdigest()[:16]}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
