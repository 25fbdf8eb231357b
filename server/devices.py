"""One reading of `--device` for every command: cpu, cuda, cuda:N or auto."""

from __future__ import annotations

import torch

from drumgrid.server.errors import UserError


def resolve_device(device: str) -> torch.device:
    """The torch device a `--device` value names; errors say what to pass instead."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise UserError(f"--device {device!r}: expected cpu, cuda, cuda:N or auto") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {device}: torch sees no CUDA device here; use --device cpu")
    if dev.type not in ("cpu", "cuda"):
        raise UserError(f"--device {device}: expected cpu, cuda, cuda:N or auto")
    return dev
