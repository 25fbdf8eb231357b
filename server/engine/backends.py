"""The Transformer body behind one switch: eager, torch.compile, or a TensorRT engine.

Only the body changes; embed_tokens and sample_tokens (the native ops) run on either side of
it in every backend. `auto` takes TensorRT where it can run (an NVIDIA GPU with Torch-TensorRT
installed) and eager otherwise: torch.compile is opt-in because its first call per shape
costs tens of seconds, which a one-shot render never earns back (the daemon, which renders
many clips, can ask for it).

TensorRT engines are compiled once from the exported body (export.py) for a min/opt/max
frame range and cached on disk under a key of checkpoint hash, GPU name, TensorRT and
Torch-TensorRT versions, batch and frame range: a changed checkpoint or driver stack never
loads a stale engine.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from drumgrid.server.engine.export import MAX_BATCH, MIN_FRAMES, check_contract, export_body
from drumgrid.server.errors import UserError
from drumgrid.server.model.lm import DrumLM

BACKENDS = ("auto", "eager", "compile", "tensorrt")
Body = Callable[[torch.Tensor], torch.Tensor]  # x [B, T, D] -> logits [B, K, T, V]


@dataclass(frozen=True)
class SelectedBackend:
    name: str  # eager | compile | tensorrt
    body: Body
    note: str  # why this one, for the summary line ("" when it was asked for and ran)


def cache_dir() -> Path:
    root = os.environ.get("DRUMGRID_CACHE") or Path.home() / ".cache" / "drumgrid"
    return Path(root) / "tensorrt"


def tensorrt_unavailable(device: torch.device) -> str | None:
    """Why TensorRT cannot run here, or None. Imports Torch-TensorRT only when it may run."""
    if device.type != "cuda":
        return f"TensorRT needs an NVIDIA GPU (--device cuda); this render runs on {device.type}"
    if not torch.cuda.is_available():
        return "TensorRT needs an NVIDIA GPU, and torch sees no CUDA device"
    if importlib.util.find_spec("torch_tensorrt") is None:
        return (
            "Torch-TensorRT is not installed; install the extra with "
            f"`pip install 'drumgrid[tensorrt]'` (it must match torch {torch.__version__})"
        )
    try:
        import torch_tensorrt  # noqa: F401
    except Exception as exc:  # a driver / version mismatch shows up here
        return f"Torch-TensorRT does not import here ({type(exc).__name__}: {exc})"
    return None


def compile_unavailable(device: torch.device) -> str | None:
    """Why torch.compile (inductor) cannot run here, or None."""
    if device.type == "cuda":
        return None if importlib.util.find_spec("triton") else "torch.compile on CUDA needs triton"
    if not any(shutil.which(c) for c in (os.environ.get("CXX", ""), "g++", "c++", "clang++") if c):
        return "torch.compile on CPU needs a C++ compiler (g++ or clang++) on PATH"
    return None


def select_backend(
    requested: str,
    model: DrumLM,
    device: torch.device,
    model_hash: str = "unsaved",
    opt_frames: int | None = None,
) -> SelectedBackend:
    """The body for `requested`; an explicit backend that cannot run is a UserError, auto
    falls back and says why in `note`."""
    if requested not in BACKENDS:
        raise UserError(f"backend {requested!r}: expected one of {', '.join(BACKENDS)}")
    if requested == "auto":
        reason = tensorrt_unavailable(device)
        if reason is None:
            return SelectedBackend(
                "tensorrt", tensorrt_body(model, device, model_hash, opt_frames), "auto"
            )
        return SelectedBackend("eager", model.body, f"auto: no tensorrt ({reason}); using eager")
    if requested == "tensorrt":
        reason = tensorrt_unavailable(device)
        if reason is not None:
            raise UserError(f"--backend tensorrt: {reason}; use --backend auto or eager")
        return SelectedBackend("tensorrt", tensorrt_body(model, device, model_hash, opt_frames), "")
    if requested == "compile":
        reason = compile_unavailable(device)
        if reason is not None:
            raise UserError(f"--backend compile: {reason}; use --backend eager")
        # dynamic=True: one graph for every window length and batch (no recompile per clip).
        return SelectedBackend("compile", torch.compile(model.body, dynamic=True), "")
    return SelectedBackend("eager", model.body, "")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")


def tensorrt_body(
    model: DrumLM, device: torch.device, model_hash: str, opt_frames: int | None = None
) -> Body:
    """Load the cached TensorRT engine for this checkpoint and GPU, or compile and cache it.

    Compiled from torch.export's program (dynamic batch 1..MAX_BATCH, frames
    MIN_FRAMES..max_frames, optimised for one item of `opt_frames`), fp16 kernels allowed.
    Not exercised on this project's CPU machines; the contract check below guards it."""
    import tensorrt
    import torch_tensorrt

    max_frames = max(model.max_frames, MIN_FRAMES + 1)
    opt = min(max(opt_frames or max_frames, MIN_FRAMES), max_frames)
    dim = model.cond_proj.out_features
    gpu = torch.cuda.get_device_name(device)
    key = _slug(
        f"{model_hash}-{gpu}-trt{tensorrt.__version__}-tt{torch_tensorrt.__version__}"
        f"-b{MAX_BATCH}-t{MIN_FRAMES}.{opt}.{max_frames}-fp16"
    )
    path = cache_dir() / f"{key}.ep"
    if path.is_file():
        try:
            return torch.export.load(str(path)).module()
        except Exception as exc:  # a cache written by another stack: rebuild it
            warnings.warn(f"TensorRT cache {path} did not load ({exc}); rebuilding", stacklevel=2)
    program = export_body(model)
    inputs = [
        torch_tensorrt.Input(
            min_shape=(1, MIN_FRAMES, dim),
            opt_shape=(1, opt, dim),
            max_shape=(MAX_BATCH, max_frames, dim),
            dtype=torch.float32,
        )
    ]
    compiled = torch_tensorrt.dynamo.compile(
        program, inputs=inputs, enabled_precisions={torch.float16, torch.float32}, min_block_size=1
    )
    check_contract(compiled, model, atol=5e-2, rtol=5e-2)  # fp16 kernels: looser
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        example = torch.zeros(1, opt, dim, device=device)
        torch_tensorrt.save(compiled, str(tmp), output_format="exported_program", inputs=[example])
        tmp.replace(path)
    except Exception as exc:  # caching is an optimisation: render anyway
        warnings.warn(f"could not cache the TensorRT engine at {path}: {exc}", stacklevel=2)
    return compiled
