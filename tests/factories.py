"""The synthetic data every test builds on: MIDI files written independently of drumgrid's
writer, from notes in ticks or beats, or from raw bytes."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import mido

# -- MIDI files -----------------------------------------------------------------------------

TickNote = tuple[int, int, int, int]  # (on tick, pitch, velocity, off tick)
BeatsNote = tuple[float, int, int, float]  # (start beat, pitch, velocity, length in beats)
Event = tuple[int, int, mido.Message | mido.MetaMessage]  # (tick, order at that tick, message)


def note_events(notes: Sequence[TickNote], channel: int) -> list[Event]:
    """Notes -> events; at one tick a note-off (order 1) comes before a note-on (order 2)."""
    events: list[Event] = []
    for on, pitch, velocity, off in notes:
        events.append(
            (on, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
        )
        events.append((off, 1, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    return events


def midi_track(events: Sequence[Event]) -> mido.MidiTrack:
    """Events -> a track of delta times, in (tick, order) order."""
    track = mido.MidiTrack()
    tick = 0
    for t, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=t - tick))
        tick = t
    return track


def make_midi(
    path: Path,
    notes: Sequence[TickNote],
    ppq: int = 480,
    tempos: Sequence[tuple[int, int]] | None = None,
    signatures: Sequence[tuple[int, int, int]] | None = None,
    channel: int = 9,
    midi_type: int = 1,
) -> Path:
    """One track of notes, (tick, us/beat) tempos and (tick, numerator, denominator) time
    signatures, written with mido so that drumgrid's reader is checked against another
    writer than its own."""
    events: list[Event] = []
    for tick, tempo in tempos or []:
        events.append((tick, 0, mido.MetaMessage("set_tempo", tempo=tempo)))
    for tick, num, den in signatures or []:
        events.append((tick, 0, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
    events += note_events(notes, channel)
    midi = mido.MidiFile(type=midi_type, ticks_per_beat=ppq)
    midi.tracks.append(midi_track(events))
    midi.save(str(path))
    return path


def make_multitrack_midi(
    path: Path, tracks: Sequence[tuple[str, int, Sequence[BeatsNote]]], ppq: int = 480
) -> Path:
    """A format 1 file as a DAW writes it: one track per (name, channel 1-16, notes); an
    empty name leaves the track unnamed."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ppq)
    for name, channel, notes in tracks:
        ticks = [(round(s * ppq), p, v, round((s + n) * ppq)) for s, p, v, n in notes]
        track = midi_track(note_events(ticks, channel - 1))
        if name:
            track.insert(0, mido.MetaMessage("track_name", name=name))
        midi.tracks.append(track)
    midi.save(str(path))
    return path


def rock_beat(bars: int = 2, kick: int = 36, snare: int = 38, hat: int = 42) -> list[BeatsNote]:
    """Hats on eighths, kick on 1 and 3, snare on 2 and 4, sixteenth notes long; the pitches
    are arguments so that a pad-mapped kit can play it."""
    notes: list[BeatsNote] = []
    for b in range(bars * 4):
        notes.append((b, hat, 90, 0.25))
        notes.append((b + 0.5, hat, 70, 0.25))
        notes.append((b, kick if b % 2 == 0 else snare, 110, 0.25))
    return notes


def legato_lead(bars: int = 2) -> list[BeatsNote]:
    """A legato melody in eighths, moving by steps: what must not be taken for drums."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    return [(i * 0.5, scale[(i * 3) % 8], 90, 0.5) for i in range(bars * 8)]


def smf_bytes(tracks: Sequence[bytes], ppq: int = 480, fmt: int = 0) -> bytes:
    """A Standard MIDI File around raw track bodies, for input no MIDI library would write."""
    header = b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks), ppq)
    return header + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)
