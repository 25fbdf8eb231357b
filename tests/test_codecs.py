"""Every codec family honours the length contract, with tiny random-initialised configs of
the real transformers classes; weights load from a folder and fail fast when absent."""

from __future__ import annotations

import math
import socket
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import torch

from drumgrid.server.codecs import CODECS, Codec, build_random, codec_spec, load_codec
from drumgrid.server.codecs.base import DEFAULT_DECODE_MARGIN
from drumgrid.server.codecs.resample import resample, to_mono
from drumgrid.server.errors import UserError

IDS = ["encodec-32k", "encodec-24k", "dac-44k", "xcodec", "drumgrid-drums", "drumgrid-drums-2"]


@pytest.fixture(scope="module", params=IDS)
def codec(request):
    return build_random(request.param)


def test_registry_numbers_match_the_design():
    expect = {
        "encodec-32k": (32000, 50.0, 4, 2048),
        "encodec-24k": (24000, 75.0, 8, 1024),
        "dac-44k": (44100, 44100 / 512, 9, 1024),
        "xcodec": (16000, 50.0, 4, 1024),
    }
    for cid, (sr, fr, k, v) in expect.items():
        s = codec_spec(cid)
        assert (s.sample_rate, s.frame_rate, s.n_codebooks, s.codebook_size) == (sr, fr, k, v)


def test_codec_matches_its_spec(codec):
    spec = CODECS[codec.id]
    assert (codec.sample_rate, codec.hop_length, codec.n_codebooks, codec.codebook_size) == (
        spec.sample_rate, spec.hop_length, spec.n_codebooks, spec.codebook_size,
    )  # fmt: skip
    assert codec.frame_rate_exact == Fraction(spec.sample_rate, spec.hop_length)


def test_lengths_round_trip(codec):
    rng = np.random.default_rng(0)
    hop = codec.hop_length
    for n in (1, hop - 1, hop, hop + 1, 3 * hop + 7):
        wave = (0.1 * rng.standard_normal(n)).astype(np.float32)
        tokens = codec.encode(wave)  # [K, T]
        t = math.ceil(n * codec.frame_rate / codec.sample_rate - 1e-9)
        assert tokens.shape == (codec.n_codebooks, t), n
        assert tokens.dtype == torch.int64
        assert int(tokens.min()) >= 0 and int(tokens.max()) < codec.codebook_size
        assert codec.decode(tokens, n).shape == (n,)
    assert codec.decode(tokens).shape == (tokens.shape[1] * hop,)


def test_batched_calls_agree_in_shape(codec):
    waves = torch.randn(2, 2 * codec.hop_length + 5) * 0.1
    tokens = codec.encode_batch(waves)  # [B, K, T]
    assert tokens.shape == (2, codec.n_codebooks, 3)
    assert codec.decode_batch(tokens, waves.shape[1]).shape == waves.shape


def test_decode_rejects_bad_tokens(codec):
    with pytest.raises(ValueError, match="token values"):
        codec.decode(torch.full((codec.n_codebooks, 2), codec.codebook_size))
    with pytest.raises(ValueError, match="n_samples"):
        codec.decode(torch.zeros((codec.n_codebooks, 2), dtype=torch.long), 1)


def test_config_hash_is_stable_and_distinguishes():
    hashes = {cid: build_random(cid).config_hash for cid in IDS}
    assert len(set(hashes.values())) == len(IDS)
    assert build_random("dac-44k").config_hash == hashes["dac-44k"]
    assert build_random("dac-44k", seed=1).config_hash != hashes["dac-44k"]


def test_weights_load_from_a_folder(tmp_path):
    codec = build_random("dac-44k")
    codec.model.save_pretrained(tmp_path)
    loaded = load_codec("dac-44k", codec_path=tmp_path)
    wave = np.random.default_rng(1).standard_normal(3000).astype(np.float32) * 0.1
    assert torch.equal(loaded.encode(wave), codec.encode(wave))


def test_missing_weights_fail_fast_with_the_fix(tmp_path, monkeypatch):
    """No download is tried (it would hang offline): any connection fails the test."""

    def no_network(*args, **kwargs):
        raise AssertionError(f"tried the network: {args}")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(UserError, match="--codec-path") as err:
        load_codec("encodec-32k", codec_path=tmp_path)
    assert "facebook/encodec_32khz" in str(err.value)


def test_unknown_codec_names_the_choices():
    with pytest.raises(UserError, match="dac-44k"):
        codec_spec("mp3")


def test_codecs_command_lists_every_id(capsys):
    from drumgrid.training.cli import main

    assert main(["codecs"]) == 0
    out = capsys.readouterr().out
    for cid in IDS:
        assert cid in out
    assert "86.13" in out
    # the drum codec's weights ship in the package: on disk, wherever this runs
    shipped = next(line for line in out.splitlines() if line.startswith("drumgrid-drums"))
    assert shipped.split()[-2:] == ["yes", "packaged"], shipped


def test_one_table_lists_every_codec_class_without_importing_it():
    """The registry names each class by dotted path: listing it imports no family (the HF
    ones import transformers), and every path names a Codec. That no codec module imports
    the registry back is test_imports.py's."""
    script = (
        "import sys\n"
        "from drumgrid.server.codecs.registry import CODECS\n"
        "assert CODECS['default'] is CODECS['drumgrid-drums']\n"
        "loaded = {'drumgrid.server.codecs.hf', 'drumgrid.server.drum_codec.codec', "
        "'transformers'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
    assert list(CODECS) == [*IDS[:-1], "default", IDS[-1]]
    for spec in CODECS.values():
        cls = spec.codec_type()
        assert issubclass(cls, Codec) and cls.__name__ == spec.codec_class.split(":")[1]


def test_codecs_say_how_much_context_their_decoder_needs(codec):
    """The drum codec knows its decoder's reach exactly (6 blocks of kernel 7 and the iSTFT's
    overlap-add at the shipped size); the HF families keep the generous default."""
    if codec.id.startswith("drumgrid-drums"):
        c = codec.model.config
        assert codec.decode_margin == c.decoder_blocks * (c.kernel_size // 2) + 2 + 1
        assert build_random(codec.id, debug=False).decode_margin == 21
    else:
        assert codec.decode_margin == DEFAULT_DECODE_MARGIN


def test_chunked_decode_with_the_margin_matches_one_decode():
    """DAC's decoder is convolutional (a hit reaches about 5 frames each side): the default
    margin makes chunked decoding exact, as the drum codec's own margin does (test_engine)."""
    from drumgrid.server.engine import decode_chunked

    codec = build_random("dac-44k")
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, codec.codebook_size, (1, codec.n_codebooks, 150), generator=g)
    n = 150 * codec.hop_length
    whole = codec.decode_batch(tokens, n)
    chunked = decode_chunked(codec, tokens, n, chunk_frames=64)
    torch.testing.assert_close(chunked, whole, atol=1e-6 * float(whole.abs().max()), rtol=0)


def test_resample_keeps_onsets_in_place():
    sr_in, sr_out = 44100, 24000
    x = np.zeros(sr_in, dtype=np.float32)
    x[sr_in // 2 :] = np.sin(2 * np.pi * 1000 * np.arange(sr_in - sr_in // 2) / sr_in)
    y = resample(x, sr_in, sr_out)
    assert abs(len(y) - sr_out) <= 1
    onset = int(np.argmax(np.abs(y) > 0.5)) / sr_out
    assert abs(onset - 0.5) < 0.001
    assert resample(x, sr_in, sr_in) is not None
    assert to_mono(np.stack([x, -x], axis=1)).max() == 0
