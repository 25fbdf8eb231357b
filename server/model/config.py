"""The Transformer's hyper-parameters and its size presets.

Configuration stops here (STYLE habit 9): `build_model` turns an `LMConfig` into plain
keyword arguments, and the modules never see a config object. The config is what a model
folder's config.json records, so it round-trips through `to_dict` / `from_dict`.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, fields, replace
from typing import Any

from drumgrid.server.conditioning import N_FEATURES

# The longest window a model may declare: 8192 frames are 95 s at the drum codec's 86
# frames/s (the default model trains on 415). Attention memory grows with its square, and
# the engine renders max_frames-long windows, so a config.json saying 1e12 is refused.
MAX_FRAMES_LIMIT = 8192

PROMPT_MODES = ("prefix", "pooled")

# name -> (dim, layers, heads, dropout). small is the seed paper's 768 x 6 x 8.
PRESETS: dict[str, tuple[int, int, int, float]] = {
    "debug": (32, 2, 2, 0.0),  # tests only: a forward pass in milliseconds
    "tiny": (128, 4, 4, 0.0),  # what a 2-core CPU trains in minutes
    "medium": (256, 6, 8, 0.0),  # the largest body an 8 s render runs at 20x+ on 2 cores
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
    # Width of the codec's continuous latent a second head regresses (0: none). Parallel
    # decoding then quantises that prediction with the codec's own quantiser instead of
    # taking each level's argmax (docs/model_quality.md).
    latent_dim: int = 0
    # Renders in a prompt's sound as well as by kit name: the prompt's frames go in as a
    # prefix the window attends to (docs/prompting.md).
    prompted: bool = False
    # How a prompt conditions a window: "prefix" (the window attends to the prompt's frames)
    # or "pooled" (the prompt's frames averaged into the window's kit vector).
    prompt_mode: str = "prefix"

    def __post_init__(self) -> None:
        sizes = ("n_codebooks", "codebook_size", "n_kits", "max_frames", "n_layers", "dim")
        for name in (*sizes, "n_features"):
            if getattr(self, name) < 1:
                raise ValueError(f"expected {name} >= 1, got {getattr(self, name)}")
        if self.n_heads < 1 or self.dim % self.n_heads or (self.dim // self.n_heads) % 2:
            raise ValueError(
                f"expected dim divisible by n_heads into an even head size, got dim {self.dim}, "
                f"{self.n_heads} heads"
            )
        if self.prompt_mode not in PROMPT_MODES:
            raise ValueError(
                f"expected prompt_mode {' or '.join(PROMPT_MODES)}, got {self.prompt_mode!r}"
            )
        if self.latent_dim < 0:
            raise ValueError(f"expected latent_dim >= 0, got {self.latent_dim}")
        if self.max_frames > MAX_FRAMES_LIMIT:
            raise ValueError(
                f"expected max_frames <= {MAX_FRAMES_LIMIT} (the longest window drumgrid "
                f"renders), got {self.max_frames}"
            )
        if not (self.mlp_ratio > 0 and 0 <= self.dropout < 1 and self.rope_base > 0):
            raise ValueError(
                f"expected mlp_ratio > 0, 0 <= dropout < 1 and rope_base > 0, got "
                f"{self.mlp_ratio}, {self.dropout}, {self.rope_base}"
            )

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
        """Keys added after the first release are written only when set, so folders written
        before them keep their config.json (and their checkpoint hash)."""
        d = asdict(self)
        for late in ("latent_dim", "prompted"):
            if not d[late]:
                del d[late]
        if d["prompt_mode"] == "prefix":
            del d["prompt_mode"]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LMConfig:
        """From config.json's `model` section: every key known, every required one there,
        integers where sizes go and finite numbers where rates go (ValueError otherwise)."""
        if not isinstance(data, dict):
            raise ValueError(f"expected an object of model settings, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(
                f"unknown model config keys {unknown}; expected some of {sorted(known)}"
            )
        missing = [n for n, f in known.items() if f.default is MISSING and n not in data]
        if missing:
            raise ValueError(f"missing model config keys {missing}")
        for name, value in data.items():
            kind = known[name].type  # a string: annotations are postponed
            if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name}: expected an integer, got {value!r}")
            if kind == "float" and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                raise ValueError(f"{name}: expected a finite number, got {value!r}")
            if kind == "bool" and not isinstance(value, bool):
                raise ValueError(f"{name}: expected true or false, got {value!r}")
            if kind == "str" and not isinstance(value, str):
                raise ValueError(f"{name}: expected a string, got {value!r}")
        return cls(**data)

    def model_kwargs(self) -> dict[str, Any]:
        """The plain keyword arguments `DrumLM` takes (everything but the preset label)."""
        d = self.to_dict()
        d.pop("preset")
        return d
