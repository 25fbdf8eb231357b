"""Which key each instrument of a sample kit plays, so drumgrid's pitches reach it: the kit's
own MIDI note when it is a General MIDI drum note of its own (not shared with another
instrument, as placeholder notes are) and does not name another kind of drum than the
instrument's name does; otherwise the name decides (kick/bd, snare/sd, rim shot, side
stick, hi-hat closed/pedal/open, toms low/mid/high/floor or numbered, crash/splash/china,
ride and its bell) and the instrument takes the first free key of that drum. Anything else
(claps, cowbells, shakers, ...) is unmapped and reported."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from drumgrid.server.drums import DrumClass, drum_class

# (pattern, keys in order of preference); the first pattern that matches decides.
HAT = r"\b(hi ?hat|hat|hh|chh|ohh|phh)\b"
PEDAL = r"\b(pedal|foot|pd)\b"
HALF_OPEN = r"\b(semi|half) ?open(ed)?\b"
OPEN = r"\b(open(ed)?|op)\b"
NAME_RULES: tuple[tuple[str, tuple[int, ...]], ...] = (
    (rf"{HAT}.*{PEDAL}|{PEDAL}.*{HAT}|\bphh\b", (44, 42, 22)),
    (rf"{HAT}.*{HALF_OPEN}|{HALF_OPEN}.*{HAT}", (26, 46)),
    (rf"{HAT}.*{OPEN}|{OPEN}.*{HAT}|\bohh\b", (46, 26)),
    (HAT, (42, 22, 44)),
    (r"\b(kick|kik|bass ?drum|bassdrum|bd)\b", (36, 35)),
    (r"\brim ?shot\b", (40, 38)),
    (r"\b(side ?stick|cross ?stick|x ?stick|rim ?click|stick|rim)\b", (37,)),
    (r"\b(snare|sd|snr)\b", (38, 40, 37)),
    (r"\bfloor\b|\btoms?\b.*\b(low|lo)\b|\b(low|lo)\b.*\btoms?\b|\btoms? ?[3-9]\b", (43, 41, 58)),
    (r"\btoms?\b.*\b(mid|med)\b|\b(mid|med)\b.*\btoms?\b|\btoms? ?2\b", (47, 45)),
    (r"\btoms?\b.*\b(high|hi)\b|\b(high|hi)\b.*\btoms?\b|\btoms? ?1\b", (50, 48)),
    (r"\btoms?\b", (47, 45, 50, 48, 43, 41, 58)),
    (r"\bride\b.*\b(bell|cup)\b|\b(bell|cup)\b.*\bride\b", (53, 51, 59)),
    (r"\bride\b", (51, 59, 53)),
    (r"\b(crash|splash|china|cymbal|cym)\b", (49, 57, 55, 52)),
)
FAMILIES: dict[DrumClass, str] = {
    DrumClass.KICK: "kick",
    DrumClass.SNARE: "snare",
    DrumClass.HIHAT_CLOSED: "hihat",
    DrumClass.HIHAT_OPEN: "hihat",
    DrumClass.TOM_LOW: "tom",
    DrumClass.TOM_MID: "tom",
    DrumClass.TOM_HIGH: "tom",
    DrumClass.CRASH: "crash",
    DrumClass.RIDE: "ride",
}


def name_keys(name: str) -> tuple[int, ...]:
    """The keys an instrument's name asks for, best first; () when it names no kit drum."""
    text = re.sub(r"[^a-z0-9]+", " ", re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower())
    text = re.sub(r"([a-z])(\d)", r"\1 \2", text)  # tom1 -> tom 1
    for pattern, keys in NAME_RULES:
        if re.search(pattern, text):
            return keys
    return ()


def _family(key: int) -> str | None:
    cls = drum_class(key)
    return FAMILIES[cls] if cls is not None else None


def assign_keys(instruments: Sequence[tuple[str, int | None]]) -> list[int | None]:
    """(name, MIDI note or None) per instrument -> the key each plays on, None if unmapped."""
    counts = Counter(note for _, note in instruments if note is not None)
    keys: list[int | None] = [None] * len(instruments)
    wanted: list[tuple[int, ...]] = []
    for i, (name, note) in enumerate(instruments):
        by_name = name_keys(name)
        family = _family(note) if note is not None and counts[note] == 1 else None
        if family is not None and (not by_name or _family(by_name[0]) == family):
            keys[i] = note
            wanted.append(())
        else:
            wanted.append(by_name)
    taken = {k for k in keys if k is not None}
    for i, options in enumerate(wanted):
        free = next((k for k in options if k not in taken), None)
        if free is not None:
            keys[i] = free
            taken.add(free)
    return keys
