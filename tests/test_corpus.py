"""The FluidSynth corpus builder: onsets within 1 ms of the MIDI, GMD x Debian kits end to
end in E-GMD layout (read back through the E-GMD index), resumable and deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from drumgrid.server.errors import UserError

pytest.importorskip("fluidsynth", reason="pyfluidsynth / libfluidsynth not installed")

SF2 = Path("/usr/share/sounds/sf2")
FLUID = SF2 / "FluidR3_GM.sf2"
PEARL = SF2 / "Black_Pearl_4_LV2.sf2"
needs_fonts = pytest.mark.skipif(
    not (FLUID.is_file() and PEARL.is_file()),
    reason="Debian fluid-soundfont-gm and avldrums.lv2-soundfont are not installed",
)


def _onset_ms(wave: np.ndarray, sr: int, t: float) -> float | None:
    """Independent onset detector: first sample reaching 10% of the peak near t."""
    s = int((t - 0.005) * sr)
    seg = np.abs(wave[s : s + int(0.1 * sr)])
    if seg.max() < 1e-4:
        return None
    return ((s + int(np.argmax(seg >= 0.1 * seg.max()))) / sr - t) * 1000


@needs_fonts
@pytest.mark.parametrize("sr", [44100, 24000])
@pytest.mark.parametrize("kit_text", [f"std={FLUID}", f"pearl={PEARL}", f"brush={FLUID}:128:40"])
def test_click_pattern_lines_up_within_1ms(kit_text, sr):
    from drumgrid.training.fluidsynth import KitRenderer, parse_kit

    rng = np.random.default_rng(7)
    n = 16
    # Isolated clicks (hits are held 2 s) at arbitrary sub-millisecond positions.
    times = 0.2 + np.arange(n) * 2.2 + rng.uniform(0, 0.01, n)
    pitches = rng.choice([36, 38, 42, 37, 40, 22], n)
    velocities = rng.integers(20, 128, n)
    renderer = KitRenderer(parse_kit(kit_text), sr)
    wave = renderer.render(zip(times, pitches, velocities, strict=True), times[-1] + 0.5)
    errors = [e for t in times if (e := _onset_ms(wave, sr, t)) is not None]
    assert len(errors) >= n - 3  # a 4-piece kit may lack a sound
    assert max(abs(e) for e in errors) <= 1.0, np.round(errors, 2)
    renderer.close()


@needs_fonts
def test_gmd_renders_through_two_kits_in_egmd_layout(gmd_root, tmp_path):
    from drumgrid.training.corpus import CORPUS_CSV, build_corpus, plan_jobs
    from drumgrid.training.egmd import EGMDIndex
    from drumgrid.training.fluidsynth import parse_kit

    kits = [parse_kit(f"Black Pearl={PEARL}"), parse_kit(f"FluidR3 Jazz={FLUID}:128:32")]
    jobs = plan_jobs(gmd_root, kits, 24000, ("train", "validation"), limit=3, max_seconds=3.0)
    assert len(jobs) == 6
    out = tmp_path / "corpus"
    summary = build_corpus(jobs, out, gmd_root, workers=2, progress=False)
    assert summary["files"] == 6 and summary["rendered"] == 6
    assert set(summary["per_kit"]) == {"Black Pearl", "FluidR3 Jazz"}
    assert (out / "LICENSE").is_file() and "Groove MIDI" in (out / "ATTRIBUTION.md").read_text()

    index = EGMDIndex.read(out)
    assert len(index) == 6 and index.kits == ["Black Pearl", "FluidR3 Jazz"]
    for row in index:
        assert row.split in ("train", "validation")
        info = sf.info(str(index.audio_path(row)))
        assert info.samplerate == 24000 and info.channels == 1
        assert abs(info.duration - row.duration) < 1e-3
        assert 3.0 < row.duration <= 4.5  # 3 s of MIDI (+ last note-offs) + the decay tail
        assert index.midi_path(row).is_file()
    first = (out / jobs[0].audio_out).read_bytes()
    csv_before = (out / CORPUS_CSV).read_text()

    # Resume: nothing left to render, same CSV. Determinism: a fresh render is identical.
    again = build_corpus(jobs, out, gmd_root, workers=1, progress=False)
    assert again["rendered"] == 0 and (out / CORPUS_CSV).read_text() == csv_before
    (out / jobs[0].audio_out).unlink()
    build_corpus(jobs[:1], out, gmd_root, workers=1, progress=False)
    assert (out / jobs[0].audio_out).read_bytes() == first


def test_missing_soundfont_is_one_clear_error(tmp_path):
    from drumgrid.training.fluidsynth import parse_kit

    with pytest.raises(UserError, match="does not exist"):
        parse_kit(f"x={tmp_path / 'nope.sf2'}")
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"not a soundfont")
    with pytest.raises(UserError, match="not a SoundFont"):
        parse_kit(f"x={bad}")
    with pytest.raises(UserError, match="NAME=SOUNDFONT"):
        parse_kit("just-a-path")


@needs_fonts
def test_soundfont_without_the_drum_preset_is_refused():
    from drumgrid.training.fluidsynth import parse_kit

    with pytest.raises(UserError, match=r"no preset 128:99.*Standard"):
        parse_kit(f"x={FLUID}:128:99")
    assert parse_kit(f"x={PEARL}").bank == 0  # melodic-bank kit: its only preset
    assert parse_kit(f"x={FLUID}").bank == 128


def test_gmd_csv_with_missing_columns_is_refused(tmp_path):
    from drumgrid.training.corpus import read_gmd_index

    (tmp_path / "info.csv").write_text("drummer,session,id\nd,s,1\n")
    with pytest.raises(UserError, match=r"missing column.*split"):
        read_gmd_index(tmp_path)


@needs_fonts
def test_corpus_grows_in_flac_beside_its_wavs(gmd_root, tmp_path):
    from drumgrid.training.corpus import build_corpus, plan_jobs
    from drumgrid.training.egmd import EGMDIndex
    from drumgrid.training.fluidsynth import parse_kit

    pearl, jazz = parse_kit(f"pearl={PEARL}"), parse_kit(f"jazz={FLUID}:128:32")
    out = tmp_path / "corpus"
    wav_jobs = plan_jobs(gmd_root, [pearl], 24000, limit=2, max_seconds=2.0)
    build_corpus(wav_jobs, out, gmd_root, workers=1, progress=False)
    wav_bytes = {j.audio_out: (out / j.audio_out).read_bytes() for j in wav_jobs}

    # The same corpus, now asked for FLAC with a second kit: the WAVs stay and are listed as
    # they are; only the new kit renders, as FLAC, with the same samples a WAV would hold.
    jobs = plan_jobs(gmd_root, [pearl, jazz], 24000, limit=2, max_seconds=2.0, audio_format="flac")
    summary = build_corpus(jobs, out, gmd_root, workers=2, progress=False)
    assert summary["rendered"] == 2 and summary["files"] == 4
    index = EGMDIndex.read(out)
    suffixes = {row.kit_name: index.audio_path(row).suffix for row in index}
    assert suffixes == {"pearl": ".wav", "jazz": ".flac"}
    assert all((out / name).read_bytes() == data for name, data in wav_bytes.items())
    assert not list(out.rglob("*pearl.flac"))
    flac = next(index.audio_path(r) for r in index if r.kit_name == "jazz")
    assert sf.info(str(flac)).format == "FLAC"
    wav_jobs = plan_jobs(gmd_root, [jazz], 24000, limit=2, max_seconds=2.0)
    fresh = tmp_path / "fresh"
    build_corpus(wav_jobs[:1], fresh, gmd_root, workers=1, progress=False)
    same = next(
        r
        for r in index
        if r.kit_name == "jazz" and r.midi_filename.endswith(Path(wav_jobs[0].midi_out).name)
    )
    flac_samples, wav_samples = (
        sf.read(str(p), dtype="int16")[0]
        for p in (index.audio_path(same), fresh / wav_jobs[0].audio_out)
    )
    # lossless: the same 16-bit samples, but for FluidSynth's one-step wobble between processes
    assert np.abs(flac_samples.astype(int) - wav_samples).max() <= 1

    with pytest.raises(UserError, match="audio format 'mp3'"):
        plan_jobs(gmd_root, [pearl], 24000, limit=1, audio_format="mp3")
