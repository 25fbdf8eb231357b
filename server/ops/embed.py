"""embed_tokens: the Transformer body's input, cond + the summed embeddings of known tokens.

The kernels are in csrc/ (embed_tokens.cpp, cuda/embed_tokens.cu); here are the fake kernel
(shapes for torch.export / torch.compile), the backward (so training uses the same op), and
the typed wrapper.
"""

from __future__ import annotations

from typing import Any

import torch

from drumgrid import _C  # noqa: F401  (registers the schema before the registrations below)


@torch.library.register_fake("drumgrid::embed_tokens")
def _embed_tokens_fake(tokens: torch.Tensor, tables: torch.Tensor, cond: torch.Tensor):
    torch._check(tokens.dim() == 3, lambda: f"expected tokens [B, K, T], got {tokens.shape}")
    torch._check(tables.dim() == 3, lambda: f"expected tables [K, V+1, D], got {tables.shape}")
    torch._check(cond.dim() == 3, lambda: f"expected cond [B, T, D], got {cond.shape}")
    torch._check(tokens.dtype == torch.int64, lambda: f"expected int64 tokens, got {tokens.dtype}")
    torch._check(
        cond.dtype == tables.dtype,
        lambda: f"expected cond dtype {tables.dtype}, got {cond.dtype}",
    )
    return cond.new_empty(cond.shape)  # [B, T, D], contiguous


def _setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
    tokens, tables, _ = inputs
    ctx.save_for_backward(tokens)
    ctx.tables_shape = tables.shape
    ctx.tables_dtype = tables.dtype


def _backward(
    ctx: Any, grad: torch.Tensor
) -> tuple[None, torch.Tensor | None, torch.Tensor | None]:
    """d/dcond is the identity; d/dtables[k, v] sums grad over the frames whose k-th token is
    v. Accumulated in float32 so that bf16/fp16 tables lose no gradient mass to rounding."""
    (tokens,) = ctx.saved_tensors  # [B, K, T]
    grad_tables = None
    if ctx.needs_input_grad[1]:
        K, V1, D = ctx.tables_shape
        B, _, T = tokens.shape
        rows = (torch.arange(K, device=tokens.device).view(1, K, 1) * V1 + tokens).reshape(-1)
        g = grad.to(torch.float32).unsqueeze(1).expand(B, K, T, D).reshape(-1, D)  # [B*K*T, D]
        flat = torch.zeros(K * V1, D, dtype=torch.float32, device=grad.device)
        grad_tables = flat.index_add(0, rows, g).view(K, V1, D).to(ctx.tables_dtype)
    grad_cond = grad if ctx.needs_input_grad[2] else None
    return None, grad_tables, grad_cond


torch.library.register_autograd("drumgrid::embed_tokens", _backward, setup_context=_setup_context)


def embed_tokens(
    tokens: torch.Tensor,  # [B, K, T] int64; id V is MASK
    tables: torch.Tensor,  # [K, V+1, D] float32 | bfloat16 | float16
    cond: torch.Tensor,  # [B, T, D], dtype of tables
) -> torch.Tensor:  # [B, T, D]
    """out[b, t] = cond[b, t] + sum_k tables[k, tokens[b, k, t]]; ids outside [0, V] raise.
    One fused pass instead of K gathers and K adds; differentiable in tables and cond."""
    return torch.ops.drumgrid.embed_tokens(tokens, tables, cond)
