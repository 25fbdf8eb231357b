"""Weights folders (model.safetensors + config.json, the shape of both the model folder and
the drum codec folder): written atomically with the weights' sha256 recorded, and loaded into
a module that config.json describes, with every way the file can be damaged or not fit
answered as one UserError naming the file.

The order bounds the work: the header is read first (safetensors reads only its JSON), its
tensor shapes are compared with the ones the config implies (the module is built on the meta
device, which allocates nothing), and only then are the tensors read and checked to be
finite. A config that asks for a huge module is refused before anything that size exists.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from drumgrid.server.errors import UserError

Shapes = dict[str, tuple[int, ...]]

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
WEIGHTS_SHA256 = "weights_sha256"  # config.json key: sha256 of model.safetensors


def write_folder(
    folder: str | Path, state: dict[str, torch.Tensor], config: dict[str, Any], fmt: str
) -> Path:
    """Write `state` as WEIGHTS and `config` (plus the weights' sha256) as CONFIG. Both go to
    temp names first and are renamed into place one after the other, so a crash leaves the
    old files, or a pair whose sha256 disagrees (refused on load), never a half-written one."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights_tmp, config_tmp = folder / (WEIGHTS + ".tmp"), folder / (CONFIG + ".tmp")
    try:
        save_file(state, str(weights_tmp), metadata={"format": fmt})
        digest = file_sha256(weights_tmp)
        config_tmp.write_text(json.dumps({**config, WEIGHTS_SHA256: digest}, indent=1))
        os.replace(weights_tmp, folder / WEIGHTS)
        os.replace(config_tmp, folder / CONFIG)
    finally:
        weights_tmp.unlink(missing_ok=True)
        config_tmp.unlink(missing_ok=True)
    return folder


def read_json_object(path: Path, fix: str) -> dict[str, Any]:
    """A folder's config.json as a dict, or a UserError naming what is wrong and `fix`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; {fix}") from None
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); {fix}"
        ) from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object, got {type(data).__name__}; {fix}")
    return data


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, as 64 hex digits."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_sha256(path: Path, recorded: str, fix: str) -> None:
    """UserError unless the file's sha256 is the one config.json records."""
    actual = file_sha256(path)
    if actual != recorded:
        raise UserError(
            f"{path}: its sha256 is {actual[:16]}..., {CONFIG} records {recorded[:16]}...: "
            f"the file is corrupted or was replaced; {fix}"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_header(path: Path, fix: str) -> Shapes:
    """Tensor name -> shape from the file's header, without reading any tensor."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(
            f"{path}: not a readable safetensors file ({_first_line(exc)}); {fix}"
        ) from None


def meta_shapes(
    build: Callable[[], nn.Module], config: Path, fix: str, skip: Collection[str] = ()
) -> Shapes:
    """The state-dict shapes of the module `build` makes, built on the meta device; a config
    whose sizes no module can have (overflowing, negative) is a UserError naming it."""
    try:
        with torch.device("meta"):
            module = build()
    except (RuntimeError, ValueError, OverflowError, TypeError, MemoryError) as exc:
        raise UserError(
            f"{config}: its sizes describe no module that can be built ({_first_line(exc)}); {fix}"
        ) from None
    return {k: tuple(v.shape) for k, v in module.state_dict().items() if k not in skip}


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def check_shapes(path: Path, header: Shapes, expected: Shapes, config: str, fix: str) -> None:
    """UserError unless the file holds exactly the expected tensors, each of its shape."""
    missing = [k for k in expected if k not in header]
    unexpected = [k for k in header if k not in expected]
    if missing or unexpected:
        raise UserError(
            f"{path}: weights do not fit {config} (missing {missing[:3]}, unexpected "
            f"{unexpected[:3]}); {fix}"
        )
    wrong = [k for k in expected if header[k] != expected[k]]
    if wrong:
        k = wrong[0]
        raise UserError(
            f"{path}: weights do not fit {config}: tensor {k} is {_shape(header[k])}, "
            f"{config} implies {_shape(expected[k])} ({len(wrong)} tensor(s) differ); {fix}"
        )


def load_checked(path: Path, fix: str) -> dict[str, torch.Tensor]:
    """All tensors of the file, each floating point and finite everywhere (a flipped
    exponent byte often makes Inf or NaN, which would render silence or noise)."""
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise UserError(
            f"{path}: not a readable safetensors file ({_first_line(exc)}); {fix}"
        ) from None
    for name, tensor in state.items():
        if not tensor.is_floating_point():
            raise UserError(f"{path}: tensor {name} holds {tensor.dtype}, not floats; {fix}")
        if not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise UserError(
                f"{path}: tensor {name} holds {bad} NaN or infinite value(s): the file is "
                f"damaged; {fix}"
            )
    return state


def load_weights(
    path: Path,
    build: Callable[[], nn.Module],
    config: Path,
    fix: str,
    skip: Collection[str] = (),
    n_modules: int = 0,
) -> dict[str, torch.Tensor]:
    """The tensors of weights file `path` for the module `build()` makes from `config` (the
    config.json it was read from): the header, its shapes against the module's (minus
    `skip`), then the finite tensors. `n_modules`, how many repeated submodules (layers,
    codebooks) the config asks for, is checked against the file's tensor count before the
    meta build (each holds at least one tensor), so a config asking for a million layers
    costs nothing: building even meta modules takes time per module."""
    header = read_header(path, fix)
    if n_modules > len(header):
        raise UserError(
            f"{path}: weights do not fit {config.name}: it asks for {n_modules} layers or "
            f"codebooks, the file holds {len(header)} tensors in all; {fix}"
        )
    check_shapes(path, header, meta_shapes(build, config, fix, skip), config.name, fix)
    return load_checked(path, fix)
