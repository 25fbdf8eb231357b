"""Windows pooled into the tables' rows: over all windows, per kit and per tempo band, and the
windows a row renders worst.

Onset precision / recall / F1 and per-class recall pool the counts of every window (a window
with two hits weighs less than one with forty); timing errors pool every matched pair; the
velocity rank correlation pools the isolated hits of every window per kit and class (a 4-beat
window holds too few hits of one class to rank), then averages the groups weighted by their
hits; the audio-to-audio metrics are means over windows, the token metrics over tokens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from drumgrid.server.drums import CLASS_LABELS
from drumgrid.training import metrics as M
from drumgrid.training.evaluation.scores import AudioScores, RowScores, WindowScores

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
    "visqol",  # MOS-LQO, audio mode at 48 kHz (training/metrics/perceptual.py)
)

Pooled = dict[str, dict[str, Any]]  # row -> its pooled numbers, as metrics.json holds them


def pooled(windows: Sequence[WindowScores], rows: Sequence[str]) -> Pooled:
    """Each row's scores pooled over `windows`."""
    return {row: pool_row([w.rows[row] for w in windows], [w.kit for w in windows]) for row in rows}


def per_kit(windows: Sequence[WindowScores], rows: Sequence[str]) -> dict[str, Pooled]:
    """The windows pooled per kit, kits in name order."""
    kits = sorted({w.kit for w in windows})
    return {kit: pooled([w for w in windows if w.kit == kit], rows) for kit in kits}


def per_tempo(windows: Sequence[WindowScores], rows: Sequence[str]) -> dict[str, Pooled]:
    """The windows pooled per TEMPO_BANDS band (bands without a window left out)."""
    return {
        label: pooled(chosen, rows)
        for label, low, high in TEMPO_BANDS
        if (chosen := [w for w in windows if low <= w.bpm < high])
    }


def worst_windows(windows: Sequence[WindowScores], row: str, n: int) -> list[int]:
    """The n windows where `row` sounds furthest from the reference: lowest ViSQOL, or
    highest mel MAE where ViSQOL was not computed."""

    def audio(w: WindowScores) -> AudioScores | None:
        s = w.rows.get(row)
        return s.audio if s is not None else None

    def badness(w: WindowScores) -> float:
        a = audio(w)
        assert a is not None
        return -a.visqol if a.visqol is not None else a.mel_mae_db

    scored = [w for w in windows if audio(w) is not None]
    return [w.window for w in sorted(scored, key=badness, reverse=True)[:n]]


def _mean(values: list[float | None]) -> float | None:
    v = [x for x in values if x is not None and math.isfinite(x)]
    return float(np.mean(v)) if v else None


def pool_row(records: Sequence[RowScores], kits: Sequence[str]) -> dict[str, Any]:
    """Pool one row's window scores, kits[i] the kit of records[i] (see the module docstring
    for how each metric is pooled)."""
    if not records:
        return {}
    grid = [r.grid for r in records]
    n_ref = sum(g.n_grid_onsets for g in grid)
    n_est = sum(g.n_detected for g in grid)
    n_match = sum(g.n_matched for g in grid)
    p = n_match / n_est if n_est else 0.0
    rc = n_match / n_ref if n_ref else 0.0
    n_quiet = sum(g.n_quiet_detections for g in grid)
    pq = n_match / (n_est - n_quiet) if n_est > n_quiet else 0.0
    errors = np.array([e for g in grid for e in g.timing_errors_ms], np.float64)
    hits = np.sum([g.class_hits for g in grid], axis=0)
    found = np.sum([g.class_found for g in grid], axis=0)
    loud = [(kit, h) for g, kit in zip(grid, kits, strict=True) for h in g.loudness_hits]
    rank = M.rank_correlation(
        np.array([f"{kit}/{h.drum_class}" for kit, h in loud], dtype=object),
        np.array([h.velocity for _, h in loud], np.float64),
        np.array([h.db for _, h in loud], np.float64),
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
        out[key] = _mean([getattr(r.audio, key) if r.audio else None for r in records])
    first = records[0].tokens
    if first is not None:
        tokens = [r.tokens for r in records if r.tokens is not None]
        n = np.array([t.n_tokens for t in tokens], np.float64)
        out["token_acc"] = float(np.dot([t.token_acc for t in tokens], n) / n.sum())
        levels = np.array([t.token_acc_per_level for t in tokens], np.float64)
        out["token_acc_per_level"] = [
            round(float(a), 4) for a in (levels * n[:, None]).sum(0) / n.sum()
        ]
        if first.nll is not None:
            nll = np.array([t.nll for t in tokens], np.float64)
            out["nll"] = float(np.dot(nll, n) / n.sum())
    return out
