"""DrumLM: frame conditioning + known tokens in, logits for every codebook of every frame out.

    cond   = Linear(features) + kit embedding           [B, T, D]
    x      = embed_tokens(tokens, tables, cond)           [B, T, D]  (native op, MASK = id V)
    logits = body(x, pad_mask)                            [B, K, T, V]

A prompted model (`prompted`) also renders in a prompt's sound: the prompt's tokens and
conditioning are embedded the same way (with `prompt_tag` in place of a kit), run through
the body once into a PromptMemory, and the window, conditioned on `prompt_kit` instead of a
kit's embedding, attends to it (server/model/modules.py).

The features already carry beat/bar phase and log-tempo (server/conditioning.py). The body
is a separate module so the engine can export/compile it with the ops on either side.

Axes: B batch, K codebooks, T frames, V codebook size, F conditioning features, D width.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from drumgrid.server.model.config import LMConfig
from drumgrid.server.model.modules import PromptMemory, TransformerBody, scale_grad
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
        prompted: bool = False,
        prompt_mode: str = "prefix",
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
        self.prompted, self.prompt_mode = prompted, prompt_mode
        if prompted:  # the kit vector of a prompted window, and the mark of a prompt's frames
            self.prompt_kit = nn.Parameter(torch.randn(dim) * 0.02)
            self.prompt_tag = nn.Parameter(torch.randn(dim) * 0.02)
            if prompt_mode == "pooled":  # the prompt's summary -> the window's kit vector
                self.prompt_pool = nn.Linear(dim, dim)
        self.body = TransformerBody(
            dim, n_layers, n_heads, n_codebooks, codebook_size, mlp_ratio, dropout, rope_base,
            latent_dim,
        )  # fmt: skip

    @property
    def mask_id(self) -> int:
        return self.codebook_size

    def check_inputs(self, features: torch.Tensor, kit: torch.Tensor | None) -> None:
        """User-facing shape checks, kept out of the exportable body."""
        if features.dim() != 3 or features.shape[-1] != self.n_features:
            raise ValueError(
                f"expected features [B, T, {self.n_features}], got {tuple(features.shape)}"
            )
        if kit is None:
            if not self.prompted:
                raise ValueError("this model renders by kit only (it was not trained on prompts)")
            return
        if kit.shape != features.shape[:1]:
            raise ValueError(f"expected kit [{features.shape[0]}], got {tuple(kit.shape)}")
        if kit.numel() and (int(kit.min()) < 0 or int(kit.max()) >= self.n_kits):
            lo, hi = int(kit.min()), int(kit.max())
            raise ValueError(f"expected kit ids in 0..{self.n_kits - 1}, got {lo}..{hi}")

    def conditioning(
        self,
        features: torch.Tensor,  # [B, T, F] float
        kit: torch.Tensor | None,  # [B] int64; None: a prompted window (the prompt's kit)
        memory: PromptMemory | None = None,
    ) -> torch.Tensor:  # [B, T, D], dtype of the token tables (embed_tokens requires it)
        cond = self.cond_proj(features.to(self.cond_proj.weight.dtype))
        if kit is not None:
            kit_vector = self.kit_embedding(kit)[:, None, :]
        else:
            kit_vector = self.prompt_kit
            if self.prompt_mode == "pooled" and memory is not None:
                summary = memory.expand(features.shape[0]).summary
                kit_vector = kit_vector + self.prompt_pool(summary.to(cond.dtype))[:, None, :]
        return (cond + kit_vector).to(self.tables.dtype)

    def attended(self, memory: PromptMemory | None) -> PromptMemory | None:
        """The memory the body attends to: a prefix model's; a pooled model's goes in through
        the kit vector only."""
        return memory if self.prompt_mode == "prefix" else None

    def remember(
        self,
        tokens: torch.Tensor,  # [B, K, P] int64, the prompt's tokens (all known)
        features: torch.Tensor,  # [B, P, F] the prompt's conditioning
        pad: torch.Tensor | None = None,  # [B, P] bool, True at padding (on the left)
    ) -> PromptMemory:
        """A prompt, run through the body once, for windows to attend to."""
        if not self.prompted:
            raise ValueError("this model renders by kit only (it was not trained on prompts)")
        self.check_inputs(features, None)
        cond = self.cond_proj(features.to(self.cond_proj.weight.dtype)) + self.prompt_tag
        x = embed_tokens(tokens, self.tables, cond.to(self.tables.dtype))
        return self.body.remember(x, pad)

    def forward(
        self,
        tokens: torch.Tensor,  # [B, K, T] int64, MASK (= V) where unknown
        features: torch.Tensor,  # [B, T, F]
        kit: torch.Tensor | None,  # [B] int64; None with a prompt's memory
        pad_mask: torch.Tensor | None = None,  # [B, T] bool, True at padding
        select: torch.Tensor | None = None,  # [B, K, T] bool: only these tokens' logits
        with_latent: bool = False,
        memory: PromptMemory | None = None,
        prompt: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None] | None = None,
        head_grad: float = 1.0,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """logits [B, K, T, V]; with select [N, V], level-major (see level_major). With
        `with_latent` (training a latent head), (logits, latent [B, T, latent_dim]) from one
        pass of the body. `memory`: a prompt's (`remember`), with kit None; or `prompt`,
        remember's arguments, so that training runs the prompt inside one forward (DDP).
        `head_grad`: the share of the token heads' gradient that reaches the body (training's
        --ce-body-grad); the values are the same whatever it is."""
        if prompt is not None:
            memory = self.remember(*prompt)
        x = embed_tokens(tokens, self.tables, self.conditioning(features, kit, memory))
        memory = self.attended(memory)
        if select is None and not with_latent:
            return self.body(x, pad_mask, memory=memory)
        h = self.body.hidden(x, pad_mask, memory)
        body, read = self.body, scale_grad(h, head_grad)  # what the token heads read
        logits = body.head_logits(read) if select is None else body.selected_logits(read, select)
        if not with_latent:
            return logits
        if self.body.latent_head is None:
            raise ValueError("this model has no latent head (latent_dim 0)")
        return logits, self.body.latent_head(h)

    def _window_conditioning(
        self, features: torch.Tensor, kit: torch.Tensor | None, memory: PromptMemory | None
    ) -> torch.Tensor:  # [B, T, D]
        self.check_inputs(features, kit)
        if features.shape[1] > self.max_frames:
            raise ValueError(
                f"expected at most {self.max_frames} frames (the trained maximum), "
                f"got {features.shape[1]}; render long inputs window by window"
            )
        return self.conditioning(features, kit, memory)

    def logits_fn(
        self,
        features: torch.Tensor,  # [B, T, F]
        kit: torch.Tensor | None,  # [B]; None with a prompt's memory
        pad_mask: torch.Tensor | None = None,  # [B, T]
        body: Callable[..., torch.Tensor] | None = None,
        memory: PromptMemory | None = None,
    ) -> LogitsFn:
        """tokens -> logits with the conditioning computed once, for decoding loops. `body`
        replaces self.body (a compiled or exported copy); it is called as body(x, pad_mask),
        or body(x) when pad_mask is None. With a prompt's `memory` the eager body runs."""
        cond = self._window_conditioning(features, kit, memory)
        if memory is not None:
            body = None
        memory = self.attended(memory)

        def fn(tokens: torch.Tensor, level: int | None = None) -> torch.Tensor:
            x = embed_tokens(tokens, self.tables, cond)
            if body is None:  # the eager body can run a single level's head
                return self.body(x, pad_mask, level, memory)
            logits = body(x, pad_mask) if pad_mask is not None else body(x)
            return logits if level is None else logits[:, level]

        return fn

    def latent_fn(
        self,
        features: torch.Tensor,  # [B, T, F]
        kit: torch.Tensor | None,  # [B]; None with a prompt's memory
        pad_mask: torch.Tensor | None = None,  # [B, T]
        memory: PromptMemory | None = None,
    ) -> Callable[[torch.Tensor], torch.Tensor]:  # tokens [B, K, T] -> latent [B, T, L]
        """The latent head's prediction given the known tokens (a model with latent_dim)."""
        if not self.latent_dim:
            raise ValueError("this model has no latent head (latent_dim 0)")
        cond = self._window_conditioning(features, kit, memory)
        memory = self.attended(memory)
        return lambda tokens: self.body.latent(
            embed_tokens(tokens, self.tables, cond), pad_mask, memory
        )


def build_model(config: LMConfig) -> DrumLM:
    """The one builder: config -> plain kwargs -> module."""
    return DrumLM(**config.model_kwargs())
