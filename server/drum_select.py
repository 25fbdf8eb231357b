"""Which notes of a MIDI file are the drums.

Drum MIDI comes on General MIDI's channel 10, but also on channel 1 beside a melody (loop
packs, DAW exports), spread over several channels (one per drum), or in a DAW's separate
tracks that all use channel 1. So the unit chosen is a *part*: the notes of one channel in
one track. `select_parts` takes a channel spec:

- `auto` (the default): channel 10 when it has notes (General MIDI's drum channel, whatever
  its pitches: a pad layout needs a note map, not another channel); otherwise every part
  that looks like drums (below), and a refusal naming the parts when none does;
- `all`: every part;
- a channel list (`1`, `7,8,11`): those channels' parts.

A part looks like drums by evidence a drummer's part has and a melody, bass line or pad has
not: a few pitches repeated (the top three carry most notes), hits that start together
(kick and hi-hat) without being held as chords, General MIDI's core kit pitches, short
notes, a track name that says so. A monophonic line of moving pitches whose notes last to
the next one (legato), chords held over half a beat, and a name like "Bass" or "Lead" count
against. Chosen parts that do not look like drums (asked for by channel, or `all`) are
rendered with a warning; the choice and its reasons are reported either way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from drumgrid.server.errors import MidiError, UserError

AUTO, ALL = "auto", "all"
GM_DRUM_CHANNEL = 10
ChannelSpec = str | tuple[int, ...]  # AUTO, ALL, or 1-based channels

CORE_KIT_PITCHES = frozenset({35, 36, 37, 38, 40, 42, 44, 46, 49, 51})  # GM's kit core
_DRUM_NAME = re.compile(
    r"drum|perc|kit\b|beat|kick|snare|hat|cymbal|\btom|groove|\bbd\b|\bsd\b|\bhh\b", re.I
)
_MELODIC_NAME = re.compile(
    r"bass|piano|keys|lead|pad|guitar|gtr|string|synth|vocal|vox|organ|chord|melod|arp|"
    r"brass|flute|sax|choir|horn|violin|cello",
    re.I,
)
DRUM_EVIDENCE = 2  # points (see `_look`) from which a part looks like drums
SAME_ONSET_BEATS = 0.02  # hits closer than this start "together"


@dataclass(frozen=True)
class PartNote:
    on: float  # beats
    off: float  # beats
    pitch: int


@dataclass(frozen=True)
class Part:
    """The notes of one channel in one track."""

    track: int  # index in the file
    channel: int  # 1-16
    name: str  # the track's name, "" when it has none
    notes: tuple[PartNote, ...]

    @property
    def label(self) -> str:
        named = f" {self.name!r}" if self.name else ""
        return f"track {self.track + 1}{named} channel {self.channel}"


@dataclass(frozen=True)
class PartLook:
    part: Part
    points: int  # drum evidence; >= DRUM_EVIDENCE looks like drums
    why: str  # the evidence, for messages

    @property
    def drums(self) -> bool:
        return self.points >= DRUM_EVIDENCE


@dataclass(frozen=True)
class DrumSelection:
    parts: tuple[Part, ...]
    reason: str  # what was chosen and why, one line
    warnings: tuple[str, ...]

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(sorted({p.channel for p in self.parts}))

    def keys(self) -> set[tuple[int, int]]:
        return {(p.track, p.channel) for p in self.parts}


def parse_channels(text: str | int | None) -> ChannelSpec:
    """`auto`, `all`, `10`, `7,8,11` (1-16) -> a ChannelSpec; anything else is a UserError."""
    if text is None:
        return AUTO
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    value = str(text).strip().lower()
    if value in (AUTO, ALL):
        return value
    try:
        channels = tuple(sorted({int(c) for c in value.split(",") if c.strip()}))
    except ValueError:
        channels = ()
    if not channels or not all(1 <= c <= 16 for c in channels):
        raise UserError(
            f"channel {text!r}: expected auto, all, or MIDI channels 1-16 (e.g. 10 or 7,8,11)"
        )
    return channels


def channel_spec_text(spec: ChannelSpec) -> str:
    return spec if isinstance(spec, str) else ",".join(map(str, spec))


def _look(part: Part, plays: Callable[[int], bool]) -> PartLook:
    notes = part.notes
    pitches = np.array([n.pitch for n in notes])
    on = np.array([n.on for n in notes])
    length = np.array([max(0.0, n.off - n.on) for n in notes])
    counts = Counter(pitches.tolist())
    top3 = sum(c for _, c in counts.most_common(3)) / len(notes)
    mapped = float(np.mean([plays(int(p)) for p in pitches]))
    core = float(np.mean([int(p) in CORE_KIT_PITCHES for p in pitches]))
    onsets = np.unique(np.round(on / SAME_ONSET_BEATS).astype(np.int64))
    together = 1.0 - len(onsets) / len(notes)  # share of notes starting with another
    median_len = float(np.median(length))
    # chords held: notes overlapping another pitch's note by over half a beat
    order = np.argsort(on, kind="stable")
    held = 0
    for a, i in enumerate(order):
        for j in order[a + 1 :]:
            if on[j] >= notes[i].off:
                break
            if pitches[j] != pitches[i] and min(notes[i].off, notes[j].off) - on[j] > 0.5:
                held += 1
                break
    held_share = held / len(notes)
    # legato: a note lasts (nearly) to the next onset of the part
    next_on = np.diff(np.unique(on))
    legato = 0.0
    if len(next_on):
        starts = np.unique(on)
        gap = dict(zip(starts[:-1].tolist(), next_on.tolist(), strict=True))
        legato = float(np.mean([length[k] >= 0.8 * gap[on[k]] for k in range(len(notes))
                                if on[k] in gap]))  # fmt: skip
    points = 0
    evidence = []
    if top3 >= 0.6:
        points += 1
        evidence.append(f"top 3 pitches {top3:.0%} of notes")
    if together >= 0.15 and held_share < 0.2:
        points += 1
        evidence.append(f"{together:.0%} of hits start together")
    if core >= 0.4:
        points += 1
        evidence.append(f"{core:.0%} on General MIDI's kit pitches")
    if median_len <= 0.25:
        points += 1
        evidence.append(f"median note {median_len:.2f} beats")
    if part.name and _DRUM_NAME.search(part.name):
        points += 2
        evidence.append("a drum track name")
    against = []
    if part.name and _MELODIC_NAME.search(part.name):
        points -= 3
        against.append("a melodic track name")
    if mapped < 0.5:
        points -= 2
        against.append(f"only {mapped:.0%} of notes in the note map")
    if held_share >= 0.3:
        points -= 2
        against.append(f"{held_share:.0%} of notes held in chords")
    if len(counts) >= 3 and legato >= 0.5 and together < 0.05:
        points -= 2
        against.append(f"a legato line ({legato:.0%} of notes last to the next)")
    if int(pitches.max()) - int(pitches.min()) > 36:
        points -= 1
        against.append(f"a range of {int(pitches.max()) - int(pitches.min())} semitones")
    why = f"{len(notes)} notes, {len(counts)} pitches: " + ", ".join(evidence or ["nothing"])
    if against:
        why += "; against: " + ", ".join(against)
    return PartLook(part, points, why)


def select_parts(
    parts: Sequence[Part], spec: ChannelSpec, plays: Callable[[int], bool], where: str = ""
) -> DrumSelection:
    """The drum parts of a file (module docstring); `plays(pitch)`: the note map plays it."""
    at = f"{where}: " if where else ""
    parts = [p for p in parts if p.notes]
    if not parts:
        raise MidiError(f"{at}no notes on any channel")
    looks = [_look(p, plays) for p in parts]

    def listing(chosen: Sequence[PartLook]) -> str:
        return "; ".join(f"{lk.part.label} ({lk.why})" for lk in chosen)

    def warnings(chosen: Sequence[PartLook]) -> tuple[str, ...]:
        return tuple(
            f"{lk.part.label} does not look like drums ({lk.why}); rendered as drums as asked"
            for lk in chosen
            if not lk.drums
        )

    if spec == ALL:
        return DrumSelection(tuple(parts), "every channel (--channel all)", warnings(looks))
    if isinstance(spec, tuple):
        chosen = [lk for lk in looks if lk.part.channel in spec]
        if not chosen:
            found = sorted({p.channel for p in parts})
            hint = ", ".join(str(c) for c in found)
            raise MidiError(
                f"{at}no notes on channel(s) {channel_spec_text(spec)}; the file has notes on "
                f"channel(s) {hint}: pass --channel auto to let drumgrid choose"
            )
        parts_text = ", ".join(lk.part.label for lk in chosen)
        return DrumSelection(
            tuple(lk.part for lk in chosen), f"{parts_text} (as asked)", warnings(chosen)
        )
    ten = [lk for lk in looks if lk.part.channel == GM_DRUM_CHANNEL]
    if ten:
        others = [lk for lk in looks if lk.part.channel != GM_DRUM_CHANNEL and lk.drums]
        reason = "channel 10, General MIDI's drum channel"
        if others:
            extra = ",".join(str(c) for c in sorted({lk.part.channel for lk in others}))
            reason += (
                f"; {', '.join(lk.part.label for lk in others)} also look(s) like drums: pass "
                f"--channel 10,{extra} to add them"
            )
        return DrumSelection(tuple(lk.part for lk in ten), reason, ())
    drums = [lk for lk in looks if lk.drums]
    if not drums:
        raise MidiError(
            f"{at}no channel looks like drums: {listing(looks)}. Pass --channel N (or a list, "
            "e.g. 1,2) to render those notes as drums anyway"
        )
    reason = f"{listing(drums)} look like drums"
    skipped = [lk for lk in looks if not lk.drums]
    if skipped:
        reason += f"; left out: {listing(skipped)}"
    return DrumSelection(tuple(lk.part for lk in drums), reason, ())
