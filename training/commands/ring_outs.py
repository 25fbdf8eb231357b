"""`drumgrid ring-outs`: write GMD-shaped MIDI of lone hits and fills that ring out into
silence, for `drumgrid corpus --gmd` (training/ring_outs.py says why)."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.training.ring_outs import RingOutSet, write_ring_outs

DEFAULTS = RingOutSet()


def add_set_arguments(
    parser: argparse.ArgumentParser,
    train: int,
    validation: int,
    seed: int,
    holds: tuple[str, str] = ("", ""),
) -> None:
    """--out, --train-files, --validation-files and --seed of a generated MIDI set (ring-outs,
    one-shot prompts); `holds`: what each split's files hold, for the help."""
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write")
    splits = (("--train-files", train, "train", holds[0]),
              ("--validation-files", validation, "validation", holds[1]))  # fmt: skip
    for flag, default, split, hold in splits:
        parser.add_argument(
            flag, type=int, default=default, metavar="N",
            help=f"files in the {split} split{hold} (default {default})",
        )  # fmt: skip
    parser.add_argument("--seed", type=int, default=seed, help="the set's seed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_set_arguments(parser, DEFAULTS.train_files, DEFAULTS.validation_files, DEFAULTS.seed)
    parser.add_argument(
        "--seconds", type=float, default=DEFAULTS.seconds, metavar="S",
        help=f"length of each file (default {DEFAULTS.seconds:g})",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    spec = RingOutSet(args.train_files, args.validation_files, args.seconds, args.seed)
    rows = write_ring_outs(args.out, spec)
    print(f"{args.out}: {len(rows)} ring-out files of {spec.seconds:g} s (info.csv, SOURCE.md)")
    return 0
