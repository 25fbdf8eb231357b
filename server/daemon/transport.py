"""The daemon's sockets: one network thread reads UDP datagrams and TCP streams (selectors,
timed waits so that shutdown is noticed) and hands each OSC packet to a callback; one outbox
thread writes every reply, so neither the network thread nor the render worker ever blocks
on a slow client.

Where a reply goes (docs/osc.md, "Replies"):
- the request named a reply port (queries, and render / clip/begin's `reply_port` option)
  -> that UDP port of the sender's host;
- the sender's host subscribed a UDP port over the same transport -> that port;
- else a UDP request -> back to the datagram's source address;
- else a TCP request -> on its connection (dropped, and logged, once it has closed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import queue
import selectors
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from drumgrid.bridge.framing import Deframer, FramingError, frame
from drumgrid.bridge.protocol import MAX_DATAGRAM

log = logging.getLogger("drumgrid.serve")

POLL_S = 0.1  # how often blocked threads look at the stop flag
MAX_CONNECTIONS = 64
TCP_SEND_TIMEOUT_S = 2.0
OUTBOX_LIMIT = 10_000  # replies waiting to be written; beyond it progress replies are dropped


@dataclass(eq=False)
class Connection:
    sock: socket.socket
    peer: tuple[str, int]
    deframer: Deframer = field(default_factory=Deframer)
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Route:
    """Who sent a request, and so where its replies go."""

    transport: str  # "udp" | "tcp"
    host: str
    port: int
    conn: Connection | None = None
    reply_port: int | None = None  # the request asked for replies on this UDP port

    def replying_to(self, port: int | None) -> Route:
        return self if port is None else dataclasses.replace(self, reply_port=port)

    def __str__(self) -> str:
        where = f"{self.transport}://{self.host}:{self.port}"
        return where if self.reply_port is None else f"{where} (replies to UDP {self.reply_port})"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class Transport:
    def __init__(
        self,
        host: str,
        udp_port: int,
        tcp_port: int | None,
        on_packet: Callable[[bytes, Route], None],
        on_idle: Callable[[], None] = lambda: None,
    ) -> None:
        self.on_packet, self.on_idle = on_packet, on_idle
        self.udp = socket.socket(_family(host), socket.SOCK_DGRAM)
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.udp.bind((host, udp_port))
        self.udp.setblocking(False)  # drained after select; a full send buffer drops a reply
        self.tcp: socket.socket | None = None
        if tcp_port is not None:
            self.tcp = socket.create_server((host, tcp_port), family=_family(host), backlog=16)
        self.subscriptions: dict[tuple[str, str], int] = {}  # (transport, host) -> UDP port
        self.connections: set[Connection] = set()
        self._stop = threading.Event()
        self._outbox: queue.Queue[tuple[Route, bytes, bool] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []

    @property
    def udp_port(self) -> int:
        return int(self.udp.getsockname()[1])

    @property
    def tcp_port(self) -> int | None:
        return None if self.tcp is None else int(self.tcp.getsockname()[1])

    def start(self, on_tick: Callable[[], None] = lambda: None) -> None:
        self._on_tick = on_tick
        for name, target in (("drumgrid-osc", self._network), ("drumgrid-outbox", self._writer)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop_reading(self) -> None:
        """Stop the network thread (no new requests); replies can still be sent."""
        self._stop.set()
        self._threads[0].join(timeout=5)

    def close(self, flush_timeout: float = 5.0) -> None:
        """Write the replies still queued, then close every socket."""
        self._outbox.put(None)
        self._threads[1].join(timeout=flush_timeout)
        for conn in list(self.connections):
            self._close_conn(conn)
        if self.tcp is not None:
            self.tcp.close()
        self.udp.close()

    # -- replies -----------------------------------------------------------------------------

    def reply(self, route: Route, packet: bytes, droppable: bool = False) -> None:
        """Queue a reply (thread-safe, never blocks). Droppable replies (progress) are the
        first to go when the outbox is backed up."""
        if droppable and self._outbox.qsize() > OUTBOX_LIMIT:
            return
        self._outbox.put((route, packet, droppable))

    def subscribe(self, route: Route, port: int) -> None:
        key = (route.transport, route.host)
        if port == 0:
            self.subscriptions.pop(key, None)
        else:
            self.subscriptions[key] = port

    def _writer(self) -> None:
        while True:
            try:
                item = self._outbox.get(timeout=POLL_S)
            except queue.Empty:
                self._on_tick()
                continue
            if item is None:
                return
            route, packet, _ = item
            try:
                self._deliver(route, packet)
            except OSError as exc:
                log.info("reply to %s not delivered: %s", route, exc)
            self._on_tick()

    def _deliver(self, route: Route, packet: bytes) -> None:
        port = route.reply_port or self.subscriptions.get((route.transport, route.host))
        if port is not None:
            self.udp.sendto(packet, (route.host, port))
        elif route.transport == "udp":
            self.udp.sendto(packet, (route.host, route.port))
        else:
            conn = route.conn
            assert conn is not None
            if conn.closed:
                log.info("reply to %s dropped: the connection has closed", route)
                return
            with conn.lock:
                conn.sock.sendall(frame(packet))

    # -- requests ----------------------------------------------------------------------------

    def _network(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.udp, selectors.EVENT_READ, "udp")
        if self.tcp is not None:
            sel.register(self.tcp, selectors.EVENT_READ, "listen")
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=POLL_S):
                    try:
                        if key.data == "udp":
                            self._read_udp()
                        elif key.data == "listen":
                            self._accept(sel)
                        else:
                            self._read_tcp(sel, key.data)
                    except Exception:  # a bug here must not end the thread that serves
                        log.exception("network thread: unexpected error (the daemon goes on)")
                self.on_idle()
        finally:
            sel.close()

    def _read_udp(self) -> None:
        for _ in range(256):  # drain what has arrived, bounded so TCP gets its turn
            try:
                data, addr = self.udp.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP port unreachable echoed back on some systems
                log.debug("udp receive: %s", exc)
                return
            self.on_packet(data, Route("udp", addr[0], addr[1]))

    def _accept(self, sel: selectors.BaseSelector) -> None:
        try:
            sock, addr = self.tcp.accept()  # type: ignore[union-attr]
        except OSError:
            return
        if len(self.connections) >= MAX_CONNECTIONS:
            log.warning("tcp connection from %s:%s refused: %d open", *addr[:2], MAX_CONNECTIONS)
            sock.close()
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(TCP_SEND_TIMEOUT_S)  # for sendall in the outbox; reads are selected
        conn = Connection(sock, (addr[0], addr[1]))
        self.connections.add(conn)
        sel.register(sock, selectors.EVENT_READ, conn)

    def _read_tcp(self, sel: selectors.BaseSelector, conn: Connection) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError, TimeoutError):
            return
        except OSError:
            data = b""
        route = Route("tcp", conn.peer[0], conn.peer[1], conn)
        try:
            packets = conn.deframer.feed(data) if data else []
        except FramingError as exc:
            log.warning("tcp %s: %s; closing the connection", route, exc)
            self.on_packet(b"", route)  # answered as a malformed packet before closing
            packets, data = [], b""
        if not data:
            if conn.deframer.pending:
                log.info(
                    "tcp %s closed with %d bytes of a partial packet", route, conn.deframer.pending
                )
            conn.closed = True  # before handling, so replies go to a subscription, if any
        for packet in packets:
            self.on_packet(packet, route)
        if not data:
            sel.unregister(conn.sock)
            self._close_conn(conn)

    def _close_conn(self, conn: Connection) -> None:
        conn.closed = True
        self.connections.discard(conn)
        with conn.lock, contextlib.suppress(OSError):
            conn.sock.close()


assert MAX_DATAGRAM <= 65536
