"""What every kit source offers the corpus: a name, a kits.json record (what it was rendered
from and under which licence) and a renderer. Sources are frozen dataclasses, so a kit is a
dictionary key (one renderer per kit per worker) and pickles into spawned workers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from drumgrid.server.drums import CLASS_TO_GM_PITCH, NATIVE_PITCHES, DrumClass, drum_class

Hit = tuple[float, int, int]  # (time_s, MIDI pitch, velocity 1-127)


class KitRenderer(Protocol):
    """A loaded kit; reused across files by one worker process."""

    def render(self, hits: Iterable[Hit], duration_s: float, mono: bool = True) -> np.ndarray:
        """hits -> wave [N] (or [N, 2] when not mono) float32, N = round(duration_s * rate),
        every onset within 1 ms of its hit's time."""
        ...

    def close(self) -> None: ...


class KitSource(Protocol):
    """One kit on disk, checked and ready to render."""

    @property
    def name(self) -> str: ...

    @property
    def slug(self) -> str: ...

    @property
    def source(self) -> str:
        """soundfont, sfz or hydrogen."""
        ...

    @property
    def path(self) -> Path:
        """The file the kit is read from (a SoundFont, .sfz file or drumkit.xml)."""
        ...

    @property
    def terms(self) -> KitTerms: ...

    def record(self) -> dict[str, Any]:
        """This kit's entry in kits.json: its source, files, licence and author."""
        ...

    def open(self, sample_rate: int) -> KitRenderer: ...


@dataclass(frozen=True)
class KitTerms:
    """Who made a kit and the licence it is shipped under, with where that was read."""

    licence: str | None = None
    author: str | None = None
    package: str | None = None  # the Debian package that installed it
    licence_from: str | None = None  # the file (or package copyright) the licence came from

    def fields(self) -> dict[str, str]:
        """The known fields, for a kits.json record."""
        return {k: v for k, v in vars(self).items() if v}


class NamedKit:
    """What every kit source derives from its name: the file-safe slug in corpus paths."""

    name: str

    @property
    def slug(self) -> str:
        return slug(self.name)


def slug(name: str) -> str:
    """A file-safe form of a kit name (lower case, dashes)."""
    s = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return "-".join(filter(None, s.split("-"))) or "kit"


def candidate_pitches(pitch: int) -> list[int]:
    """The keys a sample kit may play a hit on, in order: the hit's own pitch, its class's
    General MIDI pitch, then the class's other native pitches (server.drums; never a fold such
    as a clap for a snare), so a kit with its mid tom on 45 plays the hits written on 47."""
    cls = drum_class(pitch)
    if cls is None:
        return [pitch]
    native = sorted(NATIVE_PITCHES[cls] - {CLASS_TO_GM_PITCH[cls]})
    return list(dict.fromkeys([pitch, CLASS_TO_GM_PITCH[cls], *native]))


def class_coverage(sounds: Callable[[int, int], bool]) -> tuple[str, ...]:
    """The drum classes (labels) a kit plays, given `sounds(pitch, velocity) -> bool`: a class
    counts when one of its native pitches sounds at a medium velocity."""
    return tuple(
        cls.label for cls in DrumClass if any(sounds(p, 100) for p in sorted(NATIVE_PITCHES[cls]))
    )
