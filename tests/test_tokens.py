"""Token caches: encode once, memory-mapped reads, resume, and one codec per cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from factories import make_egmd_corpus

from drumgrid.server.codecs import build_random
from drumgrid.server.errors import UserError
from drumgrid.training.egmd import EGMDIndex
from drumgrid.training.tokens import TokenCache, encode_long, tokenize


def _corpus(root: Path, lengths_s: tuple[float, ...] = (1.3, 0.7)) -> EGMDIndex:
    """White noise at 22.05 kHz, the first file train, the rest validation (the audio content
    does not matter)."""
    make_egmd_corpus(root, n_train=1, n_val=len(lengths_s) - 1, audio="noise",
                     sample_rate=22050, seconds=lengths_s, bpm=100.0, style="funk")  # fmt: skip
    return EGMDIndex.read(root)


def test_tokenize_round_trip_and_resume(tmp_path):
    index = _corpus(tmp_path / "corpus")
    codec = build_random("dac-44k")
    out = tmp_path / "cache"
    s = tokenize(index, codec, out, chunk_s=0.5, progress=False)
    assert s["files"] == 2 and s["encoded_files"] == 2

    cache = TokenCache.open(out, codec.id, codec.config_hash)
    assert len(cache) == 2 and cache.codec_id == "dac-44k"
    assert cache.frame_rate == pytest.approx(44100 / 512)
    by_split = {e.split: e for e in cache}
    e = by_split["train"]
    tokens = cache.tokens(e)
    assert isinstance(tokens, np.memmap) and tokens.dtype == np.int16
    assert e.n_samples == round(1.3 * 44100)
    assert tokens.shape == (9, -(-e.n_samples // 512)) == (9, e.n_frames)
    assert (e.kit, e.bpm, e.config_hash) == ("kit", 100.0, codec.config_hash)
    assert codec.decode(np.asarray(tokens), e.n_samples).shape == (e.n_samples,)
    assert [x.split for x in cache.select(split="validation")] == ["validation"]

    again = tokenize(index, codec, out, progress=False)
    assert again["encoded_files"] == 0 and TokenCache.open(out).entries == cache.entries


def test_chunked_encoding_has_no_seams():
    """Conv-only DAC: chunks with context give the tokens of one pass."""
    codec = build_random("dac-44k")
    wave = (0.1 * np.random.default_rng(3).standard_normal(3 * 44100 + 123)).astype(np.float32)
    whole = codec.encode(wave).numpy()
    chunked = encode_long(codec, wave, chunk_s=0.4, overlap_s=0.3)
    assert chunked.shape == whole.shape
    assert (chunked == whole).mean() > 0.99


def test_a_cache_refuses_another_codec(tmp_path):
    index = _corpus(tmp_path / "corpus", lengths_s=(0.3,))
    out = tmp_path / "cache"
    tokenize(index, build_random("dac-44k"), out, progress=False)
    with pytest.raises(UserError, match="holds tokens of codec dac-44k, not encodec-24k"):
        tokenize(index, build_random("encodec-24k"), out, progress=False)
    with pytest.raises(UserError, match="config hash"):
        tokenize(index, build_random("dac-44k", seed=5), out, progress=False)
    with pytest.raises(UserError, match="not xcodec"):
        TokenCache.open(out, "xcodec")


def test_unreadable_wav_is_one_clear_error(tmp_path):
    index = _corpus(tmp_path / "corpus", lengths_s=(0.3,))
    row = next(iter(index))
    index.audio_path(row).write_bytes(b"RIFF....garbage")
    with pytest.raises(UserError, match="unreadable audio"):
        tokenize(index, build_random("xcodec"), tmp_path / "cache", progress=False)


def test_tokenize_command_end_to_end(tmp_path, capsys):
    from drumgrid.training.cli import main

    _corpus(tmp_path / "corpus", lengths_s=(0.4,))
    args = ["tokenize", "--corpus", str(tmp_path / "corpus"), "--out", str(tmp_path / "c")]
    assert main([*args, "--codec", "encodec-24k", "--random-weights", "--no-progress"]) == 0
    assert main([*args, "--codec", "xcodec", "--random-weights", "--no-progress"]) == 2
    assert "one cache, one codec" in capsys.readouterr().err
    assert main([*args, "--codec", "encodec-32k", "--codec-path", str(tmp_path)]) == 2
