"""The drum codecs that ship in the package: each loads by id with no network; the first keeps
a shipped groove, rendered through a training kit, within the figures its model card states,
and the second (trained on 20 kits) keeps a kit neither trained on far better than the first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from fluid_helpers import FLUID_STANDARD, needs_fonts, render_groove
from paths import EXAMPLES

from drumgrid.server.codecs.registry import load_codec
from drumgrid.server.drum_codec.folder import SHIPPED_WEIGHTS, SHIPPED_WEIGHTS_2, read_codec_info
from drumgrid.server.midi_io import read_midi
from drumgrid.server.weights import file_sha256
from drumgrid.training.cards import training_stages
from drumgrid.training.codec.evaluation import reconstruction_scores

GROOVE = EXAMPLES / "rock_100_beat.mid"  # GMD validation: never trained on


def test_shipped_weights_load_by_id_offline() -> None:
    codec = load_codec("default")
    info = read_codec_info(SHIPPED_WEIGHTS)
    assert codec.id == "drumgrid-drums" and codec.weights_tag != "random"
    # The token space that every token cache and the default model were made with.
    assert codec.config_hash == "c40c8e3ae5cde875"
    assert info.weights_sha256 == file_sha256(SHIPPED_WEIGHTS / "model.safetensors")
    stages = training_stages(info.card)  # the first training, then the decoder fine-tune
    assert stages[0]["steps"] >= 1000
    assert sum(stage["train_seconds"] for stage in stages) <= 4 * 3600
    size = sum(p.stat().st_size for p in SHIPPED_WEIGHTS.rglob("*") if p.is_file())
    assert size <= 20 * 2**20
    assert (SHIPPED_WEIGHTS / "MODEL_CARD.md").is_file()


@needs_fonts
def test_shipped_codec_keeps_a_shipped_groove() -> None:
    wave = render_groove(GROOVE, FLUID_STANDARD, 8.0)
    codec = load_codec("default")
    tokens = codec.encode(wave)
    assert tokens.shape == (8, codec.n_frames(len(wave)))
    full = codec.decode(tokens, len(wave)).numpy()
    assert full.shape == wave.shape
    scores = reconstruction_scores(wave, full, codec.sample_rate)
    # Measured when the weights shipped: F1 1.00, mel 4.44 dB, SC 0.382 (this clip's quiet
    # stretches weigh more in the mel MAE than the validation split's average of 2.48 dB).
    # The codec's targets (1.5 dB, 0.20) are not met yet; these bounds keep what ships.
    assert scores["onset_f1"] >= 0.97, scores
    assert scores["mel_mae_db"] <= 5.0, scores
    assert scores["mrstft_sc"] <= 0.45, scores
    # Quantiser dropout: the four coarsest levels still decode (here about as well as eight).
    coarse = codec.decode_levels(tokens[None, :4], len(wave))[0].numpy()
    coarse_scores = reconstruction_scores(wave, coarse, codec.sample_rate)
    assert coarse_scores["mel_mae_db"] < scores["mel_mae_db"] + 1.5, coarse_scores
    assert coarse_scores["onset_f1"] >= 0.9, coarse_scores
    # A latent head's codes: quantising the tokens' own latent gives them back exactly (the
    # encoder-side RVQ would not: it reads the encoder's output, not the quantised latent).
    latent = codec.latents(tokens[None])
    assert torch.equal(codec.quantize(latent, sweeps=16)[0], tokens)
    assert (codec.quantize(latent)[0] == tokens).float().mean() > 0.99  # the default 3 sweeps
    assert not torch.equal(codec.model.quantizer.encode(latent)[0], tokens)
    noisy = latent + 0.2 * latent.std() * torch.randn(latent.shape, generator=torch.Generator())
    nearest = codec.latents(codec.quantize(noisy))
    assert (nearest - noisy).norm() < (latent - noisy).norm() * 1.05  # about as near as truth


def test_second_codec_loads_by_id_beside_the_first() -> None:
    first, second = load_codec("drumgrid-drums"), load_codec("drumgrid-drums-2")
    info = read_codec_info(SHIPPED_WEIGHTS_2)
    assert second.id == "drumgrid-drums-2" and second.config_hash != first.config_hash
    assert info.weights_sha256 == file_sha256(SHIPPED_WEIGHTS_2 / "model.safetensors")
    stages = training_stages(info.card)  # the first codec's two stages, then the 20 kits
    assert len(stages) == 3 and stages[-1]["steps"] >= 1000
    card = (SHIPPED_WEIGHTS_2 / "MODEL_CARD.md").read_text()
    assert card.startswith("# drumgrid-drums-2") and "## Kits it never trained on" in card


H2_KITS = Path("/usr/share/hydrogen/data/drumkits")


@pytest.mark.skipif(
    not (H2_KITS / "ColomboAcousticDrumkit").is_dir(), reason="hydrogen-drumkits not installed"
)
def test_second_codec_keeps_a_kit_neither_trained_on_better() -> None:
    pytest.importorskip("pysfizz", reason="pysfizz (the train extra) is not installed")
    from drumgrid.training.kits.spec import parse_kit

    hits = [(h.time_s, h.pitch, h.velocity) for h in read_midi(GROOVE).hits if h.time_s < 8.0]
    renderer = parse_kit(f"colombo={H2_KITS / 'ColomboAcousticDrumkit'}").open(44100)
    try:
        wave = renderer.render(hits, 8.0)
    finally:
        renderer.close()
    scores = {}
    for codec_id in ("drumgrid-drums", "drumgrid-drums-2"):
        codec = load_codec(codec_id)
        out = codec.decode(codec.encode(wave), len(wave)).numpy()
        scores[codec_id] = reconstruction_scores(wave, out, codec.sample_rate)
    first, second = scores["drumgrid-drums"], scores["drumgrid-drums-2"]
    # Measured when the second codec shipped: mel 10.26 -> 4.01 dB, SC 1.81 -> 0.44, onset F1
    # 0.945 -> 0.982 (the unseen-kit table in its card: ViSQOL 3.12 -> 3.86 over 4 kits).
    assert second["mel_mae_db"] <= 5.0 and second["mel_mae_db"] < first["mel_mae_db"] - 3.0
    assert second["mrstft_sc"] <= 0.6 and second["onset_f1"] >= 0.95


@needs_fonts
def test_frame_levels_follow_the_decoded_level() -> None:
    """The level loss's measure is the decoded audio's frame level (dB re full scale) within
    1 dB: a crash and kick through FluidSynth, over the 50 dB below its loudest frame; and it
    passes a gradient back to the latent."""
    from drumgrid.training.fluidsynth import KitRenderer, parse_kit

    codec = load_codec("default")
    sr, hop = codec.sample_rate, codec.hop_length
    hit = KitRenderer(parse_kit(FLUID_STANDARD), sr).render([(0.2, 49, 100), (0.2, 36, 100)], 4.0)
    tokens = codec.encode(torch.from_numpy(hit.astype(np.float32).reshape(-1)))[None]
    latent = codec.latents(tokens).requires_grad_(True)  # [1, T, D]
    levels = codec.frame_levels_db(latent)[0]
    wave = codec.decode(tokens[0]).double().numpy()
    n = min(levels.shape[0], wave.shape[0] // hop)
    decoded = 10 * np.log10(np.square(wave[: n * hop].reshape(n, hop)).mean(-1) + 1e-12)
    loud = decoded > decoded.max() - 50.0
    offset = levels.detach().double().numpy()[:n][loud] - decoded[loud]
    p10, p90 = np.percentile(offset, [10, 90])
    assert loud.sum() > 250 and p10 > -1.0 and p90 < 1.0
    levels.sum().backward()
    assert latent.grad is not None and latent.grad.abs().sum() > 0


@needs_fonts
def test_decoded_mel_bands_follow_the_decoded_audio() -> None:
    """The mel loss's bands (the spectrum the iSTFT reads, through the metric's mel basis)
    follow the mel bands of the audio the codec decodes, up to one constant: within 1.8 dB on
    average over the cells 50 dB below the loudest (measured 1.76), 90% within 5 dB."""
    import librosa

    from drumgrid.training.fluidsynth import KitRenderer, parse_kit
    from drumgrid.training.lm.decoded import DecodedErrors
    from drumgrid.training.metrics.spectral import mel_basis

    codec = load_codec("default")
    sr, hop = codec.sample_rate, codec.hop_length
    notes = [(0.2, 49, 100), (0.2, 36, 100), (1.0, 38, 90), (1.5, 42, 70)]
    hit = KitRenderer(parse_kit(FLUID_STANDARD), sr).render(notes, 4.0)
    tokens = codec.encode(torch.from_numpy(hit.astype(np.float32).reshape(-1)))[None]
    spectrum = codec.frame_spectrum_db(codec.latents(tokens))
    bands = (
        DecodedErrors(codec, 80.0, ("mel",), "--mel-weight")
        ._mel_db(spectrum)[0]
        .detach()
        .double()
        .numpy()
    )
    wave = codec.decode(tokens[0]).numpy()
    power = np.abs(librosa.stft(wave, n_fft=2 * (spectrum.shape[-1] - 1), hop_length=hop)) ** 2
    audio = 10 * np.log10(mel_basis(sr, 2 * (spectrum.shape[-1] - 1)) @ power + 1e-20).T
    n = min(len(bands), len(audio))
    loud = audio[:n] > audio[:n].max() - 50.0
    offset = bands[:n][loud] - audio[:n][loud]
    spread = np.abs(offset - np.median(offset))
    assert loud.sum() > 5000 and spread.mean() < 2.0 and np.percentile(spread, 90) < 5.0
