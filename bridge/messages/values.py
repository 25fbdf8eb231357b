"""Checks of one argument's value, and the error every refusal raises.

Types are checked on the parsed values, leniently where OSC senders differ: an `f` slot
takes an int (Max sends 1.0 as the int 1), an `i` slot takes an integral float, and `s`
takes a symbol. Booleans (T/F), blobs and nil are never numbers or strings.
"""

from __future__ import annotations

import math
from typing import Any

from drumgrid.bridge.contract import OUT_NAME, OptionSpec
from drumgrid.bridge.messages.schemas import MAX_JOB_ID, MAX_STRING


class ProtocolError(Exception):
    """A request the protocol refuses; answered with /drumgrid/error <job> <code> <message>."""

    def __init__(self, message: str, job: str = "", code: str = "bad_request") -> None:
        super().__init__(message)
        self.message, self.job, self.code = message, job, code


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def as_int(value: Any, what: str, low: int, high: int, job: str = "") -> int:
    """An `i` slot: an int, or a float with an integral value, within [low, high]."""
    if is_number(value) and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{what}: expected an int, got {shown(value)}", job)
    if not low <= value <= high:
        raise ProtocolError(f"{what}: expected {low}..{high}, got {value}", job)
    return value


def as_float(
    value: Any, what: str, low: float, high: float, job: str = "", low_open: bool = False
) -> float:
    """An `f` slot: a finite int or float within [low, high] ((low, high] when low_open)."""
    if not is_number(value) or not math.isfinite(value):
        raise ProtocolError(f"{what}: expected a finite float, got {shown(value)}", job)
    value = float(value)
    if value > high or value < low or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise ProtocolError(f"{what}: expected {bracket}{low:g}, {high:g}], got {value:g}", job)
    return value


def as_str(value: Any, what: str, job: str = "", max_len: int = MAX_STRING) -> str:
    """An `s` slot: a non-empty string of printable characters (no control characters)."""
    if not isinstance(value, str):
        raise ProtocolError(f"{what}: expected a string, got {shown(value)}", job)
    if not 1 <= len(value) <= max_len:
        raise ProtocolError(f"{what}: expected 1..{max_len} characters, got {len(value)}", job)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ProtocolError(f"{what}: control characters are not allowed", job)
    return value


def as_job(value: Any) -> str:
    return as_str(value, "job id", "", MAX_JOB_ID)


def as_option(name: str, spec: OptionSpec, value: Any, job: str = "") -> Any:
    """One option's value, checked against its spec in the render contract."""
    if spec.osc_type == "i":
        number = as_int(value, name, int(spec.low), int(spec.high), job)
        return bool(number) if spec.flag else number
    if spec.osc_type == "f":
        return as_float(value, name, spec.low, spec.high, job, spec.low_open)
    text = as_str(value, name, job, spec.max_chars)
    if spec.choices and text not in spec.choices:
        raise ProtocolError(f"{name}: expected one of {', '.join(spec.choices)}, got {text!r}", job)
    return check_out_name(text, job) if name == "out" else text


def shown(value: Any) -> str:
    """A value as an error message names it: its type, and the start of its text."""
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
