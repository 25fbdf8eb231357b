"""The evaluation report: report.md (overall, per-kit and per-class tables, definitions)
and the one-screen summary the command prints."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drumgrid.server.drums import CLASS_LABELS

DEFINITIONS = (
    (
        "token acc",
        "share of decoded tokens equal to the true ones; for parallel the seed "
        "paper's: every token masked, one pass, argmax",
    ),
    (
        "NLL",
        "mean negative log-likelihood (nats) of the true tokens under the one-pass, "
        "all-masked logits",
    ),
    (
        "onset F1 / P / R",
        "the seed paper's: grid onsets with velocity > 0.3 (MIDI >= 39) "
        "against librosa onsets of the audio, one-to-one within +-50 ms (mir_eval); grid onsets "
        "under 30 ms apart count as one event (the detector's minimum gap); counts pooled over "
        "windows",
    ),
    (
        "F1 quiet excused",
        "onset F1 with precision taken over the detections that do not sit on a left-out "
        "quiet grid onset (velocity <= 0.3): the strict definition counts an audible ghost "
        "note as a false positive",
    ),
    (
        "timing ms",
        "median |detected - grid| of the matched onsets, detected onsets refined to "
        "the sample-accurate attack (steepest rise of a 2 ms trailing energy envelope); bias = "
        "mean signed error (positive: late)",
    ),
    (
        "vel rho",
        "Spearman rank correlation of grid velocity with the power each hit adds (peak "
        "5 ms mean power in [t - 5 ms, t + 50 ms] less the mean over [t - 40 ms, t - 10 ms]), "
        "over the hits with no other onset within +-50 ms, pooled over windows per kit and "
        "class (>= 3 hits, >1 velocity), averaged weighted by hits",
    ),
    (
        "class recall",
        'per-class onset "F1": which piece made an onset cannot be told from '
        "a mix, so it is the recall of the class's grid onsets (velocity > 0.3) against all "
        "detected onsets, +-50 ms",
    ),
    (
        "mel MAE dB",
        "80 HTK mel bands 20 Hz-14 kHz, n_fft 2048 / hop 512, peak-normalised "
        "audio, power in dB floored 80 dB below the reference's peak; mean |difference|",
    ),
    (
        "SC",
        "MR-STFT spectral convergence ||S_ref - S||_F / ||S_ref||_F, mean over "
        "(512,128), (1024,256), (2048,512)",
    ),
    ("env corr", "Pearson correlation of 50 ms / 10 ms RMS envelopes"),
    (
        "TTER MAE dB",
        "per 300 ms window (100 ms hop) 10 log10(mean square of the first 25% / "
        "of the rest), parts floored 80 dB below the loudest window; mean |difference| over the "
        "windows within 60 dB of the reference's loudest",
    ),
    (
        "flux cos",
        "cosine similarity of the spectral-flux curves (half-wave rectified rise of "
        "the 80-band log-mel spectrum, n_fft 1024 / hop 256, summed over bands)",
    ),
)


def fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}"


def _overall_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    head = (
        "| row | token acc | NLL | onset F1 | P | R | F1 quiet excused | timing ms | bias ms | "
        "vel rho | ViSQOL | mel MAE dB | SC | env corr | TTER MAE dB | flux cos |"
    )
    lines = [head, "|" + "---|" * 16]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {fmt(r.get('token_acc'))} | {fmt(r.get('nll'))} | {fmt(r['onset_f1'])} | "
            f"{fmt(r['onset_precision'])} | {fmt(r['onset_recall'])} | "
            f"{fmt(r['onset_f1_quiet_excused'])} | "
            f"{fmt(r['timing_error_ms_median'], 2)} | {fmt(r['timing_bias_ms'], 2)} | "
            f"{fmt(r['velocity_rank_corr'])} | {fmt(r.get('visqol'), 2)} | "
            f"{fmt(r['mel_mae_db'], 2)} | "
            f"{fmt(r['spectral_convergence'])} | {fmt(r['envelope_correlation'])} | "
            f"{fmt(r['tter_mae_db'], 2)} | {fmt(r['flux_cosine'])} |"
        )
    return lines


# (header, how a pooled row shows it) for the per-kit and per-tempo tables
Column = tuple[str, Callable[[dict[str, Any]], str]]
KIT_COLUMNS: list[Column] = [
    ("onset F1", lambda r: fmt(r["onset_f1"])),
    ("timing ms", lambda r: fmt(r["timing_error_ms_median"], 2)),
    ("vel rho", lambda r: fmt(r["velocity_rank_corr"])),
    ("ViSQOL", lambda r: fmt(r.get("visqol"), 2)),
    ("mel MAE dB", lambda r: fmt(r["mel_mae_db"], 2)),
    ("SC", lambda r: fmt(r["spectral_convergence"])),
    ("env corr", lambda r: fmt(r["envelope_correlation"])),
    ("token acc", lambda r: fmt(r.get("token_acc"))),
    ("windows", lambda r: str(r["n_windows"])),
]
TEMPO_COLUMNS: list[Column] = [KIT_COLUMNS[i] for i in (3, 4, 0, 1, 8)]


def _grouped_table(
    group: str, groups: dict[str, dict[str, dict[str, Any]]], columns: list[Column]
) -> list[str]:
    """One line per (group, row): the per-kit and per-tempo tables."""
    lines = [
        f"| {group} | row | " + " | ".join(h for h, _ in columns) + " |",
        "|" + "---|" * (2 + len(columns)),
    ]
    for name, by_row in groups.items():
        for row, r in by_row.items():
            lines.append(f"| {name} | {row} | " + " | ".join(f(r) for _, f in columns) + " |")
    return lines


def _steps_text(steps: int | list[int]) -> str:
    if isinstance(steps, int):
        return f"{steps} on the coarsest level, 1 on each finer one"
    return "per level " + ",".join(map(str, steps))


def render_report(result: dict[str, Any]) -> str:
    rows: dict[str, dict[str, Any]] = result["rows"]
    cfg = result["config"]
    decoding = ", ".join(
        "parallel (one pass: the latent head's prediction quantised by the codec where the model "
        "has one, else each token's argmax)"
        if d == "parallel"
        else f"iterative (steps {_steps_text(cfg['steps'])}, temperature {cfg['temperature']}, "
        f"top-k {cfg['top_k']}, top-p {cfg['top_p']}, seed {cfg['seed']} + window)"
        for d in cfg["decodings"]
    )
    lines = [
        "# drumgrid evaluation",
        "",
        f"- model: `{result['model']}`",
        f"- tokens: `{result['tokens']}`, split `{result['split']}`: {result['n_windows']} "
        f"windows of {result['window_beats']:g} beats from {result['n_files']} files "
        f"({result['audio_seconds']:.1f} s of audio; {result['empty_windows_dropped']} windows "
        f"without a grid onset left out), kits {', '.join(result['kits'])}"
        + (
            f" (skipped, unknown to the model: {', '.join(result['skipped_kits'])})"
            if result["skipped_kits"]
            else ""
        ),
        f"- codec: {result['codec']['id']} ({result['codec']['config_hash']}), "
        f"{result['codec']['sample_rate']} Hz, {result['codec']['frame_rate']:.2f} frames/s",
        f"- decoding: {decoding}",
        f"- audio metrics compare with: {result['reference']}; onset metrics with the grid",
        "- rows: " + "; ".join(ROW_NOTES[r] for r in rows),
    ]
    if result.get("frequency_baseline_acc") is not None:
        lines.append(
            f"- frequency baseline token acc (training's): {result['frequency_baseline_acc']:.3f}"
        )
    lines.append(
        "- decode time: "
        + ", ".join(f"{d} {s:.2f} s" for d, s in result["decode_seconds"].items())
        + f"; evaluation took {result['seconds']:.1f} s"
    )
    lines += ["", "## All windows", "", *_overall_table(rows), "", "## Per kit", ""]
    lines += _grouped_table("kit", result["per_kit"], KIT_COLUMNS)
    if result.get("per_tempo"):
        tempo = _grouped_table("tempo", result["per_tempo"], TEMPO_COLUMNS)
        lines += ["", "## Per tempo", "", *tempo]
    first = next(iter(rows.values()))
    lines += ["", "## Per-class onset recall (velocity > 0.3, +-50 ms)", ""]
    lines += ["| class | grid onsets | " + " | ".join(rows) + " |", "|" + "---|" * (2 + len(rows))]
    for label in CLASS_LABELS:
        n = first["class_onset_hits"][label]
        if n:
            vals = " | ".join(fmt(r["class_onset_recall"][label]) for r in rows.values())
            lines.append(f"| {label} | {n} | {vals} |")
    if "parallel" in rows or "iterative" in rows:
        lines += [
            "",
            "Token accuracy per codebook level (coarse first): "
            + "; ".join(
                f"{n} {', '.join(fmt(a) for a in rows[n]['token_acc_per_level'])}"
                for n in ("parallel", "iterative")
                if n in rows
            ),
        ]
    if result.get("worst_windows"):
        row = cfg["decodings"][0]
        lines += [
            "",
            f"Worst windows of the {row} row (lowest ViSQOL, else highest mel MAE), worst first: "
            + ", ".join(f"{i} ({result['windows'][i]['file']})" for i in result["worst_windows"])
            + "; their plots are the worst_* ones.",
        ]
    if result.get("plots"):
        lines += ["", "## Plots", ""]
        lines += [f"![{Path(p).stem}]({p})" for p in result["plots"]]
    lines += ["", "## Definitions", "", "| metric | definition |", "|---|---|"]
    pipe = "\\|"  # a literal | inside a table cell
    lines += [f"| {name} | {text.replace('|', pipe)} |" for name, text in DEFINITIONS]
    return "\n".join(lines) + "\n"


ROW_NOTES = {
    "reference": "reference = the corpus audio (the onset detector's ceiling)",
    "ceiling": "ceiling = the codec's decoding of the true tokens",
    "baseline": "baseline = another model (--baseline), one pass",
    "parallel": "parallel = the model, one pass",
    "iterative": "iterative = the model, coarse to fine",
}


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The all-windows table for a terminal."""
    head = f"{'row':<10} {'tok acc':>7} {'onsetF1':>7} {'ms':>6} {'vel rho':>7} {'melMAE':>7} "
    head += f"{'SC':>6} {'env':>6} {'ViSQOL':>6}"
    lines = [f"{result['n_windows']} windows, {result['split']} split", head]
    for name, r in result["rows"].items():
        lines.append(
            f"{name:<10} {fmt(r.get('token_acc')):>7} {fmt(r['onset_f1']):>7} "
            f"{fmt(r['timing_error_ms_median'], 2):>6} {fmt(r['velocity_rank_corr']):>7} "
            f"{fmt(r['mel_mae_db'], 2):>7} {fmt(r['spectral_convergence']):>6} "
            f"{fmt(r['envelope_correlation']):>6} {fmt(r.get('visqol'), 2):>6}"
        )
    return lines
