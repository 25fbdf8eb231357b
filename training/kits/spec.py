"""`--kit NAME=PATH` -> a checked kit of the right source: an .sfz file, a Hydrogen kit (its
drumkit.xml or folder), else a SoundFont (PATH[:BANK:PRESET], training.fluidsynth's syntax)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path

from drumgrid.server.errors import UserError
from drumgrid.training.fluidsynth import parse_kit as parse_soundfont_kit
from drumgrid.training.kits.base import KitSource
from drumgrid.training.kits.hydrogen import hydrogen_kit
from drumgrid.training.kits.hydrogen_file import DRUMKIT_XML
from drumgrid.training.kits.sfz import sfz_kit
from drumgrid.training.kits.soundfont import soundfont_kit

KIT_HELP = (
    "NAME=PATH: a SoundFont (.sf2/.sf3, optionally :BANK:PRESET; without it bank 128 preset 0 "
    "or the font's only preset), an .sfz file, or a Hydrogen kit (its folder or drumkit.xml)"
)


def _sample_kit(text: str) -> tuple[str, Path] | None:
    """(name, path) when `text` names an SFZ or Hydrogen kit, else None (a SoundFont)."""
    name, sep, rest = text.partition("=")
    path = Path(rest).expanduser()
    if rest.lower().endswith(".h2drumkit"):
        raise UserError(
            f"--kit {text!r}: a Hydrogen kit archive; unpack it (tar xzf {rest}) and give the "
            "folder it makes"
        )
    sample = rest.lower().endswith(".sfz") or path.name == DRUMKIT_XML or path.is_dir()
    if not sample:
        return None
    if not sep or not name.strip():
        raise UserError(f"--kit {text!r}: expected NAME=PATH ({KIT_HELP})")
    if importlib.util.find_spec("pysfizz") is None:  # the CLI names the extra to install
        raise ModuleNotFoundError("No module named 'pysfizz'", name="pysfizz")
    return name.strip(), path


def parse_kit(text: str) -> KitSource:
    """NAME=PATH -> a kit ready to render; UserError names what is wrong with it."""
    sample = _sample_kit(text)
    if sample is None:
        return soundfont_kit(parse_soundfont_kit(text))
    name, path = sample
    maker: Callable[[str, Path], KitSource] = hydrogen_kit
    if path.suffix.lower() == ".sfz":
        maker = sfz_kit
    return maker(name, path)


def licensed(kits: Sequence[KitSource]) -> tuple[list[KitSource], list[str]]:
    """(the kits that may be shipped, why each other one was skipped). An SFZ or Hydrogen kit
    needs a licence; SoundFonts keep their rule: unknown terms are marked so on the card."""
    kept, skipped = [], []
    for kit in kits:
        if kit.source == "soundfont" or kit.terms.licence is not None:
            kept.append(kit)
        else:
            skipped.append(
                f"kit {kit.name}: skipped, no licence found for {kit.path} (a licence field, "
                "a LICENSE, COPYING or README file beside it, or a Debian copyright file); "
                "add one to render it"
            )
    return kept, skipped
