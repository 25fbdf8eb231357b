"""Kit prompts: a few seconds of a kit's sound with what was played, as codec tokens beside
their grid, for rendering a new groove in that sound.

A prompt comes from a recording and its MIDI, or from one-shot samples (each one hit at its
start, laid end to end with a grid written for them). Either way it is checked the way a
user's files fail: unreadable or not audio, NaN, silent, too short, MIDI hits beyond the
audio; a recording longer than MAX_PROMPT_S is cut there and a rate other than the codec's
is resampled, both said in `notes`. A prompt saves to a small kit file (the tokens in
safetensors, the grid and provenance in its metadata) that renders again without the audio.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from drumgrid.server.codecs.base import Codec
from drumgrid.server.codecs.resample import resample, to_mono
from drumgrid.server.drums import CLASS_TO_GM_PITCH, DrumClass
from drumgrid.server.errors import UserError
from drumgrid.server.midi_io import MAX_MIDI_BYTES, read_midi, write_midi
from drumgrid.server.performance import Performance, from_note_list
from drumgrid.server.prompt_request import (
    MAX_PROMPT_S,
    MIN_PROMPT_S,
    PromptRequest,
    parse_prompt_notes,
    saved_kit_path,
)

SILENT_PEAK = 1e-3  # -60 dBFS: below this a prompt is taken for silence
SHOT_SPACING_S = 1.5  # each one-shot takes at least this long in the prompt ...
SHOT_MAX_S = 3.0  # ... and at most this (a longer one is cut: enough of a cymbal's ring)
MAX_SHOTS_S = 20.0  # one-shots laid end to end: one per class fits (6 x 1.5 s + 3 x 3 s)
SHOT_VELOCITY = 100  # the velocity a one-shot's grid says it was played at
MAX_PROMPT_FILE = 256 * 2**20  # refuse to read a bigger file: nobody means it
KIT_FORMAT = "drumgrid-prompt-kit/1"


@dataclass(frozen=True)
class Prompt:
    """A kit's sound as codec tokens [K, T] and the grid that played it."""

    tokens: np.ndarray  # int64 [K, T] in `codec_id`'s token space
    performance: Performance  # hits at their times in the prompt audio
    codec_id: str
    config_hash: str
    seconds: float
    source: str  # where it came from, for reports
    notes: tuple[str, ...] = field(default=())  # what was changed (cut, resampled)

    def classes(self) -> set[DrumClass]:
        return {h.drum_class for h in self.performance.hits}

    def missing_for(self, groove: Performance) -> set[DrumClass]:
        """The classes the groove plays that the prompt never does."""
        return {h.drum_class for h in groove.hits} - self.classes()


def read_file(path: Path, max_bytes: int, what: str) -> bytes:
    """A file's bytes for a prompt (the CLI's reader; the daemon brings its own, which also
    keeps to its input folder)."""
    if not path.is_file():
        raise UserError(f"{what} {path}: no such file")
    if path.stat().st_size > max_bytes:
        raise UserError(f"{what} {path}: over {max_bytes >> 20} MB; give a few seconds of the kit")
    return path.read_bytes()


# (path, max bytes, what: the option naming it) -> the file's bytes, or a UserError
Reader = Callable[[Path, int, str], bytes]


def read_prompt_audio(path: Path, read: Reader = read_file) -> tuple[np.ndarray, int]:
    """A prompt file -> (mono float32 wave, its rate), or a UserError naming the problem."""
    data = read(path, MAX_PROMPT_FILE, "prompt")
    try:
        wave, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise UserError(
            f"prompt {path}: not readable audio ({exc}); give a WAV, FLAC, AIFF or OGG file"
        ) from None
    return to_mono(wave), int(rate)


def _check_sound(wave: np.ndarray, where: str) -> None:
    """Refuse audio that is not a sound: NaN or infinite samples, or silence."""
    if not np.isfinite(wave).all():
        raise UserError(f"prompt {where}: the audio holds NaN or infinite samples")
    if float(np.abs(wave).max()) < SILENT_PEAK:
        raise UserError(f"prompt {where}: the audio is silent (peak below -60 dBFS)")


def _checked_wave(wave: np.ndarray, rate: int, codec: Codec, where: str) -> tuple:
    notes = []
    _check_sound(wave, where)
    seconds = len(wave) / rate
    if seconds < MIN_PROMPT_S:
        raise UserError(
            f"prompt {where}: {seconds:.2f} s of audio; give at least {MIN_PROMPT_S:g} s "
            f"(up to {MAX_PROMPT_S:g} s are used)"
        )
    if seconds > MAX_PROMPT_S:
        wave = wave[: round(MAX_PROMPT_S * rate)]
        notes.append(f"cut to its first {MAX_PROMPT_S:g} s of {seconds:.1f} s")
    if rate != codec.sample_rate:
        wave = resample(wave, rate, codec.sample_rate)
        notes.append(f"resampled from {rate} Hz to the codec's {codec.sample_rate} Hz")
    return np.clip(wave, -1.0, 1.0), notes


def prompt_from_recording(
    wave: np.ndarray, rate: int, performance: Performance, codec: Codec, source: str
) -> Prompt:
    """A recording of the kit and the MIDI of what it plays -> its Prompt."""
    wave, notes = _checked_wave(np.asarray(wave, np.float32), rate, codec, source)
    seconds = len(wave) / codec.sample_rate
    grid = performance.cut(seconds)
    if not grid.hits:
        raise UserError(
            f"prompt {source}: its MIDI plays no hit inside the audio's {seconds:.2f} s; give "
            "the MIDI of what the recording plays"
        )
    if len(grid.hits) < len(performance.hits):
        notes.append(
            f"{len(performance.hits) - len(grid.hits)} MIDI hits after the audio's end left out"
        )
    return _encoded(wave, grid, codec, source, tuple(notes))


def prompt_from_shots(
    shots: dict[DrumClass, tuple[np.ndarray, int]], codec: Codec, source: str
) -> Prompt:
    """One-shot samples per class, each taken as one hit at its start played at
    SHOT_VELOCITY, laid end to end (each given SHOT_SPACING_S to SHOT_MAX_S) -> their
    Prompt. training/shot_prompts.py lays out the training corpus's one-shots alike."""
    if not shots:
        raise UserError("prompt shots: give at least one CLASS=FILE (e.g. kick=kick.wav)")
    pieces, notes_in, at, notes = [], [], 0.0, []
    for cls, (wave, rate) in shots.items():
        _check_sound(wave, f"{source} {cls.label}")
        shot = resample(np.asarray(wave, np.float32), rate, codec.sample_rate)
        if rate != codec.sample_rate:
            notes.append(f"{cls.label} resampled from {rate} Hz")
        low, high = (round(s * codec.sample_rate) for s in (SHOT_SPACING_S, SHOT_MAX_S))
        length = min(max(len(shot), low), high)
        if len(shot) > high:
            notes.append(f"{cls.label} cut to its first {SHOT_MAX_S:g} s")
        shot = np.pad(shot[:length], (0, length - min(len(shot), length)))
        pieces.append(shot)
        notes_in.append((at, CLASS_TO_GM_PITCH[cls], SHOT_VELOCITY))
        at += length / codec.sample_rate
    wave = np.clip(np.concatenate(pieces), -1.0, 1.0)
    if at > MAX_SHOTS_S:
        raise UserError(
            f"prompt shots: {at:.1f} s laid end to end, over {MAX_SHOTS_S:g} s; give one shot "
            f"per class (each takes {SHOT_SPACING_S:g} to {SHOT_MAX_S:g} s)"
        )
    grid = from_note_list(notes_in, tempo_bpm=120.0, length_s=at)
    return _encoded(wave, grid, codec, source, tuple(notes))


def _encoded(
    wave: np.ndarray, grid: Performance, codec: Codec, source: str, notes: tuple[str, ...]
) -> Prompt:
    with torch.no_grad():
        tokens = codec.encode(wave).cpu().numpy().astype(np.int64)
    return Prompt(
        tokens, grid, codec.id, codec.config_hash, len(wave) / codec.sample_rate, source, notes
    )


def save_prompt_kit(path: Path, prompt: Prompt, name: str) -> None:
    """The prompt as a kit file (safetensors): its tokens, its grid as a MIDI file's bytes,
    and provenance in the metadata; written through a temp name."""
    with tempfile.TemporaryDirectory(prefix="drumgrid-kit-") as tmp_dir:
        midi = write_midi(prompt.performance, Path(tmp_dir) / "grid.mid").read_bytes()
    tensors = {
        "tokens": torch.from_numpy(prompt.tokens.astype(np.int16)),
        "grid_midi": torch.frombuffer(bytearray(midi), dtype=torch.uint8),
    }
    meta = {
        "format": KIT_FORMAT, "name": name, "codec_id": prompt.codec_id,
        "config_hash": prompt.config_hash, "seconds": f"{prompt.seconds:.6f}",
        "source": prompt.source, "notes": json.dumps(prompt.notes),
    }  # fmt: skip
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp), meta)
    tmp.replace(path)


def load_prompt_kit(path: Path) -> tuple[str, Prompt]:
    """A kit file -> (its name, its Prompt); a damaged or foreign file is a UserError."""
    damaged = f"prompt kit {path}: not a drumgrid prompt kit"
    if not path.is_file():
        raise UserError(f"prompt kit {path}: no such file")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        tensors = load_file(str(path))
    except (OSError, SafetensorError, ValueError, RuntimeError) as exc:
        raise UserError(f"{damaged} ({exc}); save it again from its audio") from None
    if meta.get("format") != KIT_FORMAT:
        raise UserError(f"{damaged} (format {meta.get('format')!r}); save it again")
    try:
        tokens = tensors["tokens"].numpy().astype(np.int64)
        with tempfile.TemporaryDirectory(prefix="drumgrid-kit-") as tmp_dir:
            midi = Path(tmp_dir) / "grid.mid"
            midi.write_bytes(tensors["grid_midi"].numpy().tobytes())
            grid = read_midi(midi)
        prompt = Prompt(
            tokens, grid, meta["codec_id"], meta["config_hash"], float(meta["seconds"]),
            meta["source"], tuple(json.loads(meta["notes"])),
        )  # fmt: skip
    except (KeyError, ValueError, TypeError, UserError) as exc:
        raise UserError(f"{damaged}: it is damaged ({exc}); save it again") from None
    if tokens.ndim != 2:
        raise UserError(f"{damaged}: tokens of shape {tuple(tokens.shape)}; save it again")
    return meta["name"], prompt


# -- what a request names: files to read, or a saved kit ---------------------------------------


def read_prompt(request: PromptRequest, codec: Codec, read: Reader = read_file) -> Prompt:
    """The files a request names -> its Prompt (UserError naming the file and the fix)."""
    if request.audio is not None:
        wave, rate = read_prompt_audio(request.audio, read)
        if request.midi is not None:
            midi = read(request.midi, MAX_MIDI_BYTES, "prompt_midi")
            performance = read_midi(request.midi, data=midi)
        else:  # PromptRequest checks that the audio comes with a MIDI file or notes
            assert request.notes is not None
            performance = parse_prompt_notes(request.notes)
        return prompt_from_recording(wave, rate, performance, codec, str(request.audio))
    if request.shots:
        shots = {cls: read_prompt_audio(path, read) for cls, path in request.shots}
        names = ", ".join(f"{c.label}={p.name}" for c, p in request.shots)
        return prompt_from_shots(shots, codec, f"shots {names}")
    raise UserError("prompt: give --prompt WAV --prompt-midi MID, or --prompt-shots CLASS=FILE")


def prompt_notices(prompt: Prompt, groove: Performance) -> list[str]:
    """What a user should know about rendering `groove` from `prompt`: what was changed in
    the prompt, and the classes the groove plays that the prompt never does (the model
    renders those from what it learned of kits: the stated fallback)."""
    lines = [f"prompt: {note}" for note in prompt.notes]
    missing = sorted(prompt.missing_for(groove))
    if missing:
        labels = ", ".join(c.label for c in missing)
        lines.append(
            f"prompt: plays no {labels}; the model renders {'it' if len(missing) == 1 else 'them'}"
            " from the kits it learned (give a prompt that plays them, or a one-shot of each)"
        )
    return lines


def save_named_kit(prompt: Prompt, name: str) -> Path:
    """Save a prompt under `name` in kits_dir(), for `--kit NAME` later."""
    path = saved_kit_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_prompt_kit(path, prompt, name)
    return path


def saved_kit_meta(path: Path) -> dict[str, str] | None:
    """A kit file's metadata without its tensors, or None if it is not a readable kit."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (OSError, SafetensorError, ValueError, RuntimeError):
        return None
    return meta if meta.get("format") == KIT_FORMAT else None


def load_named_kit(name: str) -> Prompt | None:
    """The saved prompt kit called `name`, or None if there is none."""
    path = saved_kit_path(name)
    return load_prompt_kit(path)[1] if path.is_file() else None
