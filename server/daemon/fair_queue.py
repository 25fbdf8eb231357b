"""One queue per client, served in turn: the daemon's requests (network thread) and replies
(outbox thread) each wait in one, so a client that floods the daemon waits behind its own
traffic, never another client's (a single FIFO let 160 frames of pings from one TCP peer hold
every other ping for seconds).

A client is whoever sent the request (a TCP connection, a UDP source address); its items
keep their order, items of different clients need none. Each client may have
MAX_WAITING_BYTES waiting: beyond that put() refuses, and the caller decides what a refusal
means (a UDP datagram dropped, a TCP connection no longer read, or dropped).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

MAX_WAITING_BYTES = 1 << 20  # one client's items not yet handled (the TCP pending bound too)
PROGRESS_BACKLOG = 1_000  # a client with this many items waiting takes no droppable one

Item = TypeVar("Item")


class Closed(Exception):
    """get() after close(), once every queued item has been taken."""


class FairQueue(Generic[Item]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queues: dict[Hashable, deque[tuple[Item, int]]] = {}
        self._bytes: dict[Hashable, int] = {}
        self._turns: deque[Hashable] = deque()  # clients with items waiting, next first
        self._closed = False

    def put(
        self, client: Hashable, item: Item, size: int, droppable: bool = False, bounded: bool = True
    ) -> bool:
        """Queue an item of `size` bytes; False (not queued) when the client's backlog is full,
        or, for a droppable item (progress), already long. `bounded=False` always queues
        (bytes already taken from a TCP stream cannot be given back)."""
        with self._cond:
            waiting = self._queues.get(client)
            held = self._bytes.get(client, 0)
            if waiting is not None and (
                (bounded and held + size > MAX_WAITING_BYTES)
                or (droppable and len(waiting) >= PROGRESS_BACKLOG)
            ):
                return False
            if waiting is None:
                waiting = self._queues[client] = deque()
                self._turns.append(client)
            waiting.append((item, size))
            self._bytes[client] = held + size
            self._cond.notify()
            return True

    def get(self, timeout: float) -> tuple[Hashable, Item] | None:
        """The next client's oldest item; None when none came within timeout; Closed once
        close() was called and nothing is left."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._turns:
                if self._closed:
                    raise Closed
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            client = self._turns.popleft()
            waiting = self._queues[client]
            item, size = waiting.popleft()
            self._bytes[client] -= size
            if waiting:
                self._turns.append(client)
            else:
                del self._queues[client], self._bytes[client]
            return client, item

    def waiting_bytes(self, client: Hashable) -> int:
        with self._cond:
            return self._bytes.get(client, 0)

    def discard(self, client: Hashable) -> int:
        """Forget a client's waiting items (its connection has gone); how many there were."""
        with self._cond:
            waiting = self._queues.pop(client, None)
            if waiting is None:
                return 0
            del self._bytes[client]
            self._turns.remove(client)
            return len(waiting)

    def close(self) -> None:
        """get() hands out what is queued, then raises Closed."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._queues.values())

    def __bool__(self) -> bool:
        with self._cond:
            return bool(self._turns)
