"""Evaluation of a grid-to-tokens model on the windows of a token cache's split, with the
research's metrics (training/metrics/), so every number compares with the seed paper's
and every gap to a ceiling is visible.

Rows, each rendered for the same windows (the trainer's fixed validation windows: the
split's files cut into back-to-back windows of the model's `window_beats`, thinned evenly):

- reference: the corpus's own audio of the window, when the files are there. Scored only
  against the grid; it is the onset detector's ceiling (a perfect render scores this).
- ceiling: the codec's decoding of the true tokens: the best any token model can do.
- parallel: every token masked, one pass, argmax (the seed paper's method).
- iterative: coarse-to-fine confidence-based decoding (server/decoding.py).

Audio metrics (mel MAE, MR-STFT SC, envelope correlation, TTER, flux cosine) compare each
row with the reference audio; without audio files in the corpus the ceiling stands in as
the reference (the report says which). Grid metrics compare each row with the MIDI.

Pooling over windows: onset precision / recall / F1 and per-class recall pool the counts of
every window (a window with two hits weighs less than one with forty); timing errors pool
every matched pair; the velocity rank correlation pools the isolated hits of every window
per kit and class (a 4-beat window holds too few hits of one class to rank), then averages
the groups weighted by their hits;
the audio-to-audio metrics and token metrics are means over windows (tokens: over tokens).

Outputs under OUT: metrics.json, report.md, plots/*.png.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from drumgrid.server.codecs.base import Codec
from drumgrid.server.conditioning import frame_conditioning
from drumgrid.server.decoding import (
    DEFAULT_COARSE_STEPS,
    DEFAULT_TOP_K,
    DecodeOptions,
    coarse_to_fine_steps,
    decode,
)
from drumgrid.server.drums import CLASS_LABELS, N_CLASSES
from drumgrid.server.errors import UserError
from drumgrid.server.midi_io import read_midi
from drumgrid.server.model import DrumLM, ModelInfo, load_model
from drumgrid.server.performance import Performance
from drumgrid.training import metrics as M
from drumgrid.training.eval_plots import write_plots
from drumgrid.training.eval_report import render_report
from drumgrid.training.lm.data import Track, corpus_root, fixed_windows
from drumgrid.training.metrics import visqol_moslqo
from drumgrid.training.tokens import TokenCache, TokenEntry, read_audio

ROWS = ("reference", "ceiling", "parallel", "iterative")
# Tempo bands the report pools windows by (fast, busy grooves are where timbre suffers most)
TEMPO_BANDS = (  # [low, high): slow, mid (90-130 inclusive), fast
    ("< 90 bpm", 0.0, 90.0),
    ("90-130 bpm", 90.0, math.nextafter(130.0, math.inf)),
    ("> 130 bpm", math.nextafter(130.0, math.inf), math.inf),
)
AUDIO_METRICS = (
    "mel_mae_db",
    "spectral_convergence",
    "envelope_correlation",
    "tter_mae_db",
    "flux_cosine",
    "visqol",  # MOS-LQO, audio mode at 48 kHz (training/metrics/perceptual.py); None: not computed
)


@dataclass(frozen=True)
class EvalConfig:
    split: str = "validation"
    decodings: tuple[str, ...] = ("parallel", "iterative")
    max_windows: int = 32
    steps: int | tuple[int, ...] = DEFAULT_COARSE_STEPS  # iterative, as the engine reads it
    temperature: float = 1.0
    top_k: int = DEFAULT_TOP_K
    top_p: float = 1.0
    seed: int = 0  # window i decodes with seed + i
    batch_size: int = 8
    n_plots: int = 3  # windows spread over kits
    n_worst: int = 3  # and the model's worst windows (lowest ViSQOL, else highest mel MAE)
    device: str = "cpu"
    visqol: bool = True  # ~0.1 s per second of audio on a CPU core; off for quick runs

    def decode_options(self, method: str, n_codebooks: int) -> DecodeOptions:
        """The options the engine would render with, so the table scores what users hear."""
        if method == "parallel":
            return DecodeOptions(method="parallel")
        return DecodeOptions(
            method="iterative",
            steps=coarse_to_fine_steps(self.steps, n_codebooks),
            temperature=self.temperature,
            top_k=self.top_k,
            top_p=self.top_p,
            seed=self.seed,
        )


@dataclass
class EvalTrack:
    entry: TokenEntry
    track: Track
    performance: Performance
    audio_path: Path | None  # the corpus's audio, when it is there


@dataclass
class EvalWindow:
    index: int
    track: int  # index into the EvalTracks
    f0: int
    n: int  # frames
    grid_times: np.ndarray  # [H] seconds from the window's start
    grid_classes: np.ndarray  # [H]
    grid_velocities: np.ndarray  # [H] MIDI 1..127
    audio: dict[str, np.ndarray] = field(default_factory=dict)  # row -> wave (plots only)
    onsets: dict[str, np.ndarray] = field(default_factory=dict)  # row -> detected seconds


# -- loading ----------------------------------------------------------------------------------


def open_inputs(
    model_dir: Path, tokens_dir: Path, codec_path: Path | None, device: str
) -> tuple[DrumLM, ModelInfo, TokenCache, Codec]:
    """Model, cache and codec, refusing any pair that does not share one token space."""
    model, info = load_model(model_dir, device)
    cache = TokenCache.open(tokens_dir)
    if (cache.codec_id, str(cache.meta["config_hash"])) != (info.codec_id, info.codec_config_hash):
        raise UserError(
            f"{tokens_dir} holds tokens of codec {cache.codec_id} ({cache.meta['config_hash']}), "
            f"the model was trained on {info.codec_id} ({info.codec_config_hash}); "
            "evaluate on a cache made with the model's codec"
        )
    codec = cache.load_codec(codec_path, device)
    return model, info, cache, codec


def load_eval_tracks(
    cache: TokenCache, info: ModelInfo, split: str, root: Path
) -> tuple[list[EvalTrack], list[str]]:
    """The split's entries whose kit the model knows (and the names of the skipped kits)."""
    entries = cache.select(split=split)
    if not entries:
        splits = sorted({e.split for e in cache})
        raise UserError(f"{cache.root}: no entries of split {split!r} (it has {splits})")
    skipped = sorted({e.kit for e in entries if e.kit not in info.kits})
    out = []
    for e in entries:
        if e.kit not in info.kits:
            continue
        perf = read_midi(root / e.midi_filename)
        tokens = np.asarray(cache.tokens(e))
        kit = info.kit_index(e.kit)
        cond = frame_conditioning(
            perf, cache.frame_rate, 0, tokens.shape[1], kit=kit, features=info.features
        )
        track = Track(
            e.audio_filename, tokens, cond.features, kit, perf.tempo_map, cache.frame_rate
        )
        audio = root / e.audio_filename
        out.append(EvalTrack(e, track, perf, audio if audio.is_file() else None))
    if not out:
        raise UserError(
            f"{cache.root}: no {split} entries of the model's kits ({', '.join(info.kits)}); "
            f"the split has {', '.join(skipped)}"
        )
    return out, skipped


def make_windows(
    tracks: list[EvalTrack], window_beats: float, max_windows: int, max_frames: int
) -> tuple[list[EvalWindow], int]:
    """The trainer's window construction (every file cut into back-to-back windows of
    `window_beats`), less the windows without a single grid onset (a file's trailing
    silence: nothing to render, and every metric against silence is undefined), thinned
    evenly to `max_windows`. Returns (windows, how many empty ones were dropped)."""
    frame_rate = tracks[0].track.frame_rate
    candidates, dropped = [], 0
    for i, f0, f1 in fixed_windows([t.track for t in tracks], window_beats, 1 << 30):
        n = min(f1 - f0, max_frames)
        t0, t1 = f0 / frame_rate, (f0 + n) / frame_rate
        hits = [h for h in tracks[i].performance.hits if t0 <= h.time_s < t1]
        if hits:
            candidates.append((i, f0, n, t0, hits))
        else:
            dropped += 1
    if len(candidates) > max_windows:
        keep = np.linspace(0, len(candidates) - 1, num=max_windows).round().astype(int)
        candidates = [candidates[j] for j in keep]
    out = []
    for w, (i, f0, n, t0, hits) in enumerate(candidates):
        out.append(
            EvalWindow(
                w, i, f0, n,
                np.array([h.time_s - t0 for h in hits], np.float64),
                np.array([int(h.drum_class) for h in hits], np.int64),
                np.array([h.velocity for h in hits], np.int64),
            )
        )  # fmt: skip
    return out, dropped


# -- rendering and scoring --------------------------------------------------------------------


def reference_audio(track: EvalTrack, window: EvalWindow, codec: Codec) -> np.ndarray | None:
    if track.audio_path is None:
        return None
    wave = _read_cached(track.audio_path, codec.sample_rate)
    a, n = window.f0 * codec.hop_length, window.n * codec.hop_length
    seg = wave[a : a + n]
    return np.pad(seg, (0, n - len(seg))) if len(seg) < n else seg


_AUDIO_CACHE: dict[tuple[Path, int], np.ndarray] = {}


def _read_cached(path: Path, sample_rate: int) -> np.ndarray:
    """A file's audio, kept while its windows are scored (windows come in file order)."""
    key = (path, sample_rate)
    if key not in _AUDIO_CACHE:
        _AUDIO_CACHE.clear()
        _AUDIO_CACHE[key] = read_audio(path, sample_rate)
    return _AUDIO_CACHE[key]


def score_audio(
    audio: np.ndarray,
    reference: np.ndarray | None,
    window: EvalWindow,
    sr: int,
    visqol: bool = False,
) -> tuple[dict[str, Any], np.ndarray]:
    """One row's metrics for one window, and its detected (refined) onsets."""
    onsets = M.detect_onsets(audio, sr, refine=True)
    paper = M.paper_onset_score(window.grid_times, window.grid_velocities, onsets)
    classes = M.class_onset_recall(
        window.grid_times, window.grid_classes, window.grid_velocities, onsets, N_CLASSES
    )
    isolated = M.isolated_hits(window.grid_times)
    loudness = M.hit_loudness_db(audio, sr, window.grid_times[isolated])
    out: dict[str, Any] = {
        "onset_f1": paper.f1,
        "onset_precision": paper.precision,
        "onset_recall": paper.recall,
        "n_grid_onsets": paper.n_reference,
        "n_detected": paper.n_estimate,
        "n_matched": paper.n_matched,
        "n_quiet_detections": M.quiet_detections(window.grid_times, window.grid_velocities, onsets),
        "timing_errors_ms": [round(float(e), 3) for e in paper.signed_errors_ms],
        "class_hits": [c.n_hits for c in classes],
        "class_found": [c.n_found for c in classes],
        # [class, velocity, dB] of each isolated hit, pooled per kit and class by _aggregate
        "loudness_hits": [
            [int(c), int(v), round(float(db), 3)]
            for c, v, db in zip(
                window.grid_classes[isolated],
                window.grid_velocities[isolated],
                loudness,
                strict=True,
            )
        ],
    }
    if reference is not None:
        out.update(
            mel_mae_db=M.mel_mae_db(reference, audio, sr),
            spectral_convergence=M.spectral_convergence(reference, audio),
            envelope_correlation=M.envelope_correlation(reference, audio, sr),
            tter_mae_db=M.tter_mae_db(reference, audio, sr),
            flux_cosine=M.flux_cosine(reference, audio, sr),
        )
        if visqol:
            out["visqol"] = visqol_moslqo(reference, audio, sr)
    return out, onsets


def _batch(
    tracks: list[EvalTrack], windows: Sequence[EvalWindow]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """tokens [B, K, T], features [B, T, F], kit [B], pad_mask [B, T] of the windows."""
    T = max(w.n for w in windows)
    K, F = tracks[0].track.tokens.shape[0], tracks[0].track.features.shape[1]
    tokens = np.zeros((len(windows), K, T), np.int64)
    feats = np.zeros((len(windows), T, F), np.float32)
    pad = np.ones((len(windows), T), bool)
    kit = np.zeros(len(windows), np.int64)
    for b, w in enumerate(windows):
        tr = tracks[w.track].track
        tokens[b, :, : w.n] = tr.tokens[:, w.f0 : w.f0 + w.n]
        feats[b, : w.n] = tr.features[w.f0 : w.f0 + w.n]
        pad[b, : w.n] = False
        kit[b] = tr.kit
    return (
        torch.from_numpy(tokens),
        torch.from_numpy(feats),
        torch.from_numpy(kit),
        torch.from_numpy(pad),
    )


def evaluate(
    model_dir: str | Path,
    tokens_dir: str | Path,
    out_dir: str | Path,
    cfg: EvalConfig = EvalConfig(),
    codec_path: str | Path | None = None,
    corpus: str | Path | None = None,
    progress: bool = True,
    baseline: str | Path | None = None,
) -> dict[str, Any]:
    """Render and score every window for every row; write metrics.json, report.md, plots.
    `baseline`: another model folder of the same codec and kits, decoded in one pass as the
    row "baseline" on the same windows (before/after tables and plots)."""
    from tqdm import tqdm

    for d in cfg.decodings:
        if d not in ("parallel", "iterative"):
            raise UserError(f"unknown decoding {d!r}; expected parallel or iterative")
    started = time.perf_counter()
    out = Path(out_dir)
    model, info, cache, codec = open_inputs(
        Path(model_dir), Path(tokens_dir), Path(codec_path) if codec_path else None, cfg.device
    )
    other = _open_baseline(Path(baseline), info, cfg.device) if baseline is not None else None
    root = corpus_root(cache, corpus)
    tracks, skipped_kits = load_eval_tracks(cache, info, cfg.split, root)
    windows, n_empty = make_windows(
        tracks, info.window_beats, cfg.max_windows, info.config.max_frames
    )
    if not windows:
        raise UserError(f"{tokens_dir}: no window of split {cfg.split!r} has a grid onset")
    has_audio = all(t.audio_path is not None for t in tracks)
    rows = (
        (["reference"] if has_audio else [])
        + ["ceiling"]
        + (["baseline"] if other is not None else [])
        + list(cfg.decodings)
    )
    sr, hop = codec.sample_rate, codec.hop_length

    per_window: list[dict[str, Any]] = [
        {
            "window": w.index,
            "file": tracks[w.track].entry.audio_filename,
            "kit": tracks[w.track].entry.kit,
            "bpm": tracks[w.track].entry.bpm,
            "start_s": round(w.f0 / cache.frame_rate, 4),
            "end_s": round((w.f0 + w.n) / cache.frame_rate, 4),
            "n_frames": w.n,
            "rows": {},
        }
        for w in windows
    ]
    bar = tqdm(
        total=len(windows) * len(rows), desc="eval render", unit="window", disable=not progress
    )
    plot_ids = set(_plot_choice(windows, tracks, cfg.n_plots))
    decode_s = {d: 0.0 for d in cfg.decodings}
    try:
        for b0 in range(0, len(windows), cfg.batch_size):
            batch = windows[b0 : b0 + cfg.batch_size]
            r = _render_batch(model, other, codec, tracks, batch, cfg, rows, decode_s)
            true, valid, decoded, waves, logits = r
            for j, w in enumerate(batch):
                ref = reference_audio(tracks[w.track], w, codec)
                audio_of = {
                    row: ref if row == "reference" else waves[row][j, : w.n * hop] for row in rows
                }
                # What the audio metrics compare with: the corpus audio, else the ceiling.
                compare = ref if has_audio else audio_of["ceiling"]
                rec = per_window[w.index]["rows"]
                for row in rows:
                    audio = audio_of[row]
                    assert audio is not None
                    trivial = row == "reference" or (row == "ceiling" and not has_audio)
                    scores, onsets = score_audio(
                        audio, None if trivial else compare, w, sr, cfg.visqol
                    )
                    if row in decoded:
                        scores.update(
                            _token_scores(row, decoded[row][j], true[j], valid[j], logits[j])
                        )
                    rec[row] = scores
                    if w.index in plot_ids:
                        w.audio[row], w.onsets[row] = np.asarray(audio), onsets
                    bar.update(1)
    finally:
        bar.close()
    worst = _worst_windows(per_window, cfg.decodings[0] if cfg.decodings else "", cfg.n_worst)
    _keep_audio(model, other, codec, tracks, [windows[i] for i in worst], cfg, rows)

    kits = sorted({r["kit"] for r in per_window})
    summary = pooled(per_window, rows)
    by_kit = {kit: pooled([r for r in per_window if r["kit"] == kit], rows) for kit in kits}
    by_tempo = tempo_bands(per_window, rows)
    result = {
        "model": str(model_dir),
        "tokens": str(tokens_dir),
        "split": cfg.split,
        "codec": {
            "id": info.codec_id,
            "config_hash": info.codec_config_hash,
            "sample_rate": sr,
            "frame_rate": codec.frame_rate,
        },
        "config": asdict(cfg),
        "reference": "corpus audio" if has_audio else "codec reconstruction (ceiling)",
        "n_windows": len(windows),
        "n_files": len({w.track for w in windows}),
        "empty_windows_dropped": n_empty,
        "window_beats": info.window_beats,
        "kits": kits,
        "skipped_kits": skipped_kits,
        "frequency_baseline_acc": info.card.get("validation", {}).get("baseline_acc"),
        "decode_seconds": {d: round(s, 3) for d, s in decode_s.items()},
        "audio_seconds": round(sum(w.n for w in windows) * hop / sr, 3),
        "rows": summary,
        "per_kit": by_kit,
        "per_tempo": by_tempo,
        "windows": per_window,
        "seconds": 0.0,
    }
    out.mkdir(parents=True, exist_ok=True)
    result["worst_windows"] = worst
    plots = write_plots(
        out / "plots", windows, tracks, per_window, summary, rows, sr, cache.frame_rate,
        plot_ids, worst,
    )  # fmt: skip
    result["plots"] = [str(p.relative_to(out)) for p in plots]
    result["seconds"] = round(time.perf_counter() - started, 2)
    _write_json(out / "metrics.json", result)
    (out / "report.md").write_text(render_report(result))
    return result


def _open_baseline(folder: Path, info: ModelInfo, device: str) -> DrumLM:
    model, other = load_model(folder, device)
    if (other.codec_id, other.codec_config_hash) != (info.codec_id, info.codec_config_hash):
        raise UserError(
            f"--baseline {folder} predicts tokens of {other.codec_id} ({other.codec_config_hash}), "
            f"the model {info.codec_id} ({info.codec_config_hash}); compare models of one codec"
        )
    if other.kits != info.kits:
        raise UserError(
            f"--baseline {folder} knows the kits {', '.join(other.kits)}, the model "
            f"{', '.join(info.kits)}; compare models of the same kits"
        )
    return model


def _render_batch(
    model: DrumLM,
    baseline: DrumLM | None,
    codec: Codec,
    tracks: list[EvalTrack],
    batch: Sequence[EvalWindow],
    cfg: EvalConfig,
    rows: Sequence[str],
    decode_s: dict[str, float] | None = None,
) -> tuple[torch.Tensor, np.ndarray, dict[str, torch.Tensor], dict[str, np.ndarray], np.ndarray]:
    """Every row's tokens and audio for a batch of windows: (true tokens [B, K, T], valid
    frames [B, T], row -> tokens, row -> waves [B, T * hop], the model's all-masked logits
    [B, K, T, V]). Decoding depends only on each window's own seed, so rendering a window
    again (for a plot) gives the same audio."""
    true, feats, kit, pad = _batch(tracks, batch)
    dev = model.tables.device
    with torch.no_grad():
        masked = torch.full_like(true, model.codebook_size).to(dev)
        logits = model(masked, feats.to(dev), kit.to(dev), pad.to(dev)).float().cpu().numpy()
    seeds = [cfg.seed + w.index for w in batch]
    decoded: dict[str, torch.Tensor] = {"ceiling": true}
    methods = [(d, model, d) for d in cfg.decodings]
    if baseline is not None:
        methods.insert(0, ("baseline", baseline, "parallel"))
    for row, m, method in methods:
        t0 = time.perf_counter()
        decoded[row] = decode(
            m, feats, kit, cfg.decode_options(method, m.n_codebooks), pad_mask=pad, seeds=seeds,
            quantize=codec.quantize,
        ).cpu()  # fmt: skip
        if decode_s is not None:
            decode_s[row] = decode_s.get(row, 0.0) + time.perf_counter() - t0
    waves = {
        row: codec.decode_batch(decoded[row]).cpu().numpy()  # [B, T * hop]
        for row in rows
        if row != "reference"
    }
    return true, ~pad.numpy(), decoded, waves, logits


def _worst_windows(per_window: list[dict[str, Any]], row: str, n: int) -> list[int]:
    """The n windows where `row` sounds furthest from the reference: lowest ViSQOL, or
    highest mel MAE where ViSQOL was not computed."""
    scored = [r for r in per_window if r["rows"].get(row, {}).get("mel_mae_db") is not None]

    def badness(r: dict[str, Any]) -> float:
        s = r["rows"][row]
        return -s["visqol"] if s.get("visqol") is not None else s["mel_mae_db"]

    return [r["window"] for r in sorted(scored, key=badness, reverse=True)[:n]]


def _keep_audio(
    model: DrumLM,
    baseline: DrumLM | None,
    codec: Codec,
    tracks: list[EvalTrack],
    chosen: list[EvalWindow],
    cfg: EvalConfig,
    rows: Sequence[str],
) -> None:
    """Render `chosen` windows again and keep their audio and onsets for the plots."""
    missing = [w for w in chosen if not w.audio]
    if not missing:
        return
    _, _, _, waves, _ = _render_batch(model, baseline, codec, tracks, missing, cfg, rows)
    hop, sr = codec.hop_length, codec.sample_rate
    for j, w in enumerate(missing):
        for row in rows:
            if row == "reference":
                audio = reference_audio(tracks[w.track], w, codec)
            else:
                audio = waves[row][j, : w.n * hop]
            assert audio is not None
            w.audio[row] = np.asarray(audio)
            w.onsets[row] = M.detect_onsets(w.audio[row], sr, refine=True)


def pooled(windows: list[dict[str, Any]], rows: Sequence[str]) -> dict[str, Any]:
    """Each row's window records pooled (see _aggregate)."""
    return {
        row: _aggregate([r["rows"][row] for r in windows], [r["kit"] for r in windows])
        for row in rows
    }


def tempo_bands(per_window: list[dict[str, Any]], rows: Sequence[str]) -> dict[str, Any]:
    """The windows pooled per TEMPO_BANDS band (bands without a window left out)."""
    return {
        label: pooled(chosen, rows)
        for label, low, high in TEMPO_BANDS
        if (chosen := [r for r in per_window if low <= r["bpm"] < high])
    }


def _token_scores(
    row: str, decoded: torch.Tensor, true: torch.Tensor, valid: np.ndarray, logits: np.ndarray
) -> dict[str, Any]:
    """Token accuracy of the row's tokens (for parallel: the seed paper's token accuracy) and,
    for parallel, the NLL of the true tokens under the one-pass, all-masked logits."""
    if row == "ceiling":
        return {}
    K = true.shape[0]
    mask = np.broadcast_to(valid[None, :], (K, valid.shape[0]))  # [K, T]
    out: dict[str, Any] = {
        "n_tokens": int(mask.sum()),
        "token_acc": float((decoded.numpy() == true.numpy())[mask].mean()),
        "token_acc_per_level": M.per_level_accuracy(decoded.numpy(), true.numpy(), valid),
    }
    if row == "parallel":
        out["nll"] = M.token_nll(logits, true.numpy(), mask)
        out["logit_token_acc"] = M.token_accuracy(logits, true.numpy(), mask)
    return out


def _plot_choice(windows: list[EvalWindow], tracks: list[EvalTrack], n: int) -> list[int]:
    """Up to n windows with onsets, spread over kits first, then over the list."""
    with_hits = [w for w in windows if len(w.grid_times)]
    chosen: list[int] = []
    seen: set[int] = set()
    for w in with_hits:  # one per kit first
        if len(chosen) < n and tracks[w.track].track.kit not in seen:
            seen.add(tracks[w.track].track.kit)
            chosen.append(w.index)
    rest = [w.index for w in with_hits if w.index not in chosen]
    if len(chosen) < n and rest:
        picks = np.linspace(0, len(rest) - 1, num=min(n - len(chosen), len(rest))).round()
        chosen += [rest[int(i)] for i in picks]
    return chosen[:n]


# -- aggregation ------------------------------------------------------------------------------


def _mean(values: list[float]) -> float | None:
    v = [x for x in values if x is not None and math.isfinite(x)]
    return float(np.mean(v)) if v else None


def _aggregate(records: list[dict[str, Any]], kits: list[str]) -> dict[str, Any]:
    """Pool one row's window records, kits[i] the kit of records[i] (see the module
    docstring for how each metric is pooled)."""
    if not records:
        return {}
    n_ref = sum(r["n_grid_onsets"] for r in records)
    n_est = sum(r["n_detected"] for r in records)
    n_match = sum(r["n_matched"] for r in records)
    p = n_match / n_est if n_est else 0.0
    rc = n_match / n_ref if n_ref else 0.0
    n_quiet = sum(r["n_quiet_detections"] for r in records)
    pq = n_match / (n_est - n_quiet) if n_est > n_quiet else 0.0
    errors = np.array([e for r in records for e in r["timing_errors_ms"]], np.float64)
    hits = np.sum([r["class_hits"] for r in records], axis=0)
    found = np.sum([r["class_found"] for r in records], axis=0)
    loud = [(kit, *h) for r, kit in zip(records, kits, strict=True) for h in r["loudness_hits"]]
    rank = M.rank_correlation(
        np.array([f"{kit}/{c}" for kit, c, _, _ in loud], dtype=object),
        np.array([v for _, _, v, _ in loud], np.float64),
        np.array([db for _, _, _, db in loud], np.float64),
    )
    out: dict[str, Any] = {
        "n_windows": len(records),
        "onset_f1": 2 * p * rc / (p + rc) if p + rc else 0.0,
        "onset_precision": p,
        "onset_recall": rc,
        "onset_f1_quiet_excused": 2 * pq * rc / (pq + rc) if pq + rc else 0.0,
        "n_grid_onsets": n_ref,
        "n_detected": n_est,
        "timing_error_ms_median": float(np.median(np.abs(errors))) if len(errors) else None,
        "timing_error_ms_mean": float(np.mean(np.abs(errors))) if len(errors) else None,
        "timing_bias_ms": float(np.mean(errors)) if len(errors) else None,
        "velocity_rank_corr": rank.rho,
        "velocity_rank_hits": rank.n_hits,
        "class_onset_recall": {
            label: (float(f / h) if h else None)
            for label, h, f in zip(CLASS_LABELS, hits, found, strict=True)
        },
        "class_onset_hits": {label: int(h) for label, h in zip(CLASS_LABELS, hits, strict=True)},
    }
    for key in AUDIO_METRICS:
        out[key] = _mean([r.get(key) for r in records])
    if "token_acc" in records[0]:
        n = np.array([r["n_tokens"] for r in records], np.float64)
        out["token_acc"] = float(np.dot([r["token_acc"] for r in records], n) / n.sum())
        levels = np.array([r["token_acc_per_level"] for r in records], np.float64)
        out["token_acc_per_level"] = [
            round(float(a), 4) for a in (levels * n[:, None]).sum(0) / n.sum()
        ]
    if "nll" in records[0]:
        n = np.array([r["n_tokens"] for r in records], np.float64)
        out["nll"] = float(np.dot([r["nll"] for r in records], n) / n.sum())
    return out


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
