"""The learning-rate schedule both trainers use."""

import math


def warmup_cosine(step: int, peak: float, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))
