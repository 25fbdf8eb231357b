"""Saving and loading trained drum codecs: model.safetensors (float16, upcast on load) and
config.json with the architecture and a card of how it was trained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from drumgrid.server.drum_codec.config import DrumCodecConfig
from drumgrid.server.drum_codec.model import DrumCodecModel
from drumgrid.server.errors import UserError

# Training-only state that inference does not need.
_SKIP = ("quantizer.usage",)


def save_codec(model: DrumCodecModel, folder: Path, extra: dict[str, Any] | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().cpu().half().contiguous()
        for k, v in model.state_dict().items()
        if k not in _SKIP
    }
    tmp = folder / "model.safetensors.tmp"
    save_file(state, str(tmp))
    tmp.replace(folder / "model.safetensors")
    meta = {"family": "drumgrid-drums", "config": model.config.to_dict(), **(extra or {})}
    (folder / "config.json").write_text(json.dumps(meta, indent=1))
    return folder


def read_codec_meta(folder: Path) -> dict[str, Any]:
    """A codec folder's config.json (architecture under "config", then its training card),
    checked to sit beside weights; no weights are read."""
    folder = Path(folder)
    if not (folder / "model.safetensors").is_file() or not (folder / "config.json").is_file():
        raise UserError(
            f"{folder}: no drum codec here (expected model.safetensors and config.json); "
            "train one with `drumgrid train-codec` or use the shipped `drumgrid-drums`"
        )
    return json.loads((folder / "config.json").read_text())


def load_codec(
    folder: Path, device: str | torch.device = "cpu"
) -> tuple[DrumCodecModel, dict[str, Any]]:
    meta = read_codec_meta(folder)
    weights = Path(folder) / "model.safetensors"
    model = DrumCodecModel(DrumCodecConfig.from_dict(meta["config"]))
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise UserError(f"{weights}: weights do not fit config.json: {exc}") from None
    missing = [k for k in missing if k not in _SKIP]
    if missing or unexpected:
        raise UserError(
            f"{weights}: weights do not fit config.json "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    return model.to(device).eval(), meta
