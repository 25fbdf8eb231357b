"""`drumgrid bench TARGET`: timings on this machine. `ops` times the native ops against the
plain PyTorch way of doing the same; `render` times whole renders (a 4-bar clip at 120 bpm,
8 s, and a 64-bar one) split into conditioning, Transformer, sampling and codec decode."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from drumgrid.server.errors import UserError

# decoding shapes from issue 4: (B, K, T, D, V)
OPS_SHAPES: tuple[tuple[int, int, int, int, int], ...] = (
    (8, 9, 600, 512, 1024),
    (1, 4, 200, 512, 2048),
)


@dataclass(frozen=True)
class Timing:
    name: str
    ours_ms: float
    plain_ms: float

    @property
    def speedup(self) -> float:
        return self.plain_ms / self.ours_ms


# target -> (repeats, warmup) when not given
DEFAULT_RUNS = {"ops": (10, 3), "render": (5, 1)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=sorted(TARGETS), help="what to time")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (render: also cuda:N, auto)")
    parser.add_argument(
        "--repeats", type=int, help="timed runs per case, median (ops 10, render 5)"
    )
    parser.add_argument("--warmup", type=int, help="untimed runs first (ops 3, render 1)")
    render = parser.add_argument_group("render")
    render.add_argument(
        "--model", help="model folder or `default`; without it a random model of --preset"
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
    render.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    render.add_argument(
        "--decoding", default="parallel,iterative", help="comma list of parallel, iterative"
    )
    render.add_argument("--steps", default=None, help="iterative steps (see drumgrid render)")
    render.add_argument("--clips", default="4,64", help="clip lengths in bars at 120 bpm")


def run(args: argparse.Namespace) -> int:
    repeats, warmup = DEFAULT_RUNS[args.target]
    args.repeats = repeats if args.repeats is None else args.repeats
    args.warmup = warmup if args.warmup is None else args.warmup
    if args.repeats < 1 or args.warmup < 0:
        raise UserError(
            f"expected --repeats >= 1 and --warmup >= 0, got {args.repeats}, {args.warmup}"
        )
    return TARGETS[args.target](args)


def _median_ms(fn: Callable[[], object], device: str, repeats: int, warmup: int) -> float:
    import torch

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def _bench_ops(args: argparse.Namespace) -> int:
    import torch
    import torch.nn.functional as F

    from drumgrid.server.ops import embed_tokens, sample_tokens

    device = args.device
    if device not in ("cpu", "cuda"):
        raise UserError(f"bench ops --device {device}: expected cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is visible to torch; use --device cpu")
    from drumgrid.server.ops import WITH_CUDA

    if device == "cuda" and not WITH_CUDA:
        raise UserError(
            "--device cuda: drumgrid._C was built without CUDA; rebuild with nvcc on PATH"
        )
    gen = torch.Generator().manual_seed(0)
    timings: list[Timing] = []

    def time_pair(name: str, ours: Callable[[], object], plain: Callable[[], object]) -> None:
        t = Timing(
            name,
            _median_ms(ours, device, args.repeats, args.warmup),
            _median_ms(plain, device, args.repeats, args.warmup),
        )
        timings.append(t)
        print(f"{t.name:<52}{t.ours_ms:>10.2f}{t.plain_ms:>10.2f}{t.speedup:>8.2f}x", flush=True)

    print(
        f"drumgrid bench ops on {device} "
        f"(torch {torch.__version__}, {torch.get_num_threads()} threads)"
    )
    print(f"{'case':<52}{'ours ms':>10}{'plain ms':>10}{'ratio':>9}")
    for B, K, T, D, V in OPS_SHAPES:
        tokens = torch.randint(0, V + 1, (B, K, T), generator=gen).to(device)  # [B, K, T]
        tables = torch.randn(K, V + 1, D, generator=gen).to(device)  # [K, V+1, D]
        cond = torch.randn(B, T, D, generator=gen).to(device)  # [B, T, D]
        embeddings = [torch.nn.Embedding.from_pretrained(tables[k]) for k in range(K)]

        def plain_embed(tokens=tokens, cond=cond, embeddings=embeddings) -> torch.Tensor:
            out = cond
            for k, emb in enumerate(embeddings):
                out = out + emb(tokens[:, k])
            return out

        with torch.inference_mode():
            time_pair(
                f"embed_tokens B={B} K={K} T={T} D={D} V={V}",
                lambda tokens=tokens, tables=tables, cond=cond: embed_tokens(tokens, tables, cond),
                plain_embed,
            )

        logits = (torch.randn(B, K, T, V, generator=gen) * 3).to(device)  # [B, K, T, V]
        for temperature, top_k, top_p in ((1.0, 50, 0.9), (1.0, 0, 1.0), (0.0, 0, 1.0)):

            def ours(logits=logits, temperature=temperature, top_k=top_k, top_p=top_p):
                return sample_tokens(logits, temperature, top_k, top_p, seed=1, offset=0)

            def plain(logits=logits, temperature=temperature, top_k=top_k, top_p=top_p):
                return _plain_sample(F, torch, logits, temperature, top_k, top_p)

            with torch.inference_mode():
                time_pair(
                    f"sample_tokens B={B} K={K} T={T} V={V} t={temperature} k={top_k} p={top_p}",
                    ours,
                    plain,
                )
    return 0


def _plain_sample(F, torch, logits, temperature: float, top_k: int, top_p: float):
    """The usual PyTorch sampler: softmax, top-k, sort + cumsum for top-p, multinomial."""
    *lead, V = logits.shape
    x = logits.reshape(-1, V)  # [R, V]
    if temperature == 0:
        probs = F.softmax(x, dim=-1)
        p, tok = probs.max(dim=-1)
        return tok.view(lead), p.view(lead)
    probs = F.softmax(x / temperature, dim=-1)  # [R, V]
    if 0 < top_k < V:
        probs, idx = torch.topk(probs, top_k, dim=-1)  # [R, k], sorted
    else:
        idx = None
    if top_p < 1:
        if idx is None:
            probs, idx = torch.sort(probs, dim=-1, descending=True)
        probs = probs / probs.sum(-1, keepdim=True)
        before = torch.cumsum(probs, dim=-1) - probs
        probs = probs.masked_fill(before >= top_p, 0.0)
    probs = probs / probs.sum(-1, keepdim=True)
    choice = torch.multinomial(probs, 1)  # [R, 1]
    p = probs.gather(-1, choice)
    tok = choice if idx is None else idx.gather(-1, choice)
    return tok.view(lead), p.view(lead)


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

    if args.model:
        return Engine.load(
            args.model, args.device, args.backend, args.codec_path, precision=args.precision
        ), f"model {args.model}"
    codec = build_random("drumgrid-drums", debug=args.codec == "tiny")
    # The trained window: 4 beats at the slowest GMD tempo (60 bpm), as the trainer sizes it.
    max_frames = math.ceil(4.0 * codec.frame_rate) + 1
    config = LMConfig.preset_config(
        args.preset, n_codebooks=codec.n_codebooks, codebook_size=codec.codebook_size,
        n_kits=8, max_frames=max_frames, dropout=0.0,
    )  # fmt: skip
    model = build_model(config).eval()
    info = ModelInfo(
        config, codec.id, codec.config_hash, codec.frame_rate, tuple(f"kit{i}" for i in range(8))
    )
    n_params = sum(p.numel() for p in model.parameters()) / 1e6
    engine = Engine(model, info, codec, args.device, args.backend, precision=args.precision)
    return engine, f"random {args.preset} model ({n_params:.1f} M), {args.codec} codec"


def _peak_memory_mb(device) -> float:
    import resource

    import torch

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _bench_render(args: argparse.Namespace) -> int:
    import torch

    from drumgrid.server.commands.render import parse_steps, set_threads
    from drumgrid.server.engine import RenderOptions

    set_threads(args.threads)
    engine, what = _render_engine(args)
    decodings = [d.strip() for d in args.decoding.split(",") if d.strip()]
    try:
        bars = [int(b) for b in args.clips.split(",")]
    except ValueError:
        raise UserError(f"--clips {args.clips!r}: expected a comma list of bar counts") from None
    note = f" ({engine.backend_note})" if engine.backend_note else ""
    print(
        f"drumgrid bench render: {what}; device {engine.device}, backend {engine.backend}{note}, "
        f"{engine.precision}, {torch.get_num_threads()} threads, window {engine.window} frames "
        f"(overlap {engine.overlap}), torch {torch.__version__}"
    )
    print(
        f"{'clip':<16}{'decoding':<11}{'calls':>6}{'total ms':>10}{'x rt':>8}{'cond':>8}"
        f"{'transf':>9}{'sample':>9}{'codec':>8}{'peak MB':>9}"
    )
    for decoding in decodings:
        options = RenderOptions(decoding=decoding, steps=parse_steps(args.steps), tail_s=0.0)
        calls = options.decode_options(engine.model.n_codebooks).n_calls(engine.model.n_codebooks)
        for n_bars in bars:
            clip = bench_groove(n_bars)
            # Long clips run a third as often: a 64-bar iterative render takes minutes on a CPU.
            repeats = args.repeats if n_bars <= 8 else max(1, args.repeats // 3)
            if engine.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(engine.device)
            for _ in range(args.warmup):
                engine.render(clip, options)
            runs = [engine.render(clip, options)[0] for _ in range(repeats)]
            med = {
                k: statistics.median(getattr(r.timings, k) for r in runs) * 1e3
                for k in ("total", "conditioning", "transformer", "sampling", "codec")
            }
            audio_s = runs[0].duration_s
            print(
                f"{f'{n_bars} bars ({audio_s:.0f} s)':<16}{decoding:<11}{calls:>6}"
                f"{med['total']:>10.1f}{audio_s * 1e3 / med['total']:>8.1f}"
                f"{med['conditioning']:>8.1f}{med['transformer']:>9.1f}{med['sampling']:>9.1f}"
                f"{med['codec']:>8.1f}{_peak_memory_mb(engine.device):>9.0f}",
                flush=True,
            )
    print("ms are medians per render (load excluded, warm); calls = model calls per window")
    return 0


TARGETS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ops": _bench_ops,
    "render": _bench_render,
}
