"""`drumgrid corpus`: render GMD MIDI through drum kits (SoundFont, SFZ, Hydrogen) into an
E-GMD-shaped corpus."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from drumgrid.server.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gmd",
        type=Path,
        required=True,
        metavar="DIR",
        help="the Groove MIDI Dataset folder (with info.csv)",
    )
    parser.add_argument(
        "--kit",
        action="append",
        required=True,
        metavar="NAME=PATH",
        help="a kit to render through (repeat for more): a SoundFont (PATH[:BANK:PRESET]; "
        "without BANK:PRESET, bank 128 preset 0 or the font's only preset), an .sfz file or "
        "a Hydrogen kit (its folder or drumkit.xml), e.g. jazz=/usr/share/sounds/sf2/"
        "FluidR3_GM.sf2:128:32 or rock=/usr/share/hydrogen/data/drumkits/GMRockKit; "
        "`drumgrid kits --available` lists this machine's kits",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="corpus folder")
    parser.add_argument(
        "--sample-rate",
        type=int,
        default=44100,
        metavar="SR",
        help="audio sample rate (default 44100)",
    )
    parser.add_argument(
        "--splits",
        default="train,validation",
        help="GMD splits to render, comma-separated (default train,validation)",
    )
    parser.add_argument("--beats-only", action="store_true", help="skip fills")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N performances")
    parser.add_argument(
        "--max-seconds",
        type=float,
        metavar="S",
        help="crop each performance to S seconds (quick trials)",
    )
    parser.add_argument(
        "--audio-format",
        default="wav",
        metavar="FORMAT",
        help="wav or flac, 16-bit PCM, for newly rendered audio (default wav; flac takes "
        "about 45%% of the space); audio already in the corpus in either format is kept",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="render processes (default: one per CPU core)"
    )
    parser.add_argument(
        "--mixes", type=int, metavar="N",
        help="render N kit mixes of the --kit kits instead of the kits themselves: each mix "
        "takes its kick, snare, hi-hats, toms, crash and ride from kits drawn at random (at "
        "least three kits a mix); for training kit prompts on more kits than there are",
    )  # fmt: skip
    parser.add_argument("--mix-seed", type=int, default=0, help="the mixes' draw (default 0)")
    parser.add_argument(
        "--mix-tune", type=float, default=0.0, metavar="SEMITONES",
        help="retune each group of a mix by up to this many semitones up or down, as a "
        "sampler does (pitch and decay together; default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--mix-bright", type=float, default=0.0, metavar="DB",
        help="brighten or darken each group of a mix by up to this many dB of high shelf "
        "(default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--files-per-kit", type=int, metavar="N",
        help="each kit (or mix) renders its own draw of N of the performances",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from drumgrid.training.corpus import build_corpus, plan_jobs
    from drumgrid.training.kits.base import KitSource
    from drumgrid.training.kits.spec import licensed, parse_kit

    if not 8000 <= args.sample_rate <= 96000:
        raise UserError(f"--sample-rate {args.sample_rate}: expected 8000-96000 Hz")
    splits = [s.strip() for s in args.splits.split(",") if s.strip()]
    bad = [s for s in splits if s not in ("train", "validation", "test")]
    if bad or not splits:
        raise UserError(f"--splits {args.splits!r}: expected some of train,validation,test")
    kits, skipped = licensed([parse_kit(text) for text in args.kit])
    for line in skipped:
        print(f"drumgrid corpus: {line}", file=sys.stderr)
    if not kits:
        raise UserError("no kit left to render: every kit given was skipped (see above)")
    for kit in kits:
        if kit.record().get("varies"):
            print(
                f"drumgrid corpus: note: kit {kit.name} picks samples at random or in rotation; "
                "its audio depends on the order files render in, so reruns differ",
                file=sys.stderr,
            )
    if (args.mix_tune or args.mix_bright) and args.mixes is None:
        raise UserError("--mix-tune and --mix-bright voice kit mixes: add --mixes N")
    to_render: Sequence[KitSource] = kits
    if args.mixes is not None:
        from drumgrid.training.kits.mix import random_mixes

        if args.mixes < 1:
            raise UserError(f"--mixes {args.mixes}: expected a positive count")
        to_render = random_mixes(kits, args.mixes, args.mix_seed, args.mix_tune, args.mix_bright)
    if args.files_per_kit is not None and args.files_per_kit < 1:
        raise UserError(f"--files-per-kit {args.files_per_kit}: expected a positive count")
    jobs = plan_jobs(
        args.gmd, to_render, args.sample_rate, splits, args.beats_only, args.limit,
        args.max_seconds, args.audio_format, args.files_per_kit,
    )  # fmt: skip
    if not jobs:
        raise UserError(f"no GMD performances match --splits {args.splits} in {args.gmd}")
    s = build_corpus(jobs, args.out, args.gmd, args.workers, progress=not args.no_progress)
    speed = f", {s['x_realtime']:.0f}x real time" if s["x_realtime"] else ""
    print(
        f"{args.out}: {s['files']} files ({s['rendered']} rendered now{speed}), "
        f"{s['hours']:.2f} h of audio"
    )
    for name, k in s["per_kit"].items():
        print(f"  {name}: {k['files']} files, {k['hours']:.2f} h")
    for name, instruments in s["unmapped"].items():
        print(f"  {name}: not played (no drum class): {', '.join(instruments)}")
    if s["clipped_files"]:
        print(f"  warning: {s['clipped_files']} files peaked above full scale and were clipped")
    return 0
