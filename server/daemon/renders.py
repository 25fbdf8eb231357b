"""The render folder: where finished WAVs go (atomically), what they are called, which MIDI
files a daemon may read, and the clean-up of old renders."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

from drumgrid.server.errors import UserError

log = logging.getLogger("drumgrid.serve")

MAX_MIDI_BYTES = 16 << 20
STALE_TMP_S = 3600.0


def default_render_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "drumgrid" / "renders"


def prepare_render_dir(folder: str | Path) -> Path:
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UserError(f"--render-dir {folder}: cannot create it ({exc.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"--render-dir {folder}: not writable; pick another folder")
    return folder.resolve()


def _safe(text: str, limit: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text)[:limit].strip("_") or "job"


def output_paths(render_dir: Path, job: str, out: str | None, takes: int) -> list[Path]:
    """Where a job's takes are written: `out` (validated as a bare name by the bridge) or a
    name from the time and the job id; takes 2.. get -v2, -v3, ... before the extension."""
    if out is None:
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{_safe(job)}"
        suffix = ".wav"
    else:
        stem, suffix = os.path.splitext(out)
    names = [f"{stem}{suffix}"] + [f"{stem}-v{i + 1}{suffix}" for i in range(1, takes)]
    paths = []
    for name in names:
        path = render_dir / name
        # The bridge allows bare names only; check again here, where the file is written.
        if path.parent != render_dir or name in (".", "..") or "/" in name or "\\" in name:
            raise UserError(f"out {name!r}: expected a bare file name inside the render folder")
        paths.append(path)
    return paths


def resolve_midi_path(path: str, input_dir: Path | None) -> Path:
    """The MIDI file a render request may read. With an input folder (required for remote
    daemons) the file must resolve inside it; without one the path must be absolute."""
    if "\x00" in path:
        raise UserError("midi_path: NUL in the path")
    given = Path(path)
    if input_dir is None:
        if not given.is_absolute():
            raise UserError(f"midi_path {path!r}: expected an absolute path")
        return given
    resolved = (input_dir / given).resolve()
    if not resolved.is_relative_to(input_dir):
        raise UserError(f"midi_path {path!r}: outside the daemon's --input-dir")
    return resolved


def check_midi_file(path: Path) -> None:
    """Cheap checks before mido reads the file (which may then raise MidiError)."""
    try:
        size = path.stat().st_size
    except OSError:
        raise UserError(f"{path}: no such file") from None
    if not path.is_file():
        raise UserError(f"{path}: not a regular file")
    if size > MAX_MIDI_BYTES:
        raise UserError(f"{path}: {size} bytes; expected a MIDI file under {MAX_MIDI_BYTES} bytes")


def clean_renders(
    render_dir: Path, max_bytes: int, max_age_s: float, keep: set[Path] = frozenset()
) -> int:
    """Delete renders older than max_age_s, then the oldest until the folder's WAVs total at
    most max_bytes, never those in `keep`; stale temp files go too. Returns files removed."""
    now = time.time()
    wavs: list[tuple[float, int, Path]] = []
    removed = 0
    try:
        entries = list(os.scandir(render_dir))
    except OSError as exc:
        log.warning("render folder %s: %s", render_dir, exc)
        return 0
    for entry in entries:
        if not entry.is_file(follow_symlinks=False):
            continue
        st = entry.stat(follow_symlinks=False)
        path = Path(entry.path)
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            if now - st.st_mtime > STALE_TMP_S:
                removed += _unlink(path)
            continue
        if entry.name.lower().endswith(".wav") and path not in keep:
            wavs.append((st.st_mtime, st.st_size, path))
    wavs.sort()
    total = sum(size for _, size, _ in wavs) + sum(p.stat().st_size for p in keep if p.exists())
    for mtime, size, path in wavs:
        if now - mtime > max_age_s or total > max_bytes:
            removed += _unlink(path)
            total -= size
    return removed


def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except OSError as exc:
        log.info("could not remove old render %s: %s", path, exc)
        return 0
