"""Bad kits end in one clear error naming the file and the fix (a UserError, exit code 2 from
the CLI): a missing or unreadable sample, an SFZ syntax fault (with its line), a kit with no
instrument that maps to a drum class, a kit without a licence (skipped, never rendered)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sample_kits import SFZ, drumkit_xml, hydrogen_kit, sfz_kit

from drumgrid.server.errors import UserError
from drumgrid.training.cli import main
from drumgrid.training.kits.hydrogen import hydrogen_kit as read_hydrogen_kit
from drumgrid.training.kits.sfz import sfz_kit as read_sfz_kit

SYNTAX_FAULTS = {
    "header": ("<regoin> sample=kick_soft.wav key=36", 1, r"unknown header '<regoin>'"),
    "note": ("<region> sample=kick_soft.wav key=c#x", 1, r"key='c#x' is not a note"),
    "number": ("<region>\nsample=kick_soft.wav lovel=64 hivel=12O", 2, r"hivel='12O'"),
    "run-on": ("<region> sample=kick_soft.wav key=36 loop", 1, r"unexpected text"),
    "stray": ("<region> sample=kick_soft.wav\nkey=36 ; hivel=5", 2, r"unexpected text"),
    "include": ('#include "drums.sfz"\n<region> sample=kick_soft.wav', 1, r"no such file"),
    "define": ("#define KICK 36\n<region> sample=kick_soft.wav", 1, r"#define \$NAME"),
    "directive": ("#import x\n<region> sample=kick_soft.wav", 1, r"unknown directive"),
}


@pytest.mark.parametrize("fault", SYNTAX_FAULTS)
def test_sfz_syntax_fault_names_file_and_line(tmp_path, fault):
    text, line, message = SYNTAX_FAULTS[fault]
    path = sfz_kit(tmp_path, "<control> default_path=samples/\n" + text)
    with pytest.raises(UserError, match=message) as info:
        read_sfz_kit("x", path)
    assert f"{path}:{line + 1}:" in str(info.value)


def test_sfz_opcode_outside_any_header(tmp_path):
    path = sfz_kit(tmp_path, "key=36\n<region> sample=samples/kick_soft.wav")
    with pytest.raises(UserError, match=r"kit.sfz:1: opcode key before any <header>"):
        read_sfz_kit("x", path)


def test_missing_and_unreadable_samples(tmp_path):
    path = sfz_kit(tmp_path, SFZ.replace("snare.flac", "snares/snare.flac"))
    with pytest.raises(UserError, match=r"kit.sfz:9: sample 'snares/snare.flac' not found"):
        read_sfz_kit("x", path)
    h2 = hydrogen_kit(tmp_path / "h2", "component")
    (h2 / "hat_open.wav").unlink()
    with pytest.raises(UserError, match=r"instrument 'Hat Open': sample hat_open.wav not found"):
        read_hydrogen_kit("x", h2)
    path, h2 = sfz_kit(tmp_path, SFZ), hydrogen_kit(tmp_path / "h2", "component")
    for kit in (tmp_path / "samples", h2):
        (kit / "hat_closed.aiff").write_bytes(b"FORM\0\0\0\4AIFF")  # a header, no audio
    with pytest.raises(UserError, match=r"hat_closed.aiff: not a readable audio file"):
        read_sfz_kit("x", path)
    with pytest.raises(UserError, match=r"hat_closed.aiff: not a readable audio file"):
        read_hydrogen_kit("x", h2)

    sf.write(str(tmp_path / "samples" / "hat_closed.aiff"), np.zeros(100), 48000, format="CAF")
    with pytest.raises(UserError, match=r"hat_closed.aiff: CAF .*sfizz cannot play"):
        read_sfz_kit("x", path)


def test_unplayed_instrument_may_lack_its_sample(tmp_path):
    folder = hydrogen_kit(tmp_path, "layer")  # Cowbell and Zap (cowbell.wav) map to no class
    (folder / "cowbell.wav").unlink()
    assert read_hydrogen_kit("x", folder).unmapped == ["Cowbell", "Zap"]


def test_sample_names_match_case_insensitively(tmp_path):
    path = sfz_kit(tmp_path, SFZ.replace("kick_soft.wav", "KICK_Soft.WAV"))
    assert read_sfz_kit("x", path).classes[0] == "kick"


def test_kit_without_a_drum(tmp_path):
    path = sfz_kit(tmp_path, "<region> sample=samples/cowbell.wav key=56 lovel=1")
    with pytest.raises(UserError, match="plays no drum"):
        read_sfz_kit("x", path)
    aux = [("Cowbell", 60, -1, [("cowbell.wav", 0.0, 1.0)]), ("Zap", 90, -1, [])]
    folder = hydrogen_kit(tmp_path / "h2", "layer", instruments=aux)
    with pytest.raises(UserError, match=r"no instrument of .*drumkit.xml maps to a drum class"):
        read_hydrogen_kit("x", folder)


def test_broken_drumkit_xml(tmp_path):
    folder = hydrogen_kit(tmp_path, "layer")
    (folder / "drumkit.xml").write_text(drumkit_xml("layer")[:-40])
    with pytest.raises(UserError, match=r"not a readable drumkit\.xml"):
        read_hydrogen_kit("x", folder)
    with pytest.raises(UserError, match="does not exist"):
        read_hydrogen_kit("x", tmp_path / "nowhere")


def _corpus(tmp_path: Path, *kits: str) -> list[str]:
    args = ["corpus", "--gmd", str(tmp_path / "gmd"), "--out", str(tmp_path / "out")]
    return [*args, *(a for kit in kits for a in ("--kit", kit))]


def test_cli_refuses_bad_kits_with_exit_code_2(tmp_path, capsys):
    pytest.importorskip("pysfizz", reason="pysfizz (the train extra) is not installed")
    bad = sfz_kit(tmp_path, "<region> sample=samples/kick_soft.wav key=36 hivel=x")
    assert main(_corpus(tmp_path, f"bad={bad}")) == 2
    err = capsys.readouterr().err
    assert err.startswith("drumgrid corpus: error: ") and f"{bad}:1: hivel='x'" in err
    assert main(_corpus(tmp_path, f"arch={tmp_path / 'kit.h2drumkit'}")) == 2
    assert "unpack it (tar xzf" in capsys.readouterr().err


def test_kit_without_licence_is_skipped_never_rendered(tmp_path, capsys):
    pytest.importorskip("pysfizz", reason="pysfizz (the train extra) is not installed")
    from drumgrid.training.kits.spec import licensed, parse_kit

    folder = hydrogen_kit(tmp_path / "free", "component", licence=None)
    sfz = sfz_kit(tmp_path / "sfz", licence=False)
    kits, skipped = licensed([parse_kit(f"nolic={folder}"), parse_kit(f"nolic2={sfz}")])
    assert kits == []
    assert [line.split(":")[0] for line in skipped] == ["kit nolic", "kit nolic2"]
    assert f"no licence found for {folder / 'drumkit.xml'}" in skipped[0]
    assert main(_corpus(tmp_path, f"nolic={folder}")) == 2
    err = capsys.readouterr().err
    assert "kit nolic: skipped, no licence found" in err and "no kit left to render" in err
