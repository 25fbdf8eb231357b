"""`drumgrid render IN.mid -o OUT.wav`: a MIDI file to drum audio with a model and its codec.

Everything a user can get wrong (paths, kit, lengths, options, a missing codec) is checked
before the model runs and reported as one line with exit code 2. `--variations N` renders N
takes with seeds S, S+1, ... as one batch and writes OUT.wav, OUT-v2.wav ... OUT-vN.wav
(the render contract's take names, drumgrid.bridge.contract.take_paths, which the daemon
uses too); the options' defaults and limits are the contract's as well.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from drumgrid.bridge.contract import (
    DECODING_METHODS,
    DEFAULT_COARSE_STEPS,
    DEFAULT_MAX_LENGTH_S,
    DEFAULT_PEAK_DBFS,
    DEFAULT_TAIL_S,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_K,
    DEFAULT_TOP_P,
    PEAK_CEILING_DBFS,
    take_paths,
)
from drumgrid.server.commands.midi_input import add_midi_arguments, print_report, read_input
from drumgrid.server.commands.prompt_input import add_prompt_arguments, prompt_request
from drumgrid.server.errors import UserError
from drumgrid.server.levels import LevelTarget, apply_level
from drumgrid.server.stems import Stems, render_stems, stereo


def add_model_option(parser: argparse.ArgumentParser) -> None:
    """--model alone (kits and export take it too)."""
    parser.add_argument(
        "--model", default="default", metavar="DIR|NAME",
        help="model folder written by `drumgrid train`, or a packaged model: default (20 kits, "
        "prompts) or eight-kits (the default before it)",
    )  # fmt: skip


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model/--codec-path/--device/--backend/--precision/--threads, shared with bench."""
    add_model_option(parser)
    parser.add_argument(
        "--codec-path", type=Path, metavar="DIR",
        help="the model's codec folder, when it is neither inside the model folder nor shipped",
    )  # fmt: skip
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    parser.add_argument(
        "--backend", default="auto", choices=["auto", "eager", "compile", "tensorrt"],
        help="the Transformer body: auto = tensorrt where it runs, else eager",
    )  # fmt: skip
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16"],
        help="auto = bf16 where the hardware runs it natively",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int, default=0,
        help="CPU threads for torch (0, the default: half the cores, leaving the rest to a DAW)",
    )  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="drum MIDI file")
    parser.add_argument(
        "-o", "--output", type=Path, required=True,
        help="the file to write: .wav (pcm16, pcm24 or float) or .flac (pcm16 or pcm24)",
    )  # fmt: skip
    add_model_arguments(parser)
    parser.add_argument(
        "--kit", help="kit name, or a saved prompt kit's (`drumgrid kits` lists them); default: "
        "the model's first",
    )  # fmt: skip
    add_prompt_arguments(parser)
    parser.add_argument(
        "--seed", type=int, default=0,
        help="sampling seed of the first take (iterative decoding; parallel decoding is argmax, "
        "so the seed changes nothing there)",
    )  # fmt: skip
    parser.add_argument(
        "--decoding", choices=list(DECODING_METHODS),
        help="default: iterative when --variations > 1 or an iterative option is given, "
        "else parallel",
    )  # fmt: skip
    parser.add_argument(
        "--steps", default=None,
        help="iterative: steps of the coarsest level (finer levels take 1), or one per level "
        f"as a comma list (e.g. 8,2,1,1,1,1,1,1); default {DEFAULT_COARSE_STEPS}",
    )  # fmt: skip
    parser.add_argument(
        "--temperature", type=float, help=f"iterative; default {DEFAULT_TEMPERATURE:g}"
    )
    parser.add_argument("--top-k", type=int, help=f"iterative; default {DEFAULT_TOP_K}, 0: off")
    parser.add_argument("--top-p", type=float, help=f"iterative; {DEFAULT_TOP_P:g}: off (default)")
    parser.add_argument("--sample-rate", type=int, help="e.g. 44100 or 48000; default: the codec's")
    parser.add_argument(
        "--stereo", action="store_true",
        help="place each drum in the stereo field (kick and snare centred, hi-hat and crash "
        "left, ride and floor tom right); renders each class alone to split the kit",
    )  # fmt: skip
    parser.add_argument(
        "--stems", type=Path, metavar="DIR",
        help="also write one file per drum class into DIR (NAME-kick.wav, ...); they sum to "
        "the render",
    )  # fmt: skip
    parser.add_argument(
        "--format", default="pcm24", choices=["pcm16", "pcm24", "float"], help="sample format"
    )
    parser.add_argument(
        "--tail", type=float, help=f"seconds rendered past the clip's end ({DEFAULT_TAIL_S:g})"
    )
    add_max_length_argument(parser)
    parser.add_argument("--variations", type=int, default=1, help="takes with seeds S, S+1, ...")
    add_midi_arguments(parser)
    parser.add_argument(
        "--no-gate", action="store_true",
        help="keep what the model plays where no hit rings (default: silence there)",
    )  # fmt: skip
    level = parser.add_mutually_exclusive_group()
    level.add_argument(
        "--peak", type=float, metavar="DBFS",
        help=f"set the sample peak to DBFS (default {DEFAULT_PEAK_DBFS:g})",
    )  # fmt: skip
    level.add_argument(
        "--loudness", type=float, metavar="LUFS",
        help="set the integrated loudness (BS.1770) instead, the peak kept under "
        f"{PEAK_CEILING_DBFS:g} dBFS (drumgrid does not limit)",
    )  # fmt: skip
    level.add_argument(
        "--no-normalize", action="store_true", help="write the model's own level"
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true")


def add_max_length_argument(parser: argparse.ArgumentParser) -> None:
    """--max-length, shared with serve: the engine's limit, the contract's by default."""
    parser.add_argument(
        "--max-length", type=float, default=DEFAULT_MAX_LENGTH_S, help="longest clip, seconds"
    )


def level_target(args: argparse.Namespace) -> LevelTarget:
    if args.no_normalize:
        return LevelTarget("off")
    if args.loudness is not None:
        return LevelTarget("loudness", args.loudness)
    return LevelTarget("peak", DEFAULT_PEAK_DBFS if args.peak is None else args.peak)


def parse_steps(text: str | None) -> int | tuple[int, ...] | None:
    if text is None:
        return None
    try:
        parts = [int(p) for p in text.split(",")]
    except ValueError:
        raise UserError(f"--steps {text!r}: expected a number or a comma list of numbers") from None
    return parts[0] if len(parts) == 1 else tuple(parts)


def default_threads() -> int:
    """Half the cores this process may run on, at least one. drumgrid renders beside a DAW:
    on this 2-core machine with both cores busy (two other jobs), 1 thread rendered the
    example at 10.1-10.7x real time and 2 threads at 3.9-8.5x, and a DAW's audio thread
    must never wait for a render."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // 2)


def set_threads(threads: int) -> int:
    """Apply --threads (0: default_threads()); returns the count used."""
    if threads < 0:
        raise UserError(f"--threads {threads}: expected 0 (half the cores) or more")
    import torch

    count = threads or default_threads()
    torch.set_num_threads(count)
    return count


def run(args: argparse.Namespace) -> int:
    from drumgrid.server.audio_io import check_output_path, write_audio
    from drumgrid.server.engine import Engine, RenderOptions
    from drumgrid.server.prompts import prompt_notices, save_named_kit

    target = level_target(args)
    request = prompt_request(args)
    takes = take_paths(args.output, max(1, args.variations))
    paths = [check_output_path(p, fmt=args.format) for p in takes]
    if args.stems is not None:
        if not args.stems.parent.is_dir():
            raise UserError(f"--stems {args.stems}: folder {args.stems.parent} does not exist")
        args.stems.mkdir(exist_ok=True)
    if not (math.isfinite(args.max_length) and args.max_length > 0):
        raise UserError(f"--max-length {args.max_length}: expected a number of seconds > 0")
    # The length limit applies while reading, before the model loads.
    performance, report = read_input(args, args.input, args.max_length)
    options = RenderOptions(
        kit=args.kit, seed=args.seed, decoding=args.decoding, steps=parse_steps(args.steps),
        temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        sample_rate=args.sample_rate,
        variations=args.variations, tail_s=args.tail, gate=not args.no_gate,
        prompt_fit=not args.no_prompt_fit,
    )  # fmt: skip
    set_threads(args.threads)
    engine = Engine.load(
        args.model, args.device, args.backend, args.codec_path,
        max_length_s=args.max_length, precision=args.precision,
    )  # fmt: skip
    if engine.backend_note:
        print(f"drumgrid render: {engine.backend_note}", file=sys.stderr)
    if request.given:
        engine.require_prompted()  # before the prompt's files are read
    prompt = engine.read_prompt(request) if request.given else engine.kit_prompt(args.kit)
    engine.check(performance, options, prompt)
    if prompt is not None:
        report += prompt_notices(prompt, performance)
    if args.save_kit is not None and prompt is not None:
        report.append(f"kit {args.save_kit} saved: {save_named_kit(prompt, args.save_kit)}")

    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=100, unit="%", desc="render", leave=False, file=sys.stderr)

    def progress(fraction: float) -> None:
        if bar is not None:
            bar.update(round(fraction * 100) - bar.n)

    start = time.perf_counter()
    stems: list[Stems] = []
    try:
        if args.stereo or args.stems is not None:
            stems = render_stems(engine, performance, options, progress, prompt)
            rate = stems[0].sample_rate
            outputs = [stereo(s) if args.stereo else s.mix[:, None] for s in stems]
        else:
            results = engine.render(performance, options, progress, prompt=prompt)
            rate = results[0].sample_rate
            outputs = [r.audio for r in results]
    finally:
        if bar is not None:
            bar.close()
    if prompt is not None and options.prompt_fit:  # the render kept its answer
        report.append(engine.fit_prompt(prompt).notice())
    levels = []
    for b, (audio, path) in enumerate(zip(outputs, paths, strict=True)):
        audio, level_report = apply_level(audio, rate, target)
        write_audio(path, audio, rate, args.format)
        levels.append(level_report.describe())
        if args.stems is not None:  # at the mix's gain, so they still sum to it
            gain = 10 ** (level_report.gain_db / 20)
            for cls, stem in stems[b].stems.items():
                stem_path = args.stems / f"{path.stem}-{cls.label}{path.suffix}"
                write_audio(stem_path, stem * gain, rate, args.format)
    if args.stems is not None:
        levels.append(f"stems: {len(stems[0].stems)} per take in {args.stems}")
    print_report([*report, *levels])
    taken = time.perf_counter() - start
    duration = outputs[0].shape[0] / rate
    written = str(paths[0]) if len(paths) == 1 else f"{paths[0]} .. {paths[-1].name}"
    takes_note = f" x {len(outputs)} takes" if len(outputs) > 1 else ""
    print(
        f"rendered {duration:.2f} s{takes_note} in {taken:.2f} s ({duration / taken:.1f}x "
        f"realtime), backend {engine.backend}, device {engine.device}, {engine.precision}, "
        f"{options.decoding} -> {written}"
    )
    return 0
