"""The keys each preset of a SoundFont (sf2 or sf3) sounds, read from its preset and
instrument zones without loading any sample data, so listing a machine's kits needs no
synth. A preset zone's key range meets the key ranges of its instrument's zones that hold a
sample (global zones supply defaults)."""

from __future__ import annotations

import struct
from pathlib import Path

from drumgrid.server.errors import UserError

KEY_RANGE, INSTRUMENT, SAMPLE_ID = 43, 41, 53  # SoundFont 2.04 generator numbers
RECORD = {"phdr": 38, "pbag": 4, "pgen": 4, "inst": 22, "ibag": 4, "igen": 4}


def _chunks(path: Path) -> dict[str, bytes]:
    """The pdta sub-chunks (preset and instrument tables), skipping the sample data."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
            if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
                raise UserError(f"soundfont {path}: not a SoundFont 2 (.sf2/.sf3) file")
            while True:
                header = f.read(12)
                if len(header) < 12:
                    raise UserError(f"soundfont {path}: no preset tables (pdta); it is damaged")
                cid, size, kind = header[:4], struct.unpack("<I", header[4:8])[0], header[8:12]
                if cid == b"LIST" and kind == b"pdta":
                    data = f.read(size - 4)
                    break
                f.seek(size - 4 + (size & 1), 1)
    except OSError as exc:
        raise UserError(f"soundfont {path}: cannot read it ({exc.strerror})") from None
    chunks: dict[str, bytes] = {}
    at = 0
    while at + 8 <= len(data):
        length = struct.unpack_from("<I", data, at + 4)[0]
        chunks[data[at : at + 4].decode("latin-1")] = data[at + 8 : at + 8 + length]
        at += 8 + length + (length & 1)
    if any(name not in chunks for name in RECORD):
        raise UserError(f"soundfont {path}: incomplete preset tables; the file is damaged")
    return chunks


def _zones(bags: bytes, gens: bytes, first: int, last: int) -> list[dict[int, int]]:
    """Generators of bag indices [first, last): {generator: raw 16-bit amount} per zone."""
    zones = []
    for b in range(first, last):
        g0, g1 = _u16(bags, 4 * b), _u16(bags, 4 * b + 4)
        zones.append({_u16(gens, 4 * g): _u16(gens, 4 * g + 2) for g in range(g0, g1)})
    return zones


def _u16(data: bytes, at: int) -> int:
    return struct.unpack_from("<H", data, at)[0]


def _keys(zone: dict[int, int], default: set[int]) -> set[int]:
    if KEY_RANGE not in zone:
        return default
    lo, hi = zone[KEY_RANGE] & 0xFF, zone[KEY_RANGE] >> 8
    return set(range(lo, hi + 1))


def _instrument_keys(chunks: dict[str, bytes], index: int) -> set[int]:
    inst = chunks["inst"]
    first = struct.unpack_from("<H", inst, 22 * index + 20)[0]
    last = struct.unpack_from("<H", inst, 22 * index + 42)[0]
    zones = _zones(chunks["ibag"], chunks["igen"], first, last)
    default = set(range(128))
    if zones and SAMPLE_ID not in zones[0]:  # a global zone
        default = _keys(zones[0], default)
    return set().union(*[_keys(z, default) for z in zones if SAMPLE_ID in z])


def preset_keys(path: Path) -> dict[tuple[int, int], set[int]]:
    """(bank, preset) -> the MIDI keys that preset sounds."""
    chunks = _chunks(path)
    phdr = chunks["phdr"]
    n = len(phdr) // RECORD["phdr"] - 1  # the last record is the terminal "EOP"
    out: dict[tuple[int, int], set[int]] = {}
    for k in range(n):
        preset, bank, first = struct.unpack_from("<HHH", phdr, 38 * k + 20)
        last = struct.unpack_from("<H", phdr, 38 * (k + 1) + 24)[0]
        zones = _zones(chunks["pbag"], chunks["pgen"], first, last)
        default = set(range(128))
        if zones and INSTRUMENT not in zones[0]:
            default = _keys(zones[0], default)
        keys: set[int] = set()
        for zone in zones:
            if INSTRUMENT in zone:
                keys |= _keys(zone, default) & _instrument_keys(chunks, zone[INSTRUMENT])
        out[(bank, preset)] = keys
    return out
