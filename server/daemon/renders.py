"""The render folder: where finished WAVs go (atomically), what they are called, which MIDI
files a daemon may read, which files in it drumgrid wrote (a manifest), and the clean-up of
old renders, which never touches a file drumgrid did not write."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import stat
import time
from collections.abc import Collection
from pathlib import Path

from drumgrid.bridge.contract import default_take_name, take_paths
from drumgrid.server.audio_io import TEMP_NAME
from drumgrid.server.errors import UserError
from drumgrid.server.midi_io import MAX_MIDI_BYTES

log = logging.getLogger("drumgrid.serve")

MANIFEST = ".drumgrid-renders.jsonl"  # the files drumgrid wrote here; clean-up removes only these
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


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


def output_paths(
    render_dir: Path, job: str, out: str | None, takes: int, label: str = "render"
) -> list[Path]:
    """Where a job's takes are written: `out` (validated as a bare name by the bridge) or the
    contract's default name, LABEL-JOB.wav; takes 2.. as the contract's take_paths names
    them."""
    name = out if out is not None else default_take_name(label, job)
    paths = take_paths(render_dir / name, takes)
    for path in paths:
        # The bridge allows bare names only; check again here, where the file is written.
        if path.parent != render_dir or path.name in (".", "..") or "/" in name or "\\" in name:
            raise UserError(f"out {name!r}: expected a bare file name inside the render folder")
    return paths


def resolve_midi_path(path: str, input_dir: Path | None, what: str = "midi_path") -> Path:
    """A file a request may read (`what`: the option naming it). With an input folder
    (required for remote daemons) the file must resolve inside it; without one the path must
    be absolute."""
    if "\x00" in path:
        raise UserError(f"{what}: NUL in the path")
    given = Path(path)
    if input_dir is None:
        if not given.is_absolute():
            raise UserError(f"{what} {path!r}: expected an absolute path")
        return given
    resolved = (input_dir / given).resolve()
    if not resolved.is_relative_to(input_dir):
        raise UserError(f"{what} {path!r}: outside the daemon's --input-dir")
    return resolved


def read_midi_file(path: Path, input_dir: Path | None) -> bytes:
    """The bytes of the MIDI file a request names, read when the request arrives."""
    return read_input_file(path, input_dir, MAX_MIDI_BYTES, "midi_path")


def read_input_file(path: Path, input_dir: Path | None, max_bytes: int, what: str) -> bytes:
    """The bytes of a file a request names (`what`: the option naming it): opened without
    blocking (a FIFO cannot hang the daemon), checked to be a regular file under `max_bytes`
    and, with an input folder, opened without following a final link and checked to lie
    inside the folder, judged by the file that was opened, not by its name."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (_NOFOLLOW if input_dir else 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot open it ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"{path}: not a regular file")
        if st.st_size > max_bytes:
            raise UserError(f"{path}: {st.st_size} bytes; a {what} file here is under {max_bytes}")
        if input_dir is not None:
            opened = _opened_path(fd)
            if opened is None or not opened.is_relative_to(input_dir):
                raise UserError(f"{what} {path.name!r}: outside the daemon's --input-dir")
        return f.read(max_bytes + 1)


def _opened_path(fd: int) -> Path | None:
    """Where an open file really is (Linux: /proc/self/fd; macOS: F_GETPATH); None where
    the system cannot say (then an input folder cannot be enforced, and is refused)."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass
    if hasattr(fcntl, "F_GETPATH"):  # macOS
        with contextlib.suppress(OSError):
            raw = fcntl.fcntl(fd, fcntl.F_GETPATH, bytes(1024))
            return Path(os.fsdecode(raw.split(b"\0", 1)[0]))
    return None


def _manifest(render_dir: Path) -> Path:
    return render_dir / MANIFEST


def record_written(render_dir: Path, paths: list[Path]) -> None:
    """Note the files this daemon just wrote (name, size, mtime): clean-up removes only
    these, and `out` may only replace these. Appended, so daemons sharing a folder do not
    lose each other's lines."""
    lines = []
    for path in paths:
        st = path.lstat()
        lines.append(
            json.dumps({"name": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
        )
    fd = os.open(_manifest(render_dir), os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def written_by_drumgrid(render_dir: Path) -> dict[str, os.stat_result]:
    """name -> stat of each file in the folder that the manifest says drumgrid wrote and that
    is still as written (same size and mtime, a regular file, not a link): a file a user
    replaced or touched since is theirs again."""
    try:
        text = _manifest(render_dir).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    ours: dict[str, os.stat_result] = {}
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            name, size, mtime_ns = entry["name"], int(entry["size"]), int(entry["mtime_ns"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn line (a daemon killed mid-write) names nothing
        if not isinstance(name, str) or os.path.basename(name) != name or name in (".", ".."):
            continue
        try:
            st = (render_dir / name).lstat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size == size and st.st_mtime_ns == mtime_ns:
            ours[name] = st
    return ours


def check_not_users(render_dir: Path, paths: list[Path]) -> None:
    """Refuse to replace a file in the render folder that drumgrid did not write."""
    if not any(os.path.lexists(p) for p in paths):
        return
    ours = written_by_drumgrid(render_dir)  # then look again: clean-up may have removed one
    for path in paths:
        if path.name not in ours and os.path.lexists(path):
            raise UserError(
                f"{path.name} exists in the render folder and drumgrid did not write it; "
                "choose another out name (or another --render-dir)"
            )


def clean_renders(
    render_dir: Path, max_bytes: int, max_age_s: float, keep: Collection[Path] = frozenset()
) -> int:
    """Delete renders drumgrid wrote that are older than max_age_s, then the oldest until
    they total at most max_bytes, never those in `keep`; nothing else in the folder is
    touched. The manifest keeps the survivors. Returns how many files were removed."""
    now = time.time()
    ours = written_by_drumgrid(render_dir)
    renders = sorted((st.st_mtime, st.st_size, name) for name, st in ours.items())
    keep_names = {p.name for p in keep}
    total = sum(size for _, size, _ in renders)
    removed: set[str] = set()
    for mtime, size, name in renders:
        expired = now - mtime > max_age_s or total > max_bytes
        if name not in keep_names and expired and _unlink(render_dir / name):
            removed.add(name)
            total -= size
    if removed:
        _rewrite_manifest(render_dir, {n: st for n, st in ours.items() if n not in removed})
    return len(removed)


def _rewrite_manifest(render_dir: Path, ours: dict[str, os.stat_result]) -> None:
    tmp = render_dir / f"{MANIFEST}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    lines = "".join(
        json.dumps({"name": n, "size": st.st_size, "mtime_ns": st.st_mtime_ns}) + "\n"
        for n, st in ours.items()
    )
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(lines)
        os.replace(tmp, _manifest(render_dir))
    except OSError as exc:
        log.warning("render folder %s: manifest not rewritten: %s", render_dir, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()


def remove_stale_temps(render_dir: Path) -> int:
    """Temp files of drumgrid processes that are gone (killed mid-write), removed at start."""
    removed = 0
    for entry in os.scandir(render_dir):
        match = TEMP_NAME.fullmatch(entry.name)
        if match and entry.is_file(follow_symlinks=False) and not _alive(int(match["pid"])):
            removed += _unlink(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except OSError as exc:
        log.info("could not remove old render %s: %s", path, exc)
        return 0
