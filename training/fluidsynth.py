"""SoundFont drum kits rendered sample-accurately through FluidSynth.

FluidSynth starts voices only at 64-sample block boundaries, and its MIDI-file player
schedules in whole milliseconds, so `fluidsynth -F` puts onsets 0-2 ms late, varying hit to
hit. To line audio up with the MIDI within 1 ms this module drives the synth itself: it
renders at an integer multiple of the target rate (so a block is at most 1 ms), sends each
note at the block boundary nearest its own time, minus the measured onset latency of that
note's sample (attack pre-roll), then resamples down with soxr (linear phase).

Kits on the percussion bank (128) play on MIDI channel 10; melodic-bank kits (AVL Black
Pearl, Red Zeppelin: bank 0, preset 0) play on channel 1, since channel 10 only selects
bank 128.
"""

from __future__ import annotations

import ctypes
import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drumgrid.server.codecs.resample import resample
from drumgrid.server.drums import CLASS_TO_GM_PITCH, drum_class
from drumgrid.server.errors import UserError
from drumgrid.training.kits.base import slug

BLOCK = 64  # FluidSynth's internal block (FLUID_BUFSIZE): voices start on these boundaries
MAX_SYNTH_RATE = 96000  # FluidSynth's upper limit for synth.sample-rate
MAX_BLOCK_S = 0.001  # oversample until a block lasts at most this long
DRUM_BANK = 128
ONSET_REL = 0.1  # an onset is the first sample reaching this share of the hit's peak
HOLD_S = 2.0  # drums ignore note length: each hit is held this long unless retriggered
MEASURE_S = 0.1  # window after a note-on in which its peak (and so its onset) is found
GM_LOW, GM_HIGH = 35, 81  # General MIDI percussion key range
GAIN = 0.4  # synth gain; leaves headroom for dense fills at 16-bit


@dataclass(frozen=True)
class Kit:
    """One SoundFont preset used as a drum kit."""

    name: str
    soundfont: Path
    bank: int = DRUM_BANK
    preset: int = 0

    @property
    def channel(self) -> int:
        """0-based MIDI channel: 9 (channel 10) for the percussion bank, else 0."""
        return 9 if self.bank == DRUM_BANK else 0

    @property
    def slug(self) -> str:
        return slug(self.name)


def read_presets(path: Path) -> list[tuple[int, int, str]]:
    """(bank, preset, name) of every preset in a SoundFont 2 file, read from its phdr chunk."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"soundfont {path}: cannot read it ({exc.strerror})") from None
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise UserError(f"soundfont {path}: not a SoundFont 2 (.sf2) file")
    at = data.find(b"phdr")
    if at < 0:
        raise UserError(f"soundfont {path}: no preset table (phdr); the file is damaged")
    size = struct.unpack_from("<I", data, at + 4)[0]
    presets = []
    for k in range(size // 38 - 1):  # the last record is the terminal "EOP"
        rec = data[at + 8 + 38 * k : at + 8 + 38 * (k + 1)]
        name = rec[:20].split(b"\0")[0].decode("latin-1")
        preset, bank = struct.unpack_from("<HH", rec, 20)
        presets.append((bank, preset, name))
    return sorted(presets)


def parse_kit(text: str) -> Kit:
    """NAME=SOUNDFONT[:BANK:PRESET] -> a checked Kit. Without BANK:PRESET the kit is bank 128
    preset 0 when the font has it, else the font's only preset."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest:
        raise UserError(f"--kit {text!r}: expected NAME=SOUNDFONT[:BANK:PRESET]")
    parts = rest.rsplit(":", 2)
    given: tuple[int, int] | None = None  # BANK:PRESET
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        rest, given = parts[0], (int(parts[1]), int(parts[2]))
    path = Path(rest).expanduser()
    if not path.is_file():
        raise UserError(
            f"--kit {name}: soundfont {path} does not exist (Debian: apt-get install "
            "fluid-soundfont-gm avldrums.lv2-soundfont puts them in /usr/share/sounds/sf2)"
        )
    presets = read_presets(path)
    if given is not None:
        bank, preset = given
    elif any(b == DRUM_BANK and p == 0 for b, p, _ in presets):
        bank, preset = DRUM_BANK, 0
    elif len(presets) == 1:
        bank, preset = presets[0][0], presets[0][1]
    else:
        raise UserError(
            f"--kit {name}: {path} has no drum preset on bank 128 and {len(presets)} "
            "presets; name one as SOUNDFONT:BANK:PRESET"
        )
    if not any(b == bank and p == preset for b, p, _ in presets):
        drums = ", ".join(f"{b}:{p} {n}" for b, p, n in presets if b == DRUM_BANK) or "none"
        raise UserError(
            f"--kit {name}: {path} has no preset {bank}:{preset}; its drum presets are {drums}"
        )
    return Kit(name.strip(), path, bank, preset)


def synth_rate(sample_rate: int) -> int:
    """The internal rate: the smallest multiple of `sample_rate` whose block fits MAX_BLOCK_S
    (capped by FluidSynth's 96 kHz limit)."""
    m = max(1, math.ceil(BLOCK / (sample_rate * MAX_BLOCK_S)))
    while m > 1 and m * sample_rate > MAX_SYNTH_RATE:
        m -= 1
    return m * sample_rate


def onset_index(wave: np.ndarray, rel: float = ONSET_REL) -> int | None:
    """First sample whose magnitude reaches `rel` of the peak; None for silence."""
    mag = np.abs(wave)
    peak = float(mag.max()) if mag.size else 0.0
    if peak < 1e-6:
        return None
    return int(np.argmax(mag >= rel * peak))


def _load_fluidsynth():  # -> the pyfluidsynth module
    try:
        import fluidsynth
    except ImportError as exc:
        raise UserError(
            f"FluidSynth is not available ({exc}); install the library "
            "(Debian: apt-get install fluidsynth; macOS: brew install fluid-synth) and "
            "the Python binding (pip install pyfluidsynth)"
        ) from None
    return fluidsynth


class KitRenderer:
    """A FluidSynth instance playing one kit; reused across files by one worker process."""

    def __init__(self, kit: Kit, sample_rate: int) -> None:
        fs = _load_fluidsynth()
        self.kit = kit
        self.sample_rate = sample_rate
        self.rate = synth_rate(sample_rate)
        self._fs = fs
        self._open()
        self._latency: dict[tuple[int, int], int | None] = {}  # (pitch, vel) -> samples

    def _open(self) -> None:
        """A fresh synth with the kit's soundfont loaded."""
        fs, kit = self._fs, self.kit
        self._synth = fs.Synth(
            gain=GAIN,
            samplerate=float(self.rate),
            **{
                "synth.reverb.active": 0,
                "synth.chorus.active": 0,
                "synth.polyphony": 256,
                "synth.cpu-cores": 1,
            },
        )
        self._write = fs.cfunc(
            "fluid_synth_write_float", ctypes.c_int,
            ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
            ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
            ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1),
        )  # fmt: skip
        sfid = self._synth.sfload(str(kit.soundfont))
        if sfid < 0:
            raise UserError(f"--kit {kit.name}: FluidSynth could not load {kit.soundfont}")
        self._sfid = sfid

    def close(self) -> None:
        self._synth.delete()

    def _reset(self) -> None:
        """Silence and reset the synth so one note or file never leaks into the next: a reset
        releases voices, it does not stop them, so render until the output is silent (below
        -120 dBFS: some kits' filters ring on in denormal-sized values and never reach 0)."""
        self._synth.all_sounds_off(self.kit.channel)
        self._synth.system_reset()
        self._synth.program_select(self.kit.channel, self._sfid, self.kit.bank, self.kit.preset)
        if self._wait_silent(2.0):
            return
        # Some voices (a long crash in Red Zeppelin) ring on through a reset: start afresh.
        self._synth.delete()
        self._open()
        self._synth.program_select(self.kit.channel, self._sfid, self.kit.bank, self.kit.preset)
        if self._wait_silent(1.0):
            return
        raise RuntimeError(f"kit {self.kit.name}: FluidSynth did not fall silent after a reset")

    def _wait_silent(self, seconds: float) -> bool:
        for _ in range(max(1, round(seconds * self.rate / (16 * BLOCK)))):
            if np.abs(self._run(16 * BLOCK)).max() < SILENCE:
                return True
        return False

    def _run(self, n: int) -> np.ndarray:
        """Render n samples (a multiple of BLOCK) -> [n, 2] float32."""
        out = np.zeros((n, 2), dtype=np.float32)
        ptr = out.ctypes.data
        if self._write(self._synth.synth, n, ptr, 0, 2, ptr, 1, 2) != 0:
            raise RuntimeError("fluid_synth_write_float failed")
        return out

    def latency(self, pitch: int, velocity: int) -> int | None:
        """Synth-rate samples from note-on to this note's onset in the output (mono mix,
        resampled: the low-pass of a lower rate moves an onset too); None when the kit has no
        sound for it. Velocity matters: sf2 velocity lowers the filter cutoff and picks the
        sample layer, both of which move the attack. Measured once per (pitch, velocity) on a
        reset synth with the note exactly on a block boundary."""
        key = (pitch, velocity) = (int(pitch), int(velocity))
        if key not in self._latency:
            self._reset()
            lead = 4 * BLOCK
            self._run(lead)
            self._synth.noteon(self.kit.channel, pitch, velocity)
            wave = self._run(_blocks(MEASURE_S * self.rate) * BLOCK).mean(axis=1)
            self._synth.noteoff(self.kit.channel, pitch)
            wave = resample(
                np.concatenate([np.zeros(lead, np.float32), wave]), self.rate, self.sample_rate
            )
            on = onset_index(wave)
            self._latency[key] = (
                None if on is None else round(on * self.rate / self.sample_rate) - lead
            )
        return self._latency[key]

    def sounding_pitch(self, pitch: int, velocity: int) -> int | None:
        """The pitch to play: a General MIDI percussion pitch (35-81) the kit sounds as is;
        anything else (TD-11's 22 and 26 hi-hat edges) or a silent key plays its class's GM
        pitch; None when even that is silent in this kit."""
        if GM_LOW <= pitch <= GM_HIGH and self.latency(pitch, velocity) is not None:
            return pitch
        cls = drum_class(pitch)
        if cls is None:
            return None
        gm = CLASS_TO_GM_PITCH[cls]
        return gm if self.latency(gm, velocity) is not None else None

    def render(
        self, hits: Iterable[tuple[float, int, int]], duration_s: float, mono: bool = True
    ) -> np.ndarray:
        """hits (time_s, pitch, velocity) -> wave [N] (or [N, 2]) float32 at sample_rate,
        N = round(duration_s * sample_rate); each onset lands within half a synth block."""
        notes = []
        for time_s, pitch, velocity in hits:
            pitch, velocity = int(pitch), int(velocity)  # numpy ints confuse ctypes
            play = self.sounding_pitch(pitch, velocity)
            if play is None:
                continue
            lat = self.latency(play, velocity) or 0
            notes.append((float(time_s) * self.rate - lat, play, velocity))
        lead = _blocks(max([0.0] + [-p for p, _, _ in notes])) * BLOCK  # room for pre-roll
        events = schedule_notes(notes, lead, HOLD_S * self.rate)
        total = _blocks(lead + duration_s * self.rate) * BLOCK
        self._reset()
        chunks, pos = [], 0
        ch = self.kit.channel
        for block, kind, pitch, velocity in events:
            at = min(block * BLOCK, total)
            if at > pos:
                chunks.append(self._run(at - pos))
                pos = at
            if kind == 1:
                self._synth.noteon(ch, pitch, velocity)
            else:
                self._synth.noteoff(ch, pitch)
        if total > pos:
            chunks.append(self._run(total - pos))
        wave = np.concatenate(chunks)[lead : lead + round(duration_s * self.rate)]
        out = wave.mean(axis=1) if mono else wave
        out = resample(out, self.rate, self.sample_rate)
        n = round(duration_s * self.sample_rate)
        if out.shape[0] < n:
            pad = [(0, n - out.shape[0])] + [(0, 0)] * (out.ndim - 1)
            out = np.pad(out, pad)
        return np.ascontiguousarray(out[:n], dtype=np.float32)


def _blocks(samples: float) -> int:
    return max(0, math.ceil(samples / BLOCK))


SILENCE = 1e-6  # -120 dBFS


def schedule_notes(
    notes: Sequence[tuple[float, int, int]], lead: int, hold: float, block_size: int = BLOCK
) -> list[tuple[int, int, int, int]]:
    """(start sample, pitch, velocity) -> sorted (block, kind, pitch, velocity) with kind 0 =
    note-off, 1 = note-on. A note-on goes to the block boundary nearest its start; its note-off
    follows `hold` later unless the same pitch sounds again first (that later note's release
    then ends both, as a drum module would). A block_size of 1 schedules to the sample."""
    on = sorted((round((p + lead) / block_size), pitch, vel) for p, pitch, vel in notes)
    next_on: dict[int, int] = {}
    events = []
    for block, pitch, vel in reversed(on):
        off = block + max(1, round(hold / block_size))
        if pitch not in next_on or next_on[pitch] > off:
            events.append((off, 0, pitch, 0))
        next_on[pitch] = block
        events.append((block, 1, pitch, vel))
    return sorted(events)
