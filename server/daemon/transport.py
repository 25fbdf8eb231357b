"""The daemon's sockets: one network thread reads UDP datagrams and TCP streams (selectors,
timed waits so that shutdown is noticed) and hands each OSC packet to a callback; one outbox
thread writes every reply without ever waiting on a peer, so neither the network thread nor
the render worker nor another client is held up by a slow one.

Where a reply goes (docs/osc.md, "Replies"):
- the request named a reply port (queries, and render / clip/begin's `reply_port` option)
  -> that UDP port of the sender's host;
- the sender's host subscribed a UDP port over the same transport (and the subscription has
  neither expired nor been refused by the host) -> that port;
- else a UDP request -> back to the datagram's source address;
- else a TCP request -> on its connection (dropped, and logged, once it has closed).

What a peer cannot do to the others:
- stop reading: TCP replies queue per connection and are written when the socket takes
  them; a connection whose peer takes none of its replies for STALL_S (counting the bytes the
  kernel holds for it, not only ours: loopback buffers grow to megabytes), or that lets
  MAX_PENDING_BYTES pile up here, is dropped;
- hold every connection: at MAX_CONNECTIONS a newcomer takes the place of a connection with
  no job open, one that never sent a packet first, else the one quiet longest; connections
  quiet for IDLE_S close;
- subscribe a port nobody listens on: replies to a subscription go through a socket
  connected to it, so the host's "port unreachable" ends the subscription; every
  subscription expires after SUBSCRIPTION_S unless renewed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import queue
import selectors
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drumgrid.bridge.framing import Deframer, FramingError, frame
from drumgrid.bridge.protocol import MAX_DATAGRAM
from drumgrid.server.daemon.ratelimit import limited

log = logging.getLogger("drumgrid.serve")

POLL_S = 0.1  # how often blocked threads look at the stop flag
MAX_CONNECTIONS = 64
IDLE_S = 300.0  # a TCP connection with no job open and nothing received for this long closes
STALL_S = 10.0  # a TCP peer that takes none of its replies for this long is dropped ...
MAX_PENDING_BYTES = 1 << 20  # ... as is one with this much unread
SUBSCRIPTION_S = 600.0  # a subscription lasts this long unless renewed
OUTBOX_LIMIT = 10_000  # replies waiting to be written; beyond it progress replies are dropped
_SO_NWRITE = 0x1024  # macOS: a socket's unsent bytes (<sys/socket.h>)
_CLOSE = b""  # an outbox marker: close the connection once what is queued before it is sent


@dataclass(eq=False)
class Connection:
    sock: socket.socket
    peer: tuple[str, int]
    deframer: Deframer = field(default_factory=Deframer)
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: bytearray = field(default_factory=bytearray)  # replies not yet in the socket
    written: int = 0  # bytes the socket has taken from `pending`
    taken: int = 0  # of those, the most the peer was last seen to have taken
    stalled_since: float | None = None  # since when the peer has taken none of its backlog
    heard: float = field(default_factory=time.monotonic)  # when it last sent us anything
    packets: int = 0  # how many it has sent
    closing: bool = False  # close once `pending` is written


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


@dataclass(eq=False)
class Subscription:
    port: int
    sock: socket.socket  # connected to (host, port): the host's refusal surfaces as an error
    expires: float


def _unsent(sock: socket.socket) -> int:
    """Bytes written to the socket that its peer has not yet taken (acknowledged), so that a
    peer whose kernel buffers hold all its unread replies is still seen to have stopped; 0
    where the system does not say (then only the replies queued here count)."""
    try:
        if sys.platform.startswith("linux"):
            import fcntl  # Unix only, as is this branch
            import termios

            return struct.unpack("i", fcntl.ioctl(sock, termios.TIOCOUTQ, b"\0" * 4))[0]
        if sys.platform == "darwin":
            return sock.getsockopt(socket.SOL_SOCKET, _SO_NWRITE)
    except OSError:
        pass
    return 0


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
        on_malformed: Callable[[Route, str], None] = lambda route, why: None,
        holds_job: Callable[[Connection], bool] = lambda conn: False,
    ) -> None:
        self.on_packet, self.on_idle, self.on_malformed = on_packet, on_idle, on_malformed
        self.holds_job = holds_job  # does a clip or job of this connection still wait for replies?
        self.udp = socket.socket(_family(host), socket.SOCK_DGRAM)
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.udp.bind((host, udp_port))
        self.udp.setblocking(False)  # drained after select; a full send buffer drops a reply
        self.tcp: socket.socket | None = None
        if tcp_port is not None:
            self.tcp = socket.create_server((host, tcp_port), family=_family(host), backlog=16)
        self.subscriptions: dict[tuple[str, str], Subscription] = {}  # (transport, host) ->
        self._subs_lock = threading.Lock()
        self.connections: set[Connection] = set()
        self._stalled: set[Connection] = set()  # connections with replies still to write
        self._stop = threading.Event()
        self._outbox: queue.Queue[tuple[Route, bytes, bool] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._last_idle_check = 0.0

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
        """Write the replies still queued (for at most flush_timeout), then close every socket."""
        self._outbox.put(None)
        self._threads[1].join(timeout=flush_timeout)
        for conn in list(self.connections):
            self._close_conn(conn)
        for sub in self.subscriptions.values():
            sub.sock.close()
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

    def close_after_replies(self, route: Route) -> None:
        """Close the route's TCP connection once the replies queued before this are written."""
        if route.conn is not None:
            self._outbox.put((route, _CLOSE, False))

    def subscribe(self, route: Route, port: int) -> None:
        """Called by the network thread; the outbox thread may end a subscription meanwhile."""
        key = (route.transport, route.host)
        new = None
        if port:
            sock = socket.socket(_family(route.host), socket.SOCK_DGRAM)
            sock.setblocking(False)
            sock.connect((route.host, port))
            new = Subscription(port, sock, time.monotonic() + SUBSCRIPTION_S)
        with self._subs_lock:
            old = self.subscriptions.pop(key, None)
            if new is not None:
                self.subscriptions[key] = new
        if old is not None:
            old.sock.close()

    def _writer(self) -> None:
        while True:
            item: tuple[Route, bytes, bool] | tuple[()] | None  # (): nothing came, a tick
            try:
                item = self._outbox.get(timeout=POLL_S)
            except queue.Empty:
                item = ()
            if item is None:
                self._flush_all(time.monotonic() + 2.0)
                return
            try:
                if item:
                    route, packet, _ = item
                    try:
                        self._deliver(route, packet)
                    except OSError as exc:
                        limited.info("reply to %s not delivered: %s", route, exc)
                for conn in list(self._stalled):
                    self._flush(conn)
                self._on_tick()
            except Exception:  # a bug here must not end the thread every reply goes through
                log.exception("outbox thread: unexpected error (the daemon goes on)")

    def _deliver(self, route: Route, packet: bytes) -> None:
        if route.reply_port is not None:
            self.udp.sendto(packet, (route.host, route.reply_port))
            return
        if self._to_subscriber(route, packet):
            return
        if route.transport == "udp":
            self.udp.sendto(packet, (route.host, route.port))
            return
        conn = route.conn
        assert conn is not None
        if not packet:  # _CLOSE
            conn.closing = True
        elif conn.closed:
            limited.info("reply to %s dropped: the connection has closed", route)
            return
        else:
            conn.pending += frame(packet)
        self._flush(conn)

    def _to_subscriber(self, route: Route, packet: bytes) -> bool:
        """Send to the host's subscription, if it has one that still holds; False otherwise."""
        key = (route.transport, route.host)
        with self._subs_lock:
            sub = self.subscriptions.get(key)
        if sub is None or not packet:
            return False
        if time.monotonic() > sub.expires:
            limited.info(
                "subscription of %s port %d expired (renew it with subscribe)", *key[1:], sub.port
            )
        else:
            try:
                sub.sock.send(packet)
                return True
            except ConnectionRefusedError:
                limited.info(
                    "subscription of %s port %d ended: nobody listens there", key[1], sub.port
                )
            except BlockingIOError:
                return True  # its buffer is full: the reply is dropped, as UDP may
        with self._subs_lock:
            if self.subscriptions.get(key) is sub:  # not renewed meanwhile
                del self.subscriptions[key]
        sub.sock.close()
        return False

    def _flush(self, conn: Connection) -> None:
        """Write what the peer's socket takes now; drop a peer that has stopped reading."""
        with conn.lock:
            while conn.pending and not conn.closed:
                try:
                    sent = conn.sock.send(conn.pending)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    self._drop(conn, f"send failed ({exc})")
                    break
                del conn.pending[:sent]
                conn.written += sent
            if conn.closed:
                return
            now = time.monotonic()
            unsent = _unsent(conn.sock)
            if conn.pending or unsent:
                taken = conn.written - unsent
                if taken > conn.taken or conn.stalled_since is None:  # it reads: count afresh
                    conn.taken, conn.stalled_since = taken, now
                self._stalled.add(conn)
                if len(conn.pending) > MAX_PENDING_BYTES or now - conn.stalled_since > STALL_S:
                    self._drop(
                        conn,
                        f"it has not read its replies ({len(conn.pending) + unsent} bytes)",
                    )
                return
            conn.stalled_since = None
            self._stalled.discard(conn)
            if conn.closing:
                self._drop(conn, "")

    def _drop(self, conn: Connection, why: str) -> None:
        """Called with conn.lock held: no more replies; the network thread sees the
        shutdown as end of stream and closes the socket."""
        if why:
            limited.warning("tcp %s:%s dropped: %s", *conn.peer[:2], why)
        conn.closed = True
        conn.pending.clear()
        self._stalled.discard(conn)
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)

    def _flush_all(self, deadline: float) -> None:
        while self._stalled and time.monotonic() < deadline:
            for conn in list(self._stalled):
                self._flush(conn)
            time.sleep(0.01)

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
                self._close_idle(sel)
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
        assert self.tcp is not None  # _network registers "listen" only for a TCP socket
        try:
            sock, addr = self.tcp.accept()
        except OSError:
            return
        if len(self.connections) >= MAX_CONNECTIONS and not self._make_room(sel):
            limited.warning(
                "tcp connection from %s:%s refused: %d open, each with a job waiting",
                addr[0], addr[1], MAX_CONNECTIONS,
            )  # fmt: skip
            sock.close()
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)  # reads are selected; writes take what the socket takes
        conn = Connection(sock, (addr[0], addr[1]))
        self.connections.add(conn)
        sel.register(sock, selectors.EVENT_READ, conn)

    def _make_room(self, sel: selectors.BaseSelector) -> bool:
        """Close a connection that has no job waiting on it: one that never sent a packet
        (held, not used) before one that did, then the one quiet the longest."""
        free = [c for c in self.connections if not c.pending and not self.holds_job(c)]
        if not free:
            return False
        quietest = min(free, key=lambda c: (c.packets > 0, c.heard))
        limited.info("tcp %s:%s closed to admit a new client (quiet %.1f s)", *quietest.peer[:2],
                 time.monotonic() - quietest.heard)  # fmt: skip
        self._unregister(sel, quietest)
        return True

    def _close_idle(self, sel: selectors.BaseSelector) -> None:
        now = time.monotonic()
        if now - self._last_idle_check < 1.0:
            return
        self._last_idle_check = now
        for conn in list(self.connections):
            if now - conn.heard > IDLE_S and not conn.pending and not self.holds_job(conn):
                limited.info("tcp %s:%s closed: idle for %.0f s", *conn.peer[:2], now - conn.heard)
                self._unregister(sel, conn)

    def _read_tcp(self, sel: selectors.BaseSelector, conn: Connection) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError, TimeoutError):
            return
        except OSError:
            data = b""
        conn.heard = time.monotonic()
        route = Route("tcp", conn.peer[0], conn.peer[1], conn)
        if conn.closing:  # refused: what follows is not read
            if not data:
                self._unregister(sel, conn)
            return
        try:
            packets = conn.deframer.feed(data) if data else []
        except FramingError as exc:
            limited.warning("tcp %s: %s; closing the connection", route, exc)
            conn.closing = True
            self.on_malformed(route, str(exc))  # answered, then closed once the answer is out
            self.close_after_replies(route)
            return
        if not data:
            if conn.deframer.pending:
                limited.info(
                    "tcp %s closed with %d bytes of a partial packet", route, conn.deframer.pending
                )
            conn.closed = True  # before handling, so replies go to a subscription, if any
        conn.packets += len(packets)
        for packet in packets:
            self.on_packet(packet, route)
        if not data:
            self._unregister(sel, conn)

    def _unregister(self, sel: selectors.BaseSelector, conn: Connection) -> None:
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(conn.sock)
        self._close_conn(conn)

    def _close_conn(self, conn: Connection) -> None:
        self.connections.discard(conn)
        with conn.lock:
            conn.closed = True
            conn.pending.clear()
            self._stalled.discard(conn)
            with contextlib.suppress(OSError):
                conn.sock.close()


assert MAX_DATAGRAM <= 65536
