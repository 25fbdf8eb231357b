"""Values -> the bytes of each message (python-osc builds them): requests for clients,
replies for the daemon, each datagram under MAX_DATAGRAM bytes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from drumgrid.bridge.contract import OPTIONS
from drumgrid.bridge.messages.addresses import (
    CLIP_BEGIN,
    CLIP_END,
    CLIP_NOTES,
    ERROR,
    ERROR_CODES,
    KITS,
    NOTICE,
    RENDER,
)
from drumgrid.bridge.messages.schemas import MAX_DATAGRAM, MAX_ERROR_MESSAGE, NOTE_ARGS
from drumgrid.bridge.messages.values import ProtocolError


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
        spec = OPTIONS.get(key)
        if spec is None:
            raise ProtocolError(f"option {key!r}: expected one of {', '.join(OPTIONS)}")
        kind = spec.osc_type
        args += [key, float(value) if kind == "f" else int(value) if kind == "i" else str(value)]
    return args


# -- requests (clients) ----------------------------------------------------------------------


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


# -- replies (the daemon) --------------------------------------------------------------------


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
