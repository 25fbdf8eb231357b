"""A trained model as a folder that describes itself (STYLE habit 10):

    model.safetensors   the DrumLM weights (float32)
    config.json         {format, model: LMConfig, codec: {id, config_hash, frame_rate,
                        n_codebooks, codebook_size}, kits: [...], classes: [...],
                        features: [...], window_beats, card: {...}}

Loading rebuilds the module through `build_model` and checks that the folder still fits the
code: the conditioning's feature names and the class list must match what this drumgrid
computes, or the model would read columns it was not trained on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from drumgrid.server.conditioning import FEATURE_NAMES
from drumgrid.server.drums import CLASS_LABELS
from drumgrid.server.errors import UserError
from drumgrid.server.model.config import LMConfig
from drumgrid.server.model.lm import DrumLM, build_model

FORMAT = "drumgrid-lm/1"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


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
        if d.get("format") != FORMAT:
            raise UserError(f"{where}: format {d.get('format')!r}, expected {FORMAT!r}")
        codec = d["codec"]
        return cls(
            config=LMConfig.from_dict(d["model"]),
            codec_id=codec["id"],
            codec_config_hash=codec["config_hash"],
            frame_rate=float(codec["frame_rate"]),
            kits=tuple(d["kits"]),
            window_beats=float(d.get("window_beats", 4.0)),
            classes=tuple(d["classes"]),
            features=tuple(d["features"]),
            card=dict(d.get("card", {})),
        )


def save_model(folder: str | Path, model: DrumLM, info: ModelInfo) -> Path:
    """Write the folder; each file goes to a temp name first and is renamed into place."""
    if len(info.kits) != info.config.n_kits:
        raise ValueError(f"expected {info.config.n_kits} kit names, got {len(info.kits)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().float().contiguous() for k, v in model.state_dict().items()}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"format": FORMAT})
    os.replace(tmp, folder / WEIGHTS)
    tmp = folder / (CONFIG + ".tmp")
    tmp.write_text(json.dumps(info.to_dict(), indent=1))
    os.replace(tmp, folder / CONFIG)
    return folder


def read_info(folder: str | Path) -> ModelInfo:
    """config.json alone (e.g. `drumgrid kits` lists kits without loading weights)."""
    folder = Path(folder)
    path = folder / CONFIG
    if not path.is_file() or not (folder / WEIGHTS).is_file():
        raise UserError(
            f"{folder}: not a drumgrid model (expected {WEIGHTS} and {CONFIG}); "
            "train one with `drumgrid train`"
        )
    info = ModelInfo.from_dict(json.loads(path.read_text()), str(path))
    if info.features != FEATURE_NAMES:
        raise UserError(
            f"{path}: trained on conditioning features {len(info.features)} "
            f"({', '.join(info.features[:3])}, ...), this drumgrid computes {len(FEATURE_NAMES)} "
            f"({', '.join(FEATURE_NAMES[:3])}, ...); retrain the model"
        )
    if info.classes != CLASS_LABELS:
        raise UserError(f"{path}: drum classes {info.classes}, expected {CLASS_LABELS}")
    return info


def load_model(folder: str | Path, device: str | torch.device = "cpu") -> tuple[DrumLM, ModelInfo]:
    """(model in eval mode on `device`, info)."""
    folder = Path(folder)
    info = read_info(folder)
    model = build_model(info.config)
    state = load_file(str(folder / WEIGHTS))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise UserError(
            f"{folder / WEIGHTS}: weights do not fit {CONFIG} "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    return model.to(device).eval(), info
