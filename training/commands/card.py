"""`drumgrid card`: write the model card of a trained codec or model from its run's own
files (weights folder, corpus, evaluation), so the card cannot drift from the weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.server.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "kind", choices=("codec", "model"), help="a drum codec or a grid-to-tokens model"
    )
    parser.add_argument(
        "--weights", type=Path, required=True, metavar="DIR", help="the trained folder"
    )
    parser.add_argument("--corpus", type=Path, required=True, metavar="DIR", help="its corpus")
    parser.add_argument(
        "--eval",
        type=Path,
        required=True,
        metavar="DIR",
        help="its evaluation: a `drumgrid eval-codec` (codec) or `drumgrid eval` (model) --out",
    )
    parser.add_argument(
        "--unseen-eval", type=Path, metavar="DIR",
        help="codec: a `drumgrid eval-codec` --out on kits it never trained on",
    )  # fmt: skip
    parser.add_argument(
        "--id", metavar="ID",
        help="codec: its id in `drumgrid codecs` (default drumgrid-drums); model: its packaged "
        "name, `--model ID` (default: default)",
    )  # fmt: skip
    parser.add_argument("--limits", type=Path, metavar="FILE", help="model: known limits (.md)")
    parser.add_argument(
        "--prompt-eval", type=Path, metavar="DIR",
        help="model: a `drumgrid eval-prompts` --out (a prompted model)",
    )  # fmt: skip
    parser.add_argument(
        "--bench", type=Path, metavar="FILE",
        help="model: what `drumgrid bench render` printed for these weights",
    )  # fmt: skip
    parser.add_argument(
        "--stages", metavar="NAMES",
        help="model: the recipe stages that trained it, first to last, space-separated; "
        "fewer names than runs name the last runs, continued from the eight-kits model's "
        "(default: that model's, lm ... lm-classes-more2)",
    )  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, required=True, help="the card to write")


def run(args: argparse.Namespace) -> int:
    from drumgrid.training.cards import LM_STAGES, codec_card, model_card

    report = "codec_eval.json" if args.kind == "codec" else "report.md"
    needs = [args.weights / "config.json", args.eval / report]
    if args.unseen_eval is not None:
        needs.append(args.unseen_eval / "codec_eval.json")
    if args.prompt_eval is not None:
        needs.append(args.prompt_eval / "report.md")
    for need in needs:
        if not need.is_file():
            raise UserError(f"{need}: missing; train it and run its evaluation first")
    if args.kind == "codec":
        codec_id = args.id or "drumgrid-drums"
        text = codec_card(args.weights, args.corpus, args.eval, codec_id, args.unseen_eval)
    else:
        limits, bench = (_text(f) for f in (args.limits, args.bench))
        stages = tuple(args.stages.split()) if args.stages else LM_STAGES
        text = model_card(
            args.weights, args.corpus, args.eval, limits, bench, args.prompt_eval, stages,
            args.id or "default",
        )  # fmt: skip
    args.output.write_text(text)
    print(f"card written to {args.output}")
    return 0


def _text(path: Path | None) -> str:
    if path is None:
        return ""
    if not path.is_file():
        raise UserError(f"{path}: missing; pass an existing file or leave the option out")
    return path.read_text()
