"""The daemon's fair queues (requests, replies): clients are served in turn, each client's
items in order, and one client's backlog is bounded without touching another's."""

from __future__ import annotations

import threading

import pytest

from drumgrid.server.daemon.fair_queue import MAX_WAITING_BYTES, PROGRESS_BACKLOG, Closed, FairQueue


def drain(queue: FairQueue[str]) -> list[tuple[object, str]]:
    got = []
    while (item := queue.get(timeout=0)) is not None:
        got.append(item)
    return got


def test_a_flooding_client_waits_behind_its_own_replies_only():
    queue: FairQueue[str] = FairQueue()
    for n in range(5000):
        assert queue.put("flood", f"pong {n}", 28)
    assert queue.put("polite", "pong", 28)
    first, second = queue.get(timeout=0), queue.get(timeout=0)
    assert first == ("flood", "pong 0")
    assert second == ("polite", "pong")  # second out, not 5001st
    rest = drain(queue)
    assert [item for _, item in rest] == [f"pong {n}" for n in range(1, 5000)]  # order kept


def test_clients_take_turns_one_reply_each():
    queue: FairQueue[str] = FairQueue()
    for n in range(3):
        for client in ("a", "b", "c"):
            queue.put(client, f"{client}{n}", 10)
    assert [item for _, item in drain(queue)] == [
        "a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2",
    ]  # fmt: skip


def test_a_clients_backlog_is_bounded_in_bytes_and_progress_goes_first():
    queue: FairQueue[str] = FairQueue()
    size = 1000
    fits = MAX_WAITING_BYTES // size
    assert all(queue.put("flood", "reply", size) for _ in range(fits))
    assert not queue.put("flood", "reply", size)  # over its bound: refused
    assert queue.put("other", "reply", size)  # another client is untouched
    assert queue.put("flood", "close", 0)  # a zero-size marker always fits
    queue.get(timeout=0)
    assert queue.put("flood", "reply", size)  # one went out: room for one
    assert queue.put("flood", "stream bytes", size, bounded=False)  # a TCP read: always taken
    assert queue.waiting_bytes("flood") == (fits + 1) * size > MAX_WAITING_BYTES
    assert queue.waiting_bytes("nobody") == 0

    progress: FairQueue[str] = FairQueue()
    for _ in range(PROGRESS_BACKLOG):
        assert progress.put("busy", "done", 10)
    assert not progress.put("busy", "progress", 10, droppable=True)
    assert progress.put("busy", "done", 10)  # a reply that is not progress still queues
    assert progress.put("idle", "progress", 10, droppable=True)


def test_discard_forgets_one_client_and_its_turn():
    queue: FairQueue[str] = FairQueue()
    for n in range(3):
        queue.put("gone", f"g{n}", 10)
        queue.put("here", f"h{n}", 10)
    assert queue.discard("gone") == 3
    assert queue.discard("gone") == 0
    assert [item for _, item in drain(queue)] == ["h0", "h1", "h2"]
    assert len(queue) == 0


def test_close_hands_out_what_is_queued_then_raises():
    queue: FairQueue[str] = FairQueue()
    queue.put("a", "last words", 10)
    queue.close()
    assert queue.get(timeout=1) == ("a", "last words")
    with pytest.raises(Closed):
        queue.get(timeout=1)


def test_get_waits_for_a_put_from_another_thread():
    queue: FairQueue[str] = FairQueue()
    assert queue.get(timeout=0.05) is None
    timer = threading.Timer(0.05, lambda: queue.put("late", "reply", 10))
    timer.start()
    assert queue.get(timeout=5) == ("late", "reply")
    timer.join()
