"""Model cards for what drumgrid ships: the data (GMD splits, kits and their licences), how
and where it was trained, and the evaluation tables, written from the run's own files so the
card cannot drift from the weights."""

from __future__ import annotations

import json
import os
import platform
from collections import defaultdict
from pathlib import Path
from typing import Any

from drumgrid.server.devices import cpu_model
from drumgrid.server.drum_codec.folder import read_codec_info
from drumgrid.training.egmd import EGMDIndex
from drumgrid.training.kits import records

GMD_ATTRIBUTION = (
    "The grooves are the Groove MIDI Dataset (GMD) v1.0.0 by Jon Gillick, Adam Roberts, "
    'Jesse Engel, Douglas Eck and David Bamman, "Learning to Groove with Inverse Sequence '
    'Transformations", ICML 2019 (https://magenta.tensorflow.org/datasets/groove), licensed '
    "under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). The audio was rendered "
    "from them by drumgrid through the kits below ({engines})."
)


def hardware() -> str:
    """The CPU model and core count this process sees (the card's 'trained on')."""
    model = cpu_model() or platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} cores"


def data_section(corpus: Path) -> list[str]:
    """Hours per split and kit, where each kit came from with its licence, GMD attribution."""
    index = EGMDIndex.read(corpus)
    hours: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    files: dict[str, int] = defaultdict(int)
    for row in index:
        hours[row.kit_name][row.split] += row.duration / 3600
        files[row.split] += 1
    splits = [s for s in ("train", "validation", "test") if files[s]]
    kits_file = corpus / "kits.json"
    kits = json.loads(kits_file.read_text())["kits"] if kits_file.is_file() else {}
    sources = {kits.get(name, {}).get("source", "soundfont") for name in hours}
    lines = [
        GMD_ATTRIBUTION.format(engines=records.engines_phrase({n: kits.get(n, {}) for n in hours})),
        "",
        f"| kit | {'SoundFont (bank:preset)' if sources == {'soundfont'} else 'kit (source)'} "
        "| Debian package | licence | " + " | ".join(f"{s} h" for s in splits) + " |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in splits) + " |",
    ]
    for name in sorted(hours):
        kit = kits.get(name, {})
        package, licence = records.package_and_licence(kit)
        where = records.origin(kit)
        cells = " | ".join(f"{hours[name][s]:.2f}" for s in splits)
        lines.append(f"| {name} | {where} | {package} | {licence} | {cells} |")
    total = " | ".join(f"{sum(h[s] for h in hours.values()):.2f}" for s in splits)
    lines.append(f"| all ({', '.join(f'{files[s]} {s} files' for s in splits)}) | | | | {total} |")
    return lines


def extra_data_lines(card: dict[str, Any]) -> list[str]:
    """Where the extra token caches' audio came from (`train --extra-tokens`), from each
    corpus's ATTRIBUTION.md (its first paragraph after the heading)."""
    corpora = sorted({c for stage in training_stages(card) for c in stage.get("extra_corpora", [])})
    lines = []
    for corpus in corpora:
        attribution = Path(corpus) / "ATTRIBUTION.md"
        paragraphs = attribution.read_text().split("\n\n") if attribution.is_file() else []
        source = (
            " ".join(paragraphs[1].split())
            if len(paragraphs) > 1
            else f"the corpus {Path(corpus).name} (its ATTRIBUTION.md was not at hand)"
        )
        lines += ["", f"Later stages also trained on a share of windows from: {source}"]
    return lines


def prompt_kit_lines(card: dict[str, Any]) -> list[str]:
    """The kit mixes a prompted model learnt from prompts alone (`train --prompt-kits`)."""
    mixes = [s["prompt_kits"] for s in training_stages(card) if s.get("prompt_kits")]
    if not mixes:
        return []
    voiced = ", retuned and shelved: training/kits/voicing.py" if mixes[-1].get("voiced") else ""
    return ["", f"It also learnt from prompts of {mixes[-1]['kits']} kit mixes of these kits "
            f"(each drum group from one of them: training/kits/mix.py{voiced}), never by name; "
            "their licences are those kits' above."]  # fmt: skip


def training_stages(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The training stages behind a codec or model card, first to last (each continued run
    keeps the card of the weights it started from under "init")."""
    stages = []
    stage: dict[str, Any] | None = meta
    while stage:
        stages.append(stage)
        stage = stage.get("init")
    return stages[::-1]


def _codec_stage_line(stage: dict[str, Any]) -> str:
    train: dict[str, Any] = stage.get("train", {})
    frozen = train.get("freeze_encoder", False)
    if frozen:
        what = "decoder and head only, encoder and codebooks frozen so the codes do not change"
    else:
        what = "the whole codec" + (", from the weights above" if stage.get("init") else "")
    losses = "multi-resolution mel + log-magnitude + spectral-convergence losses"
    if train.get("complex_weight", 0) > 0:
        losses += f", compressed complex-spectrum L1 (weight {train['complex_weight']})"
    if not frozen:
        losses += ", codebook and commitment losses, dead-code restarts"
    after = train.get("adversarial_after", -1)
    losses += f", discriminator from step {after}" if after >= 0 else ", no discriminator"
    return (
        f"- {stage.get('steps', '?')} steps ({what}), batch {train.get('batch_size', '?')} x "
        f"{train.get('segment_s', '?')} s, AdamW lr {train.get('lr', '?')} (warm-up, cosine), "
        f"{losses}: {stage.get('train_seconds', 0) / 3600:.2f} hours."
    )


def codec_training_lines(card: dict[str, Any]) -> list[str]:
    """One line per training stage behind a codec's card (config.json), then the total time."""
    stages = training_stages(card)
    return [
        *(_codec_stage_line(stage) for stage in stages),
        _total_line(stages, ["codec", "codec-decoder", "codec-kits"]),
    ]


def _total_line(stages: list[dict[str, Any]], recipe_stages: list[str]) -> str:
    """The summed hours of the stages, and the recipe stages that made them: `recipe_stages`
    names the first runs, or, where it names fewer, the last ones (continued from the
    eight-kits model's, LM_STAGES)."""
    hours = sum(stage.get("train_seconds", 0) for stage in stages) / 3600
    names = list(recipe_stages)
    if len(names) < len(stages):
        names = list(LM_STAGES[: len(stages) - len(names)]) + names
    recipe = " ".join(names[: len(stages)])
    return (
        f"- {hours:.2f} hours of training steps in all on {hardware()} (CPU), by "
        f"`training/recipes/default.sh {recipe}`."
    )


# The recipe stages behind the eight-kits model (the default before the twenty kits), first
# to last: `card model --stages` names these or the stages that continued from them.
LM_STAGES = (
    "lm", "lm-more", "lm-more2", "lm-latent", "lm-ring-outs", "lm-ring-outs-more", "lm-tails",
    "lm-tails-corpus", "lm-variants", "lm-more3", "lm-classes", "lm-classes-more",
    "lm-classes-more2",
)  # fmt: skip


def _lm_data_phrase(stage: dict[str, Any]) -> str:
    """What a run's steps were drawn from beyond its cache's windows by kit name."""
    train: dict[str, Any] = stage.get("train", {})
    parts = []
    if train.get("extra_share"):
        parts.append(f"{train['extra_share']:.0%} of windows from the extra caches")
    if train.get("prompt_share"):
        shots = f", {train['shot_share']:.0%} of those one-shots" if train.get("shot_share") else ""
        parts.append(f"{train['prompt_share']:.0%} of steps from kit prompts{shots}")
        if train.get("prompt_kits_share") and stage.get("prompt_kits"):
            parts.append(f"{train['prompt_kits_share']:.0%} of prompted groups from "
                         f"{stage['prompt_kits']['kits']} kit mixes")  # fmt: skip
    return "".join(f", {p}" for p in parts)


def _lm_loss_phrase(train: dict[str, Any]) -> str:
    """The latent loss's tail weight and the decoded losses, where a run had them."""
    parts = []
    if train.get("tail_weight"):
        parts.append(f"tail frames weighted {1 + train['tail_weight']:g}x")
    over = f" over {train['level_range_db']:g} dB" if "level_range_db" in train else ""
    for key, name in (("level_weight", "a level loss"), ("mel_weight", "a mel loss")):
        if train.get(key):
            parts.append(f"{name} (weight {train[key]:g}{over})")
    return "".join(f", {p}" for p in parts)


def lm_training_lines(card: dict[str, Any], recipe: tuple[str, ...] = LM_STAGES) -> list[str]:
    """One line per training run behind a model's card (first, then each continuation),
    then the total time and the recipe stages (`recipe`, first to last) that ran them."""
    stages = training_stages(card)
    lines = []
    for stage in stages:
        train: dict[str, Any] = stage.get("train", {})
        start = ", continuing from the weights above" if stage.get("init") else ""
        if stage.get("grown_from_layers"):
            start += f" grown from {stage['grown_from_layers']} to {stage['layers']} blocks"
        if stage.get("transfer"):
            moved = stage["transfer"]
            start += (f" carried over from the tokens of {moved['from_codec']} (kits kept: "
                      f"{', '.join(moved['kits_carried']) or 'none'})")  # fmt: skip
        if "latent_nmse" in stage.get("validation", {}):
            start += f", with the latent head (loss weight {train.get('latent_weight', 1.0):g})"
        start += _lm_data_phrase(stage) + _lm_loss_phrase(train)
        steps, planned = stage.get("steps", "?"), train.get("steps")
        of = f" (of a {planned}-step schedule)" if planned not in (None, steps) else ""
        share = train.get("full_mask_share")
        full = f" ({share:.0%} of windows masked entirely)" if share else ""
        lines.append(
            f"- {steps} steps{of}{start}, batch {train.get('batch_size', '?')}, "
            f"windows of {train.get('window_beats', '?')} beats, AdamW lr {train.get('lr', '?')} "
            f"(warm-up {train.get('warmup_steps', '?')} steps, cosine), SoundStorm-style "
            f"masking{full}: {stage.get('train_seconds', 0) / 3600:.2f} hours."
        )
    return [*lines, _total_line(stages, list(recipe))]


def codec_card(
    codec: Path,
    corpus: Path,
    evaluation: Path,
    codec_id: str = "drumgrid-drums",
    unseen: Path | None = None,
) -> str:
    """MODEL_CARD.md for a trained drum codec, from CODEC/config.json (architecture, steps,
    training settings and seconds) and EVALUATION/codec_eval.* (from `drumgrid eval-codec`);
    `unseen`: the same evaluation on kits it never trained on."""
    info = read_codec_info(codec)
    cfg = info.config
    report = json.loads((evaluation / "codec_eval.json").read_text())
    table = (evaluation / "codec_eval.md").read_text().strip()
    plots = sorted((evaluation / "plots").glob("*.png"))
    lines = [
        f"# {codec_id}: drumgrid's drum codec",
        "",
        f"A neural audio codec for drum audio: {cfg.sample_rate} Hz mono, "
        f"{cfg.frame_rate:.2f} frames per second, "
        f"{cfg.n_codebooks} x {cfg.codebook_size} residual codes. STFT analysis, ConvNeXt "
        f"encoder ({cfg.encoder_blocks} blocks) and decoder ({cfg.decoder_blocks} blocks) "
        f"at dim {cfg.dim} working at the frame rate, factorised l2-normalised RVQ, a Vocos "
        "magnitude + phase head and an inverse STFT. Weights in float16 safetensors.",
        "",
        "## Data",
        "",
        *data_section(corpus),
        "",
        "Trained on the train split; evaluated on the validation split (grooves never seen in "
        "training, kits seen in training).",
        "",
        "## Training",
        "",
        *codec_training_lines(info.card),
        "",
        "## Evaluation",
        "",
        table,
        "",
        "Targets: mel MAE <= 1.5 dB, MR-STFT SC <= 0.20, onset F1 >= 0.97, every level "
        "using at least half of its codes; random-init rows are the floor training must beat.",
        "",
        *(f"![{p.stem}](plots/{p.name})" for p in plots),
        "",
        f"Evaluated on {report['setting']['clips']} clips; reproduce with `drumgrid eval-codec "
        "--corpus CORPUS --out DIR --random encodec-24k,encodec-32k,dac-44k,xcodec`.",
    ]
    if unseen is not None:
        clips = json.loads((unseen / "codec_eval.json").read_text())["setting"]["clips"]
        lines += [
            "",
            "## Kits it never trained on",
            "",
            (unseen / "codec_eval.md").read_text().strip(),
            "",
            f"{clips} clips of the unseen-kit corpus's validation split (docs/kits_study.md).",
        ]
    return "\n".join(lines) + "\n"


def _report_section(report: str, title: str) -> list[str]:
    """The lines of `## title` in an evaluation report.md, without the heading."""
    lines = report.splitlines()
    try:
        start = lines.index(f"## {title}") + 1
    except ValueError:
        return [f"(no '{title}' section in the evaluation report)"]
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def _prompt_section(prompt_eval: Path) -> list[str]:
    """eval-prompts' report without its heading, and its plots as packaged."""
    report = (prompt_eval / "report.md").read_text().strip().splitlines()
    body = [line for line in report if not line.startswith("# ")]
    plots = sorted((prompt_eval / "plots").glob("*.png"))
    return [*body, "", *(f"![{p.stem}](plots/prompted_{p.name})" for p in plots)]


def model_card(
    model: Path,
    corpus: Path,
    evaluation: Path,
    limits: str = "",
    bench: str = "",
    prompt_eval: Path | None = None,
    recipe: tuple[str, ...] = LM_STAGES,
    name: str = "default",
) -> str:
    """MODEL_CARD.md for a trained grid-to-tokens model packaged as `--model NAME`, from
    MODEL/config.json (its card: data, steps, seconds, settings), EVALUATION/report.md + plots
    (from `drumgrid eval`), a prompted model's PROMPT_EVAL/report.md + plots (from `drumgrid
    eval-prompts`, its plots packaged as plots/prompted_KIT.png) and the printout of
    `drumgrid bench render` with these weights, quoted as it came."""
    config = json.loads((model / "config.json").read_text())
    card, arch, codec = config.get("card", {}), config["model"], config["codec"]
    report = (evaluation / "report.md").read_text()
    # The worst windows (before/after when the evaluation had a --baseline row), else a spread.
    plots = sorted((evaluation / "plots").glob("worst_*.png"))[:3]
    plots = plots or sorted((evaluation / "plots").glob("window_*.png"))[:3]
    lines = [
        f"# drumgrid {name} model",
        "",
        f"A bidirectional Transformer ({arch.get('preset', '?')} preset: dim {arch['dim']}, "
        f"{arch['n_layers']} layers, {arch['n_heads']} heads) that predicts the "
        f"{codec['n_codebooks']} x {codec['codebook_size']} tokens of the {codec['id']} codec "
        f"({codec['frame_rate']:.2f} frames/s) from an expressive drum grid; the codec's "
        "decoder turns them into 44.1 kHz audio. "
        + (
            f"A latent head regresses the codec's {arch['latent_dim']}-d latent; one-pass "
            "(parallel) decoding quantises its prediction to the codes, iterative decoding and "
            "takes sample the token heads. "
            if arch.get("latent_dim")
            else ""
        )
        + "Kits: "
        + ", ".join(f"`{k}`" for k in config.get("kits", []))
        + "."
        + (
            " It also renders in the sound of a kit prompt: a few seconds of a recording with "
            "its MIDI, or one one-shot per class (`--prompt`, `--prompt-shots`)."
            if arch.get("prompted")
            else ""
        ),
        "",
        "## Data",
        "",
        *data_section(corpus),
        "",
        f"Trained on {card.get('train_files', '?')} train files ({card.get('train_hours', 0):.1f} "
        "h); evaluated on the validation split: grooves never seen in training, every kit.",
        *extra_data_lines(card),
        *prompt_kit_lines(card),
        "",
        "## Training",
        "",
        *lm_training_lines(card, recipe),
        "",
        "## Evaluation",
        "",
        *_report_section(report, "All windows"),
        "",
        "### Per kit",
        *_report_section(report, "Per kit"),
        "",
        *(
            ["### Per tempo", *_report_section(report, "Per tempo"), ""]
            if "## Per tempo" in report
            else []
        ),
        "Rows: reference = the sampler's render of the same groove and kit (FluidSynth or "
        "sfizz, as the corpus was made; the onset "
        "detector's own ceiling); ceiling = the codec's decoding of the true tokens; baseline = "
        "the model this one replaces, one pass, on the same windows; parallel / iterative = "
        "the model. Definitions: EVALUATION.md beside this card.",
        "",
        *(f"![{p.stem}](plots/{p.name})" for p in plots),
        "",
        "Each plot: the sampler's render (top) and the model's renders, log-mel, with the "
        "grid's onsets overlaid (colour = drum class, dotted = velocity <= 0.3) and the "
        "detected onsets marked.",
    ]
    if prompt_eval is not None:
        lines += ["", "## Prompted rendering", "", *_prompt_section(prompt_eval)]
    if bench.strip():
        lines += ["", "## Speed", "", f"`drumgrid bench render --model {name}` on {hardware()}:",
                  "", "```", bench.strip(), "```"]  # fmt: skip
    if limits.strip():
        lines += ["", "## Known limits", "", limits.strip()]
    return "\n".join(lines) + "\n"
