"""SoundFont presets as kits, played by FluidSynth (training.fluidsynth), with the licences of
the fonts drumgrid's recipes use and, for others, their Debian package's copyright file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from drumgrid.training.fluidsynth import DRUM_BANK, Kit, KitRenderer, read_presets
from drumgrid.training.kits.base import KitTerms, class_coverage
from drumgrid.training.kits.sf2_zones import preset_keys
from drumgrid.training.kits.terms import debian_package, debian_terms

# SoundFont file -> (Debian package, licence as that package's copyright file states it).
SOUNDFONT_LICENCES = {
    "FluidR3_GM.sf2": ("fluid-soundfont-gm", "MIT (Frank Wen, Toby Smithe)"),
    "Black_Pearl_4_LV2.sf2": ("avldrums.lv2-soundfont", "GPL-2+ (AVL Drumkits, Robin Gareus)"),
    "Red_Zeppelin_4_LV2.sf2": ("avldrums.lv2-soundfont", "GPL-2+ (AVL Drumkits, Robin Gareus)"),
    "TimGM6mb.sf2": ("timgm6mb-soundfont", "GPL-2 (Tim Brechbill, David Bolton)"),
    "MuseScore_General_Full.sf3": (
        "musescore-general-soundfont",
        "MIT, parts PD or CC0 (S. Christian Collins, Frank Wen and others)",
    ),
}
UNKNOWN_TERMS = ("?", "see the SoundFont's own terms")
# A font with one melodic-bank preset is a kit when its name says so (AVL's "..._4pc").
KIT_NAME = re.compile(r"drum|kit|perc|\d+ ?pc\b", re.IGNORECASE)


def soundfont_terms(path: Path) -> KitTerms:
    """A font's licence: the table above, else its Debian package's copyright file."""
    name = path.name if path.name in SOUNDFONT_LICENCES else path.resolve().name
    if name in SOUNDFONT_LICENCES:
        package, licence = SOUNDFONT_LICENCES[name]
        return KitTerms(licence, None, package, f"/usr/share/doc/{package}/copyright")
    owner = debian_package(path.resolve())
    terms = debian_terms(owner, path.resolve()) if owner else None
    if terms is None:
        return KitTerms(package=owner)
    return KitTerms(terms[0], terms[1], owner, f"/usr/share/doc/{owner}/copyright")


@dataclass(frozen=True)
class SoundFontKit:
    """A FluidSynth kit (training.fluidsynth.Kit) with its terms."""

    kit: Kit
    terms: KitTerms
    source: ClassVar[str] = "soundfont"

    @property
    def slug(self) -> str:
        return self.kit.slug

    @property
    def path(self) -> Path:
        return self.kit.soundfont

    @property
    def name(self) -> str:
        return self.kit.name

    def record(self) -> dict[str, Any]:
        """The fields kits.json has always held for SoundFont kits, then source and terms."""
        k = self.kit
        return {
            "name": k.name,
            "soundfont": str(k.soundfont),
            "bank": k.bank,
            "preset": k.preset,
            "channel": k.channel + 1,
            "source": self.source,
            **self.terms.fields(),
        }

    def open(self, sample_rate: int) -> KitRenderer:
        return KitRenderer(self.kit, sample_rate)


def soundfont_kit(kit: Kit) -> SoundFontKit:
    return SoundFontKit(kit, soundfont_terms(kit.soundfont))


def soundfont_presets(path: Path) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """(bank, preset, name, drum classes) of a font's drum kits: its percussion-bank presets,
    or its only preset when the font or preset is named as a kit; those that play no class
    are left out."""
    presets = read_presets(path)
    keys = preset_keys(path)
    if len(presets) == 1 and presets[0][0] != DRUM_BANK:
        if not KIT_NAME.search(f"{path.stem} {presets[0][2]}"):
            return []
    else:
        presets = [p for p in presets if p[0] == DRUM_BANK]
    found = []
    for bank, preset, name in presets:
        played = keys.get((bank, preset), set())

        def sounds(pitch: int, _velocity: int, played: set[int] = played) -> bool:
            return pitch in played

        classes = class_coverage(sounds)
        if classes:
            found.append((bank, preset, name, classes))
    return found
