"""A trained drum codec as a folder that describes itself, in the model folder's shape
(server/model/folder.py):

    model.safetensors   the weights (float16, upcast on load)
    config.json         {format, family, config: DrumCodecConfig, card: {steps,
                        train_seconds, train, validation, init}, weights_sha256}
    MODEL_CARD.md       the readable card of a shipped codec (`drumgrid card codec`)

Both files are written through temp names and renamed into place, and loading checks the
weights against the sha256 config.json records. A damaged or foreign folder is one UserError
naming the file and the fix: config.json's keys, their types and the format are checked
before any weights are read. Folders written before the format was versioned (format 0: no
"format" key, the card's keys at the top level, no recorded sha256) still load, so codecs
trained by an older drumgrid keep working; a format this drumgrid does not know (a folder
from a newer drumgrid) is refused with the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from drumgrid.server import weights
from drumgrid.server.drum_codec.config import DrumCodecConfig
from drumgrid.server.drum_codec.model import DrumCodecModel
from drumgrid.server.errors import UserError
from drumgrid.server.weights import CONFIG, WEIGHTS, WEIGHTS_SHA256

FORMAT = "drumgrid-codec/1"
FAMILY = "drumgrid-drums"  # the codec class that reads the folder
CARD = "MODEL_CARD.md"
SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "weights"  # the codec in the package
# The second token space: fine-tuned whole on the 20-kit corpus, for the next model.
SHIPPED_WEIGHTS_2 = Path(__file__).resolve().parent / "weights-2"
# Training-only state that inference does not need.
_SKIP = ("quantizer.usage",)
HEX = frozenset("0123456789abcdef")
_KEYS = ("format", "family", "config", "card", WEIGHTS_SHA256)  # format 1's config.json
# How to mend a damaged codec folder, the end of each message about one.
DAMAGED = "the codec folder is damaged: copy it again, or retrain with `drumgrid train-codec`"
NEWER = "a codec written by a newer drumgrid loads with that drumgrid: update drumgrid"


@dataclass(frozen=True)
class CodecInfo:
    """config.json of a codec folder: the architecture and how the weights were trained."""

    config: DrumCodecConfig
    card: dict[str, Any] = field(default_factory=dict)  # steps, seconds, settings, init
    weights_sha256: str | None = None  # as recorded; None in format 0 folders

    def to_dict(self) -> dict[str, Any]:
        """config.json's contents less the weights' sha256 (the writer adds it)."""
        return {
            "format": FORMAT,
            "family": FAMILY,
            "config": self.config.to_dict(),
            "card": dict(self.card),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = CONFIG) -> CodecInfo:
        """config.json's contents (format 1 or 0), every key checked: a UserError names
        `where`, the key and the fix."""

        def bad(what: str, fix: str = DAMAGED) -> UserError:
            return UserError(f"{where}: {what}; {fix}")

        if "format" not in d:  # format 0: the card's keys sat beside family and config
            card = {k: v for k, v in d.items() if k not in ("family", "config")}
            sha256 = None
        elif d["format"] != FORMAT:
            raise bad(
                f"format {d['format']!r}; this drumgrid reads {FORMAT!r} and unversioned "
                "codec folders",
                NEWER,
            )
        else:
            unknown = sorted(set(d) - set(_KEYS))
            if unknown:
                raise bad(f"unknown keys {unknown}; expected {list(_KEYS)}", NEWER)
            missing = [k for k in ("family", "card", WEIGHTS_SHA256) if k not in d]
            if missing:
                raise bad(f"missing keys {missing}")
            card, sha256 = d["card"], d[WEIGHTS_SHA256]
            if not isinstance(card, dict):
                raise bad(f"'card' is {card!r:.80}, expected an object")
            if not (isinstance(sha256, str) and len(sha256) == 64 and set(sha256) <= HEX):
                raise bad(f"{WEIGHTS_SHA256} is {sha256!r:.80}, expected 64 hex digits")
        family = d.get("family", FAMILY)
        if family != FAMILY:
            raise bad(f"family {family!r}: not a {FAMILY} codec", "pass the folder of one")
        section = d.get("config")
        if not isinstance(section, dict):
            raise bad("no 'config' object (the codec's architecture)")
        try:
            config = DrumCodecConfig.from_dict(section)
        except (TypeError, ValueError) as exc:
            names = {f.name for f in fields(DrumCodecConfig)}
            raise bad(f"config: {exc}", NEWER if set(section) - names else DAMAGED) from None
        return cls(config, dict(card), sha256)


def save_drum_codec(
    folder: str | Path, model: DrumCodecModel, card: dict[str, Any] | None = None
) -> Path:
    """Write the folder (module docstring): float16 weights without training-only state,
    config.json with `card` and the weights' sha256."""
    state = {
        k: v.detach().cpu().half().contiguous()
        for k, v in model.state_dict().items()
        if k not in _SKIP
    }
    info = CodecInfo(model.config, card or {})
    return weights.write_folder(folder, state, info.to_dict(), FORMAT)


def read_codec_info(folder: str | Path) -> CodecInfo:
    """config.json alone, checked (no weights are read), or a UserError naming the fix."""
    folder = Path(folder)
    path = folder / CONFIG
    if not (folder / WEIGHTS).is_file() or not path.is_file():
        raise UserError(
            f"{folder}: no drum codec here (expected {WEIGHTS} and {CONFIG}); "
            "train one with `drumgrid train-codec` or use the shipped `drumgrid-drums`"
        )
    return CodecInfo.from_dict(weights.read_json_object(path, DAMAGED), str(path))


def load_drum_codec(
    folder: str | Path, device: str | torch.device = "cpu"
) -> tuple[DrumCodecModel, CodecInfo]:
    """(model in eval mode on `device`, info). The weights are checked against the recorded
    sha256, then against the config's shapes before the model is built, and must be finite."""
    folder = Path(folder)
    info = read_codec_info(folder)
    path = folder / WEIGHTS
    if info.weights_sha256 is not None:
        weights.check_sha256(path, info.weights_sha256, DAMAGED)
    config = info.config
    repeated = config.encoder_blocks + config.decoder_blocks + config.n_codebooks
    state = weights.load_weights(
        path, lambda: DrumCodecModel(config), folder / CONFIG, DAMAGED, _SKIP,
        n_modules=repeated,
    )  # fmt: skip
    model = DrumCodecModel(config)
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    return model.to(device).eval(), info
