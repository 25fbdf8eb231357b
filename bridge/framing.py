"""How OSC packets travel: one packet per UDP datagram (each under MAX_DATAGRAM bytes), and
on TCP the OSC 1.0 stream framing that liblo speaks: a 4-byte big-endian length, then the
packet."""

from __future__ import annotations

import struct

from drumgrid.bridge.protocol import MAX_DATAGRAM

MAX_TCP_PACKET = 1 << 20  # a packet on a stream may be larger than a datagram, not unbounded
_LENGTH = struct.Struct(">I")


class FramingError(Exception):
    """A stream that cannot be framed any further (the connection should be closed)."""


def frame(packet: bytes) -> bytes:
    """One packet as it goes on a TCP stream."""
    if len(packet) > MAX_TCP_PACKET:
        raise FramingError(f"packet of {len(packet)} bytes; expected at most {MAX_TCP_PACKET}")
    return _LENGTH.pack(len(packet)) + packet


def check_datagram(packet: bytes) -> bytes:
    """A packet that may go out as one UDP datagram (every drumgrid datagram is < 8 KB)."""
    if len(packet) >= MAX_DATAGRAM:
        raise ValueError(f"datagram of {len(packet)} bytes; expected fewer than {MAX_DATAGRAM}")
    return packet


class Deframer:
    """Bytes of a TCP stream in, whole packets out. A length over `max_packet` raises
    FramingError (there is no way to resynchronise a length-prefixed stream)."""

    def __init__(self, max_packet: int = MAX_TCP_PACKET) -> None:
        self.max_packet = max_packet
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        packets = []
        while len(self._buffer) >= 4:
            (size,) = _LENGTH.unpack_from(self._buffer)
            if size > self.max_packet:
                raise FramingError(
                    f"a framed packet of {size} bytes; expected at most {self.max_packet}"
                )
            if len(self._buffer) < 4 + size:
                break
            packet = bytes(self._buffer[4 : 4 + size])
            del self._buffer[: 4 + size]
            if packet:  # an empty frame carries nothing; skip it
                packets.append(packet)
        return packets

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole packet."""
        return len(self._buffer)
