"""`drumgrid ring-outs`: write GMD-shaped MIDI of lone hits and fills that ring out into
silence, for `drumgrid corpus --gmd` (training/ring_outs.py says why)."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.training.ring_outs import RingOutSet, write_ring_outs

DEFAULTS = RingOutSet()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write")
    parser.add_argument(
        "--train-files", type=int, default=DEFAULTS.train_files, metavar="N",
        help=f"files in the train split (default {DEFAULTS.train_files})",
    )  # fmt: skip
    parser.add_argument(
        "--validation-files", type=int, default=DEFAULTS.validation_files, metavar="N",
        help=f"files in the validation split (default {DEFAULTS.validation_files})",
    )  # fmt: skip
    parser.add_argument(
        "--seconds", type=float, default=DEFAULTS.seconds, metavar="S",
        help=f"length of each file (default {DEFAULTS.seconds:g})",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="the set's seed")


def run(args: argparse.Namespace) -> int:
    spec = RingOutSet(args.train_files, args.validation_files, args.seconds, args.seed)
    rows = write_ring_outs(args.out, spec)
    print(f"{args.out}: {len(rows)} ring-out files of {spec.seconds:g} s (info.csv, SOURCE.md)")
    return 0
