"""Bytes and messages -> validated values: packets (bridge/osc_wire.py decodes the bytes),
requests with their options (the daemon), and replies (clients). Every refusal is a
ProtocolError naming the problem, with the job id when the message carried a usable one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drumgrid.bridge.contract import MAX_PORT, OPTIONS
from drumgrid.bridge.messages import schemas
from drumgrid.bridge.messages.addresses import (
    CLIP_BEGIN,
    CLIP_END,
    CLIP_NOTES,
    JOB_ADDRESSES,
    KITS,
    PING,
    QUERY_ADDRESSES,
    RENDER,
    REQUEST_ADDRESSES,
    STATUS,
    SUBSCRIBE,
)
from drumgrid.bridge.messages.schemas import (
    MAX_CLIP_NOTES,
    MAX_LENGTH_BEATS,
    NOTE_ARGS,
    REPLY_TYPES,
    SIGNATURE_DENOMINATORS,
)
from drumgrid.bridge.messages.values import (
    ProtocolError,
    as_float,
    as_int,
    as_job,
    as_option,
    as_str,
    is_number,
    shown,
)
from drumgrid.bridge.osc_wire import WireError, decode_packet

_QUERIES: dict[str, type[schemas.Ping] | type[schemas.Status] | type[schemas.Kits]] = {
    PING: schemas.Ping,
    STATUS: schemas.Status,
    KITS: schemas.Kits,
}


def parse_packet(data: bytes) -> list[tuple[str, list[Any]]]:
    """One OSC packet (a message or a bundle, nested at most MAX_BUNDLE_DEPTH deep) ->
    its messages in order. Bundle time tags are ignored: everything runs on arrival.
    Raises ProtocolError when the bytes are not OSC (bridge/osc_wire.py decodes them)."""
    try:
        return decode_packet(data)
    except WireError as exc:
        raise ProtocolError(f"not an OSC packet ({len(data)} bytes): {exc}") from None


# -- requests --------------------------------------------------------------------------------


def parse_options(pairs: Sequence[Any], job: str = "") -> dict[str, Any]:
    """`<key:s> <value>` pairs -> {key: value}, each value type- and range-checked."""
    if len(pairs) % 2:
        raise ProtocolError(f"options: expected key value pairs, got {len(pairs)} values", job)
    options: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        key, value = pairs[i], pairs[i + 1]
        if not isinstance(key, str) or key not in OPTIONS:
            raise ProtocolError(
                f"option {shown(key) if not isinstance(key, str) else repr(key)}: expected one "
                f"of {', '.join(OPTIONS)}",
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
    spec = OPTIONS.get(key)
    if spec is None:
        raise ProtocolError(f"option {key!r}: unknown", job)
    return as_option(key, spec, value, job)


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


def parse_request(address: str, args: Sequence[Any]) -> schemas.Request:
    """Validate one request message; raises ProtocolError (code bad_request) naming the
    problem, with the job id when the message carried a usable one."""
    job = job_of(address, args)
    if address in QUERY_ADDRESSES:
        if len(args) > 1:
            raise ProtocolError(
                f"{address}: expected 0 or 1 argument (reply_port), got {len(args)}"
            )
        port = as_int(args[0], "reply_port", 1, MAX_PORT) if args else None
        return _QUERIES[address](port)
    if address == SUBSCRIBE:
        _count(address, args, 1)
        return schemas.Subscribe(as_int(args[0], "port", 0, MAX_PORT))
    if address not in JOB_ADDRESSES:
        raise ProtocolError(
            f"unknown address {address[:80]!r}; expected one of {', '.join(REQUEST_ADDRESSES)}"
        )
    _at_least(address, args, 1)
    job = as_job(args[0])
    if address == RENDER:
        _at_least(address, args, 2, job)
        path = as_str(args[1], "midi_path", job)
        return schemas.Render(job, path, parse_options(args[2:], job))
    if address == CLIP_BEGIN:
        _at_least(address, args, 5, job)
        return schemas.ClipBegin(
            job,
            as_float(args[1], "tempo", 1.0, 1000.0, job),
            as_float(args[2], "length_beats", 0.0, MAX_LENGTH_BEATS, job, low_open=True),
            as_int(args[3], "sig_num", 1, 64, job),
            _denominator(args[4], job),
            parse_options(args[5:], job),
        )
    if address == CLIP_NOTES:
        return schemas.ClipNotes(job, _notes(address, args[1:], job))
    if address == CLIP_END and len(args) == 2:
        return schemas.ClipEnd(job, as_int(args[1], "notes", 0, MAX_CLIP_NOTES, job))
    _count(address, args, 1, job)
    return schemas.ClipEnd(job) if address == CLIP_END else schemas.Cancel(job)


def _notes(
    address: str, values: Sequence[Any], job: str
) -> tuple[tuple[int, float, float, float], ...]:
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
    return tuple(notes)


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


# -- replies ---------------------------------------------------------------------------------


def parse_reply(address: str, args: Sequence[Any]) -> schemas.Reply:
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
            else is_number(value) and (kind == "f" or isinstance(value, int))
        )
        if not ok:
            raise ProtocolError(f"{address}: expected types {types}, got {list(args)!r}"[:300])
    return schemas.Reply(address, tuple(args))
