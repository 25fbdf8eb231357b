"""What a codec keeps: reconstruction metrics on held-out corpus clips, for drumgrid's codec
while it trains and for any registered codec (`drumgrid eval-codec`), with spectrogram plots.

Every codec is scored at the corpus's rate against the original clip: a codec with a lower
rate is fed a resampled clip and its output resampled back, so what it drops counts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from drumgrid.server.codecs.base import Codec, LevelDecoder
from drumgrid.server.codecs.resample import resample
from drumgrid.server.drum_codec import DrumCodecModel
from drumgrid.training.evaluation.report import fmt
from drumgrid.training.metrics import (
    detect_onsets,
    mel_mae_db,
    onset_score,
    spectral_convergence,
    visqol_moslqo,
)

ONSET_WINDOW_S = 0.02  # a codec must keep hits within +-20 ms
METRIC_KEYS = ("mel_mae_db", "mrstft_sc", "onset_f1")
REPORT_KEYS = (*METRIC_KEYS, "visqol")  # ViSQOL in reports, not in training's validation


def reconstruction_scores(
    reference: np.ndarray, estimate: np.ndarray, sr: int, visqol: bool = False
) -> dict[str, float | None]:
    """Mel MAE dB, MR-STFT spectral convergence, onset F1 against the reference's onsets,
    and with `visqol` the MOS-LQO (training/metrics/perceptual.py; None for a silent clip)."""
    f1 = onset_score(
        detect_onsets(reference, sr), detect_onsets(estimate, sr), window_s=ONSET_WINDOW_S
    ).f1
    scores: dict[str, float | None] = {
        "mel_mae_db": mel_mae_db(reference, estimate, sr),
        "mrstft_sc": spectral_convergence(reference, estimate),
        "onset_f1": f1,
    }
    if visqol:
        scores["visqol"] = visqol_moslqo(reference, estimate, sr)
    return scores


def _mean_of(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def _usage(used: torch.Tensor) -> list[float]:  # [K, V] bool -> share of codes used per level
    return [round(float(u), 3) for u in used.float().mean(dim=1)]


@torch.no_grad()
def evaluate_codec(
    model: DrumCodecModel, clips: list[np.ndarray], n_levels: int | None = None
) -> dict[str, Any]:
    """The training loop's validation: metrics of the model's reconstructions and the share
    of each level's codes used over all clips."""
    if not clips:
        return {}
    model.eval()
    sr, hop = model.config.sample_rate, model.config.hop_length
    scores = []
    used = torch.zeros(model.config.n_codebooks, model.config.codebook_size, dtype=torch.bool)
    for clip in clips:
        n = len(clip) // hop * hop
        codes = model.encode(torch.from_numpy(clip[:n])[None])[:, :n_levels]
        recon = model.decode(codes)[0].numpy()
        for k in range(codes.shape[1]):
            used[k, codes[0, k]] = True
        scores.append(reconstruction_scores(clip[:n], recon, sr))
    model.train()
    means = {k: float(np.mean([s[k] for s in scores])) for k in METRIC_KEYS}
    return {**means, "code_usage": _usage(used[: codes.shape[1]])}


@dataclass
class CodecResult:
    """One codec's scores over the evaluation clips."""

    codec_id: str
    weights: str  # "trained" or "random init"
    sample_rate: int
    kbps: float
    per_clip: list[dict[str, float | None]] = field(default_factory=list)  # None: unscored
    code_usage: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        means = {k: _mean_of(self.per_clip, k) for k in REPORT_KEYS}
        return {
            "codec": self.codec_id,
            "weights": self.weights,
            "sample_rate": self.sample_rate,
            "kbps": round(self.kbps, 2),
            **means,
            "code_usage": self.code_usage,
        }


@torch.inference_mode()
def roundtrip(
    codec: Codec, clip: np.ndarray, corpus_rate: int, levels: int
) -> tuple[np.ndarray, torch.Tensor]:
    """One clip through `codec` at its own rate, back at the corpus's rate and length.
    Returns (reconstruction, the `levels` coarsest tokens [levels, T])."""
    wave = resample(clip, corpus_rate, codec.sample_rate)
    tokens = codec.encode(wave)[:levels]
    if levels < codec.n_codebooks:
        if not isinstance(codec, LevelDecoder):
            raise ValueError(
                f"codec {codec.id} decodes only all {codec.n_codebooks} levels, got {levels}"
            )
        out = codec.decode_levels(tokens[None], len(wave))[0]
    else:
        out = codec.decode(tokens, len(wave))
    recon = resample(out.float().cpu().numpy(), codec.sample_rate, corpus_rate)[: len(clip)]
    return np.pad(recon, (0, len(clip) - len(recon))), tokens.cpu()


def roundtrip_clips(
    codec: Codec,
    weights: str,
    clips: list[np.ndarray],
    corpus_rate: int,
    levels: int | None = None,
    visqol: bool = False,
) -> CodecResult:
    """Every clip round-tripped through `codec` and scored at the corpus's rate."""
    levels = levels or codec.n_codebooks
    kbps = codec.bits_per_second * levels / codec.n_codebooks / 1e3
    result = CodecResult(codec.id, weights, codec.sample_rate, kbps)
    used = torch.zeros(levels, codec.codebook_size, dtype=torch.bool)
    for clip in clips:
        recon, tokens = roundtrip(codec, clip, corpus_rate, levels)
        for k in range(levels):
            used[k, tokens[k]] = True
        result.per_clip.append(reconstruction_scores(clip, recon, corpus_rate, visqol))
    result.code_usage = _usage(used)
    return result


def cached_roundtrip_clips(
    folder: Path,
    codec: Codec,
    weights: str,
    clips: list[np.ndarray],
    corpus_rate: int,
    setting: dict[str, Any],
) -> CodecResult:
    """roundtrip_clips, kept in FOLDER/results/ under a key of the codec's token space (its
    weights included) and the clip setting: a rerun scores only what changed (a random-init
    floor takes minutes on a CPU; a new trained codec, seconds)."""
    blob = json.dumps([codec.config_hash, weights, setting], sort_keys=True, default=str)
    path = folder / "results" / f"{codec.id}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}.json"
    if path.is_file():
        return CodecResult(**json.loads(path.read_text()))
    result = roundtrip_clips(
        codec, weights, clips, corpus_rate, setting.get("levels"), bool(setting.get("visqol"))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result)))
    return result


def _per_kit(clips: list[dict[str, Any]], kits: list[str]) -> dict[str, dict[str, Any]]:
    """Each kit's mean scores over its clips (kits[i]: the kit of clips[i])."""
    out = {}
    for kit in sorted(set(kits)):
        mine = [c for c, k in zip(clips, kits, strict=True) if k == kit]
        out[kit] = {**{key: _mean_of(mine, key) for key in REPORT_KEYS}, "clips": len(mine)}
    return out


def write_report(
    out: Path, results: list[CodecResult], setting: dict[str, Any], kits: list[str] | None = None
) -> Path:
    """codec_eval.json (per clip, per kit and summary) and codec_eval.md (the tables);
    kits[i] is the kit of clip i."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [r.summary() for r in results]
    per_clip = {f"{r.codec_id} ({r.weights})": r.per_clip for r in results}
    per_kit = {name: _per_kit(clips, kits) for name, clips in per_clip.items()} if kits else {}
    data = {"setting": setting, "codecs": rows, "per_clip": per_clip, "per_kit": per_kit}
    (out / "codec_eval.json").write_text(json.dumps(data, indent=1))
    lines = [
        "| codec | weights | rate | kbps | ViSQOL | mel MAE dB | MR-STFT SC | onset F1 (+-20 ms) "
        "| codes used per level (min / mean) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in rows:
        usage = s["code_usage"]
        lines.append(
            f"| {s['codec']} | {s['weights']} | {s['sample_rate']} | {s['kbps']:.2f} "
            f"| {fmt(s.get('visqol'), 2)} | {s['mel_mae_db']:.2f} | {s['mrstft_sc']:.3f} "
            f"| {s['onset_f1']:.3f} "
            f"| {min(usage):.3f} / {np.mean(usage):.3f} |"
        )
    notes = (
        f"{setting['clips']} clips of {setting['clip_seconds']:g} s from the {setting['split']} "
        f"split of {setting['corpus']} (at {setting['sample_rate']} Hz; codecs at another rate "
        "get a resampled clip and are scored on their output resampled back). Mel MAE: 80 HTK "
        "bands 20 Hz-14 kHz, peak-normalised, floored 80 dB below the reference's peak. SC: mean "
        "over STFT sizes 512/1024/2048. Onset F1 against the original clip's detected onsets. "
        "ViSQOL: v3 audio mode (MOS-LQO, 4.73 = identical), both signals mono at 48 kHz."
    )
    if per_kit:
        lines += ["", "| codec | kit | ViSQOL | mel MAE dB | MR-STFT SC | onset F1 | clips |"]
        lines += ["| --- | --- | --- | --- | --- | --- | --- |"]
        for name, by_kit in per_kit.items():
            for kit, s in by_kit.items():
                lines.append(
                    f"| {name} | {kit} | {fmt(s['visqol'], 2)} | {fmt(s['mel_mae_db'], 2)} "
                    f"| {fmt(s['mrstft_sc'])} | {fmt(s['onset_f1'])} | {s['clips']} |"
                )
    (out / "codec_eval.md").write_text("\n".join(lines) + "\n\n" + notes + "\n")
    return out / "codec_eval.md"


def plot_clips(
    out: Path,
    clips: list[np.ndarray],
    codecs: list[tuple[str, Codec]],
    sr: int,
    n_plots: int,
    levels: int | None = None,
) -> list[Path]:
    """One figure per plotted clip: the original and each (label, codec)'s reconstruction as
    log-mel spectrograms, the original's detected onsets marked on every panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from drumgrid.training.evaluation.plots import draw_mel

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i in np.linspace(0, len(clips) - 1, num=min(n_plots, len(clips))).round().astype(int):
        panels = [("original", clips[i])] + [
            (label, roundtrip(codec, clips[i], sr, levels or codec.n_codebooks)[0])
            for label, codec in codecs
        ]
        onsets = detect_onsets(clips[i], sr)
        fig, axes = plt.subplots(
            len(panels), 1, figsize=(10, 2.2 * len(panels) + 0.6), sharex=True, squeeze=False
        )
        for ax, (title, audio) in zip(axes[:, 0], panels, strict=True):
            draw_mel(ax, audio, sr)
            ax.set_xlabel("")
            for t in onsets:
                ax.axvline(t, color="#ff7f00", lw=0.8, alpha=0.8)
            ax.set_title(title, fontsize=9, loc="left")
        axes[-1, 0].set_xlabel("time (s); orange lines: the original's onsets")
        fig.tight_layout()
        path = out / f"clip_{i:03d}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written
