"""`drumgrid.bridge.Client`: talk to a running `drumgrid serve` from Python.

    with Client() as client:                      # TCP 127.0.0.1:9001, replies on the connection
        takes = client.render_file("/abs/groove.mid", kit="acoustic", seed=3)
        print(takes[0].path, takes[0].sample_rate, takes[0].frames)

TCP is the default: replies come back on the connection whatever other programs on this host
have subscribed to. Over UDP (transport="udp") every request names this client's socket as
its reply port, so replies come back to it whatever others subscribed (see docs/osc.md).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from drumgrid.bridge import protocol as p
from drumgrid.bridge.contract import DEFAULT_HOST, DEFAULT_TCP_PORT, DEFAULT_UDP_PORT
from drumgrid.bridge.framing import Deframer, check_datagram, frame

DEFAULT_TIMEOUT_S = 120.0


class RenderError(Exception):
    """The daemon answered a job with /drumgrid/error."""

    def __init__(self, job: str, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.job, self.code, self.message = job, code, message


@dataclass(frozen=True)
class Done:
    job: str
    path: str
    sample_rate: int
    frames: int
    notices: tuple[str, ...] = ()  # what the daemon took from the input (drum parts, folds)


@dataclass(frozen=True)
class DaemonStatus:
    queued: int
    running: int
    device: str
    model: str


def new_job_id(prefix: str = "py") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Client:
    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int | None = None,
        transport: str = "tcp",
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if transport not in ("tcp", "udp"):
            raise ValueError(f"transport: expected 'tcp' or 'udp', got {transport!r}")
        self.transport, self.timeout = transport, timeout
        default = DEFAULT_TCP_PORT if transport == "tcp" else DEFAULT_UDP_PORT
        self.address = (host, default if port is None else port)
        self._inbox: list[p.Reply] = []
        self._route: dict[str, int] = {}  # over UDP: {"reply_port": our socket's port}
        self._deframer = Deframer()
        if transport == "tcp":
            self.sock = socket.create_connection(self.address, timeout=min(timeout, 10.0))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_DGRAM)
            self.sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
            # named in every request, so no other program's subscription takes our replies
            self._route = {"reply_port": int(self.sock.getsockname()[1])}

    # -- plumbing ----------------------------------------------------------------------------

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, packet: bytes) -> None:
        if self.transport == "tcp":
            self.sock.sendall(frame(packet))
        else:
            self.sock.sendto(check_datagram(packet), self.address)

    def _read(self, timeout: float) -> list[p.Reply]:
        self.sock.settimeout(max(timeout, 1e-3))
        try:
            if self.transport == "tcp":
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError("the daemon closed the connection")
                packets = self._deframer.feed(data)
            else:
                packets = [self.sock.recv(65536)]
        except TimeoutError:
            return []
        replies = []
        for packet in packets:
            for address, args in p.parse_packet(packet):
                replies.append(p.parse_reply(address, args))
        return replies

    def wait_for(self, match: Callable[[p.Reply], bool], timeout: float | None = None) -> p.Reply:
        """The first reply (buffered or new) for which match() holds; others stay buffered."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            for i, reply in enumerate(self._inbox):
                if match(reply):
                    return self._inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching reply from the daemon in time")
            self._inbox += self._read(left)

    def drain(self, timeout: float) -> list[p.Reply]:
        """Every reply buffered or arriving within `timeout` seconds, in order of arrival
        (for a script that tracks many jobs at once); the buffer is left empty."""
        replies, self._inbox = self._inbox, []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            replies += self._read(left)
        return replies

    # -- requests ----------------------------------------------------------------------------

    def _query_args(self) -> list[int]:
        return list(self._route.values())

    def ping(self, timeout: float = 5.0) -> str:
        self.send(p.encode(p.PING, self._query_args()))
        return str(self.wait_for(lambda r: r.address == p.PONG, timeout).args[0])

    def status(self, timeout: float = 5.0) -> DaemonStatus:
        self.send(p.encode(p.STATUS, self._query_args()))
        reply = self.wait_for(lambda r: r.address == p.STATUS, timeout)
        return DaemonStatus(*reply.args)

    def kits(self, timeout: float = 5.0) -> list[str]:
        """The kits of the daemon's model, the default first."""
        self.send(p.encode(p.KITS, self._query_args()))
        return [str(kit) for kit in self.wait_for(lambda r: r.address == p.KITS, timeout).args]

    def subscribe(self, port: int, timeout: float = 5.0) -> int:
        self.send(p.encode(p.SUBSCRIBE, [int(port)]))
        return int(self.wait_for(lambda r: r.address == p.SUBSCRIBED, timeout).args[0])

    def cancel(self, job: str) -> None:
        self.send(p.encode(p.CANCEL, [job]))

    def submit_file(self, midi_path: str, job: str | None = None, **options: Any) -> str:
        job = job or new_job_id()
        self.send(p.render_message(job, midi_path, **self._route, **options))
        return job

    def submit_clip(
        self,
        notes: Iterable[tuple[int, float, float, float]],  # (pitch, start, duration, velocity)
        tempo: float,
        length_beats: float,
        signature: tuple[int, int] = (4, 4),
        job: str | None = None,
        **options: Any,
    ) -> str:
        job = job or new_job_id()
        notes = list(notes)
        self.send(
            p.clip_begin_message(job, tempo, length_beats, signature, **self._route, **options)
        )
        for message in p.clip_notes_messages(job, notes):
            self.send(message)
        self.send(p.clip_end_message(job, len(notes)))
        return job

    def wait(
        self,
        job: str,
        takes: int = 1,
        timeout: float | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> list[Done]:
        """Wait until `takes` /drumgrid/done arrived for `job`; raises RenderError on
        /drumgrid/error and TimeoutError when `timeout` passes first."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        done: list[Done] = []
        notices: list[str] = []
        while len(done) < takes:
            reply = self.wait_for(
                lambda r: r.job == job and r.address in (p.DONE, p.ERROR, p.PROGRESS, p.NOTICE),
                max(deadline - time.monotonic(), 0.0),
            )
            if reply.address == p.ERROR:
                raise RenderError(job, str(reply.args[1]), str(reply.args[2]))
            if reply.address == p.NOTICE:
                notices.append(str(reply.args[1]))
                continue
            if reply.address == p.PROGRESS:
                if progress is not None:
                    progress(float(reply.args[1]))
                continue
            path, rate, frames = str(reply.args[1]), int(reply.args[2]), int(reply.args[3])
            done.append(Done(job, path, rate, frames, tuple(notices)))
        return done

    def render_file(
        self,
        midi_path: str,
        job: str | None = None,
        timeout: float | None = None,
        progress: Callable[[float], None] | None = None,
        **options: Any,
    ) -> list[Done]:
        job = self.submit_file(midi_path, job, **options)
        return self.wait(job, int(options.get("variations") or 1), timeout, progress)

    def render_clip(
        self,
        notes: Sequence[tuple[int, float, float, float]],
        tempo: float,
        length_beats: float,
        signature: tuple[int, int] = (4, 4),
        job: str | None = None,
        timeout: float | None = None,
        progress: Callable[[float], None] | None = None,
        **options: Any,
    ) -> list[Done]:
        job = self.submit_clip(notes, tempo, length_beats, signature, job, **options)
        return self.wait(job, int(options.get("variations") or 1), timeout, progress)
