"""Random audio segments from a corpus, for codec training.

Files are read on demand (soundfile seeks inside WAVs), so a corpus of any size trains
without being loaded. Which segments a step sees depends only on (seed, step), which is
what makes a resumed run see the same batches as an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from drumgrid.server.errors import UserError
from drumgrid.training.egmd import EGMDIndex


@dataclass(frozen=True)
class AudioFile:
    path: Path
    frames: int
    sample_rate: int
    kit: str = ""  # the corpus row's kit_name (reports pool clips by it)


def corpus_audio(corpus: Path, split: str, sample_rate: int | None) -> list[AudioFile]:
    """The split's audio files, checked to exist and to be at the codec's sample rate (or,
    with None, all at the first file's rate)."""
    index = EGMDIndex.read(corpus).select(split=split)
    missing = index.missing()
    if missing:
        first = missing[0][1][0]
        raise UserError(
            f"{corpus}: {len(missing)} {split} row(s) have missing files (first: {first}); "
            "rebuild the corpus with `drumgrid corpus`"
        )
    files: list[AudioFile] = []
    needs = "the codec needs" if sample_rate else "the split's first file is at"
    for row in index:
        path = index.audio_path(row)
        try:
            info = sf.info(str(path))
        except RuntimeError as exc:
            raise UserError(f"{path}: unreadable audio file ({exc})") from None
        sample_rate = sample_rate or info.samplerate
        if info.samplerate != sample_rate:
            raise UserError(
                f"{path}: sample rate {info.samplerate} Hz, {needs} {sample_rate} Hz; "
                f"render the corpus with --sample-rate {sample_rate}"
            )
        files.append(AudioFile(path, info.frames, info.samplerate, row.kit_name))
    if not files:
        raise UserError(f"{corpus}: no {split} audio files")
    return files


def read_segment(file: AudioFile, start: int, length: int) -> np.ndarray:
    """Mono float32 samples [start, start + length), zero-padded past the end."""
    data, _ = sf.read(str(file.path), start=start, frames=length, dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    return np.pad(mono, (0, length - len(mono))) if len(mono) < length else mono


class SegmentSampler:
    """Batches of `segment` samples, files chosen in proportion to their length."""

    def __init__(
        self, files: list[AudioFile], segment: int, seed: int, gain_db: float = 6.0
    ) -> None:
        self.files, self.segment, self.seed, self.gain_db = files, segment, seed, gain_db
        frames = np.array([f.frames for f in files], np.float64)
        self.weights = torch.from_numpy(frames / frames.sum())

    def batch(self, step: int, batch_size: int) -> torch.Tensor:  # [B, segment]
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        picks = torch.multinomial(self.weights, batch_size, replacement=True, generator=g)
        out = np.zeros((batch_size, self.segment), np.float32)
        for i, p in enumerate(picks.tolist()):
            f = self.files[p]
            start = int(torch.randint(max(1, f.frames - self.segment), (1,), generator=g))
            out[i] = read_segment(f, start, self.segment)
        gains = 10 ** ((torch.rand(batch_size, generator=g) * 2 - 1) * self.gain_db / 20)
        return torch.from_numpy(out) * gains[:, None].float()


def validation_files(files: list[AudioFile], n_clips: int) -> list[AudioFile]:
    """The files validation clips come from: spread evenly over the split, always the same."""
    at = np.linspace(0, len(files) - 1, num=min(n_clips, len(files))).round().astype(int)
    return [files[i] for i in at]


def validation_clips(files: list[AudioFile], n_clips: int, length: int) -> list[np.ndarray]:
    """Fixed clips spread evenly over the split (the same every validation)."""
    chosen = validation_files(files, n_clips)
    return [read_segment(f, max(0, (f.frames - length) // 2), length) for f in chosen]
