"""`drumgrid eval`: score a trained model on a token cache's split with the research's metrics
(training/evaluation/): metrics.json, report.md with a per-kit table, and plots."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.server.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="DIR",
        help="a model folder (RUN/model from `drumgrid train`)",
    )
    parser.add_argument(
        "--tokens",
        type=Path,
        required=True,
        metavar="DIR",
        help="a token cache of the model's codec (`drumgrid tokenize`)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="where metrics.json, report.md and plots/ go",
    )
    parser.add_argument("--split", default="validation", help="the cache's split to score")
    parser.add_argument("--decoding", choices=("parallel", "iterative", "both"), default="both")
    parser.add_argument(
        "--codec-path",
        type=Path,
        metavar="DIR",
        help="the codec's weights (default: the registry's for the model's codec)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="the corpus with the MIDI and audio (default: the cache's own)",
    )
    parser.add_argument(
        "--max-windows",
        type=int,
        default=32,
        metavar="N",
        help="windows of the model's window_beats, spread over the split",
    )
    parser.add_argument(
        "--steps",
        metavar="S",
        help="iterative: steps of the coarsest level (finer levels take 1, as `drumgrid render` "
        "does; default 4), or one count per level, comma-separated",
    )
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, help="iterative; default 5, 0: off")
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0, help="window i decodes with seed + i")
    parser.add_argument("--batch-size", type=int, default=8, metavar="B")
    parser.add_argument(
        "--plots", type=int, default=3, metavar="N", help="windows to draw as spectrograms"
    )
    parser.add_argument(
        "--worst", type=int, default=3, metavar="N",
        help="also draw the model's N worst windows (lowest ViSQOL, else highest mel MAE)",
    )  # fmt: skip
    parser.add_argument(
        "--baseline", type=Path, metavar="DIR",
        help="another model folder (same codec and kits) scored on the same windows as the row "
        "'baseline', decoded in one pass: before/after tables and plots",
    )  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument(
        "--no-visqol", action="store_true", help="skip ViSQOL (about 0.1 s per audio second)"
    )
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:

    from drumgrid.server.commands.render import parse_steps
    from drumgrid.server.decoding import DEFAULT_COARSE_STEPS, DEFAULT_TOP_K
    from drumgrid.training.evaluation.config import EvalConfig
    from drumgrid.training.evaluation.report import summary_lines
    from drumgrid.training.evaluation.run import evaluate

    if args.max_windows < 1 or args.batch_size < 1 or min(args.plots, args.worst) < 0:
        raise UserError(
            "expected --max-windows and --batch-size >= 1 and --plots, --worst >= 0, got "
            f"{args.max_windows}, {args.batch_size}, {args.plots}, {args.worst}"
        )
    steps = parse_steps(args.steps)
    if steps is not None and min((steps,) if isinstance(steps, int) else steps) < 1:
        raise UserError(f"--steps {args.steps}: expected counts >= 1")
    if not (args.temperature >= 0 and 0 < args.top_p <= 1):
        raise UserError(
            f"expected --temperature >= 0 and --top-p in (0, 1], got {args.temperature}, "
            f"{args.top_p}"
        )
    from drumgrid.server.devices import resolve_device

    args.device = str(resolve_device(args.device))
    decodings = ("parallel", "iterative") if args.decoding == "both" else (args.decoding,)
    cfg = EvalConfig(
        split=args.split,
        decodings=decodings,
        max_windows=args.max_windows,
        steps=DEFAULT_COARSE_STEPS if steps is None else steps,
        temperature=args.temperature,
        top_k=DEFAULT_TOP_K if args.top_k is None else args.top_k,
        top_p=args.top_p,
        seed=args.seed,
        batch_size=args.batch_size,
        n_plots=args.plots,
        n_worst=args.worst,
        device=args.device,
        visqol=not args.no_visqol,
    )
    result = evaluate(
        args.model,
        args.tokens,
        args.out,
        cfg,
        args.codec_path,
        args.corpus,
        progress=not args.no_progress,
        baseline=args.baseline,
    )
    print("\n".join(summary_lines(result)))
    print(f"report: {args.out / 'report.md'}")
    return 0
