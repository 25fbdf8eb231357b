"""The grid-to-tokens Transformer: config and presets, modules, and the model folder."""

from drumgrid.server.model.config import PRESETS, LMConfig
from drumgrid.server.model.folder import ModelInfo, load_model, read_info, save_model
from drumgrid.server.model.lm import DrumLM, LogitsFn, build_model
from drumgrid.server.model.modules import PromptMemory, TransformerBody

__all__ = [
    "PRESETS",
    "DrumLM",
    "LMConfig",
    "LogitsFn",
    "ModelInfo",
    "PromptMemory",
    "TransformerBody",
    "build_model",
    "load_model",
    "read_info",
    "save_model",
]
