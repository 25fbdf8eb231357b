"""DrumLM: frame conditioning + known tokens in, logits for every codebook of every frame out.

    cond   = Linear(features) + kit embedding           [B, T, D]
    x      = embed_tokens(tokens, tables, cond)           [B, T, D]  (native op, MASK = id V)
    logits = body(x, pad_mask)                            [B, K, T, V]

The features already carry beat/bar phase and log-tempo (server/conditioning.py). The body
is a separate module so the engine can export/compile it with the ops on either side.

Axes: B batch, K codebooks, T frames, V codebook size, F conditioning features, D width.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from drumgrid.server.model.config import LMConfig
from drumgrid.server.model.modules import TransformerBody
from drumgrid.server.ops import embed_tokens

# (tokens [B, K, T], level=None) -> logits [B, K, T, V], or [B, T, V] for one level
LogitsFn = Callable[..., torch.Tensor]


class DrumLM(nn.Module):
    def __init__(
        self,
        n_codebooks: int,
        codebook_size: int,
        n_kits: int,
        max_frames: int,
        dim: int = 128,
        n_layers: int = 4,
        n_heads: int = 4,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        n_features: int = 41,
        rope_base: float = 10000.0,
        latent_dim: int = 0,
    ) -> None:
        super().__init__()
        self.n_codebooks, self.codebook_size = n_codebooks, codebook_size
        self.n_kits, self.max_frames, self.n_features = n_kits, max_frames, n_features
        self.latent_dim = latent_dim
        self.cond_proj = nn.Linear(n_features, dim)
        self.kit_embedding = nn.Embedding(n_kits, dim)
        # One table per codebook, V + 1 rows: the last row is MASK's embedding.
        self.tables = nn.Parameter(torch.randn(n_codebooks, codebook_size + 1, dim) * 0.02)
        nn.init.normal_(self.kit_embedding.weight, std=0.02)
        self.body = TransformerBody(
            dim, n_layers, n_heads, n_codebooks, codebook_size, mlp_ratio, dropout, rope_base,
            latent_dim,
        )  # fmt: skip

    @property
    def mask_id(self) -> int:
        return self.codebook_size

    def check_inputs(self, features: torch.Tensor, kit: torch.Tensor) -> None:
        """User-facing shape checks, kept out of the exportable body."""
        if features.dim() != 3 or features.shape[-1] != self.n_features:
            raise ValueError(
                f"expected features [B, T, {self.n_features}], got {tuple(features.shape)}"
            )
        if kit.shape != features.shape[:1]:
            raise ValueError(f"expected kit [{features.shape[0]}], got {tuple(kit.shape)}")
        if kit.numel() and (int(kit.min()) < 0 or int(kit.max()) >= self.n_kits):
            lo, hi = int(kit.min()), int(kit.max())
            raise ValueError(f"expected kit ids in 0..{self.n_kits - 1}, got {lo}..{hi}")

    def conditioning(
        self,
        features: torch.Tensor,  # [B, T, F] float
        kit: torch.Tensor,  # [B] int64
    ) -> torch.Tensor:  # [B, T, D], dtype of the token tables (embed_tokens requires it)
        cond = self.cond_proj(features.to(self.cond_proj.weight.dtype))
        cond = cond + self.kit_embedding(kit)[:, None, :]
        return cond.to(self.tables.dtype)

    def forward(
        self,
        tokens: torch.Tensor,  # [B, K, T] int64, MASK (= V) where unknown
        features: torch.Tensor,  # [B, T, F]
        kit: torch.Tensor,  # [B] int64
        pad_mask: torch.Tensor | None = None,  # [B, T] bool, True at padding
        select: torch.Tensor | None = None,  # [B, K, T] bool: only these tokens' logits
        with_latent: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """logits [B, K, T, V]; with select [N, V], level-major (see level_major). With
        `with_latent` (training a latent head), (logits, latent [B, T, latent_dim]) from one
        pass of the body."""
        x = embed_tokens(tokens, self.tables, self.conditioning(features, kit))
        if select is None and not with_latent:
            return self.body(x, pad_mask)
        h = self.body.hidden(x, pad_mask)
        body = self.body
        logits = body.head_logits(h) if select is None else body.selected_logits(h, select)
        if not with_latent:
            return logits
        if self.body.latent_head is None:
            raise ValueError("this model has no latent head (latent_dim 0)")
        return logits, self.body.latent_head(h)

    def _window_conditioning(
        self, features: torch.Tensor, kit: torch.Tensor
    ) -> torch.Tensor:  # [B, T, D]
        self.check_inputs(features, kit)
        if features.shape[1] > self.max_frames:
            raise ValueError(
                f"expected at most {self.max_frames} frames (the trained maximum), "
                f"got {features.shape[1]}; render long inputs window by window"
            )
        return self.conditioning(features, kit)

    def logits_fn(
        self,
        features: torch.Tensor,  # [B, T, F]
        kit: torch.Tensor,  # [B]
        pad_mask: torch.Tensor | None = None,  # [B, T]
        body: Callable[..., torch.Tensor] | None = None,
    ) -> LogitsFn:
        """tokens -> logits with the conditioning computed once, for decoding loops. `body`
        replaces self.body (a compiled or exported copy); it is called as body(x, pad_mask),
        or body(x) when pad_mask is None."""
        cond = self._window_conditioning(features, kit)

        def fn(tokens: torch.Tensor, level: int | None = None) -> torch.Tensor:
            x = embed_tokens(tokens, self.tables, cond)
            if body is None:  # the eager body can run a single level's head
                return self.body(x, pad_mask, level)
            logits = body(x, pad_mask) if pad_mask is not None else body(x)
            return logits if level is None else logits[:, level]

        return fn

    def latent_fn(
        self,
        features: torch.Tensor,  # [B, T, F]
        kit: torch.Tensor,  # [B]
        pad_mask: torch.Tensor | None = None,  # [B, T]
    ) -> Callable[[torch.Tensor], torch.Tensor]:  # tokens [B, K, T] -> latent [B, T, L]
        """The latent head's prediction given the known tokens (a model with latent_dim)."""
        if not self.latent_dim:
            raise ValueError("this model has no latent head (latent_dim 0)")
        cond = self._window_conditioning(features, kit)
        return lambda tokens: self.body.latent(embed_tokens(tokens, self.tables, cond), pad_mask)


def build_model(config: LMConfig) -> DrumLM:
    """The one builder: config -> plain kwargs -> module."""
    return DrumLM(**config.model_kwargs())
