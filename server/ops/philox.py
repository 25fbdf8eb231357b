"""Philox4x32-10 in plain PyTorch, number for number the same as csrc/philox.h, so the
reference sampler draws exactly what the CPU and CUDA kernels draw.

Unsigned 32-bit words are held in int64 tensors; the 32x32 -> 64-bit products are split into
16-bit halves so that no intermediate leaves the int64 range.
"""

from __future__ import annotations

import torch

_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK32 = 0xFFFFFFFF


def _mulhilo(a: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(hi, lo) words of the 64-bit product of the uint32 words `a` and the constant `m`."""
    p_lo = (a & 0xFFFF) * m  # < 2^48
    p_hi = (a >> 16) * m  # < 2^48
    mid = p_hi + (p_lo >> 16)  # product = mid * 2^16 + (p_lo & 0xFFFF), mid < 2^49
    hi = mid >> 16
    lo = ((mid & 0xFFFF) << 16) | (p_lo & 0xFFFF)
    return hi, lo


def philox4x32_10(
    counter: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], key: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ten Philox rounds over four int64 tensors of uint32 counter words, broadcast together."""
    c0, c1, c2, c3 = counter
    k0, k1 = key[0] & _MASK32, key[1] & _MASK32
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + _W0) & _MASK32, (k1 + _W1) & _MASK32
        hi0, lo0 = _mulhilo(c0, _M0)
        hi1, lo1 = _mulhilo(c2, _M1)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def philox_uniform(seed: int, offset: int, rows: torch.Tensor) -> torch.Tensor:
    """One float64 uniform in [0, 1) per row index (int64 tensor), keyed by (seed, offset, row)
    as in csrc/philox.h: key = seed, counter = (row, offset)."""
    seed &= (1 << 64) - 1
    offset &= (1 << 64) - 1
    rows = rows.to(torch.int64)
    zero = torch.zeros_like(rows)
    counter = (
        rows & _MASK32,
        (rows >> 32) & _MASK32,
        zero + (offset & _MASK32),
        zero + (offset >> 32),
    )
    x0, x1, _, _ = philox4x32_10(counter, (seed & _MASK32, seed >> 32))
    # top 53 bits of (x0 << 32 | x1): x0's 32 bits then x1's top 21
    bits = (x0 << 21) | (x1 >> 11)
    return bits.to(torch.float64) * 2.0**-53
