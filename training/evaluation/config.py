"""What an evaluation run decodes and how much of it: the settings `drumgrid eval` passes in,
written into metrics.json as they are."""

from __future__ import annotations

from dataclasses import dataclass

from drumgrid.server.decoding import (
    DEFAULT_COARSE_STEPS,
    DEFAULT_TOP_K,
    DecodeOptions,
    coarse_to_fine_steps,
)
from drumgrid.server.errors import UserError

DECODINGS = ("parallel", "iterative")


@dataclass(frozen=True)
class EvalConfig:
    split: str = "validation"
    decodings: tuple[str, ...] = DECODINGS
    max_windows: int = 32
    steps: int | tuple[int, ...] = DEFAULT_COARSE_STEPS  # iterative, as the engine reads it
    temperature: float = 1.0
    top_k: int = DEFAULT_TOP_K
    top_p: float = 1.0
    seed: int = 0  # window i decodes with seed + i
    batch_size: int = 8
    n_plots: int = 3  # windows spread over kits
    n_worst: int = 3  # and the model's worst windows (lowest ViSQOL, else highest mel MAE)
    device: str = "cpu"
    visqol: bool = True  # ~0.1 s per second of audio on a CPU core; off for quick runs

    def check(self) -> None:
        for d in self.decodings:
            if d not in DECODINGS:
                raise UserError(f"unknown decoding {d!r}; expected parallel or iterative")

    def decode_options(self, method: str, n_codebooks: int) -> DecodeOptions:
        """The options the engine would render with, so the table scores what users hear."""
        if method == "parallel":
            return DecodeOptions(method="parallel")
        return DecodeOptions(
            method="iterative",
            steps=coarse_to_fine_steps(self.steps, n_codebooks),
            temperature=self.temperature,
            top_k=self.top_k,
            top_p=self.top_p,
            seed=self.seed,
        )


DEFAULT_CONFIG = EvalConfig()
