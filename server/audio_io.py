"""Writing rendered audio: WAV (16/24-bit PCM or 32-bit float) or FLAC (16/24-bit), chosen
by the file's extension, written to a temp file in the target folder and renamed into place,
so a DAW watching the folder (or the daemon's client) never opens a half-written file."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import numpy as np
import soundfile as sf

from drumgrid.server.errors import UserError

# --format value -> soundfile subtype
FORMATS: dict[str, str] = {"pcm16": "PCM_16", "pcm24": "PCM_24", "float": "FLOAT"}
# extension -> soundfile container, and the --format values it holds
CONTAINERS: dict[str, tuple[str, tuple[str, ...]]] = {
    ".wav": ("WAV", ("pcm16", "pcm24", "float")),
    ".flac": ("FLAC", ("pcm16", "pcm24")),
}
AUDIO_SUFFIXES = tuple(CONTAINERS)
TEMP_NAME = re.compile(r"\.drumgrid-(?P<pid>\d+)-[0-9a-f]{16}\.tmp")  # write_audio's temp files


def check_output_path(
    path: str | Path, suffixes: tuple[str, ...] = AUDIO_SUFFIXES, fmt: str | None = None
) -> Path:
    """Fail early (before any model loads) when the file cannot be written where asked, or
    not in the sample format `fmt`."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    names = " or ".join(suffixes)
    if not parent.is_dir():
        raise UserError(f"{path}: folder {parent} does not exist; create it or pick another -o")
    if path.is_dir():
        raise UserError(f"{path}: is a folder; expected a {names} file name")
    if path.suffix.lower() not in suffixes:
        convert = " (and convert it after, e.g. `ffmpeg -i take.wav take.mp3`)"
        raise UserError(
            f"{path}: drumgrid writes {names} files here; name the output {names}"
            + (convert if suffixes == AUDIO_SUFFIXES else "")
        )
    if fmt is not None and path.suffix.lower() in CONTAINERS:
        container, held = CONTAINERS[path.suffix.lower()]
        if fmt not in held:
            raise UserError(
                f"{path}: {container} holds {' or '.join(held)} samples, not {fmt}; pass "
                f"--format {held[-1]}, or write a .wav"
            )
    return path


def write_audio(
    path: str | Path,
    audio: np.ndarray,  # [N, C] or [N] float in [-1, 1]
    sample_rate: int,
    fmt: str = "pcm16",
) -> Path:
    """Write atomically (temp file + rename), WAV or FLAC by the extension. PCM formats clip
    to [-1, 1]; float keeps values."""
    if fmt not in FORMATS:
        raise UserError(f"unknown sample format {fmt!r}; expected one of {', '.join(FORMATS)}")
    path = check_output_path(path, fmt=fmt)
    container = CONTAINERS[path.suffix.lower()][0]
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    if fmt != "float":
        data = np.clip(data, -1.0, 1.0)
    # An unpredictable name, created here and never through a link: nothing planted in the
    # folder can redirect the write (the rename then replaces a link itself, not its target).
    tmp = path.with_name(f".drumgrid-{os.getpid()}-{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            sf.write(f, data, int(sample_rate), subtype=FORMATS[fmt], format=container)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            tmp.unlink()
    return path
