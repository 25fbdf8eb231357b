"""Render the Groove MIDI Dataset through drum kits into an E-GMD-shaped corpus.

Layout: OUT/drummerN/sessionM/<GMD stem>_<kit>.midi + .wav (or .flac) per (performance, kit), one
CSV with E-GMD's columns (kit_name filled, split from GMD), the GMD licence and attribution
(with each kit's licence), and kits.json recording how the audio was made. Every file is
written to a temporary name and renamed, so an interrupted run resumes by skipping the audio
that exists. Output depends only on the inputs (no reverb, no dither, fixed gain), so reruns
give identical files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import soundfile as sf

from drumgrid.server.errors import UserError
from drumgrid.training.fluidsynth import GAIN, HOLD_S, Kit
from drumgrid.training.kits import records
from drumgrid.training.kits.base import KitRenderer, KitSource
from drumgrid.training.kits.mix import MixedKit
from drumgrid.training.kits.sfizz import GAIN as SFIZZ_GAIN
from drumgrid.training.kits.sfizz import SAMPLE_QUALITY as SFIZZ_QUALITY
from drumgrid.training.kits.soundfont import soundfont_kit

CORPUS_CSV = "drumgrid-corpus.csv"
AUDIO_FORMATS = {"wav": "WAV", "flac": "FLAC"}  # file suffix -> soundfile format, PCM 16 bit
# FLAC holds a rendered kit in about 45% of the WAV's bytes; a pair counts as rendered when
# its audio exists in either, so a corpus can grow in FLAC beside the WAVs it started with.
EGMD_COLUMNS = (
    "drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
    "duration", "split", "midi_filename", "audio_filename", "kit_name",
)  # fmt: skip
GMD_COLUMNS = (
    "drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
    "midi_filename", "split",
)  # fmt: skip
TAIL_S = 1.0  # audio runs this long past the MIDI's end so the last decays are kept
GMD_SOURCE = """\
The MIDI performances in this corpus come from the Groove MIDI Dataset (GMD) v1.0.0 by
Jon Gillick, Adam Roberts, Jesse Engel, Douglas Eck and David Bamman, "Learning to Groove
with Inverse Sequence Transformations", ICML 2019 (https://magenta.tensorflow.org/datasets/groove),
licensed under the Creative Commons Attribution 4.0 International License (LICENSE).
"""
ATTRIBUTION = """# Attribution

{source}
The audio is derived from those performances: drumgrid rendered each MIDI file through the
kits listed below and in kits.json ({engines}). Keep this attribution wherever the corpus
or anything derived from it (token caches, checkpoints) is shipped.

## Kits

{kits}
"""


@dataclass(frozen=True)
class Job:
    """One (performance, kit) pair to render."""

    row: dict[str, str]  # the GMD info.csv row
    kit: KitSource
    midi_in: Path
    midi_out: str  # relative to the corpus root
    audio_out: str
    sample_rate: int
    max_seconds: float | None


def read_gmd_index(gmd: Path) -> list[dict[str, str]]:
    """GMD's info.csv rows, checked for the columns the corpus needs."""
    path = gmd / "info.csv"
    if not path.is_file():
        raise UserError(f"--gmd {gmd}: no info.csv; point --gmd at the Groove MIDI Dataset folder")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in GMD_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(
                f"{path}: missing column(s) {', '.join(missing)}; GMD's info.csv has "
                f"{', '.join(GMD_COLUMNS)}, duration and audio_filename"
            )
        return list(reader)


def plan_jobs(
    gmd: Path,
    kits: Sequence[KitSource | Kit],
    sample_rate: int,
    splits: Iterable[str] = ("train", "validation"),
    beats_only: bool = False,
    limit: int | None = None,
    max_seconds: float | None = None,
    audio_format: str = "wav",
    per_kit: int | None = None,
) -> list[Job]:
    """Every selected GMD performance x every kit, in a fixed order (a FluidSynth Kit is taken
    as its SoundFont kit source); with `per_kit`, each kit renders its own draw of that many
    of the performances (fixed by the kit's name: kit mixes, many kits of a few files)."""
    if audio_format not in AUDIO_FORMATS:
        raise UserError(
            f"audio format {audio_format!r}: expected one of {', '.join(AUDIO_FORMATS)}"
        )
    sources = [soundfont_kit(k) if isinstance(k, Kit) else k for k in kits]
    names = [k.slug for k in sources]
    if len(set(names)) != len(names):
        raise UserError(f"kit names must differ once made file-safe, got {', '.join(names)}")
    wanted = set(splits)
    rows = [
        r
        for r in read_gmd_index(gmd)
        if r["split"] in wanted and (not beats_only or r["beat_type"] == "beat")
    ]
    rows.sort(key=lambda r: r["midi_filename"])
    if limit is not None:
        rows = rows[:limit]
    chosen = {k.slug: _draw(rows, k.slug, per_kit) for k in sources} if per_kit else None
    jobs = []
    for row in rows:
        stem = Path(row["midi_filename"]).with_suffix("")
        for kit in sources:
            if chosen is not None and row["midi_filename"] not in chosen[kit.slug]:
                continue
            base = f"{stem}_{kit.slug}"
            jobs.append(
                Job(row, kit, gmd / row["midi_filename"], f"{base}.midi", f"{base}.{audio_format}",
                    sample_rate, max_seconds)
            )  # fmt: skip
    return jobs


def _draw(rows: Sequence[dict[str, str]], kit: str, count: int) -> set[str]:
    """`count` of the rows' MIDI files, drawn by a hash of the kit's name and each file's: a
    kit's draw does not depend on the other kits (added rows may enter it)."""

    def rank(row: dict[str, str]) -> str:
        return hashlib.sha256(f"{kit}/{row['midi_filename']}".encode()).hexdigest()

    return {r["midi_filename"] for r in sorted(rows, key=rank)[:count]}


class _RenderRecordBase(TypedDict):
    audio: str  # the audio's path in the corpus (the job's, or the other format's found there)
    duration: float  # seconds
    rendered: bool  # False: the audio was there already


class RenderRecord(_RenderRecordBase, total=False):
    """What render_job reports for one pair; peak and seconds only for a pair it rendered."""

    peak: float  # before clipping to full scale
    seconds: float  # time spent


class KitsRecord(TypedDict):
    """kits.json: how the corpus's audio was made."""

    sample_rate: int | list[int]
    renderer: dict[str, Any]
    kits: dict[str, dict[str, Any]]  # kit name -> its Kit's fields


class CorpusSummary(TypedDict):
    """What build_corpus returns (and `drumgrid corpus` prints)."""

    files: int
    rendered: int  # in this run
    hours: float
    per_kit: dict[str, dict[str, float]]  # kit name -> files, hours
    clipped_files: int
    wall_s: float
    x_realtime: float | None  # None when nothing was rendered
    unmapped: dict[str, list[str]]  # kit name -> instruments no drum class reaches


# -- the worker side (one KitRenderer per kit per process) ----------------------------------

_RENDERERS: dict[tuple[KitSource, int], KitRenderer] = {}


def _renderer(kit: KitSource, sample_rate: int) -> KitRenderer:
    key = (kit, sample_rate)
    if key not in _RENDERERS:
        if isinstance(kit, MixedKit):  # its kits' renderers are shared by every mix
            _RENDERERS[key] = kit.open_with(lambda part: _renderer(part, sample_rate), sample_rate)
        else:
            _RENDERERS[key] = kit.open(sample_rate)
    return _RENDERERS[key]


def _existing_audio(out: Path, audio_out: str) -> str | None:
    """The pair's audio already in the corpus, in any format, relative to the root."""
    stem = Path(audio_out).with_suffix("")
    found = (f"{stem}.{suffix}" for suffix in AUDIO_FORMATS)
    return next((name for name in found if (out / name).is_file()), None)


def render_job(job: Job, out: Path) -> RenderRecord:
    """Render one pair unless its audio exists; returns its duration, peak and time spent."""
    existing = _existing_audio(out, job.audio_out)
    if existing is not None:
        duration = sf.info(str(out / existing)).duration
        return {"audio": existing, "duration": duration, "rendered": False}
    audio = out / job.audio_out
    from drumgrid.server.midi_io import read_midi, write_midi

    t0 = time.perf_counter()
    perf = read_midi(job.midi_in)
    midi = out / job.midi_out
    midi.parent.mkdir(parents=True, exist_ok=True)
    tmp_midi = midi.with_name(f".{midi.name}.tmp")
    if job.max_seconds is not None and perf.length_s > job.max_seconds:
        end_beat = float(perf.tempo_map.beat_at(job.max_seconds))
        kept = tuple(h for h in perf.hits if h.time_s < job.max_seconds)
        perf = replace(perf, hits=kept, length_beats=end_beat)
        write_midi(perf, tmp_midi)
        perf = read_midi(tmp_midi)  # render what the written file says, to the tick
    else:
        shutil.copyfile(job.midi_in, tmp_midi)
    duration = perf.length_s + TAIL_S
    hits = [(h.time_s, h.pitch, h.velocity) for h in perf.hits]
    wave = _renderer(job.kit, job.sample_rate).render(hits, duration)
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    os.replace(tmp_midi, midi)
    tmp_audio = audio.with_name(f".{audio.name}.tmp")
    file_format = AUDIO_FORMATS[audio.suffix.lstrip(".")]
    sf.write(
        str(tmp_audio), np.clip(wave, -1.0, 1.0), job.sample_rate, subtype="PCM_16",
        format=file_format,
    )  # fmt: skip
    os.replace(tmp_audio, audio)
    return {
        "audio": job.audio_out,
        "duration": wave.shape[0] / job.sample_rate,
        "rendered": True,
        "peak": peak,
        "seconds": time.perf_counter() - t0,
    }


def _render_star(args: tuple[Job, Path]) -> RenderRecord:
    return render_job(*args)


# -- the driver ----------------------------------------------------------------------------


def build_corpus(
    jobs: Sequence[Job],
    out: Path,
    gmd: Path,
    workers: int | None = None,
    progress: bool = True,
) -> CorpusSummary:
    """Render every job (skipping finished ones), then write the CSV, licence, attribution
    and kits.json. Returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    kits = _check_kits_file(out, jobs)
    workers = workers or os.cpu_count() or 1
    results: dict[str, RenderRecord] = {}
    t0 = time.perf_counter()
    # Grouped by kit so each process mostly reuses one loaded SoundFont.
    ordered = sorted(jobs, key=lambda j: (j.kit.slug, j.audio_out))
    work = [(j, out) for j in ordered]
    from tqdm import tqdm

    bar = tqdm(total=len(work), desc="render", unit="file", disable=not progress)
    if workers <= 1 or len(work) <= 1:
        for item in work:
            results[item[0].audio_out] = _render_star(item)
            bar.update()
    else:
        # spawn, not fork: the parent may hold torch's or FluidSynth's threads, and a forked
        # child inheriting their locks can hang.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            chunk = max(1, len(work) // (workers * 8))
            for item, r in zip(work, pool.map(_render_star, work, chunksize=chunk), strict=True):
                results[item[0].audio_out] = r
                bar.update()
    bar.close()
    wall = time.perf_counter() - t0
    _write_csv(out, jobs, results)
    _write_attribution(out, gmd, kits)
    return _summary(jobs, results, wall)


def _write_csv(out: Path, jobs: Sequence[Job], results: dict[str, RenderRecord]) -> None:
    rows = []
    for j in sorted(jobs, key=lambda j: j.audio_out):
        r = j.row
        rows.append(
            {
                "drummer": r["drummer"], "session": r["session"], "id": r["id"],
                "style": r["style"], "bpm": r["bpm"], "beat_type": r["beat_type"],
                "time_signature": r["time_signature"],
                "duration": f"{float(results[j.audio_out]['duration']):.6f}",
                "split": r["split"], "midi_filename": j.midi_out,
                "audio_filename": results[j.audio_out]["audio"], "kit_name": j.kit.name,
            }
        )  # fmt: skip
    path = out / CORPUS_CSV
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=EGMD_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _write_attribution(out: Path, gmd: Path, kits: dict[str, dict[str, object]]) -> None:
    """LICENSE and ATTRIBUTION.md: GMD's, or those of a GMD-shaped source folder that says
    where its MIDI comes from in its own SOURCE.md and LICENSE (training/ring_outs.py)."""
    licence, source = gmd / "LICENSE", gmd / "SOURCE.md"
    if licence.is_file():
        shutil.copyfile(licence, out / "LICENSE")
    else:
        (out / "LICENSE").write_text(
            "Creative Commons Attribution 4.0 International "
            "(https://creativecommons.org/licenses/by/4.0/)\n"
        )
    text = ATTRIBUTION.format(
        source=source.read_text() if source.is_file() else GMD_SOURCE,
        engines=records.engines_phrase(kits),
        kits="\n".join(records.attribution_lines(kits)),
    )
    (out / "ATTRIBUTION.md").write_text(text)


def _kits_record(jobs: Sequence[Job]) -> KitsRecord:
    kits = {j.kit.name: j.kit for j in jobs}
    rates = {j.sample_rate for j in jobs}
    renderer = {"engine": "fluidsynth", "gain": GAIN, "hold_s": HOLD_S, "reverb": False,
                "chorus": False, "tail_s": TAIL_S, "channels": "mono"}  # fmt: skip
    if any(k.source != "soundfont" for k in kits.values()):
        renderer["sfizz_gain"] = SFIZZ_GAIN  # SFZ and Hydrogen kits (kits.sfizz)
        renderer["sfizz_quality"] = SFIZZ_QUALITY
    return {
        "sample_rate": rates.pop() if len(rates) == 1 else sorted(rates),
        "renderer": renderer,
        "kits": {name: k.record() for name, k in sorted(kits.items())},
    }


def _check_kits_file(out: Path, jobs: Sequence[Job]) -> dict[str, dict[str, object]]:
    """A corpus holds one sample rate and one definition per kit name; resuming with other
    settings would mix two renderings under one name. Returns every kit kits.json holds."""
    record = _kits_record(jobs)
    path = out / "kits.json"
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("sample_rate") != record["sample_rate"]:
            raise UserError(
                f"{out} was rendered at {old.get('sample_rate')} Hz, this run asks for "
                f"{record['sample_rate']} Hz; use another --out or the same --sample-rate"
            )
        for name, kit in record["kits"].items():
            before = old.get("kits", {}).get(name)
            if before is not None and not records.same_rendering(before, kit):
                raise UserError(
                    f"{out}: kit {name!r} was rendered from {records.origin(before)}; "
                    "give this kit another name or --out"
                )
        record["kits"] = {**old.get("kits", {}), **record["kits"]}
    tmp = path.with_name(".kits.json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    os.replace(tmp, path)
    return record["kits"]


def _summary(jobs: Sequence[Job], results: dict[str, RenderRecord], wall: float) -> CorpusSummary:
    per_kit: dict[str, dict[str, float]] = {}
    rendered_s = 0.0
    clipped = 0
    for j in jobs:
        r = results[j.audio_out]
        k = per_kit.setdefault(j.kit.name, {"files": 0, "hours": 0.0})
        k["files"] += 1
        k["hours"] += float(r["duration"]) / 3600
        if r.get("rendered"):
            rendered_s += float(r["duration"])
            clipped += float(r.get("peak", 0.0)) > 1.0
    kits = {j.kit.name: j.kit.record() for j in jobs}
    return {
        "files": len(jobs),
        "rendered": sum(1 for r in results.values() if r.get("rendered")),
        "hours": sum(k["hours"] for k in per_kit.values()),
        "per_kit": per_kit,
        "clipped_files": clipped,
        "wall_s": wall,
        "x_realtime": rendered_s / wall if wall > 0 and rendered_s else None,
        # instruments of sample kits that no drum class reaches, by kit
        "unmapped": {name: r["unmapped"] for name, r in sorted(kits.items()) if r.get("unmapped")},
    }
