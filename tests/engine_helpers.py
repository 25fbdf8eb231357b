"""The engine's test fixture: a tiny random-initialised checkpoint beside a tiny drum codec,
saved as folders so that `--model DIR` works in tests exactly as for a trained model (the
grooves to render are factories.make_groove's).

The model predicts the tiny drumgrid-drums codec's token space (8 x 1024 at 86.13 frames/s);
its window (max_frames) is short so that a few seconds of MIDI already need several windows.
"""

from __future__ import annotations

from pathlib import Path

from lm_helpers import debug_config

from drumgrid.server.drum_codec.codec import CODEC_ID, DrumgridCodec
from drumgrid.server.drum_codec.config import DrumCodecConfig
from drumgrid.server.drum_codec.folder import save_drum_codec
from drumgrid.server.engine.models import attach_codec
from drumgrid.server.model import ModelInfo, build_model, save_model

KITS = ("acoustic", "electronic")
WINDOW_FRAMES = 64  # 0.74 s at 86.13 frames/s


def make_codec_dir(folder: Path, seed: int = 0) -> Path:
    """The tiny drum codec (random weights) saved as a codec folder."""
    codec = DrumgridCodec.from_config(CODEC_ID, DrumCodecConfig.tiny(), seed=seed)
    return save_drum_codec(folder, codec.model)


def make_model_dir(
    root: Path,
    codec: str = "inside",  # "inside": model/codec/; "beside": ../codec + codec.path; "none"
    max_frames: int = WINDOW_FRAMES,
    seed: int = 0,
    kits: tuple[str, ...] = KITS,
    **config_changes,
) -> Path:
    """A model folder at root/model whose codec the engine finds by itself (see models.py)."""
    import torch

    codec_dir = make_codec_dir(root / "codec-src")
    loaded = DrumgridCodec.from_folder(codec_dir)  # its hash is what the model was "trained" on
    c = loaded.model.config
    config = debug_config(
        n_codebooks=c.n_codebooks, codebook_size=c.codebook_size, n_kits=len(KITS),
        max_frames=max_frames, **config_changes,
    )  # fmt: skip
    torch.manual_seed(seed)
    model = build_model(config).eval()
    info = ModelInfo(
        config=config,
        codec_id=CODEC_ID,
        codec_config_hash=loaded.config_hash,
        frame_rate=c.frame_rate,
        kits=kits,
        card={"note": "random test model"},
    )
    folder = save_model(root / "model", model, info)
    if codec == "inside":
        attach_codec(folder, codec_dir, copy=True)
    elif codec == "beside":
        attach_codec(folder, codec_dir)
    return folder


def local_model_dir(root: Path, **kw) -> Path:
    """A model whose frames do not see each other: every attention output projection is
    zero, so a frame's logits depend only on its own conditioning and known tokens. Windowed
    and one-window renders of such a model must agree token for token, which isolates the
    windowing plumbing (feature slicing, stitching, known prefixes) from the model's context."""
    import torch

    from drumgrid.server.model.folder import load_model

    folder = make_model_dir(root, **kw)
    model, info = load_model(folder)
    with torch.no_grad():
        for block in model.body.blocks:
            block.attn.out.weight.zero_()
    save_model(folder, model, info)
    return folder
