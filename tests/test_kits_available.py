"""`drumgrid kits --available` finds SFZ and Hydrogen kits (and SoundFonts) with their licence
and the drum classes each plays, lists broken kits with why; and the corpus renders SFZ and
Hydrogen kits end to end, their licences carried into kits.json, ATTRIBUTION.md and the
summary's unmapped instruments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from sample_kits import hydrogen_kit, sfz_kit

from drumgrid.training.cli import main
from drumgrid.training.kits.available import available_kits

SF2 = Path("/usr/share/sounds/sf2")


def test_available_lists_kits_with_licences_and_classes(tmp_path):
    sfz = sfz_kit(tmp_path / "sfz" / "Test SFZ" / "programs", licence=False)
    (tmp_path / "sfz" / "Test SFZ" / "README.txt").write_text("Licence: CC-BY 4.0, A. Drummer\n")
    hydrogen_kit(tmp_path / "h2" / "Old Kit", "layer")
    hydrogen_kit(tmp_path / "h2" / "New Kit", "component", licence=None)
    broken = hydrogen_kit(tmp_path / "h2" / "Broken Kit", "component")
    (broken / "snare.flac").unlink()
    kits = available_kits([], [tmp_path / "sfz"], [tmp_path / "h2"])
    by_path = {k.path: k for k in kits}
    assert [k.source for k in kits] == ["sfz", "hydrogen", "hydrogen", "hydrogen"]
    four = ("kick", "snare", "hihat_closed", "hihat_open")
    s = by_path[sfz]
    assert s.classes == four and s.terms.licence == "Licence: CC-BY 4.0, A. Drummer"
    assert s.to_json()["kit"] == f"kit={sfz}"  # --kit NAME=PATH, ready to paste
    old = by_path[tmp_path / "h2" / "Old Kit"]
    assert old.classes == four and old.terms.licence == "CC0"
    assert old.unmapped == ["Cowbell", "Zap"]
    assert by_path[tmp_path / "h2" / "New Kit"].terms.licence is None
    assert "snare.flac not found" in by_path[broken].problem
    assert by_path[broken].classes == () and by_path[broken].to_json()["problem"]


@pytest.mark.skipif(not SF2.is_dir(), reason="no SoundFonts installed")
def test_kits_available_cli_on_this_machine(capsys):
    assert main(["kits", "--available", "--json"]) == 0
    kits = json.loads(capsys.readouterr().out)
    assert kits and {k["source"] for k in kits} <= {"soundfont", "sfz", "hydrogen"}
    fonts = [k for k in kits if k["source"] == "soundfont" and "problem" not in k]
    assert all(k["licence"] and k["classes"] for k in fonts)
    assert main(["kits", "--available"]) == 0
    assert " kits (" in capsys.readouterr().out.splitlines()[-1]
    assert main(["kits", "--available", "--model", "x"]) == 2


def test_sfz_and_hydrogen_kits_render_a_corpus(gmd_root, tmp_path, capsys):
    pytest.importorskip("pysfizz", reason="pysfizz (the train extra) is not installed")
    from drumgrid.training.cards import data_section
    from drumgrid.training.egmd import EGMDIndex

    sfz = sfz_kit(tmp_path / "sfz")
    h2 = hydrogen_kit(tmp_path / "h2", "component")
    out = tmp_path / "corpus"
    args = ["corpus", "--gmd", str(gmd_root), "--out", str(out), "--limit", "1",
            "--max-seconds", "2", "--sample-rate", "24000", "--workers", "1", "--no-progress",
            "--kit", f"small sfz={sfz}", "--kit", f"small h2={h2}"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "small h2: not played (no drum class): Zap" in printed
    index = EGMDIndex.read(out)
    assert index.kits == ["small h2", "small sfz"]
    for row in index:
        audio, rate = sf.read(str(index.audio_path(row)))
        assert rate == 24000 and abs(audio).max() > 0.01
    kits = json.loads((out / "kits.json").read_text())
    assert kits["kits"]["small sfz"]["licence"].startswith("CC0")
    assert kits["kits"]["small h2"]["author"] == "drumgrid tests"
    assert kits["renderer"]["sfizz_quality"] == 5 and kits["renderer"]["sfizz_gain"] == 2.0
    attribution = (out / "ATTRIBUTION.md").read_text()
    assert "SFZ kits played by sfizz" in attribution
    assert "- small h2: Test Kit (Hydrogen drumkit), CC0 (drumgrid tests)" in attribution
    card = "\n".join(data_section(out))
    assert "through the kits below (Hydrogen drumkits played by sfizz, SFZ kits" in card
    assert "| small h2 | Test Kit (Hydrogen drumkit) | - | CC0 (drumgrid tests) |" in card
    assert "| small sfz | kit.sfz (SFZ) | - | CC0 1.0 Universal (test samples) |" in card
    assert main(args) == 0  # resumes: same kits, nothing to render
    assert "(0 rendered now" in capsys.readouterr().out


def test_kits_json_entries_from_before_kit_terms_still_resume_and_credit():
    from drumgrid.training.kits import records

    old = {"name": "jazz", "soundfont": "/usr/share/sounds/sf2/FluidR3_GM.sf2", "bank": 128,
           "preset": 32, "channel": 10}  # fmt: skip
    new = {**old, "source": "soundfont", "licence": "MIT (Frank Wen, Toby Smithe)",
           "package": "fluid-soundfont-gm"}  # fmt: skip
    assert records.same_rendering(old, new)
    assert not records.same_rendering(old, {**new, "preset": 40})
    assert records.origin(old) == "FluidR3_GM.sf2 (128:32)"
    assert records.package_and_licence(old) == records.package_and_licence(new)
    assert records.engines_phrase({"jazz": old}) == "SoundFonts played by FluidSynth"
