"""Codec ids -> how to build them, in one table (CODECS at the bottom). The numbers describe
the published checkpoints so `drumgrid codecs` can list them without loading anything;
loading checks the weights agree. Each entry names its Codec class by dotted path, imported
only when a codec of it is built: listing the table imports no codec family, and no codec
module imports this one.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drumgrid.server.codecs.base import Codec, CodecRates
from drumgrid.server.drum_codec.config import DrumCodecConfig
from drumgrid.server.drum_codec.folder import SHIPPED_WEIGHTS, SHIPPED_WEIGHTS_2
from drumgrid.server.errors import UserError


@dataclass(frozen=True)
class CodecSpec(CodecRates):
    """A codec id: its published numbers and how to build it. Codecs shipped in the package
    (no hub id) load from folders that describe themselves, whose sizes may differ."""

    id: str
    hub_id: str | None  # Hugging Face repository, None for codecs shipped in the package
    codec_class: str  # "package.module:Class", a Codec with from_config and from_pretrained
    sample_rate: int
    hop_length: int
    n_codebooks: int
    codebook_size: int
    description: str = ""
    full_config: Callable[[], Any] | None = None  # the real architecture, random weights
    debug_config: Callable[[], Any] | None = None  # a tiny config of the same class, for tests
    aliases: tuple[str, ...] = field(default=())
    packaged: Path | None = None  # weights shipped in the package (codecs without a hub id)

    def codec_type(self) -> type[Codec]:
        """The Codec class, imported now (the HF families import `transformers`)."""
        module, _, name = self.codec_class.partition(":")
        return getattr(importlib.import_module(module), name)


def codec_spec(codec_id: str) -> CodecSpec:
    try:
        return CODECS[codec_id]
    except KeyError:
        raise UserError(
            f"unknown codec {codec_id!r}; choose one of {', '.join(sorted(CODECS))} "
            "(`drumgrid codecs` lists them)"
        ) from None


def build_random(codec_id: str, debug: bool = True, seed: int = 0) -> Codec:
    """The codec's class with random weights: a tiny config (tests) or the real-size one
    (timings: random weights take as long as trained ones)."""
    spec = codec_spec(codec_id)
    make = spec.debug_config if debug else spec.full_config
    if make is None:
        raise ValueError(f"codec {codec_id} has no {'debug' if debug else 'full'} config")
    return spec.codec_type().from_config(spec.id, make(), spec.n_codebooks, seed=seed)


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
    where = weights_location(spec, codec_path)
    if where is None:
        raise UserError(_missing_weights_message(spec, codec_path))
    codec = spec.codec_type().from_pretrained(spec.id, where, spec.n_codebooks)
    got = (codec.sample_rate, codec.hop_length, codec.codebook_size)
    want = (spec.sample_rate, spec.hop_length, spec.codebook_size)
    if spec.hub_id is not None and got != want:
        raise UserError(
            f"codec {spec.id}: weights in {where} are (sample rate, hop, codebook size) {got}, "
            f"expected {want}; point --codec-path at a copy of {spec.hub_id}"
        )
    return codec.to(device)


def _missing_weights_message(spec: CodecSpec, codec_path: str | Path | None) -> str:
    if spec.hub_id is None:
        where = f"--codec-path {codec_path}" if codec_path else f"the package ({spec.packaged})"
        return (
            f"codec {spec.id}: no weights in {where}; train them with `drumgrid train-codec` "
            "and pass --codec-path RUN/codec"
        )
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

    return EncodecConfig(
        sampling_rate=32000,
        upsampling_ratios=[8, 5, 4, 4],
        codebook_size=2048,
        target_bandwidths=[2.2],
        hidden_size=16 if small else 128,
        num_filters=4 if small else 64,
        num_lstm_layers=1 if small else 2,
        use_causal_conv=False,
        use_conv_shortcut=False,
        normalize=False,
    )


def _encodec24k(small: bool = False) -> Any:
    from transformers import EncodecConfig

    # the full size keeps transformers' defaults, which are this checkpoint's
    width: dict[str, Any] = (
        {"hidden_size": 16, "num_filters": 4, "num_lstm_layers": 1} if small else {}
    )
    return EncodecConfig(
        sampling_rate=24000,
        upsampling_ratios=[8, 5, 4, 2],
        codebook_size=1024,
        target_bandwidths=[1.5, 3.0, 6.0, 12.0, 24.0],
        **width,
    )


def _dac44k(small: bool = False) -> Any:
    from transformers import DacConfig

    width: dict[str, Any] = {"encoder_hidden_size": 4, "decoder_hidden_size": 16} if small else {}
    return DacConfig(
        sampling_rate=44100,
        downsampling_ratios=[2, 4, 8, 8],
        n_codebooks=9,
        codebook_size=1024,
        codebook_dim=8,
        **width,
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


_DRUMS = DrumCodecConfig()
_SPECS = (
    CodecSpec(
        "encodec-32k", "facebook/encodec_32khz", "drumgrid.server.codecs.hf:EncodecCodec",
        32000, 640, 4, 2048, "EnCodec 32 kHz (MusicGen's), 2.2 kbps",
        lambda: _encodec32k(), lambda: _encodec32k(small=True),
    ),
    CodecSpec(
        "encodec-24k", "facebook/encodec_24khz", "drumgrid.server.codecs.hf:EncodecCodec",
        24000, 320, 8, 1024, "EnCodec 24 kHz at 6 kbps",
        lambda: _encodec24k(), lambda: _encodec24k(small=True),
    ),
    CodecSpec(
        "dac-44k", "descript/dac_44khz", "drumgrid.server.codecs.hf:DacCodec",
        44100, 512, 9, 1024, "Descript Audio Codec 44.1 kHz",
        lambda: _dac44k(), lambda: _dac44k(small=True),
    ),
    CodecSpec(
        "xcodec", "hf-audio/xcodec-hubert-general", "drumgrid.server.codecs.hf:XcodecCodec",
        16000, 320, 4, 1024, "X-Codec (HuBERT general audio) at 2 kbps",
        lambda: _xcodec(), lambda: _xcodec(small=True),
    ),
    CodecSpec(
        "drumgrid-drums", None, "drumgrid.server.drum_codec.codec:DrumgridCodec",
        _DRUMS.sample_rate, _DRUMS.hop_length, _DRUMS.n_codebooks, _DRUMS.codebook_size,
        "drumgrid's own drum codec, shipped in the package",
        lambda: _DRUMS, DrumCodecConfig.tiny, aliases=("default",), packaged=SHIPPED_WEIGHTS,
    ),
    CodecSpec(
        "drumgrid-drums-2", None, "drumgrid.server.drum_codec.codec:DrumgridCodec",
        _DRUMS.sample_rate, _DRUMS.hop_length, _DRUMS.n_codebooks, _DRUMS.codebook_size,
        "drumgrid-drums fine-tuned on 20 kits: a second token space, for the next model",
        lambda: _DRUMS, DrumCodecConfig.tiny, packaged=SHIPPED_WEIGHTS_2,
    ),
)  # fmt: skip
# Every id and alias -> its spec, in the table's order (`drumgrid codecs` lists them so).
CODECS: dict[str, CodecSpec] = {name: spec for spec in _SPECS for name in (spec.id, *spec.aliases)}
