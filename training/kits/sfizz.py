"""SFZ kits rendered sample-accurately through sfizz (the `pysfizz` bindings).

sfizz renders at the corpus rate itself and takes every note with a delay in samples inside
the block being rendered, so a note starts on its own sample: no oversampling, no resampling.
What remains is each sample's own attack (silence or a slow rise before its peak), measured
once per (pitch, velocity) as the FluidSynth path does and taken off the note's start, so the
onset in the audio lands on the MIDI time. Chokes (group/off_by) are sfizz's own.

The kit loads from a flattened copy (kits.sfz_file.write_flat) carrying sfizz's RAM hint:
streamed from disk, samples longer than sfizz's preload played silence past their head now
and then, even when freewheeling.
"""

from __future__ import annotations

import importlib
import math
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from drumgrid.server.errors import UserError
from drumgrid.training.fluidsynth import HOLD_S, MEASURE_S, SILENCE, onset_index, schedule_notes
from drumgrid.training.kits.base import Hit, candidate_pitches
from drumgrid.training.kits.sfz_file import SfzFile, write_flat

BLOCK = 512  # samples per sfizz render call; notes start anywhere inside one
GAIN = 2.0  # sfizz plays a centred full-velocity sample at about -11.5 dB; this brings it near
# FluidSynth's level in the corpus while leaving headroom for dense fills
VOICES = 256
SAMPLE_QUALITY = (
    5  # sfizz's interpolation, 0-10; freewheeling defaults to 10. Against 10, 5 renders
)
# the corpus's Hydrogen kits 3-5x faster and differs by -48 to -53 dB RMS relative (ForzeeStereo,
# whose samples need resampling, -48 dB): far below what the codec keeps (docs/kits_study.md)
RESET_S = 3.0  # longest a reset waits for effects' tails to die


def load_sfizz() -> Any:
    """The pysfizz extension module; ModuleNotFoundError (which the CLI turns into 'install the
    train extra') when it is missing."""
    return importlib.import_module("pysfizz._sfizz")  # untyped: Any, no stubs needed


class SfizzRenderer:
    """One sfizz synth playing one SFZ kit at the corpus rate."""

    def __init__(self, sfz: SfzFile, sample_rate: int, label: str) -> None:
        self.label = label
        self.sample_rate = sample_rate
        self._folder = tempfile.TemporaryDirectory(prefix="drumgrid-sfz-")
        flat = write_flat(sfz, Path(self._folder.name))
        self._synth = load_sfizz().Synth(sample_rate, BLOCK)
        self._synth.enable_freewheeling()
        self._synth.set_sample_quality(SAMPLE_QUALITY)
        self._synth.set_num_voices(VOICES)
        if not self._synth.load_sfz_file(str(flat)):
            raise UserError(f"kit {label}: sfizz could not load {sfz.path}")
        self._check_loaded(sfz)
        self._latency: dict[tuple[int, int], int | None] = {}

    def _check_loaded(self, sfz: SfzFile) -> None:
        """sfizz drops a region whose sample it cannot decode and says nothing; name them."""
        loaded = self._synth.get_num_regions()
        if loaded >= len(sfz.regions):
            return
        read = {
            Path(self._synth.get_region_data(i)["sample_id"]).name for i in range(loaded)
        }  # the flat file's link names
        folder = Path(self._folder.name)
        lost = sorted(
            str(p.resolve()) for p in folder.iterdir() if p.suffix != ".sfz" and p.name not in read
        )
        raise UserError(
            f"kit {self.label}: sfizz could not read {len(sfz.regions) - loaded} region(s) of "
            f"{sfz.path}"
            + (f", samples {', '.join(lost[:3])}" if lost else "")
            + "; convert them to 16- or 24-bit WAV or FLAC"
        )

    def close(self) -> None:
        self._synth = None
        self._folder.cleanup()

    def _run(self, blocks: int) -> np.ndarray:
        """Render `blocks` blocks -> [blocks * BLOCK, 2] float32."""
        out = np.empty((blocks * BLOCK, 2), dtype=np.float32)
        for b in range(blocks):
            left, right = self._synth.render_block()  # views of sfizz's buffers: copy now
            out[b * BLOCK : (b + 1) * BLOCK, 0] = left
            out[b * BLOCK : (b + 1) * BLOCK, 1] = right
        return out

    def _reset(self) -> None:
        """Stop every voice and render until the output is silent (effects ring on)."""
        self._synth.all_sound_off()
        for _ in range(max(1, math.ceil(RESET_S * self.sample_rate / BLOCK))):
            if np.abs(self._run(1)).max() < SILENCE and self._synth.get_num_active_voices() == 0:
                return
        raise RuntimeError(f"kit {self.label}: sfizz did not fall silent after a reset")

    def latency(self, pitch: int, velocity: int) -> int | None:
        """Samples from note-on to this note's onset (its sample's own attack), None when the
        kit has no sound for it; measured once per (pitch, velocity) on a silent synth."""
        key = (int(pitch), int(velocity))
        if key not in self._latency:
            self._reset()
            self._synth.note_on(0, key[0], key[1])
            wave = self._run(math.ceil(MEASURE_S * self.sample_rate / BLOCK)).mean(axis=1)
            self._synth.note_off(0, key[0], 0)
            self._latency[key] = onset_index(wave)
        return self._latency[key]

    def sounding_pitch(self, pitch: int, velocity: int) -> int | None:
        """The first key of kits.base.candidate_pitches the kit sounds; None when it has
        nothing for the hit's class."""
        options = candidate_pitches(pitch)
        return next((p for p in options if self.latency(p, velocity) is not None), None)

    def render(self, hits: Iterable[Hit], duration_s: float, mono: bool = True) -> np.ndarray:
        """hits (time_s, pitch, velocity) -> wave [N] (or [N, 2]) float32 at the sample rate,
        N = round(duration_s * rate); each note's onset on its own sample."""
        notes = []
        for time_s, pitch, velocity in hits:
            pitch, velocity = int(pitch), int(velocity)
            play = self.sounding_pitch(pitch, velocity) if 0 < velocity <= 127 else None
            if play is not None:
                start = float(time_s) * self.sample_rate - (self.latency(play, velocity) or 0)
                notes.append((start, play, velocity))
        lead = math.ceil(max([0.0] + [-start for start, _, _ in notes]))  # room for attacks
        n = round(duration_s * self.sample_rate)
        blocks = math.ceil((lead + n) / BLOCK)
        events = schedule_notes(notes, lead, HOLD_S * self.sample_rate, block_size=1)
        self._reset()
        out = np.empty((blocks * BLOCK, 2), dtype=np.float32)
        e = 0
        for b in range(blocks):
            start = b * BLOCK
            while e < len(events) and events[e][0] < start + BLOCK:
                at, kind, pitch, velocity = events[e]
                if kind == 1:
                    self._synth.note_on(at - start, pitch, velocity)
                else:
                    self._synth.note_off(at - start, pitch, 0)
                e += 1
            out[start : start + BLOCK] = self._run(1)
        wave = out[lead : lead + n] * GAIN
        return np.ascontiguousarray(wave.mean(axis=1) if mono else wave, dtype=np.float32)
