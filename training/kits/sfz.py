"""SFZ files as kits: checked by kits.sfz_file, played by sfizz, licensed by a LICENSE, COPYING
or README beside them (or the Debian package that installed them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from drumgrid.server.errors import UserError
from drumgrid.training.kits.base import KitTerms, NamedKit, class_coverage
from drumgrid.training.kits.sfizz import SfizzRenderer
from drumgrid.training.kits.sfz_file import read_sfz
from drumgrid.training.kits.terms import find_terms

LICENCE_LEVELS = 2  # SFZ kits often keep programs in a subfolder, the licence at the top


@dataclass(frozen=True)
class SfzKit(NamedKit):
    """One SFZ file as a drum kit."""

    name: str
    path: Path
    terms: KitTerms
    classes: tuple[str, ...]
    varies: bool = False  # picks samples at random or in rotation (kits.sfz_file)
    source: ClassVar[str] = "sfz"

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "sfz": str(self.path),
            "classes": list(self.classes),
            "engine": "sfizz",
            **({"varies": True} if self.varies else {}),
            **self.terms.fields(),
        }

    def open(self, sample_rate: int) -> SfizzRenderer:
        return SfizzRenderer(read_sfz(self.path), sample_rate, self.name)


def sfz_kit(name: str, path: Path) -> SfzKit:
    """A checked SFZ kit: the file parses, its samples are audio, it plays some drum class."""
    sfz = read_sfz(path)
    classes = class_coverage(sfz.sounds)
    if not classes:
        raise UserError(
            f"--kit {name}: {sfz.path} plays no drum: none of its regions covers a General "
            "MIDI drum key drumgrid maps to a class (kick 36, snare 38, hi-hats 42/46, toms "
            "43/47/50, crash 49, ride 51, ...); map its regions to those keys"
        )
    terms = find_terms(sfz.path, levels=LICENCE_LEVELS)
    return SfzKit(name, sfz.path, terms, classes, sfz.varies)
