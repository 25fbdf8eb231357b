"""Residual vector quantiser with factorised, l2-normalised codes (as in DAC): each level
projects to a few dimensions and picks the nearest code by cosine, which keeps codebooks in
use; quantiser dropout trains the decoder to work from fewer levels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class QuantizerOutput:
    latent: torch.Tensor  # [B, T, D] sum of the used levels' contributions
    codes: torch.Tensor  # [B, K, T] int64
    commitment_loss: torch.Tensor  # scalar
    codebook_loss: torch.Tensor  # scalar


class FactorisedVQ(nn.Module):
    def __init__(self, dim: int, codebook_size: int, codebook_dim: int) -> None:
        super().__init__()
        self.proj_in = nn.Linear(dim, codebook_dim)
        self.proj_out = nn.Linear(codebook_dim, dim)
        self.codebook = nn.Embedding(codebook_size, codebook_dim)
        self.last_inputs: torch.Tensor | None = None  # projected inputs, for dead-code restarts

    def nearest(self, z_e: torch.Tensor) -> torch.Tensor:  # [N, c] -> [N]
        sims = F.normalize(z_e, dim=-1) @ F.normalize(self.codebook.weight, dim=-1).t()
        return sims.max(dim=-1).indices  # max's indices beat argmax on a CPU

    def forward(
        self, residual: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """residual [B, T, D] -> (contribution [B, T, D], codes [B, T], commit, codebook)."""
        z_e = self.proj_in(residual)  # [B, T, c]
        codes = self.nearest(z_e.reshape(-1, z_e.shape[-1])).view(z_e.shape[:-1])
        z_q = self.codebook(codes)  # [B, T, c]
        if self.training:
            self.last_inputs = z_e.detach().reshape(-1, z_e.shape[-1])
        commit = F.mse_loss(z_e, z_q.detach(), reduction="none").mean(-1)  # [B, T]
        codebook = F.mse_loss(z_q, z_e.detach(), reduction="none").mean(-1)
        z_q = z_e + (z_q - z_e).detach()  # straight-through
        return self.proj_out(z_q), codes, commit, codebook

    def encode(self, residual: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, T]
        z_e = self.proj_in(residual)
        return self.nearest(z_e.reshape(-1, z_e.shape[-1])).view(z_e.shape[:-1])

    def decode(self, codes: torch.Tensor) -> torch.Tensor:  # [B, T] -> [B, T, D]
        return self.proj_out(self.codebook(codes))


class ResidualVQ(nn.Module):
    usage: torch.Tensor  # [K, V] EMA of each code's hits, a buffer (dead-code restarts)

    def __init__(self, dim: int, n_codebooks: int, codebook_size: int, codebook_dim: int,
                 dropout: float) -> None:  # fmt: skip
        super().__init__()
        self.levels = nn.ModuleList(
            FactorisedVQ(dim, codebook_size, codebook_dim) for _ in range(n_codebooks)
        )
        self.dropout = dropout
        self.codebook_size = codebook_size
        self.register_buffer("usage", torch.zeros(n_codebooks, codebook_size))

    @property
    def vqs(self) -> list[FactorisedVQ]:
        """`levels`, coarsest first, typed: a ModuleList yields plain Modules."""
        return cast(list[FactorisedVQ], list(self.levels))  # __init__ fills it with these only

    def forward(self, z: torch.Tensor, n_levels: int | None = None) -> QuantizerOutput:
        """z [B, T, D]; in training a `dropout` share of items uses a random number of levels."""
        b = z.shape[0]
        k = len(self.levels)
        active = torch.full((b,), n_levels or k, device=z.device)
        if self.training and self.dropout > 0:
            drop = torch.rand(b, device=z.device) < self.dropout
            active = torch.where(drop, torch.randint(1, k + 1, (b,), device=z.device), active)
        residual = z
        latent = torch.zeros_like(z)
        codes, commits, books = [], [], []
        for i, level in enumerate(self.vqs):
            contribution, level_codes, commit, book = level(residual)
            on = (i < active).to(z.dtype)[:, None]  # [B, 1]
            latent = latent + contribution * on[..., None]
            residual = residual - contribution
            codes.append(level_codes)
            commits.append((commit * on).sum() / (on.sum() * commit.shape[1]).clamp_min(1))
            books.append((book * on).sum() / (on.sum() * book.shape[1]).clamp_min(1))
            if self.training:
                hits = torch.bincount(level_codes.flatten(), minlength=self.codebook_size)
                self.usage[i].mul_(0.99).add_(hits.to(self.usage.dtype), alpha=0.01)
        return QuantizerOutput(
            latent, torch.stack(codes, 1), torch.stack(commits).sum(), torch.stack(books).sum()
        )

    def encode(self, z: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, K, T]
        """The codes alone: what inference needs, without the training losses."""
        codes = []
        for level in self.vqs:
            level_codes = level.encode(z)
            z = z - level.decode(level_codes)
            codes.append(level_codes)
        return torch.stack(codes, 1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:  # [B, K', T] -> [B, T, D]
        vqs = self.vqs
        latent = sum(vqs[i].decode(codes[:, i]) for i in range(codes.shape[1]))
        if not isinstance(latent, torch.Tensor):  # sum's start, 0: no level was given
            raise ValueError(f"expected codes of 1..{len(vqs)} levels, got {codes.shape[1]}")
        return latent

    @torch.no_grad()
    def restart_dead_codes(self, threshold: float, generator: torch.Generator | None = None) -> int:
        """Move codes whose usage EMA fell below `threshold` onto recent encoder outputs."""
        restarted = 0
        for i, level in enumerate(self.vqs):
            dead = (self.usage[i] < threshold).nonzero().flatten()
            if len(dead) == 0 or level.last_inputs is None or len(level.last_inputs) == 0:
                continue
            pick = torch.randint(len(level.last_inputs), (len(dead),), generator=generator)
            level.codebook.weight[dead] = level.last_inputs[pick.to(level.last_inputs.device)]
            self.usage[i, dead] = threshold * 2  # a grace period before the next check
            restarted += len(dead)
        return restarted
