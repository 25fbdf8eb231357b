"""The windows an evaluation scores: the split's tracks of the model's kits, cut as the trainer
cuts its fixed validation windows, and the corpus audio of each window."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drumgrid.server.codecs.base import Codec
from drumgrid.server.conditioning import FEATURE_NAMES
from drumgrid.server.errors import UserError
from drumgrid.server.midi_io import read_midi
from drumgrid.server.model import ModelInfo
from drumgrid.server.performance import Performance
from drumgrid.training.lm.data import Track, fixed_windows
from drumgrid.training.tokens import TokenCache, TokenEntry, read_audio


@dataclass(frozen=True)
class EvalTrack:
    entry: TokenEntry
    track: Track
    performance: Performance
    audio_path: Path | None  # the corpus's audio, when it is there


@dataclass(frozen=True)
class EvalWindow:
    index: int
    track: int  # index into the EvalTracks
    f0: int
    n: int  # frames
    grid_times: np.ndarray  # [H] seconds from the window's start
    grid_classes: np.ndarray  # [H]
    grid_velocities: np.ndarray  # [H] MIDI 1..127


def load_eval_tracks(
    cache: TokenCache, info: ModelInfo, split: str, root: Path
) -> tuple[list[EvalTrack], list[str]]:
    """The split's entries whose kit the model knows (and the names of the skipped kits)."""
    entries = cache.select(split=split)
    if not entries:
        splits = sorted({e.split for e in cache})
        raise UserError(f"{cache.root}: no entries of split {split!r} (it has {splits})")
    skipped = sorted({e.kit for e in entries if e.kit not in info.kits})
    out = []
    for e in entries:
        if e.kit not in info.kits:
            continue
        perf = read_midi(root / e.midi_filename)
        tokens = cache.read_tokens(e)
        kit = info.kit_index(e.kit)
        # Every column drumgrid computes: each model row reads its own (Renderer.render).
        track = Track(e.audio_filename, tokens, perf, FEATURE_NAMES, kit, cache.frame_rate)
        audio = root / e.audio_filename
        out.append(EvalTrack(e, track, perf, audio if audio.is_file() else None))
    if not out:
        raise UserError(
            f"{cache.root}: no {split} entries of the model's kits ({', '.join(info.kits)}); "
            f"the split has {', '.join(skipped)}"
        )
    return out, skipped


def make_windows(
    tracks: list[EvalTrack], window_beats: float, max_windows: int, max_frames: int
) -> tuple[list[EvalWindow], int]:
    """The trainer's window construction (every file cut into back-to-back windows of
    `window_beats`), less the windows without a single grid onset (a file's trailing
    silence: nothing to render, and every metric against silence is undefined), thinned
    evenly to `max_windows`. Returns (windows, how many empty ones were dropped)."""
    frame_rate = tracks[0].track.frame_rate
    candidates, dropped = [], 0
    for i, f0, f1 in fixed_windows([t.track for t in tracks], window_beats, 1 << 30):
        n = min(f1 - f0, max_frames)
        t0, t1 = f0 / frame_rate, (f0 + n) / frame_rate
        hits = [h for h in tracks[i].performance.hits if t0 <= h.time_s < t1]
        if hits:
            candidates.append((i, f0, n, t0, hits))
        else:
            dropped += 1
    if len(candidates) > max_windows:
        keep = np.linspace(0, len(candidates) - 1, num=max_windows).round().astype(int)
        candidates = [candidates[j] for j in keep]
    out = []
    for w, (i, f0, n, t0, hits) in enumerate(candidates):
        out.append(
            EvalWindow(
                w, i, f0, n,
                np.array([h.time_s - t0 for h in hits], np.float64),
                np.array([int(h.drum_class) for h in hits], np.int64),
                np.array([h.velocity for h in hits], np.int64),
            )
        )  # fmt: skip
    return out, dropped


def plot_choice(windows: list[EvalWindow], tracks: list[EvalTrack], n: int) -> list[int]:
    """Up to n windows with onsets, spread over kits first, then over the list."""
    with_hits = [w for w in windows if len(w.grid_times)]
    chosen: list[int] = []
    seen: set[int] = set()
    for w in with_hits:  # one per kit first
        if len(chosen) < n and tracks[w.track].track.kit not in seen:
            seen.add(tracks[w.track].track.kit)
            chosen.append(w.index)
    rest = [w.index for w in with_hits if w.index not in chosen]
    if len(chosen) < n and rest:
        picks = np.linspace(0, len(rest) - 1, num=min(n - len(chosen), len(rest))).round()
        chosen += [rest[int(i)] for i in picks]
    return chosen[:n]


class CorpusAudio:
    """The corpus's audio of each window, at the codec's rate. One file's audio is kept
    while its windows are scored (windows come in file order), so a file is read once."""

    def __init__(self, codec: Codec) -> None:
        self.sample_rate = codec.sample_rate
        self.hop_length = codec.hop_length
        self._path: Path | None = None
        self._wave = np.zeros(0, np.float32)

    def window(self, track: EvalTrack, window: EvalWindow) -> np.ndarray | None:
        """The window's samples (zero-padded past the file's end), None without the file."""
        if track.audio_path is None:
            return None
        if track.audio_path != self._path:
            self._wave = read_audio(track.audio_path, self.sample_rate)
            self._path = track.audio_path
        a, n = window.f0 * self.hop_length, window.n * self.hop_length
        seg = self._wave[a : a + n]
        return np.pad(seg, (0, n - len(seg))) if len(seg) < n else seg
