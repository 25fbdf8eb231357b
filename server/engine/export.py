"""The Transformer body as a torch.export ExportedProgram with a dynamic frame dimension:
what `drumgrid export` writes and what the TensorRT backend compiles.

Contract of the exported program: x [B, T, D] float32 -> logits [B, K, T, V], for
1 <= B <= MAX_BATCH and 2 <= T <= the model's max_frames, no padding mask (the engine never
pads: every item of a batch renders the same clip). The two native ops (embed_tokens before,
sample_tokens after) stay outside. The contract is checked at export time on two lengths and
two batch sizes (STYLE habit 15), so a program that silently specialised a shape never ships.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from drumgrid.server.model.lm import DrumLM

MAX_BATCH = 16
MIN_FRAMES = 2  # torch.export specialises a dimension whose example size is 0 or 1
EXTRA = "drumgrid.json"


class BodyOnly(nn.Module):
    """The body called as body(x): a one-input signature for export and TensorRT."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, D] -> [B, K, T, V]
        return self.body(x)


def contract_lengths(max_frames: int) -> tuple[int, int]:
    """Two distinct frame counts inside [MIN_FRAMES, max_frames] to export and check at."""
    long = max(MIN_FRAMES + 1, max_frames)
    short = max(MIN_FRAMES, min(long - 1, long // 2 + 1))
    return short, long


def export_body(model: DrumLM, max_batch: int = MAX_BATCH) -> torch.export.ExportedProgram:
    """torch.export of model.body with dims batch 1..max_batch and frames 2..max_frames."""
    body = BodyOnly(model.body).eval()
    param = next(model.body.parameters())
    dim = model.cond_proj.out_features
    _, long = contract_lengths(model.max_frames)
    example = torch.zeros(
        2, max(long - 1, MIN_FRAMES + 1), dim, dtype=param.dtype, device=param.device
    )
    batch = torch.export.Dim("batch", min=1, max=max_batch)
    frames = torch.export.Dim("frames", min=MIN_FRAMES, max=max(model.max_frames, MIN_FRAMES + 1))
    with torch.no_grad():
        program = torch.export.export(body, (example,), dynamic_shapes=({0: batch, 1: frames},))
    check_contract(program.module(), model, max_batch=max_batch)
    return program


def check_contract(
    exported: nn.Module,
    model: DrumLM,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    max_batch: int = MAX_BATCH,
) -> None:
    """Compare an exported (or compiled) body with eager at two lengths and batch sizes;
    raise RuntimeError naming the shape where they differ."""
    param = next(model.body.parameters())
    dim = model.cond_proj.out_features
    g = torch.Generator().manual_seed(0)
    K, V = model.n_codebooks, model.codebook_size
    for B, T in zip((1, min(3, max_batch)), contract_lengths(model.max_frames), strict=True):
        x = torch.randn(B, T, dim, generator=g).to(param)  # [B, T, D]
        with torch.no_grad():
            got, want = exported(x), model.body(x)  # [B, K, T, V]
        if tuple(got.shape) != (B, K, T, V):
            raise RuntimeError(
                f"exported body: expected logits {[B, K, T, V]}, got {list(got.shape)}"
            )
        if not torch.allclose(got.float(), want.float(), atol=atol, rtol=rtol):
            err = (got.float() - want.float()).abs().max().item()
            raise RuntimeError(
                f"exported body differs from eager at B={B}, T={T}: max error {err:.3g}"
            )


def save_exported(program: torch.export.ExportedProgram, path: str | Path, meta: dict) -> Path:
    """Write a .pt2 (temp file + rename) with the model's description as an extra file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.export.save(program, str(tmp), extra_files={EXTRA: json.dumps(meta)})
    tmp.replace(path)
    return path


def load_exported(path: str | Path) -> tuple[torch.export.ExportedProgram, dict]:
    extra = {EXTRA: ""}
    program = torch.export.load(str(path), extra_files=extra)
    return program, json.loads(extra[EXTRA] or "{}")
