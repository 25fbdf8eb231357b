"""The drum codec folder (server/drum_codec/folder.py): what it writes, that it writes it
atomically, that folders from before the format was versioned still load with the same
token space, and that every way config.json or the weights can be wrong is one UserError
naming the file and the fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from drumgrid.server.codecs.registry import load_codec
from drumgrid.server.drum_codec import DrumCodecConfig, DrumCodecModel
from drumgrid.server.drum_codec.codec import DrumgridCodec
from drumgrid.server.drum_codec.folder import (
    FORMAT,
    CodecInfo,
    load_drum_codec,
    read_codec_info,
    save_drum_codec,
)
from drumgrid.server.errors import UserError
from drumgrid.server.weights import file_sha256

TINY = DrumCodecConfig.tiny()
CARD = {"steps": 3, "train_seconds": 7, "train": {"lr": 0.001}, "validation": {}, "init": None}


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return save_drum_codec(tmp_path_factory.mktemp("codec") / "codec", DrumCodecModel(TINY), CARD)


def _copy(saved: Path, to: Path) -> Path:
    to.mkdir()
    for f in saved.iterdir():
        (to / f.name).write_bytes(f.read_bytes())
    return to


def _edit(folder: Path, change: Callable[[dict], None]) -> None:
    path = folder / "config.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_folder_describes_itself(saved: Path) -> None:
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((saved / "config.json").read_text())
    assert list(config) == ["format", "family", "config", "card", "weights_sha256"]
    assert config["format"] == FORMAT == "drumgrid-codec/1"
    assert config["family"] == "drumgrid-drums" and config["card"] == CARD
    assert config["weights_sha256"] == file_sha256(saved / "model.safetensors")
    assert DrumCodecConfig.from_dict(config["config"]) == TINY
    model, info = load_drum_codec(saved)
    assert info == CodecInfo(TINY, CARD, config["weights_sha256"])
    assert read_codec_info(saved) == info
    assert not model.training


def test_format_0_folders_load_with_the_same_token_space(saved: Path, tmp_path: Path) -> None:
    """A folder written before formats were versioned: the card's keys beside family and
    config, no sha256. It loads, its card reads the same, and its config hash (which keys
    token caches and models) equals the new layout's."""
    old = _copy(saved, tmp_path / "old")
    _edit(old, lambda d: [d.pop(k) for k in ("format", "card", "weights_sha256")])
    _edit(old, lambda d: d.update(CARD))
    assert read_codec_info(old) == CodecInfo(TINY, CARD, None)
    hashes = {DrumgridCodec.from_folder(f).config_hash for f in (saved, old)}
    assert len(hashes) == 1
    assert load_codec("drumgrid-drums", old).config_hash in hashes


def _set(*path: str, value: object) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        for key in path[:-1]:
            d = d[key]
        d[path[-1]] = value

    return change


def _drop(*path: str) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        for key in path[:-1]:
            d = d[key]
        del d[path[-1]]

    return change


# name -> (break config.json, what the message says, the fix it gives)
BROKEN_CONFIG = {
    "unknown_config_key": (
        _set("config", "wobble", value=1),
        "unknown drum codec config keys ['wobble']",
        "update drumgrid",
    ),
    "missing_config_key": (
        _drop("config", "n_fft"),
        "missing drum codec config keys ['n_fft']",
        "train-codec",
    ),
    "config_key_mistyped": (_set("config", "dim", value="x"), "dim: expected int", "copy it"),
    "bool_mistyped": (
        _set("config", "phase_features", value=1),
        "phase_features: expected bool",
        "copy it",
    ),
    "no_config": (_drop("config"), "no 'config' object", "copy it"),
    "newer_format": (
        _set("format", value="drumgrid-codec/2"),
        "format 'drumgrid-codec/2'",
        "update drumgrid",
    ),
    "unknown_key": (_set("extra", value=1), "unknown keys ['extra']", "update drumgrid"),
    "missing_card": (_drop("card"), "missing keys ['card']", "copy it"),
    "card_mistyped": (_set("card", value=[1]), "'card' is [1], expected an object", "copy it"),
    "missing_sha256": (_drop("weights_sha256"), "missing keys ['weights_sha256']", "copy it"),
    "sha256_mistyped": (_set("weights_sha256", value="abc"), "expected 64 hex digits", "copy"),
    "another_family": (_set("family", value="encodec"), "not a drumgrid-drums codec", "pass"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CONFIG))
def test_a_broken_config_is_one_user_error_naming_file_and_fix(
    saved: Path, tmp_path: Path, case: str
) -> None:
    folder = _copy(saved, tmp_path / "codec")
    change, message, fix = BROKEN_CONFIG[case]
    _edit(folder, change)
    for load in (read_codec_info, load_drum_codec, lambda f: load_codec("default", f)):
        with pytest.raises(UserError) as err:
            load(folder)
        text = str(err.value)
        assert str(folder / "config.json") in text and message in text and fix in text, text


def test_damaged_weights_are_refused_by_their_hash(saved: Path, tmp_path: Path) -> None:
    folder = _copy(saved, tmp_path / "codec")
    path = folder / "model.safetensors"
    raw = bytearray(path.read_bytes())
    raw[-64:] = bytes(b ^ 0xFF for b in raw[-64:])  # finite values still: only the hash tells
    path.write_bytes(bytes(raw))
    with pytest.raises(UserError, match=r"config\.json records") as err:
        load_drum_codec(folder)
    assert str(path) in str(err.value) and "copy it again" in str(err.value)
    read_codec_info(folder)  # config.json alone is still fine


def test_train_codec_init_from_a_newer_codec_is_a_clean_error(
    saved: Path, tmp_path: Path, capsys
) -> None:
    """--init reads config.json before anything else: a key this drumgrid does not know is
    exit code 2 and one line, not a traceback."""
    from drumgrid.training.cli import main

    folder = _copy(saved, tmp_path / "codec")
    _edit(folder, _set("config", "wobble", value=1))
    assert main(["train-codec", "--out", str(tmp_path / "run"), "--init", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "unknown drum codec config keys ['wobble']" in err and "Traceback" not in err


def test_a_failed_write_leaves_the_old_folder(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing goes through temp names: a crash while the weights are written leaves the old
    files and no temp file; one between the two renames leaves a pair that loading refuses
    (its sha256 disagrees), never one that loads with the wrong config."""
    import drumgrid.server.weights as weights

    folder = _copy(saved, tmp_path / "codec")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    other = DrumCodecModel(TINY)

    def crash(state: dict, filename: str, metadata: dict) -> None:
        Path(filename).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(weights, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        save_drum_codec(folder, other, {"steps": 9})
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    load_drum_codec(folder)
    monkeypatch.undo()

    real_replace, calls = weights.os.replace, []

    def replace_once(src: Path, dst: Path) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(weights.os, "replace", replace_once)
    with pytest.raises(OSError, match="power cut"):
        save_drum_codec(folder, other, {"steps": 9})
    monkeypatch.undo()
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    with pytest.raises(UserError, match="sha256"):
        load_drum_codec(folder)
