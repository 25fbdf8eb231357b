"""`drumgrid eval`'s pipeline: open the model, cache and codec, cut the windows, render every
row of them, score each window, pool, and write metrics.json, report.md and plots/.

Rows, each rendered for the same windows (the trainer's fixed validation windows: the
split's files cut into back-to-back windows of the model's `window_beats`, thinned evenly):

- reference: the corpus's own audio of the window, when the files are there. Scored only
  against the grid; it is the onset detector's ceiling (a perfect render scores this).
- ceiling: the codec's decoding of the true tokens: the best any token model can do.
- baseline: with `--baseline`, another model of the same codec and kits, one pass.
- parallel: every token masked, one pass, argmax (the seed paper's method).
- iterative: coarse-to-fine confidence-based decoding (server/decoding.py).

Audio metrics (mel MAE, MR-STFT SC, envelope correlation, TTER, flux cosine, ViSQOL) compare
each row with the reference audio; without audio files in the corpus the ceiling stands in
as the reference (the report says which). Grid metrics compare each row with the MIDI. How
windows pool: pooling.py.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from drumgrid.server.errors import UserError
from drumgrid.training.evaluation.config import DEFAULT_CONFIG, EvalConfig
from drumgrid.training.evaluation.inputs import EvalInputs, open_inputs
from drumgrid.training.evaluation.plots import write_plots
from drumgrid.training.evaluation.pooling import per_kit, per_tempo, pooled, worst_windows
from drumgrid.training.evaluation.render import (
    KeptAudio,
    RenderedBatch,
    Renderer,
    RowAudio,
    keep_audio,
)
from drumgrid.training.evaluation.report import render_report
from drumgrid.training.evaluation.scores import (
    RowScores,
    WindowScores,
    audio_scores,
    grid_scores,
    token_scores,
)
from drumgrid.training.evaluation.windows import (
    CorpusAudio,
    EvalTrack,
    EvalWindow,
    load_eval_tracks,
    make_windows,
    plot_choice,
)
from drumgrid.training.lm.data import corpus_root


def evaluate(
    model_dir: str | Path,
    tokens_dir: str | Path,
    out_dir: str | Path,
    cfg: EvalConfig = DEFAULT_CONFIG,
    codec_path: str | Path | None = None,
    corpus: str | Path | None = None,
    progress: bool = True,
    baseline: str | Path | None = None,
) -> dict[str, Any]:
    """Render and score every window for every row; write metrics.json, report.md, plots.
    `baseline`: another model folder of the same codec and kits, decoded in one pass as the
    row "baseline" on the same windows (before/after tables and plots). Returns the document
    metrics.json is written from."""
    cfg.check()
    started = time.perf_counter()
    inputs = open_inputs(
        Path(model_dir),
        Path(tokens_dir),
        Path(codec_path) if codec_path else None,
        cfg.device,
        Path(baseline) if baseline is not None else None,
    )
    root = corpus_root(inputs.cache, corpus)
    tracks, skipped_kits = load_eval_tracks(inputs.cache, inputs.info, cfg.split, root)
    windows, n_empty = make_windows(
        tracks, inputs.info.window_beats, cfg.max_windows, inputs.info.config.max_frames
    )
    if not windows:
        raise UserError(f"{tokens_dir}: no window of split {cfg.split!r} has a grid onset")
    has_audio = all(t.audio_path is not None for t in tracks)
    rows = (
        (["reference"] if has_audio else [])
        + ["ceiling"]
        + (["baseline"] if inputs.baseline is not None else [])
        + list(cfg.decodings)
    )
    renderer = Renderer(inputs, tracks, cfg, rows)
    corpus_audio = CorpusAudio(inputs.codec)
    plot_ids = set(plot_choice(windows, tracks, cfg.n_plots))
    scores, kept = _score_windows(renderer, corpus_audio, windows, plot_ids, progress)
    worst = worst_windows(scores, cfg.decodings[0] if cfg.decodings else "", cfg.n_worst)
    keep_audio(renderer, corpus_audio, [windows[i] for i in worst], kept)

    result = _result(
        inputs, cfg, windows, scores, rows, model=str(model_dir), tokens=str(tokens_dir),
        skipped_kits=skipped_kits, n_empty=n_empty, decode_seconds=renderer.decode_seconds,
    )  # fmt: skip
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result["worst_windows"] = worst
    plots = write_plots(
        out / "plots", windows, tracks, scores, kept, result["rows"], rows,
        inputs.codec.sample_rate, inputs.cache.frame_rate, plot_ids, worst,
    )  # fmt: skip
    result["plots"] = [str(p.relative_to(out)) for p in plots]
    result["seconds"] = round(time.perf_counter() - started, 2)
    _write_json(out / "metrics.json", result)
    (out / "report.md").write_text(render_report(result))
    return result


def _score_windows(
    renderer: Renderer,
    corpus: CorpusAudio,
    windows: list[EvalWindow],
    plot_ids: set[int],
    progress: bool,
) -> tuple[list[WindowScores], KeptAudio]:
    """Every window rendered (in batches) and scored for every row, and the audio of the
    `plot_ids` windows kept for the plots."""
    from tqdm import tqdm

    tracks, rows, codec = renderer.tracks, renderer.rows, renderer.inputs.codec
    frame_rate = renderer.inputs.cache.frame_rate
    has_audio = "reference" in rows
    scores = [_window_record(w, tracks[w.track], frame_rate) for w in windows]
    kept: KeptAudio = {}
    bar = tqdm(
        total=len(windows) * len(rows), desc="eval render", unit="window", disable=not progress
    )
    try:
        for b0 in range(0, len(windows), renderer.cfg.batch_size):
            batch = windows[b0 : b0 + renderer.cfg.batch_size]
            rendered = renderer.render(batch)
            for j, w in enumerate(batch):
                ref = corpus.window(tracks[w.track], w)
                audio_of = rendered.audio(j, w, ref, codec.hop_length)
                # What the audio metrics compare with: the corpus audio, else the ceiling.
                compare = ref if has_audio else audio_of["ceiling"]
                for row in rows:
                    audio = audio_of[row]
                    assert audio is not None
                    trivial = row == "reference" or (row == "ceiling" and not has_audio)
                    record, onsets = _score_row(
                        row, audio, None if trivial else compare, w, rendered, j, renderer.cfg
                    )
                    scores[w.index].rows[row] = record
                    if w.index in plot_ids:
                        kept.setdefault(w.index, {})[row] = RowAudio(np.asarray(audio), onsets)
                    bar.update(1)
    finally:
        bar.close()
    return scores, kept


def _score_row(
    row: str,
    audio: np.ndarray,
    reference: np.ndarray | None,
    window: EvalWindow,
    rendered: RenderedBatch,
    j: int,
    cfg: EvalConfig,
) -> tuple[RowScores, np.ndarray]:
    """One row's scores for window j of the batch (against `reference` unless None; tokens
    for the rows a model decoded), and the onsets detected in its audio."""
    sr = rendered.sample_rate
    grid, onsets = grid_scores(audio, window, sr)
    heard = audio_scores(reference, audio, sr, cfg.visqol) if reference is not None else None
    tokens = None
    if row in rendered.tokens and row != "ceiling":
        tokens = token_scores(
            row, rendered.tokens[row][j], rendered.true[j], rendered.valid[j], rendered.logits[j]
        )
    return RowScores(grid, heard, tokens), onsets


def _window_record(w: EvalWindow, track: EvalTrack, frame_rate: float) -> WindowScores:
    return WindowScores(
        window=w.index,
        file=track.entry.audio_filename,
        kit=track.entry.kit,
        bpm=track.entry.bpm,
        start_s=round(w.f0 / frame_rate, 4),
        end_s=round((w.f0 + w.n) / frame_rate, 4),
        n_frames=w.n,
    )


def _result(
    inputs: EvalInputs,
    cfg: EvalConfig,
    windows: list[EvalWindow],
    scores: list[WindowScores],
    rows: list[str],
    *,
    model: str,
    tokens: str,
    skipped_kits: list[str],
    n_empty: int,
    decode_seconds: dict[str, float],
) -> dict[str, Any]:
    """metrics.json's document, in its key order, before plots and timing are known."""
    info, codec = inputs.info, inputs.codec
    has_audio = "reference" in rows
    return {
        "model": model,
        "tokens": tokens,
        "split": cfg.split,
        "codec": {
            "id": info.codec_id,
            "config_hash": info.codec_config_hash,
            "sample_rate": codec.sample_rate,
            "frame_rate": codec.frame_rate,
        },
        "config": asdict(cfg),
        "reference": "corpus audio" if has_audio else "codec reconstruction (ceiling)",
        "n_windows": len(windows),
        "n_files": len({w.track for w in windows}),
        "empty_windows_dropped": n_empty,
        "window_beats": info.window_beats,
        "kits": sorted({s.kit for s in scores}),
        "skipped_kits": skipped_kits,
        "frequency_baseline_acc": info.card.get("validation", {}).get("baseline_acc"),
        "decode_seconds": {d: round(t, 3) for d, t in decode_seconds.items()},
        "audio_seconds": round(sum(w.n for w in windows) * codec.hop_length / codec.sample_rate, 3),
        "rows": pooled(scores, rows),
        "per_kit": per_kit(scores, rows),
        "per_tempo": per_tempo(scores, rows),
        "windows": [s.to_json() for s in scores],
        "seconds": 0.0,
    }


def _clean(x: Any) -> Any:
    """NaN / inf -> None, numpy scalars -> Python: strict JSON."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_clean(data), indent=1, allow_nan=False))
    tmp.replace(path)
