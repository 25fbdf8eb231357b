"""Audio against the grid it was rendered from: the seed paper's onset F1 (grid onsets with
velocity > 0.3 against detected onsets, +-50 ms), the detections a ghost note explains, and
per-class onset recall."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgrid.training.metrics.onsets import OnsetScore, merge_simultaneous, onset_score

PAPER_VELOCITY_THRESHOLD = 0.3  # of 1.0: MIDI velocity > 38.1, i.e. >= 39
ONSET_WINDOW_S = 0.05


def loud_enough(velocities: np.ndarray, threshold: float = PAPER_VELOCITY_THRESHOLD) -> np.ndarray:
    """The seed paper's selection of grid onsets: velocity / 127 > threshold."""
    return np.asarray(velocities, np.float64) / 127.0 > threshold


def paper_onset_score(
    grid_times_s: np.ndarray,
    grid_velocities: np.ndarray,
    detected_s: np.ndarray,
    threshold: float = PAPER_VELOCITY_THRESHOLD,
    window_s: float = ONSET_WINDOW_S,
) -> OnsetScore:
    """The seed paper's onset F1: grid onsets with velocity > 0.3 (of 1.0) against the onsets
    detected in the audio, matched one to one within +-50 ms. Grid onsets closer than 30 ms
    (kick + hi-hat together, flams) count as one event: librosa's detector keeps its onsets
    at least 30 ms apart, so counting both would cap recall below 1 for a perfect render."""
    times = np.asarray(grid_times_s, np.float64)[loud_enough(grid_velocities, threshold)]
    return onset_score(merge_simultaneous(times), detected_s, window_s)


def quiet_detections(
    grid_times_s: np.ndarray,
    grid_velocities: np.ndarray,
    detected_s: np.ndarray,
    threshold: float = PAPER_VELOCITY_THRESHOLD,
    window_s: float = ONSET_WINDOW_S,
) -> int:
    """How many detections the paper's F1 counts as false positives although they sit on a
    grid onset it left out (velocity <= threshold, a ghost note that was rendered audibly):
    the detections left unmatched by the loud onsets, matched one to one with the quiet
    ones. An evaluation can excuse them (precision over the other detections)."""
    import mir_eval

    times = np.asarray(grid_times_s, np.float64)
    loud = loud_enough(grid_velocities, threshold)
    det = np.sort(np.asarray(detected_s, np.float64))
    ref = merge_simultaneous(times[loud])
    if len(ref) and len(det):
        used = {j for _, j in mir_eval.util.match_events(ref, det, window_s)}
        det = np.array([d for j, d in enumerate(det) if j not in used])
    quiet = merge_simultaneous(times[~loud])
    if not len(quiet) or not len(det):
        return 0
    return len(mir_eval.util.match_events(quiet, det, window_s))


@dataclass(frozen=True)
class ClassRecall:
    """How many of one class's grid onsets an onset was detected at (+-window)."""

    n_hits: int
    n_found: int

    @property
    def recall(self) -> float:
        return self.n_found / self.n_hits if self.n_hits else float("nan")


def class_onset_recall(
    grid_times_s: np.ndarray,
    grid_classes: np.ndarray,
    grid_velocities: np.ndarray,
    detected_s: np.ndarray,
    n_classes: int,
    threshold: float = PAPER_VELOCITY_THRESHOLD,
    window_s: float = ONSET_WINDOW_S,
) -> list[ClassRecall]:
    """Per-class onset "F1" as drumgrid defines it: a detector cannot tell which piece made an
    onset in a mix, so precision per class is undefined; what is measurable is recall: the
    share of class c's grid onsets (velocity > threshold) with a detected onset within
    +-window, each class matched one to one against all detections on its own."""
    times = np.asarray(grid_times_s, np.float64)
    classes = np.asarray(grid_classes, np.int64)
    loud = loud_enough(grid_velocities, threshold)
    out = []
    for c in range(n_classes):
        t = np.sort(times[(classes == c) & loud])
        s = onset_score(t, detected_s, window_s) if len(t) else None
        out.append(ClassRecall(len(t), s.n_matched if s else 0))
    return out
