"""`drumgrid eval-codec`: what each codec keeps of held-out corpus clips, as one table.

Trained codecs load from local weights; `--random` adds codecs at random init, at their real
size, as the floor that training must beat.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.server.errors import UserError


def _ids(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, required=True, metavar="DIR", help="a corpus")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="report folder")
    parser.add_argument(
        "--codecs",
        default="drumgrid-drums",
        metavar="IDS",
        help="comma-separated codec ids with local weights (default: drumgrid-drums)",
    )
    parser.add_argument(
        "--codec-path",
        type=Path,
        metavar="DIR",
        help="weights folder for the one codec in --codecs (default: shipped / HF cache)",
    )
    parser.add_argument(
        "--random",
        metavar="IDS",
        help="comma-separated codec ids to score at random init (e.g. encodec-24k,dac-44k)",
    )
    parser.add_argument("--split", default="validation", help="corpus split (default validation)")
    parser.add_argument("--clips", type=int, default=48, metavar="N", help="clips (default 48)")
    parser.add_argument(
        "--seconds", type=float, default=4.0, metavar="S", help="clip length (default 4)"
    )
    parser.add_argument("--levels", type=int, metavar="K", help="decode only the K coarsest levels")
    parser.add_argument("--plots", type=int, default=3, metavar="N", help="clips to plot")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--no-visqol", action="store_true", help="skip ViSQOL (about 0.1 s per audio second)"
    )
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from drumgrid.server.codecs.registry import build_random, codec_spec, load_codec
    from drumgrid.server.devices import resolve_device
    from drumgrid.training.codec.data import corpus_audio, validation_clips, validation_files
    from drumgrid.training.codec.evaluation import (
        cached_roundtrip_clips,
        plot_clips,
        write_report,
    )

    trained, random = _ids(args.codecs), _ids(args.random)
    if not trained and not random:
        raise UserError("nothing to score: give --codecs and/or --random")
    if args.codec_path is not None and len(trained) != 1:
        raise UserError("--codec-path names the weights of one codec: give one id in --codecs")
    if args.clips < 1 or args.seconds <= 0:
        raise UserError("--clips must be at least 1 and --seconds positive")
    for codec_id in trained + random:
        codec_spec(codec_id)  # an unknown id fails here, before any work
    device = str(resolve_device(args.device))
    files = corpus_audio(args.corpus, args.split, None)
    sr = files[0].sample_rate
    clips = validation_clips(files, args.clips, round(args.seconds * sr))

    setting = {
        "corpus": str(args.corpus),
        "split": args.split,
        "clips": len(clips),
        "clip_seconds": args.seconds,
        "sample_rate": sr,
        "levels": args.levels,
        "visqol": not args.no_visqol,
    }
    codecs = [(load_codec(c, args.codec_path, device), "trained") for c in trained]
    codecs += [(build_random(c, debug=False).to(device), "random init") for c in random]
    results = []
    for codec, weights in tqdm(codecs, desc="eval-codec", unit="codec", disable=args.no_progress):
        if args.levels is not None and not 1 <= args.levels <= codec.n_codebooks:
            raise UserError(f"--levels {args.levels}: codec {codec.id} has 1-{codec.n_codebooks}")
        results.append(cached_roundtrip_clips(args.out, codec, weights, clips, sr, setting))
    kits = [f.kit for f in validation_files(files, args.clips)]
    report = write_report(args.out, results, setting, kits)
    # The trained codecs are what a reader wants to see; random-init spectrograms only when
    # nothing else was scored.
    shown = [(f"{c.id} ({w})", c) for c, w in codecs if w == "trained" or not trained]
    plots = plot_clips(args.out / "plots", clips, shown, sr, args.plots, args.levels)
    print(report.read_text(), end="")
    print(f"report: {report}; plots: {', '.join(p.name for p in plots)} in {args.out / 'plots'}")
    return 0
