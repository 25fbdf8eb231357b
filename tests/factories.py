"""The synthetic data every test builds on: MIDI files written independently of drumgrid's
writer, seeded grooves, E-GMD-shaped corpora with toy audio, and a learnable token cache.

Each builder is deterministic in its seed, so a test's thresholds (onset F1 of the corpus
audio, a trained model's loss) hold for the content it always gets.
"""

from __future__ import annotations

import csv
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import mido
import numpy as np
import soundfile as sf
from lm_helpers import DEBUG_K, DEBUG_V, FRAME_RATE

from drumgrid.server.conditioning import frame_conditioning
from drumgrid.server.drums import CLASS_TO_GM_PITCH, DrumClass
from drumgrid.server.midi_io import write_midi
from drumgrid.server.performance import Hit, Performance, TempoMap, TimeSignature
from drumgrid.training.egmd import EGMD_COLUMNS

# -- MIDI files -----------------------------------------------------------------------------

TickNote = tuple[int, int, int, int]  # (on tick, pitch, velocity, off tick)
BeatsNote = tuple[float, int, int, float]  # (start beat, pitch, velocity, length in beats)
Event = tuple[int, int, mido.Message | mido.MetaMessage]  # (tick, order at that tick, message)


def note_events(notes: Sequence[TickNote], channel: int) -> list[Event]:
    """Notes -> events; at one tick a note-off (order 1) comes before a note-on (order 2)."""
    events: list[Event] = []
    for on, pitch, velocity, off in notes:
        events.append(
            (on, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
        )
        events.append((off, 1, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    return events


def midi_track(events: Sequence[Event]) -> mido.MidiTrack:
    """Events -> a track of delta times, in (tick, order) order."""
    track = mido.MidiTrack()
    tick = 0
    for t, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=t - tick))
        tick = t
    return track


def make_midi(
    path: Path,
    notes: Sequence[TickNote],
    ppq: int = 480,
    tempos: Sequence[tuple[int, int]] | None = None,
    signatures: Sequence[tuple[int, int, int]] | None = None,
    channel: int = 9,
    midi_type: int = 1,
) -> Path:
    """One track of notes, (tick, us/beat) tempos and (tick, numerator, denominator) time
    signatures, written with mido so that drumgrid's reader is checked against another
    writer than its own."""
    events: list[Event] = []
    for tick, tempo in tempos or []:
        events.append((tick, 0, mido.MetaMessage("set_tempo", tempo=tempo)))
    for tick, num, den in signatures or []:
        events.append((tick, 0, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
    events += note_events(notes, channel)
    midi = mido.MidiFile(type=midi_type, ticks_per_beat=ppq)
    midi.tracks.append(midi_track(events))
    midi.save(str(path))
    return path


def make_multitrack_midi(
    path: Path, tracks: Sequence[tuple[str, int, Sequence[BeatsNote]]], ppq: int = 480
) -> Path:
    """A format 1 file as a DAW writes it: one track per (name, channel 1-16, notes); an
    empty name leaves the track unnamed."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ppq)
    for name, channel, notes in tracks:
        ticks = [(round(s * ppq), p, v, round((s + n) * ppq)) for s, p, v, n in notes]
        track = midi_track(note_events(ticks, channel - 1))
        if name:
            track.insert(0, mido.MetaMessage("track_name", name=name))
        midi.tracks.append(track)
    midi.save(str(path))
    return path


def rock_beat(bars: int = 2, kick: int = 36, snare: int = 38, hat: int = 42) -> list[BeatsNote]:
    """Hats on eighths, kick on 1 and 3, snare on 2 and 4, sixteenth notes long; the pitches
    are arguments so that a pad-mapped kit can play it."""
    notes: list[BeatsNote] = []
    for b in range(bars * 4):
        notes.append((b, hat, 90, 0.25))
        notes.append((b + 0.5, hat, 70, 0.25))
        notes.append((b, kick if b % 2 == 0 else snare, 110, 0.25))
    return notes


def legato_lead(bars: int = 2) -> list[BeatsNote]:
    """A legato melody in eighths, moving by steps: what must not be taken for drums."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    return [(i * 0.5, scale[(i * 3) % 8], 90, 0.5) for i in range(bars * 8)]


def smf_bytes(tracks: Sequence[bytes], ppq: int = 480, fmt: int = 0) -> bytes:
    """A Standard MIDI File around raw track bodies, for input no MIDI library would write."""
    header = b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks), ppq)
    return header + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)


# -- grooves --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One drum class's line: hits on a fixed pattern of sixteenths, and at random on the
    other steps. Random draws are taken only where they are needed, so a pattern's hits and
    fixed velocities leave the generator's stream alone."""

    drum_class: DrumClass
    every: int = 0  # a hit on each step where step % every == offset; 0: no fixed hits
    offset: int = 0
    chance: float = 0.0  # of a hit on any other step
    velocity: int | tuple[int, int] = 100  # fixed, or drawn from [low, high)


@dataclass(frozen=True)
class GrooveSpec:
    """What a groove plays on each sixteenth, and how far its hits fall behind the grid."""

    parts: tuple[Part, ...]
    jitter_s: float  # each hit is late by up to this much
    jitter_per_step: bool = False  # True: the hits of one step share one offset


_KICK, _SNARE, _HAT = DrumClass.KICK, DrumClass.SNARE, DrumClass.HIHAT_CLOSED

# Hats on every sixteenth, kick on 1 and 3, snare on 2 and 4: hits in every engine window.
STEADY_BACKBEAT = GrooveSpec(
    (Part(_HAT, every=1, velocity=(50, 110)), Part(_KICK, every=8, velocity=110),
     Part(_SNARE, every=8, offset=4, velocity=100)),
    jitter_s=0.004, jitter_per_step=True,
)  # fmt: skip
# Kick, snare and closed hat each at random: the synthetic token cache's grooves.
RANDOM_SPARSE = GrooveSpec(
    (Part(_KICK, chance=0.2, velocity=(40, 127)), Part(_SNARE, chance=0.2, velocity=(40, 127)),
     Part(_HAT, chance=0.5, velocity=(40, 127))),
    jitter_s=0.01,
)  # fmt: skip
# A crash and kick on each bar's one, then a sparse hat: a crash left to ring (tail frames).
CRASH_BREAKS = GrooveSpec(
    (Part(DrumClass.CRASH, every=16, velocity=(90, 127)), Part(_KICK, every=16, velocity=110),
     Part(_HAT, chance=0.05, velocity=(40, 90))),
    jitter_s=0.01,
)  # fmt: skip
# Kick on 1 and 3 and at random, snare and hat at random: the toy corpus's grooves.
RANDOM_ROCK = GrooveSpec(
    (Part(_KICK, every=8, chance=0.3, velocity=(30, 127)),
     Part(_SNARE, chance=0.2, velocity=(30, 127)), Part(_HAT, chance=0.6, velocity=(30, 127))),
    jitter_s=0.008,
)  # fmt: skip


def make_groove(
    bars: int = 1,
    bpm: float = 120.0,
    spec: GrooveSpec = STEADY_BACKBEAT,
    seed: int | np.random.Generator = 0,
) -> Performance:
    """`bars` bars of 4/4 at `bpm` played by `spec`. A Generator as the seed is drawn from
    and left where the groove ends, so a corpus can draw its files' tempi and grooves from
    one stream."""
    rng = np.random.default_rng(seed)
    step_s = 60.0 / bpm / 4
    hits = []
    for step in range(bars * 16):
        shared = rng.uniform(0, spec.jitter_s) if spec.jitter_per_step else 0.0
        for part in spec.parts:
            fixed = part.every > 0 and step % part.every == part.offset
            if not (fixed or (part.chance > 0 and rng.random() < part.chance)):
                continue
            late = shared if spec.jitter_per_step else rng.uniform(0, spec.jitter_s)
            v = part.velocity
            velocity = v if isinstance(v, int) else int(rng.integers(*v))
            pitch = CLASS_TO_GM_PITCH[part.drum_class]
            hits.append(Hit(float(step * step_s + late), pitch, part.drum_class, velocity))
    sig = (TimeSignature(0.0, 4, 4),)
    return Performance(tuple(hits), TempoMap.constant(bpm), sig, bars * 4.0)


def draw_tempo(rng: np.random.Generator, bpm: float | Sequence[float]) -> float:
    """One tempo, or one drawn from several."""
    return float(bpm) if isinstance(bpm, int | float) else float(rng.choice(bpm))


# -- toy audio ------------------------------------------------------------------------------


def noise_bursts(rng: np.random.Generator, seconds: float, sample_rate: int) -> np.ndarray:
    """Decaying 150 ms noise bursts every 250 ms, fresh noise each: sound with transients
    that a codec can learn in a few dozen steps."""
    wave = np.zeros(int(seconds * sample_rate), np.float32)
    n = int(0.15 * sample_rate)
    for onset in np.arange(0.05, seconds - 0.2, 0.25):
        start = int(onset * sample_rate)
        burst = rng.standard_normal(n) * np.exp(-np.linspace(0, 8, n))
        wave[start : start + n] += 0.3 * burst.astype(np.float32)
    return wave


@dataclass(frozen=True)
class ToyKit:
    kick_hz: float  # where the kick's pitch sweep ends
    snare_decay_s: float
    hat_decay_s: float


TOY_KITS = {"bright": ToyKit(60.0, 0.05, 0.02), "dark": ToyKit(45.0, 0.09, 0.04)}


def toy_synth(perf: Performance, kit: str, sample_rate: int, tail_s: float = 0.5) -> np.ndarray:
    """The groove through a numpy kit: a swept sine for kicks, noise for snares, differenced
    noise for everything else; peak 0.5. No FluidSynth or SoundFont needed, and its onsets
    are sharp enough that the corpus audio scores near-perfect onset F1."""
    sound = TOY_KITS[kit]
    rng = np.random.default_rng(1)
    x = np.zeros(int((perf.length_s + tail_s) * sample_rate))
    n = int(0.25 * sample_rate)
    t = np.arange(n) / sample_rate
    for h in perf.hits:
        if h.drum_class == DrumClass.KICK:
            f = sound.kick_hz + 80 * np.exp(-t / 0.02)
            y = np.sin(2 * np.pi * np.cumsum(f) / sample_rate) * np.exp(-t / 0.12)
        elif h.drum_class == DrumClass.SNARE:
            y = rng.standard_normal(n) * np.exp(-t / sound.snare_decay_s)
        else:
            y = np.diff(rng.standard_normal(n + 1)) * np.exp(-t / sound.hat_decay_s) * 0.5
        s = round(h.time_s * sample_rate)
        x[s : s + n] += (h.velocity / 127) ** 1.5 * y[: len(x) - s]
    return 0.5 * x / max(1e-9, np.abs(x).max())


# -- E-GMD-shaped corpora -------------------------------------------------------------------


def egmd_row(
    number: int,
    kit: str,
    split: str,
    bpm: float,
    duration: float,
    style: str = "rock",
    beat_type: str = "beat",
) -> dict[str, str]:
    """One CSV row, its files named as drumgrid's corpus names them (drummerN/sessionM/
    <GMD stem>_<kit>.midi and .wav)."""
    session = "drummer1/session1"
    stem = f"{session}/{number}_{style}_{bpm:g}_{beat_type}_4-4_{kit.replace(' ', '')}"
    return {
        "drummer": "drummer1", "session": session, "id": f"{session}/{number}", "style": style,
        "bpm": f"{bpm:g}", "beat_type": beat_type, "time_signature": "4-4",
        "duration": str(duration), "split": split, "midi_filename": f"{stem}.midi",
        "audio_filename": f"{stem}.wav", "kit_name": kit,
    }  # fmt: skip


def write_egmd_csv(root: Path, rows: Sequence[dict[str, str]], name: str = "corpus.csv") -> Path:
    with (root / name).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=EGMD_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return root / name


AudioSource = Literal["bursts", "noise", "synth"]


def make_egmd_corpus(
    root: Path,
    n_train: int = 2,
    n_val: int = 1,
    kits: Sequence[str] = ("kit",),
    audio: AudioSource = "bursts",
    sample_rate: int = 44100,
    seconds: float | Sequence[float] = 3.0,
    bpm: float | Sequence[float] = 120.0,
    bars: int = 2,
    groove: GrooveSpec = RANDOM_ROCK,
    style: str = "rock",
    seed: int = 0,
) -> Path:
    """A corpus in E-GMD layout at root (corpus.csv, one MIDI and one WAV per file and kit):
    n_train then n_val files, each through every kit, their tempi (and grooves) drawn from
    one seeded stream. The audio is
    - "bursts": noise_bursts of `seconds`, for codec training;
    - "noise": white noise of `seconds` at 0.1, where the content does not matter;
    - "synth": a groove of `bars` through toy_synth (kits from TOY_KITS), its MIDI beside it.
    `seconds` is one length or one per file. Without a groove the MIDI file is empty, there
    only so that the index finds every file."""
    n_files = n_train + n_val
    lengths = [seconds] * n_files if isinstance(seconds, int | float) else list(seconds)
    if len(lengths) != n_files:
        raise ValueError(f"expected {n_files} lengths, got {len(lengths)}")
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_files):
        tempo = draw_tempo(rng, bpm)
        perf = make_groove(bars, tempo, groove, rng) if audio == "synth" else None
        split = "train" if i < n_train else "validation"
        for kit in kits:
            if perf is not None:
                wave = toy_synth(perf, kit, sample_rate)
            elif audio == "bursts":
                wave = noise_bursts(rng, lengths[i], sample_rate)
            else:
                wave = 0.1 * rng.standard_normal(int(lengths[i] * sample_rate))
            row = egmd_row(i + 1, kit, split, tempo, len(wave) / sample_rate, style)
            midi, wav = root / row["midi_filename"], root / row["audio_filename"]
            midi.parent.mkdir(parents=True, exist_ok=True)
            if perf is not None:
                write_midi(perf, midi)
            else:
                midi.write_bytes(b"")
            sf.write(wav, wave, sample_rate)
            rows.append(row)
    write_egmd_csv(root, rows)
    return root


# -- token caches ---------------------------------------------------------------------------


def synthetic_tokens(features: np.ndarray, kit: int, K: int, V: int) -> np.ndarray:
    """[T, F] -> [K, T]: level k = (last onset class, frames since it, kit) mixed per level.
    Learnable by construction: a model that reads its conditioning lowers the loss far
    below chance within a few dozen steps."""
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
    spec: GrooveSpec = RANDOM_SPARSE,
) -> Path:
    """A token cache in TokenCache's layout (cache.json, entries.jsonl, tokens/*.npy) over a
    corpus of `spec`'s grooves, without any audio; its tokens are said to be
    `codec_id`'s (a real codec's id and hash where a test needs the codec, e.g. for latent
    targets). Returns the cache folder."""
    rng = np.random.default_rng(seed)
    corpus, cache = root / "corpus", root / "cache"
    (corpus / "midi").mkdir(parents=True, exist_ok=True)
    (cache / "tokens").mkdir(parents=True, exist_ok=True)
    hop_length = round(16000 / frame_rate)
    meta = {
        "version": 1, "codec_id": codec_id, "config_hash": config_hash, "sample_rate": 16000,
        "hop_length": hop_length, "frame_rate": frame_rate, "n_codebooks": K,
        "codebook_size": V, "dtype": "int16", "source": str(corpus),
    }  # fmt: skip
    (cache / "cache.json").write_text(json.dumps(meta))
    entries = []
    for i in range(n_train + n_val):
        bpm = draw_tempo(rng, (90.0, 120.0, 140.0))
        perf = make_groove(bars, bpm, spec, rng)
        midi = f"midi/{i}.mid"
        write_midi(perf, corpus / midi)
        n_frames = int(np.ceil((perf.length_s + 0.5) * frame_rate))
        feats = frame_conditioning(perf, frame_rate, 0, n_frames).features
        for j, kit in enumerate(kits):
            rel = f"tokens/{i}_{kit}.npy"
            np.save(cache / rel, synthetic_tokens(feats, j, K, V))
            entries.append({
                "tokens": rel, "n_frames": n_frames, "n_samples": n_frames * hop_length,
                "kit": kit, "bpm": bpm, "split": "train" if i < n_train else "validation",
                "midi_filename": midi, "audio_filename": f"audio/{i}_{kit}.wav",
                "duration": perf.length_s, "codec_id": codec_id, "config_hash": config_hash,
                "frame_rate": frame_rate,
            })  # fmt: skip
    (cache / "entries.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    return cache
