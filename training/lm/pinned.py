"""Which entries of each token cache a run trains on, kept in the run folder: `drumgrid
tokenize` rewrites a cache as its corpus grows (a corpus renders for hours while a model
trains on its first part), and a resumed run must read the windows it began with."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from drumgrid.training.tokens import TokenCache

ENTRIES_USED = "entries_used.json"


class PinnedCaches:
    """Opens a run's caches: a new run records their entries, a resumed one reads only those
    (a cache that lost one is refused; entries added since are left out)."""

    def __init__(self, out: Path, resuming: bool) -> None:
        self.path = out / ENTRIES_USED
        self.used: dict[str, list[str]] = {}
        if resuming and self.path.is_file():
            self.used = json.loads(self.path.read_text(encoding="utf-8"))
        self._changed = False

    def open(self, role: str, root: str | Path, **check: Any) -> TokenCache:
        """`role` names the cache's part in the run (tokens, extra:PATH, prompt_shots);
        `check`: TokenCache.open's codec arguments."""
        cache = TokenCache.open(root, **check)
        if role in self.used:
            return cache.subset(self.used[role])
        self.used[role] = [e.tokens for e in cache]
        self._changed = True
        return cache

    def write(self) -> None:
        if not self._changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.used), encoding="utf-8")
        os.replace(tmp, self.path)
        self._changed = False
