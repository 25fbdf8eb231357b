"""Median wall-clock timing shared by the benchmarks."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

MIN_TIMED_S = 0.5  # sub-millisecond cases repeat until this much time is timed: a median of
# ten 0.2 ms runs on a shared 2-core machine is mostly scheduler noise


def median_ms(fn: Callable[[], object], device: str, repeats: int, warmup: int) -> float:
    """Median milliseconds of `fn` over at least `repeats` runs (more for fast cases, see
    MIN_TIMED_S) after `warmup` untimed ones (CUDA work is synchronised before each clock
    read)."""
    import torch

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def timed() -> float:
        start = time.perf_counter()
        fn()
        sync()
        return time.perf_counter() - start

    for _ in range(warmup):
        fn()
    sync()
    times = [timed() for _ in range(repeats)]
    if times and sum(times) < MIN_TIMED_S:
        extra = math.ceil(MIN_TIMED_S / max(statistics.median(times), 1e-6)) - len(times)
        times += [timed() for _ in range(min(extra, 10_000))]
    return statistics.median(times) * 1e3
