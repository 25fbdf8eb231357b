"""Drum performances from and to Standard MIDI Files (mido underneath).

Reading works on absolute ticks of all tracks merged, so format 0 and 1, any PPQ, running
status and tempo changes in any track all come out the same way; times in seconds are then
computed from the tempo map, never accumulated from per-message deltas.
"""

from __future__ import annotations

import heapq
import io
from collections.abc import Iterator
from pathlib import Path

import mido
import numpy as np
from mido.midifiles.meta import KeySignatureError

from drumgrid.server.drum_select import (
    ALL,
    AUTO,
    GM_DRUM_CHANNEL,
    ChannelSpec,
    DrumSelection,
    Part,
    PartNote,
    parse_channels,
    select_parts,
)
from drumgrid.server.drums import DrumClass
from drumgrid.server.errors import MidiError, TooLong, UserError
from drumgrid.server.note_maps import GM_NOTE_MAP, NoteMap, fold_report
from drumgrid.server.performance import (
    DEFAULT_HIT_DURATION_BEATS,
    Performance,
    TempoMap,
    TimeSignature,
    classify_notes,
)

# Limits on what a file may ask of the reader, checked before the work they bound. mido parses
# about 0.5 MB/s in pure Python, so the size limit bounds the parse to a few seconds; the
# largest Groove MIDI Dataset file is 152 KB. The note limit is 170 notes a second for
# 10 minutes; the length limit (a stray event far past the music, or one huge delta time,
# makes a clip hours long) bounds everything computed per beat or per frame downstream.
MAX_MIDI_BYTES = 2 * 2**20
MAX_NOTES = 100_000
MAX_MIDI_LENGTH_S = 3600.0


def _load(path: Path, data: bytes | None = None) -> mido.MidiFile:
    if data is None:
        if not path.exists():
            raise UserError(f"{path}: no such file")
        if path.is_dir():
            raise UserError(f"{path}: is a folder; expected a MIDI file")
    size = path.stat().st_size if data is None else len(data)
    if size > MAX_MIDI_BYTES:
        raise MidiError(
            f"{path}: {size / 2**20:.1f} MiB is larger than the {MAX_MIDI_BYTES // 2**20} MiB "
            "drumgrid reads; a drum clip is far smaller: export only the drum track, without "
            "controller data, or split the clip"
        )
    if data is None:
        with path.open("rb") as f:
            magic = f.read(4)
    else:
        magic = data[:4]
    if magic != b"MThd":
        raise MidiError(
            f"{path}: not a MIDI file (it does not start with 'MThd'); expected a Standard "
            "MIDI File (.mid), e.g. a clip exported from your DAW"
        )
    try:
        if data is not None:
            return mido.MidiFile(file=io.BytesIO(data))
        return mido.MidiFile(str(path))
    except KeySignatureError as exc:  # mido's own type, not a ValueError
        raise MidiError(
            f"{path}: not a readable MIDI file: a key signature event is out of range ({exc}); "
            "re-export the file, or delete its key signature"
        ) from None
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, EOFError):
            detail = "the file ends in the middle of a track (truncated?)"
        raise MidiError(f"{path}: not a readable MIDI file: {detail}") from None


def _absolute(midi: mido.MidiFile) -> Iterator[tuple[int, int, mido.Message]]:
    """All messages of all tracks as (absolute tick, track index, message), merged in tick
    order."""

    def track_events(
        index: int, track: mido.MidiTrack
    ) -> Iterator[tuple[int, int, int, mido.Message]]:
        tick = 0
        for order, msg in enumerate(track):
            tick += msg.time
            yield tick, index, order, msg

    merged = heapq.merge(*(track_events(i, t) for i, t in enumerate(midi.tracks)))
    for tick, index, _, msg in merged:
        yield tick, index, msg


def read_midi(
    path: str | Path,
    channel: ChannelSpec | int | None = AUTO,
    max_length_s: float = MAX_MIDI_LENGTH_S,
    data: bytes | None = None,
    note_map: NoteMap = GM_NOTE_MAP,
) -> Performance:
    """Read a drum performance. `channel`: `auto` (drum_select.py chooses and says why),
    `all` (None too), a channel 1-16 or a tuple of them; `note_map` turns pitches into drum
    classes. `data`: the file's bytes, already read (the daemon reads where it checks);
    `path` then only names it in messages.
    A clip longer than `max_length_s` (to its last event) raises TooLong before any per-note
    work; files over MAX_MIDI_BYTES and clips over MAX_NOTES notes are refused as MidiError.
    The performance carries what was chosen (`selection`) and any `warnings`."""
    path = Path(path)
    if channel is None:
        channel = ALL
    spec = parse_channels(channel) if not isinstance(channel, tuple) else channel
    if isinstance(spec, tuple) and not all(1 <= c <= 16 for c in spec):
        raise UserError(f"channel {channel} is outside 1-16")
    midi = _load(path, data)
    if midi.type == 2:
        raise MidiError(
            f"{path}: MIDI format 2 (independent sequences) is not supported; "
            "export the clip as format 0 or 1"
        )
    if midi.type not in (0, 1):
        raise MidiError(
            f"{path}: MIDI format {midi.type} does not exist (the header is damaged); "
            "export the clip again as format 0 or 1"
        )
    ppq = midi.ticks_per_beat
    if ppq <= 0:
        raise MidiError(f"{path}: SMPTE time division is not supported; export with ticks per beat")

    tempo_changes: list[tuple[float, float]] = []
    signatures: dict[float, TimeSignature] = {}
    # (track, channel, pitch) -> indices into notes
    open_notes: dict[tuple[int, int, int], list[int]] = {}
    notes: list[list[int]] = []  # [on tick, pitch, velocity, off tick or -1, track, channel]
    names: dict[int, str] = {}
    last_tick = 0
    for tick, track, msg in _absolute(midi):
        last_tick = max(last_tick, tick)
        if msg.type == "set_tempo":
            bpm = 60e6 / msg.tempo if msg.tempo > 0 else float("inf")
            tempo_changes.append((tick / ppq, bpm))
        elif msg.type == "time_signature":
            try:
                signature = TimeSignature(tick / ppq, msg.numerator, msg.denominator)
            except MidiError as exc:
                raise MidiError(f"{path}: {exc}") from None
            signatures[tick / ppq] = signature
        elif msg.type == "track_name" and track not in names:
            names[track] = str(msg.name).strip()[:80]
        elif msg.type in ("note_on", "note_off"):
            key = (track, msg.channel + 1, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                if len(notes) == MAX_NOTES:
                    raise MidiError(
                        f"{path}: more than {MAX_NOTES} notes, the most drumgrid reads from one "
                        "file; split the clip"
                    )
                open_notes.setdefault(key, []).append(len(notes))
                notes.append([tick, msg.note, msg.velocity, -1, track, msg.channel + 1])
            elif open_notes.get(key):  # note-off (or note-on with velocity 0): oldest first
                notes[open_notes[key].pop(0)][3] = tick

    try:
        tempo_map = TempoMap.from_changes(tempo_changes)
    except MidiError as exc:
        raise MidiError(f"{path}: {exc}") from None
    if not notes:
        raise MidiError(f"{path}: no notes on any channel: nothing to render")

    default_len = round(DEFAULT_HIT_DURATION_BEATS * ppq)
    for note in notes:
        if note[3] <= note[0]:
            note[3] = note[0] + default_len
        last_tick = max(last_tick, note[3])
    selection = _select(notes, names, spec, note_map, ppq, path)
    chosen = selection.keys()
    notes = [n for n in notes if (n[4], n[5]) in chosen]
    # The length is known now: refuse a long clip before the per-note work.
    length_s = float(tempo_map.time_at(last_tick / ppq))
    if length_s > max_length_s:
        raise TooLong(
            f"{path}: the clip is {length_s:.1f} s long (its last event is at beat "
            f"{last_tick / ppq:.0f}); drumgrid renders at most {max_length_s:g} s: shorten the "
            "clip, or remove stray events after its end"
        )
    on = tempo_map.time_at(np.array([n[0] for n in notes], dtype=np.float64) / ppq)
    off = tempo_map.time_at(np.array([n[3] for n in notes], dtype=np.float64) / ppq)
    rows = [
        (float(t0), n[1], n[2], float(t1 - t0)) for n, t0, t1 in zip(notes, on, off, strict=True)
    ]
    hits, unknown = classify_notes(rows, note_map)
    if not hits:
        pitches = ", ".join(str(p) for p in unknown)
        raise MidiError(
            f"{path}: no drum notes: pitch(es) {pitches} have no drum class in note map "
            f"{note_map.spec!r} (General MIDI's is 35-81 and the Roland pitches 22 and 26); "
            "pass --note-map to map them"
        )
    sigs = tuple(sorted(signatures.values(), key=lambda s: s.beat))
    if not sigs or sigs[0].beat != 0:
        sigs = (TimeSignature(0.0, 4, 4), *sigs)
    return Performance(
        tuple(hits), tempo_map, sigs, last_tick / ppq, ppq, unknown,
        selection=selection.reason, warnings=selection.warnings,
    )  # fmt: skip


def _select(
    notes: list[list[int]],
    names: dict[int, str],
    spec: ChannelSpec,
    note_map: NoteMap,
    ppq: int,
    path: Path,
) -> DrumSelection:
    """Group the notes into parts (track, channel) and choose the drum parts."""
    grouped: dict[tuple[int, int], list[PartNote]] = {}
    for on, pitch, _, off, track, channel in notes:
        grouped.setdefault((track, channel), []).append(PartNote(on / ppq, off / ppq, pitch))
    parts = [
        Part(track, channel, names.get(track, ""), tuple(ns))
        for (track, channel), ns in sorted(grouped.items())
    ]
    return select_parts(parts, spec, lambda p: note_map.drum_class(p) is not None, str(path))


def write_midi(
    performance: Performance,
    path: str | Path,
    channel: int = GM_DRUM_CHANNEL,  # 1-based, as musicians count; mido counts from 0
    ppq: int | None = None,
) -> Path:
    """Write a format-1 file (conductor track + drum track). Onsets are rounded to the tick,
    so reading the file back gives the same hits to the tick."""
    path = Path(path)
    ppq = ppq or performance.ppq
    tm = performance.tempo_map
    conductor: list[tuple[int, int, mido.MetaMessage]] = []
    for beat, bpm in zip(tm.beats, tm.bpms, strict=True):
        conductor.append(
            (round(beat * ppq), 0, mido.MetaMessage("set_tempo", tempo=round(60e6 / bpm)))
        )
    for sig in performance.time_signatures:
        conductor.append(
            (
                round(sig.beat * ppq),
                1,
                mido.MetaMessage(
                    "time_signature", numerator=sig.numerator, denominator=sig.denominator
                ),
            )
        )
    events: list[tuple[int, int, mido.Message]] = []
    end_tick = round(performance.length_beats * ppq)
    for hit in performance.hits:
        on = round(float(tm.beat_at(hit.time_s)) * ppq)
        off_beat = float(tm.beat_at(hit.time_s + hit.duration_s)) if hit.duration_s > 0 else None
        off = (
            round(off_beat * ppq)
            if off_beat is not None
            else on + round(DEFAULT_HIT_DURATION_BEATS * ppq)
        )
        off = max(off, on + 1)
        events.append(
            (
                on,
                1,
                mido.Message("note_on", channel=channel - 1, note=hit.pitch, velocity=hit.velocity),
            )
        )
        events.append(
            (off, 0, mido.Message("note_off", channel=channel - 1, note=hit.pitch, velocity=0))
        )
        end_tick = max(end_tick, off)

    midi = mido.MidiFile(type=1, ticks_per_beat=ppq)
    for timed in (conductor, events):
        track = mido.MidiTrack()
        tick = 0
        for t, _, msg in sorted(timed, key=lambda e: (e[0], e[1])):  # note-offs before note-ons
            track.append(msg.copy(time=t - tick))
            tick = t
        track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - tick)))
        midi.tracks.append(track)
    tmp = path.with_name(path.name + ".tmp")
    midi.save(str(tmp))
    tmp.replace(path)
    return path


def input_report(performance: Performance, note_map: NoteMap = GM_NOTE_MAP) -> list[str]:
    """What a render took from its MIDI: the drum parts chosen and why, warnings about that
    choice, and every pitch folded into another class or dropped (note_maps.fold_report)."""
    used: dict[tuple[int, DrumClass], int] = {}
    for h in performance.hits:
        used[(h.pitch, h.drum_class)] = used.get((h.pitch, h.drum_class), 0) + 1
    lines = [f"drums: {performance.selection}"] if performance.selection else []
    lines += [f"warning: {w}" for w in performance.warnings]
    folds = fold_report(used, performance.unknown_pitches, note_map.names)
    lines += [f"note map {note_map.spec}: {f}" for f in folds]
    return lines
