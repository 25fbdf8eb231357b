"""sample_tokens: logits -> tokens and their probabilities, the step after the Transformer.

The kernels are in csrc/ (sample_tokens.cpp, cuda/sample_tokens.cu) and follow the rules
written at the top of csrc/sample_tokens.cpp; reference.py states them in PyTorch. Here are
the fake kernel for torch.export / torch.compile and the typed wrapper.
"""

from __future__ import annotations

import torch

from drumgrid import _C  # noqa: F401  (registers the schema before the registration below)


@torch.library.register_fake("drumgrid::sample_tokens")
def _sample_tokens_fake(
    logits: torch.Tensor,
    temperature: float,
    top_k: int,
    top_p: float,
    seed: int,
    offset: int,
):
    torch._check(logits.dim() == 4, lambda: f"expected logits [B, K, T, V], got {logits.shape}")
    shape = logits.shape[:-1]  # [B, K, T]
    return logits.new_empty(shape, dtype=torch.int64), logits.new_empty(shape, dtype=torch.float32)


def sample_tokens(
    logits: torch.Tensor,  # [B, K, T, V] float32 | bfloat16 | float16
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int = 0,
    offset: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:  # tokens [B, K, T] int64, probs [B, K, T] float32
    """Draw one token per (b, k, t): temperature 0 is argmax (ties to the lowest id);
    top_k <= 0 and top_p >= 1 switch those filters off; top-k applies before top-p. probs are
    the chosen tokens' probabilities under the filtered, renormalised distribution (at
    temperature 1 for argmax), the confidences that iterative decoding unmasks by.

    The draw for row r = (b * K + k) * T + t depends only on (seed, offset, r): the same on
    CPU and CUDA; bump `offset` between decoding steps for fresh randomness."""
    return torch.ops.drumgrid.sample_tokens(logits, temperature, top_k, top_p, seed, offset)
