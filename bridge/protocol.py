"""The drumgrid OSC protocol: addresses, argument schemas, validation, and the bytes of
each message (python-osc builds them, bridge/osc_wire.py parses them; this module says what
is allowed).

The daemon and the Python client share it, so a message the client builds is one the
daemon accepts, and a reply the daemon builds is one the client reads. docs/osc.md is the
reference for people; this file is the reference for code.

Types are checked on the parsed values, leniently where OSC senders differ: an `f` slot
takes an int (Max sends 1.0 as the int 1), an `i` slot takes an integral float, and `s`
takes a symbol. Booleans (T/F), blobs and nil are never numbers or strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from drumgrid.bridge.osc_wire import WireError, decode_packet

PREFIX = "/drumgrid"
# requests
PING = f"{PREFIX}/ping"
SUBSCRIBE = f"{PREFIX}/subscribe"
RENDER = f"{PREFIX}/render"
CLIP_BEGIN = f"{PREFIX}/clip/begin"
CLIP_NOTES = f"{PREFIX}/clip/notes"
CLIP_END = f"{PREFIX}/clip/end"
CANCEL = f"{PREFIX}/cancel"
STATUS = f"{PREFIX}/status"  # also the reply's address
KITS = f"{PREFIX}/kits"  # also the reply's address
# replies
PONG = f"{PREFIX}/pong"
SUBSCRIBED = f"{PREFIX}/subscribed"
ACCEPTED = f"{PREFIX}/accepted"
PROGRESS = f"{PREFIX}/progress"
DONE = f"{PREFIX}/done"
ERROR = f"{PREFIX}/error"
NOTICE = f"{PREFIX}/notice"  # what a job took from its input: drum parts, warnings, folds

ERROR_CODES = (
    "bad_request",
    "bad_midi",
    "unknown_kit",
    "too_long",
    "busy",
    "cancelled",
    "internal",
)

MAX_DATAGRAM = 8192  # every UDP datagram either side sends is smaller than this
MAX_JOB_ID = 64
MAX_STRING = 4096  # paths and kit names
MAX_ERROR_MESSAGE = 1000
NOTE_ARGS = 4  # pitch, start_beats, duration_beats, velocity
MAX_CLIP_NOTES = 100_000  # notes in one clip (the daemon refuses more)
MAX_VARIATIONS = 16
DECODING = ("parallel", "iterative")
SIGNATURE_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)
MAX_LENGTH_BEATS = 100_000.0  # a sanity bound; the engine's own limit is in seconds (too_long)
MAX_PORT = 65535
OUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.wav", re.IGNORECASE)

# option key -> OSC type the key's value must have ("s", "i" or "f")
OPTION_TYPES: dict[str, str] = {
    "kit": "s",
    "seed": "i",
    "decoding": "s",
    "steps": "i",
    "temperature": "f",
    "top_k": "i",
    "top_p": "f",
    "sample_rate": "i",
    "variations": "i",
    "out": "s",
    "reply_port": "i",
    "channel": "s",
    "note_map": "s",
    "name": "s",
    "peak": "f",
    "loudness": "f",
    "gate": "i",
}
# options that say where a job's files and replies go, and how its input is read; the rest
# are the engine's RenderOptions
ROUTING_OPTIONS = ("out", "reply_port", "name")
INPUT_OPTIONS = ("channel", "note_map")  # checked by the daemon (server/drum_select, note_maps)
LEVEL_OPTIONS = ("peak", "loudness")  # the output level (server/levels.py); one of them
MAX_NOTE_MAP = 1024  # characters: a full map of 128 pitches is about 1 KB


class ProtocolError(Exception):
    """A request the protocol refuses; answered with /drumgrid/error <job> <code> <message>."""

    def __init__(self, message: str, job: str = "", code: str = "bad_request") -> None:
        super().__init__(message)
        self.message, self.job, self.code = message, job, code


# -- argument checks -------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def as_int(value: Any, what: str, low: int, high: int, job: str = "") -> int:
    """An `i` slot: an int, or a float with an integral value, within [low, high]."""
    if _is_number(value) and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{what}: expected an int, got {_shown(value)}", job)
    if not low <= value <= high:
        raise ProtocolError(f"{what}: expected {low}..{high}, got {value}", job)
    return value


def as_float(
    value: Any, what: str, low: float, high: float, job: str = "", low_open: bool = False
) -> float:
    """An `f` slot: a finite int or float within [low, high] ((low, high] when low_open)."""
    if not _is_number(value) or not math.isfinite(value):
        raise ProtocolError(f"{what}: expected a finite float, got {_shown(value)}", job)
    value = float(value)
    if value > high or value < low or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise ProtocolError(f"{what}: expected {bracket}{low:g}, {high:g}], got {value:g}", job)
    return value


def as_str(value: Any, what: str, job: str = "", max_len: int = MAX_STRING) -> str:
    """An `s` slot: a non-empty string of printable characters (no control characters)."""
    if not isinstance(value, str):
        raise ProtocolError(f"{what}: expected a string, got {_shown(value)}", job)
    if not 1 <= len(value) <= max_len:
        raise ProtocolError(f"{what}: expected 1..{max_len} characters, got {len(value)}", job)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ProtocolError(f"{what}: control characters are not allowed", job)
    return value


def as_job(value: Any) -> str:
    return as_str(value, "job id", "", MAX_JOB_ID)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "nil"
    if isinstance(value, (bytes, bytearray)):
        return f"a {len(value)}-byte blob"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}"


def check_out_name(name: str, job: str = "") -> str:
    """`out`: a bare .wav file name inside the render folder; no folders, no '..'."""
    if not OUT_NAME.fullmatch(name):
        raise ProtocolError(
            f"out {name[:80]!r}: expected a bare file name like take-1.wav (letters, digits, "
            "'.', '_', '-'; no folders, not starting with '.')",
            job,
        )
    return name


def parse_options(pairs: Sequence[Any], job: str = "") -> dict[str, Any]:
    """`<key:s> <value>` pairs -> {key: value}, each value type- and range-checked."""
    if len(pairs) % 2:
        raise ProtocolError(f"options: expected key value pairs, got {len(pairs)} values", job)
    options: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        key, value = pairs[i], pairs[i + 1]
        if not isinstance(key, str) or key not in OPTION_TYPES:
            raise ProtocolError(
                f"option {_shown(key) if not isinstance(key, str) else repr(key)}: expected one "
                f"of {', '.join(OPTION_TYPES)}",
                job,
            )
        if key in options:
            raise ProtocolError(f"option {key!r} given twice", job)
        options[key] = check_option(key, value, job)
    if "peak" in options and "loudness" in options:
        raise ProtocolError("options peak and loudness: give one level target, not both", job)
    if options.get("variations", 1) > 1 and options.get("decoding") == "parallel":
        raise ProtocolError("variations > 1 needs decoding iterative (parallel is argmax)", job)
    return options


def check_option(key: str, value: Any, job: str = "") -> Any:
    if key == "kit":
        return as_str(value, "kit", job, 128)
    if key == "seed":
        return as_int(value, "seed", 0, 2**62 - 1, job)
    if key == "decoding":
        value = as_str(value, "decoding", job, 32)
        if value not in DECODING:
            raise ProtocolError(
                f"decoding: expected one of {', '.join(DECODING)}, got {value!r}", job
            )
        return value
    if key == "steps":
        return as_int(value, "steps", 1, 64, job)
    if key == "temperature":
        return as_float(value, "temperature", 0.0, 10.0, job)
    if key == "top_k":
        return as_int(value, "top_k", 0, 1 << 20, job)
    if key == "top_p":
        return as_float(value, "top_p", 0.0, 1.0, job, low_open=True)
    if key == "sample_rate":
        return as_int(value, "sample_rate", 8000, 192000, job)
    if key == "variations":
        return as_int(value, "variations", 1, MAX_VARIATIONS, job)
    if key == "out":
        return check_out_name(as_str(value, "out", job, 128), job)
    if key == "reply_port":
        return as_int(value, "reply_port", 1, MAX_PORT, job)
    if key == "gate":
        return bool(as_int(value, "gate", 0, 1, job))
    if key == "peak":
        return as_float(value, "peak", -60.0, 0.0, job)
    if key == "loudness":
        return as_float(value, "loudness", -70.0, -5.0, job)
    if key == "name":
        return as_str(value, "name", job, 100)
    if key == "channel":
        return as_str(value, "channel", job, 64)
    if key == "note_map":
        return as_str(value, "note_map", job, MAX_NOTE_MAP)
    raise ProtocolError(f"option {key!r}: unknown", job)  # pragma: no cover - OPTION_TYPES


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

JOB_ADDRESSES = (RENDER, CLIP_BEGIN, CLIP_NOTES, CLIP_END, CANCEL)
QUERY_ADDRESSES = (PING, STATUS, KITS)  # answered at once; an optional <reply_port:i>
REQUEST_ADDRESSES = (*QUERY_ADDRESSES, SUBSCRIBE, RENDER, CLIP_BEGIN, CLIP_NOTES, CLIP_END, CANCEL)


def job_of(address: str, args: Sequence[Any]) -> str:
    """The job id a malformed request was about, when it has a usable one ('' otherwise)."""
    if address in JOB_ADDRESSES and args and isinstance(args[0], str):
        try:
            return as_job(args[0])
        except ProtocolError:
            return ""
    return ""


def _count(address: str, args: Sequence[Any], expected: int, job: str = "") -> None:
    if len(args) != expected:
        raise ProtocolError(f"{address}: expected {expected} arguments, got {len(args)}", job)


def _at_least(address: str, args: Sequence[Any], expected: int, job: str = "") -> None:
    if len(args) < expected:
        raise ProtocolError(
            f"{address}: expected at least {expected} arguments, got {len(args)}", job
        )


def parse_request(address: str, args: Sequence[Any]) -> Request:
    """Validate one request message; raises ProtocolError (code bad_request) naming the
    problem, with the job id when the message carried a usable one."""
    job = job_of(address, args)
    if address in QUERY_ADDRESSES:
        if len(args) > 1:
            raise ProtocolError(
                f"{address}: expected 0 or 1 argument (reply_port), got {len(args)}"
            )
        port = as_int(args[0], "reply_port", 1, MAX_PORT) if args else None
        return {PING: Ping, STATUS: Status, KITS: Kits}[address](port)
    if address == SUBSCRIBE:
        _count(address, args, 1)
        return Subscribe(as_int(args[0], "port", 0, 65535))
    if address not in JOB_ADDRESSES:
        raise ProtocolError(
            f"unknown address {address[:80]!r}; expected one of {', '.join(REQUEST_ADDRESSES)}"
        )
    _at_least(address, args, 1)
    job = as_job(args[0])
    if address == RENDER:
        _at_least(address, args, 2, job)
        path = as_str(args[1], "midi_path", job)
        return Render(job, path, parse_options(args[2:], job))
    if address == CLIP_BEGIN:
        _at_least(address, args, 5, job)
        return ClipBegin(
            job,
            as_float(args[1], "tempo", 1.0, 1000.0, job),
            as_float(args[2], "length_beats", 0.0, MAX_LENGTH_BEATS, job, low_open=True),
            as_int(args[3], "sig_num", 1, 64, job),
            _denominator(args[4], job),
            parse_options(args[5:], job),
        )
    if address == CLIP_NOTES:
        values = args[1:]
        if len(values) % NOTE_ARGS:
            raise ProtocolError(
                f"{address}: expected groups of 4 values (pitch start duration velocity), "
                f"got {len(values)} values",
                job,
            )
        notes = []
        for i in range(0, len(values), NOTE_ARGS):
            n = i // NOTE_ARGS
            notes.append(
                (
                    as_int(values[i], f"note {n} pitch", 0, 127, job),
                    as_float(values[i + 1], f"note {n} start", 0.0, MAX_LENGTH_BEATS, job),
                    as_float(values[i + 2], f"note {n} duration", 0.0, MAX_LENGTH_BEATS, job),
                    as_float(values[i + 3], f"note {n} velocity", 0.0, 127.0, job),
                )
            )
        return ClipNotes(job, tuple(notes))
    if address == CLIP_END and len(args) == 2:
        return ClipEnd(job, as_int(args[1], "notes", 0, MAX_CLIP_NOTES, job))
    _count(address, args, 1, job)
    return ClipEnd(job) if address == CLIP_END else Cancel(job)


def reply_port_of(address: str, args: Sequence[Any]) -> int | None:
    """The reply port a (possibly malformed) request asked for, when it names a valid one, so
    that an error about the request reaches the sender as its answers would."""
    candidates: Sequence[Any] = ()
    if address in QUERY_ADDRESSES:
        candidates = args[:1]
    else:
        start = {RENDER: 2, CLIP_BEGIN: 5}.get(address)
        if start is not None:
            pairs = args[start:]
            keys, values = pairs[::2], pairs[1::2]  # an odd count leaves the last key unpaired
            candidates = [v for k, v in zip(keys, values, strict=False) if k == "reply_port"]
    for value in candidates[:1]:
        try:
            return as_int(value, "reply_port", 1, MAX_PORT)
        except ProtocolError:
            return None
    return None


def _denominator(value: Any, job: str) -> int:
    den = as_int(value, "sig_den", 1, 64, job)
    if den not in SIGNATURE_DENOMINATORS:
        raise ProtocolError(f"sig_den: expected a power of two 1..64, got {den}", job)
    return den


# -- packets ---------------------------------------------------------------------------------


def parse_packet(data: bytes) -> list[tuple[str, list[Any]]]:
    """One OSC packet (a message or a bundle, nested at most MAX_BUNDLE_DEPTH deep) ->
    its messages in order. Bundle time tags are ignored: everything runs on arrival.
    Raises ProtocolError when the bytes are not OSC (bridge/osc_wire.py decodes them)."""
    try:
        return decode_packet(data)
    except WireError as exc:
        raise ProtocolError(f"not an OSC packet ({len(data)} bytes): {exc}") from None


def encode(address: str, args: Iterable[Any] = ()) -> bytes:
    """An OSC message: ints as i (h when they need 64 bits), floats as f, strings as s."""
    builder = OscMessageBuilder(address)
    for value in args:
        if isinstance(value, bool):
            raise TypeError(f"{address}: booleans are not part of the protocol")
        if isinstance(value, int):
            builder.add_arg(value, "i" if -(2**31) <= value < 2**31 else "h")
        elif isinstance(value, float):
            builder.add_arg(value, "f")
        elif isinstance(value, str):
            builder.add_arg(value, "s")
        else:
            raise TypeError(f"{address}: cannot send {type(value).__name__}")
    return builder.build().dgram


def option_args(options: dict[str, Any]) -> list[Any]:
    """{key: value} -> the flat key value list, types coerced to each key's OSC type."""
    args: list[Any] = []
    for key, value in options.items():
        if value is None:
            continue
        kind = OPTION_TYPES.get(key)
        if kind is None:
            raise ProtocolError(f"option {key!r}: expected one of {', '.join(OPTION_TYPES)}")
        args += [key, float(value) if kind == "f" else int(value) if kind == "i" else str(value)]
    return args


# -- request builders (clients) --------------------------------------------------------------


def render_message(job: str, midi_path: str, **options: Any) -> bytes:
    return encode(RENDER, [job, midi_path, *option_args(options)])


def clip_begin_message(
    job: str,
    tempo: float,
    length_beats: float,
    signature: tuple[int, int] = (4, 4),
    **options: Any,
) -> bytes:
    args = [job, float(tempo), float(length_beats), int(signature[0]), int(signature[1])]
    return encode(CLIP_BEGIN, args + option_args(options))


def notes_per_message(job: str, limit: int = MAX_DATAGRAM) -> int:
    """How many notes fit one /drumgrid/clip/notes message smaller than `limit` bytes."""
    head = _padded(len(CLIP_NOTES)) + _padded(len(job.encode()))
    n = 0
    while head + _padded(2 + NOTE_ARGS * (n + 1)) + 16 * (n + 1) < limit:
        n += 1
    return n


def clip_end_message(job: str, notes: int) -> bytes:
    """/drumgrid/clip/end with the count of notes sent, so a daemon can tell lost datagrams."""
    return encode(CLIP_END, [job, int(notes)])


def _padded(n_chars: int) -> int:
    """Bytes of an OSC string of n characters: a NUL, padded to 4."""
    return (n_chars // 4 + 1) * 4


def clip_notes_messages(
    job: str,
    notes: Iterable[tuple[int, float, float, float]],  # (pitch, start, duration, velocity)
    limit: int = MAX_DATAGRAM,
) -> list[bytes]:
    """The notes as /drumgrid/clip/notes messages, each smaller than `limit` bytes."""
    notes = list(notes)
    per = notes_per_message(job, limit)
    messages = []
    for i in range(0, len(notes), per):
        args: list[Any] = [job]
        for pitch, start, duration, velocity in notes[i : i + per]:
            args += [int(pitch), float(start), float(duration), float(velocity)]
        messages.append(encode(CLIP_NOTES, args))
    return messages


# -- replies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    address: str
    args: tuple[Any, ...]

    @property
    def job(self) -> str:
        if self.address in (ACCEPTED, PROGRESS, DONE, ERROR, NOTICE) and self.args:
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


def parse_reply(address: str, args: Sequence[Any]) -> Reply:
    """Check a reply against REPLY_TYPES (clients use this on what the daemon sends)."""
    types = REPLY_TYPES.get(address)
    if types is None:
        raise ProtocolError(f"unknown reply address {address!r}")
    if types.endswith("*"):  # the last type repeats, at least once
        fixed, repeated = types[:-2], types[-2]
        types = fixed + repeated * max(len(args) - len(fixed), 1)
    if len(args) != len(types):
        raise ProtocolError(f"{address}: expected {len(types)} arguments, got {len(args)}")
    for kind, value in zip(types, args, strict=True):
        ok = (
            isinstance(value, str)
            if kind == "s"
            else _is_number(value) and (kind == "f" or isinstance(value, int))
        )
        if not ok:
            raise ProtocolError(f"{address}: expected types {types}, got {list(args)!r}"[:300])
    return Reply(address, tuple(args))


def notice_message(job: str, text: str) -> bytes:
    return encode(NOTICE, [job, text[:MAX_ERROR_MESSAGE]])


def error_message(job: str, code: str, message: str) -> bytes:
    assert code in ERROR_CODES, code
    return encode(ERROR, [job, code, message[:MAX_ERROR_MESSAGE] or code])


def kits_message(kits: Sequence[str], limit: int = MAX_DATAGRAM) -> tuple[bytes, int]:
    """/drumgrid/kits with as many of `kits` as fit one datagram under `limit` bytes (the
    default kit first); returns the message and how many kits it holds."""
    if not kits:
        raise ValueError("a model has at least one kit")
    n = len(kits)
    message = encode(KITS, list(kits))
    while len(message) >= limit and n > 1:
        n -= 1
        message = encode(KITS, list(kits[:n]))
    return message, n
