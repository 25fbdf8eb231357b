"""The one tiny debug model that model, decoding, training, engine and daemon tests build on
(STYLE habit 11); the token cache it learns from is factories.make_token_cache.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from drumgrid.server.conditioning import FEATURE_NAMES, VARIANT_FEATURES
from drumgrid.server.model import DrumLM, LMConfig, ModelInfo, build_model, load_model, save_model

# The conditioning of models trained before the `ring` feature existed.
LEGACY_FEATURES = tuple(
    n for n in FEATURE_NAMES if not n.endswith((".ring", ".age")) and n not in VARIANT_FEATURES
)

DEBUG_K, DEBUG_V, DEBUG_KITS, DEBUG_FRAMES = 4, 32, 2, 256
FRAME_RATE = 25.0  # a low rate keeps windows short


def debug_config(**changes) -> LMConfig:
    sizes = dict(
        n_codebooks=DEBUG_K, codebook_size=DEBUG_V, n_kits=DEBUG_KITS, max_frames=DEBUG_FRAMES
    )
    return LMConfig.preset_config("debug", **{**sizes, **changes})


def debug_model(seed: int = 0, **changes) -> DrumLM:
    """A random-initialised debug model in eval mode (2 layers, width 32)."""
    torch.manual_seed(seed)
    return build_model(debug_config(**changes)).eval()


def debug_info(config: LMConfig | None = None, codec_id: str = "encodec-24k") -> ModelInfo:
    config = config or debug_config()
    return ModelInfo(
        config=config,
        codec_id=codec_id,
        codec_config_hash="0" * 16,
        frame_rate=FRAME_RATE,
        kits=tuple(f"kit{i}" for i in range(config.n_kits)),
        card={"note": "random debug model"},
    )


def random_inputs(
    B: int = 2, T: int = 20, seed: int = 0, config: LMConfig | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """features [B, T, F] with sparse onsets, kit [B]."""
    config = config or debug_config()
    g = torch.Generator().manual_seed(seed)
    features = torch.rand(B, T, len(FEATURE_NAMES), generator=g)
    features[:, :, :9] = (features[:, :, :9] > 0.8).float()
    kit = torch.randint(config.n_kits, (B,), generator=g)
    return features, kit


def save_legacy_copy(folder: Path, out: Path) -> Path:
    """`folder`'s model as one trained before `ring` existed would be saved: its other
    columns' weights, a config and feature list without the ring columns."""
    model, info = load_model(folder)
    config = info.config.with_(n_features=len(LEGACY_FEATURES))
    old = build_model(config).eval()
    state = model.state_dict()
    keep = [FEATURE_NAMES.index(n) for n in LEGACY_FEATURES]
    state["cond_proj.weight"] = state["cond_proj.weight"][:, keep]
    old.load_state_dict(state)
    return save_model(out, old, replace(info, config=config, features=LEGACY_FEATURES))
