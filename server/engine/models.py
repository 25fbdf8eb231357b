"""Where a model folder and its codec are, for `--model DIR|NAME` and `--codec-path`.

A model folder (server/model/folder.py) names its codec by id and config hash. The codec's
weights are found, first match wins:

1. an explicit `codec_path` (the `--codec-path` option);
2. `codec.path` in the model's config.json, relative to the model folder (`attach_codec`
   writes it), so a folder can point at a codec kept beside it;
3. a `codec/` folder inside the model folder (how the shipped default model carries its
   codec: model and codec travel as one folder);
4. the codec registry's own loader (drumgrid-drums: the weights shipped in the package;
   hub codecs: the local Hugging Face cache).

The loaded codec's config hash must equal the one the model was trained on: a different
codec (or the same architecture with other weights) gives tokens another meaning, and the
render would be noise rather than an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from drumgrid.server.codecs.base import Codec
from drumgrid.server.codecs.registry import codec_spec, load_codec
from drumgrid.server.errors import UserError
from drumgrid.server.model.folder import CONFIG, WEIGHTS, ModelInfo, read_config, read_info

# The models that ship in the package, by the name `--model` takes, each in NAME_model/
# beside this file (dashes as underscores; the recipe's package_model writes them there).
# The default before the twenty-kit model stays as `eight-kits`: a project made with it
# renders as it did.
PACKAGED_MODELS: dict[str, Path] = {
    name: Path(__file__).resolve().parent / f"{name.replace('-', '_')}_model"
    for name in ("default", "eight-kits")
}
DEFAULT_MODEL_DIR = PACKAGED_MODELS["default"]
CODEC_SUBFOLDER = "codec"


def resolve_model_dir(model: str | Path) -> Path:
    """A packaged model's name -> its folder; anything else is a folder path. Errors name the
    fix."""
    packaged = PACKAGED_MODELS.get(str(model))
    if packaged is not None:
        if not (packaged / CONFIG).is_file():
            raise UserError(
                f"no {model} model ships in this build (the default-model recipe trains it and "
                f"installs it into {packaged}); pass --model DIR with a folder written by "
                "`drumgrid train`"
            )
        return packaged
    folder = Path(model)
    if not folder.is_dir():
        names = ", ".join(PACKAGED_MODELS)
        raise UserError(
            f"--model {folder}: no such folder and no packaged model of that name ({names}); "
            "pass one of those or a folder written by `drumgrid train`"
        )
    return folder


def checkpoint_hash(model_dir: Path) -> str:
    """sha256 of the weights and config (the key of compiled-engine caches), 16 hex digits."""
    h = hashlib.sha256()
    for name in (WEIGHTS, CONFIG):
        with open(model_dir / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def codec_location(model_dir: Path, codec_path: str | Path | None = None) -> Path | None:
    """The folder the model's codec loads from (rules 1-3 above), or None for the registry."""
    if codec_path is not None:
        return Path(codec_path)
    rel = read_config(model_dir).get("codec", {}).get("path")
    if rel is not None and not isinstance(rel, str):
        raise UserError(
            f"{model_dir / CONFIG}: codec.path is {rel!r}, expected a folder path relative to "
            "the model folder; fix it or pass --codec-path DIR"
        )
    if rel:
        return (model_dir / rel).resolve()
    inside = model_dir / CODEC_SUBFOLDER
    if (inside / "config.json").is_file():
        return inside
    return None


def load_model_codec(
    model_dir: Path, info: ModelInfo, codec_path: str | Path | None, device: str
) -> Codec:
    """The codec the model was trained with, or a UserError saying what is missing."""
    where = codec_location(model_dir, codec_path)
    try:
        codec = load_codec(info.codec_id, where, device)
    except UserError as exc:
        raise UserError(
            f"{model_dir}: the model's codec {info.codec_id} could not be loaded ({exc}); "
            f"put the codec folder at {model_dir / CODEC_SUBFOLDER} or pass --codec-path DIR"
        ) from None
    if codec.config_hash != info.codec_config_hash:
        raise UserError(
            f"{model_dir}: trained with codec {info.codec_id} hash {info.codec_config_hash}, "
            f"but the codec loaded from {where or 'the registry'} has hash {codec.config_hash}; "
            "pass --codec-path with the codec the model was trained on"
        )
    return codec


def attach_codec(model_dir: str | Path, codec_dir: str | Path, copy: bool = False) -> Path:
    """Make a model folder find its codec: with copy, copy it into `model_dir/codec/` (what a
    shipped folder does); otherwise record its path, relative to the model folder, in
    config.json's `codec.path`. config.json is rewritten through a temp file."""
    model_dir, codec_dir = Path(model_dir), Path(codec_dir)
    config_path = model_dir / CONFIG
    config = json.loads(config_path.read_text())
    if copy:
        target = model_dir / CODEC_SUBFOLDER
        if target.resolve() != codec_dir.resolve():
            shutil.copytree(codec_dir, target, dirs_exist_ok=True)
        config["codec"].pop("path", None)
    else:
        config["codec"]["path"] = os.path.relpath(codec_dir.resolve(), model_dir.resolve())
    tmp = config_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config, indent=1))
    os.replace(tmp, config_path)
    read_info(model_dir)  # still a valid folder
    codec_spec(config["codec"]["id"])  # and a codec id this drumgrid knows
    return model_dir
