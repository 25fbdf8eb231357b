"""The Transformer body's pieces: rotary positions, bidirectional attention with a padding
mask, a GELU MLP, and pre-norm blocks.

Everything here is plain tensor code with no data-dependent Python control flow, so that
`torch.export` traces the body with a symbolic frame count T (the engine compiles or exports it).

Axes: B batch, T frames, D model width, H heads, E head width (D / H).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def rotary_tables(
    n_frames: int, head_dim: int, base: float, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin [T, E/2] for positions 0..T-1. Computed per call from an arange (no cached
    table with a fixed length), so any T works and the export stays dynamic in T: there
    `n_frames` is a SymInt, which torch's annotations count as an int, as in `Tensor.shape`."""
    inv_freq = base ** (
        -torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim
    )  # [E/2]
    pos = torch.arange(n_frames, device=device, dtype=torch.float32)  # [T]
    angles = pos[:, None] * inv_freq[None, :]  # [T, E/2]
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (x[..., :E/2], x[..., E/2:]) of x [B, H, T, E] by the position's angle
    (the "rotate half" layout), in float32 for long-sequence accuracy."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half].float(), x[..., half:].float()  # [B, H, T, E/2]
    out = torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)
    return out.to(x.dtype)


class Attention(nn.Module):
    """Multi-head self-attention over all frames (no causal mask); padded frames are left
    out as keys, so a real frame's output does not depend on how much padding follows."""

    def __init__(self, dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)
        self.dropout = dropout

    def forward(
        self,
        x: torch.Tensor,  # [B, T, D]
        cos: torch.Tensor,  # [T, E/2]
        sin: torch.Tensor,  # [T, E/2]
        attn_mask: torch.Tensor | None,  # [B, 1, 1, T] bool, True = may be attended to
    ) -> torch.Tensor:  # [B, T, D]
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_heads, D // self.n_heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # [B, H, T, E]
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )  # [B, H, T, E]
        return self.out(y.transpose(1, 2).reshape(B, T, D))


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.up = nn.Linear(dim, hidden)
        self.down = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T, D]
        return self.down(self.drop(F.gelu(self.up(x))))


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, dim: int, n_heads: int, mlp_ratio: float, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, n_heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, round(dim * mlp_ratio), dropout)
        self.drop = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,  # [B, T, D]
        cos: torch.Tensor,
        sin: torch.Tensor,
        attn_mask: torch.Tensor | None,
    ) -> torch.Tensor:  # [B, T, D]
        x = x + self.drop(self.attn(self.norm1(x), cos, sin, attn_mask))
        return x + self.drop(self.mlp(self.norm2(x)))


class TransformerBody(nn.Module):
    """Everything between embed_tokens' output and the logits: the part the engine exports and
    compiles (the two native ops stay outside it).

    forward(x [B, T, D], pad_mask [B, T] bool, True at padding) -> logits [B, K, T, V].
    Axes: K codebooks, V codebook size (no logit for MASK: it is never a target).
    """

    def __init__(
        self,
        dim: int,
        n_layers: int,
        n_heads: int,
        n_codebooks: int,
        codebook_size: int,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        rope_base: float = 10000.0,
        latent_dim: int = 0,
    ) -> None:
        super().__init__()
        self.head_dim = dim // n_heads
        self.rope_base = rope_base
        self.blocks = nn.ModuleList(
            Block(dim, n_heads, mlp_ratio, dropout) for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(dim)
        # K output heads as one [K, V, D] weight: logits come out as [B, K, T, V] directly.
        self.heads = nn.Parameter(torch.randn(n_codebooks, codebook_size, dim) * dim**-0.5)
        self.head_bias = nn.Parameter(torch.zeros(n_codebooks, 1, codebook_size))
        # The codec's continuous latent per frame: a regression a near miss scores as near.
        self.latent_head = nn.Linear(dim, latent_dim) if latent_dim else None

    def hidden(
        self,
        x: torch.Tensor,  # [B, T, D]
        pad_mask: torch.Tensor | None = None,  # [B, T] bool, True at padded frames
    ) -> torch.Tensor:  # [B, T, D], normed: what the K heads read
        cos, sin = rotary_tables(x.shape[1], self.head_dim, self.rope_base, x.device)
        attn_mask = None if pad_mask is None else (~pad_mask)[:, None, None, :]  # [B, 1, 1, T]
        for block in self.blocks:
            x = block(x, cos, sin, attn_mask)
        return self.norm(x)

    def forward(
        self,
        x: torch.Tensor,  # [B, T, D]
        pad_mask: torch.Tensor | None = None,  # [B, T] bool, True at padded frames
        level: int | None = None,
    ) -> torch.Tensor:  # [B, K, T, V]; [B, T, V] for one `level`
        """With `level`, only that codebook's head runs: iterative decoding needs one level
        per call, and the K heads are a large share of a small model's work."""
        h = self.hidden(x, pad_mask)  # [B, T, D]
        if level is not None:
            head, bias = self.heads[level].to(h.dtype), self.head_bias[level].to(h.dtype)
            return h @ head.t() + bias  # [B, T, V]
        return self.head_logits(h)

    def head_logits(self, h: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, K, T, V]
        return torch.einsum("btd,kvd->bktv", h, self.heads.to(h.dtype)) + self.head_bias.to(h.dtype)

    def latent(
        self,
        x: torch.Tensor,  # [B, T, D]
        pad_mask: torch.Tensor | None = None,  # [B, T] bool, True at padded frames
    ) -> torch.Tensor:  # [B, T, latent_dim]
        if self.latent_head is None:
            raise ValueError("this model has no latent head (latent_dim 0)")
        return self.latent_head(self.hidden(x, pad_mask))

    def selected_logits(
        self,
        h: torch.Tensor,  # [B, T, D] from hidden()
        select: torch.Tensor,  # [B, K, T] bool
    ) -> torch.Tensor:  # [N, V], N = select.sum(), level-major
        """Logits of the selected tokens only, in level-major order (those of level 0, then
        level 1, ...; `level_major` orders targets alike). Training scores only the masked
        tokens, about half of them, and the K heads with their softmax are most of a small
        model's work."""
        return torch.cat(
            [
                h[select[:, k]] @ self.heads[k].to(h.dtype).t() + self.head_bias[k].to(h.dtype)
                for k in range(self.heads.shape[0])
            ]
        )


def level_major(values: torch.Tensor, select: torch.Tensor) -> torch.Tensor:
    """values [B, K, T, ...] at the True places of select [B, K, T], ordered as
    `TransformerBody.selected_logits` orders its rows."""
    return values.transpose(0, 1)[select.transpose(0, 1)]
