"""torchrun glue: start the process group from torchrun's environment, pick each process's
device. Kept apart so the trainer only asks `torch.distributed` whether it is initialised."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world_from_env() -> tuple[int, int, int]:
    """(rank, local rank, world size) as torchrun sets them; (0, 0, 1) without torchrun."""
    return (
        int(os.environ.get("RANK", 0)),
        int(os.environ.get("LOCAL_RANK", 0)),
        int(os.environ.get("WORLD_SIZE", 1)),
    )


def init_from_env(device: str) -> str:
    """Join torchrun's process group (nccl on CUDA, gloo on CPU) and return this process's
    device: cuda:LOCAL_RANK when `device` is cuda, else `device` unchanged."""
    _, local_rank, world = world_from_env()
    if world <= 1 or dist.is_initialized():
        return device
    on_cuda = device.startswith("cuda")
    dist.init_process_group("nccl" if on_cuda else "gloo")
    if on_cuda:
        torch.cuda.set_device(local_rank)
        return f"cuda:{local_rank}"
    return device


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
