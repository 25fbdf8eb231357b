"""What a kit prompt request names (a recording and its MIDI, or one-shots per class) and
where saved prompt kits live: plain values and paths, no audio or tensors, so that `drumgrid
send` and the daemon's request checks stay light (server/prompts.py reads and encodes)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from drumgrid.server.drums import DrumClass
from drumgrid.server.errors import UserError
from drumgrid.server.performance import BeatNote, Performance, from_beat_notes

MIN_PROMPT_S = 1.0  # a recording shorter than this holds too little of a kit to copy
MAX_PROMPT_S = 8.0  # longer recordings are cut here
KIT_SUFFIX = ".dgkit"
KIT_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-."


@dataclass(frozen=True)
class PromptRequest:
    """A prompt as a user names it: a recording and its MIDI (a file, or a DAW clip's notes
    as text: parse_prompt_notes), or one-shots per class."""

    audio: Path | None = None
    midi: Path | None = None
    shots: tuple[tuple[DrumClass, Path], ...] = ()
    notes: str | None = None  # instead of `midi`: "TEMPO;PITCH,START,DURATION,VELOCITY;..."

    def __post_init__(self) -> None:
        if self.midi is not None and self.notes is not None:
            raise UserError("prompt: give its MIDI as a file or as notes, not both")
        if (self.audio is None) != (self.midi is None and self.notes is None):
            given, missing = ("audio", "MIDI") if self.audio is not None else ("MIDI", "audio")
            raise UserError(
                f"prompt: a recording needs its MIDI and the MIDI its recording; the {given} "
                f"was given without the {missing} (--prompt WAV --prompt-midi MID)"
            )
        if self.audio is not None and self.shots:
            raise UserError("prompt: give a recording with its MIDI or one-shots, not both")

    @property
    def given(self) -> bool:
        return self.audio is not None or bool(self.shots)

    def osc_options(self) -> dict[str, str]:
        """The request as the render contract's prompt options, with absolute paths (the
        daemon reads them on its own machine)."""
        out: dict[str, str] = {}
        if self.audio is not None:
            out["prompt"] = str(self.audio.resolve())
        if self.midi is not None:
            out["prompt_midi"] = str(self.midi.resolve())
        if self.notes is not None:
            out["prompt_notes"] = self.notes
        if self.shots:
            out["prompt_shots"] = ";".join(f"{c.label}={p.resolve()}" for c, p in self.shots)
        return out


def parse_shots(items: list[str] | tuple[str, ...] | str) -> tuple[tuple[DrumClass, Path], ...]:
    """["kick=kick.wav", ...], or over OSC "kick=kick.wav;snare=snare.wav" -> ((KICK,
    Path), ...); a class named twice is an error."""
    if isinstance(items, str):
        items = [item for item in items.split(";") if item.strip()]
    out: dict[DrumClass, Path] = {}
    for item in items:
        label, sep, path = item.partition("=")
        if not sep or not path:
            raise UserError(f"prompt shot {item!r}: expected CLASS=FILE, e.g. kick=kick.wav")
        try:
            cls = DrumClass.from_label(label.strip())
        except ValueError as exc:
            raise UserError(f"prompt shot {item!r}: {exc}") from None
        if cls in out:
            raise UserError(f"prompt shots: {cls.label} given twice")
        out[cls] = Path(path)
    return tuple(out.items())


def parse_prompt_notes(text: str) -> Performance:
    """A DAW clip's notes as the device sends them for a prompt recording: "TEMPO;PITCH,
    START,DURATION,VELOCITY;..." with positions in beats from the recording's start."""
    items = [item.strip() for item in text.split(";") if item.strip()]
    where = "prompt_notes"
    if not items:
        raise UserError(f"{where}: empty; expected TEMPO;PITCH,START,DURATION,VELOCITY;...")
    try:
        tempo = float(items[0])
        notes = []
        for item in items[1:]:
            pitch, start, duration, velocity = (float(v) for v in item.split(","))
            notes.append(BeatNote(round(pitch), start, duration, velocity))
    except ValueError:
        raise UserError(
            f"{where}: expected TEMPO;PITCH,START,DURATION,VELOCITY;... with numbers"
        ) from None
    if not notes:
        raise UserError(f"{where}: no notes; the prompt's MIDI must play something")
    length = max(n.start_beats + max(n.duration_beats, 0.0) for n in notes) + 1.0
    return from_beat_notes(notes, tempo, length)


def kits_dir() -> Path:
    """Where saved prompt kits live: $DRUMGRID_KITS, else ~/.local/share/drumgrid/kits."""
    env = os.environ.get("DRUMGRID_KITS")
    return Path(env) if env else Path.home() / ".local" / "share" / "drumgrid" / "kits"


def check_kit_name(name: str) -> str:
    if not name or len(name) > 64 or name.startswith(".") or set(name) - set(KIT_NAME_CHARS):
        raise UserError(
            f"kit name {name!r}: use 1-64 letters, digits, '-', '_' or '.', not starting with '.'"
        )
    return name


def saved_kit_path(name: str) -> Path:
    return kits_dir() / f"{check_kit_name(name)}{KIT_SUFFIX}"


def saved_kits() -> list[str]:
    """Names of the saved prompt kits, sorted."""
    folder = kits_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(KIT_SUFFIX)] for p in folder.glob(f"*{KIT_SUFFIX}"))
