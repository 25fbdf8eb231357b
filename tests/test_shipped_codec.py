"""The drum codec that ships in the package: it loads by id with no network and keeps a
shipped groove, rendered through a training kit, within the figures its model card states."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drumgrid.server.codecs.registry import load_codec
from drumgrid.server.drum_codec.codec import SHIPPED_WEIGHTS
from drumgrid.server.midi_io import read_midi
from drumgrid.training.codec.evaluation import reconstruction_scores

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
needs_fonts = pytest.mark.skipif(not FLUID.is_file(), reason="fluid-soundfont-gm not installed")


def _render(midi: Path, kit: str, seconds: float) -> np.ndarray:
    from drumgrid.training.fluidsynth import KitRenderer, parse_kit

    perf = read_midi(midi)
    hits = [(h.time_s, h.pitch, h.velocity) for h in perf.hits if h.time_s < seconds]
    renderer = KitRenderer(parse_kit(kit), 44100)
    try:
        return renderer.render(hits, seconds)
    finally:
        renderer.close()


def test_shipped_weights_load_by_id_offline() -> None:
    codec = load_codec("default")
    meta = json.loads((SHIPPED_WEIGHTS / "config.json").read_text())
    assert codec.id == "drumgrid-drums" and codec.weights_tag != "random"
    assert meta["steps"] >= 1000 and meta["train_seconds"] <= 4 * 3600
    size = sum(p.stat().st_size for p in SHIPPED_WEIGHTS.rglob("*") if p.is_file())
    assert size <= 20 * 2**20
    assert (SHIPPED_WEIGHTS / "MODEL_CARD.md").is_file()


@needs_fonts
def test_shipped_codec_keeps_a_shipped_groove() -> None:
    wave = _render(EXAMPLES / "rock_100_beat.mid", f"fluid-standard={FLUID}:128:0", 8.0)
    codec = load_codec("default")
    tokens = codec.encode(wave)
    assert tokens.shape == (8, codec.n_frames(len(wave)))
    full = codec.decode(tokens, len(wave)).numpy()
    assert full.shape == wave.shape
    scores = reconstruction_scores(wave, full, codec.sample_rate)
    # Measured when the weights shipped: F1 1.00, mel 4.59 dB, SC 0.392 (this clip's quiet
    # stretches weigh more in the mel MAE than the validation split's average of 2.49 dB).
    # Issue 5's targets (1.5 dB, 0.20) are not met yet; these bounds keep what ships.
    assert scores["onset_f1"] >= 0.97, scores
    assert scores["mel_mae_db"] <= 5.0, scores
    assert scores["mrstft_sc"] <= 0.45, scores
    # Quantiser dropout: the four coarsest levels still decode (here about as well as eight).
    coarse = codec.decode_levels(tokens[None, :4], len(wave))[0].numpy()
    coarse_scores = reconstruction_scores(wave, coarse, codec.sample_rate)
    assert coarse_scores["mel_mae_db"] < scores["mel_mae_db"] + 1.5, coarse_scores
    assert coarse_scores["onset_f1"] >= 0.9, coarse_scores
