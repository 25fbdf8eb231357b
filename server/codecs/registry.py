"""Codec ids -> how to build them. The numbers here describe the published checkpoints so
`drumgrid codecs` can list them without loading anything; loading checks the weights agree.

drumgrid's own drum codec (`drumgrid-drums`, and `default` pointing at it) joins through
`register()` in its own module.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drumgrid.server.codecs.base import Codec, CodecRates
from drumgrid.server.errors import UserError


@dataclass(frozen=True)
class CodecSpec(CodecRates):
    """A registered codec: its published numbers and the builders for each use."""

    id: str
    hub_id: str | None  # Hugging Face repository, None for codecs shipped in the package
    family: str  # "encodec" | "dac" | "xcodec" | another registered family
    sample_rate: int
    hop_length: int
    n_codebooks: int
    codebook_size: int
    description: str = ""
    full_config: Callable[[], Any] | None = None  # the real architecture, random weights
    debug_config: Callable[[], Any] | None = None  # a tiny config of the same class, for tests
    loader: Callable[[CodecSpec, Path | None], Codec] | None = None  # overrides the HF loader
    aliases: tuple[str, ...] = field(default=())
    packaged: Path | None = None  # weights shipped in the package (codecs without a hub id)


CODECS: dict[str, CodecSpec] = {}


def register(spec: CodecSpec) -> CodecSpec:
    """Add a codec id (and its aliases, e.g. `default`) to the registry."""
    for name in (spec.id, *spec.aliases):
        CODECS[name] = spec
    return spec


def codec_spec(codec_id: str) -> CodecSpec:
    try:
        return CODECS[codec_id]
    except KeyError:
        raise UserError(
            f"unknown codec {codec_id!r}; choose one of {', '.join(sorted(CODECS))} "
            "(`drumgrid codecs` lists them)"
        ) from None


def _family(name: str) -> type:
    from drumgrid.server.codecs import hf
    from drumgrid.server.drum_codec.codec import DrumgridCodec

    families = {"encodec": hf.EncodecCodec, "dac": hf.DacCodec, "xcodec": hf.XcodecCodec}
    return {**families, "drumgrid-drums": DrumgridCodec}[name]


def build_random(codec_id: str, debug: bool = True, seed: int = 0) -> Codec:
    """The codec's class with random weights: a tiny config (tests) or the real-size one
    (timings: random weights take as long as trained ones)."""
    spec = codec_spec(codec_id)
    make = spec.debug_config if debug else spec.full_config
    if make is None:
        raise ValueError(f"codec {codec_id} has no {'debug' if debug else 'full'} config")
    return _family(spec.family).from_config(spec.id, make(), spec.n_codebooks, seed=seed)


def weights_location(spec: CodecSpec, codec_path: str | Path | None = None) -> Path | None:
    """Where loadable weights are on this machine, or None. Looks at disk only."""
    if codec_path is not None:
        p = Path(codec_path)
        return p if (p / "config.json").is_file() else None
    if spec.hub_id is None:
        shipped = spec.packaged
        return shipped if shipped is not None and (shipped / "config.json").is_file() else None
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(spec.hub_id, "config.json")
    if not isinstance(config, str):
        return None
    folder = Path(config).parent
    has_weights = any(folder.glob("*.safetensors")) or any(folder.glob("*.bin"))
    return folder if has_weights else None


def load_codec(codec_id: str, codec_path: str | Path | None = None, device: str = "cpu") -> Codec:
    """Build codec `codec_id` from local weights (a folder, or the HF cache). Fails at once,
    naming the fix, when no weights are on disk: it never waits on the network."""
    spec = codec_spec(codec_id)
    if spec.loader is not None:
        return spec.loader(spec, Path(codec_path) if codec_path else None).to(device)
    where = weights_location(spec, codec_path)
    if where is None:
        raise UserError(_missing_weights_message(spec, codec_path))
    codec = _family(spec.family).from_pretrained(spec.id, where, spec.n_codebooks)
    got = (codec.sample_rate, codec.hop_length, codec.codebook_size)
    want = (spec.sample_rate, spec.hop_length, spec.codebook_size)
    if got != want:
        raise UserError(
            f"codec {spec.id}: weights in {where} are (sample rate, hop, codebook size) {got}, "
            f"expected {want}; point --codec-path at a copy of {spec.hub_id}"
        )
    return codec.to(device)


def _missing_weights_message(spec: CodecSpec, codec_path: str | Path | None) -> str:
    if codec_path is not None:
        return (
            f"codec {spec.id}: no config.json in {codec_path}; pass --codec-path a folder "
            f"holding a saved copy of {spec.hub_id} (config.json + model.safetensors)"
        )
    offline = " (HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE") else ""
    return (
        f"codec {spec.id}: weights for {spec.hub_id} are not in the Hugging Face cache{offline}; "
        f"on a machine with network run `hf download {spec.hub_id}` (older hubs: "
        f"`huggingface-cli download {spec.hub_id}`) and copy the cache, or pass "
        "--codec-path DIR with a downloaded copy"
    )


# -- the published codecs --------------------------------------------------------------------


def _encodec32k(small: bool = False) -> Any:
    from transformers import EncodecConfig

    width = {"hidden_size": 16, "num_filters": 4, "num_lstm_layers": 1} if small else {}
    return EncodecConfig(
        **{
            "sampling_rate": 32000,
            "upsampling_ratios": [8, 5, 4, 4],
            "codebook_size": 2048,
            "target_bandwidths": [2.2],
            "hidden_size": 128,
            "num_filters": 64,
            "num_lstm_layers": 2,
            "use_causal_conv": False,
            "use_conv_shortcut": False,
            "normalize": False,
            **width,
        }
    )


def _encodec24k(small: bool = False) -> Any:
    from transformers import EncodecConfig

    width = {"hidden_size": 16, "num_filters": 4, "num_lstm_layers": 1} if small else {}
    return EncodecConfig(
        **{
            "sampling_rate": 24000,
            "upsampling_ratios": [8, 5, 4, 2],
            "codebook_size": 1024,
            "target_bandwidths": [1.5, 3.0, 6.0, 12.0, 24.0],
            **width,
        }
    )


def _dac44k(small: bool = False) -> Any:
    from transformers import DacConfig

    width = {"encoder_hidden_size": 4, "decoder_hidden_size": 16} if small else {}
    return DacConfig(
        **{
            "sampling_rate": 44100,
            "downsampling_ratios": [2, 4, 8, 8],
            "n_codebooks": 9,
            "codebook_size": 1024,
            "codebook_dim": 8,
            **width,
        }
    )


def _xcodec(small: bool = False) -> Any:
    from transformers import XcodecConfig

    if not small:
        return XcodecConfig(sample_rate=16000)
    return XcodecConfig(
        sample_rate=16000,
        acoustic_model_config={
            "encoder_hidden_size": 4,
            "decoder_hidden_size": 16,
            "hidden_size": 16,
            "codebook_dim": 8,
        },
        semantic_model_config={
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 32,
            "conv_dim": [8] * 7,
            "num_conv_pos_embeddings": 16,
        },
    )


register(
    CodecSpec(
        "encodec-32k", "facebook/encodec_32khz", "encodec", 32000, 640, 4, 2048,
        "EnCodec 32 kHz (MusicGen's), 2.2 kbps",
        lambda: _encodec32k(), lambda: _encodec32k(small=True),
    )
)  # fmt: skip
register(
    CodecSpec(
        "encodec-24k", "facebook/encodec_24khz", "encodec", 24000, 320, 8, 1024,
        "EnCodec 24 kHz at 6 kbps",
        lambda: _encodec24k(), lambda: _encodec24k(small=True),
    )
)  # fmt: skip
register(
    CodecSpec(
        "dac-44k", "descript/dac_44khz", "dac", 44100, 512, 9, 1024,
        "Descript Audio Codec 44.1 kHz",
        lambda: _dac44k(), lambda: _dac44k(small=True),
    )
)  # fmt: skip
register(
    CodecSpec(
        "xcodec", "hf-audio/xcodec-hubert-general", "xcodec", 16000, 320, 4, 1024,
        "X-Codec (HuBERT general audio) at 2 kbps",
        lambda: _xcodec(), lambda: _xcodec(small=True),
    )
)  # fmt: skip

# drumgrid's own codec registers itself (as drumgrid-drums and default) on import.
from drumgrid.server.drum_codec import codec as _drum_codec  # noqa: E402, F401
