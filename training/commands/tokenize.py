"""`drumgrid tokenize`: encode a corpus's audio into a codec token cache, once."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.server.errors import UserError
from drumgrid.training.commands.threads import add_threads_argument, apply_threads


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="a corpus from `drumgrid corpus` (its one CSV is read)",
    )
    src.add_argument("--egmd-root", type=Path, metavar="DIR", help="an E-GMD root (with --csv)")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="the E-GMD CSV")
    parser.add_argument("--codec", required=True, metavar="ID", help="codec id (drumgrid codecs)")
    parser.add_argument(
        "--codec-path",
        type=Path,
        metavar="DIR",
        help="folder with the codec's weights (default: the Hugging Face cache)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="cache folder")
    parser.add_argument("--split", help="only this split (train, validation, test)")
    parser.add_argument(
        "--chunk-seconds",
        type=float,
        default=30.0,
        metavar="S",
        help="encode long files in chunks of S seconds (default 30)",
    )
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument(
        "--random-weights",
        action="store_true",
        help="testing only: a tiny random-initialised model of the codec's class",
    )
    add_threads_argument(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from drumgrid.server.codecs.registry import build_random, codec_spec, load_codec
    from drumgrid.training.egmd import EGMDIndex
    from drumgrid.training.tokens import tokenize

    apply_threads(args.threads)
    if args.egmd_root is not None and args.csv is None:
        raise UserError("--egmd-root needs --csv FILE (the E-GMD CSV)")
    root = args.corpus or args.egmd_root
    index = EGMDIndex.read(root, args.csv)
    if args.split:
        index = index.select(split=args.split)
    if len(index) == 0:
        raise UserError(
            f"{root}: no rows to tokenize" + (f" in split {args.split}" if args.split else "")
        )
    codec_spec(args.codec)  # unknown id: fail before anything loads
    if args.random_weights:
        codec = build_random(args.codec).to(args.device)
    else:
        codec = load_codec(args.codec, args.codec_path, args.device)
    s = tokenize(index, codec, args.out, args.chunk_seconds, progress=not args.no_progress)
    speed = f", {s['x_realtime']:.1f}x real time" if s["x_realtime"] else ""
    print(
        f"{args.out}: {s['files']} files ({s['encoded_files']} encoded now{speed}) "
        f"with {codec.id} [{codec.config_hash}]"
    )
    return 0
