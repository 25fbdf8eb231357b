"""Reading a Hydrogen drumkit.xml: instruments with their MIDI note, gain, pan, mute group and
velocity layers, in every layout Hydrogen has written (layers under <instrument> before
0.9.7; under <instrumentComponent>, one per microphone component, since; a bare <filename>
in the oldest kits). Velocities are Hydrogen's 0..1; gains are linear. Sample paths are
taken as written: kits.hydrogen checks those of the instruments it plays."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from drumgrid.server.errors import UserError

DRUMKIT_XML = "drumkit.xml"


@dataclass(frozen=True)
class Layer:
    """One sample of an instrument and the velocity range (0..1) it plays."""

    sample: Path
    low: float
    high: float
    gain: float  # the layer's gain times its component's
    pitch: float  # semitones


@dataclass(frozen=True)
class Instrument:
    name: str
    note: int | None  # midiOutNote; None when the kit does not say
    gain: float  # volume x gain
    pan: float  # -1 (left) .. 1 (right)
    mute_group: int  # -1: none; instruments sharing one cut each other off
    components: tuple[tuple[Layer, ...], ...]  # each component picks its own layer
    applies_velocity: bool = True
    pitch: float = 0.0  # semitones


@dataclass(frozen=True)
class Drumkit:
    path: Path  # the drumkit.xml
    name: str
    author: str | None
    licence: str | None
    instruments: tuple[Instrument, ...]


def drumkit_xml(path: Path) -> Path:
    """The drumkit.xml a --kit path names: the file itself or the kit folder holding it."""
    path = path.expanduser().absolute()
    if path.is_dir():
        path = path / DRUMKIT_XML
    if not path.is_file():
        raise UserError(
            f"Hydrogen kit {path} does not exist (Debian: apt-get install hydrogen-drumkits "
            "puts kits in /usr/share/hydrogen/data/drumkits; `drumgrid kits --available` "
            "lists them)"
        )
    return path


def _strip_namespaces(root: ET.Element) -> ET.Element:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def _text(el: ET.Element | None, tag: str, default: str | None = None) -> str | None:
    child = el.find(tag) if el is not None else None
    return child.text.strip() if child is not None and child.text else default


def _filename(el: ET.Element) -> str:
    return _text(el, "filename") or ""


def _float(el: ET.Element, tag: str, default: float, where: str) -> float:
    text = _text(el, tag)
    if text is None:
        return default
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise UserError(f"{where}: <{tag}>{text}</{tag}> is not a number") from None


def read_drumkit(path: Path) -> Drumkit:
    """Parse a drumkit.xml (a file or kit folder); UserError names what is wrong and where."""
    xml = drumkit_xml(path)
    try:
        root = _strip_namespaces(ET.parse(xml).getroot())
    except (ET.ParseError, OSError) as exc:
        raise UserError(f"{xml}: not a readable drumkit.xml ({exc})") from None
    if root.tag != "drumkit_info":
        raise UserError(f"{xml}: expected <drumkit_info>, found <{root.tag}>")
    components = {
        _text(c, "id", ""): _float(c, "volume", 1.0, str(xml))
        for c in root.iter("drumkitComponent")
    }
    instruments = tuple(_instrument(el, xml, components) for el in root.iter("instrument"))
    return Drumkit(
        xml,
        _text(root, "name") or xml.parent.name,
        _text(root, "author"),
        _text(root, "license"),
        tuple(i for i in instruments if i.components),
    )


def _instrument(el: ET.Element, xml: Path, component_volume: dict[str | None, float]) -> Instrument:
    name = _text(el, "name") or f"instrument {_text(el, 'id', '?')}"
    where = f"{xml}: instrument {name!r}"
    if el.find("pan") is not None:
        pan = _float(el, "pan", 0.0, where)
    else:  # before Hydrogen 1.0: a level per side, both 1 in the centre
        pan = _float(el, "pan_R", 1.0, where) - _float(el, "pan_L", 1.0, where)
    note = _text(el, "midiOutNote")
    groups = el.findall("instrumentComponent")
    if groups:
        components = tuple(
            _layers(
                g,
                xml,
                where,
                _float(g, "gain", 1.0, where) * component_volume.get(_text(g, "component_id"), 1.0),
            )
            for g in groups
        )
    elif el.find("layer") is not None:
        components = (_layers(el, xml, where, 1.0),)
    elif _filename(el):  # the oldest kits: one sample per instrument
        components = ((Layer(_sample(xml, _filename(el)), 0.0, 1.0, 1.0, 0.0),),)
    else:
        components = ()
    return Instrument(
        name=name,
        note=int(note) if note and note.lstrip("-").isdigit() else None,
        gain=_float(el, "volume", 1.0, where) * _float(el, "gain", 1.0, where),
        pan=max(-1.0, min(1.0, pan)),
        mute_group=int(_float(el, "muteGroup", -1, where)),
        components=tuple(c for c in components if c),
        applies_velocity=(_text(el, "applyVelocity", "true") or "true").lower() != "false",
        pitch=_float(el, "pitchOffset", 0.0, where),
    )


def _layers(el: ET.Element, xml: Path, where: str, gain: float) -> tuple[Layer, ...]:
    return tuple(
        Layer(
            _sample(xml, _filename(layer)),
            _float(layer, "min", 0.0, where),
            _float(layer, "max", 1.0, where),
            _float(layer, "gain", 1.0, where) * gain,
            _float(layer, "pitch", 0.0, where),
        )
        for layer in el.findall("layer")
        if _filename(layer)
    )


def _sample(xml: Path, filename: str) -> Path:
    """A layer's sample, relative to the kit folder unless absolute (checked by the caller,
    for the instruments it plays)."""
    path = Path(filename)
    return path if path.is_absolute() else xml.parent / filename
