"""The model, token cache and codec an evaluation reads, opened together so that a pair of
another token space is refused before any work."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drumgrid.server.codecs.base import Codec
from drumgrid.server.errors import UserError
from drumgrid.server.model import DrumLM, ModelInfo, load_model
from drumgrid.training.tokens import TokenCache


@dataclass(frozen=True)
class EvalInputs:
    model: DrumLM
    info: ModelInfo
    cache: TokenCache
    codec: Codec
    baseline: DrumLM | None  # --baseline: another model of the same codec and kits
    baseline_info: ModelInfo | None = None


def open_inputs(
    model_dir: Path,
    tokens_dir: Path,
    codec_path: Path | None,
    device: str,
    baseline: Path | None = None,
) -> EvalInputs:
    """Model, cache, codec and baseline, refusing any pair that does not share one token
    space (or, for the baseline, one set of kits)."""
    model, info = load_model(model_dir, device)
    cache = TokenCache.open(tokens_dir)
    if (cache.codec_id, str(cache.meta["config_hash"])) != (info.codec_id, info.codec_config_hash):
        raise UserError(
            f"{tokens_dir} holds tokens of codec {cache.codec_id} ({cache.meta['config_hash']}), "
            f"the model was trained on {info.codec_id} ({info.codec_config_hash}); "
            "evaluate on a cache made with the model's codec"
        )
    codec = cache.load_codec(codec_path, device)
    if baseline is None:
        return EvalInputs(model, info, cache, codec, None)
    return EvalInputs(model, info, cache, codec, *_open_baseline(baseline, info, device))


def _open_baseline(folder: Path, info: ModelInfo, device: str) -> tuple[DrumLM, ModelInfo]:
    model, other = load_model(folder, device)
    if (other.codec_id, other.codec_config_hash) != (info.codec_id, info.codec_config_hash):
        raise UserError(
            f"--baseline {folder} predicts tokens of {other.codec_id} ({other.codec_config_hash}), "
            f"the model {info.codec_id} ({info.codec_config_hash}); compare models of one codec"
        )
    if other.kits != info.kits:
        raise UserError(
            f"--baseline {folder} knows the kits {', '.join(other.kits)}, the model "
            f"{', '.join(info.kits)}; compare models of the same kits"
        )
    return model, other
