"""`drumgrid render`, `kits` and `export` from the command line: files written, the summary
line, and every bad input answered with one line on stderr and exit code 2."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from engine_helpers import KITS, make_model_dir
from factories import make_midi

from drumgrid.server.audio_io import write_audio
from drumgrid.server.engine.models import DEFAULT_MODEL_DIR
from drumgrid.server.midi_io import read_midi
from drumgrid.training.cli import main

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("cli"))


@pytest.fixture(scope="module")
def midi(tmp_path_factory):
    path = tmp_path_factory.mktemp("midi") / "groove.mid"
    notes = [(i * 240, (36, 42, 38, 42)[i % 4], 90, i * 240 + 60) for i in range(16)]
    return make_midi(path, notes, 480, tempos=[(0, 500000)])  # 16 eighths at 120 bpm: 4 s


def _render(model_dir, midi, out, *extra):
    return main(["render", str(midi), "-o", str(out), "--model", str(model_dir),
                 "--no-progress", "--threads", "1", *extra])  # fmt: skip


def test_render_writes_the_wav_and_a_summary(model_dir, midi, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert _render(model_dir, midi, out, "--sample-rate", "48000", "--stereo", "--tail", "0.5") == 0
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.subtype) == (48000, 2, "PCM_24")
    assert info.frames == round((read_midi(midi).length_s + 0.5) * 48000)
    captured = capsys.readouterr()
    summary = captured.out.strip().splitlines()
    assert len(summary) == 1
    assert "realtime" in summary[0] and "backend eager" in summary[0] and "device cpu" in summary[0]
    assert "auto: no tensorrt" in captured.err  # --backend auto says it fell back


def test_variations_write_numbered_takes(model_dir, midi, tmp_path, capsys):
    out = tmp_path / "take.wav"
    assert _render(model_dir, midi, out, "--variations", "2", "--format", "float") == 0
    a, b = (sf.read(str(tmp_path / name))[0] for name in ("take.wav", "take-v2.wav"))
    assert a.shape == b.shape and not (a == b).all()  # named as the daemon names its takes
    assert sorted(p.name for p in tmp_path.glob("take*.wav")) == ["take-v2.wav", "take.wav"]


def test_the_output_is_a_wav_or_a_flac(model_dir, midi, tmp_path, capsys):
    assert _render(model_dir, midi, tmp_path / "take.mp3") == 2
    err = capsys.readouterr().err
    assert "drumgrid writes .wav or .flac files here; name the output .wav or .flac" in err
    assert not (tmp_path / "take.mp3").exists()
    assert _render(model_dir, midi, tmp_path / "take.flac", "--format", "float") == 2
    assert "FLAC holds pcm16 or pcm24 samples, not float" in capsys.readouterr().err
    assert _render(model_dir, midi, tmp_path / "take.flac", "--format", "pcm16") == 0
    info = sf.info(str(tmp_path / "take.flac"))
    assert (info.format, info.subtype) == ("FLAC", "PCM_16")
    assert "drums: channel 10" in capsys.readouterr().err  # what it took, after the render
    audio, rate = sf.read(str(tmp_path / "take.flac"))
    write_audio(tmp_path / "again.wav", audio, rate, "pcm16")
    assert (sf.read(str(tmp_path / "again.wav"))[0] == audio).all()  # FLAC is lossless


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--kit", "trash"], "unknown kit 'trash'; this model knows " + ", ".join(KITS)),
        (["--backend", "tensorrt"], "--backend tensorrt: TensorRT needs an NVIDIA GPU"),
        (["--max-length", "1"], "renders at most 1 s"),
        (["--decoding", "parallel", "--variations", "3"], "identical"),
        (["--steps", "x"], "--steps 'x'"),
    ],
)
def test_bad_options_exit_2_with_one_line(model_dir, midi, tmp_path, capsys, extra, message):
    assert _render(model_dir, midi, tmp_path / "o.wav", *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) <= 2 and err[-1].startswith("drumgrid render: error: ")  # 2: auto's note
    assert message in err[-1]
    assert not (tmp_path / "o.wav").exists()


def test_bad_paths_and_models_exit_2(model_dir, midi, tmp_path, capsys):
    cases = [
        (_render(model_dir, midi, tmp_path / "nope" / "o.wav"), "does not exist"),
        (_render(model_dir, tmp_path / "missing.mid", tmp_path / "o.wav"), "no such file"),
        (_render(make_model_dir(tmp_path / "m", codec="none"), midi, tmp_path / "o.wav"),
         "codec drumgrid-drums"),  # not found, or (once it ships) the wrong weights
    ]  # fmt: skip
    empty = make_midi(tmp_path / "empty.mid", [(0, 20, 90, 60)], 480)  # no drum pitch
    cases.append((_render(model_dir, empty, tmp_path / "o.wav"), "no drum notes"))
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        cases.append((_render("default", midi, tmp_path / "o.wav"), "no default model ships"))
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error:" in line]
    assert [code for code, _ in cases] == [2] * len(cases)
    assert len(errors) == len(cases)
    for line, (_, message) in zip(errors, cases, strict=True):
        assert message in line


def test_kits_lists_the_models_kits(model_dir, capsys):
    assert main(["kits", "--model", str(model_dir)]) == 0
    assert capsys.readouterr().out.split() == list(KITS)


def test_levels_peak_by_default_or_loudness(model_dir, midi, tmp_path, capsys):
    from drumgrid.server.levels import integrated_loudness

    for kit in KITS:  # kits come out at the level asked, not each at its own
        out = tmp_path / f"{kit}.wav"
        assert _render(model_dir, midi, out, "--kit", kit, "--loudness", "-40") == 0
        audio, rate = sf.read(str(out))
        assert integrated_loudness(audio, rate) == pytest.approx(-40.0, abs=1.0)
        assert "level: gain" in capsys.readouterr().err
    assert _render(model_dir, midi, tmp_path / "p.wav", "--format", "float") == 0
    audio, _ = sf.read(str(tmp_path / "p.wav"))
    assert 20 * np.log10(np.abs(audio).max()) == pytest.approx(-1.0, abs=1e-3)
    with pytest.raises(SystemExit) as exit_:  # argparse: one level option at a time
        _render(model_dir, midi, tmp_path / "x.wav", "--peak", "-1", "--loudness", "-20")
    assert exit_.value.code == 2


def test_stems_sum_to_the_render_and_stereo_places_them(model_dir, midi, tmp_path, capsys):
    from drumgrid.server.stems import STEM_SUM_TOLERANCE_DB

    out, stems = tmp_path / "mix.wav", tmp_path / "stems"
    assert _render(model_dir, midi, out, "--stems", str(stems), "--format", "float") == 0
    mix, _ = sf.read(str(out))
    hits = {h.drum_class.label for h in read_midi(midi).hits}
    files = sorted(stems.glob("mix-*.wav"))
    assert [f.stem.removeprefix("mix-") for f in files] == sorted(hits)
    total = sum(sf.read(str(f))[0] for f in files)
    error_db = 10 * np.log10(np.mean((total - mix) ** 2) / np.mean(mix**2))
    assert error_db < STEM_SUM_TOLERANCE_DB
    assert "stems: " in capsys.readouterr().err

    wide = tmp_path / "wide.wav"
    assert _render(model_dir, midi, wide, "--stereo", "--format", "float") == 0
    both, _ = sf.read(str(wide))
    assert both.shape[1] == 2 and not np.allclose(both[:, 0], both[:, 1])
    hat, _ = sf.read(str(stems / "mix-hihat_closed.wav"))  # the hi-hat sits left (audience)
    left = np.dot(both[:, 0], hat) / np.dot(hat, hat)
    right = np.dot(both[:, 1], hat) / np.dot(hat, hat)
    assert left > right > 0


def test_threads_default_to_half_the_cores(monkeypatch):
    import os

    from drumgrid.server.commands.render import default_threads

    for cores, threads in ((1, 1), (2, 1), (8, 4), (16, 8)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _, n=cores: set(range(n)))
        assert default_threads() == threads


def test_bench_render_under_a_competing_load(model_dir, capsys):
    import subprocess

    args = ["bench", "render", "--model", str(model_dir), "--clips", "1", "--decoding",
            "parallel", "--repeats", "1", "--warmup", "0", "--busy", "1"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1 competing busy processes" in out and "1 bars" in out
    left = subprocess.run(["pgrep", "-f", "while True: pass"], capture_output=True, text=True)
    assert left.stdout.strip() == ""  # the load is gone with the bench


# -- kit prompts -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prompted_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("prompted"), prompted=True)


@pytest.fixture
def prompt_files(tmp_path):
    """A 2 s recording of a 'kit' with its MIDI, and two one-shots."""
    from factories import noise_bursts

    rng = np.random.default_rng(4)
    write_audio(tmp_path / "kit.wav", noise_bursts(rng, 2.0, 44100)[:, None], 44100, "pcm16")
    notes = [(i * 240, (36, 38)[i % 2], 100, i * 240 + 60) for i in range(8)]
    make_midi(tmp_path / "kit.mid", notes, 480, tempos=[(0, 500000)])
    for name in ("kick", "snare"):
        write_audio(
            tmp_path / f"{name}.wav", noise_bursts(rng, 0.5, 48000)[:, None], 48000, "pcm16"
        )
    return tmp_path


def test_render_from_a_prompt_and_again_from_its_saved_kit(
    prompted_dir, midi, prompt_files, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("DRUMGRID_KITS", str(tmp_path / "kits"))
    p = prompt_files
    args = ["--prompt", str(p / "kit.wav"), "--prompt-midi", str(p / "kit.mid")]
    assert _render(prompted_dir, midi, tmp_path / "a.wav", *args, "--save-kit", "my-kit") == 0
    err = capsys.readouterr().err
    assert "kit my-kit saved" in err
    assert "prompt: plays no hihat_closed; the model renders it from the kits it learned" in err
    # this model cannot tell whether the prompt is a kit it knows (no latent head), and says so
    assert "not compared with known kits (the model has no latent head to compare with)" in err
    assert _render(prompted_dir, midi, tmp_path / "b.wav", "--kit", "my-kit") == 0
    a, b = (sf.read(str(tmp_path / n))[0] for n in ("a.wav", "b.wav"))
    np.testing.assert_array_equal(a, b)  # the saved kit is the prompt, without its audio
    assert _render(prompted_dir, midi, tmp_path / "named.wav", "--kit", KITS[0]) == 0
    assert not np.array_equal(a, sf.read(str(tmp_path / "named.wav"))[0])
    shots = ["--prompt-shots", f"kick={p / 'kick.wav'}", f"snare={p / 'snare.wav'}"]
    capsys.readouterr()
    assert _render(prompted_dir, midi, tmp_path / "c.wav", *shots, "--no-prompt-fit") == 0
    err = capsys.readouterr().err
    assert "prompt: snare resampled from 48000 Hz" in err and "known kits" not in err
    assert main(["kits", "--model", str(prompted_dir)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[: len(KITS)] == list(KITS)
    assert listed[-1].startswith("my-kit  (saved prompt kit: 2.0 s of ")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--prompt", "{p}/kit.wav"], "the audio was given without the MIDI"),
        (["--prompt-shots", "cowbell={p}/kick.wav"], "unknown drum class 'cowbell'"),
        (["--prompt-shots", "kick"], "expected CLASS=FILE"),
        (["--prompt-shots", "kick={p}/nope.wav"], "nope.wav: no such file"),
        (["--prompt-shots", "kick={p}/kit.mid"], "not readable audio"),
        (["--prompt-shots", "kick={p}/kick.wav", "--kit", "acoustic"], "not both"),
        (["--save-kit", "x"], "--save-kit saves a prompt"),
        (["--prompt-shots", "kick={p}/kick.wav", "--save-kit", "../x"], "kit name '../x'"),
        (["--kit", "nobody"], "and the saved prompt kits"),
    ],
)
def test_bad_prompts_exit_2_naming_the_fix(
    prompted_dir, midi, prompt_files, tmp_path, capsys, monkeypatch, extra, message
):
    monkeypatch.setenv("DRUMGRID_KITS", str(tmp_path / "kits"))
    extra = [e.format(p=prompt_files) for e in extra]
    assert _render(prompted_dir, midi, tmp_path / "o.wav", *extra) == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]
    assert not (tmp_path / "o.wav").exists()


def test_a_kit_only_model_refuses_a_prompt_before_reading_it(model_dir, midi, tmp_path, capsys):
    args = ["--prompt", str(tmp_path / "absent.wav"), "--prompt-midi", str(tmp_path / "a.mid")]
    assert _render(model_dir, midi, tmp_path / "o.wav", *args) == 2
    assert "renders by kit name only" in capsys.readouterr().err


def test_bench_render_times_a_prompted_render_beside_the_named_kits(
    prompted_dir, model_dir, capsys
):
    args = ["bench", "render", "--model", str(prompted_dir), "--clips", "2", "--decoding",
            "parallel", "--repeats", "1", "--warmup", "0", "--prompt", "4"]  # fmt: skip
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("2 bars"))
    assert lines[at + 1].startswith("  prompt 4 s") and "x the named kit's time" in lines[at + 1]
    assert main([*args[:3], str(model_dir), *args[4:]]) == 2  # a kit-only model
    assert "renders by kit name only" in capsys.readouterr().err
