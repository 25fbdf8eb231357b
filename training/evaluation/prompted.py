"""`drumgrid eval-prompts`: a prompted model on kits it never heard, against the sampler's
own render of each kit.

For each kit of a corpus (the unseen-kit corpus: GMD validation grooves through kits no
model trained on), the first `seconds` of `grooves` validation files are rendered through
the engine, as `drumgrid render` renders them (parallel decoding, the gate, no tail):

- `prompt`: from a recording of the kit (the first `prompt_seconds` of another validation
  file of it, with its MIDI), read as server/prompts.py reads a user's recording;
- `shots`: from one one-shot per class (the kit's validation file of a one-shot corpus,
  `drumgrid shot-prompts` rendered through the same kits, cut at its hits into the samples a
  user would give);
- every named kit of the model, the best one per kit (by mean ViSQOL) chosen in hindsight;
- `ceiling`: the codec's round trip of the sampler's render;
- `baseline` (with a baseline model, e.g. the default the model would replace): its render
  by the kit's name where it knows the kit, else its best named kit in hindsight.

Scores: ViSQOL (audio mode) and log-mel MAE against the sampler's render; the prompted 8 s
renders' real-time factor. Seen kits (a corpus of kits the model knows) score the same way,
prompted beside named. Plots: per kit, the sampler's render, the prompted one and the best
named kit's.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from drumgrid.server.drums import DrumClass
from drumgrid.server.engine import Engine, RenderOptions
from drumgrid.server.errors import UserError
from drumgrid.server.midi_io import read_midi
from drumgrid.server.prompts import Prompt, prompt_from_recording, prompt_from_shots
from drumgrid.training import metrics as M
from drumgrid.training.egmd import EGMDIndex, EGMDRow

ROWS = ("ceiling", "prompt", "shots", "prompt_fit", "shots_fit", "named", "baseline")
# "prompt_fit", "shots_fit": what a render from the recording, from the one-shots, gives by
# default (the prompt, or the known kit it sounds like: server/prompt_fit.py); "named": the
# best named kit, in hindsight; "baseline": another model's named render (absent without one)
FITTED = {"prompt": "prompt_fit", "shots": "shots_fit"}  # a prompt's row -> its fitted row


@dataclass(frozen=True)
class PromptEvalConfig:
    grooves: int = 6  # validation files per kit
    seconds: float = 8.0  # rendered of each groove
    prompt_seconds: float = 8.0  # of the recording a prompt takes
    visqol: bool = True


@dataclass
class KitResult:
    """One kit's scores: row -> per-groove scores, and each named kit's."""

    kit: str
    seen: bool
    visqol: dict[str, list[float]] = field(default_factory=dict)
    mel: dict[str, list[float]] = field(default_factory=dict)
    named_visqol: dict[str, list[float]] = field(default_factory=dict)
    named_mel: dict[str, list[float]] = field(default_factory=dict)
    baseline_visqol: dict[str, list[float]] = field(default_factory=dict)  # its kits, as named
    baseline_mel: dict[str, list[float]] = field(default_factory=dict)
    prompt_source: str = ""
    shots_source: str = ""
    # the known kit each prompt ("prompt", "shots") renders as by default ("": itself)
    fitted: dict[str, str] = field(default_factory=dict)

    @property
    def best_named(self) -> str:
        return _best(self.named_visqol, self.named_mel)

    @property
    def best_baseline(self) -> str:
        return _best(self.baseline_visqol, self.baseline_mel) if self.baseline_mel else ""

    def mean(self, row: str, metric: str = "visqol") -> float:
        if row in ("named", "baseline"):
            kits = self.named_visqol if row == "named" else self.baseline_visqol
            if metric != "visqol":
                kits = self.named_mel if row == "named" else self.baseline_mel
            best = self.best_named if row == "named" else self.best_baseline
            return float(np.mean(kits[best])) if best else float("nan")
        table = self.visqol if metric == "visqol" else self.mel
        return float(np.mean(table[row])) if table.get(row) else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {
            "kit": self.kit, "seen": self.seen, "best_named": self.best_named,
            "best_baseline": self.best_baseline,
            "prompt_source": self.prompt_source, "shots_source": self.shots_source,
            "fitted": self.fitted,
            "visqol": {r: self.mean(r) for r in ROWS},
            "mel_mae_db": {r: self.mean(r, "mel") for r in ROWS},
            "per_groove_visqol": self.visqol, "per_groove_mel_mae_db": self.mel,
            "named_visqol": {k: float(np.mean(v)) for k, v in self.named_visqol.items()},
            "named_mel_mae_db": {k: float(np.mean(v)) for k, v in self.named_mel.items()},
            "baseline_visqol": {k: float(np.mean(v)) for k, v in self.baseline_visqol.items()},
            "baseline_mel_mae_db": {k: float(np.mean(v)) for k, v in self.baseline_mel.items()},
        }  # fmt: skip


def _best(visqol: dict[str, list[float]], mel: dict[str, list[float]]) -> str:
    """The kit scoring best: by mean ViSQOL, by mel MAE where ViSQOL was skipped."""
    if visqol and not np.isnan(next(iter(visqol.values()))).any():
        return max(visqol, key=lambda k: float(np.mean(visqol[k])))
    return min(mel, key=lambda k: float(np.mean(mel[k])))


def read_audio(path: Path, seconds: float | None = None) -> tuple[np.ndarray, int]:
    wave, rate = sf.read(str(path), dtype="float32", always_2d=True)
    wave = wave.mean(1)
    return (wave if seconds is None else wave[: round(seconds * rate)]), int(rate)


def shots_of(index: EGMDIndex, row: EGMDRow) -> dict[DrumClass, tuple[np.ndarray, int]]:
    """A one-shot corpus file cut at its hits into one sample per class (each up to the next
    hit), the samples a user would give."""
    wave, rate = read_audio(index.audio_path(row))
    hits = sorted(read_midi(index.midi_path(row)).hits, key=lambda h: h.time_s)
    out = {}
    for i, hit in enumerate(hits):
        end = hits[i + 1].time_s if i + 1 < len(hits) else len(wave) / rate
        out[hit.drum_class] = (wave[round(hit.time_s * rate) : round(end * rate)], rate)
    return out


def pick_rows(index: EGMDIndex, kit: str, grooves: int, seconds: float) -> tuple[list, EGMDRow]:
    """`grooves` validation files of a kit at least `seconds` long, spread over the list, and
    another for the prompt."""
    rows = sorted(
        (r for r in index.select(split="validation", kits=[kit]) if r.duration >= seconds),
        key=lambda r: r.midi_filename,
    )
    if len(rows) < grooves + 1:
        raise UserError(f"kit {kit}: {len(rows)} validation files of {seconds:g} s or more; "
                        f"need {grooves + 1}")  # fmt: skip
    picks = np.linspace(0, len(rows) - 2, grooves).round().astype(int)
    chosen = [rows[i] for i in picks]
    return chosen, next(r for r in reversed(rows) if r not in chosen)


def score(ref: np.ndarray, est: np.ndarray, rate: int, visqol: bool) -> tuple[float, float]:
    n = min(len(ref), len(est))
    q = M.visqol_moslqo(ref[:n], est[:n], rate) if visqol else None
    return (float("nan") if q is None else float(q)), M.mel_mae_db(ref[:n], est[:n], rate)


@dataclass(frozen=True)
class KitPlan:
    """What one kit's evaluation reads, chosen before anything renders."""

    kit: str
    seen: bool
    index: EGMDIndex
    grooves: list[EGMDRow]
    prompt_row: EGMDRow
    shots_index: EGMDIndex | None
    shots_row: EGMDRow | None


def plan_kit(
    index: EGMDIndex, shots_index: EGMDIndex | None, kit: str, cfg: PromptEvalConfig, seen: bool
) -> KitPlan:
    grooves, prompt_row = pick_rows(index, kit, cfg.grooves, cfg.seconds)
    shots_row = None
    if shots_index is not None:
        found = list(shots_index.select(split="validation", kits=[kit]))
        if not found:
            raise UserError(f"{shots_index.root}: no validation one-shot file of kit {kit}")
        shots_row = found[0]
    return KitPlan(kit, seen, index, grooves, prompt_row, shots_index, shots_row)


def evaluate_kit(
    engine: Engine,
    plan: KitPlan,
    cfg: PromptEvalConfig,
    on_render: Callable[[str, float, float], None],
    keep: dict[str, np.ndarray] | None = None,
    baseline: Engine | None = None,
) -> KitResult:
    """Every row of one kit; `on_render(row, audio seconds, render seconds)` per render;
    `keep` receives the first groove's audio per row, for the plots."""
    index, kit, rows, prompt_row = plan.index, plan.kit, plan.grooves, plan.prompt_row
    codec, result = engine.codec, KitResult(kit, plan.seen)
    wave, rate = read_audio(index.audio_path(prompt_row), cfg.prompt_seconds)
    played = read_midi(index.midi_path(prompt_row)).cut(len(wave) / rate)
    prompts: dict[str, Prompt] = {
        "prompt": prompt_from_recording(wave, rate, played, codec, prompt_row.audio_filename)
    }
    result.prompt_source = prompt_row.audio_filename
    if plan.shots_index is not None and plan.shots_row is not None:
        shots = shots_of(plan.shots_index, plan.shots_row)
        prompts["shots"] = prompt_from_shots(shots, codec, plan.shots_row.audio_filename)
        result.shots_source = plan.shots_row.audio_filename
    options = RenderOptions(decoding="parallel", tail_s=0.0, prompt_fit=False)
    result.fitted = {name: engine.fit_prompt(p).kit or "" for name, p in prompts.items()}
    named = [("kit", engine, kit_name, result.named_visqol, result.named_mel)
             for kit_name in engine.kits]  # fmt: skip
    if baseline is not None:
        known = [kit] if kit in baseline.kits else list(baseline.kits)
        named += [("baseline", baseline, kit_name, result.baseline_visqol, result.baseline_mel)
                  for kit_name in known]  # fmt: skip
    for g, row in enumerate(rows):
        groove = read_midi(index.midi_path(row)).cut(cfg.seconds)
        ref, ref_rate = read_audio(index.audio_path(row), cfg.seconds)
        if ref_rate != codec.sample_rate:
            raise UserError(f"{index.root}: audio at {ref_rate} Hz, the codec's is "
                            f"{codec.sample_rate}")  # fmt: skip
        renders: dict[str, np.ndarray] = {}
        with torch.inference_mode():
            renders["ceiling"] = codec.decode(codec.encode(ref)).cpu().numpy()[: len(ref)]
        for name, prompt in prompts.items():
            t0 = time.perf_counter()
            renders[name] = engine.render(groove, options, prompt=prompt)[0].audio[:, 0]
            on_render(name, cfg.seconds, time.perf_counter() - t0)
        for tag, renderer, name, visqols, mels in named:
            audio = renderer.render(groove, replace(options, kit=name))[0].audio[:, 0]
            q, mel = score(ref, audio, rate, cfg.visqol)
            visqols.setdefault(name, []).append(q)
            mels.setdefault(name, []).append(mel)
            renders[f"{tag}:{name}"] = audio
        for name in ("ceiling", *prompts):
            q, mel = score(ref, renders[name], rate, cfg.visqol)
            result.visqol.setdefault(name, []).append(q)
            result.mel.setdefault(name, []).append(mel)
        for name, fitted in result.fitted.items():  # the named kit's scores, or the prompt's
            fit_row = FITTED[name]
            renders[fit_row] = renders[f"kit:{fitted}" if fitted else name]
            for scores, kits in ((result.visqol, result.named_visqol),
                                 (result.mel, result.named_mel)):  # fmt: skip
                scores.setdefault(fit_row, []).append(
                    (kits[fitted] if fitted else scores[name])[-1]
                )
        if g == 0 and keep is not None:
            onsets = np.array([h.time_s for h in groove.hits])
            keep.update({"sampler": ref, "onsets": onsets, **renders})
    return result


def evaluate(
    model: str | Path,
    corpus: Path,
    out: Path,
    cfg: PromptEvalConfig,
    shots: Path | None = None,
    seen_corpus: Path | None = None,
    seen_kits: tuple[str, ...] = (),
    seen_shots: Path | None = None,
    progress: Callable[[str], None] = lambda line: None,
    baseline: str | Path | None = None,
) -> dict[str, Any]:
    """Score the model on every kit of `corpus` (and `seen_kits` of `seen_corpus`), and the
    `baseline` model by name beside it, write metrics.json, report.md and plots under `out`,
    and return the metrics."""
    engine = Engine.load(model, "cpu", "eager", precision="fp32")
    engine.require_prompted()
    base = None
    if baseline is not None:
        weights = _weights_of(baseline)
        if weights is not None and weights == _weights_of(model):
            raise UserError(f"--baseline {baseline} is the model itself (the same weights); "
                            "name the model it would replace")  # fmt: skip
        base = Engine.load(baseline, "cpu", "eager", precision="fp32")
        if base.sample_rate != engine.sample_rate:
            raise UserError(f"--baseline {baseline} renders at {base.sample_rate} Hz, the model "
                            f"at {engine.sample_rate}: scores would not compare")  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    speeds: list[float] = []

    def on_render(row: str, audio_s: float, taken_s: float) -> None:
        speeds.append(audio_s / taken_s)

    sets: list[tuple[EGMDIndex, Path | None, tuple[str, ...], bool]] = [
        (EGMDIndex.read(corpus), shots, (), False)
    ]
    if seen_corpus is not None and seen_kits:
        sets.append((EGMDIndex.read(seen_corpus), seen_shots, seen_kits, True))
    plans = []  # every kit's files first: a kit that cannot be scored stops it before any work
    for index, shots_dir, only, seen in sets:
        shots_index = EGMDIndex.read(shots_dir) if shots_dir is not None else None
        plans += [plan_kit(index, shots_index, kit, cfg, seen) for kit in only or index.kits]
    results, kept = [], {}
    for plan in plans:
        progress(f"{'seen' if plan.seen else 'unseen'} kit {plan.kit}")
        keep: dict[str, np.ndarray] = {}
        results.append(evaluate_kit(engine, plan, cfg, on_render, keep, base))
        kept[f"{plan.kit}{' (seen)' if plan.seen else ''}"] = keep
    metrics = {
        "model": str(model), "corpus": str(corpus), "seen_corpus": str(seen_corpus or ""),
        "baseline": str(baseline or ""),
        "config": cfg.__dict__, "kits": [r.to_json() for r in results],
        "prompted_realtime_median": float(np.median(speeds)) if speeds else None,
    }  # fmt: skip
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "report.md").write_text(report(results, metrics, cfg))
    plot_kits(out / "plots", kept, results, engine.sample_rate)
    return metrics


def _weights_of(model: str | Path) -> bytes | None:
    """A model folder's weights digest (None for a name such as `default`)."""
    path = Path(model) / "model.safetensors"
    return hashlib.sha256(path.read_bytes()).digest() if path.is_file() else None


def _pooled(results: list[KitResult], row: str, metric: str) -> float:
    return float(np.mean([r.mean(row, metric) for r in results])) if results else float("nan")


def report(results: list[KitResult], metrics: dict[str, Any], cfg: PromptEvalConfig) -> str:
    baseline = metrics.get("baseline") or ""
    lines = [
        "# Prompted rendering",
        "",
        f"Model {metrics['model']}; the first {cfg.seconds:g} s of {cfg.grooves} validation "
        f"grooves per kit, against the sampler's render. ViSQOL (audio mode, 4.73 = "
        f"identical) / log-mel MAE dB. `prompt`: {cfg.prompt_seconds:g} s of another "
        "recording of the kit with its MIDI; `shots`: one one-shot per class; `named`: the "
        "model's best kit for it, chosen in hindsight; `ceiling`: the codec's round trip."
        + (f" `baseline`: {baseline} by the kit's name where it knows the kit, else its best "
           "kit in hindsight." if baseline else ""),
        "",
        "`prompt, fitted` and `shots, fitted`: what a render gives by default, the prompt or, "
        "where it sounds like one of the model's kits, that kit (named in brackets; "
        "server/prompt_fit.py: a recording's second half predicted better by the kit than by "
        "its first half; one-shots predicted by the kit far better than by any other).",
        "",
        "| kit | seen | ceiling | prompt | shots | prompt, fitted | shots, fitted | best named "
        f"kit | prompt - named | ceiling - prompt |{' baseline |' if baseline else ''}",
        f"|---|---|---|---|---|---|---|---|---|---|{'---|' if baseline else ''}",
    ]  # fmt: skip
    for r in results:
        cells = [f"{r.mean(row):.2f} / {r.mean(row, 'mel'):.2f}" for row in ROWS[:5]]
        for name, fitted in r.fitted.items():  # which kit each fitted row rendered as
            cells[ROWS.index(FITTED[name])] += f" ({fitted or name})"
        base = (f" {r.best_baseline}: {r.mean('baseline'):.2f} / "
                f"{r.mean('baseline', 'mel'):.2f} |" if baseline else "")  # fmt: skip
        lines.append(
            f"| {r.kit} | {'yes' if r.seen else 'no'} | {' | '.join(cells)} | "
            f"{r.best_named}: {r.mean('named'):.2f} / {r.mean('named', 'mel'):.2f} | "
            f"{r.mean('prompt') - r.mean('named'):+.2f} | "
            f"{r.mean('ceiling') - r.mean('prompt'):+.2f} |{base}"
        )
    for seen in (False, True):
        group = [r for r in results if r.seen == seen]
        if group:
            cells = [f"{_pooled(group, row, 'visqol'):.2f} / {_pooled(group, row, 'mel'):.2f}"
                     for row in ROWS[:6]]  # fmt: skip
            base = (f" {_pooled(group, 'baseline', 'visqol'):.2f} / "
                    f"{_pooled(group, 'baseline', 'mel'):.2f} |" if baseline else "")  # fmt: skip
            lines.append(f"| **{'seen' if seen else 'unseen'} mean** | | {' | '.join(cells)} "
                         f"| | |{base}")  # fmt: skip
    speed = metrics["prompted_realtime_median"]
    if speed is not None:
        lines += ["", f"Prompted {cfg.seconds:g} s renders (parallel decoding, one thread as "
                  f"set by the caller): median {speed:.1f}x real time."]  # fmt: skip
    return "\n".join(lines) + "\n"


def plot_kits(
    folder: Path, kept: dict[str, dict[str, np.ndarray]], results: list[KitResult], rate: int
) -> None:
    """Per kit, the first groove: the sampler's render, the prompted ones, the best named kit's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from drumgrid.training.evaluation.plots import draw_mel

    folder.mkdir(parents=True, exist_ok=True)
    for r in results:
        name = f"{r.kit}{' (seen)' if r.seen else ''}"
        audio = kept[name]
        panels = [("sampler", audio["sampler"])]
        panels += [(row, audio[row]) for row in ("prompt", "shots") if row in audio]
        panels.append((f"best named kit ({r.best_named})", audio[f"kit:{r.best_named}"]))
        if r.best_baseline:
            panels.append((f"baseline ({r.best_baseline})", audio[f"baseline:{r.best_baseline}"]))
        fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.2 * len(panels)), sharex=True)
        for ax, (title, wave) in zip(axes, panels, strict=True):
            draw_mel(ax, wave, rate)
            for t in audio["onsets"]:  # the grid's hits
                ax.axvline(t, color="#e41a1c", linewidth=0.6, alpha=0.6)
            ax.set_title(f"{name}: {title}", fontsize=9)
        fig.tight_layout()
        fig.savefig(folder / f"{r.kit}{'-seen' if r.seen else ''}.png", dpi=90)
        plt.close(fig)
