"""Note maps: which MIDI pitch plays which of drumgrid's drum classes.

A map is a base (a preset, or `none` to start empty) plus overrides, written as one text:

    gm                      the default: General MIDI, with the GMD and E-GMD pitches
    gmd                     only the 22 Roland TD-11 pitches of the Groove MIDI Dataset
    ad2, ezd, sd3, ...      a drum plug-in's own map (note_map_presets.py), its articulations
                            folded into the nine classes, its chokes dropped
    ad2,44=none             Addictive Drums 2, but its snare rim clicks are dropped
    gm,39=none              General MIDI, but hand claps are dropped instead of played as snare
    none,44=kick,48=snare,50=hihat_closed      a pad-mapped beat, nothing else played
    my-kit.txt              (command line only) a file of `PITCH CLASS` lines, `#` comments,
                            a first line `base NAME` to start from another preset than gm

A pitch mapped to `none` is dropped, and dropped or unmapped notes are counted, never lost
silently. The model has nine classes; what General MIDI's other percussion (claps, cowbell,
congas, ...) becomes is decided by `drums.py` (by timbre) and reported per render as a fold
(`fold_report`), so a user sees "39 Hand Clap x254 -> snare" and can map it elsewhere. A plug-in
preset names its pitches in reports by the plug-in's articulations ("54 HH Open A x12 ->
hihat_open"), the other maps by General MIDI's names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from drumgrid.server.drums import (
    EGMD_EXTRA_PITCHES,
    GMD_PITCHES,
    NATIVE_PITCHES,
    PITCH_TO_CLASS,
    VARIANT_WORDS,
    DrumClass,
)
from drumgrid.server.errors import UserError
from drumgrid.server.note_map_presets import (
    AD2,
    AD2_NAMES,
    EZD,
    EZD_NAMES,
    GGD_INVASION,
    GGD_INVASION_NAMES,
    SD3,
    SD3_NAMES,
)

DEFAULT_NOTE_MAP = "gm"
PRESETS: dict[str, Mapping[int, DrumClass]] = {
    "gm": PITCH_TO_CLASS,
    "gmd": GMD_PITCHES,
    "egmd": {**EGMD_EXTRA_PITCHES, **GMD_PITCHES},
    "none": {},
    "ad2": AD2,
    "ezd": EZD,
    "sd3": SD3,
    "ggd-invasion": GGD_INVASION,
}
PRESET_NOTES = {
    "gm": "General MIDI 35-81 by timbre, with the GMD and E-GMD pitches (the default)",
    "gmd": "the 22 Roland TD-11 pitches of the Groove MIDI Dataset paper",
    "egmd": "GMD's pitches and E-GMD's clap, tambourine, cowbell, maracas, conga, claves",
    "none": "nothing: start empty and list every pitch",
    "ad2": "XLN Addictive Drums 2's default map",
    "ezd": "Toontrack EZdrummer's core map (21-82)",
    "sd3": "Toontrack Superior Drummer 3's core library map",
    "ggd-invasion": "GetGood Drums Invasion's default map",
}
# A plug-in preset's own names for its pitches (articulations), which reports use instead of
# General MIDI's; see docs/note_maps.md for the sources and the folding rule.
PRESET_NAMES: dict[str, Mapping[int, str]] = {
    "ad2": AD2_NAMES,
    "ezd": EZD_NAMES,
    "sd3": SD3_NAMES,
    "ggd-invasion": GGD_INVASION_NAMES,
}
MAX_NOTE_MAP_FILE = 64 * 1024  # a full map is under 2 KB
_PAIR = re.compile(r"\s*(\d{1,3})\s*[=\s]\s*([A-Za-z_]+)\s*")

# General MIDI's percussion key map (GM 1, channel 10), for reports.
_GM_NAMES = (
    "Acoustic Bass Drum", "Bass Drum 1", "Side Stick", "Acoustic Snare", "Hand Clap",
    "Electric Snare", "Low Floor Tom", "Closed Hi-Hat", "High Floor Tom",
    "Pedal Hi-Hat", "Low Tom", "Open Hi-Hat", "Low-Mid Tom", "Hi-Mid Tom",
    "Crash Cymbal 1", "High Tom", "Ride Cymbal 1", "Chinese Cymbal", "Ride Bell",
    "Tambourine", "Splash Cymbal", "Cowbell", "Crash Cymbal 2", "Vibraslap",
    "Ride Cymbal 2", "Hi Bongo", "Low Bongo", "Mute Hi Conga", "Open Hi Conga",
    "Low Conga", "High Timbale", "Low Timbale", "High Agogo", "Low Agogo", "Cabasa",
    "Maracas", "Short Whistle", "Long Whistle", "Short Guiro", "Long Guiro", "Claves",
    "Hi Wood Block", "Low Wood Block", "Mute Cuica", "Open Cuica", "Mute Triangle",
    "Open Triangle",
)  # fmt: skip
GM_NAMES: dict[int, str] = dict(enumerate(_GM_NAMES, start=35))


def pitch_name(pitch: int, names: Mapping[int, str] | None = None) -> str:
    """ "39 Hand Clap": the pitch and its name in `names` (a plug-in preset's articulations),
    or General MIDI's name where no `names` are given; the bare number where it has none."""
    names = GM_NAMES if names is None else names
    return f"{pitch} {names[pitch]}" if pitch in names else str(pitch)


def variant_named(cls: DrumClass, pitch: int, names: Mapping[int, str] | None = None) -> str:
    """The sound of `cls` (drums.VARIANT_WORDS) that the pitch's name in `names` (None:
    General MIDI's) says it plays; "" for the class's main sound, and for a note whose sound
    follows a controller (AD2's "Ride 1 CCPos Tip<->Bell"): drumgrid reads no CC."""
    name = (GM_NAMES if names is None else names).get(pitch, "").lower()
    if "<->" in name:
        return ""
    words = VARIANT_WORDS.get(cls, {}).items()
    return next((v for v, ws in words if any(w in name for w in ws)), "")


@dataclass(frozen=True)
class NoteMap:
    """pitch -> class; a pitch absent from `classes` is not played (and is counted)."""

    spec: str  # the text it was made from, for reports
    classes: Mapping[int, DrumClass]
    from_file: bool = False
    names: Mapping[int, str] | None = None  # a plug-in preset's pitch names; None: GM's

    def drum_class(self, pitch: int) -> DrumClass | None:
        return self.classes.get(pitch)

    def variant(self, pitch: int) -> str:
        """Which of its class's told-apart sounds a pitch plays (drums.VARIANT_WORDS: "splash",
        "side_stick", "pedal", ...; "" for the class's main sound), read from the pitch's name
        in this map's names, so the model hears it (server/conditioning.py)."""
        cls = self.classes.get(pitch)
        return "" if cls is None else variant_named(cls, pitch, self.names)

    def inline(self) -> str:
        """The map as text that needs no file (what travels over OSC): its own spec when that
        names no file, else every pitch listed."""
        if not self.from_file:
            return self.spec
        return ",".join(["none", *(f"{p}={c.label}" for p, c in sorted(self.classes.items()))])


GM_NOTE_MAP = NoteMap(DEFAULT_NOTE_MAP, PITCH_TO_CLASS)


def _class(label: str, where: str) -> DrumClass | None:
    if label.lower() in ("none", "drop"):
        return None
    try:
        return DrumClass.from_label(label)
    except ValueError as exc:
        raise UserError(f"note map {where}: {exc}, or none to drop the pitch") from None


def _apply(base: dict[int, DrumClass], pairs: list[tuple[str, str]], where: str) -> None:
    for pitch_text, label in pairs:
        pitch = int(pitch_text)
        if not 0 <= pitch <= 127:
            raise UserError(f"note map {where}: pitch {pitch} is outside 0-127")
        cls = _class(label, where)
        if cls is None:
            base.pop(pitch, None)
        else:
            base[pitch] = cls


def _preset(name: str, where: str) -> dict[int, DrumClass]:
    if name.lower() not in PRESETS:
        raise UserError(
            f"note map {where}: unknown preset {name!r}; presets: "
            + "; ".join(f"{k} ({v})" for k, v in PRESET_NOTES.items())
            + ", or PITCH=CLASS pairs"
        )
    return dict(PRESETS[name.lower()])


def _pairs(items: list[str], where: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        m = _PAIR.fullmatch(item)
        if not m:
            raise UserError(
                f"note map {where}: {item.strip()[:40]!r} is not PITCH=CLASS (e.g. 39=snare, "
                "44=none)"
            )
        out.append((m.group(1), m.group(2)))
    return out


def parse_note_map(text: str | None, allow_files: bool = False) -> NoteMap:
    """`[preset|file][,PITCH=CLASS...]` (module docstring) -> NoteMap. Files only where
    `allow_files` (the command line); over OSC a map is always inline."""
    if text is None or not text.strip():
        return GM_NOTE_MAP
    items = [i for i in text.split(",") if i.strip()]
    first = items[0].strip()
    from_file = False
    names: Mapping[int, str] | None = None
    base: dict[int, DrumClass]
    if "=" in first:
        base = dict(PITCH_TO_CLASS)
    elif first.lower() in PRESETS:
        base, items = _preset(first, repr(text)), items[1:]
        names = PRESET_NAMES.get(first.lower())
    elif allow_files and (Path(first).suffix or "/" in first) and Path(first).exists():
        (base, names), items, from_file = _read_file(Path(first)), items[1:], True
    else:
        base = _preset(first, repr(text))  # raises, naming the presets
    _apply(base, _pairs(items, repr(text)), repr(text))
    if text.strip() == DEFAULT_NOTE_MAP:
        return GM_NOTE_MAP
    return NoteMap(text.strip(), base, from_file, names)


def _read_file(path: Path) -> tuple[dict[int, DrumClass], Mapping[int, str] | None]:
    """A map file's classes, and its base preset's pitch names (None: General MIDI's)."""
    if not path.is_file() or path.stat().st_size > MAX_NOTE_MAP_FILE:
        raise UserError(f"note map {path}: expected a text file under 64 KB")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"note map {path}: cannot read it as UTF-8 text ({exc})") from None
    rows = [line.split("#", 1)[0].strip() for line in lines]
    rows = [r for r in rows if r]
    base = dict(PITCH_TO_CLASS)
    names = None
    if rows and rows[0].lower().startswith("base "):
        preset = rows[0].split(None, 1)[1].strip()
        base, names, rows = _preset(preset, str(path)), PRESET_NAMES.get(preset.lower()), rows[1:]
    _apply(base, _pairs(rows, str(path)), str(path))
    return base, names


def fold_report(
    used: Mapping[tuple[int, DrumClass], int],
    dropped: Mapping[int, int],
    names: Mapping[int, str] | None = None,
) -> list[str]:
    """One line per pitch played as a class it is not natively (General MIDI's percussion
    beyond the nine classes, clap -> snare, a plug-in's articulation, or what a user's map
    chose, 44 -> kick), and per pitch dropped; `used` counts notes per (pitch, class), `names`
    are the map's pitch names (NoteMap.names; None: General MIDI's)."""
    lines = []
    for (pitch, cls), n in sorted(used.items()):
        if pitch in NATIVE_PITCHES[cls]:
            continue
        variant = variant_named(cls, pitch, names).replace("_", " ")
        sound = f" (its {variant})" if variant else ""
        lines.append(f"{pitch_name(pitch, names)} x{n} -> {cls.label}{sound}")
    for pitch, n in sorted(dropped.items()):
        lines.append(f"{pitch_name(pitch, names)} x{n}: not in the note map, dropped")
    return lines
