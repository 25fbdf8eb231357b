"""Shared fixtures: the read-only GMD data beside the repo and small MIDI builders."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

REPO = Path(__file__).resolve().parents[1]
GMD_ROOT = REPO.parent / "shared" / "data" / "gmd"
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def gmd_root() -> Path:
    if not (GMD_ROOT / "info.csv").is_file():
        pytest.skip(f"the Groove MIDI Dataset is not at {GMD_ROOT}")
    return GMD_ROOT


@pytest.fixture(scope="session")
def gmd_files(gmd_root: Path) -> list[Path]:
    """A fixed, spread-out sample of GMD files (every 34th of the sorted list)."""
    files = sorted(gmd_root.rglob("*.mid"))
    return files[::34]


def make_midi(
    path: Path,
    notes: list[tuple[int, int, int, int]],
    ppq: int = 480,
    tempos: list[tuple[int, int]] | None = None,
    signatures: list[tuple[int, int, int]] | None = None,
    channel: int = 9,
    midi_type: int = 1,
) -> Path:
    """Write a MIDI file from (on_tick, pitch, velocity, off_tick) notes and (tick, us/beat)
    tempos with mido, independently of drumgrid's writer."""
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = []
    for tick, tempo in tempos or []:
        events.append((tick, 0, mido.MetaMessage("set_tempo", tempo=tempo)))
    for tick, num, den in signatures or []:
        events.append((tick, 0, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
    for on, pitch, velocity, off in notes:
        events.append(
            (on, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
        )
        events.append((off, 1, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    midi = mido.MidiFile(type=midi_type, ticks_per_beat=ppq)
    track = mido.MidiTrack()
    tick = 0
    for t, _, msg in events:
        track.append(msg.copy(time=t - tick))
        tick = t
    midi.tracks.append(track)
    midi.save(str(path))
    return path
