"""The performance model: what a drummer played, in seconds, with the tempo map beside it.

Everything downstream (grids, frame conditioning, rendering) derives from a `Performance`,
so it keeps the raw pitch and exact onset time of every hit and never quantises.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from drumgrid.server.drums import DrumClass
from drumgrid.server.errors import MidiError
from drumgrid.server.note_maps import GM_NOTE_MAP, NoteMap

MIN_BPM = 1.0
MAX_BPM = 1000.0
DEFAULT_BPM = 120.0
DEFAULT_PPQ = 480
DEFAULT_HIT_DURATION_BEATS = 0.125  # note length written for hits that carry none


def check_bpm(bpm: float, where: str = "") -> float:
    """Reject tempi no performance has (0, negative, NaN, above 1000 bpm)."""
    if not (isinstance(bpm, (int, float)) and math.isfinite(bpm) and MIN_BPM <= bpm <= MAX_BPM):
        at = f" {where}" if where else ""
        shown = f"{bpm:g}" if isinstance(bpm, (int, float)) else repr(bpm)
        raise MidiError(
            f"tempo {shown} bpm{at} is outside {MIN_BPM:g}-{MAX_BPM:g} bpm; fix the tempo event"
        )
    return float(bpm)


@dataclass(frozen=True)
class Hit:
    """One drum hit: onset in seconds, the raw MIDI pitch, its class and MIDI velocity."""

    time_s: float
    pitch: int
    drum_class: DrumClass
    velocity: int
    duration_s: float = 0.0  # how long the note was held; drums ignore it, MIDI keeps it
    variant: str = ""  # the note map's cymbal inside the class (NoteMap.variant), "" if none

    def __post_init__(self) -> None:
        if not (math.isfinite(self.time_s) and self.time_s >= 0):
            raise MidiError(f"hit time {self.time_s} s is not a finite time >= 0")
        if not 0 <= self.pitch <= 127:
            raise MidiError(f"pitch {self.pitch} is outside 0-127")
        if not 1 <= self.velocity <= 127:
            raise MidiError(f"velocity {self.velocity} of pitch {self.pitch} is outside 1-127")


@dataclass(frozen=True)
class TimeSignature:
    beat: float  # where it starts, in quarter notes
    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.numerator < 1 or self.denominator not in (1, 2, 4, 8, 16, 32, 64):
            raise MidiError(
                f"time signature {self.numerator}/{self.denominator} is not valid; "
                "expected a numerator >= 1 and a power-of-two denominator"
            )

    @property
    def bar_beats(self) -> float:
        """Length of one bar in quarter notes."""
        return self.numerator * 4.0 / self.denominator


@dataclass(frozen=True)
class TempoMap:
    """Piecewise-constant tempo: segment i starts at `beats[i]` quarter notes with `bpms[i]`.

    Beats are quarter notes throughout drumgrid (MIDI's beat), whatever the time signature.
    """

    beats: tuple[float, ...]
    bpms: tuple[float, ...]
    seconds: tuple[float, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not self.beats or self.beats[0] != 0 or len(self.beats) != len(self.bpms):
            raise ValueError("a tempo map starts at beat 0 and has one bpm per segment")
        if any(b1 <= b0 for b0, b1 in zip(self.beats, self.beats[1:], strict=False)):
            raise ValueError("tempo map segments must start at increasing beats")
        for beat, bpm in zip(self.beats, self.bpms, strict=True):
            check_bpm(bpm, f"at beat {beat:g}")
        seconds = [0.0]
        for i in range(1, len(self.beats)):
            seconds.append(
                seconds[-1] + (self.beats[i] - self.beats[i - 1]) * 60.0 / self.bpms[i - 1]
            )
        object.__setattr__(self, "seconds", tuple(seconds))

    @classmethod
    def constant(cls, bpm: float) -> TempoMap:
        return cls((0.0,), (check_bpm(bpm),))

    @classmethod
    def from_changes(cls, changes: Sequence[tuple[float, float]]) -> TempoMap:
        """From (beat, bpm) events in any order; a later event at the same beat wins, and
        the tempo before the first event is the MIDI default of 120 bpm."""
        by_beat: dict[float, float] = {}
        for beat, bpm in sorted(changes, key=lambda c: c[0]):
            by_beat[beat] = check_bpm(bpm, f"at beat {beat:g}")
        if 0.0 not in by_beat:
            by_beat[0.0] = DEFAULT_BPM
        beats = sorted(by_beat)
        bpms = [by_beat[b] for b in beats]
        # Drop changes that repeat the tempo already in force.
        keep = [0] + [i for i in range(1, len(beats)) if bpms[i] != bpms[i - 1]]
        return cls(tuple(beats[i] for i in keep), tuple(bpms[i] for i in keep))

    @property
    def first_bpm(self) -> float:
        return self.bpms[0]

    def time_at(self, beat: float | np.ndarray) -> np.ndarray:
        """Seconds at quarter-note positions (vectorised)."""
        b = np.asarray(beat, dtype=np.float64)
        i = np.searchsorted(np.asarray(self.beats), b, side="right") - 1
        i = np.clip(i, 0, len(self.beats) - 1)
        return (
            np.asarray(self.seconds)[i]
            + (b - np.asarray(self.beats)[i]) * 60.0 / np.asarray(self.bpms)[i]
        )

    def beat_at(self, time_s: float | np.ndarray) -> np.ndarray:
        """Quarter-note positions at times in seconds (vectorised)."""
        t = np.asarray(time_s, dtype=np.float64)
        i = np.searchsorted(np.asarray(self.seconds), t, side="right") - 1
        i = np.clip(i, 0, len(self.seconds) - 1)
        return (
            np.asarray(self.beats)[i]
            + (t - np.asarray(self.seconds)[i]) * np.asarray(self.bpms)[i] / 60.0
        )

    def bpm_at(self, time_s: float | np.ndarray) -> np.ndarray:
        t = np.asarray(time_s, dtype=np.float64)
        i = np.searchsorted(np.asarray(self.seconds), t, side="right") - 1
        return np.asarray(self.bpms)[np.clip(i, 0, len(self.bpms) - 1)]

    def changes_s(self) -> list[tuple[float, float]]:
        """[(time_s, bpm), ...] as the JSON view reports it."""
        return list(zip(self.seconds, self.bpms, strict=True))


@dataclass(frozen=True)
class Performance:
    """A drum performance: hits sorted by time, the tempo map, signatures and the length."""

    hits: tuple[Hit, ...]
    tempo_map: TempoMap
    time_signatures: tuple[TimeSignature, ...]
    length_beats: float
    ppq: int = DEFAULT_PPQ  # resolution of the source, reused when the performance is written
    unknown_pitches: dict[int, int] = field(default_factory=dict)  # pitch -> notes not mapped
    selection: str = ""  # which notes of the source were taken as drums, and why
    warnings: tuple[str, ...] = ()  # what a user should know about that choice

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "hits", tuple(sorted(self.hits, key=lambda h: (h.time_s, h.pitch)))
        )
        if not self.time_signatures or self.time_signatures[0].beat != 0:
            raise ValueError("a performance needs a time signature at beat 0")
        if not (math.isfinite(self.length_beats) and self.length_beats > 0):
            raise MidiError(f"length {self.length_beats} beats is not a positive length")

    @property
    def length_s(self) -> float:
        return float(self.tempo_map.time_at(self.length_beats))

    def cut(self, seconds: float) -> Performance:
        """The first `seconds`: the hits that start there, and that length."""
        kept = tuple(h for h in self.hits if h.time_s < seconds)
        return replace(self, hits=kept, length_beats=float(self.tempo_map.beat_at(seconds)))

    @property
    def tempo_bpm(self) -> float:
        return self.tempo_map.first_bpm

    @property
    def time_signature(self) -> tuple[int, int]:
        first = self.time_signatures[0]
        return first.numerator, first.denominator

    def hit_times(self) -> np.ndarray:  # [N] seconds
        return np.fromiter((h.time_s for h in self.hits), dtype=np.float64, count=len(self.hits))

    def hit_beats(self) -> np.ndarray:  # [N] quarter notes
        return self.tempo_map.beat_at(self.hit_times())

    def signature_at(self, beat: float) -> TimeSignature:
        starts = [ts.beat for ts in self.time_signatures]
        return self.time_signatures[max(0, bisect.bisect_right(starts, beat) - 1)]

    def bar_phase(self, beats: np.ndarray) -> np.ndarray:
        """Position within the bar in [0, 1), each signature change starting a new bar."""
        beats = np.asarray(beats, dtype=np.float64)
        starts = np.asarray([ts.beat for ts in self.time_signatures])
        lengths = np.asarray([ts.bar_beats for ts in self.time_signatures])
        i = np.clip(np.searchsorted(starts, beats, side="right") - 1, 0, len(starts) - 1)
        return np.mod(beats - starts[i], lengths[i]) / lengths[i]

    def bar_lines(self) -> list[float]:
        """Beats where bars start, up to the length."""
        lines: list[float] = []
        for i, ts in enumerate(self.time_signatures):
            end = (
                self.time_signatures[i + 1].beat
                if i + 1 < len(self.time_signatures)
                else self.length_beats
            )
            beat = ts.beat
            while beat < end - 1e-9:
                lines.append(beat)
                beat += ts.bar_beats
        return lines


@dataclass(frozen=True)
class BeatNote:
    """A note as a DAW clip holds it (Live's get_notes_extended): positions in beats."""

    pitch: int
    start_beats: float
    duration_beats: float
    velocity: float
    mute: bool = False


def _check_finite(value: float, what: str) -> float:
    if not (isinstance(value, (int, float)) and math.isfinite(value)):
        raise MidiError(f"{what} is {value}; expected a finite number")
    return float(value)


def _velocity(value: float, pitch: int) -> int:
    v = _check_finite(value, f"velocity of pitch {pitch}")
    if not 0 <= v <= 127:
        raise MidiError(f"velocity {v:g} of pitch {pitch} is outside 0-127")
    return round(v)


def classify_notes(
    notes: Iterable[tuple[float, int, int, float]],
    note_map: NoteMap = GM_NOTE_MAP,
) -> tuple[list[Hit], dict[int, int]]:
    """(time_s, pitch, velocity, duration_s) -> mapped hits and counts of unmapped pitches."""
    hits: list[Hit] = []
    unknown: dict[int, int] = {}
    for time_s, pitch, velocity, duration_s in notes:
        if velocity == 0:  # MIDI's note-off spelling; not a hit
            continue
        cls = note_map.drum_class(pitch)
        if cls is None:
            unknown[pitch] = unknown.get(pitch, 0) + 1
            continue
        hits.append(Hit(time_s, pitch, cls, velocity, duration_s, note_map.variant(pitch)))
    return hits, dict(sorted(unknown.items()))


def _check_pitch(pitch: int) -> int:
    if not isinstance(pitch, (int, np.integer)) or not 0 <= pitch <= 127:
        raise MidiError(f"pitch {pitch} is not a MIDI note number 0-127")
    return int(pitch)


def from_beat_notes(
    notes: Iterable[BeatNote],
    tempo_bpm: float,
    length_beats: float,
    time_signature: tuple[int, int] = (4, 4),
    note_map: NoteMap = GM_NOTE_MAP,
) -> Performance:
    """A performance from clip notes (beats) and the song tempo; muted notes are skipped."""
    tempo_map = TempoMap.constant(tempo_bpm)
    length = _check_finite(length_beats, "clip length in beats")
    if length <= 0:
        raise MidiError(f"clip length {length:g} beats must be positive")
    rows = []
    for n in notes:
        pitch = _check_pitch(n.pitch)
        start = _check_finite(n.start_beats, f"start of pitch {pitch}")
        duration = _check_finite(n.duration_beats, f"duration of pitch {pitch}")
        if not 0 <= start < length:
            raise MidiError(
                f"note {pitch} starts at beat {start:g}, outside the clip (0 to {length:g} beats)"
            )
        if n.mute:
            continue
        t = float(tempo_map.time_at(start))
        rows.append((t, pitch, _velocity(n.velocity, pitch), max(duration, 0.0) * 60.0 / tempo_bpm))
    hits, unknown = classify_notes(rows, note_map)
    sig = TimeSignature(0.0, *time_signature)
    return Performance(tuple(hits), tempo_map, (sig,), length, DEFAULT_PPQ, unknown)


def from_note_list(
    notes: Iterable[tuple[float, int, float]],
    tempo_bpm: float = DEFAULT_BPM,
    length_s: float | None = None,
    time_signature: tuple[int, int] = (4, 4),
) -> Performance:
    """A performance from (time_s, pitch, velocity) triples; without a length it ends at the
    bar line after the last hit."""
    tempo_map = TempoMap.constant(tempo_bpm)
    rows = []
    for time_s, pitch, velocity in notes:
        pitch = _check_pitch(pitch)
        t = _check_finite(time_s, f"time of pitch {pitch}")
        rows.append((t, pitch, _velocity(velocity, pitch), 0.0))
    hits, unknown = classify_notes(rows)
    sig = TimeSignature(0.0, *time_signature)
    if length_s is None:
        last = float(tempo_map.beat_at(max((h.time_s for h in hits), default=0.0)))
        length_beats = (math.floor(last / sig.bar_beats) + 1) * sig.bar_beats
    else:
        length_beats = float(tempo_map.beat_at(_check_finite(length_s, "length in seconds")))
    return Performance(tuple(hits), tempo_map, (sig,), length_beats, DEFAULT_PPQ, unknown)
