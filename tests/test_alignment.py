"""The whole data path lines up: a GMD groove rendered by FluidSynth, tokenized, and cut into a
training window carries each hit's conditioning on the frame where its sound starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from drumgrid.server.conditioning import FEATURE_NAMES
from drumgrid.server.drum_codec import DrumCodecConfig
from drumgrid.server.drum_codec.codec import DrumgridCodec
from drumgrid.server.midi_io import read_midi
from drumgrid.training.corpus import build_corpus, plan_jobs
from drumgrid.training.egmd import EGMDIndex
from drumgrid.training.fluidsynth import parse_kit
from drumgrid.training.lm.data import collate, load_tracks
from drumgrid.training.tokens import TokenCache, tokenize

KIT = "jazz=/usr/share/sounds/sf2/FluidR3_GM.sf2:128:32"


def test_token_window_and_conditioning_line_up(gmd_root: Path, tmp_path: Path) -> None:
    jobs = [
        j for j in plan_jobs(gmd_root, [parse_kit(KIT)], 44100, ("validation",), True, None, 6.0)
    ][:1]
    build_corpus(jobs, tmp_path / "corpus", gmd_root, workers=1, progress=False)
    index = EGMDIndex.read(tmp_path / "corpus")
    codec = DrumgridCodec.from_config("drumgrid-drums", DrumCodecConfig.tiny())
    tokenize(index, codec, tmp_path / "tokens", progress=False)
    cache = TokenCache.open(tmp_path / "tokens")
    entries = list(cache)
    (track,) = load_tracks(cache, entries, ["jazz"], tmp_path / "corpus")

    row = next(iter(index))
    perf = read_midi(index.midi_path(row))
    audio, sr = sf.read(str(index.audio_path(row)), dtype="float32")
    fr = cache.frame_rate
    assert track.tokens.shape[1] == codec.n_frames(len(audio))

    f0, f1 = track.window_frames(start_beat=2.0, n_beats=4.0)
    batch = collate([track], [(0, f0, f1)], max_frames=10_000)
    np.testing.assert_array_equal(batch.tokens[0].numpy(), track.tokens[:, f0:f1])
    hop = round(sr / fr)
    energy = np.square(audio[: len(audio) // hop * hop]).reshape(-1, hop).sum(axis=1)  # per frame

    rises, checked = 0, 0
    times = [h.time_s for h in perf.hits]
    for i, hit in enumerate(perf.hits):
        f = int(np.floor(hit.time_s * fr))
        if not 4 <= f < track.n_frames - 4:
            continue
        onset = FEATURE_NAMES.index(f"{hit.drum_class.label}.onset")
        position = FEATURE_NAMES.index(f"{hit.drum_class.label}.position")
        if f0 <= f < f1:  # the training window carries the file's conditioning
            assert batch.features[0, f - f0, onset] == 1.0
            assert abs(float(batch.features[0, f - f0, position]) - (hit.time_s * fr - f)) < 1e-5
        assert track.features()[f, onset] == 1.0
        # A hit with no other hit in the 100 ms around it: the audio's biggest energy rise
        # near it is in its own frame or the next (when it starts late in its frame).
        alone = all(abs(t - hit.time_s) > 0.1 for j, t in enumerate(times) if j != i)
        if alone and hit.velocity > 50:
            rise = np.diff(energy[f - 4 : f + 4])  # rise[j] = energy[f - 3 + j] - energy[f - 4 + j]
            rises += int(np.argmax(rise) - 3 in (0, 1))
            checked += 1
    assert checked >= 3
    assert rises >= 0.8 * checked, (rises, checked)
