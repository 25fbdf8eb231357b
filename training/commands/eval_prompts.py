"""`drumgrid eval-prompts`: a prompted model on kits it never heard (and, beside them, kits it
knows): prompted renders against the sampler's, beside the best named kit and the codec's
ceiling (training/evaluation/prompted.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drumgrid.server.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="a prompted model folder")
    parser.add_argument(
        "--corpus", type=Path, required=True, metavar="DIR",
        help="the kits to prompt with (e.g. the unseen-kit corpus): GMD validation grooves",
    )  # fmt: skip
    parser.add_argument(
        "--shots", type=Path, metavar="DIR",
        help="`drumgrid shot-prompts` rendered through the same kits: adds one-shot prompts",
    )  # fmt: skip
    parser.add_argument("--seen-corpus", type=Path, metavar="DIR", help="a corpus of known kits")
    parser.add_argument("--seen-kits", default="", metavar="NAMES", help="comma-separated")
    parser.add_argument("--seen-shots", type=Path, metavar="DIR", help="their one-shot corpus")
    parser.add_argument(
        "--baseline", metavar="DIR",
        help="another model (e.g. the default it would replace), scored by kit name beside it",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="report folder")
    parser.add_argument("--grooves", type=int, default=6, metavar="N", help="per kit (default 6)")
    parser.add_argument("--seconds", type=float, default=8.0, metavar="S", help="of each groove")
    parser.add_argument(
        "--prompt-seconds", type=float, default=8.0, metavar="S", help="of the prompt recording"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--no-visqol", action="store_true", help="skip ViSQOL")


def run(args: argparse.Namespace) -> int:
    from drumgrid.server.commands.render import set_threads
    from drumgrid.training.evaluation.prompted import PromptEvalConfig, evaluate

    if args.grooves < 1 or not args.seconds > 0 or not args.prompt_seconds > 0:
        raise UserError("--grooves, --seconds and --prompt-seconds must be positive")
    set_threads(args.threads)
    cfg = PromptEvalConfig(args.grooves, args.seconds, args.prompt_seconds, not args.no_visqol)
    seen = tuple(k for k in args.seen_kits.split(",") if k)
    evaluate(
        args.model, args.corpus, args.out, cfg, args.shots, args.seen_corpus, seen,
        args.seen_shots, lambda line: print(line, file=sys.stderr), args.baseline,
    )  # fmt: skip
    print((args.out / "report.md").read_text())
    return 0
