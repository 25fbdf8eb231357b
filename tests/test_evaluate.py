"""Train -> eval end to end on a tiny real corpus: synthesised drum audio with its MIDI, a
random tiny drum codec saved to a folder, a debug model trained for a few steps, then
`drumgrid eval` (`make test` covers a tiny train -> eval run in under two minutes).

The audio is factories.toy_synth's (a decaying sine for kicks, noise bursts for the rest),
so the test needs neither FluidSynth nor SoundFonts, and the reference row's onset numbers
are known to be near perfect.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from factories import RANDOM_ROCK, TOY_KITS, make_egmd_corpus
from lm_helpers import save_legacy_copy

from drumgrid.server.codecs import build_random, load_codec
from drumgrid.server.drum_codec.folder import save_drum_codec
from drumgrid.training.cli import main
from drumgrid.training.egmd import EGMDIndex
from drumgrid.training.lm.trainer import LMTrainConfig, LMTrainer
from drumgrid.training.tokens import tokenize

KITS = tuple(TOY_KITS)  # bright, dark


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Path]:
    """corpus -> codec folder -> token cache -> a model trained for a few steps."""
    root = tmp_path_factory.mktemp("eval")
    corpus = make_egmd_corpus(root / "corpus", n_train=4, n_val=2, kits=KITS, audio="synth",
                              bpm=(100.0, 120.0), bars=2, groove=RANDOM_ROCK)  # fmt: skip
    index = EGMDIndex.read(corpus)
    codec_dir = save_drum_codec(root / "codec", build_random("drumgrid-drums").model)  # type: ignore[attr-defined]
    codec = load_codec("drumgrid-drums", codec_dir)  # the hash a user's --codec-path gives
    tokenize(index, codec, root / "tokens", progress=False)
    cfg = LMTrainConfig(steps=30, batch_size=4, lr=3e-3, warmup_steps=3, validate_every=30,
                        checkpoint_every=30, val_windows=8)  # fmt: skip
    LMTrainer(root / "tokens", root / "train", cfg, preset="debug").run(progress=False)
    return {"root": root, "codec": codec_dir, "tokens": root / "tokens",
            "model": root / "train" / "model"}  # fmt: skip


def test_train_then_eval_end_to_end(run, capsys):
    out = run["root"] / "eval"
    args = ["eval", "--model", str(run["model"]), "--tokens", str(run["tokens"]),
            "--out", str(out), "--codec-path", str(run["codec"]), "--max-windows", "4",
            "--steps", "2", "--plots", "2", "--worst", "1", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "iterative" in printed and "report:" in printed
    # Iterative decoding is scored with the engine's schedule: 2 coarse steps, 1 per finer level.
    assert "steps 2 on the coarsest level, 1 on each finer one" in (out / "report.md").read_text()

    m = json.loads((out / "metrics.json").read_text())
    assert list(m["rows"]) == ["reference", "ceiling", "parallel", "iterative"]
    assert m["n_windows"] == 4 and m["kits"] == list(KITS) and m["reference"] == "corpus audio"
    assert set(m["per_kit"]) == set(KITS)
    ref, ceil, par, it = (m["rows"][r] for r in ("reference", "ceiling", "parallel", "iterative"))
    # The corpus audio is the detector's ceiling: most synthesised hits are found (quiet
    # hi-hats in a loud snare's tail are not), and those found are on time.
    assert ref["onset_f1"] > 0.75 and ref["timing_error_ms_median"] < 2.0
    assert m["empty_windows_dropped"] > 0  # the files' trailing silence
    assert ref["velocity_rank_corr"] > 0.8
    assert ref["mel_mae_db"] is None  # the reference is not compared with itself
    for row in (ceil, par, it):
        assert 0.0 <= row["onset_f1"] <= 1.0
        assert row["mel_mae_db"] > 0 and row["spectral_convergence"] >= 0
        assert -1.0 <= row["envelope_correlation"] <= 1.0
        assert row["tter_mae_db"] >= 0 and -1.0 <= row["flux_cosine"] <= 1.0
        assert 1.0 <= row["visqol"] <= 4.75  # ViSQOL (MOS-LQO) per window, pooled ...
    assert ref["visqol"] is None
    for kit in KITS:  # ... and per kit
        assert 1.0 <= m["per_kit"][kit]["parallel"]["visqol"] <= 4.75
    assert all(w["rows"]["parallel"]["visqol"] is not None for w in m["windows"])
    # ... and per tempo band: every window in exactly one
    assert sum(by_row["parallel"]["n_windows"] for by_row in m["per_tempo"].values()) == 4
    # the codec round trip keeps more of the sound than a barely trained model
    assert ceil["visqol"] > par["visqol"]
    assert "token_acc" not in ceil
    assert 0.0 <= par["token_acc"] <= 1.0 and 0.0 <= it["token_acc"] <= 1.0
    assert len(par["token_acc_per_level"]) == 8
    assert 0 < par["nll"] < 2 * np.log(1024)  # trained a little: below twice chance
    # Parallel decoding is the argmax of the same all-masked logits the NLL is taken from.
    for w in m["windows"]:
        p = w["rows"]["parallel"]
        assert p["token_acc"] == pytest.approx(p["logit_token_acc"], abs=1e-3)
    assert set(par["class_onset_recall"]) >= {"kick", "snare", "hihat_closed"}
    assert all(set(w["rows"]) == set(m["rows"]) for w in m["windows"])

    report = (out / "report.md").read_text()
    assert "## Per kit" in report and all(f"| {k} | iterative |" in report for k in KITS)
    assert "| vel rho | ViSQOL | mel MAE dB |" in report and "## Per tempo" in report
    assert "## Definitions" in report and "velocity > 0.3" in report
    # The worst window is the parallel row's lowest ViSQOL, drawn again after scoring.
    scores = [w["rows"]["parallel"]["visqol"] for w in m["windows"]]
    worst = int(np.argmin(scores))
    assert m["worst_windows"] == [worst]
    pngs = sorted((out / "plots").glob("*.png"))
    assert [p.name for p in pngs] == [
        "class_onset_recall.png", "window_000.png", "window_001.png",
        f"worst_1_window_{worst:03d}.png",
    ]  # fmt: skip
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
               for p in pngs)  # fmt: skip
    assert all(p in report for p in m["plots"])

    limits = run["root"] / "limits.md"
    limits.write_text("- Trained for 30 steps: a test model.")
    card = run["root"] / "MODEL_CARD.md"
    args = ["card", "model", "--weights", str(run["model"]), "--corpus",
            str(run["root"] / "corpus"), "--eval", str(out), "--limits", str(limits),
            "-o", str(card)]  # fmt: skip
    bench = run["root"] / "bench.txt"
    assert main([*args, "--bench", str(bench)]) == 2
    assert "bench.txt: missing" in capsys.readouterr().err
    bench.write_text("clip 4 bars parallel 31.2x\n")
    assert main([*args, "--bench", str(bench)]) == 0
    text = card.read_text()
    assert "Kits: `bright`, `dark`." in text and "CC BY 4.0" in text
    assert "| bright | ? (?:?) |" in text  # a kit without kits.json: its licence unknown
    assert "| iterative |" in text and "| dark | iterative |" in text
    assert "| vel rho | ViSQOL | mel MAE dB |" in text and "### Per tempo" in text
    assert f"![worst_1_window_{worst:03d}](plots/worst_1_window_{worst:03d}.png)" in text
    assert "class_onset_recall" not in text
    assert "## Speed" in text and "```\nclip 4 bars parallel 31.2x\n```" in text
    assert "- 30 steps, batch" in text and "by `training/recipes/default.sh lm`." in text
    assert text.rstrip().endswith("- Trained for 30 steps: a test model.")


def test_eval_with_a_baseline_and_a_latent_head(run, tmp_path, capsys):
    """A model with a latent head, scored beside the plain model (--baseline) on the same
    windows: the baseline row is the plain model's own parallel row, window for window."""
    cfg = LMTrainConfig(steps=10, batch_size=4, lr=3e-3, warmup_steps=3, validate_every=10,
                        checkpoint_every=10, val_windows=8)  # fmt: skip
    LMTrainer(run["tokens"], tmp_path / "latent", cfg, "debug", init=run["model"], latent_head=True,
              codec_path=run["codec"]).run(progress=False)  # fmt: skip
    common = ["--tokens", str(run["tokens"]), "--codec-path", str(run["codec"]),
              "--max-windows", "3", "--decoding", "parallel", "--no-visqol", "--plots", "0",
              "--worst", "2", "--no-progress"]  # fmt: skip
    assert main(["eval", "--model", str(run["model"]), "--out", str(tmp_path / "plain"),
                 *common]) == 0  # fmt: skip
    assert main(["eval", "--model", str(tmp_path / "latent" / "model"), "--baseline",
                 str(run["model"]), "--out", str(tmp_path / "both"), *common]) == 0  # fmt: skip
    capsys.readouterr()
    plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    both = json.loads((tmp_path / "both" / "metrics.json").read_text())
    assert list(both["rows"]) == ["reference", "ceiling", "baseline", "parallel"]
    for a, b in zip(plain["windows"], both["windows"], strict=True):
        assert b["rows"]["baseline"]["mel_mae_db"] == a["rows"]["parallel"]["mel_mae_db"]
    # the latent head's codes are not the token heads' argmax
    assert any(w["rows"]["parallel"]["token_acc"] != pytest.approx(
        w["rows"]["parallel"]["logit_token_acc"], abs=1e-3) for w in both["windows"])  # fmt: skip
    mel = [w["rows"]["parallel"]["mel_mae_db"] for w in both["windows"]]
    assert both["worst_windows"] == list(np.argsort(mel)[::-1][:2])
    report = (tmp_path / "both" / "report.md").read_text()
    assert "baseline = another model (--baseline), one pass" in report
    assert "latent head's prediction quantised" in report

    # A baseline from before the `ring` feature reads its own columns.
    legacy = save_legacy_copy(run["model"], tmp_path / "legacy")
    assert main(["eval", "--model", str(legacy), "--out", str(tmp_path / "old"), *common]) == 0
    assert main(["eval", "--model", str(tmp_path / "latent" / "model"), "--baseline",
                 str(legacy), "--out", str(tmp_path / "vs-old"), *common]) == 0  # fmt: skip
    old = json.loads((tmp_path / "old" / "metrics.json").read_text())
    vs_old = json.loads((tmp_path / "vs-old" / "metrics.json").read_text())
    for a, b in zip(old["windows"], vs_old["windows"], strict=True):
        assert b["rows"]["baseline"]["mel_mae_db"] == a["rows"]["parallel"]["mel_mae_db"]
    capsys.readouterr()

    bad = ["eval", "--model", str(run["model"]), "--baseline", str(run["tokens"]),
           "--out", str(tmp_path / "bad"), *common]  # fmt: skip
    assert main(bad) == 2
    assert "not a drumgrid model" in capsys.readouterr().err


def test_eval_refuses_a_codec_of_other_weights(run, tmp_path, capsys):
    other = save_drum_codec(tmp_path / "other", build_random("drumgrid-drums", seed=1).model)  # type: ignore[attr-defined]
    args = ["eval", "--model", str(run["model"]), "--tokens", str(run["tokens"]),
            "--out", str(tmp_path / "e"), "--codec-path", str(other)]  # fmt: skip
    assert main(args) == 2
    assert "config hash" in capsys.readouterr().err


def test_eval_refuses_a_missing_split(run, tmp_path, capsys):
    args = ["eval", "--model", str(run["model"]), "--tokens", str(run["tokens"]),
            "--out", str(tmp_path / "e"), "--codec-path", str(run["codec"]),
            "--split", "test"]  # fmt: skip
    assert main(args) == 2
    assert "no entries of split 'test'" in capsys.readouterr().err


def test_a_prompted_run_is_described_as_trained():
    from drumgrid.training.cards import lm_training_lines, prompt_kit_lines

    first = {
        "steps": 4000,
        "train_seconds": 7200,
        "validation": {"latent_nmse": 0.4},
        "train": {
            "steps": 10000,
            "batch_size": 16,
            "window_beats": 4.0,
            "lr": 1e-3,
            "warmup_steps": 500,
            "prompt_share": 0.5,
            "shot_share": 0.25,
        },
    }
    more = {"steps": 100, "train_seconds": 3600, "init": first, "validation": {},
            "prompt_kits": {"kits": 300, "files": 2400},
            "train": {"steps": 100, "batch_size": 16, "window_beats": 4.0, "lr": 5e-4,
                      "warmup_steps": 200, "prompt_share": 0.5, "extra_share": 0.15,
                      "prompt_kits_share": 0.5}}  # fmt: skip
    lines = lm_training_lines(more, ("lm-kits", "lm-kits-more"))
    assert lines[0].startswith("- 4000 steps (of a 10000-step schedule), with the latent head")
    assert "50% of steps from kit prompts, 25% of those one-shots" in lines[0]
    assert "15% of windows from the extra caches" in lines[1]
    assert "50% of prompted groups from 300 kit mixes" in lines[1]
    assert (
        "3.00 hours" in lines[2]
        and "`training/recipes/default.sh lm-kits lm-kits-more`" in lines[2]
    )
    # Continued from a model of earlier stages: the names given are the last runs'.
    first["init"] = {"steps": 8000, "train_seconds": 3600, "train": {"steps": 8000}}
    total = lm_training_lines(more, ("lm-kits", "lm-kits-more"))[-1]
    assert "4.00 hours" in total and "default.sh lm lm-kits lm-kits-more`" in total
    assert "prompts of 300 kit mixes of these kits" in prompt_kit_lines(more)[1]
    assert "voicing" not in prompt_kit_lines(more)[1]
    more["prompt_kits"]["voiced"] = True
    assert "mix.py, retuned and shelved: training/kits/voicing.py)" in prompt_kit_lines(more)[1]


def test_a_tails_run_is_described_with_its_losses():
    """The card names a stage's tail weight, level and mel losses (and their range where
    recorded) and full-mask share, so the shipped model's card says how its tails were trained."""
    from drumgrid.training.cards import lm_training_lines

    base = {"steps": 10, "batch_size": 16, "window_beats": 4.0, "lr": 1e-4, "warmup_steps": 1}
    old = {"steps": 10, "train_seconds": 60, "validation": {"latent_nmse": 0.2},
           "train": {**base, "tail_weight": 16.0, "level_weight": 0.25,
                     "full_mask_share": 0.5}}  # fmt: skip
    new = {**old, "init": old,
           "train": {**old["train"], "level_range_db": 80.0, "mel_weight": 1.0}}  # fmt: skip
    lines = lm_training_lines(new)
    assert "tail frames weighted 17x, a level loss (weight 0.25)," in lines[0]
    assert "mel loss" not in lines[0]
    assert "a level loss (weight 0.25 over 80 dB), a mel loss (weight 1 over 80 dB)" in lines[1]
    assert all("masking (50% of windows masked entirely)" in line for line in lines[:2])
    plain = lm_training_lines({"steps": 5, "train": base})[0]
    assert "weighted" not in plain and "level" not in plain and "entirely" not in plain
