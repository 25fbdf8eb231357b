"""The GrooVAE grid view and the text/JSON output of `drumgrid grid`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from factories import make_midi
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import EXAMPLES

from drumgrid.server.drums import DrumClass
from drumgrid.server.grid import grid_view, render_text, step_and_offset
from drumgrid.server.midi_io import read_midi
from drumgrid.server.performance import from_note_list


@settings(max_examples=300, deadline=None)
@given(
    beats=st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=50),
    spb=st.integers(1, 24),
)
def test_offsets_are_in_half_open_range_and_reconstruct(beats: list[float], spb: int) -> None:
    steps, offsets = step_and_offset(np.asarray(beats), spb)
    assert np.all(offsets >= -0.5) and np.all(offsets < 0.5)
    np.testing.assert_allclose(steps + offsets, np.asarray(beats) * spb, atol=1e-9)


def test_collisions_keep_the_louder_hit() -> None:
    # 120 bpm: a 16th is 0.125 s. Two snares in step 1, the second louder.
    perf = from_note_list([(0.12, 38, 40), (0.13, 38, 110), (0.0, 36, 90)], tempo_bpm=120.0)
    grid = grid_view(perf, 4)
    s = int(DrumClass.SNARE)
    assert grid.collisions == 1
    assert grid.velocities[1, s] == pytest.approx(110 / 127)
    assert grid.offsets[1, s] == pytest.approx(0.13 / 0.125 - 1)
    assert grid.n_steps == 16 and grid.hits.sum() == 2


def test_steps_per_beat_and_triplets() -> None:
    perf = from_note_list([(i / 6, 42, 80) for i in range(6)], tempo_bpm=120.0)  # 8th triplets
    grid = grid_view(perf, 3)
    assert grid.hits[:6, int(DrumClass.HIHAT_CLOSED)].tolist() == [1.0] * 6
    np.testing.assert_allclose(grid.offsets[:6, int(DrumClass.HIHAT_CLOSED)], 0.0, atol=1e-9)


def test_text_grid_marks_bars_and_rows() -> None:
    perf = read_midi(EXAMPLES / "rock_100_beat.mid")
    text = render_text(perf, grid_view(perf))
    lines = text.splitlines()
    assert lines[0].split()[0] == "|1"
    assert lines[1].startswith("kick") and lines[9].startswith("ride")
    assert max(len(line) for line in lines) <= 100
    kick_cells = "".join(line.split("|", 1)[1] for line in lines if line.startswith("kick"))
    assert kick_cells.replace("|", "").count(".") < len(kick_cells)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "drumgrid.training.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_cli_json_matches_the_spec(tmp_path: Path) -> None:
    path = make_midi(
        tmp_path / "g.mid", [(0, 36, 100, 60), (123, 38, 64, 180), (480, 44, 30, 500)],
        tempos=[(0, 500_000)],
    )  # fmt: skip
    out = run_cli("grid", str(path), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["tempo_bpm"] == 120.0 and data["tempo_map"] == [[0.0, 120.0]]
    assert data["time_signature"] == [4, 4]
    assert data["length_beats"] == pytest.approx(500 / 480)
    assert data["length_s"] == pytest.approx(500 / 480 * 0.5)
    snare = data["hits"][1]
    assert set(snare) == {"time_s", "beat", "step", "offset", "class", "pitch", "velocity"}
    assert snare["class"] == "snare" and snare["pitch"] == 38 and snare["velocity"] == 64
    assert snare["beat"] == pytest.approx(123 / 480, abs=1e-6)
    assert snare["step"] == 1 and snare["offset"] == pytest.approx(123 / 120 - 1, abs=1e-6)
    assert data["hits"][2]["class"] == "hihat_closed"


def test_cli_text_and_steps_per_beat() -> None:
    out = run_cli("grid", str(EXAMPLES / "funk_95_fill.mid"), "--steps-per-beat", "8")
    assert out.returncode == 0, out.stderr
    assert "95 bpm" in out.stdout and "8 steps per beat" in out.stdout
    assert "|1" in out.stdout and "snare" in out.stdout


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p.write_bytes(b"RIFF....WAVEfmt "), "not a MIDI file"),
        (lambda p: p.write_bytes((EXAMPLES / "rock_100_beat.mid").read_bytes()[:200]), "truncated"),
        (lambda p: make_midi(p, [(0, 20, 100, 10)]), "no drum notes"),
        (  # a legato melody on channel 1
            lambda p: make_midi(
                p, [(i * 480, 60 + i % 5 * 2, 100, i * 480 + 470) for i in range(8)], channel=0
            ),
            "no channel looks like drums",
        ),
        (lambda p: make_midi(p, [(0, 36, 100, 10)], tempos=[(0, 0)]), "tempo inf bpm"),
        (lambda p: make_midi(p, [(0, 36, 100, 10)], tempos=[(0, 40_000)]), "tempo 1500 bpm"),
        (lambda p: None, "no such file"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path, make, needle: str) -> None:
    path = tmp_path / "bad.mid"
    make(path)
    out = run_cli("grid", str(path))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_grid_header_names_every_time_signature(tmp_path, capsys):
    from drumgrid.training.cli import main

    notes = [(i * 480, 36, 100, i * 480 + 60) for i in range(14)]
    midi = make_midi(tmp_path / "meter.mid", notes, signatures=[(0, 4, 4), (8 * 480, 3, 4)])
    assert main(["grid", str(midi)]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert ", 4/4, 3/4 at beat 8, " in header, header
