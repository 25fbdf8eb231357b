"""The inference engine: load a model and its codec once, render clips of any length
(server/engine/engine.py), with eager / torch.compile / TensorRT bodies (backends.py) and the
exported body that TensorRT compiles (export.py)."""

from drumgrid.server.engine.backends import BACKENDS
from drumgrid.server.engine.engine import Engine, decode_chunked, resolve_device
from drumgrid.server.engine.models import (
    DEFAULT_MODEL_DIR,
    attach_codec,
    codec_location,
    resolve_model_dir,
)
from drumgrid.server.engine.options import RenderOptions, RenderResult, RenderTimings
from drumgrid.server.errors import Cancelled, TooLong, UnknownKit

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL_DIR",
    "Cancelled",
    "Engine",
    "RenderOptions",
    "RenderResult",
    "RenderTimings",
    "TooLong",
    "UnknownKit",
    "attach_codec",
    "codec_location",
    "decode_chunked",
    "resolve_device",
    "resolve_model_dir",
]
