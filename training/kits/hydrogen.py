"""Hydrogen drumkits as kits: drumkit.xml becomes an SFZ program played by the same sfizz path
as SFZ kits. Each instrument sits on the key kits.drum_names gives it; each of its layers is a
region over the MIDI velocities Hydrogen would pick it for (the first layer whose 0..1 range
holds velocity/127, else the nearest), with Hydrogen's linear velocity-to-gain, the
instrument's and layer's gains, pan and pitch. Samples play to their end, as in Hydrogen.
A mute group cuts the other instruments in it, not a repeat of the same one: each member
gets its own SFZ off_by group, which silent regions on the other members' keys trigger.
Left out: random pitch, round-robin and random layer selection (layers are picked by velocity,
so renders stay reproducible), ADSR and filters (one-shot samples play unshaped)."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from drumgrid.server.drums import drum_class
from drumgrid.server.errors import UserError
from drumgrid.training.kits.base import KitTerms, NamedKit, class_coverage
from drumgrid.training.kits.drum_names import assign_keys
from drumgrid.training.kits.hydrogen_file import Drumkit, Instrument, Layer, read_drumkit
from drumgrid.training.kits.sfizz import SfizzRenderer
from drumgrid.training.kits.sfz_file import RAM_HINT, check_audio, read_sfz
from drumgrid.training.kits.terms import find_terms

CUT_GROUP = 1000  # SFZ group numbers from here on carry mute groups
SILENT_DB = -144.0


@dataclass(frozen=True)
class HydrogenKit(NamedKit):
    """One Hydrogen drumkit, its instruments placed on keys."""

    name: str
    drumkit: Drumkit
    keys: tuple[int | None, ...]  # per instrument: its key, None when unmapped
    terms: KitTerms
    source: ClassVar[str] = "hydrogen"

    @property
    def path(self) -> Path:
        return self.drumkit.path

    @property
    def classes(self) -> tuple[str, ...]:
        played = {k for k in self.keys if k is not None}
        return class_coverage(lambda pitch, _velocity: pitch in played)

    @property
    def unmapped(self) -> list[str]:
        return [
            i.name for i, k in zip(self.drumkit.instruments, self.keys, strict=True) if k is None
        ]

    def record(self) -> dict[str, Any]:
        classes = [drum_class(k) if k is not None else None for k in self.keys]
        instruments = {
            i.name: cls.label if cls is not None else None
            for i, cls in zip(self.drumkit.instruments, classes, strict=True)
        }
        return {
            "name": self.name,
            "source": self.source,
            "drumkit": str(self.path),
            "kit": self.drumkit.name,
            "instruments": instruments,
            "unmapped": self.unmapped,
            "classes": list(self.classes),
            "engine": "sfizz",
            **self.terms.fields(),
        }

    def open(self, sample_rate: int) -> SfizzRenderer:
        with tempfile.TemporaryDirectory(prefix="drumgrid-h2-") as folder:
            sfz = read_sfz(write_sfz(self, Path(folder)))
            return SfizzRenderer(sfz, sample_rate, self.name)


def hydrogen_kit(name: str, path: Path) -> HydrogenKit:
    """A checked Hydrogen kit: some instrument plays a class, and the samples of those that
    play exist and are audio (an unplayed instrument's missing sample does not matter)."""
    drumkit = read_drumkit(path)
    keys = assign_keys([(i.name, i.note) for i in drumkit.instruments])
    played = [i for i, key in zip(drumkit.instruments, keys, strict=True) if key is not None]
    for inst in played:
        for layer in (x for c in inst.components for x in c):
            if not layer.sample.is_file():
                raise UserError(
                    f"{drumkit.path}: instrument {inst.name!r}: sample {layer.sample.name} not "
                    "found; put the file there or fix <filename> in drumkit.xml"
                )
    check_audio(sorted({x.sample for i in played for c in i.components for x in c}))
    kit = HydrogenKit(
        name, drumkit, tuple(keys), find_terms(drumkit.path, drumkit.licence, drumkit.author)
    )
    if not kit.classes:
        names = ", ".join(i.name for i in drumkit.instruments) or "none"
        raise UserError(
            f"--kit {name}: no instrument of {drumkit.path} maps to a drum class (instruments: "
            f"{names}); name them as kit drums (kick, snare, hi-hat, tom, crash, ride) or give "
            "them General MIDI notes (<midiOutNote>)"
        )
    return kit


def velocity_ranges(layers: tuple[Layer, ...]) -> list[tuple[Layer, int, int]]:
    """(layer, lovel, hivel) over MIDI velocities 1-127, as Hydrogen picks a layer: the first
    whose range holds velocity/127, else the one nearest to it."""
    picks: list[tuple[Layer, int, int]] = []
    for v in range(1, 128):
        x = v / 127
        layer = next((y for y in layers if y.low - 1e-6 <= x <= y.high + 1e-6), None)
        if layer is None:
            layer = min(layers, key=lambda y: min(abs(x - y.low), abs(x - y.high)))
        if picks and picks[-1][0] is layer:
            picks[-1] = (layer, picks[-1][1], v)
        else:
            picks.append((layer, v, v))
    return picks


def _db(gain: float) -> float:
    return 20 * math.log10(gain) if gain > 0 else SILENT_DB


def write_sfz(kit: HydrogenKit, folder: Path) -> Path:
    """The kit as an SFZ file in `folder`, its samples linked beside it under plain names."""
    links: dict[Path, str] = {}
    lines = [
        "<control>",
        RAM_HINT,
        "<global>",
        "loop_mode=one_shot",
        "amp_velcurve_0=0",
        "amp_velcurve_127=1",
    ]
    placed = [
        (i, inst, key)
        for i, (inst, key) in enumerate(zip(kit.drumkit.instruments, kit.keys, strict=True))
        if key is not None
    ]
    for i, inst, key in placed:
        cut = [k for j, other, k in placed if other.mute_group == inst.mute_group and j != i]
        off_by = CUT_GROUP + i if inst.mute_group >= 0 and cut else None
        for layers in inst.components:
            for layer, lo, hi in velocity_ranges(layers):
                if layer.sample not in links:
                    links[layer.sample] = f"h{len(links):05d}{layer.sample.suffix.lower()}"
                    (folder / links[layer.sample]).symlink_to(layer.sample.resolve())
                lines += _region(inst, layer, key, lo, hi, links[layer.sample], off_by)
        if off_by is not None:  # the other members' notes trigger this member's cut
            lines += [f"<region>\nkey={k}\ngroup={off_by}\nsample=*silence" for k in cut]
    out = folder / "kit.sfz"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _region(
    inst: Instrument, layer: Layer, key: int, lo: int, hi: int, sample: str, off_by: int | None
) -> list[str]:
    lines = [
        "<region>",
        f"key={key}",
        f"lovel={lo}",
        f"hivel={hi}",
        f"volume={_db(inst.gain * layer.gain):.3f}",
        f"pan={100 * inst.pan:.1f}",
    ]
    if inst.pitch or layer.pitch:
        lines.append(f"tune={round(100 * (inst.pitch + layer.pitch))}")
    if not inst.applies_velocity:
        lines.append("amp_veltrack=0")
    if off_by is not None:
        lines.append(f"off_by={off_by}")
    return [*lines, f"sample={sample}"]
