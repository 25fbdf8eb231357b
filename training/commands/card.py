"""`drumgrid card`: write the model card of a trained codec from its run's own files."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.server.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=("codec",), help="what the card describes")
    parser.add_argument(
        "--weights", type=Path, required=True, metavar="DIR", help="the trained codec's folder"
    )
    parser.add_argument("--corpus", type=Path, required=True, metavar="DIR", help="its corpus")
    parser.add_argument(
        "--eval", type=Path, required=True, metavar="DIR", help="a `drumgrid eval-codec` --out"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="the card to write")


def run(args: argparse.Namespace) -> int:
    from drumgrid.training.cards import codec_card

    for need in (args.weights / "config.json", args.eval / "codec_eval.json"):
        if not need.is_file():
            raise UserError(f"{need}: missing; train the codec and run `drumgrid eval-codec`")
    args.output.write_text(codec_card(args.weights, args.corpus, args.eval))
    print(f"card written to {args.output}")
    return 0
