"""A trained model as a folder that describes itself (STYLE habit 10):

    model.safetensors   the DrumLM weights (float32)
    config.json         {format, model: LMConfig, codec: {id, config_hash, frame_rate,
                        n_codebooks, codebook_size}, kits: [...], classes: [...],
                        features: [...], window_beats, card: {...}, weights_sha256}

Loading rebuilds the module through `build_model` and checks that the folder still fits the
code: the conditioning's feature names must be ones this drumgrid computes (the model gets
exactly those columns, so a model from before a feature was added still renders) and the
class list must match, or the model would read columns it was not trained on. A damaged
folder is one UserError naming the file: config.json is checked key by key, the weights
file against the sha256 that `save_model` records in config.json (folders written before it
was recorded skip this), then against the shapes the config implies, and every weight must
be finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from drumgrid.server.conditioning import FEATURE_NAMES
from drumgrid.server.drums import CLASS_LABELS
from drumgrid.server.errors import UserError
from drumgrid.server.model.config import LMConfig
from drumgrid.server.model.lm import DrumLM, build_model
from drumgrid.server.weights import (
    CONFIG,
    WEIGHTS,
    WEIGHTS_SHA256,
    check_sha256,
    load_weights,
    read_json_object,
    write_folder,
)

FORMAT = "drumgrid-lm/1"
# How to mend a damaged folder, the end of each message about one.
DAMAGED = "the model folder is damaged: copy it again, or retrain with `drumgrid train`"


@dataclass(frozen=True)
class ModelInfo:
    """Everything besides the weights that rendering with a model needs."""

    config: LMConfig
    codec_id: str
    codec_config_hash: str
    frame_rate: float
    kits: tuple[str, ...]
    window_beats: float = 4.0  # the trained window, for the engine's default window length
    classes: tuple[str, ...] = CLASS_LABELS
    features: tuple[str, ...] = FEATURE_NAMES
    card: dict[str, Any] = field(default_factory=dict)  # data card: corpus, splits, steps, metrics

    def kit_index(self, name: str) -> int:
        """The model's id of kit `name`, or a UserError listing the known kits."""
        try:
            return self.kits.index(name)
        except ValueError:
            raise UserError(
                f"unknown kit {name!r}; this model knows {', '.join(self.kits)}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        c = self.config
        return {
            "format": FORMAT,
            "model": c.to_dict(),
            "codec": {
                "id": self.codec_id,
                "config_hash": self.codec_config_hash,
                "frame_rate": self.frame_rate,
                "n_codebooks": c.n_codebooks,
                "codebook_size": c.codebook_size,
            },
            "kits": list(self.kits),
            "window_beats": self.window_beats,
            "classes": list(self.classes),
            "features": list(self.features),
            "card": self.card,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "config.json") -> ModelInfo:
        """config.json's contents, every field checked: a UserError names `where`, the field
        and what was expected."""
        if not isinstance(d, dict):
            raise UserError(f"{where}: expected a JSON object, got {type(d).__name__}; {DAMAGED}")
        if d.get("format") != FORMAT:
            raise UserError(f"{where}: format {d.get('format')!r}, expected {FORMAT!r}")

        def bad(what: str) -> UserError:
            return UserError(f"{where}: {what}; {DAMAGED}")

        def section(name: str) -> dict[str, Any]:
            if name not in d:
                raise bad(f"no {name!r} section")
            if not isinstance(d[name], dict):
                raise bad(f"{name!r} is {d[name]!r}, expected an object")
            return d[name]

        def strings(name: str) -> tuple[str, ...]:
            value = d.get(name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise bad(f"{name!r} is {value!r:.80}, expected a list of names")
            return tuple(value)

        def number(value: Any, name: str) -> float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad(f"{name} is {value!r}, expected a number")
            if not (math.isfinite(value) and value > 0):
                raise bad(f"{name} is {value!r}, expected a finite number > 0")
            return float(value)

        codec, model = section("codec"), section("model")
        try:
            config = LMConfig.from_dict(model)
        except ValueError as exc:
            raise bad(f"model: {exc}") from None
        for key in ("id", "config_hash"):
            if not isinstance(codec.get(key), str):
                raise bad(f"codec.{key} is {codec.get(key)!r}, expected a string")
        kits = strings("kits")
        if len(kits) != config.n_kits:
            raise bad(
                f"lists {len(kits)} kit names for a model whose kit table has {config.n_kits} "
                "rows (model.n_kits); it needs one name per row"
            )
        if len(set(kits)) != len(kits) or not all(kits):
            raise bad(f"kit names {list(kits)} are not distinct, non-empty names")
        card = d.get("card", {})
        if not isinstance(card, dict):
            raise bad(f"'card' is {card!r:.80}, expected an object")
        return cls(
            config=config,
            codec_id=codec["id"],
            codec_config_hash=codec["config_hash"],
            frame_rate=number(codec.get("frame_rate"), "codec.frame_rate"),
            kits=kits,
            window_beats=number(d.get("window_beats", 4.0), "window_beats"),
            classes=strings("classes"),
            features=strings("features"),
            card=dict(card),
        )


def save_model(folder: str | Path, model: DrumLM, info: ModelInfo) -> Path:
    """Write the folder; each file goes to a temp name first and is renamed into place.
    config.json records the weights' sha256, which loading checks."""
    if len(info.kits) != info.config.n_kits:
        raise ValueError(f"expected {info.config.n_kits} kit names, got {len(info.kits)}")
    state = {k: v.detach().cpu().float().contiguous() for k, v in model.state_dict().items()}
    return write_folder(folder, state, info.to_dict(), FORMAT)


def read_config(folder: str | Path) -> dict[str, Any]:
    """config.json as a dict (a JSON object), or a UserError naming what is wrong with it."""
    folder = Path(folder)
    path = folder / CONFIG
    if not path.is_file() or not (folder / WEIGHTS).is_file():
        raise UserError(
            f"{folder}: not a drumgrid model (expected {WEIGHTS} and {CONFIG}); "
            "train one with `drumgrid train`"
        )
    return read_json_object(path, DAMAGED)


def read_info(folder: str | Path) -> ModelInfo:
    """config.json alone (e.g. `drumgrid kits` lists kits without loading weights)."""
    path = Path(folder) / CONFIG
    info = ModelInfo.from_dict(read_config(folder), str(path))
    unknown = [n for n in info.features if n not in FEATURE_NAMES]
    if unknown:
        raise UserError(
            f"{path}: trained on conditioning features this drumgrid does not compute "
            f"({', '.join(unknown[:3])}); update drumgrid or retrain the model"
        )
    if len(set(info.features)) != len(info.features) or (
        len(info.features) != info.config.n_features
    ):
        raise UserError(
            f"{path}: lists {len(info.features)} conditioning features (distinct: "
            f"{len(set(info.features))}) for a model that reads {info.config.n_features} "
            f"(model.n_features); {DAMAGED}"
        )
    if info.classes != CLASS_LABELS:
        raise UserError(f"{path}: drum classes {info.classes}, expected {CLASS_LABELS}")
    return info


def load_model(folder: str | Path, device: str | torch.device = "cpu") -> tuple[DrumLM, ModelInfo]:
    """(model in eval mode on `device`, info). The weights are checked (module docstring)
    before the model is built."""
    folder = Path(folder)
    info = read_info(folder)
    weights = folder / WEIGHTS
    recorded = read_config(folder).get(WEIGHTS_SHA256)
    if recorded is not None:
        check_sha256(weights, str(recorded), DAMAGED)
    state = load_weights(
        weights, lambda: build_model(info.config), folder / CONFIG, DAMAGED,
        n_modules=info.config.n_layers,
    )  # fmt: skip
    model = build_model(info.config)
    model.load_state_dict(state)  # strict: load_weights checked names and shapes
    return model.to(device).eval(), info
