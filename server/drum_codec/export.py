"""Saving and loading trained drum codecs: model.safetensors (float16, upcast on load) and
config.json with the architecture and a card of how it was trained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from drumgrid.server.drum_codec.config import DrumCodecConfig
from drumgrid.server.drum_codec.model import DrumCodecModel
from drumgrid.server.errors import UserError
from drumgrid.server.weights import load_weights, read_json_object

# Training-only state that inference does not need.
_SKIP = ("quantizer.usage",)
# How to mend a damaged codec folder, the end of each message about one.
DAMAGED = "the codec folder is damaged: copy it again, or retrain with `drumgrid train-codec`"


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
    checked to sit beside weights and to be a JSON object with a "config" object; no weights
    are read."""
    folder = Path(folder)
    path = folder / "config.json"
    if not (folder / "model.safetensors").is_file() or not path.is_file():
        raise UserError(
            f"{folder}: no drum codec here (expected model.safetensors and config.json); "
            "train one with `drumgrid train-codec` or use the shipped `drumgrid-drums`"
        )
    meta = read_json_object(path, DAMAGED)
    if not isinstance(meta.get("config"), dict):
        raise UserError(f"{path}: no 'config' object (the codec's architecture); {DAMAGED}")
    return meta


def load_codec(
    folder: Path, device: str | torch.device = "cpu"
) -> tuple[DrumCodecModel, dict[str, Any]]:
    """(model in eval mode on `device`, config.json's contents); the weights are checked
    against the config's shapes before the model is built, and must be finite."""
    meta = read_codec_meta(folder)
    weights = Path(folder) / "model.safetensors"
    try:
        config = DrumCodecConfig.from_dict(meta["config"])
    except (TypeError, ValueError) as exc:
        raise UserError(f"{Path(folder) / 'config.json'}: config: {exc}; {DAMAGED}") from None
    repeated = config.encoder_blocks + config.decoder_blocks + config.n_codebooks
    state = load_weights(
        weights, lambda: DrumCodecModel(config), Path(folder) / "config.json", DAMAGED, _SKIP,
        n_modules=repeated,
    )  # fmt: skip
    model = DrumCodecModel(config)
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    return model.to(device).eval(), meta
