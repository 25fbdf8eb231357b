"""The evaluation's typed window scores: their metrics.json layout, how windows pool (counts,
not means of ratios), the tempo bands, the worst windows, and the corpus audio reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from drumgrid.server.drums import N_CLASSES
from drumgrid.training.evaluation import windows as W
from drumgrid.training.evaluation.pooling import per_kit, per_tempo, pool_row, worst_windows
from drumgrid.training.evaluation.scores import (
    AudioScores,
    GridScores,
    LoudnessHit,
    RowScores,
    TokenScores,
    WindowScores,
)

GRID_KEYS = [
    "onset_f1", "onset_precision", "onset_recall", "n_grid_onsets", "n_detected", "n_matched",
    "n_quiet_detections", "timing_errors_ms", "class_hits", "class_found", "loudness_hits",
]  # fmt: skip
AUDIO_KEYS = ["mel_mae_db", "spectral_convergence", "envelope_correlation", "tter_mae_db",
              "flux_cosine"]  # fmt: skip


def _grid(n_ref: int, n_est: int, n_match: int, errors=(), loud=(), quiet: int = 0) -> GridScores:
    p, r = n_match / n_est, n_match / n_ref
    hits = [n_ref] + [0] * (N_CLASSES - 1)
    found = [n_match] + [0] * (N_CLASSES - 1)
    return GridScores(2 * p * r / (p + r), p, r, n_ref, n_est, n_match, quiet, list(errors),
                      hits, found, [LoudnessHit(*h) for h in loud])  # fmt: skip


def _audio(mel: float, visqol: float | None = None, asked: bool = True) -> AudioScores:
    return AudioScores(mel, 0.5, 0.9, 1.0, 0.8, visqol, asked)


def _window(i: int, kit: str, bpm: float, **rows: RowScores) -> WindowScores:
    return WindowScores(i, f"f{i}.wav", kit, bpm, 0.0, 2.0, 100, dict(rows))


def test_row_scores_keep_the_metrics_json_layout() -> None:
    grid = _grid(4, 4, 3, errors=[1.5], loud=[(0, 100, -12.5)])
    assert list(RowScores(grid).to_json()) == GRID_KEYS
    assert RowScores(grid).to_json()["loudness_hits"] == [[0, 100, -12.5]]
    # ViSQOL's key is there when it was asked for, even where it could not score
    assert list(RowScores(grid, _audio(3.0, asked=False)).to_json()) == GRID_KEYS + AUDIO_KEYS
    asked = RowScores(grid, _audio(3.0, None)).to_json()
    assert list(asked) == [*GRID_KEYS, *AUDIO_KEYS, "visqol"] and asked["visqol"] is None
    iterative = TokenScores(80, 0.5, [0.6, 0.4])
    parallel = TokenScores(80, 0.5, [0.6, 0.4], nll=3.2, logit_token_acc=0.5)
    tail = ["n_tokens", "token_acc", "token_acc_per_level"]
    assert list(RowScores(grid, _audio(3.0), iterative).to_json())[-4:] == ["visqol", *tail]
    assert list(RowScores(grid, _audio(3.0), parallel).to_json())[-5:] == [
        *tail, "nll", "logit_token_acc",
    ]  # fmt: skip
    record = _window(0, "kit", 120.0, ceiling=RowScores(grid)).to_json()
    assert list(record) == [
        "window", "file", "kit", "bpm", "start_s", "end_s", "n_frames", "rows",
    ]  # fmt: skip
    assert list(record["rows"]["ceiling"]) == GRID_KEYS


def test_windows_pool_by_counts_tokens_and_kit_class_groups() -> None:
    loud_a = [(0, v, db) for v, db in ((40, -30.0), (80, -20.0), (120, -10.0))]
    loud_b = [(0, v, db) for v, db in ((40, -10.0), (80, -20.0), (120, -30.0))]
    a = RowScores(_grid(2, 2, 2, [1.0, -3.0], loud_a), _audio(2.0, 4.0),
                  TokenScores(10, 1.0, [1.0, 1.0], 1.0, 1.0))  # fmt: skip
    b = RowScores(_grid(40, 40, 20, [5.0], loud_b, quiet=10), _audio(4.0, None),
                  TokenScores(30, 0.0, [0.0, 0.0], 3.0, 0.0))  # fmt: skip
    p = pool_row([a, b], ["k1", "k2"])
    assert p["n_windows"] == 2 and p["n_grid_onsets"] == 42 and p["n_detected"] == 42
    assert p["onset_recall"] == pytest.approx(22 / 42) and p["onset_f1"] == pytest.approx(22 / 42)
    pq, rc = 22 / (42 - 10), 22 / 42  # precision without the detections on ghost notes
    assert p["onset_f1_quiet_excused"] == pytest.approx(2 * pq * rc / (pq + rc))
    assert p["timing_error_ms_median"] == 3.0 and p["timing_bias_ms"] == pytest.approx(1.0)
    # each kit's class ranks on its own: +1 and -1, weighted alike
    assert p["velocity_rank_corr"] == pytest.approx(0.0) and p["velocity_rank_hits"] == 6
    assert p["mel_mae_db"] == 3.0 and p["visqol"] == 4.0  # means over the windows that have one
    assert p["token_acc"] == pytest.approx(0.25) and p["nll"] == pytest.approx(2.5)
    assert p["token_acc_per_level"] == [0.25, 0.25]
    assert p["class_onset_hits"]["kick"] == 42 and p["class_onset_recall"]["snare"] is None
    reference = pool_row([RowScores(a.grid), RowScores(b.grid)], ["k1", "k1"])
    assert reference["mel_mae_db"] is None and "token_acc" not in reference
    assert reference["velocity_rank_corr"] == pytest.approx(0.0)  # one group: the two orders cancel
    assert pool_row([], []) == {}


def test_tempo_bands_kits_and_worst_windows() -> None:
    row = RowScores(_grid(2, 2, 2))
    bpms = (89.9, 90.0, 130.0, 130.5)
    ws = [_window(i, ("b", "a")[i % 2], bpm, ceiling=row) for i, bpm in enumerate(bpms)]
    bands = per_tempo(ws, ["ceiling"])
    assert {k: v["ceiling"]["n_windows"] for k, v in bands.items()} == {
        "< 90 bpm": 1, "90-130 bpm": 2, "> 130 bpm": 1,
    }  # fmt: skip
    assert list(per_tempo(ws[1:3], ["ceiling"])) == ["90-130 bpm"]
    assert list(per_kit(ws, ["ceiling"])) == ["a", "b"]

    def scored(i: int, mel: float, visqol: float | None) -> WindowScores:
        return _window(
            i, "a", 100.0, reference=row, parallel=RowScores(row.grid, _audio(mel, visqol))
        )

    ws = [scored(0, 5.0, 3.0), scored(1, 1.0, 2.0), scored(2, 9.0, 4.0)]
    assert worst_windows(ws, "parallel", 2) == [1, 0]  # lowest ViSQOL first
    ws = [scored(0, 5.0, None), scored(1, 1.0, None), scored(2, 9.0, None)]
    assert worst_windows(ws, "parallel", 5) == [2, 0, 1]  # else highest mel MAE
    assert worst_windows(ws, "reference", 2) == [] and worst_windows(ws, "", 2) == []


def test_corpus_audio_reads_each_file_once_and_pads_past_its_end(tmp_path, monkeypatch) -> None:
    class Codec:
        sample_rate, hop_length = 8000, 10

    paths = [tmp_path / "a.wav", tmp_path / "b.wav"]
    for k, p in enumerate(paths):
        sf.write(p, np.full(95, 0.25 * (k + 1), np.float32), 8000)
    reads: list[Path] = []
    real = W.read_audio
    monkeypatch.setattr(W, "read_audio", lambda p, sr: reads.append(p) or real(p, sr))
    tracks = [W.EvalTrack(None, None, None, p) for p in paths]  # type: ignore[arg-type]
    tracks.append(W.EvalTrack(None, None, None, None))  # type: ignore[arg-type]
    empty = np.zeros(0)

    def window(track: int, f0: int, n: int) -> W.EvalWindow:
        return W.EvalWindow(0, track, f0, n, empty, empty, empty)

    corpus = W.CorpusAudio(Codec())  # type: ignore[arg-type]
    first = corpus.window(tracks[0], window(0, 0, 4))
    assert first is not None and len(first) == 40 and np.all(first == 0.25)
    tail = corpus.window(tracks[0], window(0, 8, 4))  # samples 80-119 of 95
    assert (
        tail is not None and len(tail) == 40 and np.all(tail[:15] == 0.25) and not tail[15:].any()
    )
    second = corpus.window(tracks[1], window(1, 0, 2))
    assert second is not None and np.all(second == 0.5)
    assert corpus.window(tracks[2], window(2, 0, 2)) is None
    assert reads == paths
