"""Which files a training run reads, kept in the run folder: a corpus (and the token cache
made from it) grows while a model trains on its first part, and a resumed run must read the
data it began with, in the same order, or it is not the same run."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from drumgrid.server.errors import UserError
from drumgrid.training.tokens import TokenCache

DATA_USED = "data_used.json"
T = TypeVar("T")


class PinnedData:
    """A new run records the files of each of its data sets; a resumed one reads only those
    (one that is gone is refused; files added since are left out). Under torchrun every
    process takes rank 0's list."""

    def __init__(self, out: Path, resuming: bool) -> None:
        self.path = out / DATA_USED
        self.used: dict[str, list[str]] = {}
        self.resuming = resuming
        self.unrecorded: list[str] = []  # roles a resumed run had no record of
        if resuming and self.path.is_file():
            self.used = json.loads(self.path.read_text(encoding="utf-8"))
        self._changed = False
        self.left_out: dict[str, int] = {}  # role -> files there now that the run never read

    def pick(self, role: str, items: list[T], key: Callable[[T], str], where: Path) -> list[T]:
        """`items` as the run first saw them; `role` names the data set's part in the run,
        `key` a file's name in it, `where` the folder the error names."""
        keys = self.used.get(role)
        if keys is None:
            keys = _from_rank0([key(item) for item in items])
            if self.resuming:
                self.unrecorded.append(role)
            self.used[role] = keys
            self._changed = True
        by_key = {key(item): item for item in items}
        missing = [k for k in keys if k not in by_key]
        if missing:
            raise UserError(
                f"{where}: {len(missing)} of the {len(keys)} files this run trained on are no "
                f"longer there (first: {missing[0]}); restore them, or start a new --out"
            )
        if len(by_key) > len(keys):
            self.left_out[role] = len(by_key) - len(keys)
        return [by_key[k] for k in keys]

    def left_out_note(self) -> str | None:
        """What a resumed run leaves out, or could not check, for the user who changed its
        data meanwhile."""
        notes = []
        if self.left_out:
            parts = ", ".join(f"{n} new in {role}" for role, n in self.left_out.items())
            notes.append(f"the run reads the files it began with ({parts} left out); to "
                         "train on them, start a new --out with --init from this run's "
                         "model")  # fmt: skip
        if self.unrecorded:
            roles = ", ".join(self.unrecorded)
            notes.append(f"the run has no record of the files of {roles} (begun before "
                         "drumgrid kept one, or new to it): it reads them as they are now, "
                         "exact only if they have not changed since it began")  # fmt: skip
        return "; ".join(notes) or None

    def open_cache(self, role: str, root: str | Path, **check: Any) -> TokenCache:
        """A token cache as the run first saw it; `check`: TokenCache.open's codec arguments."""
        cache = TokenCache.open(root, **check)
        entries = self.pick(role, cache.entries, lambda e: e.tokens, cache.root)
        return TokenCache(cache.root, cache.meta, entries)

    def write(self) -> None:
        """Rank 0 writes the record (the others hold the same lists)."""
        if not self._changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.used), encoding="utf-8")
        os.replace(tmp, self.path)
        self._changed = False


def _from_rank0(keys: list[str]) -> list[str]:
    """Under torchrun, rank 0's list on every process (each lists the files itself, and a
    growing corpus may differ between their listings)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return keys
    box: list[list[str] | None] = [keys if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    assert box[0] is not None
    return box[0]
