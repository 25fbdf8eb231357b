"""Kit mixes (training/kits/mix.py): each group of drums played by its own kit, the render the
sum of those kits' renders; random mixes drawn reproducibly; `drumgrid corpus --mixes N
--files-per-kit F` renders them, each mix its own draw of performances, their kits and
licences in kits.json and ATTRIBUTION.md."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drumgrid.server.drums import CLASS_TO_GM_PITCH, DrumClass
from drumgrid.server.errors import UserError
from drumgrid.training.cli import main

pytest.importorskip("fluidsynth", reason="pyfluidsynth / libfluidsynth not installed")
SF2 = Path("/usr/share/sounds/sf2")
FLUID = SF2 / "FluidR3_GM.sf2"
TIM = SF2 / "TimGM6mb.sf2"
pytestmark = pytest.mark.skipif(
    not (FLUID.is_file() and TIM.is_file()), reason="FluidR3_GM and TimGM6mb are not installed"
)
KITS = (f"standard={FLUID}:128:0", f"tr808={FLUID}:128:25", f"tim={TIM}:128:0")


def kit_sources():
    from drumgrid.training.kits.spec import parse_kit

    return [parse_kit(text) for text in KITS]


def test_a_mix_plays_each_group_with_its_own_kit():
    from drumgrid.training.kits.mix import GROUPS, MixedKit

    standard, tr808, tim = kit_sources()
    owner = {"kick": tr808, "snare": tim, "hihat": standard, "toms": tim, "crash": tr808,
             "ride": standard}  # fmt: skip
    mix = MixedKit("mix-test", tuple((group, owner[group]) for group in GROUPS))
    beat = [(0.0, DrumClass.KICK), (0.25, DrumClass.HIHAT_CLOSED), (0.5, DrumClass.SNARE),
            (0.75, DrumClass.HIHAT_OPEN), (1.0, DrumClass.TOM_LOW), (1.25, DrumClass.CRASH),
            (1.5, DrumClass.RIDE)]  # fmt: skip
    hits = [(t, CLASS_TO_GM_PITCH[cls], 100) for t, cls in beat]
    hits.append((1.75, 20, 100))  # a pitch no class reaches: nobody plays it
    wave = mix.open(24000).render(hits, 3.0)
    expected = np.zeros_like(wave)
    for kit in (standard, tr808, tim):
        mine = [h for h, (_, cls) in zip(hits, beat, strict=False) if owner[_group(cls)] is kit]
        expected += kit.open(24000).render(mine, 3.0)
    assert wave.shape == (72000,) and np.abs(wave).max() > 0.05
    np.testing.assert_allclose(wave, expected, atol=1e-6)
    # kits with nothing to play are skipped: the same audio, and silence of the right length
    kicks = [h for h in hits if h[1] == CLASS_TO_GM_PITCH[DrumClass.KICK]]
    np.testing.assert_array_equal(mix.open(24000).render(kicks, 3.0),
                                  tr808.open(24000).render(kicks, 3.0))  # fmt: skip
    silence = mix.open(24000).render([], 3.0)
    assert silence.shape == (72000,) and not silence.any()
    record = mix.record()
    assert record["parts"] == {g: k.name for g, k in owner.items()}
    assert set(record["kits"]) == {"standard", "tr808", "tim"}
    assert "MIT" in record["licence"] and "GPL-2" in record["licence"]


def _group(cls: DrumClass) -> str:
    from drumgrid.training.kits.mix import GROUP_OF

    return GROUP_OF[cls]


def test_random_mixes_are_reproducible_distinct_and_mixed():
    from drumgrid.training.kits.mix import MIN_KITS, random_mixes

    kits = kit_sources()
    mixes = random_mixes(kits, 40, seed=3)
    assert [m.name for m in mixes[:2]] == ["mix-3-0000", "mix-3-0001"]
    parts = [tuple(k.name for _, k in m.parts) for m in mixes]
    assert len(set(parts)) == 40 and all(len(set(p)) >= MIN_KITS for p in parts)
    assert [m.parts for m in random_mixes(kits, 40, seed=3)] == [m.parts for m in mixes]
    assert [m.parts for m in random_mixes(kits, 40, seed=4)] != [m.parts for m in mixes]
    # three kits make 729 mixes, 540 of them of all three: more than half is refused, not
    # looped on
    assert len(random_mixes(kits, 364, seed=0)) == 364
    with pytest.raises(UserError, match="365 kit mixes asked of 3 kits; ask for at most 364"):
        random_mixes(kits, 365, seed=0)
    with pytest.raises(UserError, match="at least 3 --kit kits"):
        random_mixes(kits[:2], 1, seed=0)


def test_corpus_renders_mixes_each_with_its_own_performances(gmd_root, tmp_path, capsys):
    from drumgrid.training.egmd import EGMDIndex

    out = tmp_path / "mixes"
    args = ["corpus", "--gmd", str(gmd_root), "--out", str(out), "--splits", "train",
            "--mixes", "3", "--mix-seed", "7", "--files-per-kit", "2", "--max-seconds", "2",
            "--sample-rate", "24000", "--workers", "1", "--no-progress"]  # fmt: skip
    for kit in KITS:
        args += ["--kit", kit]
    assert main(args) == 0
    capsys.readouterr()
    index = EGMDIndex.read(out)
    assert index.kits == ["mix-7-0000", "mix-7-0001", "mix-7-0002"]
    by_kit = {k: sorted(r.midi_filename.rsplit("_", 1)[0] for r in index.select(kits=[k]))
              for k in index.kits}  # fmt: skip
    assert all(len(files) == 2 for files in by_kit.values())
    assert len({tuple(files) for files in by_kit.values()}) > 1  # each mix its own draw
    kits_json = json.loads((out / "kits.json").read_text())["kits"]
    assert kits_json["mix-7-0000"]["source"] == "mix"
    assert set(kits_json["mix-7-0000"]["parts"]) == {"kick", "snare", "hihat", "toms",
                                                      "crash", "ride"}  # fmt: skip
    attribution = (out / "ATTRIBUTION.md").read_text()
    assert "- mix-7-0000: a mix of " in attribution
    assert "- standard: FluidR3_GM.sf2 (128:0), MIT" in attribution  # its kits' own lines
    assert "SoundFonts played by FluidSynth" in attribution
    # rerun: every file is there; the same mixes and draws
    assert main(args) == 0
    assert f"{out}: 6 files (0 rendered now" in capsys.readouterr().out


def test_a_group_comes_only_from_kits_that_play_it():
    from dataclasses import dataclass

    from drumgrid.training.kits.mix import random_mixes

    @dataclass(frozen=True)
    class SampleKit:  # what random_mixes reads of a sample kit: its name and classes
        name: str
        classes: tuple[str, ...]

    every = tuple(c.label for c in DrumClass)
    no_ride = SampleKit("no-ride", tuple(c for c in every if c != "ride"))
    kits = [SampleKit("a", every), SampleKit("b", every), no_ride, SampleKit("c", every)]
    for mix in random_mixes(kits, 100, seed=1):  # type: ignore[arg-type]
        assert dict(mix.parts)["ride"] is not no_ride
    with pytest.raises(UserError, match="no --kit kit plays every sound of ride"):
        random_mixes([no_ride] * 3, 1, seed=0)  # type: ignore[arg-type]


def _onset_s(wave: np.ndarray, rate: int) -> float:
    return float(np.argmax(np.abs(wave) > 0.05 * np.abs(wave).max()) / rate)


def _ringing_s(wave: np.ndarray, rate: int) -> float:
    """From the first sample above 1% of the peak to the last."""
    loud = np.nonzero(np.abs(wave) > 0.01 * np.abs(wave).max())[0]
    return float((loud[-1] - loud[0]) / rate)


def test_voicing_retunes_as_a_sampler_does_and_keeps_the_onset():
    from drumgrid.training.kits.voicing import Voicing, render_voiced

    renderer = kit_sources()[0].open(44100)
    hits = [(0.5, CLASS_TO_GM_PITCH[DrumClass.TOM_LOW], 100)]
    plain = render_voiced(renderer, hits, 2.0, 44100, Voicing())
    np.testing.assert_array_equal(plain, renderer.render(hits, 2.0))
    for semitones in (-3.0, 3.0):
        speed = 2.0 ** (semitones / 12)
        wave = render_voiced(renderer, hits, 2.0, 44100, Voicing(semitones))
        assert wave.shape == plain.shape and wave.dtype == np.float32
        assert abs(_onset_s(wave, 44100) - _onset_s(plain, 44100)) < 0.001
        # pitch and decay move together: the ring is 1/speed as long
        assert _ringing_s(plain, 44100) / _ringing_s(wave, 44100) == pytest.approx(speed, rel=0.01)
        spectrum = np.abs(np.fft.rfft(wave)), np.abs(np.fft.rfft(plain))
        freqs = np.fft.rfftfreq(len(wave), 1 / 44100)
        centroid = [float((s * freqs).sum() / s.sum()) for s in spectrum]
        assert centroid[0] / centroid[1] == pytest.approx(speed, rel=0.03)
    with pytest.raises(ValueError, match="expected within"):
        Voicing(13.0)


def test_high_shelf_lifts_the_highs_only():
    from scipy.signal import freqz

    from drumgrid.training.kits.voicing import high_shelf

    b, a = high_shelf(6.0, 44100)
    _, response = freqz(b, a, worN=[50.0, 500.0, 2000.0, 12000.0], fs=44100)
    db = 20 * np.log10(np.abs(response))
    assert abs(db[0]) < 0.1 and db[1] < 1.0 and 2.0 < db[2] < 4.0 and abs(db[3] - 6.0) < 0.3


def test_voiced_mixes_keep_their_kits_and_render_each_part_voiced(tmp_path):
    from drumgrid.training.kits.mix import GROUP_OF, GROUPS, random_mixes
    from drumgrid.training.kits.records import origin, voiced_mixes
    from drumgrid.training.kits.voicing import render_voiced

    kits = kit_sources()
    plain = random_mixes(kits, 20, seed=5)
    voiced = random_mixes(kits, 20, seed=5, tune=3.0, bright=6.0)
    assert [m.parts for m in voiced] == [m.parts for m in plain]  # the same kits, voiced
    assert not plain[0].voicing and len(voiced[0].voicing) == len(GROUPS)
    tunes = [v.semitones for m in voiced for v in m.voicing]
    brights = [v.bright_db for m in voiced for v in m.voicing]
    assert max(map(abs, tunes)) <= 3.0 and max(map(abs, brights)) <= 6.0
    assert np.std(tunes) > 1.0 and np.std(brights) > 2.0
    assert all(round(x, 1) == x for x in tunes + brights)
    again = random_mixes(kits, 20, seed=5, tune=3.0, bright=6.0)
    assert [m.voicing for m in again] == [m.voicing for m in voiced]
    record = voiced[0].record()
    assert set(record["voicing"]) == set(GROUPS) and "voicing" not in plain[0].record()
    kick = voiced[0].voiced("kick")
    assert f"kick {kick.semitones:+g} st {kick.bright_db:+g} dB" in origin(record)
    for mixes, is_voiced in ((voiced, True), (plain, False)):  # what a model card reads
        corpus = tmp_path / str(is_voiced)
        corpus.mkdir()
        (corpus / "kits.json").write_text(json.dumps({"kits": {m.name: m.record() for m in mixes}}))
        assert voiced_mixes(corpus) is is_voiced
    assert voiced_mixes(tmp_path / "nowhere") is False
    with pytest.raises(UserError, match="--mix-tune 13: expected 0-12 semitones"):
        random_mixes(kits, 1, seed=0, tune=13.0)
    with pytest.raises(UserError, match="--mix-bright -1: expected 0-24 dB"):
        random_mixes(kits, 1, seed=0, bright=-1.0)

    mix = voiced[0]
    beat = [(0.1, DrumClass.KICK), (0.3, DrumClass.SNARE), (0.5, DrumClass.HIHAT_CLOSED),
            (0.7, DrumClass.TOM_MID), (0.9, DrumClass.CRASH), (1.1, DrumClass.RIDE)]  # fmt: skip
    hits = [(t, CLASS_TO_GM_PITCH[cls], 90) for t, cls in beat]
    wave = mix.open(24000).render(hits, 2.0)
    expected = sum(render_voiced(dict(mix.parts)[GROUP_OF[cls]].open(24000), [hit], 2.0, 24000,
                                 mix.voiced(GROUP_OF[cls]))
                   for hit, (_, cls) in zip(hits, beat, strict=True))  # fmt: skip
    np.testing.assert_allclose(wave, expected, atol=1e-5)
    assert np.abs(wave - plain[0].open(24000).render(hits, 2.0)).max() > 0.01


def test_voicing_flags_need_mixes(gmd_root, tmp_path, capsys):
    args = ["corpus", "--gmd", str(gmd_root), "--out", str(tmp_path / "c"), "--kit", KITS[0],
            "--mix-tune", "2", "--no-progress"]  # fmt: skip
    assert main(args) == 2
    assert "--mix-tune and --mix-bright voice kit mixes: add --mixes N" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
