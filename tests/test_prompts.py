"""Kit prompts: a recording with its MIDI or one-shots become codec tokens beside their grid;
a user's broken prompt files fail with a message naming the problem; a prompt saved as a kit
file loads back the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from factories import noise_bursts

from drumgrid.server.codecs.registry import build_random
from drumgrid.server.drums import DrumClass
from drumgrid.server.errors import UserError
from drumgrid.server.performance import from_note_list
from drumgrid.server.prompts import (
    MAX_PROMPT_S,
    SHOT_MAX_S,
    SHOT_SPACING_S,
    SHOT_VELOCITY,
    load_prompt_kit,
    prompt_from_recording,
    prompt_from_shots,
    read_prompt_audio,
    save_prompt_kit,
)


@pytest.fixture(scope="module")
def codec():
    return build_random("drumgrid-drums")


def _groove(seconds: float):
    hits = [(t, 36 if i % 2 == 0 else 38, 90) for i, t in enumerate(np.arange(0.05, seconds, 0.25))]
    return from_note_list(hits, tempo_bpm=120.0, length_s=seconds)


def test_a_recording_and_its_midi_become_tokens_beside_their_grid(codec):
    rng = np.random.default_rng(0)
    wave = noise_bursts(rng, 10.0, 22050)  # longer than a prompt and at another rate
    prompt = prompt_from_recording(wave, 22050, _groove(10.0), codec, "kit.wav")
    assert prompt.seconds == pytest.approx(MAX_PROMPT_S)
    assert prompt.tokens.shape == (codec.n_codebooks, codec.n_frames(round(8.0 * 44100)))
    assert prompt.notes == (
        "cut to its first 8 s of 10.0 s",
        "resampled from 22050 Hz to the codec's 44100 Hz",
        "8 MIDI hits after the audio's end left out",
    )
    assert max(h.time_s for h in prompt.performance.hits) < MAX_PROMPT_S
    assert prompt.performance.length_s == pytest.approx(MAX_PROMPT_S)
    assert prompt.classes() == {DrumClass.KICK, DrumClass.SNARE}
    groove = from_note_list([(0.0, 36, 100), (0.5, 49, 100)], 120.0)
    assert prompt.missing_for(groove) == {DrumClass.CRASH}
    assert (prompt.codec_id, prompt.config_hash) == (codec.id, codec.config_hash)


def test_one_shots_are_laid_end_to_end_with_their_grid(codec):
    rng = np.random.default_rng(1)
    kick = (noise_bursts(rng, 0.5, 44100), 44100)
    crash = (noise_bursts(rng, 2.5, 48000), 48000)
    prompt = prompt_from_shots({DrumClass.KICK: kick, DrumClass.CRASH: crash}, codec, "shots")
    hits = prompt.performance.hits
    assert [(h.drum_class, h.velocity) for h in hits] == [
        (DrumClass.KICK, SHOT_VELOCITY),
        (DrumClass.CRASH, SHOT_VELOCITY),
    ]
    assert hits[0].time_s == 0.0 and hits[1].time_s == pytest.approx(SHOT_SPACING_S, abs=1e-3)
    assert prompt.seconds == pytest.approx(SHOT_SPACING_S + 2.5, abs=1e-3)
    assert prompt.notes == ("crash resampled from 48000 Hz",)
    # a longer one-shot is cut at SHOT_MAX_S (a cymbal's ring says enough by then)
    ride = (noise_bursts(rng, 5.0, 44100), 44100)
    prompt = prompt_from_shots({DrumClass.RIDE: ride}, codec, "shots")
    assert prompt.seconds == pytest.approx(SHOT_MAX_S, abs=1e-3)
    assert prompt.notes == (f"ride cut to its first {SHOT_MAX_S:g} s",)
    # one short shot per class fits
    shots = {c: (noise_bursts(rng, 0.4, 44100), 44100) for c in DrumClass}
    assert prompt_from_shots(shots, codec, "shots").seconds == pytest.approx(9 * SHOT_SPACING_S)


@pytest.mark.parametrize(
    ("wave", "message"),
    [
        (np.zeros(44100 * 2, np.float32), "silent"),
        (np.full(44100 * 2, np.nan, np.float32), "NaN"),
        (0.5 * np.ones(22050, np.float32), "0.50 s of audio; give at least 1 s"),
    ],
)
def test_a_broken_recording_is_refused_naming_the_problem(codec, wave, message):
    with pytest.raises(UserError, match=message):
        prompt_from_recording(wave, 44100, _groove(2.0), codec, "kit.wav")


def test_midi_that_plays_nothing_inside_the_audio_is_refused(codec):
    late = from_note_list([(5.0, 36, 100)], 120.0, length_s=6.0)
    wave = noise_bursts(np.random.default_rng(2), 2.0, 44100)
    with pytest.raises(UserError, match=r"plays no hit inside the audio.s 2\.00 s"):
        prompt_from_recording(wave, 44100, late, codec, "kit.wav")
    with pytest.raises(UserError, match="give at least one CLASS=FILE"):
        prompt_from_shots({}, codec, "shots")
    long = {c: (noise_bursts(np.random.default_rng(3), 3.5, 44100), 44100) for c in DrumClass}
    with pytest.raises(UserError, match=r"27\.0 s laid end to end, over 20 s; give one shot"):
        prompt_from_shots(long, codec, "shots")


def test_prompt_files_that_are_not_audio_are_refused(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_prompt_audio(tmp_path / "none.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    with pytest.raises(UserError, match="not readable audio"):
        read_prompt_audio(bad)
    good = tmp_path / "stereo.flac"
    sf.write(good, np.stack([np.ones(100), -np.ones(100)], 1) * 0.5, 32000)
    wave, rate = read_prompt_audio(good)
    assert rate == 32000 and wave.shape == (100,) and np.allclose(wave, 0.0)


def test_a_saved_prompt_kit_loads_back_the_same(codec, tmp_path):
    wave = noise_bursts(np.random.default_rng(4), 3.0, 44100)
    groove = from_note_list([(0.05, 36, 100), (0.31, 38, 64), (1.2, 49, 127)], 97.0, 3.0)
    prompt = prompt_from_recording(wave, 44100, groove, codec, "kit.wav")
    path = tmp_path / "my kit.dgkit"
    save_prompt_kit(path, prompt, "my kit")
    name, back = load_prompt_kit(path)
    assert name == "my kit" and np.array_equal(back.tokens, prompt.tokens)
    assert (back.codec_id, back.config_hash, back.source) == (
        codec.id,
        codec.config_hash,
        "kit.wav",
    )
    assert back.seconds == pytest.approx(prompt.seconds)
    for a, b in zip(back.performance.hits, prompt.performance.hits, strict=True):
        assert (a.pitch, a.velocity) == (b.pitch, b.velocity)
        assert a.time_s == pytest.approx(b.time_s, abs=2e-3)  # the MIDI's tick
    assert float(back.performance.tempo_map.bpms[0]) == pytest.approx(97.0, abs=1e-3)
    assert path.stat().st_size < 64 * 1024

    damaged = tmp_path / "damaged.dgkit"
    damaged.write_bytes(path.read_bytes()[:100])
    foreign = tmp_path / "foreign.dgkit"
    import torch
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(foreign))
    for bad, message in ((damaged, "not a drumgrid prompt kit"), (foreign, "format None"),
                         (tmp_path / "none.dgkit", "no such file")):  # fmt: skip
        with pytest.raises(UserError, match=message):
            load_prompt_kit(Path(bad))


def test_prompt_notes_from_a_daw_clip_stand_for_its_midi(codec, tmp_path):
    from drumgrid.server.prompt_request import PromptRequest, parse_prompt_notes
    from drumgrid.server.prompts import read_prompt

    perf = parse_prompt_notes("120;36,0,0.25,100;38,1,0.25,90;42,0.5,0.25,70")
    assert [(h.drum_class, round(h.time_s, 3)) for h in perf.hits] == [
        (DrumClass.KICK, 0.0), (DrumClass.HIHAT_CLOSED, 0.25), (DrumClass.SNARE, 0.5),
    ]  # fmt: skip
    wave = noise_bursts(np.random.default_rng(5), 2.0, 44100)
    sf.write(tmp_path / "kit.wav", wave, 44100)
    prompt = read_prompt(PromptRequest(tmp_path / "kit.wav", notes="120;36,0,0.25,100"), codec)
    assert [h.time_s for h in prompt.performance.hits] == [0.0]
    for text, message in [
        ("", "empty"),
        ("120;36,0,0.25", "with numbers"),
        ("120", "no notes"),
        ("fast;36,0,1,100", "with numbers"),
        ("120;36,-1,1,100", "outside the clip"),
    ]:
        with pytest.raises(UserError, match=message):
            parse_prompt_notes(text)
    with pytest.raises(UserError, match="as a file or as notes, not both"):
        PromptRequest(tmp_path / "kit.wav", tmp_path / "kit.mid", notes="120;36,0,1,100")
