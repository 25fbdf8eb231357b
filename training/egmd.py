"""An index over an E-GMD-shaped corpus: the E-GMD CSV (or drumgrid's rendered corpus, which
writes the same layout), its rows keyed by MIDI file name, filters, and beat windows.

Ids repeat across E-GMD's kits (one performance, 43 recordings), so the MIDI file name is the
key. Missing files are found up front by `missing()`, not halfway through a training run.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drumgrid.server.errors import UserError

EGMD_COLUMNS = (
    "drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
    "duration", "split", "midi_filename", "audio_filename", "kit_name",
)  # fmt: skip
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class EGMDRow:
    drummer: str
    session: str
    id: str
    style: str
    bpm: float
    beat_type: str  # "beat" or "fill"
    time_signature: str  # "4-4"
    duration: float  # seconds
    split: str
    midi_filename: str  # relative to the corpus root
    audio_filename: str
    kit_name: str

    @property
    def key(self) -> str:
        return self.midi_filename

    @property
    def length_beats(self) -> float:
        return self.duration * self.bpm / 60.0


@dataclass(frozen=True)
class Window:
    """A stretch of `n_beats` quarter notes of one row, at the row's (constant) CSV tempo."""

    row: EGMDRow
    start_beat: float
    n_beats: float

    @property
    def start_s(self) -> float:
        return self.start_beat * 60.0 / self.row.bpm

    @property
    def end_s(self) -> float:
        return (self.start_beat + self.n_beats) * 60.0 / self.row.bpm


def _parse_row(raw: dict[str, str], line: int, csv_path: Path) -> EGMDRow:
    # EGMDRow's keyword arguments: the CSV's text, bpm and duration then parsed to floats
    values: dict[str, Any] = {name: (raw.get(name) or "").strip() for name in EGMD_COLUMNS}
    for name in ("bpm", "duration"):
        try:
            number = float(values[name])
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number > 0):
            raise UserError(
                f"{csv_path}, line {line}: {name} {values[name]!r} is not a positive number"
            )
        values[name] = number
    if not values["midi_filename"]:
        raise UserError(f"{csv_path}, line {line}: midi_filename is empty")
    return EGMDRow(**values)


class EGMDIndex:
    """Rows of an E-GMD CSV under a root folder; immutable, filters return new indexes."""

    def __init__(self, root: Path, rows: Iterable[EGMDRow]) -> None:
        self.root = Path(root)
        self.rows: dict[str, EGMDRow] = {}
        for row in rows:
            if row.key in self.rows:
                raise UserError(f"{row.key} appears twice in the index; file names must be unique")
            self.rows[row.key] = row

    @classmethod
    def read(cls, root: str | Path, csv_path: str | Path | None = None) -> EGMDIndex:
        """Read `csv_path` (default: the one .csv file in `root`)."""
        root = Path(root)
        if not root.is_dir():
            raise UserError(f"{root}: no such folder; expected an E-GMD-shaped corpus root")
        if csv_path is None:
            found = sorted(root.glob("*.csv"))
            if len(found) != 1:
                names = ", ".join(p.name for p in found) or "none"
                raise UserError(
                    f"{root}: expected one .csv file (found {names}); pass the CSV path"
                )
            csv_path = found[0]
        csv_path = Path(csv_path)
        if not csv_path.is_file():
            raise UserError(f"{csv_path}: no such CSV file")
        with csv_path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in EGMD_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise UserError(
                    f"{csv_path}: missing column(s) {', '.join(missing)}; an E-GMD CSV has "
                    f"{', '.join(EGMD_COLUMNS)}"
                )
            rows = [_parse_row(raw, line, csv_path) for line, raw in enumerate(reader, start=2)]
        return cls(root, rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[EGMDRow]:
        return iter(self.rows.values())

    def __getitem__(self, key: str) -> EGMDRow:
        return self.rows[key]

    @property
    def kits(self) -> list[str]:
        return sorted({row.kit_name for row in self})

    def select(
        self,
        split: str | Iterable[str] | None = None,
        kits: Iterable[str] | None = None,
        beat_type: str | None = None,
    ) -> EGMDIndex:
        """Rows matching every given filter; an unknown split or kit is an error, not empty."""
        rows = list(self)
        if split is not None:
            splits = {split} if isinstance(split, str) else set(split)
            unknown = splits - set(SPLITS)
            if unknown:
                raise UserError(f"unknown split(s) {sorted(unknown)}; expected {', '.join(SPLITS)}")
            rows = [r for r in rows if r.split in splits]
        if kits is not None:
            wanted = set(kits)
            unknown = wanted - set(self.kits)
            if unknown:
                raise UserError(
                    f"unknown kit(s) {sorted(unknown)}; this corpus has {', '.join(self.kits)}"
                )
            rows = [r for r in rows if r.kit_name in wanted]
        if beat_type is not None:
            if beat_type not in ("beat", "fill"):
                raise UserError(f"beat type {beat_type!r}: expected 'beat' or 'fill'")
            rows = [r for r in rows if r.beat_type == beat_type]
        return EGMDIndex(self.root, rows)

    def midi_path(self, row: EGMDRow) -> Path:
        return self.root / row.midi_filename

    def audio_path(self, row: EGMDRow) -> Path:
        return self.root / row.audio_filename

    def missing(self) -> list[tuple[EGMDRow, list[Path]]]:
        """Rows whose MIDI or audio file is not on disk, with the paths that are missing."""
        report = []
        for row in self:
            paths = [p for p in (self.midi_path(row), self.audio_path(row)) if not p.is_file()]
            if paths:
                report.append((row, paths))
        return report

    def without_missing(self) -> EGMDIndex:
        gone = {row.key for row, _ in self.missing()}
        return EGMDIndex(self.root, (r for r in self if r.key not in gone))

    def windows(self, n_beats: float = 4.0, hop_beats: float | None = None) -> list[Window]:
        """Windows of `n_beats` every `hop_beats` (default: no overlap) that fit inside each
        row; a row shorter than one window gives one window over its whole length."""
        if n_beats <= 0:
            raise UserError(f"window length {n_beats} beats must be positive")
        hop = n_beats if hop_beats is None else hop_beats
        if hop <= 0:
            raise UserError(f"window hop {hop} beats must be positive")
        out: list[Window] = []
        for row in self:
            total = row.length_beats
            if total < n_beats:
                out.append(Window(row, 0.0, total))
                continue
            count = math.floor((total - n_beats) / hop + 1e-9) + 1
            out.extend(Window(row, i * hop, n_beats) for i in range(count))
        return out
