"""Evaluation plots: log-mel spectrograms of a few windows with the grid's onsets overlaid
(one panel per row), and per-class onset recall bars."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drumgrid.server.drums import CLASS_LABELS
from drumgrid.training import metrics as M
from drumgrid.training.evaluation.report import ROW_NOTES, fmt

if TYPE_CHECKING:
    from drumgrid.training.evaluation.pooling import Pooled
    from drumgrid.training.evaluation.render import KeptAudio, RowAudio
    from drumgrid.training.evaluation.scores import RowScores, WindowScores
    from drumgrid.training.evaluation.windows import EvalTrack, EvalWindow


CLASS_COLORS = (
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
    "#a65628",
    "#f781bf",
    "#17becf",
    "#bcbd22",
)


def write_plots(
    folder: Path,
    windows: list[EvalWindow],
    tracks: list[EvalTrack],
    scores: list[WindowScores],
    kept: KeptAudio,
    summary: Pooled,
    rows: Sequence[str],
    sr: int,
    frame_rate: float,
    spread: Collection[int] = (),
    worst: Sequence[int] = (),
) -> list[Path]:
    """Spectrograms (one panel per row, with the grid's onsets) of the `spread` windows
    (window_NNN.png) and of the `worst` ones, worst first (worst_R_window_NNN.png), from
    their `kept` audio, and the per-class recall bars. Returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    names = [(i, f"window_{i:03d}.png") for i in sorted(spread)]
    names += [(i, f"worst_{r}_window_{i:03d}.png") for r, i in enumerate(worst, 1)]
    for i, name in names:
        w = windows[i]
        fig = _spectrogram_figure(
            plt, w, tracks[w.track], scores[i].rows, kept[i], rows, sr, frame_rate
        )
        path = folder / name
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    fig = _recall_figure(plt, summary, rows)
    path = folder / "class_onset_recall.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)
    return written


def draw_mel(ax: Any, audio: np.ndarray, sr: int) -> None:
    """A 128-band HTK log-mel spectrogram (the metric's 20 Hz-14 kHz), 80 dB below its peak."""
    import librosa
    import librosa.display

    fmax = min(M.MEL_FMAX, sr / 2)
    mel = librosa.feature.melspectrogram(
        y=audio.astype(np.float32), sr=sr, n_fft=2048, hop_length=256, n_mels=128,
        fmin=M.MEL_FMIN, fmax=fmax, htk=True,
    )  # fmt: skip
    db = librosa.power_to_db(mel, ref=max(float(mel.max()), 1e-10), top_db=80.0)
    librosa.display.specshow(
        db, sr=sr, hop_length=256, x_axis="time", y_axis="mel", fmin=M.MEL_FMIN, fmax=fmax,
        ax=ax, cmap="gray", vmin=-80, vmax=0,
    )  # fmt: skip


def _spectrogram_figure(
    plt: Any,
    w: EvalWindow,
    track: EvalTrack,
    scores: dict[str, RowScores],
    audio: dict[str, RowAudio],
    rows: Sequence[str],
    sr: int,
    frame_rate: float,
) -> Any:
    from matplotlib.lines import Line2D

    shown = [r for r in rows if r in audio]
    fig, axes = plt.subplots(
        len(shown), 1, figsize=(12, 2.3 * len(shown) + 1.0), sharex=True, squeeze=False
    )
    t0 = w.f0 / frame_rate
    loud = M.loud_enough(w.grid_velocities)
    for ax, row in zip(axes[:, 0], shown, strict=True):
        draw_mel(ax, audio[row].wave, sr)
        for t, c, v, ok in zip(w.grid_times, w.grid_classes, w.grid_velocities, loud, strict=True):
            ax.axvline(
                t, color=CLASS_COLORS[c], lw=0.6 + 1.6 * v / 127, ls="-" if ok else ":", alpha=0.9
            )
        det = audio[row].onsets
        ax.plot(
            det,
            np.full(len(det), 0.96),
            transform=ax.get_xaxis_transform(),
            ls="none",
            marker="v",
            ms=6,
            color="yellow",
            mec="black",
            mew=0.5,
        )
        ax.set_title(_panel_title(row, scores[row]), fontsize=9, loc="left")
        ax.set_ylabel("mel freq (Hz)")
        ax.set_xlabel("")
    axes[-1, 0].set_xlabel(f"time in window (s); window starts at {t0:.2f} s of the file")
    present = sorted(set(int(c) for c in w.grid_classes))
    handles = [Line2D([], [], color=CLASS_COLORS[c], lw=2, label=CLASS_LABELS[c]) for c in present]
    handles.append(Line2D([], [], color="gray", lw=1, ls=":", label="velocity <= 0.3"))
    handles.append(
        Line2D([], [], color="yellow", mec="black", marker="v", ls="none", label="detected onset")
    )
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, 1 - 0.45 / fig.get_figheight()),
        ncol=len(handles),
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(
        f"kit {track.entry.kit}  |  {track.entry.audio_filename}  |  "
        f"{t0:.2f}-{(w.f0 + w.n) / frame_rate:.2f} s  |  log-mel power, 80 dB range  |  "
        "grid onsets: lines (width = velocity)",
        x=0.01,
        ha="left",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.75 / fig.get_figheight()))
    return fig


def _panel_title(row: str, s: RowScores) -> str:
    """The row and this window's own numbers, so a picture and its scores read together."""
    text = f"{row}: {ROW_NOTES[row].split(' = ', 1)[1]}  |  onset F1 {fmt(s.grid.onset_f1, 2)}"
    errors = np.abs(s.grid.timing_errors_ms)
    if len(errors):
        text += f", timing {np.median(errors):.1f} ms"
    if s.audio is not None and s.audio.visqol is not None:
        text += f", ViSQOL {s.audio.visqol:.2f}"
    if s.audio is not None:
        text += f", mel MAE {s.audio.mel_mae_db:.1f} dB, SC {s.audio.spectral_convergence:.2f}"
    if s.tokens is not None:
        text += f", token acc {s.tokens.token_acc:.2f}"
    return text


def _recall_figure(plt: Any, summary: Pooled, rows: Sequence[str]) -> Any:
    first = summary[rows[0]]
    labels = [c for c in CLASS_LABELS if first["class_onset_hits"][c]]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(labels) + 2), 4.0))
    width = 0.8 / len(rows)
    x = np.arange(len(labels))
    for i, row in enumerate(rows):
        vals = [summary[row]["class_onset_recall"][c] or 0.0 for c in labels]
        ax.bar(x + (i - (len(rows) - 1) / 2) * width, vals, width, label=row)
    ax.set_xticks(x, [f"{c}\n(n={first['class_onset_hits'][c]})" for c in labels], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("onset recall")
    ax.set_title(
        "Per-class onset recall: grid onsets (velocity > 0.3) with a detected onset within +-50 ms",
        fontsize=9,
    )
    ax.legend(fontsize=8, ncol=len(rows), loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
