"""The daemon under hostile and unlucky clients (loopback only, bounded in count and time):
each case asserts that nothing is lost and that a well-behaved client is still served within
seconds. `test_soak` (slow) runs them all at once for DRUMGRID_SOAK_S seconds and prints the
figures docs/reliability.md reports."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from factories import make_midi

from drumgrid.bridge import Client, RenderError
from drumgrid.bridge import protocol as p
from drumgrid.bridge.framing import Deframer, frame
from drumgrid.server.daemon import transport as t

HOST = "127.0.0.1"
NOTES = [(36, 0.0, 0.25, 110.0), (42, 0.5, 0.25, 80.0), (38, 1.0, 0.25, 100.0)]
# A well-behaved client's ping is answered within this, whatever the others do: a stall shows
# as the client's TimeoutError (a deadline on the property itself, not a speed assertion).
SERVED_WITHIN_S = 3.0
TERMINAL = (p.DONE, p.ERROR)


def bundle(*messages: bytes) -> bytes:
    return b"#bundle\0" + b"\0" * 8 + b"".join(struct.pack(">i", len(m)) + m for m in messages)


def udp_socket(timeout: float = 0.2) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    sock.settimeout(timeout)
    return sock


def replies(sock: socket.socket, seconds: float, until=None) -> list[tuple[str, list]]:
    """Every reply that reaches a UDP socket within `seconds` (or, with `until`, until
    until(replies) holds, and 0.5 s more for any that should not come)."""
    got, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            got += p.parse_packet(sock.recv(65536))
        if until is not None and until(got):
            deadline, until = min(deadline, time.monotonic() + 0.5), None
    return got


def unsubscribe(daemon, sock: socket.socket) -> None:
    """End the host's subscription and wait until the daemon has (the next test's own)."""
    sock.sendto(p.encode(p.SUBSCRIBE, [0]), (HOST, daemon.udp_port))
    replies(sock, 5.0, lambda got: any(a == p.SUBSCRIBED for a, _ in got))


def well_behaved(daemon, render: bool = True) -> float:
    """A new client pings over UDP and TCP (each answered within SERVED_WITHIN_S, or the
    client raises TimeoutError), and renders a clip: the longest wait, in s, for the log."""
    waits = []
    for transport, port in (("udp", daemon.udp_port), ("tcp", daemon.tcp_port)):
        start = time.monotonic()
        with Client(HOST, port, transport, timeout=SERVED_WITHIN_S) as c:
            c.ping(timeout=SERVED_WITHIN_S)
            waits.append(time.monotonic() - start)
            if render and transport == "tcp":
                (take,) = c.render_clip(NOTES, 120.0, 2.0, decoding="parallel", timeout=60)
                assert Path(take.path).is_file()
    return max(waits)


# -- 1. a TCP client that stops reading --------------------------------------------------------


def test_a_client_that_stops_reading_stalls_nobody(daemon, caplog):
    caplog.set_level(logging.INFO, logger="drumgrid.serve")
    hostile = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hostile.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hostile.connect((HOST, daemon.tcp_port))
    hostile.settimeout(1.0)  # a send the daemon does not take is retried, never waited out
    local = hostile.getsockname()
    pings = bundle(*[p.encode(p.PING)] * 1024)

    def still_served() -> bool:
        return any(c.peer == local and not c.closed for c in list(daemon.transport.connections))

    def ask(times: int) -> bool:
        """Send `times` bundles of pings; False once the daemon has shut the connection."""
        for _ in range(times):
            try:
                hostile.sendall(frame(pings))
            except TimeoutError:  # its receive buffer is full: it reads as it can
                continue
            except OSError:
                return False
        return True

    try:
        ask(160)  # 163,840 pongs (4.6 MB) it will never read
        for i in range(12):
            well_behaved(daemon, render=i == 0)
        # Loopback buffers can grow to hold megabytes, so the hostile keeps asking until its
        # unread replies outgrow any kernel buffer (or it has been stalled STALL_S).
        deadline = time.monotonic() + t.STALL_S + 20
        while time.monotonic() < deadline and still_served() and ask(1):
            time.sleep(0.05)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and "has not read its replies" not in caplog.text:
            time.sleep(0.05)
        assert not still_served()  # dropped, not waited on
        assert "has not read its replies" in caplog.text
    finally:
        hostile.close()


def test_a_flood_of_requests_delays_only_its_own_replies(daemon):
    """A UDP client sends bundles of pings as fast as it can and reads none of the pongs;
    meanwhile new clients are answered within SERVED_WITHIN_S: its replies wait behind its
    own (a single queue held every other reply behind up to 160,000 of a flood's)."""
    flooder = udp_socket()
    flooder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    pings = bundle(*[p.encode(p.PING)] * 1024)
    stop, sent = threading.Event(), [0]

    def flood() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):  # the daemon's receive buffer is full
                flooder.sendto(pings, (HOST, daemon.udp_port))
                sent[0] += 1

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        for i in range(6):
            well_behaved(daemon, render=i == 0)
        assert sent[0] >= 100  # the flood ran throughout (each bundle asks for 1,024 pongs)
    finally:
        stop.set()
        thread.join()
        flooder.close()


@contextlib.contextmanager
def pong_server(monkeypatch, stall_s: float):
    """A bare Transport that answers each ping with a pong, STALL_S shortened."""
    monkeypatch.setattr(t, "STALL_S", stall_s)
    transport: t.Transport

    def on_packet(data: bytes, route: t.Route) -> None:
        for address, _ in p.parse_packet(data):
            if address == p.PING:
                transport.reply(route, p.encode(p.PONG))

    transport = t.Transport(HOST, 0, 0, on_packet)
    transport.start()
    try:
        yield transport
    finally:
        transport.stop_reading()
        transport.close()


def test_a_peer_whose_kernel_holds_every_unread_reply_is_dropped(monkeypatch, caplog):
    """The daemon's own queue is empty (the socket took every reply), yet the peer reads
    nothing: the bytes its kernel holds count, so the stall is seen (and only then)."""
    caplog.set_level(logging.INFO, logger="drumgrid.serve")
    with pong_server(monkeypatch, stall_s=1.0) as server:
        peer = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.connect((HOST, server.tcp_port))
        local = peer.getsockname()
        peer.sendall(frame(bundle(*[p.encode(p.PING)] * 512)))  # ~12 KB of pongs: a few fit
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            c.peer == local and c.written for c in list(server.connections)
        ):
            time.sleep(0.02)
        (conn,) = [c for c in server.connections if c.peer == local]
        while time.monotonic() < deadline and conn.pending:
            time.sleep(0.02)
        assert not conn.pending and not conn.closed  # all in kernel buffers, not yet dropped
        while time.monotonic() < deadline and not conn.closed:
            time.sleep(0.05)
        assert conn.closed
        assert "has not read its replies" in caplog.text
        peer.close()


def test_a_peer_that_reads_slowly_is_not_dropped(monkeypatch):
    with pong_server(monkeypatch, stall_s=1.0) as server:
        peer = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.connect((HOST, server.tcp_port))
        peer.sendall(frame(bundle(*[p.encode(p.PING)] * 1024)))
        deframer, pongs = Deframer(), 0
        peer.settimeout(2.0)
        while pongs < 1024:  # 1 KB every 0.3 s: far slower than the replies, never stopped
            data = peer.recv(1024)
            assert data, "dropped while it was reading"
            pongs += len(deframer.feed(data))
            time.sleep(0.3 if pongs < 256 else 0)
        peer.close()


# -- 3. subscriptions to a port nobody listens on; expiry --------------------------------------


def test_a_dead_subscription_swallows_nothing(daemon):
    dead = udp_socket()
    dead_port = dead.getsockname()[1]
    dead.close()
    sender = udp_socket()
    sender.sendto(p.encode(p.SUBSCRIBE, [dead_port]), (HOST, daemon.udp_port))
    try:
        well_behaved(daemon)  # the client names its own reply port
        # a plain OSC client (no reply port, as oscsend) retries: answered once the host's
        # "port unreachable" has ended the subscription
        start = time.monotonic()
        while time.monotonic() - start < SERVED_WITHIN_S:
            sender.sendto(p.encode(p.PING), (HOST, daemon.udp_port))
            if any(a == p.PONG for a, _ in replies(sender, 0.3)):
                break
        else:
            pytest.fail("a plain client was never answered")
        assert ("udp", HOST) not in daemon.transport.subscriptions
    finally:
        unsubscribe(daemon, sender)
        sender.close()


def test_subscriptions_expire_unless_renewed(daemon, monkeypatch):
    monkeypatch.setattr(t, "SUBSCRIPTION_S", 1.0)
    listener, sender = udp_socket(), udp_socket()
    has = lambda address: lambda got: any(a == address for a, _ in got)  # noqa: E731
    try:
        sender.sendto(p.encode(p.SUBSCRIBE, [listener.getsockname()[1]]), (HOST, daemon.udp_port))
        assert has(p.SUBSCRIBED)(replies(listener, 5.0, has(p.SUBSCRIBED)))
        subscribed = time.monotonic()
        sender.sendto(p.encode(p.PING), (HOST, daemon.udp_port))
        assert has(p.PONG)(replies(listener, 5.0, has(p.PONG)))  # to the subscriber
        time.sleep(max(0.0, subscribed + 1.2 - time.monotonic()))
        sender.sendto(p.encode(p.PING), (HOST, daemon.udp_port))
        assert has(p.PONG)(replies(sender, 5.0, has(p.PONG)))  # expired: back to the sender
    finally:
        unsubscribe(daemon, sender)
        listener.close()
        sender.close()


# -- 4. connections held open ------------------------------------------------------------------


def test_64_idle_connections_do_not_lock_out_a_new_client(daemon):
    held = [socket.create_connection((HOST, daemon.tcp_port)) for _ in range(t.MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)
        well_behaved(daemon)
        assert len(daemon.transport.connections) <= t.MAX_CONNECTIONS
    finally:
        for sock in held:
            sock.close()


def test_idle_connections_close(daemon, monkeypatch):
    monkeypatch.setattr(t, "IDLE_S", 0.3)
    sock = socket.create_connection((HOST, daemon.tcp_port))
    sock.settimeout(5)
    try:
        assert sock.recv(1) == b""  # the daemon closed it
    finally:
        sock.close()


# -- 7. floods: one datagram, many refusals or log lines ---------------------------------------


def test_one_datagram_draws_a_bounded_answer_and_log(daemon, caplog):
    sock = udp_socket()
    try:
        with caplog.at_level(logging.DEBUG):
            unknown_tags = b"/drumgrid/ping\0\0" + b"," + b"Q" * 60_000 + b"\0" * 3
            sock.sendto(unknown_tags, (HOST, daemon.udp_port))
            junk = bundle(*[p.encode("/x", [i]) for i in range(1024)])  # 12 KB, 1024 refusals
            assert 12_000 < len(junk) < 65_000
            sock.sendto(junk, (HOST, daemon.udp_port))
            got = replies(sock, 1.0)
        assert all(a == p.ERROR for a, _ in got)
        assert len(got) == 1 + p_refusals() + 1, got  # one, then 8 and "N more unsent"
        assert "1016 more messages of this packet dropped unread" in got[-1][1][2]
        assert len(caplog.records) <= 25, len(caplog.records)
    finally:
        sock.close()


def p_refusals() -> int:
    from drumgrid.server.daemon.ratelimit import MAX_REFUSALS_PER_PACKET

    return MAX_REFUSALS_PER_PACKET


# -- 8. one ending per job, whatever the requests ----------------------------------------------


def endings(got: list[tuple[str, list]], job: str) -> list[tuple[str, list]]:
    return [(a, args) for a, args in got if a in (p.DONE, p.ERROR) and args and args[0] == job]


def test_each_job_gets_exactly_one_ending(engine, tmp_path):
    from drumgrid.server.daemon import Daemon, DaemonConfig

    daemon = Daemon(engine, DaemonConfig(udp_port=0, tcp_port=0, render_dir=tmp_path, max_queue=1))
    daemon.start()
    sock = udp_socket()
    send = lambda m: sock.sendto(m, (HOST, daemon.udp_port))  # noqa: E731
    try:
        long = [(36, float(b), 0.25, 100.0) for b in range(64)]
        for job, notes, length in (("a", long, 64.0), ("b", NOTES, 2.0), ("c", NOTES, 2.0)):
            send(p.clip_begin_message(job, 120.0, length))
            for m in p.clip_notes_messages(job, notes):
                send(m)
            send(p.clip_end_message(job, len(notes)))
            time.sleep(0.05)
        send(p.render_message("a", "/nowhere.mid"))  # a's id is live: refused, not a's ending
        send(p.encode(p.CANCEL, ["c"]))  # c ended busy: this cancel ends nothing
        send(p.clip_notes_messages("b", NOTES)[0])  # b's clip has ended: nothing to add to
        send(p.clip_end_message("lost", 5))  # never begun
        send(p.clip_begin_message("d", 120.0, 2.0))
        send(p.clip_notes_messages("d", NOTES)[0])
        send(p.clip_end_message("d", 500))  # 497 notes lost on the way
        got = replies(sock, 60.0, lambda got: all(endings(got, j) for j in "abcd"))
        assert [a for a, _ in endings(got, "a")] == [p.DONE]
        assert [a for a, _ in endings(got, "b")] == [p.DONE]
        assert [(a, args[1]) for a, args in endings(got, "c")] == [(p.ERROR, "busy")]
        (d,) = endings(got, "d")
        assert d[1][1] == "bad_request" and "3 of its 500 notes arrived" in d[1][2]
        unattached = [args[2] for a, args in got if a == p.ERROR and args[0] == ""]
        assert len(unattached) == 4, unattached
        assert any("'a'" in m and "already in use" in m for m in unattached)
    finally:
        sock.close()
        daemon.stop()


# -- 11. framing and packets that used to get no answer ----------------------------------------


def test_an_oversized_frame_is_answered_before_the_close(daemon):
    for _ in range(60):
        with socket.create_connection((HOST, daemon.tcp_port), timeout=5) as sock:
            sock.sendall(struct.pack(">I", 2 << 20) + b"x" * 1000)
            data = b""
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(65536):
                    data += chunk
        (packet,) = Deframer().feed(data)
        ((address, args),) = p.parse_packet(packet)
        assert address == p.ERROR and "2097152 bytes" in args[2], args


def test_a_bundle_with_a_foreign_element_is_answered(daemon):
    sock = udp_socket()
    try:
        sock.sendto(bundle(p.encode(p.PING), b"junk"), (HOST, daemon.udp_port))
        ((address, args),) = replies(sock, 0.5)
        assert address == p.ERROR and "bundle element 1" in args[2]
    finally:
        sock.close()


# -- 6. the input folder: checked where it is opened -------------------------------------------


def test_a_file_swapped_for_a_link_while_queued_is_not_read(engine, tmp_path):
    from drumgrid.server.daemon import Daemon, DaemonConfig

    inputs, secret = tmp_path / "in", tmp_path / "secret"
    inputs.mkdir()
    secret.mkdir()
    groove = [(i * 240, 42, 80, i * 240 + 60) for i in range(16)]
    make_midi(inputs / "a.mid", groove)
    make_midi(secret / "a.mid", [(0, 36, 127, 60)])  # what the swap would point at
    config = DaemonConfig(
        udp_port=0, tcp_port=0, render_dir=tmp_path / "r", input_dir=inputs, max_queue=4
    )
    daemon = Daemon(engine, config).start()
    try:
        with Client(HOST, daemon.tcp_port, timeout=60) as c:
            long = c.submit_clip([(36, float(b), 0.25, 100.0) for b in range(64)], 120.0, 64.0)
            job = c.submit_file("a.mid", decoding="parallel")
            c.wait_for(lambda r: r.address == p.ACCEPTED and r.job == job, 10)
            (inputs / "a.mid").unlink()
            (inputs / "a.mid").symlink_to(secret / "a.mid")  # swapped while queued
            c.wait(long)
            (take,) = c.wait(job)
        import soundfile as sf

        from drumgrid.server.midi_io import read_midi

        # rendered from the file as it was when the request came (16 hats), not the link's
        original = read_midi(make_midi(tmp_path / "copy.mid", groove)).length_s
        assert abs(sf.info(take.path).duration - (original + engine.tail_s)) < 0.01
    finally:
        daemon.stop()


# -- the soak: everything at once, with figures ------------------------------------------------


class ServeProcess:
    """`drumgrid serve` in its own process (the clients then do not share its interpreter),
    on free loopback ports; its peak memory is read from /proc."""

    def __init__(self, model_dir: Path, render_dir: Path) -> None:
        cmd = [sys.executable, "-m", "drumgrid.training.cli", "serve", "--model", str(model_dir),
               "--device", "cpu", "--port", "0", "--tcp-port", "0", "--render-dir",
               str(render_dir), "--max-queue", "16"]  # fmt: skip
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
        )
        assert self.proc.stderr is not None
        self.log: list[str] = []
        for line in self.proc.stderr:
            self.log.append(line)
            if "ready on" in line:
                break
        else:
            raise RuntimeError("drumgrid serve did not start:\n" + "".join(self.log))
        words = line.replace(",", "").split()
        self.udp_port, self.tcp_port = int(words[-3]), int(words[-1])
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1]) / 1024

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.mark.slow
def test_soak(engine, tmp_path, capsys):
    """DRUMGRID_SOAK_S seconds (default 20) of well-behaved clients rendering and pinging
    while hostile ones flood, hoard connections, stop reading and subscribe dead ports,
    against a `drumgrid serve` process."""
    seconds = float(os.environ.get("DRUMGRID_SOAK_S", "20"))
    daemon = ServeProcess(engine.model_dir, tmp_path / "renders")
    stop = threading.Event()
    stats = {"datagrams": 0, "connections": 0, "jobs": 0, "pings": 0, "max_wait_s": 0.0}
    endings_seen: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def hostile_udp() -> None:
        sock = udp_socket()
        junk = [b"\0" * 64, b"/x\0\0,Q\0\0", bundle(*[p.encode("/x")] * 300), os.urandom(2000)]
        while not stop.is_set():
            for data in junk:
                sock.sendto(data, (HOST, daemon.udp_port))
                with lock:
                    stats["datagrams"] += 1
            sock.sendto(p.encode(p.SUBSCRIBE, [1]), (HOST, daemon.udp_port))  # a dead port
            time.sleep(0.01)
        sock.close()

    def hostile_tcp() -> None:
        while not stop.is_set():
            held = []
            for _ in range(t.MAX_CONNECTIONS):
                with contextlib.suppress(OSError):
                    held.append(socket.create_connection((HOST, daemon.tcp_port), timeout=2))
            with contextlib.suppress(OSError):
                mute = socket.create_connection((HOST, daemon.tcp_port), timeout=2)
                mute.sendall(frame(bundle(*[p.encode(p.PING)] * 1024)) * 10)  # never reads
                held.append(mute)
            with lock:
                stats["connections"] += len(held)
            stop.wait(2.0)
            for sock in held:
                sock.close()

    def client(transport: str) -> None:
        port = daemon.udp_port if transport == "udp" else daemon.tcp_port
        while not stop.is_set():
            try:
                with Client(HOST, port, transport, timeout=30) as c:
                    start = time.monotonic()
                    c.ping(timeout=10)
                    wait = time.monotonic() - start
                    job = c.submit_clip(NOTES, 120.0, 2.0, decoding="parallel")
                    with lock:
                        stats["pings"] += 1
                        stats["jobs"] += 1
                        stats["max_wait_s"] = max(stats["max_wait_s"], wait)
                    try:
                        c.wait(job, timeout=60)
                    except RenderError as exc:
                        errors.append(f"{job}: {exc}")
                    with lock:
                        endings_seen[job] = endings_seen.get(job, 0) + 1
                    with contextlib.suppress(TimeoutError):  # a second ending would show here
                        c.wait_for(lambda r, j=job: r.job == j and r.address in TERMINAL, 0.2)
                        with lock:
                            endings_seen[job] += 1
            except (OSError, TimeoutError) as exc:
                errors.append(f"{transport} client: {exc!r}")

    threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in (
        (hostile_udp, ()), (hostile_tcp, ()), (client, ("udp",)), (client, ("tcp",)),
        (client, ("tcp",)),
    )]  # fmt: skip
    try:
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join(90)
        after = well_behaved(daemon)
        peak = daemon.peak_rss_mb()
    finally:
        stop.set()
        code = daemon.stop()
        log = "".join(daemon.log[-40:])
        (tmp_path / "serve.log").write_text("".join(daemon.log))
        print(f"\ndaemon log: {tmp_path / 'serve.log'}")
    assert code == 0, log
    figures = {
        **stats,
        "seconds": seconds,
        "endings": sum(endings_seen.values()),
        "lost": stats["jobs"] - len(endings_seen),
        "duplicated": sum(n - 1 for n in endings_seen.values() if n > 1),
        "daemon_peak_rss_mb": round(peak, 1),
        "ping_after_s": round(after, 3),
        "client_errors": errors[:5],
    }
    with capsys.disabled():
        print("\nsoak:", json.dumps(figures))
    assert figures["lost"] == 0 and figures["duplicated"] == 0, figures
    assert not errors, errors
    assert figures["jobs"] > 0 and figures["max_wait_s"] < 5.0, figures


def test_a_fifo_cannot_hang_the_daemon_and_links_are_followed_only_without_an_input_dir(
    tmp_path,
):
    from drumgrid.server.daemon.renders import read_midi_file
    from drumgrid.server.errors import UserError

    real = make_midi(tmp_path / "a.mid", [(0, 36, 100, 60)])
    (tmp_path / "link.mid").symlink_to(real)
    os.mkfifo(tmp_path / "fifo.mid")
    assert read_midi_file(tmp_path / "link.mid", None) == real.read_bytes()  # a user's own link
    with pytest.raises(UserError, match="not a regular file"):
        read_midi_file(tmp_path / "fifo.mid", None)  # opened without blocking, then refused
    with pytest.raises(UserError, match="cannot open it"):
        read_midi_file(tmp_path / "link.mid", tmp_path)  # a link in the input folder
