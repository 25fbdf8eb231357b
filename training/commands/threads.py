"""`--threads` for the commands that run torch on the CPU for hours (train, tokenize): one
thread beside another busy job, since two threads on a shared core wait on each other for
whole time slices (measured: 6.3 s a training step against 1.1)."""

from __future__ import annotations

import argparse

from drumgrid.server.errors import UserError


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads", type=int, default=0, metavar="N",
        help="CPU threads for torch (0: torch's default, every core); 1 beside another busy "
        "job, where two threads wait on each other for whole time slices",
    )  # fmt: skip


def apply_threads(threads: int) -> None:
    if threads < 0:
        raise UserError(f"--threads {threads}: expected 0 (every core) or more")
    if threads:
        import torch

        torch.set_num_threads(threads)
