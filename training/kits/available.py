"""The kits this machine can render: drum presets of the SoundFonts in the usual folders, SFZ
files under the usual SFZ folders and Hydrogen drumkits (system and user), each with its
licence and the drum classes it plays. Kits that fail their checks are listed with why."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from drumgrid.server.drums import CLASS_LABELS
from drumgrid.server.errors import UserError
from drumgrid.training.kits.base import KitTerms, NamedKit, class_coverage
from drumgrid.training.kits.hydrogen import hydrogen_kit
from drumgrid.training.kits.hydrogen_file import DRUMKIT_XML
from drumgrid.training.kits.sfz import LICENCE_LEVELS
from drumgrid.training.kits.sfz_file import read_sfz
from drumgrid.training.kits.soundfont import soundfont_presets, soundfont_terms
from drumgrid.training.kits.terms import find_terms

HOME = Path.home()
SOUNDFONT_DIRS = (
    Path("/usr/share/sounds/sf2"),
    Path("/usr/share/sounds/sf3"),
    Path("/usr/share/soundfonts"),
    HOME / ".local/share/soundfonts",
)
SFZ_DIRS = (Path("/usr/share/sfz"), Path("/usr/local/share/sfz"), HOME / ".local/share/sfz")
HYDROGEN_DIRS = (
    Path("/usr/share/hydrogen/data/drumkits"),
    Path("/usr/local/share/hydrogen/data/drumkits"),
    HOME / ".hydrogen/data/drumkits",
)
SFZ_DEPTH = 4  # folders below an SFZ root searched for .sfz files


@dataclass
class AvailableKit(NamedKit):
    """One renderable kit (or one that failed its checks: `problem` says why)."""

    name: str
    source: str  # soundfont | sfz | hydrogen
    path: Path
    spec: str = ""  # the PATH part of --kit NAME=PATH
    terms: KitTerms = field(default_factory=KitTerms)
    classes: tuple[str, ...] = ()
    unmapped: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def kit_argument(self) -> str:
        return shlex.quote(f"{self.slug}={self.spec or self.path}")

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "kit": f"{self.slug}={self.spec or self.path}",
            "classes": list(self.classes),
            "missing_classes": [c for c in CLASS_LABELS if c not in self.classes],
            "unmapped": self.unmapped,
            **self.terms.fields(),
            **({"problem": self.problem} if self.problem else {}),
        }


def _files(folders: Iterable[Path], patterns: tuple[str, ...], depth: int) -> Iterator[Path]:
    """Files matching `patterns` under each folder (to `depth` levels), once per real file."""
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for level in range(depth + 1):
            for pattern in patterns:
                matches = folder.glob("/".join(["*"] * level + [pattern]))
                for path in sorted(matches, key=lambda p: (p.is_symlink(), p)):  # real files first
                    real = path.resolve()
                    if path.is_file() and real not in seen:
                        seen.add(real)
                        yield path


def soundfont_kits(folders: Iterable[Path] = SOUNDFONT_DIRS) -> list[AvailableKit]:
    found = []
    for path in _files(folders, ("*.sf2", "*.sf3"), 0):
        try:
            presets = soundfont_presets(path)
        except UserError as exc:
            found.append(AvailableKit(path.stem, "soundfont", path, problem=str(exc)))
            continue
        terms = soundfont_terms(path)
        for bank, preset, name, classes in presets:
            found.append(
                AvailableKit(
                    f"{path.stem} {name}",
                    "soundfont",
                    path,
                    f"{path}:{bank}:{preset}",
                    terms,
                    classes,
                )
            )
    return found


def sfz_kits(folders: Iterable[Path] = SFZ_DIRS) -> list[AvailableKit]:
    found = []
    for path in _files(folders, ("*.sfz", "*.SFZ"), SFZ_DEPTH):
        kit = AvailableKit(path.stem, "sfz", path)
        try:
            kit.classes = class_coverage(read_sfz(path).sounds)
            kit.terms = find_terms(path, levels=LICENCE_LEVELS)
        except UserError as exc:
            kit.problem = str(exc)
        if kit.classes or kit.problem:
            found.append(kit)
    return found


def hydrogen_kits(folders: Iterable[Path] = HYDROGEN_DIRS) -> list[AvailableKit]:
    found = []
    for xml in _files(folders, (DRUMKIT_XML,), 1):
        kit = AvailableKit(xml.parent.name, "hydrogen", xml.parent)
        try:
            h2 = hydrogen_kit(xml.parent.name, xml.parent)
            kit.name, kit.terms, kit.classes, kit.unmapped = (
                h2.drumkit.name,
                h2.terms,
                h2.classes,
                h2.unmapped,
            )
        except UserError as exc:
            kit.problem = str(exc)
        found.append(kit)
    return found


def available_kits(
    soundfonts: Iterable[Path] = SOUNDFONT_DIRS,
    sfz: Iterable[Path] = SFZ_DIRS,
    hydrogen: Iterable[Path] = HYDROGEN_DIRS,
) -> list[AvailableKit]:
    """Every kit found, SoundFonts first, then SFZ, then Hydrogen, each sorted by path."""
    return [*soundfont_kits(soundfonts), *sfz_kits(sfz), *hydrogen_kits(hydrogen)]
