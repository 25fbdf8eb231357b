"""`drumgrid shot-prompts`: write GMD-shaped MIDI of one-shot prompts (one hit per class,
laid end to end as a user's one-shots are) for `drumgrid corpus --gmd`."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.training.shot_prompts import ShotPromptSet, write_shot_prompts

DEFAULTS = ShotPromptSet()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write")
    parser.add_argument(
        "--train-files", type=int, default=DEFAULTS.train_files, metavar="N",
        help=f"files of a random subset of classes (default {DEFAULTS.train_files})",
    )  # fmt: skip
    parser.add_argument(
        "--validation-files", type=int, default=DEFAULTS.validation_files, metavar="N",
        help=f"files of every class once (default {DEFAULTS.validation_files})",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="the set's seed")


def run(args: argparse.Namespace) -> int:
    spec = ShotPromptSet(args.train_files, args.validation_files, args.seed)
    rows = write_shot_prompts(args.out, spec)
    print(f"{args.out}: {len(rows)} one-shot prompt files (info.csv, SOURCE.md)")
    return 0
