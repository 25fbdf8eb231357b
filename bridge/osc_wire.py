"""OSC 1.0 packets -> messages, decoded here rather than by python-osc.

python-osc skips type tags it does not know (`S`, `c`, `I`: the arguments after them shift),
logs each to the root logger (one datagram could write thousands of lines), and parses nested
bundles by recursion with no depth bound. This decoder knows every OSC 1.0 tag and the common
extensions, refuses what it cannot decode, and bounds depth and message count before it
recurses or allocates. Encoding stays with python-osc (what the daemon sends is simple).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

BUNDLE_HEAD = b"#bundle\0"
MAX_BUNDLE_DEPTH = 4
MAX_BUNDLE_MESSAGES = 1024


class WireError(ValueError):
    """Bytes that are not an OSC packet this decoder takes; the message says why."""


@dataclass(frozen=True)
class Special:
    """An argument that is neither a number nor a string (timetag, MIDI, impulse...)."""

    tag: str
    value: Any = None

    def __repr__(self) -> str:
        return f"<OSC {self.tag!r}>"


def decode_packet(data: bytes) -> list[tuple[str, list[Any]]]:
    """A message or a bundle (nested at most MAX_BUNDLE_DEPTH deep, at most
    MAX_BUNDLE_MESSAGES messages) -> its messages in order. Time tags are not kept."""
    out: list[tuple[str, list[Any]]] = []
    _packet(memoryview(bytes(data)), out, 0)
    return out


def _packet(data: memoryview, out: list[tuple[str, list[Any]]], depth: int) -> None:
    if bytes(data[:8]) == BUNDLE_HEAD:
        _bundle(data, out, depth)
    elif bytes(data[:1]) == b"/":
        if len(out) >= MAX_BUNDLE_MESSAGES:
            raise WireError(f"more than {MAX_BUNDLE_MESSAGES} messages in one packet")
        out.append(decode_message(data))
    else:
        raise WireError("neither a message ('/' address) nor a bundle ('#bundle')")


def _bundle(data: memoryview, out: list[tuple[str, list[Any]]], depth: int) -> None:
    if depth >= MAX_BUNDLE_DEPTH:
        raise WireError(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
    if len(data) < 16:
        raise WireError(f"a bundle of {len(data)} bytes has no time tag")
    at, n = 16, 0
    while at < len(data):
        if at + 4 > len(data):
            raise WireError("a bundle element's size is cut off")
        (size,) = struct.unpack_from(">i", data, at)
        if size <= 0 or size % 4 or at + 4 + size > len(data):
            raise WireError(f"bundle element {n} (size {size} at byte {at}) does not fit")
        try:
            _packet(data[at + 4 : at + 4 + size], out, depth + 1)
        except WireError as exc:
            raise WireError(f"bundle element {n}: {exc}") from None
        at, n = at + 4 + size, n + 1


def _string(data: memoryview, at: int, what: str) -> tuple[str, int]:
    raw = bytes(data[at:])
    end = raw.find(b"\0")
    if end < 0:
        raise WireError(f"{what} has no terminating NUL")
    try:
        text = raw[:end].decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(f"{what} is not UTF-8") from None
    return text, at + (end // 4 + 1) * 4


def _fixed(data: memoryview, at: int, fmt: str, what: str) -> tuple[Any, int]:
    size = struct.calcsize(fmt)
    if at + size > len(data):
        raise WireError(f"{what} is cut off")
    return struct.unpack_from(fmt, data, at)[0], at + size


def decode_message(data: memoryview | bytes) -> tuple[str, list[Any]]:
    """One OSC message -> (address, arguments). i, h, c -> int or 1-char str (c); f, d ->
    float; s, S -> str; b -> bytes; T, F -> bool; N -> None; t, m, r, I -> Special."""
    data = memoryview(data)
    address, at = _string(data, 0, "the address")
    if at >= len(data):  # OSC 1.0 allows a message without a type tag string: no arguments
        return address, []
    if bytes(data[at : at + 1]) != b",":
        raise WireError("no type tag string after the address")
    tags, at = _string(data, at, "the type tag string")
    args: list[Any] = []
    for i, tag in enumerate(tags[1:]):
        what = f"argument {i} ({tag!r})"
        if tag == "i":
            value, at = _fixed(data, at, ">i", what)
        elif tag == "f":
            value, at = _fixed(data, at, ">f", what)
        elif tag in "sS":
            value, at = _string(data, at, what)
        elif tag == "b":
            size, at = _fixed(data, at, ">i", what)
            if size < 0 or at + size > len(data):
                raise WireError(f"{what}: a blob of {size} bytes does not fit")
            value, at = bytes(data[at : at + size]), at + (size + 3) // 4 * 4
        elif tag == "h":
            value, at = _fixed(data, at, ">q", what)
        elif tag == "d":
            value, at = _fixed(data, at, ">d", what)
        elif tag == "c":
            code, at = _fixed(data, at, ">I", what)
            value = chr(code) if code < 0x110000 else Special("c", code)
        elif tag in "tmr":
            raw, at = _fixed(data, at, ">Q" if tag == "t" else ">I", what)
            value = Special(tag, raw)
        elif tag in "TFNI":
            value = {"T": True, "F": False, "N": None, "I": Special("I")}[tag]
        elif tag in "[]":
            raise WireError("OSC arrays ('[', ']') are not part of the drumgrid protocol")
        else:
            raise WireError(f"unknown type tag {tag!r}")
        args.append(value)
    if at > len(data):
        raise WireError("the arguments run past the end of the message")
    return address, args
