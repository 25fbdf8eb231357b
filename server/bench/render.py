"""`drumgrid bench render`: whole renders of a 4-bar and a 64-bar clip, split into
conditioning, Transformer, sampling and codec decode."""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
from collections.abc import Iterator

from drumgrid.server.errors import UserError


def bench_groove(bars: int, bpm: float = 120.0):
    """A busy 4/4 groove: 16th hats with accents and a few ms of push, kick and snare, an
    open hat and a crash per 4 bars (deterministic, so every machine times the same clip)."""
    from drumgrid.server.performance import from_note_list

    step = 60.0 / bpm / 4
    notes = []
    for i in range(bars * 16):
        t = i * step + 0.003 * ((i * 7) % 3)
        notes.append((t, 42, 100 if i % 4 == 0 else 60))
        if i % 16 in (0, 6, 10):
            notes.append((t, 36, 110))
        if i % 8 == 4:
            notes.append((t, 38, 105))
        if i % 64 == 0:
            notes.append((t, 49, 120))
        if i % 16 == 14:
            notes.append((t, 46, 80))
    return from_note_list(notes, bpm, length_s=bars * 4 * 60.0 / bpm)


def _render_engine(args: argparse.Namespace):
    """The engine to time: a model folder, or a random model of --preset around a random
    codec (random weights take as long as trained ones)."""
    import math

    from drumgrid.server.codecs.registry import build_random
    from drumgrid.server.engine import Engine
    from drumgrid.server.model import LMConfig, ModelInfo, build_model

    if args.prompt < 0:
        raise UserError(f"--prompt {args.prompt}: expected seconds >= 0")
    if args.model:
        return Engine.load(
            args.model, args.device, args.backend, args.codec_path, precision=args.precision
        ), f"model {args.model}"
    codec = build_random("drumgrid-drums", debug=args.codec == "tiny")
    # The trained window: 4 beats at the slowest GMD tempo (60 bpm), as the trainer sizes it.
    max_frames = math.ceil(4.0 * codec.frame_rate) + 1
    config = LMConfig.preset_config(
        args.preset, n_codebooks=codec.n_codebooks, codebook_size=codec.codebook_size,
        n_kits=8, max_frames=max_frames, dropout=0.0, prompted=args.prompt > 0,
    )  # fmt: skip
    model = build_model(config).eval()
    info = ModelInfo(
        config, codec.id, codec.config_hash, codec.frame_rate, tuple(f"kit{i}" for i in range(8))
    )
    n_params = sum(p.numel() for p in model.parameters()) / 1e6
    engine = Engine(model, info, codec, args.device, args.backend, precision=args.precision)
    return engine, f"random {args.preset} model ({n_params:.1f} M), {args.codec} codec"


def bench_prompt(engine, seconds: float):
    """A kit prompt of `seconds`: the bench groove rendered by the engine's first kit, with
    its grid (self-contained: no audio file needed)."""
    from drumgrid.server.engine import RenderOptions
    from drumgrid.server.prompts import prompt_from_recording

    groove = bench_groove(max(1, round(seconds / 2)))
    take = engine.render(groove, RenderOptions(decoding="parallel", tail_s=0.0))[0]
    wave = take.audio[:, 0]
    wave = 0.5 * wave / max(float(abs(wave).max()), 1e-12)  # a random model's take is quiet
    return prompt_from_recording(wave, take.sample_rate, groove, engine.codec, "bench groove")


def _peak_memory_mb(device) -> float:
    import resource

    import torch

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def bench_render(args: argparse.Namespace) -> int:
    import torch

    from drumgrid.server.commands.render import set_threads

    set_threads(args.threads)
    engine, what = _render_engine(args)
    decodings = [d.strip() for d in args.decoding.split(",") if d.strip()]
    try:
        bars = [int(b) for b in args.clips.split(",")]
    except ValueError:
        raise UserError(f"--clips {args.clips!r}: expected a comma list of bar counts") from None
    note = f" ({engine.backend_note})" if engine.backend_note else ""
    busy = f", {args.busy} competing busy processes" if args.busy else ""
    print(
        f"drumgrid bench render: {what}; device {engine.device}, backend {engine.backend}{note}, "
        f"{engine.precision}, {torch.get_num_threads()} threads, window {engine.window} frames "
        f"(overlap {engine.overlap}), torch {torch.__version__}{busy}"
    )
    with competing_load(args.busy):
        _time_renders(engine, args, decodings, bars)
    print("ms are medians per render (load excluded, warm); calls = model calls per window")
    return 0


@contextlib.contextmanager
def competing_load(n: int) -> Iterator[None]:
    """n processes spinning on a core each while the block runs (killed after)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(max(0, n))]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _time_renders(engine, args: argparse.Namespace, decodings: list[str], bars: list[int]) -> None:
    import torch

    from drumgrid.server.commands.render import parse_steps
    from drumgrid.server.engine import RenderOptions

    print(
        f"{'clip':<16}{'decoding':<11}{'calls':>6}{'total ms':>10}{'x rt':>8}{'cond':>8}"
        f"{'transf':>9}{'sample':>9}{'codec':>8}{'peak MB':>9}"
    )
    prompts = [None]
    if args.prompt > 0:
        engine.require_prompted()
        prompts.append(bench_prompt(engine, args.prompt))
    for decoding in decodings:
        options = RenderOptions(decoding=decoding, steps=parse_steps(args.steps), tail_s=0.0)
        calls = options.decode_options(engine.model.n_codebooks).n_calls(engine.model.n_codebooks)
        for n_bars in bars:
            clip = bench_groove(n_bars)
            # Long clips run a third as often: a 64-bar iterative render takes minutes on a CPU.
            repeats = args.repeats if n_bars <= 8 else max(1, args.repeats // 3)
            named_ms = None
            for prompt in prompts:
                if engine.device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(engine.device)
                for _ in range(args.warmup):
                    engine.render(clip, options, prompt=prompt)
                runs = [engine.render(clip, options, prompt=prompt)[0] for _ in range(repeats)]
                med = {
                    k: statistics.median(getattr(r.timings, k) for r in runs) * 1e3
                    for k in ("total", "conditioning", "transformer", "sampling", "codec")
                }
                audio_s = runs[0].duration_s
                label = f"{n_bars} bars ({audio_s:.0f} s)"
                if prompt is not None:  # against the named kit's, timed just before
                    label = f"  prompt {prompt.seconds:.0f} s"
                    ratio = f"  ({med['total'] / named_ms:.2f}x the named kit's time)"
                named_ms = named_ms or med["total"]
                print(
                    f"{label:<16}{decoding:<11}{calls:>6}"
                    f"{med['total']:>10.1f}{audio_s * 1e3 / med['total']:>8.1f}"
                    f"{med['conditioning']:>8.1f}{med['transformer']:>9.1f}"
                    f"{med['sampling']:>9.1f}{med['codec']:>8.1f}"
                    f"{_peak_memory_mb(engine.device):>9.0f}"
                    + (ratio if prompt is not None else ""),
                    flush=True,
                )
