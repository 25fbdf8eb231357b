"""The one tiny debug model and synthetic token cache that model, decoding, training, engine
and daemon tests build on (STYLE habit 11).

The synthetic cache is learnable by construction: each frame's tokens are a function of the
frame conditioning (which class hit last and how many frames ago), so a model that reads
its input lowers the loss far below chance within a few dozen steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from drumgrid.server.conditioning import FEATURE_NAMES, frame_conditioning
from drumgrid.server.drums import CLASS_TO_GM_PITCH, DrumClass
from drumgrid.server.midi_io import write_midi
from drumgrid.server.model import DrumLM, LMConfig, ModelInfo, build_model
from drumgrid.server.performance import Hit, Performance, TempoMap, TimeSignature

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


def _performance(rng: np.random.Generator, bpm: float, bars: int) -> Performance:
    hits = []
    beat_s = 60.0 / bpm
    for step in range(bars * 16):
        for cls in (DrumClass.KICK, DrumClass.SNARE, DrumClass.HIHAT_CLOSED):
            if rng.random() < (0.5 if cls == DrumClass.HIHAT_CLOSED else 0.2):
                t = step * beat_s / 4 + rng.uniform(0, 0.01)
                hits.append(Hit(t, CLASS_TO_GM_PITCH[cls], cls, int(rng.integers(40, 127))))
    sig = (TimeSignature(0.0, 4, 4),)
    return Performance(tuple(hits), TempoMap.constant(bpm), sig, bars * 4.0)


def synthetic_tokens(features: np.ndarray, kit: int, K: int, V: int) -> np.ndarray:
    """[T, F] -> [K, T]: level k = (last onset class, frames since it, kit) mixed per level."""
    T = features.shape[0]
    onsets = features[:, :9] > 0
    last_cls, since = 0, 7
    out = np.zeros((K, T), np.int16)
    for t in range(T):
        if onsets[t].any():
            last_cls, since = int(np.flatnonzero(onsets[t])[0]), 0
        else:
            since = min(since + 1, 7)
        state = (last_cls * 8 + since) * 2 + kit
        for k in range(K):
            out[k, t] = (state * (k + 3) + 5 * k) % V
    return out


def make_token_cache(
    root: Path,
    n_train: int = 6,
    n_val: int = 2,
    kits: tuple[str, ...] = ("kitA", "kitB"),
    K: int = DEBUG_K,
    V: int = DEBUG_V,
    bars: int = 2,
    seed: int = 0,
    codec_id: str = "synthetic",
    config_hash: str = "f" * 16,
    frame_rate: float = FRAME_RATE,
) -> Path:
    """A token cache in TokenCache's layout (cache.json, entries.jsonl, tokens/*.npy) over a
    corpus of random grooves, without any audio; its tokens are said to be `codec_id`'s (a
    real codec's id and hash where a test needs the codec, e.g. for latent targets). Returns
    the cache folder."""
    rng = np.random.default_rng(seed)
    corpus, cache = root / "corpus", root / "cache"
    (corpus / "midi").mkdir(parents=True, exist_ok=True)
    (cache / "tokens").mkdir(parents=True, exist_ok=True)
    meta = {
        "version": 1, "codec_id": codec_id, "config_hash": config_hash, "sample_rate": 16000,
        "hop_length": round(16000 / frame_rate), "frame_rate": frame_rate, "n_codebooks": K,
        "codebook_size": V, "dtype": "int16", "source": str(corpus),
    }  # fmt: skip
    (cache / "cache.json").write_text(json.dumps(meta))
    entries = []
    for i in range(n_train + n_val):
        bpm = float(rng.choice([90.0, 120.0, 140.0]))
        perf = _performance(rng, bpm, bars)
        midi = f"midi/{i}.mid"
        write_midi(perf, corpus / midi)
        n_frames = int(np.ceil((perf.length_s + 0.5) * frame_rate))
        feats = frame_conditioning(perf, frame_rate, 0, n_frames).features
        for j, kit in enumerate(kits):
            rel = f"tokens/{i}_{kit}.npy"
            np.save(cache / rel, synthetic_tokens(feats, j, K, V))
            entries.append({
                "tokens": rel, "n_frames": n_frames, "n_samples": n_frames * meta["hop_length"],
                "kit": kit, "bpm": bpm, "split": "train" if i < n_train else "validation",
                "midi_filename": midi, "audio_filename": f"audio/{i}_{kit}.wav",
                "duration": perf.length_s, "codec_id": codec_id, "config_hash": config_hash,
                "frame_rate": frame_rate,
            })  # fmt: skip
    (cache / "entries.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    return cache
