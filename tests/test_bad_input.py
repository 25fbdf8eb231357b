"""Hostile and damaged input to the CLI: every case exits 2 with one line that names the file
and the problem, never a traceback, and limits are checked before the work they bound (so a
tiny file cannot cost minutes, gigabytes or megabytes of output). Inputs are built here from
bytes: MIDI and WAV files by hand, model folders as broken copies of the tiny test model."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from engine_helpers import make_model_dir
from factories import smf_bytes
from safetensors.torch import load_file, save_file

from drumgrid.server.engine.models import DEFAULT_MODEL_DIR
from drumgrid.server.grid import MAX_GRID_STEPS
from drumgrid.server.midi_io import MAX_MIDI_BYTES, MAX_MIDI_LENGTH_S, MAX_NOTES
from drumgrid.server.model.config import MAX_FRAMES_LIMIT
from drumgrid.server.weights import file_sha256
from drumgrid.training.cli import main
from drumgrid.training.commands.codec_roundtrip import MAX_ROUNDTRIP_S
from drumgrid.training.tokens import MAX_AUDIO_CHANNELS, MAX_AUDIO_RATE, MIN_AUDIO_RATE

torch.set_num_threads(1)


def _cli(capsys, *argv: str) -> tuple[int, str, str, float]:
    """Run `drumgrid ARGV` in-process: (exit code, stdout, the error line, CPU seconds it
    took: the work done, which a loaded machine does not inflate as it does wall time). Any
    exception other than a UserError escapes main() and fails the test."""
    start = time.process_time()
    code = main(list(argv))
    seconds = time.process_time() - start
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith(f"drumgrid {argv[0]}: error:")]
    return code, out, errors[-1] if errors else err, seconds


def _refused(capsys, *argv: str, message: str, names: str | Path, cpu_s: float = 5.0) -> str:
    """Refused with exit 2, one error line naming the problem, little output, and before any
    heavy work (a huge file is not read through first)."""
    code, out, line, seconds = _cli(capsys, *argv)
    assert code == 2, (code, line)
    assert line.startswith(f"drumgrid {argv[0]}: error: "), line
    assert message in line, line
    assert str(names) in line, line
    assert len(out) < 10_000, len(out)
    assert seconds < cpu_s, seconds
    return line


# -- MIDI ------------------------------------------------------------------------------------


HUGE_DELTA = bytes([0xFF, 0xFF, 0xFF, 0x7F])  # 0x0FFFFFFF ticks, the largest delta
KICK_ON = bytes([0x99, 36, 100])
KICK_OFF = bytes([0x89, 36, 0])
END = bytes([0x00, 0xFF, 0x2F, 0x00])


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("ppq", "track"),
    [
        # 33 bytes: a kick, then a text meta event 2^28 ticks later (at 1 tick per beat).
        # Before: `grid` asked numpy for 36 GiB and died with a traceback.
        (1, b"\x00" + KICK_ON + HUGE_DELTA + b"\xff\x01\x00"),
        # The kick's note-off 2^28 ticks later at 96 ppq: before, minutes and ~1 GB of text.
        (96, b"\x00" + KICK_ON + HUGE_DELTA + KICK_OFF + END),
        # Eight huge deltas in a row at the default 480 ppq.
        (480, b"\x00" + KICK_ON + (HUGE_DELTA + b"\xff\x01\x00") * 8),
    ],
    ids=["meta-at-1-ppq", "note-off-at-96-ppq", "eight-deltas"],
)
def test_midi_length_bomb_is_refused_at_once(tmp_path, capsys, ppq, track):
    path = _write(tmp_path, "bomb.mid", smf_bytes([track], ppq))
    assert path.stat().st_size < 100
    for extra in ([], ["--json"]):
        _refused(
            capsys, "grid", str(path), *extra,
            message=f"renders at most {MAX_MIDI_LENGTH_S:g} s", names=path,
        )  # fmt: skip


def test_midi_bomb_exits_2_without_a_traceback_as_a_process(tmp_path):
    path = _write(
        tmp_path, "bomb.mid", smf_bytes([b"\x00" + KICK_ON + HUGE_DELTA + b"\xff\x01\x00"], 1)
    )
    code = "import sys; from drumgrid.training.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, "grid", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stdout) == 0
    assert proc.stderr.count("\n") == 1 and "s long" in proc.stderr


def test_key_signature_out_of_range(tmp_path, capsys):
    # FF 59 02 sf mi with 20 sharps: mido raises its own KeySignatureError (not a ValueError)
    key = bytes([0x00, 0xFF, 0x59, 0x02, 20, 0])
    path = _write(
        tmp_path, "key.mid", smf_bytes([key + b"\x00" + KICK_ON + b"\x10" + KICK_OFF + END])
    )
    _refused(capsys, "grid", str(path), message="key signature event is out of range", names=path)


def _many_notes(n: int) -> bytes:
    """n kicks at tick 0 with running status: 3 bytes a note-on, 3 a note-off."""
    ons = b"\x00" + KICK_ON + bytes([0x00, 36, 100]) * (n - 1)
    offs = bytes([0x10, 36, 0]) + bytes([0x00, 36, 0]) * (n - 1)
    return smf_bytes([ons + offs + END])


def test_a_million_notes_are_refused_before_parsing(tmp_path, capsys):
    path = _write(tmp_path, "million.mid", _many_notes(1_000_000))
    assert path.stat().st_size > MAX_MIDI_BYTES
    _refused(capsys, "grid", str(path), message="MiB is larger than the 2 MiB", names=path)
    # render refuses it before the model loads (this model folder does not even exist)
    _refused(
        capsys, "render", str(path), "-o", str(tmp_path / "o.wav"), "--model",
        str(tmp_path / "no-model"), message="MiB is larger", names=path,
    )  # fmt: skip


def test_more_notes_than_the_limit_are_refused(tmp_path, capsys):
    path = _write(tmp_path, "many.mid", _many_notes(MAX_NOTES + 1))
    assert path.stat().st_size < MAX_MIDI_BYTES
    _refused(capsys, "grid", str(path), message=f"more than {MAX_NOTES} notes", names=path)


def test_render_checks_the_length_before_loading_the_model(tmp_path, capsys):
    # 700 s at 120 bpm (1400 beats at 480 ppq) with two kicks: longer than --max-length 600
    far = bytes([0x80 | (672000 >> 14), 0x80 | ((672000 >> 7) & 0x7F), 672000 & 0x7F])
    path = _write(tmp_path, "long.mid", smf_bytes([b"\x00" + KICK_ON + far + KICK_OFF + END]))
    _refused(
        capsys, "render", str(path), "-o", str(tmp_path / "o.wav"), "--model",
        str(tmp_path / "no-model"), message="renders at most 600 s", names=path,
    )  # fmt: skip
    assert not (tmp_path / "o.wav").exists()
    for bad in ("0", "nan", "-5"):
        _refused(
            capsys, "render", str(path), "-o", str(tmp_path / "o.wav"), "--max-length", bad,
            message="--max-length", names="seconds > 0",
        )  # fmt: skip


def test_grid_steps_are_bounded(tmp_path, capsys):
    # 2000 beats (1000 s at 120 bpm): fine at 4 steps per beat, too many steps at 96
    far = 2000 * 480
    delta = bytes([0x80 | (far >> 14), 0x80 | ((far >> 7) & 0x7F), far & 0x7F])
    path = _write(tmp_path, "long.mid", smf_bytes([b"\x00" + KICK_ON + delta + KICK_OFF + END]))
    code, out, _, _ = _cli(capsys, "grid", str(path))
    assert code == 0 and len(out) < 200_000
    _refused(
        capsys, "grid", str(path), "--steps-per-beat", "96",
        message=f"more than the {MAX_GRID_STEPS}", names="--steps-per-beat",
    )  # fmt: skip


# -- WAV -------------------------------------------------------------------------------------


def _wav(
    data: bytes = b"", rate: int = 44100, channels: int = 1, bits: int = 16, fmt: int = 1
) -> bytes:
    block = max(channels, 1) * bits // 8
    fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _float_wav(samples: list[float]) -> bytes:
    return _wav(np.array(samples, "<f4").tobytes(), bits=32, fmt=3)


EXPECTED = f"WAV files of {MIN_AUDIO_RATE}-{MAX_AUDIO_RATE} Hz with 1-{MAX_AUDIO_CHANNELS} channels"
WAVS: dict[str, tuple[bytes, str]] = {
    # before: 90 s and 10 GB (7000 samples at 1 Hz resample to 7000 s at 44.1 kHz)
    "rate_1hz": (_wav(b"\x80" * 7000, rate=1, bits=8), f"1 Hz; drumgrid reads {EXPECTED}"),
    "rate_too_high": (_wav(b"\x00" * 64, rate=1_000_000), "sample rate 1000000 Hz"),
    "empty": (b"", "unreadable audio (Format not recognised)"),
    "text": (b"hello, this is not audio\n", "unreadable audio (Format not recognised)"),
    "zero_channels": (_wav(b"\x00" * 20, channels=0), "unreadable audio (Channel count is zero)"),
    "header_only": (_wav()[: -len(b"data") - 4], "No 'data' chunk"),
    "zero_samples": (_wav(), "holds no samples"),
    "nine_channels": (_wav(b"\x00" * 18 * 4, channels=9), "9 channels"),
    "nan": (_float_wav([0.0, float("nan"), 0.5]), "1 sample(s) are NaN or infinite"),
    "inf": (_float_wav([0.0, 0.5, float("inf"), float("-inf")]), "2 sample(s) are NaN or infinite"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(WAVS))
def test_bad_wav_for_codec_roundtrip(tmp_path, capsys, case):
    data, message = WAVS[case]
    path = _write(tmp_path, f"{case}.wav", data)
    out = tmp_path / "out.wav"
    _refused(capsys, "codec-roundtrip", str(path), "-o", str(out), message=message, names=path)
    assert not out.exists()


def test_roundtrip_length_is_checked_from_the_header(tmp_path, capsys):
    seconds = MAX_ROUNDTRIP_S + 1  # 8-bit mono at 8 kHz: 2.4 MB
    path = _write(tmp_path, "long.wav", _wav(b"\x80" * int(seconds * 8000), rate=8000, bits=8))
    _refused(
        capsys, "codec-roundtrip", str(path), "-o", str(tmp_path / "o.wav"),
        message=f"over the {MAX_ROUNDTRIP_S:g} s limit", names=path,
    )  # fmt: skip


# -- model folders ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("bad-input"))


@pytest.fixture(scope="module")
def midi(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bad-input-midi") / "kick.mid"
    path.write_bytes(smf_bytes([b"\x00" + KICK_ON + b"\x60" + KICK_OFF + END]))
    return path


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _config(change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda folder: _edit_json(folder / "config.json", change)


def _no_hash(folder: Path) -> None:
    """A folder written before config.json recorded the weights' sha256."""
    _edit_json(folder / "config.json", lambda d: d.pop("weights_sha256", None))


def _data_start(path: Path) -> int:
    return 8 + struct.unpack("<Q", path.read_bytes()[:8])[0]


def _poke(path: Path, offset: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))


def _rehash(folder: Path) -> None:
    """Record the weights' present sha256, so that the checks after the hash see the damage
    (a codec folder must record one)."""
    path = folder / "model.safetensors"
    _edit_json(folder / "config.json", lambda d: d.update(weights_sha256=file_sha256(path)))


def _flip(folder: Path) -> None:
    """Invert 64 bytes of weights; the header still parses and every value stays finite."""
    path = folder / "model.safetensors"
    start = _data_start(path) + 4096
    raw = path.read_bytes()
    _poke(path, start, bytes(b ^ 0xFF for b in raw[start : start + 64]))


def _nan(name: str, pattern: bytes, keep_hash: bool = False) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        if not keep_hash and name == "model.safetensors":
            _no_hash(folder)
        path = folder / name
        _poke(path, _data_start(path) + 16, pattern)
        if name.startswith("codec/"):
            _rehash(path.parent)

    return change


def _weights(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """Rewrite model.safetensors with its tensors changed, recording the new hash, so that
    the check after the hash is what refuses it."""

    def edit(folder: Path) -> None:
        path = folder / "model.safetensors"
        state = load_file(str(path))
        change(state)
        save_file(state, str(path))
        _edit_json(folder / "config.json", lambda d: d.update(weights_sha256=file_sha256(path)))

    return edit


def _truncate(folder: Path) -> None:
    _no_hash(folder)
    path = folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[:5000])


def _garbage(name: str, data: bytes) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        if name == "model.safetensors":
            _no_hash(folder)
        (folder / name).write_bytes(data)
        if name.startswith("codec/"):
            _rehash((folder / name).parent)

    return change


def _set(section: str | None, key: str, value) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        (d if section is None else d[section])[key] = value

    return change


def _delete(section: str | None, key: str) -> Callable[[dict], None]:
    return lambda d: (d if section is None else d[section]).pop(key)


def _codec_config(change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda folder: _edit_json(folder / "codec" / "config.json", change)


# name -> (break the folder, file named in the message, what the message says)
BROKEN: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "config_bad_json": (
        lambda f: (f / "config.json").write_text('{"format": "drumgrid-lm/1", "model": {'),
        "config.json", "not valid JSON",
    ),
    "config_not_utf8": (
        lambda f: (f / "config.json").write_bytes(b"\xff\xfe{}"), "config.json", "not UTF-8",
    ),
    "config_a_list": (
        lambda f: (f / "config.json").write_text("[]"), "config.json", "expected a JSON object",
    ),
    "no_codec": (_config(_delete(None, "codec")), "config.json", "no 'codec' section"),
    "codec_a_string": (
        _config(_set(None, "codec", "drumgrid-drums")), "config.json", "expected an object",
    ),
    "no_codec_hash": (
        _config(_delete("codec", "config_hash")), "config.json", "codec.config_hash",
    ),
    "frame_rate_text": (
        _config(_set("codec", "frame_rate", "fast")), "config.json", "codec.frame_rate",
    ),
    "codec_path_a_number": (_config(_set("codec", "path", 5)), "config.json", "codec.path"),
    "no_model": (_config(_delete(None, "model")), "config.json", "no 'model' section"),
    "unknown_config_key": (
        _config(_set("model", "depth", 3)), "config.json",
        "unknown model config keys ['depth']",
    ),
    "missing_config_key": (
        _config(_delete("model", "n_kits")), "config.json", "missing model config keys ['n_kits']",
    ),
    "dim_text": (_config(_set("model", "dim", "wide")), "config.json", "dim: expected an integer"),
    "zero_heads": (_config(_set("model", "n_heads", 0)), "config.json", "0 heads"),
    "max_frames_1e12": (
        _config(_set("model", "max_frames", 1e12)), "config.json",
        "max_frames: expected an integer",
    ),
    "max_frames_10_to_12": (
        _config(_set("model", "max_frames", 10**12)), "config.json",
        f"max_frames <= {MAX_FRAMES_LIMIT}",
    ),
    "three_kit_names_for_two_rows": (
        _config(_set(None, "kits", ["a", "b", "c"])), "config.json",
        "lists 3 kit names for a model whose kit table has 2 rows",
    ),
    "kits_a_string": (
        _config(_set(None, "kits", "acoustic")), "config.json", "expected a list of names",
    ),
    "kits_repeated": (_config(_set(None, "kits", ["a", "a"])), "config.json", "not distinct"),
    "no_features": (_config(_delete(None, "features")), "config.json", "'features' is None"),
    "weights_garbage": (
        _garbage("model.safetensors", b"garbage!" * 8), "model.safetensors",
        "not a readable safetensors file",
    ),
    "weights_empty": (
        _garbage("model.safetensors", b""), "model.safetensors", "not a readable safetensors",
    ),
    "weights_truncated": (_truncate, "model.safetensors", "not a readable safetensors"),
    "weights_flipped": (_flip, "model.safetensors", "sha256"),
    "weights_nan": (
        _nan("model.safetensors", b"\x00\x00\xc0\x7f"), "model.safetensors",
        "NaN or infinite",
    ),
    "weights_replaced": (
        _nan("model.safetensors", b"\x00\x00\xc0\x7f", keep_hash=True), "model.safetensors",
        "config.json records",
    ),
    "weights_wrong_shape": (
        _weights(lambda s: s.update({"kit_embedding.weight": torch.zeros(3, 32)})),
        "model.safetensors", "tensor kit_embedding.weight is [3, 32], config.json implies [2, 32]",
    ),
    "weights_missing_tensor": (
        _weights(lambda s: s.pop("cond_proj.bias")), "model.safetensors",
        "missing ['cond_proj.bias']",
    ),
    "a_million_layers": (
        _config(_set("model", "n_layers", 10**6)), "model.safetensors",
        "asks for 1000000 layers or codebooks",
    ),
    "codec_bad_json": (
        lambda f: (f / "codec" / "config.json").write_text("{"), "codec/config.json",
        "not valid JSON",
    ),
    "codec_no_config": (
        _codec_config(_delete(None, "config")), "codec/config.json", "no 'config' object",
    ),
    "codec_unknown_key": (
        _codec_config(_set("config", "wobble", 1)), "codec/config.json",
        "unknown drum codec config keys ['wobble']",
    ),
    "codec_dim_text": (
        _codec_config(_set("config", "dim", "x")), "codec/config.json", "dim: expected int",
    ),
    "codec_newer_format": (
        _codec_config(_set(None, "format", "drumgrid-codec/2")), "codec/config.json",
        "update drumgrid",
    ),
    "codec_weights_flipped": (
        lambda f: _flip(f / "codec"), "codec/model.safetensors", "config.json records",
    ),
    "codec_weights_garbage": (
        _garbage("codec/model.safetensors", b"\x00" * 40), "codec/model.safetensors",
        "not a readable safetensors",
    ),
    "codec_weights_nan": (
        _nan("codec/model.safetensors", b"\xff\x7f"), "codec/model.safetensors",
        "NaN or infinite",
    ),
}  # fmt: skip

# Whose damage `drumgrid kits` sees: it reads config.json alone.
CONFIG_ONLY = {name for name, (_, file, _) in BROKEN.items() if file == "config.json"}
CONFIG_ONLY -= {"codec_path_a_number"}  # codec.path is read when the codec is looked for


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_model_folder(model_dir, midi, tmp_path, capsys, case):
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    damage, file, message = BROKEN[case]
    damage(folder)
    out = tmp_path / "o.wav"
    _refused(
        capsys, "render", str(midi), "-o", str(out), "--model", str(folder), "--no-progress",
        "--backend", "eager", message=message, names=folder / file,
    )  # fmt: skip
    assert not out.exists()
    if case in CONFIG_ONLY:
        _refused(capsys, "kits", "--model", str(folder), message=message, names=folder / file)


def test_the_intact_copy_renders(model_dir, midi, tmp_path, capsys):
    """The breakage above is what fails: the same copy, unbroken, renders."""
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    out = tmp_path / "o.wav"
    code, _, line, _ = _cli(
        capsys, "render", str(midi), "-o", str(out), "--model", str(folder), "--no-progress",
        "--backend", "eager", "--threads", "1",
    )  # fmt: skip
    assert code == 0 and out.exists(), line
    config = json.loads((folder / "config.json").read_text())
    assert config["weights_sha256"] == file_sha256(folder / "model.safetensors")


@pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "config.json").is_file(), reason="no default model in this build"
)
def test_the_default_model_records_its_weights_hash(tmp_path, midi, capsys):
    config = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
    assert config["weights_sha256"] == file_sha256(DEFAULT_MODEL_DIR / "model.safetensors")
    folder = tmp_path / "default"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(DEFAULT_MODEL_DIR / name, folder / name)
    _flip(folder)
    _refused(
        capsys, "render", str(midi), "-o", str(tmp_path / "o.wav"), "--model", str(folder),
        message="sha256", names=folder / "model.safetensors",
    )  # fmt: skip
