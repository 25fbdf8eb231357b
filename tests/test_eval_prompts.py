"""`drumgrid eval-prompts` end to end on toy kits: a prompted (random) model renders the
first seconds of validation grooves of a kit it does not know, from a recording of that kit
and from its one-shots, beside each named kit and the codec's round trip, and a kit it knows
from a prompt beside its name; the report, metrics and plots are written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from engine_helpers import make_model_dir
from factories import RANDOM_ROCK, egmd_row, make_egmd_corpus, toy_synth, write_egmd_csv

from drumgrid.server.midi_io import read_midi
from drumgrid.training.cli import main
from drumgrid.training.shot_prompts import ShotPromptSet, write_shot_prompts


def shot_corpus(root: Path, kits: tuple[str, ...]) -> Path:
    """`drumgrid shot-prompts` MIDI through toy kits, in the corpus layout."""
    midi_root = root / "midi"
    rows = write_shot_prompts(midi_root, ShotPromptSet(train_files=1, validation_files=1))
    out = []
    for i, info in enumerate(rows, start=1):
        perf = read_midi(midi_root / info["midi_filename"])
        for kit in kits:
            wave = toy_synth(perf, kit, 44100)
            row = egmd_row(i, kit, info["split"], 120.0, len(wave) / 44100, "shot")
            (root / row["midi_filename"]).parent.mkdir(parents=True, exist_ok=True)
            (root / row["midi_filename"]).write_bytes(
                (midi_root / info["midi_filename"]).read_bytes()
            )
            sf.write(root / row["audio_filename"], wave, 44100)
            out.append(row)
    write_egmd_csv(root, out)
    return root


def test_eval_prompts_scores_unseen_and_seen_kits(tmp_path, capsys):
    # the model knows "dark" (and "electronic"); "bright" is unseen
    model = make_model_dir(tmp_path / "m", prompted=True, kits=("dark", "electronic"),
                           latent_dim=32)  # fmt: skip
    corpus = make_egmd_corpus(tmp_path / "corpus", n_train=0, n_val=4, kits=("bright", "dark"),
                              audio="synth", bpm=120.0, bars=2, groove=RANDOM_ROCK)  # fmt: skip
    shots = shot_corpus(tmp_path / "shots", ("bright", "dark"))
    # the default it would replace: a named-kit model that knows "dark" and "acoustic"
    baseline = make_model_dir(tmp_path / "b", kits=("dark", "acoustic"))
    args = [
        "eval-prompts", "--model", str(model), "--corpus", str(corpus), "--shots", str(shots),
        "--seen-corpus", str(corpus), "--seen-kits", "dark", "--seen-shots", str(shots),
        "--out", str(tmp_path / "out"), "--grooves", "2", "--seconds", "3",
        "--prompt-seconds", "3", "--baseline", str(baseline),
    ]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    by_kit = {(k["kit"], k["seen"]): k for k in metrics["kits"]}
    assert set(by_kit) == {("bright", False), ("dark", False), ("dark", True)}
    unseen = by_kit[("bright", False)]
    assert unseen["best_named"] in ("dark", "electronic")
    for row in ("ceiling", "prompt", "shots", "named"):
        assert 1.0 <= unseen["visqol"][row] <= 5.0 and np.isfinite(unseen["mel_mae_db"][row])
    assert unseen["visqol"]["named"] == max(unseen["named_visqol"].values())
    # the baseline: its best kit where the kit is new to it, the kit's own name where known
    assert set(unseen["baseline_visqol"]) == {"dark", "acoustic"}
    assert unseen["visqol"]["baseline"] == max(unseen["baseline_visqol"].values())
    seen = by_kit[("dark", True)]
    assert set(seen["baseline_visqol"]) == {"dark"} and seen["best_baseline"] == "dark"
    assert 1.0 <= seen["visqol"]["baseline"] <= 5.0
    # a random model is far below the codec's round trip of the same audio
    assert unseen["visqol"]["ceiling"] > unseen["visqol"]["prompt"]
    assert len(unseen["per_groove_visqol"]["prompt"]) == 2
    # what a render gives by default: the known kit the fit chose, or the prompt itself
    for k in by_kit.values():
        assert set(k["fitted"]) == {"prompt", "shots"}
        for name, row in (("prompt", "prompt_fit"), ("shots", "shots_fit")):
            fitted = k["fitted"][name]
            assert fitted in ("", "dark", "electronic")
            expected = k["named_visqol"][fitted] if fitted else k["visqol"][name]
            assert k["visqol"][row] == pytest.approx(expected)
    assert metrics["prompted_realtime_median"] > 0
    report = capsys.readouterr().out
    assert "| bright | no |" in report and "| dark | yes |" in report and "unseen mean" in report
    fitted = by_kit[("bright", False)]["fitted"]
    assert f"({fitted['prompt'] or 'prompt'}) | " in report
    assert f"({fitted['shots'] or 'shots'}) | " in report
    assert " baseline |" in report and f"`baseline`: {baseline}" in report
    assert (tmp_path / "out" / "plots" / "bright.png").is_file()

    # the model card carries the table and the plots as packaged
    evaluation = tmp_path / "eval"
    (evaluation / "plots").mkdir(parents=True)
    (evaluation / "report.md").write_text("# Evaluation\n\n## All windows\n\n| row |\n")
    card = tmp_path / "MODEL_CARD.md"
    args = ["card", "model", "--weights", str(model), "--corpus", str(corpus), "--eval",
            str(evaluation), "--prompt-eval", str(tmp_path / "out"), "-o", str(card)]  # fmt: skip
    assert main(args) == 0
    text = card.read_text()
    assert "It also renders in the sound of a kit prompt" in text
    assert "## Prompted rendering" in text and "| bright | no |" in text
    assert "![bright](plots/prompted_bright.png)" in text


def test_a_kit_that_cannot_be_scored_stops_it_before_any_render(tmp_path, capsys):
    model = make_model_dir(tmp_path / "m", prompted=True)
    corpus = make_egmd_corpus(tmp_path / "corpus", n_train=0, n_val=4, kits=("bright",),
                              audio="synth", bpm=120.0, bars=2, groove=RANDOM_ROCK)  # fmt: skip
    args = ["eval-prompts", "--model", str(model), "--corpus", str(corpus), "--out",
            str(tmp_path / "out"), "--grooves", "4", "--seconds", "3"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "kit bright: 4 validation files of 3 s or more; need 5" in err
    assert "unseen kit bright" not in err  # nothing rendered


def test_the_model_itself_is_refused_as_its_baseline(tmp_path, capsys):
    model = make_model_dir(tmp_path / "m", prompted=True)
    corpus = make_egmd_corpus(tmp_path / "corpus", n_train=0, n_val=4, kits=("bright",),
                              audio="synth", bpm=120.0, bars=2, groove=RANDOM_ROCK)  # fmt: skip
    args = ["eval-prompts", "--model", str(model), "--corpus", str(corpus), "--out",
            str(tmp_path / "out"), "--grooves", "2", "--seconds", "3", "--baseline",
            str(model)]  # fmt: skip
    assert main(args) == 2
    assert "is the model itself (the same weights)" in capsys.readouterr().err
