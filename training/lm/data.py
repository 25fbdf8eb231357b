"""Training windows for the Transformer: N beats of a token-cache file with its aligned frame
conditioning, kit id, tempo and a padding mask.

Each file's MIDI (found through the cache's corpus root) is read once (a performance rendered
through twenty kits, once for all of them); a window's frame conditioning is computed when
the window is drawn (under a millisecond, and exactly the rows the whole file's would have),
since the whole corpus's conditioning held in memory would take 16 GB. Which windows a step
sees depends only on (seed, step): a resumed run and every DDP process build the same global
batch.

Axes: B batch, K codebooks, T frames, F conditioning features.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from drumgrid.server.conditioning import FEATURE_NAMES, frame_conditioning
from drumgrid.server.errors import UserError
from drumgrid.server.midi_io import read_midi
from drumgrid.server.performance import Performance, TempoMap
from drumgrid.training.tokens import TokenCache, TokenEntry


@dataclass(frozen=True)
class Track:
    """One cache entry in memory."""

    name: str  # the audio file, for messages
    tokens: np.ndarray  # [K, T] int16
    performance: Performance
    feature_names: tuple[str, ...]
    kit: int
    frame_rate: float

    @property
    def tempo_map(self) -> TempoMap:
        return self.performance.tempo_map

    @property
    def n_frames(self) -> int:
        return int(self.tokens.shape[1])

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def features(self, f0: int = 0, f1: int | None = None) -> np.ndarray:
        """[f1 - f0, F] float32: the conditioning of frames [f0, f1) (default: all)."""
        f1 = self.n_frames if f1 is None else f1
        return frame_conditioning(
            self.performance, self.frame_rate, f0, f1 - f0, features=self.feature_names
        ).features

    @property
    def length_beats(self) -> float:
        return float(self.tempo_map.beat_at(self.n_frames / self.frame_rate))

    def window_frames(self, start_beat: float, n_beats: float) -> tuple[int, int]:
        """[f0, f1) of the frames that beats [start, start + n) touch, cut to the file."""
        t0, t1 = self.tempo_map.time_at(np.array([start_beat, start_beat + n_beats]))
        f0 = min(self.n_frames - 1, math.floor(t0 * self.frame_rate))
        f1 = min(self.n_frames, math.ceil(t1 * self.frame_rate - 1e-9))
        return f0, max(f0 + 1, f1)


@dataclass(frozen=True)
class LMBatch:
    tokens: torch.Tensor  # [B, K, T] int64
    features: torch.Tensor  # [B, T, F] float32
    kit: torch.Tensor  # [B] int64
    pad_mask: torch.Tensor  # [B, T] bool, True at padding
    tempo: torch.Tensor  # [B] float32, bpm at the window's start

    def __len__(self) -> int:
        return int(self.kit.shape[0])

    def select(self, idx: slice | torch.Tensor) -> LMBatch:
        return LMBatch(*(t[idx] for t in self._fields()))

    def to(self, device: torch.device | str) -> LMBatch:
        return LMBatch(*(t.to(device) for t in self._fields()))

    def _fields(self) -> tuple[torch.Tensor, ...]:
        return (self.tokens, self.features, self.kit, self.pad_mask, self.tempo)


def corpus_root(cache: TokenCache, corpus: str | Path | None = None) -> Path:
    """Where the MIDI files are: `corpus` if given, else the corpus the cache was made from."""
    root = Path(corpus) if corpus is not None else Path(str(cache.meta.get("source", "")))
    if not str(root) or not root.is_dir():
        raise UserError(
            f"{cache.root}: its corpus {str(root)!r} (for the MIDI files) is not a folder here; "
            "pass --corpus DIR"
        )
    return root


def load_tracks(
    cache: TokenCache,
    entries: list[TokenEntry],
    kits: list[str],
    root: Path,
    features: tuple[str, ...] = FEATURE_NAMES,
) -> list[Track]:
    """Read each entry's tokens and MIDI; conditioning columns `features` for the tokens'
    frames."""
    tracks = []
    fr = cache.frame_rate
    read: dict[bytes, Performance] = {}  # by the MIDI file's bytes: one per performance
    for e in entries:
        path = root / e.midi_filename
        digest = hashlib.sha256(path.read_bytes()).digest()
        perf = read.get(digest)
        if perf is None:
            perf = read[digest] = read_midi(path)
        tokens = cache.read_tokens(e)
        tracks.append(Track(e.audio_filename, tokens, perf, features, kits.index(e.kit), fr))
    return tracks


def max_window_frames(tracks: list[Track], window_beats: float) -> int:
    """The longest window any track can give (its slowest tempo), the model's max_frames."""
    longest = 1
    for t in tracks:
        seconds = window_beats * 60.0 / min(t.tempo_map.bpms)
        longest = max(longest, min(t.n_frames, math.ceil(seconds * t.frame_rate) + 1))
    return longest


def collate(tracks: list[Track], windows: list[tuple[int, int, int]], max_frames: int) -> LMBatch:
    """(track index, f0, f1) windows -> a batch padded to its longest window."""
    lengths = [min(f1 - f0, max_frames) for _, f0, f1 in windows]
    B, T = len(windows), max(lengths)
    K, F = tracks[0].tokens.shape[0], tracks[0].n_features
    tokens = np.zeros((B, K, T), np.int64)
    feats = np.zeros((B, T, F), np.float32)
    pad = np.ones((B, T), bool)
    kit = np.zeros(B, np.int64)
    tempo = np.zeros(B, np.float32)
    for b, ((i, f0, _), n) in enumerate(zip(windows, lengths, strict=True)):
        tr = tracks[i]
        tokens[b, :, :n] = tr.tokens[:, f0 : f0 + n]
        feats[b, :n] = tr.features(f0, f0 + n)
        pad[b, :n] = False
        kit[b] = tr.kit
        tempo[b] = float(tr.tempo_map.bpm_at(f0 / tr.frame_rate))
    return LMBatch(*(torch.from_numpy(a) for a in (tokens, feats, kit, pad, tempo)))


class WindowSampler:
    """Random windows of `window_beats` for training, files drawn in proportion to length;
    with `groups` ((count, share) for consecutive runs of tracks), each group is drawn its
    share of the time, its files still in proportion to their length."""

    def __init__(
        self,
        tracks: list[Track],
        window_beats: float,
        max_frames: int,
        seed: int,
        groups: Sequence[tuple[int, float]] | None = None,
    ):
        if not tracks:
            raise UserError("no training files in the token cache (split 'train')")
        self.tracks, self.window_beats, self.max_frames, self.seed = (
            tracks, window_beats, max_frames, seed,
        )  # fmt: skip
        lengths = np.array([t.n_frames for t in tracks], np.float64)
        weights = lengths / lengths.sum()
        if groups is not None:
            if sum(n for n, _ in groups) != len(tracks):
                raise ValueError("groups must cover every track")
            start = 0
            for n, share in groups:
                part = lengths[start : start + n]
                weights[start : start + n] = share * part / part.sum()
                start += n
        self.lengths, self.weights = torch.from_numpy(lengths), torch.from_numpy(weights)
        self.by_kit = self.kit_weights()

    def generator(self, step: int, stream: int = 0) -> torch.Generator:
        return torch.Generator().manual_seed((self.seed * 1_000_003 + step) * 7 + stream)

    def kit_weights(self) -> dict[int, torch.Tensor]:
        """Per kit, the draw weights restricted to its tracks (summing to 1); by length for
        a kit whose tracks a plain draw never takes (kits learnt only from prompts)."""
        out = {}
        for kit in sorted({t.kit for t in self.tracks}):
            mine = torch.tensor([t.kit == kit for t in self.tracks])
            w = torch.where(mine, self.weights, 0.0)
            if not w.sum() > 0:
                w = torch.where(mine, self.lengths, 0.0)
            out[kit] = w / w.sum()
        return out

    def windows(
        self, step: int, batch_size: int, kits: Sequence[int] = ()
    ) -> list[tuple[int, int, int]]:
        """The step's (track index, f0, f1) windows; with `kits` (G of them, G dividing the
        batch), batch / G consecutive windows of each kit's tracks."""
        g = self.generator(step)
        if kits:
            if batch_size % len(kits):
                raise ValueError(f"{len(kits)} kit groups do not divide a batch of {batch_size}")
            each = batch_size // len(kits)
            picks = torch.cat([
                torch.multinomial(self.by_kit[k], each, replacement=True, generator=g)
                for k in kits
            ])  # fmt: skip
        else:
            picks = torch.multinomial(self.weights, batch_size, replacement=True, generator=g)
        windows = []
        for i in picks.tolist():
            tr = self.tracks[i]
            span = max(0.0, tr.length_beats - self.window_beats)
            start = float(torch.rand((), generator=g, dtype=torch.float64)) * span
            f0, f1 = tr.window_frames(start, self.window_beats)
            windows.append((i, f0, f1))
        return windows

    def batch(self, step: int, batch_size: int) -> LMBatch:
        return collate(self.tracks, self.windows(step, batch_size), self.max_frames)


@dataclass(frozen=True)
class PromptBatch:
    """One kit prompt per item, padded on the left (so each ends where its window begins)."""

    tokens: torch.Tensor  # [B, K, P] int64
    features: torch.Tensor  # [B, P, F] float32
    pad: torch.Tensor  # [B, P] bool, True at padding

    def select(self, idx: slice) -> PromptBatch:
        return PromptBatch(self.tokens[idx], self.features[idx], self.pad[idx])

    def to(self, device: torch.device | str) -> PromptBatch:
        return PromptBatch(*(t.to(device) for t in (self.tokens, self.features, self.pad)))

    def args(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.tokens, self.features, self.pad


def left_padded(pieces: list[tuple[np.ndarray, np.ndarray]]) -> PromptBatch:
    """(tokens [K, P_i], features [P_i, F]) pieces -> a PromptBatch padded on the left."""
    P = max(t.shape[1] for t, _ in pieces)
    K, F = pieces[0][0].shape[0], pieces[0][1].shape[1]
    tokens = np.zeros((len(pieces), K, P), np.int64)
    feats = np.zeros((len(pieces), P, F), np.float32)
    pad = np.ones((len(pieces), P), bool)
    for b, (t, f) in enumerate(pieces):
        n = t.shape[1]
        tokens[b, :, P - n :], feats[b, P - n :], pad[b, P - n :] = t, f, False
    return PromptBatch(*(torch.from_numpy(a) for a in (tokens, feats, pad)))


class PromptSampler:
    """A prompt of each window's kit: `seconds` (a range; one length per batch) of another
    recording of that kit, or, a `shot_share` of the time, a whole one-shot prompt of it
    (`shots`: tracks laid out as server/prompts.py lays users' one-shots)."""

    def __init__(
        self,
        tracks: list[Track],
        seconds: tuple[float, float],
        shots: Sequence[Track] = (),
        shot_share: float = 0.0,
        usable: Sequence[int] | None = None,
        shots_for: Sequence[int] | None = None,
    ):
        """`usable`: the tracks prompts come from (indices; default all), `shots_for`: the
        kits that must have one-shot prompts (default every kit; the others' prompts are
        always recordings)."""
        self.tracks, self.shots, self.seconds, self.shot_share = tracks, shots, seconds, shot_share
        self.by_kit: dict[int, list[int]] = {}
        for i in range(len(tracks)) if usable is None else usable:
            self.by_kit.setdefault(tracks[i].kit, []).append(i)
        self.shots_by_kit: dict[int, list[int]] = {}
        for i, t in enumerate(shots):
            self.shots_by_kit.setdefault(t.kit, []).append(i)
        if shots:
            lacking = sorted(set(self.by_kit if shots_for is None else shots_for)
                             - set(self.shots_by_kit))  # fmt: skip
            if lacking:
                raise UserError(f"the one-shot prompts have none of kits {lacking}")

    def _pick(self, choices: list[int], avoid: set[int], g: torch.Generator) -> int:
        others = [i for i in choices if i not in avoid] or choices
        return others[int(torch.randint(len(others), (), generator=g))]

    def batch(self, kits: list[int], avoid: list[set[int]], g: torch.Generator) -> PromptBatch:
        """A prompt of each of `kits`, never from a track in its `avoid` (the tracks its
        windows come from: indices into the tracks) where the kit has another."""
        lo, hi = self.seconds
        seconds = lo + float(torch.rand((), generator=g, dtype=torch.float64)) * (hi - lo)
        pieces = []
        for kit, not_these in zip(kits, avoid, strict=True):
            use_shot = bool(torch.rand((), generator=g) < self.shot_share) and bool(self.shots)
            if use_shot and kit in self.shots_by_kit:
                tr = self.shots[self._pick(self.shots_by_kit[kit], set(), g)]
                pieces.append((tr.tokens.astype(np.int64), tr.features()))
                continue
            tr = self.tracks[self._pick(self.by_kit[kit], not_these, g)]
            n = max(1, min(tr.n_frames, round(seconds * tr.frame_rate)))
            f0 = int(torch.randint(tr.n_frames - n + 1, (), generator=g))
            pieces.append((tr.tokens[:, f0 : f0 + n].astype(np.int64), tr.features(f0, f0 + n)))
        return left_padded(pieces)

    def fixed(self, windows: list[tuple[int, int, int]], seconds: float) -> PromptBatch:
        """Validation prompts: for window j, the middle `seconds` of the next track of its kit
        (the same prompt at every validation)."""
        pieces = []
        for i, _, _ in windows:
            kit = self.tracks[i].kit
            same = self.by_kit[kit]
            tr = self.tracks[same[(same.index(i) + 1) % len(same)]]
            n = max(1, min(tr.n_frames, round(seconds * tr.frame_rate)))
            f0 = (tr.n_frames - n) // 2
            pieces.append((tr.tokens[:, f0 : f0 + n].astype(np.int64), tr.features(f0, f0 + n)))
        return left_padded(pieces)


def fixed_windows(
    tracks: list[Track], window_beats: float, max_windows: int
) -> list[tuple[int, int, int]]:
    """Back-to-back windows of every track, thinned evenly to `max_windows`: the same set at
    every validation."""
    out = []
    for i, tr in enumerate(tracks):
        start = 0.0
        while start < tr.length_beats - 1e-6:
            f0, f1 = tr.window_frames(start, window_beats)
            out.append((i, f0, f1))
            start += window_beats
    if len(out) > max_windows:
        keep = np.linspace(0, len(out) - 1, num=max_windows).round().astype(int)
        out = [out[j] for j in keep]
    return out
