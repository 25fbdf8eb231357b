"""Shared fixtures: the read-only GMD data beside the repo, small MIDI builders, and a real
daemon on loopback with a tiny random model (test_daemon.py, test_hostile.py)."""

from __future__ import annotations

import os
from pathlib import Path

import mido
import pytest
from paths import GMD_ROOT


@pytest.fixture(scope="session")
def gmd_root() -> Path:
    """GMD beside the checkout. Without it the tests that read it skip, by name in the
    summary; under CI (CI set) that is a failure, since CI always has it."""
    if not (GMD_ROOT / "info.csv").is_file():
        message = f"the Groove MIDI Dataset is not at {GMD_ROOT}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI runs with ../shared/data beside the checkout")
        pytest.skip(message)
    return GMD_ROOT


@pytest.fixture(scope="session")
def gmd_files(gmd_root: Path) -> list[Path]:
    """A fixed, spread-out sample of GMD files (every 34th of the sorted list)."""
    files = sorted(gmd_root.rglob("*.mid"))
    return files[::34]


def note_events(
    notes: list[tuple[int, int, int, int]], channel: int
) -> list[tuple[int, int, mido.Message]]:
    """(on_tick, pitch, velocity, off_tick) notes -> (tick, order, message) events; at one
    tick a note-off (order 1) comes before a note-on (order 2)."""
    events = []
    for on, pitch, velocity, off in notes:
        events.append(
            (on, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
        )
        events.append((off, 1, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    return events


def midi_track(events: list[tuple[int, int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    """(tick, order, message) events -> a track of delta times, in (tick, order) order."""
    track = mido.MidiTrack()
    tick = 0
    for t, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=t - tick))
        tick = t
    return track


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
    events += note_events(notes, channel)
    midi = mido.MidiFile(type=midi_type, ticks_per_beat=ppq)
    midi.tracks.append(midi_track(events))
    midi.save(str(path))
    return path


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """The real engine with a tiny random model (tests/engine_helpers.py), warmed up."""
    from engine_helpers import groove, make_model_dir

    from drumgrid.server.engine import Engine, RenderOptions

    folder = make_model_dir(tmp_path_factory.mktemp("model"))
    engine = Engine.load(folder, device="cpu")
    engine.render(groove(1), RenderOptions(decoding="parallel", tail_s=0.0))  # first-call costs
    return engine


@pytest.fixture(scope="module")
def daemon(engine, tmp_path_factory):
    from drumgrid.server.daemon import Daemon, DaemonConfig

    root = tmp_path_factory.mktemp("serve")
    config = DaemonConfig(
        udp_port=0, tcp_port=0, render_dir=root / "renders", max_queue=8, model_name="tiny"
    )
    daemon = Daemon(engine, config).start()
    yield daemon
    daemon.stop()
