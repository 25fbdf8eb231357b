"""`drumgrid bench TARGET`: timings on this machine (server/bench/). `ops` times the native
ops against the plain PyTorch way; `render` times whole renders (a 4-bar clip at 120 bpm,
8 s, and a 64-bar one) split into conditioning, Transformer, sampling and codec decode;
`codec` times encode + decode of a 10 s clip. The daemon's latency: `drumgrid serve --bench`."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from drumgrid.server.errors import UserError

# target -> (repeats, warmup) when not given
DEFAULT_RUNS = {"ops": (10, 3), "render": (5, 1), "codec": (5, 1)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=sorted(TARGETS), help="what to time")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (render: also cuda:N, auto)")
    parser.add_argument(
        "--repeats", type=int, help="timed runs per case, median (ops 10, render 5)"
    )
    parser.add_argument("--warmup", type=int, help="untimed runs first (ops 3, render 1)")
    render = parser.add_argument_group("render")
    render.add_argument(
        "--model",
        help="model folder or a packaged model's name; without it a random model of --preset",
    )
    render.add_argument("--codec-path", help="the model's codec folder (see drumgrid render)")
    render.add_argument("--preset", default="small", help="random model's size preset")
    render.add_argument(
        "--codec", default="full", choices=["full", "tiny"],
        help="random model's codec: drumgrid-drums at its real size, or the tiny test config",
    )  # fmt: skip
    render.add_argument(
        "--backend", default="auto", choices=["auto", "eager", "compile", "tensorrt"]
    )
    render.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    render.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: half the cores, as render)"
    )
    render.add_argument(
        "--decoding", default="parallel,iterative", help="comma list of parallel, iterative"
    )
    render.add_argument("--steps", default=None, help="iterative steps (see drumgrid render)")
    render.add_argument("--clips", default="4,64", help="clip lengths in bars at 120 bpm")
    render.add_argument(
        "--prompt", type=float, default=0.0, metavar="S",
        help="also time each render from an S-second kit prompt, beside the named kit's (a "
        "prompted model; the random model is built prompted)",
    )  # fmt: skip
    render.add_argument(
        "--busy", type=int, default=0, metavar="N",
        help="run N competing busy processes while timing (a DAW or a build beside drumgrid)",
    )  # fmt: skip
    codec = parser.add_argument_group("codec")
    codec.add_argument(
        "--codecs",
        default="drumgrid-drums",
        help="comma list of codec ids (e.g. drumgrid-drums,encodec-24k,dac-44k)",
    )


def run(args: argparse.Namespace) -> int:
    repeats, warmup = DEFAULT_RUNS[args.target]
    args.repeats = repeats if args.repeats is None else args.repeats
    args.warmup = warmup if args.warmup is None else args.warmup
    if args.repeats < 1 or args.warmup < 0:
        raise UserError(
            f"expected --repeats >= 1 and --warmup >= 0, got {args.repeats}, {args.warmup}"
        )
    return _target(args.target)(args)


def _target(name: str) -> Callable[[argparse.Namespace], int]:
    from drumgrid.server.bench import codec, ops, render

    return {"ops": ops.bench_ops, "render": render.bench_render, "codec": codec.bench_codec}[name]


TARGETS = ("ops", "render", "codec")
