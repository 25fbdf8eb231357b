"""`drumgrid bench codec`: encode + decode of a 10 s clip for each codec, as x real time.

drumgrid-drums uses --codec-path or the shipped weights when present, random weights of the
real architecture otherwise; the pretrained families are timed at random init (their real
sizes), which takes as long as trained weights and needs no download.
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from drumgrid.server.bench.timing import median_ms
from drumgrid.server.errors import UserError

if TYPE_CHECKING:
    from drumgrid.server.codecs.base import Codec

CLIP_S = 10.0


def test_clip(sample_rate: int, seconds: float = CLIP_S) -> np.ndarray:
    """Decaying noise bursts on a 16th grid at 120 bpm: content does not change the timing,
    but a realistic level keeps every codec on its usual path."""
    rng = np.random.default_rng(0)
    n = round(seconds * sample_rate)
    wave = np.zeros(n, np.float32)
    burst = round(0.1 * sample_rate)
    env = np.exp(-np.linspace(0, 6, burst)).astype(np.float32)
    for start in range(0, n - burst, round(0.125 * sample_rate)):
        wave[start : start + burst] += 0.3 * env * rng.standard_normal(burst).astype(np.float32)
    return wave


def _codecs(args: argparse.Namespace) -> list[tuple[str, Codec]]:
    from drumgrid.server.codecs.registry import build_random, load_codec

    ids = [c.strip() for c in args.codecs.split(",") if c.strip()]
    out: list[tuple[str, Codec]] = []
    for codec_id in ids:
        if codec_id == "drumgrid-drums":
            try:
                out.append(("trained", load_codec(codec_id, args.codec_path, args.device)))
                continue
            except UserError:
                if args.codec_path:
                    raise
        out.append(("random", build_random(codec_id, debug=False).to(args.device)))
    return out


def bench_codec(args: argparse.Namespace) -> int:
    import torch

    print(
        f"drumgrid bench codec: encode + decode of a {CLIP_S:g} s clip on {args.device} "
        f"({torch.get_num_threads()} threads, torch {torch.__version__})"
    )
    print(
        f"{'codec':<16}{'weights':<9}{'params M':>9}{'encode ms':>11}{'decode ms':>11}{'x rt':>8}"
    )
    for weights, codec in _codecs(args):
        wave = torch.from_numpy(test_clip(codec.sample_rate)).to(args.device)
        tokens = codec.encode(wave)
        enc = median_ms(partial(codec.encode, wave), args.device, args.repeats, args.warmup)
        decode = partial(codec.decode, tokens, len(wave))
        dec = median_ms(decode, args.device, args.repeats, args.warmup)
        model = getattr(codec, "model", None)
        params = (
            sum(p.numel() for p in model.parameters()) / 1e6 if model is not None else float("nan")
        )
        print(
            f"{codec.id:<16}{weights:<9}{params:>9.1f}{enc:>11.1f}{dec:>11.1f}"
            f"{CLIP_S * 1e3 / (enc + dec):>8.0f}",
            flush=True,
        )
    return 0
