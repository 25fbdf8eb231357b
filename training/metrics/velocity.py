"""Velocity against loudness: the power each isolated hit adds, and its rank correlation with
the grid's velocities within a kit's class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOUDNESS_WINDOW_S = 0.005  # mean-power window of the loudness envelope
LOUDNESS_SPAN_S = (0.005, 0.05)  # look this far before / after an onset for the peak
BACKGROUND_SPAN_S = (0.04, 0.01)  # the level a hit rises from: [t - 40 ms, t - 10 ms]
ISOLATION_S = 0.05  # no other onset (of any class) within this of a scored hit


def hit_loudness_db(x: np.ndarray, sample_rate: int, times_s: np.ndarray) -> np.ndarray:
    """The power each hit adds, in dB: the peak of a 5 ms mean-power envelope over
    [t - 5 ms, t + 50 ms] less the mean power over [t - 40 ms, t - 10 ms]. Subtracting the
    level before the onset keeps the tails of earlier hits (a crash still ringing under a
    quiet hi-hat) from counting as the hit's own loudness."""
    x = np.asarray(x, np.float64)
    win = max(1, round(LOUDNESS_WINDOW_S * sample_rate))
    power = np.concatenate([[0.0], np.cumsum(x**2)])

    def at(t: float) -> int:
        return int(np.clip(round(t * sample_rate), 0, len(x)))

    out = np.empty(len(times_s))
    for i, t in enumerate(np.asarray(times_s, np.float64)):
        a, b = at(t - LOUDNESS_SPAN_S[0]), at(t + LOUDNESS_SPAN_S[1])
        if b - a < win:
            out[i] = -200.0
            continue
        starts = np.arange(a, b - win + 1)
        peak = float(((power[starts + win] - power[starts]) / win).max())
        c, d = at(t - BACKGROUND_SPAN_S[0]), at(t - BACKGROUND_SPAN_S[1])
        background = (power[d] - power[c]) / (d - c) if d > c else 0.0
        out[i] = 10 * np.log10(max(peak - background, 1e-20))
    return out


def isolated_hits(times_s: np.ndarray, within_s: float = ISOLATION_S) -> np.ndarray:
    """[H] bool: hits with no other onset within +-within_s. Near another onset the peak is
    the mix's (a hi-hat on a kick measures the kick), so only isolated hits are scored."""
    t = np.asarray(times_s, np.float64)
    near = np.abs(t[:, None] - t[None, :]) <= within_s
    return near.sum(1) == 1  # itself only


@dataclass(frozen=True)
class RankCorrelation:
    rho: float  # nan when no group had enough hits with distinct velocities
    n_hits: int  # the hits that entered the average


def rank_correlation(
    groups: np.ndarray, velocities: np.ndarray, loudness_db: np.ndarray, min_hits: int = 3
) -> RankCorrelation:
    """Spearman correlation of velocity with loudness within each group (a kit's class: a kick
    at velocity 60 is louder than a hi-hat at 100, so pooling groups would measure the kit's
    balance, not velocity), averaged over groups weighted by their hits. Groups with fewer
    than `min_hits` hits or a single velocity carry no rank information and are left out."""
    from scipy.stats import spearmanr

    groups = np.asarray(groups)
    vel = np.asarray(velocities, np.float64)
    # Differences under 0.01 dB are rounding, not loudness: tie them.
    level = np.round(np.asarray(loudness_db, np.float64), 2)
    total, weight = 0.0, 0
    for g in np.unique(groups):
        sel = groups == g
        n = int(sel.sum())
        if n < min_hits or np.ptp(vel[sel]) == 0:
            continue
        rho = 0.0 if np.ptp(level[sel]) == 0 else float(spearmanr(vel[sel], level[sel]).statistic)
        total += rho * n
        weight += n
    return RankCorrelation(total / weight if weight else float("nan"), weight)


def velocity_loudness_correlation(
    x: np.ndarray,
    sample_rate: int,
    grid_times_s: np.ndarray,
    grid_velocities: np.ndarray,
    grid_classes: np.ndarray | None = None,
    min_hits: int = 3,
) -> RankCorrelation:
    """rank_correlation of one clip's isolated hits, grouped by class (evaluation pools the
    hits of many clips per kit and class instead: see training/evaluation/pooling.py)."""
    times = np.asarray(grid_times_s, np.float64)
    classes = np.zeros(len(times), np.int64) if grid_classes is None else np.asarray(grid_classes)
    keep = isolated_hits(times)
    loudness = hit_loudness_db(x, sample_rate, times[keep])
    return rank_correlation(classes[keep], np.asarray(grid_velocities)[keep], loudness, min_hits)
