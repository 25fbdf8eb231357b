"""Drum classes and the pitch map.

The 9 classes and the mapping of the 22 Roland TD-11 pitches follow the Groove MIDI Dataset
paper (Gillick et al. 2019, table 2). E-GMD's extra pitches and the rest of the General MIDI
percussion range (35-81) map by timbre (auxiliary percussion goes to the class whose sound
and role are closest). Anything else is unknown: readers report it instead of dropping it.
"""

from __future__ import annotations

from enum import IntEnum


class DrumClass(IntEnum):
    KICK = 0
    SNARE = 1
    HIHAT_CLOSED = 2
    HIHAT_OPEN = 3
    TOM_LOW = 4
    TOM_MID = 5
    TOM_HIGH = 6
    CRASH = 7
    RIDE = 8

    @property
    def label(self) -> str:
        """The name used in JSON and on the command line (e.g. `hihat_closed`)."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> DrumClass:
        try:
            return cls[label.upper()]
        except KeyError:
            known = ", ".join(c.label for c in cls)
            raise ValueError(f"unknown drum class {label!r}; expected one of {known}") from None


N_CLASSES = len(DrumClass)
CLASS_LABELS: tuple[str, ...] = tuple(c.label for c in DrumClass)
# The classes that ring for seconds: ring-outs leave them the longest silence, one-shot
# prompts the longest slot, and training weights their tails.
CYMBALS = (DrumClass.CRASH, DrumClass.RIDE, DrumClass.HIHAT_OPEN)
# The sounds inside a class that the model is told apart (a Hit's `variant`), by the words
# that name their pitches in a note map (General MIDI's names, or a plug-in's articulations).
# A class's own, most played sound has no variant. Each is what the corpus plays often enough
# to learn, and sounds unlike its class's main drum (docs/model_quality.md, classes not
# pitches): a splash dies in about a second and a china rings on; a side stick clicks and
# GM's electric snare (GMD's 40, 19% of its snare hits) is another drum; the pedal hi-hat
# (GMD's most played closed-hat pitch) is a chick, not a stick hit; a ride's bell pings; and
# each tom class holds two GM toms (the low one GMD's rim pitch 58, GM's vibraslap).
VARIANT_WORDS: dict[DrumClass, dict[str, tuple[str, ...]]] = {
    DrumClass.CRASH: {"splash": ("splash",), "china": ("china", "chinese")},
    DrumClass.SNARE: {
        "side_stick": ("side stick", "sidestick", "cross stick", "rim click", "rimclick"),
        "electric": ("electric",),
    },
    DrumClass.HIHAT_CLOSED: {"pedal": ("pedal",)},
    DrumClass.RIDE: {"bell": ("bell",), "ride_2": ("ride cymbal 2", "ride 2")},
    DrumClass.TOM_HIGH: {"high": ("high tom",)},
    DrumClass.TOM_MID: {"low_mid": ("low-mid", "low mid")},
    DrumClass.TOM_LOW: {"vibraslap": ("vibraslap",)},
}

# GMD paper, table 2: Roland TD-11 pitch -> class.
GMD_PITCHES: dict[int, DrumClass] = {
    36: DrumClass.KICK,
    38: DrumClass.SNARE, 40: DrumClass.SNARE, 37: DrumClass.SNARE,
    48: DrumClass.TOM_HIGH, 50: DrumClass.TOM_HIGH,
    45: DrumClass.TOM_MID, 47: DrumClass.TOM_MID,
    43: DrumClass.TOM_LOW, 58: DrumClass.TOM_LOW,
    46: DrumClass.HIHAT_OPEN, 26: DrumClass.HIHAT_OPEN,
    42: DrumClass.HIHAT_CLOSED, 22: DrumClass.HIHAT_CLOSED, 44: DrumClass.HIHAT_CLOSED,
    49: DrumClass.CRASH, 55: DrumClass.CRASH, 57: DrumClass.CRASH, 52: DrumClass.CRASH,
    51: DrumClass.RIDE, 59: DrumClass.RIDE, 53: DrumClass.RIDE,
}  # fmt: skip

# Pitches E-GMD's TD-17 kits add: hand clap, tambourine, cowbell, maracas, low conga, claves.
EGMD_EXTRA_PITCHES: dict[int, DrumClass] = {
    39: DrumClass.SNARE, 54: DrumClass.HIHAT_CLOSED, 56: DrumClass.SNARE,
    70: DrumClass.HIHAT_CLOSED, 64: DrumClass.TOM_LOW, 75: DrumClass.SNARE,
}  # fmt: skip

# The rest of General MIDI's percussion key map (35-81): short metallic or shaken sounds go
# to the closed hi-hat, their sustained forms to the open hi-hat, pitched skins to the toms
# by register, and sharp wooden or rim sounds to the snare.
GM_PITCHES: dict[int, DrumClass] = {
    35: DrumClass.KICK, 41: DrumClass.TOM_LOW,
    60: DrumClass.TOM_MID, 61: DrumClass.TOM_LOW, 62: DrumClass.TOM_HIGH, 63: DrumClass.TOM_MID,
    65: DrumClass.SNARE, 66: DrumClass.SNARE,
    67: DrumClass.HIHAT_OPEN, 68: DrumClass.HIHAT_CLOSED, 69: DrumClass.HIHAT_CLOSED,
    71: DrumClass.HIHAT_CLOSED, 72: DrumClass.HIHAT_OPEN, 73: DrumClass.HIHAT_CLOSED,
    74: DrumClass.HIHAT_OPEN, 76: DrumClass.TOM_HIGH, 77: DrumClass.TOM_MID,
    78: DrumClass.HIHAT_CLOSED, 79: DrumClass.HIHAT_OPEN, 80: DrumClass.HIHAT_CLOSED,
    81: DrumClass.HIHAT_OPEN,
}  # fmt: skip

PITCH_TO_CLASS: dict[int, DrumClass] = {**GM_PITCHES, **EGMD_EXTRA_PITCHES, **GMD_PITCHES}

# The pitches that are each class's own instrument (the GMD table, and General MIDI's names
# for the same drums); any other pitch a map plays as a class is a fold, and is reported.
NATIVE_PITCHES: dict[DrumClass, frozenset[int]] = {
    cls: frozenset(p for p, c in GMD_PITCHES.items() if c == cls) | extra
    for cls, extra in (
        (DrumClass.KICK, frozenset({35})),
        (DrumClass.SNARE, frozenset()),
        (DrumClass.HIHAT_CLOSED, frozenset()),
        (DrumClass.HIHAT_OPEN, frozenset()),
        (DrumClass.TOM_LOW, frozenset({41})),
        (DrumClass.TOM_MID, frozenset()),
        (DrumClass.TOM_HIGH, frozenset()),
        (DrumClass.CRASH, frozenset()),
        (DrumClass.RIDE, frozenset()),
    )
}

# One General MIDI note per class, used when a grid is written back as plain GM drums.
CLASS_TO_GM_PITCH: dict[DrumClass, int] = {
    DrumClass.KICK: 36, DrumClass.SNARE: 38, DrumClass.HIHAT_CLOSED: 42,
    DrumClass.HIHAT_OPEN: 46, DrumClass.TOM_LOW: 43, DrumClass.TOM_MID: 47,
    DrumClass.TOM_HIGH: 50, DrumClass.CRASH: 49, DrumClass.RIDE: 51,
}  # fmt: skip


def drum_class(pitch: int) -> DrumClass | None:
    """The class of a MIDI pitch, or None when drumgrid has no mapping for it."""
    return PITCH_TO_CLASS.get(pitch)
