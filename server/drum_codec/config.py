"""The drum codec's hyper-parameters, saved in its folder's config.json (folder.py)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class DrumCodecConfig:
    sample_rate: int = 44100  # cymbals need the octave above 11 kHz
    hop_length: int = 512  # 86.13 frames per second, DAC's frame rate at 44.1 kHz
    n_fft: int = 1024  # 23 ms windows: transients stay sharp, half the bins of 2048
    dim: int = 128  # channels of the frame-rate ConvNeXt stacks
    encoder_blocks: int = 2  # analysis is the easier half...
    decoder_blocks: int = 6  # ...synthesis (magnitude and phase) gets the capacity
    expansion: int = 2  # ConvNeXt MLP width = expansion * dim
    kernel_size: int = 7
    n_codebooks: int = 8
    codebook_size: int = 1024
    codebook_dim: int = 8  # factorised, l2-normalised code space (as in DAC)
    quantizer_dropout: float = 0.25  # share of items trained with fewer levels
    # The encoder also reads each bin's phase (cos, sin): where a hit sits inside its frame
    # and the exact pitch of a ringing kick live there, not in the magnitudes.
    phase_features: bool = False

    def __post_init__(self) -> None:
        sizes = ["sample_rate", "hop_length", "n_fft", "dim", "encoder_blocks", "decoder_blocks"]
        sizes += ["expansion", "kernel_size", "n_codebooks", "codebook_size", "codebook_dim"]
        small = [f"{name} {getattr(self, name)}" for name in sizes if getattr(self, name) < 1]
        if small:
            raise ValueError(f"expected sizes >= 1, got {', '.join(small)}")
        if self.n_fft < self.hop_length or (self.n_fft - self.hop_length) % 2:
            raise ValueError("n_fft must be >= hop_length and differ from it by an even number")
        if not 0 <= self.quantizer_dropout <= 1:
            raise ValueError(f"expected quantizer_dropout in 0..1, got {self.quantizer_dropout}")

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop_length

    def to_dict(self) -> dict[str, Any]:
        """Options added after the first release appear only when set: a codec that does not
        use them keeps its config.json, and so its token-space hash, unchanged."""
        data = asdict(self)
        for name in LATER_OPTIONS:
            if data[name] == DEFAULTS[name]:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrumCodecConfig:
        """From a codec folder's `config` section: every key known, every key but the later
        options (which `to_dict` leaves out at their defaults) there, the types the fields
        declare (ValueError otherwise)."""
        if not isinstance(data, dict):
            raise ValueError(f"expected an object of codec settings, got {type(data).__name__}")
        # the declared types' names ("int", ...): annotations are postponed, so already strings
        known = {f.name: str(f.type) for f in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(
                f"unknown drum codec config keys {sorted(unknown)}; expected some of "
                f"{sorted(known)}"
            )
        missing = [name for name in known if name not in data and name not in LATER_OPTIONS]
        if missing:
            raise ValueError(f"missing drum codec config keys {missing}")
        for name, value in data.items():
            kind = known[name]
            ok = {
                "int": isinstance(value, int) and not isinstance(value, bool),
                "bool": isinstance(value, bool),
                "float": isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value),
            }[kind]
            if not ok:
                raise ValueError(f"{name}: expected {kind}, got {value!r}")
        return cls(**data)

    @classmethod
    def tiny(cls) -> DrumCodecConfig:
        """For tests: the same architecture and token space (8 x 1024), ~0.2 M parameters."""
        return cls(
            n_fft=1024,
            dim=32,
            encoder_blocks=1,
            decoder_blocks=1,
            expansion=2,
            codebook_dim=4,
        )


LATER_OPTIONS = ("phase_features",)
DEFAULTS = asdict(DrumCodecConfig())
