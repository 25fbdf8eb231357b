"""The Transformer body's pieces: rotary positions, bidirectional attention with a padding
mask, a GELU MLP, and pre-norm blocks.

Everything here is plain tensor code with no data-dependent Python control flow, so that
`torch.export` traces the body with a symbolic frame count T (the engine compiles or exports it).

A kit prompt (a prompted model) is a prefix the window attends to and that attends only to
itself: `TransformerBody.remember` runs the blocks over the prompt once and keeps each layer's
keys and values (`PromptMemory`); a window then runs with them as extra keys, at positions
after the prompt's. So one prompt serves every window of a render, and the same code trains
it. The memory path runs eager (the exported body has no memory input).

Axes: B batch, T frames, P prompt frames, D model width, H heads, E head width (D / H).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

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


def scale_grad(x: torch.Tensor, scale: float) -> torch.Tensor:
    """`x` going forward; `scale` times its gradient going back (0: none, 1: all of it), so
    one loss can train a head on features it does not shape."""
    if scale == 1.0:
        return x
    detached = x.detach()
    return detached if scale == 0.0 else detached + scale * (x - detached)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (x[..., :E/2], x[..., E/2:]) of x [B, H, T, E] by the position's angle
    (the "rotate half" layout), in float32 for long-sequence accuracy."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half].float(), x[..., half:].float()  # [B, H, T, E/2]
    out = torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)
    return out.to(x.dtype)


@dataclass(frozen=True)
class PromptMemory:
    """Each layer's keys and values of a prompt, rotated to positions 0..P-1, and which of its
    frames are padding (prompts of a batch are padded on the left, so every prompt ends
    where its window begins)."""

    keys: tuple[torch.Tensor, ...]  # per layer [B, H, P, E]
    values: tuple[torch.Tensor, ...]  # per layer [B, H, P, E]
    pad: torch.Tensor  # [B, P] bool, True at padding
    summary: torch.Tensor  # [B, D] the last layer's normed output, averaged over the prompt

    @property
    def n_frames(self) -> int:
        return int(self.pad.shape[1])

    def expand(self, batch: int) -> PromptMemory:
        """The memory for `batch` windows, each of its n prompts serving batch / n windows in
        a row (one prompt: a view, no copy)."""
        n = self.pad.shape[0]
        if n == batch:
            return self
        if batch % n:
            raise ValueError(f"a memory of {n} prompts cannot serve {batch} windows evenly")
        if n == 1:
            grow = lambda t: t.expand(batch, *t.shape[1:])  # noqa: E731
        else:
            grow = lambda t: t.repeat_interleave(batch // n, dim=0)  # noqa: E731
        return PromptMemory(
            tuple(map(grow, self.keys)), tuple(map(grow, self.values)), grow(self.pad),
            grow(self.summary),
        )  # fmt: skip


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
        attn_mask: torch.Tensor | None,  # [B, 1, 1, (P +) T] bool, True = may be attended to
        memory: tuple[torch.Tensor, torch.Tensor] | None = None,  # a prompt's keys, values
    ) -> torch.Tensor:  # [B, T, D]
        y, _, _ = self.attend(x, cos, sin, attn_mask, memory)
        return y

    def attend(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        attn_mask: torch.Tensor | None,
        memory: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # output, and its own k, v
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_heads, D // self.n_heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # [B, H, T, E]
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        keys, values = (k, v) if memory is None else (
            torch.cat((memory[0], k), 2), torch.cat((memory[1], v), 2)
        )  # fmt: skip
        y = F.scaled_dot_product_attention(
            q, keys, values, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )  # [B, H, T, E]
        return self.out(y.transpose(1, 2).reshape(B, T, D)), k, v


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
        memory: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:  # [B, T, D]
        x = x + self.drop(self.attn(self.norm1(x), cos, sin, attn_mask, memory))
        return x + self.drop(self.mlp(self.norm2(x)))

    def remember(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, attn_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # forward's output, and its k, v
        y, k, v = self.attn.attend(self.norm1(x), cos, sin, attn_mask)
        x = x + self.drop(y)
        return x + self.drop(self.mlp(self.norm2(x))), k, v


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
        memory: PromptMemory | None = None,
    ) -> torch.Tensor:  # [B, T, D], normed: what the K heads read
        if memory is None:
            cos, sin = rotary_tables(x.shape[1], self.head_dim, self.rope_base, x.device)
            attn_mask = None if pad_mask is None else (~pad_mask)[:, None, None, :]  # [B,1,1,T]
            for block in self.blocks:
                x = block(x, cos, sin, attn_mask)
            return self.norm(x)
        memory = memory.expand(x.shape[0])
        P = memory.n_frames
        cos, sin = rotary_tables(P + x.shape[1], self.head_dim, self.rope_base, x.device)
        cos, sin = cos[P:], sin[P:]  # the window comes after the prompt
        window_pad = (
            pad_mask if pad_mask is not None else torch.zeros_like(x[..., 0], dtype=torch.bool)
        )
        attn_mask = ~torch.cat((memory.pad, window_pad), 1)[:, None, None, :]  # [B,1,1,P+T]
        for block, k, v in zip(self.blocks, memory.keys, memory.values, strict=True):
            x = block(x, cos, sin, attn_mask, (k, v))
        return self.norm(x)

    def remember(
        self,
        x: torch.Tensor,  # [B, P, D] the prompt's embedded frames
        pad: torch.Tensor | None = None,  # [B, P] bool, True at padding (on the left)
    ) -> PromptMemory:
        """Run the blocks over a prompt alone and keep each layer's keys and values."""
        cos, sin = rotary_tables(x.shape[1], self.head_dim, self.rope_base, x.device)
        if pad is None:
            pad = torch.zeros_like(x[..., 0], dtype=torch.bool)
        attn_mask = (~pad)[:, None, None, :]
        keys, values = [], []
        for block in self.blocks:
            x, k, v = cast(Block, block).remember(x, cos, sin, attn_mask)
            keys.append(k)
            values.append(v)
        real = (~pad).to(x.dtype)[..., None]  # [B, P, 1]
        summary = (self.norm(x) * real).sum(1) / real.sum(1).clamp(min=1)  # [B, D]
        return PromptMemory(tuple(keys), tuple(values), pad, summary)

    def forward(
        self,
        x: torch.Tensor,  # [B, T, D]
        pad_mask: torch.Tensor | None = None,  # [B, T] bool, True at padded frames
        level: int | None = None,
        memory: PromptMemory | None = None,
    ) -> torch.Tensor:  # [B, K, T, V]; [B, T, V] for one `level`
        """With `level`, only that codebook's head runs: iterative decoding needs one level
        per call, and the K heads are a large share of a small model's work."""
        h = self.hidden(x, pad_mask, memory)  # [B, T, D]
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
        memory: PromptMemory | None = None,
    ) -> torch.Tensor:  # [B, T, latent_dim]
        if self.latent_head is None:
            raise ValueError("this model has no latent head (latent_dim 0)")
        return self.latent_head(self.hidden(x, pad_mask, memory))

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
