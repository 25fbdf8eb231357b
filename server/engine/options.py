"""What a render asks for (RenderOptions) and what it gives back (RenderResult). The names,
defaults and ranges are the render contract's (drumgrid.bridge.contract), which the OSC
protocol and the CLI read too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import torch

from drumgrid.bridge.contract import (
    DECODING_METHODS,
    MAX_SEED,
    MAX_TAIL_S,
    MAX_VARIATIONS,
    SAMPLE_RATES,
)
from drumgrid.server.decoding import DecodeOptions, coarse_to_fine_steps
from drumgrid.server.errors import UserError
from drumgrid.server.prompt_fit import PromptFit


class SamplingOptions(TypedDict, total=False):
    """The sampling options a request gave; those absent keep DecodeOptions' defaults."""

    temperature: float
    top_k: int
    top_p: float


@dataclass(frozen=True)
class RenderOptions:
    """One render request; every field has a default that gives a sensible take."""

    kit: str | None = None  # None: the model's first kit
    seed: int = 0  # take i (0-based) uses seed + i
    # "parallel" (one argmax pass) | "iterative" | None: iterative when takes or an iterative
    # option (steps, temperature, top_k, top_p) ask for sampling, else parallel, the shipped
    # model's best (its MODEL_CARD.md).
    decoding: str | None = None
    # Iterative only; None: the render contract's defaults (4 coarse steps, finer levels 1,
    # temperature 1, top-k 5, top-p off).
    steps: int | tuple[int, ...] | None = None  # int: steps of the coarsest level
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    sample_rate: int | None = None  # None: the codec's rate
    channels: int = 1  # 1 mono, 2 the same signal on both channels
    variations: int = 1  # takes rendered together as one batch
    tail_s: float | None = None  # None: the engine's tail
    gate: bool = True  # silence where no hit rings (server/silence.py)
    # A prompt that sounds like one of the model's kits renders as that kit (server/prompt_fit.py)
    prompt_fit: bool = True

    def __post_init__(self) -> None:
        if self.decoding is None:
            wants = self.variations > 1 or self.steps is not None or bool(self._sampling())
            object.__setattr__(self, "decoding", "iterative" if wants else "parallel")
        if self.decoding not in DECODING_METHODS:
            methods = ", ".join(DECODING_METHODS)
            raise UserError(f"decoding {self.decoding!r}: expected one of {methods}")
        if self.channels not in (1, 2):
            raise UserError(f"channels {self.channels}: expected 1 (mono) or 2 (stereo)")
        if not 1 <= self.variations <= MAX_VARIATIONS:
            raise UserError(f"variations {self.variations}: expected 1..{MAX_VARIATIONS}")
        low, high = SAMPLE_RATES
        if self.sample_rate is not None and not low <= self.sample_rate <= high:
            raise UserError(f"sample rate {self.sample_rate}: expected {low}..{high} Hz")
        if self.tail_s is not None and not 0 <= self.tail_s <= MAX_TAIL_S:
            raise UserError(f"tail {self.tail_s} s: expected 0..{MAX_TAIL_S:g} s")
        if not 0 <= self.seed <= MAX_SEED:
            raise UserError(f"seed {self.seed}: expected 0..2^62-1")
        if self.variations > 1 and (self.decoding == "parallel" or self.temperature == 0.0):
            raise UserError(
                f"{self.variations} variations would be identical: parallel decoding and "
                "temperature 0 are argmax; use --decoding iterative with a temperature > 0"
            )
        try:
            self.decode_options(8)
        except ValueError as exc:
            raise UserError(str(exc)) from None

    def _sampling(self) -> SamplingOptions:
        """The sampling options given; the rest keep DecodeOptions' defaults."""
        given = SamplingOptions()
        if self.temperature is not None:
            given["temperature"] = self.temperature
        if self.top_k is not None:
            given["top_k"] = self.top_k
        if self.top_p is not None:
            given["top_p"] = self.top_p
        return given

    def decode_options(self, n_codebooks: int) -> DecodeOptions:
        assert self.decoding is not None  # __post_init__ chose a method before calling this
        return DecodeOptions(
            method=self.decoding,
            steps=coarse_to_fine_steps(self.steps, n_codebooks),
            seed=self.seed,
            **self._sampling(),
        )


@dataclass
class RenderTimings:
    """Seconds spent per stage of one render call (shared by its variations)."""

    conditioning: float = 0.0  # frame features + conditioning projection
    transformer: float = 0.0  # embed_tokens + body, every model call
    sampling: float = 0.0  # sample_tokens and the unmasking bookkeeping around it
    codec: float = 0.0  # codec decode
    resample: float = 0.0  # to the requested rate, channels
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass
class RenderResult:
    audio: np.ndarray  # [N, C] float32
    sample_rate: int
    seed: int
    duration_s: float  # of the audio, tail included
    tokens: torch.Tensor  # [K, T] int64, what the codec decoded
    backend: str
    device: str
    timings: RenderTimings = field(default_factory=RenderTimings)
    prompt_fit: PromptFit | None = None  # how a prompt was matched with the known kits

    @property
    def realtime(self) -> float:
        """Audio seconds per second of rendering (the whole batched call)."""
        return self.duration_s / max(self.timings.total, 1e-9)
