"""`drumgrid shot-prompts`: write GMD-shaped MIDI of one-shot prompts (one hit per class,
laid end to end as a user's one-shots are) for `drumgrid corpus --gmd`."""

from __future__ import annotations

import argparse

from drumgrid.training.commands.ring_outs import add_set_arguments
from drumgrid.training.shot_prompts import ShotPromptSet, write_shot_prompts

DEFAULTS = ShotPromptSet()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    holds = (", each of a random subset of classes", ", each of every class")
    add_set_arguments(parser, DEFAULTS.train_files, DEFAULTS.validation_files, DEFAULTS.seed, holds)


def run(args: argparse.Namespace) -> int:
    spec = ShotPromptSet(args.train_files, args.validation_files, args.seed)
    rows = write_shot_prompts(args.out, spec)
    print(f"{args.out}: {len(rows)} one-shot prompt files (info.csv, SOURCE.md)")
    return 0
