"""One-shot prompts for training: generated MIDI laid out exactly as a user's one-shot
samples are laid out into a prompt, with a subset of classes per training file and every
class in each validation file."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from drumgrid.server.codecs.registry import build_random
from drumgrid.server.drums import DrumClass
from drumgrid.server.midi_io import read_midi
from drumgrid.server.prompts import SHOT_VELOCITY, prompt_from_shots
from drumgrid.training.cli import main
from drumgrid.training.shot_prompts import ShotPromptSet, slot_s, write_shot_prompts


@pytest.fixture(scope="module")
def codec():
    return build_random("drumgrid-drums")


def test_files_lay_shots_out_as_user_prompts_are(tmp_path, codec):
    rows = write_shot_prompts(tmp_path, ShotPromptSet(train_files=12, validation_files=2, seed=4))
    assert [r["split"] for r in rows] == ["train"] * 12 + ["validation"] * 2
    sizes = set()
    for row in rows:
        perf = read_midi(tmp_path / row["midi_filename"])
        classes = [h.drum_class for h in perf.hits]
        assert len(set(classes)) == len(classes)  # one shot per class
        assert {h.velocity for h in perf.hits} == {SHOT_VELOCITY}
        if row["split"] == "validation":
            assert set(classes) == set(DrumClass)
        sizes.add(len(classes))
        # a user's one-shots of each slot's length give the same grid
        rate = codec.sample_rate
        shots = {c: (np.full(round(slot_s(c) * rate), 0.1, np.float32), rate) for c in classes}
        user = prompt_from_shots(shots, codec, "shots").performance
        assert [(h.drum_class, h.velocity) for h in user.hits] == [
            (h.drum_class, h.velocity) for h in perf.hits
        ]
        np.testing.assert_allclose(
            [h.time_s for h in user.hits], [h.time_s for h in perf.hits], atol=2e-3
        )
        assert perf.length_s == pytest.approx(float(row["duration"]), abs=1e-3)
    assert len(sizes) > 3  # training files hold subsets of many sizes
    again = tmp_path / "again"
    write_shot_prompts(again, ShotPromptSet(train_files=12, validation_files=2, seed=4))
    first = rows[0]["midi_filename"]
    assert (again / first).read_bytes() == (tmp_path / first).read_bytes()


def test_command_writes_an_attributed_set(tmp_path, capsys):
    assert main(["shot-prompts", "--out", str(tmp_path), "--train-files", "3",
                 "--validation-files", "1"]) == 0  # fmt: skip
    assert "4 one-shot prompt files" in capsys.readouterr().out
    with (tmp_path / "info.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 4
    assert "drumgrid" in (tmp_path / "SOURCE.md").read_text()
    assert "Apache" in (tmp_path / "LICENSE").read_text()
