"""What each message holds: the argument limits, the option keys and their OSC types (from
the render contract), the requests as values, and the argument types of each reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drumgrid.bridge.contract import OPTIONS, options_in
from drumgrid.bridge.messages.addresses import (
    ACCEPTED,
    DONE,
    ERROR,
    JOB_REPLY_ADDRESSES,
    KITS,
    NOTICE,
    PONG,
    PROGRESS,
    STATUS,
    SUBSCRIBED,
)

MAX_DATAGRAM = 8192  # every UDP datagram either side sends is smaller than this
MAX_JOB_ID = 64
MAX_STRING = 4096  # paths and kit names
MAX_ERROR_MESSAGE = 1000
NOTE_ARGS = 4  # pitch, start_beats, duration_beats, velocity
MAX_CLIP_NOTES = 100_000  # notes in one clip (the daemon refuses more)
SIGNATURE_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)
MAX_LENGTH_BEATS = 100_000.0  # a sanity bound; the engine's own limit is in seconds (too_long)

# option key -> OSC type the key's value must have ("s", "i" or "f")
OPTION_TYPES: dict[str, str] = {name: spec.osc_type for name, spec in OPTIONS.items()}
# options that say where a job's files and replies go, and how its input is read; the rest
# are the engine's RenderOptions
ROUTING_OPTIONS = options_in("routing")
INPUT_OPTIONS = options_in("input")  # checked by the daemon (server/drum_select, note_maps)
PROMPT_OPTIONS = options_in("prompt")  # files the daemon reads for a kit prompt (server/prompts)
LEVEL_OPTIONS = options_in("level")  # the output level (server/levels.py); one of them


# -- requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ping:
    reply_port: int | None = None  # answer to this UDP port of the sender's host


@dataclass(frozen=True)
class Status:
    reply_port: int | None = None


@dataclass(frozen=True)
class Kits:
    reply_port: int | None = None


@dataclass(frozen=True)
class Subscribe:
    port: int  # 0: unsubscribe


@dataclass(frozen=True)
class Render:
    job: str
    midi_path: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClipBegin:
    job: str
    tempo: float
    length_beats: float
    sig_num: int
    sig_den: int
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClipNotes:
    job: str
    notes: tuple[tuple[int, float, float, float], ...]  # (pitch, start, duration, velocity)


@dataclass(frozen=True)
class ClipEnd:
    job: str
    notes: int | None = None  # how many notes the sender sent: a shortfall means lost datagrams


@dataclass(frozen=True)
class Cancel:
    job: str


Request = Ping | Status | Kits | Subscribe | Render | ClipBegin | ClipNotes | ClipEnd | Cancel


# -- replies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    address: str
    args: tuple[Any, ...]

    @property
    def job(self) -> str:
        if self.address in JOB_REPLY_ADDRESSES and self.args:
            return str(self.args[0])
        return ""


REPLY_TYPES: dict[str, str] = {
    PONG: "s",
    SUBSCRIBED: "i",
    ACCEPTED: "s",
    PROGRESS: "sf",
    DONE: "ssii",
    ERROR: "sss",
    NOTICE: "ss",
    STATUS: "iiss",
    KITS: "s*",  # every kit of the model, the default first
}
