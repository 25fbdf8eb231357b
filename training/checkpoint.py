"""Checkpoints as safetensors + JSON, never pickle, written to a temporary folder and renamed
so that a run killed mid-write leaves the previous checkpoint intact.

Optimizer state is flattened into tensors (`optim.<name>.<param>.<key>`) with its
param_groups in the JSON, so a resumed run continues exactly where it stopped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from drumgrid.server.errors import UserError


def flatten_optimizer(
    name: str, optimizer: torch.optim.Optimizer
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for param_id, param_state in state["state"].items():
        for key, value in param_state.items():
            t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            tensors[f"optim.{name}.{param_id}.{key}"] = t.detach().cpu().contiguous()
    return tensors, {"param_groups": state["param_groups"]}


def restore_optimizer(name: str, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                      meta: dict[str, Any]) -> None:  # fmt: skip
    prefix = f"optim.{name}."
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            param_id, field = key[len(prefix) :].split(".", 1)
            state.setdefault(int(param_id), {})[field] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(folder: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(
        {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
        str(tmp / "state.safetensors"),
    )
    (tmp / "state.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    folder = Path(folder)
    if not (folder / "state.safetensors").is_file():
        old = folder.with_name(folder.name + ".old")  # a crash between the two renames
        if (old / "state.safetensors").is_file():
            folder = old
        else:
            raise UserError(f"{folder}: no checkpoint here (state.safetensors missing)")
    return load_file(str(folder / "state.safetensors")), json.loads(
        (folder / "state.json").read_text()
    )


def prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in state.items()}


def unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    p = prefix + "."
    return {k[len(p) :]: v for k, v in tensors.items() if k.startswith(p)}


def truncate_log(path: Path, step: int) -> None:
    """Drop JSONL log lines written after the checkpoint at `step` (a run killed between
    checkpoints), so a resumed run's log reads as one uninterrupted run."""
    path = Path(path)
    if not path.is_file():
        return
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    keep = [line for line in lines if json.loads(line)["step"] <= step]
    path.write_text("".join(line + "\n" for line in keep))
