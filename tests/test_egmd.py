"""The E-GMD index on a small E-GMD-shaped tree built here."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import egmd_row, make_midi, write_egmd_csv

from drumgrid.server.errors import UserError
from drumgrid.training.egmd import EGMDIndex

# (split, beat type, bpm, seconds) of each kit's three files
FILES = [("train", "beat", 120, 8.0), ("train", "fill", 100, 1.5), ("validation", "beat", 90, 10.0)]


def build_tree(root: Path) -> Path:
    """Two kits of three files each, under E-GMD's own CSV name; the WAVs are stubs (the
    index never opens them)."""
    rows = []
    for kit in ("Acoustic Kit", "Jazz Kit"):
        for number, (split, beat_type, bpm, duration) in enumerate(FILES, start=1):
            row = egmd_row(number, kit, split, bpm, duration, beat_type=beat_type)
            (root / row["midi_filename"]).parent.mkdir(parents=True, exist_ok=True)
            make_midi(root / row["midi_filename"], [(0, 36, 100, 60)])
            (root / row["audio_filename"]).write_bytes(b"RIFF")
            rows.append(row)
    return write_egmd_csv(root, rows, "e-gmd-v1.0.0.csv")


def test_read_filter_and_keys(tmp_path: Path) -> None:
    build_tree(tmp_path)
    index = EGMDIndex.read(tmp_path)
    assert len(index) == 6  # ids repeat across kits, file names do not
    assert len({row.id for row in index}) == 3
    assert index.kits == ["Acoustic Kit", "Jazz Kit"]
    assert len(index.select(split="train")) == 4
    assert len(index.select(split="train", kits=["Jazz Kit"], beat_type="beat")) == 1
    with pytest.raises(UserError, match="unknown kit"):
        index.select(kits=["Nope"])
    with pytest.raises(UserError, match="unknown split"):
        index.select(split="dev")
    assert index.missing() == []


def test_missing_files_are_reported(tmp_path: Path) -> None:
    build_tree(tmp_path)
    index = EGMDIndex.read(tmp_path)
    gone = next(iter(index))
    index.audio_path(gone).unlink()
    report = index.missing()
    assert [(row.key, paths) for row, paths in report] == [(gone.key, [index.audio_path(gone)])]
    assert len(index.without_missing()) == 5


def test_windows(tmp_path: Path) -> None:
    build_tree(tmp_path)
    index = EGMDIndex.read(tmp_path).select(kits=["Acoustic Kit"])
    by_bpm = {w.row.bpm: [] for w in index.windows(4, 2)}
    for w in index.windows(4, 2):
        by_bpm[w.row.bpm].append(w)
    # 120 bpm x 8 s = 16 beats: windows at 0, 2, ..., 12.
    assert [w.start_beat for w in by_bpm[120]] == [0, 2, 4, 6, 8, 10, 12]
    assert by_bpm[120][1].start_s == 1.0 and by_bpm[120][1].end_s == 3.0
    # 100 bpm x 1.5 s = 2.5 beats: shorter than a window, one window over all of it.
    assert [(w.start_beat, w.n_beats) for w in by_bpm[100]] == [(0.0, 2.5)]
    assert len(by_bpm[90]) == 6  # 15 beats, hop 2: 0, 2, ..., 10
    with pytest.raises(UserError):
        index.windows(0)


def test_bad_csvs(tmp_path: Path) -> None:
    csv_path = build_tree(tmp_path)
    text = csv_path.read_text()
    csv_path.write_text(text.replace(",kit_name", ""))
    with pytest.raises(UserError, match=r"missing column.*kit_name"):
        EGMDIndex.read(tmp_path)
    csv_path.write_text(text.replace(",120,", ",fast,", 1))
    with pytest.raises(UserError, match="line 2: bpm 'fast'"):
        EGMDIndex.read(tmp_path)
    with pytest.raises(UserError, match="no such folder"):
        EGMDIndex.read(tmp_path / "nope")
