"""One window's scores, typed: per row, what its audio scores against the grid, against the
reference audio and (for the model's rows) its tokens against the true ones. metrics.json
holds each as one flat dict (`to_json`), in the order the fields are listed here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch

from drumgrid.server.drums import N_CLASSES
from drumgrid.training import metrics as M
from drumgrid.training.evaluation.windows import EvalWindow


class LoudnessHit(NamedTuple):
    """An isolated hit's class, grid velocity and the power it adds (dB): pooled per kit and
    class into the velocity rank correlation."""

    drum_class: int
    velocity: int
    db: float


@dataclass(frozen=True)
class GridScores:
    """A row's audio against the window's grid: the counts behind the paper's onset F1 (so
    windows pool by counts), the matched pairs' signed timing errors, per-class recall counts
    and the isolated hits' loudness."""

    onset_f1: float
    onset_precision: float
    onset_recall: float
    n_grid_onsets: int
    n_detected: int
    n_matched: int
    n_quiet_detections: int
    timing_errors_ms: list[float]
    class_hits: list[int]  # [N_CLASSES]
    class_found: list[int]  # [N_CLASSES]
    loudness_hits: list[LoudnessHit]


@dataclass(frozen=True)
class AudioScores:
    """A row's audio against the reference audio."""

    mel_mae_db: float
    spectral_convergence: float
    envelope_correlation: float
    tter_mae_db: float
    flux_cosine: float
    visqol: float | None = None  # None: not asked for, or nothing ViSQOL could score
    visqol_asked: bool = False  # metrics.json has the key only when it was asked for

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mel_mae_db": self.mel_mae_db,
            "spectral_convergence": self.spectral_convergence,
            "envelope_correlation": self.envelope_correlation,
            "tter_mae_db": self.tter_mae_db,
            "flux_cosine": self.flux_cosine,
        }
        if self.visqol_asked:
            out["visqol"] = self.visqol
        return out


@dataclass(frozen=True)
class TokenScores:
    """A model row's tokens against the true ones; `nll` and `logit_token_acc` (of the
    one-pass, all-masked logits) for the parallel row only."""

    n_tokens: int
    token_acc: float
    token_acc_per_level: list[float]
    nll: float | None = None
    logit_token_acc: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_tokens": self.n_tokens,
            "token_acc": self.token_acc,
            "token_acc_per_level": self.token_acc_per_level,
        }
        if self.nll is not None:
            out.update(nll=self.nll, logit_token_acc=self.logit_token_acc)
        return out


@dataclass(frozen=True)
class RowScores:
    grid: GridScores
    audio: AudioScores | None = None  # None: the row is the reference itself
    tokens: TokenScores | None = None  # None: not decoded by a model (reference, ceiling)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **vars(self.grid),
            "loudness_hits": [list(h) for h in self.grid.loudness_hits],
        }
        if self.audio is not None:
            out.update(self.audio.to_json())
        if self.tokens is not None:
            out.update(self.tokens.to_json())
        return out


@dataclass
class WindowScores:
    """One window: where it comes from, and each row's scores."""

    window: int
    file: str
    kit: str
    bpm: float
    start_s: float
    end_s: float
    n_frames: int
    rows: dict[str, RowScores] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in vars(self).items() if k != "rows"},
            "rows": {row: s.to_json() for row, s in self.rows.items()},
        }


def grid_scores(audio: np.ndarray, window: EvalWindow, sr: int) -> tuple[GridScores, np.ndarray]:
    """A row's audio against the window's grid, and its detected (refined) onsets."""
    onsets = M.detect_onsets(audio, sr, refine=True)
    paper = M.paper_onset_score(window.grid_times, window.grid_velocities, onsets)
    classes = M.class_onset_recall(
        window.grid_times, window.grid_classes, window.grid_velocities, onsets, N_CLASSES
    )
    isolated = M.isolated_hits(window.grid_times)
    loudness = M.hit_loudness_db(audio, sr, window.grid_times[isolated])
    scores = GridScores(
        onset_f1=paper.f1,
        onset_precision=paper.precision,
        onset_recall=paper.recall,
        n_grid_onsets=paper.n_reference,
        n_detected=paper.n_estimate,
        n_matched=paper.n_matched,
        n_quiet_detections=M.quiet_detections(window.grid_times, window.grid_velocities, onsets),
        timing_errors_ms=[round(float(e), 3) for e in paper.signed_errors_ms],
        class_hits=[c.n_hits for c in classes],
        class_found=[c.n_found for c in classes],
        loudness_hits=[
            LoudnessHit(int(c), int(v), round(float(db), 3))
            for c, v, db in zip(
                window.grid_classes[isolated],
                window.grid_velocities[isolated],
                loudness,
                strict=True,
            )
        ],
    )
    return scores, onsets


def audio_scores(
    reference: np.ndarray, audio: np.ndarray, sr: int, visqol: bool = False
) -> AudioScores:
    """A row's audio against the reference audio; ViSQOL only when asked (it is slow)."""
    return AudioScores(
        mel_mae_db=M.mel_mae_db(reference, audio, sr),
        spectral_convergence=M.spectral_convergence(reference, audio),
        envelope_correlation=M.envelope_correlation(reference, audio, sr),
        tter_mae_db=M.tter_mae_db(reference, audio, sr),
        flux_cosine=M.flux_cosine(reference, audio, sr),
        visqol=M.visqol_moslqo(reference, audio, sr) if visqol else None,
        visqol_asked=visqol,
    )


def token_scores(
    row: str, decoded: torch.Tensor, true: torch.Tensor, valid: np.ndarray, logits: np.ndarray
) -> TokenScores:
    """Token accuracy of the row's tokens [K, T] against the true ones (for parallel: the
    seed paper's token accuracy) over the valid frames [T] and, for parallel, the NLL of the
    true tokens under the one-pass, all-masked logits [K, T, V]."""
    K = true.shape[0]
    mask = np.broadcast_to(valid[None, :], (K, valid.shape[0]))  # [K, T]
    n_tokens = int(mask.sum())
    acc = float((decoded.numpy() == true.numpy())[mask].mean())
    levels = M.per_level_accuracy(decoded.numpy(), true.numpy(), valid)
    if row != "parallel":
        return TokenScores(n_tokens, acc, levels)
    nll = M.token_nll(logits, true.numpy(), mask)
    return TokenScores(n_tokens, acc, levels, nll, M.token_accuracy(logits, true.numpy(), mask))
