"""The daemon's sockets: one network thread reads UDP datagrams and TCP streams (selectors,
timed waits so that shutdown is noticed) and hands each OSC packet to a callback; one outbox
thread writes every reply without ever waiting on a peer, so neither the network thread nor
the render worker nor another client is held up by a slow one. Requests and replies each wait
in one queue per client, served in turn (fair_queue.py): a client that floods the daemon
waits behind its own traffic, not another's.

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
  MAX_WAITING_BYTES pile up here (written or waiting their turn), is dropped;
- flood: a client's requests and replies wait behind its own, not others'; past
  MAX_WAITING_BYTES of requests waiting, a UDP client's further datagrams are dropped and a
  TCP connection is not read until they are handled (its own sends block); past as many
  replies waiting, a UDP client's further replies are dropped and a TCP connection is
  dropped; a client with PROGRESS_BACKLOG replies waiting gets no progress;
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
import selectors
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from drumgrid.bridge.framing import Deframer, FramingError, frame
from drumgrid.bridge.protocol import MAX_DATAGRAM
from drumgrid.server.daemon.fair_queue import MAX_WAITING_BYTES, Closed, FairQueue
from drumgrid.server.daemon.ratelimit import limited

log = logging.getLogger("drumgrid.serve")

POLL_S = 0.1  # how often blocked threads look at the stop flag
MAX_CONNECTIONS = 64
IDLE_S = 300.0  # a TCP connection with no job open and nothing received for this long closes
STALL_S = 10.0  # a TCP peer that takes none of its replies for this long is dropped
SUBSCRIPTION_S = 600.0  # a subscription lasts this long unless renewed
FLUSH_EVERY_S = 0.01  # how often stalled connections are offered their backlog again
SERVE_SLICE_S = 0.02  # requests handled, in turn, between two looks at the sockets
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
    dropped: bool = False  # by us: its requests not yet handled never will be


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


def _client(route: Route) -> Hashable:
    """Whose queue a reply waits in: the connection, or the UDP sender's address."""
    return route.conn if route.conn is not None else (route.host, route.port)


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
        self._inbox: FairQueue[tuple[bytes, Route]] = FairQueue()  # the network thread's own
        self._paused: set[Connection] = set()  # not read until their requests are handled
        self._outbox: FairQueue[tuple[Route, bytes]] = FairQueue()
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
        self._outbox.close()
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
        first to go when the client's replies back up."""
        if self._outbox.put(_client(route), (route, packet), len(packet) + 4, droppable):
            return
        if droppable:
            return
        if route.conn is None:
            limited.info("reply to %s dropped: it asks faster than its replies can be sent", route)
            return
        with route.conn.lock:
            self._drop(route.conn, f"it has not read its replies ({MAX_WAITING_BYTES} bytes)")

    def close_after_replies(self, route: Route) -> None:
        """Close the route's TCP connection once the replies queued before this are written."""
        if route.conn is not None:
            self._outbox.put(_client(route), (route, _CLOSE), 0)

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
        flushed = 0.0
        while True:
            try:
                item = self._outbox.get(timeout=POLL_S)  # None: nothing came, a tick
            except Closed:
                self._flush_all(time.monotonic() + 2.0)
                return
            try:
                if item is not None:
                    route, packet = item[1]
                    try:
                        self._deliver(route, packet)
                    except OSError as exc:
                        limited.info("reply to %s not delivered: %s", route, exc)
                now = time.monotonic()
                if item is None or now - flushed >= FLUSH_EVERY_S:
                    for conn in list(self._stalled):
                        self._flush(conn)
                    flushed = now
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
            dropped = 1 + self._outbox.discard(_client(route))
            limited.info("%d replies to %s dropped: the connection has closed", dropped, route)
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
                if len(conn.pending) > MAX_WAITING_BYTES or now - conn.stalled_since > STALL_S:
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
        """Called with conn.lock held: no more replies; the network thread closes the socket
        when it next reads it."""
        if conn.closed:
            return
        if why:
            limited.warning("tcp %s:%s dropped: %s", *conn.peer[:2], why)
        conn.closed = conn.dropped = True
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
                for key, _ in sel.select(timeout=0 if self._inbox else POLL_S):
                    try:
                        if key.data == "udp":
                            self._read_udp()
                        elif key.data == "listen":
                            self._accept(sel)
                        else:
                            self._read_tcp(sel, key.data)
                    except Exception:  # a bug here must not end the thread that serves
                        log.exception("network thread: unexpected error (the daemon goes on)")
                self._serve(time.monotonic() + SERVE_SLICE_S)
                self._resume(sel)
                self._close_idle(sel)
                self.on_idle()
        finally:
            sel.close()

    def _serve(self, deadline: float) -> None:
        """Handle waiting requests, one client's at a time in turn, until the deadline."""
        while time.monotonic() < deadline:
            got = self._inbox.get(timeout=0)
            if got is None:
                return
            packet, route = got[1]
            if route.conn is not None and route.conn.dropped:
                continue
            try:
                self.on_packet(packet, route)
            except Exception:  # a bug here must not end the thread that serves
                log.exception("request from %s: unexpected error (the daemon goes on)", route)

    def _read_udp(self) -> None:
        for _ in range(256):  # drain what has arrived, bounded so TCP gets its turn
            try:
                data, addr = self.udp.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP port unreachable echoed back on some systems
                log.debug("udp receive: %s", exc)
                return
            route = Route("udp", addr[0], addr[1])
            if not self._inbox.put(_client(route), (data, route), len(data)):
                limited.info("udp %s: a request dropped: it sends faster than it is served", route)

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
        if conn.closed:  # dropped by the outbox thread: nothing more of it is read
            self._unregister(sel, conn)
            return
        if self._inbox.waiting_bytes(conn) >= MAX_WAITING_BYTES:  # TCP makes its sends wait
            sel.unregister(conn.sock)
            self._paused.add(conn)
            return
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
        for packet in packets:  # bytes taken from the stream: queued whatever its backlog
            self._inbox.put(conn, (packet, route), len(packet), bounded=False)
        if not data:
            self._unregister(sel, conn, keep_requests=True)

    def _resume(self, sel: selectors.BaseSelector) -> None:
        """Read paused connections again once half their waiting requests are handled."""
        for conn in list(self._paused):
            if conn.closed:
                self._paused.discard(conn)
                self._unregister(sel, conn)
            elif self._inbox.waiting_bytes(conn) < MAX_WAITING_BYTES // 2:
                self._paused.discard(conn)
                sel.register(conn.sock, selectors.EVENT_READ, conn)

    def _unregister(
        self, sel: selectors.BaseSelector, conn: Connection, keep_requests: bool = False
    ) -> None:
        """Close a connection; its waiting requests are still handled only after an end of
        stream (a client may send a request and close, its replies going to a subscription)."""
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(conn.sock)
        self._paused.discard(conn)
        if not keep_requests:
            self._inbox.discard(conn)
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
