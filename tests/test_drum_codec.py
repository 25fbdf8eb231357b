"""drumgrid's drum codec: exact framing, the quantiser, save/load, and training that learns
and resumes exactly."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from factories import make_egmd_corpus

from drumgrid.server.drum_codec import DrumCodecConfig, DrumCodecModel
from drumgrid.server.drum_codec.codec import DrumgridCodec
from drumgrid.server.drum_codec.folder import load_drum_codec, save_drum_codec
from drumgrid.server.drum_codec.modules import FrameISTFT, FrameSTFT
from drumgrid.server.errors import UserError
from drumgrid.training.cards import codec_training_lines
from drumgrid.training.codec.losses import reconstruction_losses
from drumgrid.training.codec.trainer import CodecTrainConfig, CodecTrainer

TINY = DrumCodecConfig.tiny()


def test_stft_gives_one_frame_per_hop_and_inverts_exactly() -> None:
    stft, istft = FrameSTFT(1024, 256), FrameISTFT(1024, 256)
    x = torch.randn(2, 40 * 256, dtype=torch.float64)
    spec = stft(x.float())
    assert spec.shape == (2, 513, 40)
    y = istft(spec)
    assert y.shape == x.shape
    torch.testing.assert_close(y.double(), x, atol=1e-4, rtol=0)


def test_shapes_determinism_and_fewer_levels() -> None:
    torch.manual_seed(0)
    model = DrumCodecModel(TINY).eval()
    wave = torch.randn(3, 25 * TINY.hop_length) * 0.1
    codes = model.encode(wave)
    assert codes.shape == (3, TINY.n_codebooks, 25) and codes.dtype == torch.int64
    assert int(codes.min()) >= 0 and int(codes.max()) < TINY.codebook_size
    torch.testing.assert_close(model.encode(wave), codes, rtol=0, atol=0)
    out = model.decode(codes)
    assert out.shape == wave.shape
    torch.testing.assert_close(model.decode(codes), out, rtol=0, atol=0)
    assert model.decode(codes[:, :2]).shape == wave.shape  # quantiser dropout's promise


def test_phase_features_let_the_encoder_tell_a_signal_from_its_negative() -> None:
    """x and -x have the same magnitudes: only an encoder that reads phase can tell them apart."""
    torch.manual_seed(0)
    wave = torch.randn(1, 12 * TINY.hop_length) * 0.1
    plain = DrumCodecModel(TINY).eval()
    torch.testing.assert_close(plain.analyse(-wave), plain.analyse(wave))
    phased = DrumCodecModel(replace(TINY, phase_features=True)).eval()
    assert phased.encoder.proj_in.in_channels == 3 * (TINY.n_fft // 2 + 1)
    gap = (phased.analyse(-wave) - phased.analyse(wave)).abs().mean()
    assert gap > 0.01 * phased.analyse(wave).abs().mean(), gap


def test_complex_loss_sees_phase_that_magnitude_losses_do_not() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 8192) * 0.1
    same = reconstruction_losses(x, x.clone(), 44100, with_complex=True)
    flipped = reconstruction_losses(x, -x, 44100, with_complex=True)
    for key in ("mel", "logmag", "sc"):
        assert float(flipped[key]) < 1e-4, (key, flipped[key])
    assert float(same["complex"]) < 1e-6 < 0.1 < float(flipped["complex"])
    assert float(reconstruction_losses(x, -x, 44100)["complex"]) == 0.0  # not asked for


def test_dead_codes_move_to_recent_inputs() -> None:
    torch.manual_seed(0)
    model = DrumCodecModel(TINY).train()
    model(torch.randn(2, 10 * TINY.hop_length))
    model.quantizer.usage.zero_()
    restarted = model.quantizer.restart_dead_codes(1e-3)
    assert restarted == TINY.n_codebooks * TINY.codebook_size
    level = model.quantizer.levels[0]
    rows = {tuple(r) for r in level.last_inputs.round(decimals=5).tolist()}
    assert tuple(level.codebook.weight[0].round(decimals=5).tolist()) in rows


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = DrumCodecModel(TINY).eval()
    save_drum_codec(tmp_path / "codec", model, {"steps": 3})
    loaded, info = load_drum_codec(tmp_path / "codec")
    assert info.card == {"steps": 3} and info.config == TINY
    wave = torch.randn(1, 12 * TINY.hop_length) * 0.1
    # Weights are stored in float16: codes may differ only where two codes nearly tie.
    agree = (loaded.encode(wave) == model.encode(wave)).float().mean()
    assert agree > 0.95
    with pytest.raises(UserError, match="no drum codec here"):
        load_drum_codec(tmp_path / "nowhere")


def make_corpus(root: Path) -> Path:
    """Two train files and one validation file of noise bursts, 3 s each, one kit."""
    return make_egmd_corpus(root, n_train=2, n_val=1, kits=("noise",), audio="bursts")


FAST = CodecTrainConfig(
    steps=40, batch_size=4, segment_s=0.5, lr=3e-3, warmup_steps=5, validate_every=1000,
    checkpoint_every=10, validation_clips=1, validation_s=1.0, restart_every=10,
)  # fmt: skip


def test_tiny_codec_learns(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    trainer = CodecTrainer(corpus, tmp_path / "run", TINY, FAST)
    trainer.run(progress=False)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    first = np.mean([r["mel"] for r in log[:5]])
    last = np.mean([r["mel"] for r in log[-5:]])
    assert last < 0.8 * first, (first, last)
    assert (tmp_path / "run" / "codec" / "model.safetensors").is_file()
    val = trainer.validate()
    assert set(val) == {"mel_mae_db", "mrstft_sc", "onset_f1", "code_usage"}
    assert len(val["code_usage"]) == TINY.n_codebooks


def test_resume_is_exact(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    cfg = replace(FAST, steps=12, checkpoint_every=6, restart_every=4, adversarial_after=8)
    straight = CodecTrainer(corpus, tmp_path / "a", TINY, cfg)
    straight.run(progress=False)

    first = CodecTrainer(corpus, tmp_path / "b", TINY, replace(cfg, steps=6))
    first.run(progress=False)
    resumed = CodecTrainer(corpus, tmp_path / "b", TINY, cfg)
    assert resumed.resume() and resumed.step == 6
    resumed.run(progress=False)
    for (name, a), b in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def _log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("legacy", [False, True])
def test_stop_and_resume_equals_one_run(tmp_path: Path, legacy: bool) -> None:
    """Stop after step 8, resume from the step-5 checkpoint: the same log (validations
    included) and the same weights as one uninterrupted run, across the restarts at 8 and 12
    and the discriminator's start at 8. `legacy`: a checkpoint written before the codec had
    early stopping (no best_val, bad_validations or patience) resumes the same way."""
    corpus = make_corpus(tmp_path / "corpus")
    cfg = replace(FAST, steps=12, checkpoint_every=5, validate_every=6, restart_every=4,
                  adversarial_after=8)  # fmt: skip
    whole = CodecTrainer(corpus, tmp_path / "whole", TINY, cfg)
    whole.run(progress=False)
    CodecTrainer(corpus, tmp_path / "parts", TINY, cfg).run(progress=False, until=8)
    assert len(_log(tmp_path / "parts")) == 8
    if legacy:
        state = tmp_path / "parts" / "checkpoint" / "state.json"
        meta = json.loads(state.read_text())
        del meta["best_val"], meta["bad_validations"], meta["train"]["patience"]
        state.write_text(json.dumps(meta))
    resumed = CodecTrainer(corpus, tmp_path / "parts", TINY, cfg)
    assert resumed.resume() and resumed.step == 5
    resumed.run(progress=False)
    log = _log(tmp_path / "whole")
    assert [r["step"] for r in log if "validation" in r] == [6, 12]
    assert _log(tmp_path / "parts") == log
    for (name, a), b in zip(
        whole.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_a_resumed_run_reads_the_files_it_began_with(tmp_path: Path) -> None:
    """The corpus grows between the stop and the resume (a new first row): the resumed run
    still reads the files it began with and ends where one uninterrupted run ends."""
    corpus = make_corpus(tmp_path / "corpus")
    cfg = replace(FAST, steps=10, checkpoint_every=5, restart_every=4)
    CodecTrainer(corpus, tmp_path / "whole", TINY, cfg).run(progress=False)
    CodecTrainer(corpus, tmp_path / "parts", TINY, cfg).run(progress=False, until=7)
    csv_path = next(corpus.glob("*.csv"))
    header, first, *rest = csv_path.read_text().splitlines()
    midi, audio = first.split(",")[-3:-1]
    stem = Path(audio).stem
    for name in (midi, audio):  # the same performance under a new name
        shutil.copy(corpus / name, corpus / name.replace(stem, f"{stem}-copy"))
    added = first.replace(stem, f"{stem}-copy")
    csv_path.write_text("\n".join([header, added, first, *rest]) + "\n")
    resumed = CodecTrainer(corpus, tmp_path / "parts", TINY, cfg)
    assert len(resumed.sampler.files) == 2  # not the added third
    assert resumed.resume() and resumed.step == 5
    resumed.run(progress=False)
    assert _log(tmp_path / "parts") == _log(tmp_path / "whole")


def test_early_stopping_on_validation_mel(tmp_path: Path) -> None:
    """With a zero learning rate (and no restarts) the validation mel MAE never improves:
    patience 1 stops at the second validation; the checkpoint holds the count to resume."""
    corpus = make_corpus(tmp_path / "corpus")
    cfg = replace(FAST, steps=40, lr=0.0, validate_every=2, restart_every=1000, patience=1)
    result = CodecTrainer(corpus, tmp_path / "run", TINY, cfg).run(progress=False)
    assert result["stopped_early"] and result["step"] == 4
    vals = [r["validation"]["mel_mae_db"] for r in _log(tmp_path / "run") if "validation" in r]
    assert len(vals) == 2 and vals[1] == vals[0]
    assert load_drum_codec(tmp_path / "run" / "codec")[1].card["steps"] == 4
    again = CodecTrainer(corpus, tmp_path / "run", TINY, cfg)
    assert again.resume() and again.step == 4
    assert (again.best_val, again.bad_validations) == (vals[0], 1)


def test_decoder_fine_tune_keeps_the_codes(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    base_dir, tuned_dir = tmp_path / "base", tmp_path / "tuned"
    CodecTrainer(corpus, base_dir, TINY, replace(FAST, steps=10)).run(progress=False)
    init = base_dir / "codec"
    base, _ = load_drum_codec(init)
    cfg = replace(FAST, steps=20, freeze_encoder=True)
    tuned_run = CodecTrainer(corpus, tuned_dir, TINY, cfg, init=init)
    tuned_run.run(progress=False)
    tuned, info = load_drum_codec(tuned_dir / "codec")

    wave = torch.from_numpy(np.stack(tuned_run.val_clips))
    assert torch.equal(base.encode(wave), tuned.encode(wave))
    base_state, tuned_state = base.state_dict(), tuned.state_dict()
    for name in base_state:
        same = torch.equal(base_state[name], tuned_state[name])
        assert same == (not name.startswith(("decoder.", "head."))), name
    # Same codes, same token space: caches and Transformers made with the base stay valid.
    hashes = {DrumgridCodec.from_folder(d / "codec").config_hash for d in (base_dir, tuned_dir)}
    assert len(hashes) == 1
    save_drum_codec(tmp_path / "other", DrumCodecModel(TINY))  # other codes: another token space
    assert DrumgridCodec.from_folder(tmp_path / "other").config_hash not in hashes
    first, second, total = codec_training_lines(info.card)
    assert first.startswith("- 10 steps (the whole codec)") and "dead-code restarts" in first
    assert second.startswith("- 20 steps (decoder and head only") and "restarts" not in second
    assert "in all" in total
    log = [json.loads(line) for line in (tuned_dir / "log.jsonl").read_text().splitlines()]
    assert np.mean([r["mel"] for r in log[-5:]]) < np.mean([r["mel"] for r in log[:5]])

    with pytest.raises(UserError, match="--freeze-encoder"):
        CodecTrainer(corpus, tuned_dir, TINY, replace(cfg, freeze_encoder=False)).resume()
    other = replace(TINY, decoder_blocks=2)
    with pytest.raises(UserError, match="another architecture"):
        CodecTrainer(corpus, tmp_path / "x", other, cfg, init=init)


def test_phase_features_and_complex_loss_train_from_the_cli(tmp_path: Path, capsys) -> None:
    from drumgrid.training.cli import main

    corpus = make_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    args = ["train-codec", "--corpus", str(corpus), "--out", str(run), "--preset", "tiny"]
    args += ["--steps", "6", "--batch-size", "2", "--segment", "0.5", "--no-progress"]
    assert main([*args, "--phase-features", "--complex-weight", "1", "--patience", "2"]) == 0
    model, info = load_drum_codec(run / "codec")
    assert info.config.phase_features is True and info.card["train"]["complex_weight"] == 1.0
    assert info.card["train"]["patience"] == 2
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert all(r["complex"] > 0 for r in log)
    wave = torch.randn(1, 8 * TINY.hop_length) * 0.1
    assert model.decode(model.encode(wave)).shape == wave.shape
    assert "complex-spectrum L1 (weight 1.0)" in codec_training_lines(info.card)[0]
    # Another token space than the plain codec's; a resume without the option is refused.
    save_drum_codec(tmp_path / "plain", DrumCodecModel(TINY))
    plain_config = json.loads((tmp_path / "plain" / "config.json").read_text())["config"]
    assert "phase_features" not in plain_config
    hashes = {DrumgridCodec.from_folder(d).config_hash for d in (run / "codec", tmp_path / "plain")}
    assert len(hashes) == 2
    assert main([*args, "--steps", "8", "--resume"]) != 0
    assert "phase_features: True there, False here" in capsys.readouterr().err
    assert main([*args, "--init", str(run / "codec"), "--phase-features"]) != 0
    assert "--phase-features changes the encoder" in capsys.readouterr().err


def test_eval_codec_scores_trained_and_random_codecs(tmp_path: Path, capsys) -> None:
    from drumgrid.training.cli import main

    corpus = make_corpus(tmp_path / "corpus")
    save_drum_codec(tmp_path / "codec", DrumCodecModel(TINY).eval())
    out = tmp_path / "eval"
    args = ["eval-codec", "--corpus", str(corpus), "--out", str(out), "--codec-path",
            str(tmp_path / "codec"), "--random", "encodec-24k", "--clips", "2", "--seconds", "1",
            "--plots", "1", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    report = json.loads((out / "codec_eval.json").read_text())
    assert [(c["codec"], c["weights"]) for c in report["codecs"]] == [
        ("drumgrid-drums", "trained"),
        ("encodec-24k", "random init"),
    ]
    ours, encodec = report["codecs"]
    assert encodec["sample_rate"] == 24000 and encodec["kbps"] == 6.0
    assert len(ours["code_usage"]) == TINY.n_codebooks and len(encodec["code_usage"]) == 8
    for c in report["codecs"]:
        # Random weights keep little: the metrics must say so, not crash or flatter.
        assert c["mel_mae_db"] > 3.0 and c["mrstft_sc"] > 0.3 and 0 <= c["onset_f1"] <= 1
        assert c["visqol"] is None or 1.0 <= c["visqol"] < 4.0  # far from identical (4.73)
    assert all("visqol" in clip for clips in report["per_clip"].values() for clip in clips)
    assert "| drumgrid-drums | trained | 44100 |" in capsys.readouterr().out
    table = (out / "codec_eval.md").read_text()
    assert "| ViSQOL | mel MAE dB |" in table and "| codec | kit | ViSQOL |" in table
    by_kit = report["per_kit"]["drumgrid-drums (trained)"]
    n_clips = len(report["per_clip"]["drumgrid-drums (trained)"])
    assert sum(k["clips"] for k in by_kit.values()) == n_clips and all(k for k in by_kit)
    assert (out / "codec_eval.md").is_file() and len(list((out / "plots").glob("*.png"))) == 1
    # A rerun reuses every codec's scores (same weights, same clips)...
    cached = sorted((out / "results").glob("*.json"))
    assert len(cached) == 2 and main(args) == 0
    assert sorted((out / "results").glob("*.json")) == cached
    assert json.loads((out / "codec_eval.json").read_text())["codecs"] == report["codecs"]
    # ...and new weights are scored anew.
    save_drum_codec(tmp_path / "codec", DrumCodecModel(replace(TINY, dim=16)).eval())
    assert main(args) == 0 and len(list((out / "results").glob("*.json"))) == 3
    assert main(["eval-codec", "--corpus", str(corpus), "--out", str(out), "--codecs", "no"]) == 2
    assert "unknown codec 'no'" in capsys.readouterr().err

    card = tmp_path / "MODEL_CARD.md"
    args = ["card", "codec", "--weights", str(tmp_path / "codec"), "--corpus", str(corpus),
            "--eval", str(out), "-o", str(card)]  # fmt: skip
    assert main(args) == 0
    text = card.read_text()
    # The data table: the corpus's one kit, 2 x 3 s of train and 3 s of validation audio.
    assert "| noise | ? (?:?) | ? | see the SoundFont's own terms | 0.00 | 0.00 |" in text
    assert "all (2 train files, 1 validation files)" in text
    assert "| encodec-24k | random init | 24000 | 6.00 |" in text and "CC BY 4.0" in text
    assert "![clip_000](plots/clip_000.png)" in text
    # A second codec's card: its own id, and its scores on kits it never trained on.
    args += ["--id", "drumgrid-drums-2", "--unseen-eval", str(out)]
    assert main(args) == 0
    text = card.read_text()
    assert text.startswith("# drumgrid-drums-2: drumgrid's drum codec")
    unseen = text.split("## Kits it never trained on", 1)[1]
    assert "| codec | kit | ViSQOL |" in unseen and "clips of the unseen-kit corpus" in unseen
    assert main([*args[:-2], "--unseen-eval", str(tmp_path / "none")]) == 2
