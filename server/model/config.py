"""The Transformer's hyper-parameters and its size presets.

Configuration stops here (STYLE habit 9): `build_model` turns an `LMConfig` into plain
keyword arguments, and the modules never see a config object. The config is what a model
folder's config.json records, so it round-trips through `to_dict` / `from_dict`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from drumgrid.server.conditioning import N_FEATURES

# name -> (dim, layers, heads, dropout). small is the seed paper's 768 x 6 x 8.
PRESETS: dict[str, tuple[int, int, int, float]] = {
    "debug": (32, 2, 2, 0.0),  # tests only: a forward pass in milliseconds
    "tiny": (128, 4, 4, 0.0),  # what a 2-core CPU trains in minutes
    "small": (768, 6, 8, 0.1),
    "base": (1024, 12, 16, 0.1),
}


@dataclass(frozen=True)
class LMConfig:
    """A grid-to-tokens Transformer: sizes of the token space, the input and the body."""

    n_codebooks: int  # K, from the codec
    codebook_size: int  # V, from the codec; id V is MASK
    n_kits: int  # rows of the kit embedding (the model folder lists their names)
    max_frames: int  # the longest window trained on; rotary positions work past it, untested
    dim: int = 128
    n_layers: int = 4
    n_heads: int = 4
    mlp_ratio: float = 4.0
    dropout: float = 0.0
    n_features: int = N_FEATURES
    rope_base: float = 10000.0
    preset: str = ""

    def __post_init__(self) -> None:
        if self.dim % self.n_heads or (self.dim // self.n_heads) % 2:
            raise ValueError(
                f"expected dim divisible by n_heads into an even head size, got dim {self.dim}, "
                f"{self.n_heads} heads"
            )
        for name in ("n_codebooks", "codebook_size", "n_kits", "max_frames", "n_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"expected {name} >= 1, got {getattr(self, name)}")

    @classmethod
    def preset_config(cls, name: str, **sizes: Any) -> LMConfig:
        """A preset's body around the given token space (n_codebooks, codebook_size, n_kits,
        max_frames and any override)."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}")
        dim, n_layers, n_heads, dropout = PRESETS[name]
        base = {"dim": dim, "n_layers": n_layers, "n_heads": n_heads, "dropout": dropout}
        return cls(**{**base, "preset": name, **sizes})

    def with_(self, **changes: Any) -> LMConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LMConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown model config keys {unknown}; expected some of {sorted(known)}"
            )
        return cls(**data)

    def model_kwargs(self) -> dict[str, Any]:
        """The plain keyword arguments `DrumLM` takes (everything but the preset label)."""
        d = self.to_dict()
        d.pop("preset")
        return d
