"""The real daemon on loopback, with the real engine (a tiny random model from
tests/engine_helpers.py), driven by liblo's oscsend/oscdump as an independent client over
UDP and TCP, by raw sockets, and by drumgrid.bridge.Client."""

from __future__ import annotations

import contextlib
import os
import queue
import random
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from factories import legato_lead, make_midi, make_multitrack_midi, rock_beat
from paths import REPO

from drumgrid.bridge import Client, RenderError
from drumgrid.bridge import protocol as p
from drumgrid.bridge.framing import frame

pytestmark = pytest.mark.skipif(
    shutil.which("oscsend") is None or shutil.which("oscdump") is None,
    reason="liblo-tools (oscsend, oscdump) are not installed",
)

HOST = "127.0.0.1"
SHORT = [(36, 0.0, 0.25, 110.0), (42, 0.5, 0.25, 80.0), (38, 1.0, 0.25, 100.0)]  # 2 beats
GROOVE = [(36, float(b), 0.25, 110.0) for b in range(0, 8, 2)] + [
    (42, b * 0.5, 0.25, 80.0) for b in range(16)
]


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def midi_file(tmp_path) -> Path:
    notes = [(i * 240, 42, 80, i * 240 + 60) for i in range(16)]
    notes += [(i * 960, 36, 110, i * 960 + 60) for i in range(4)]
    return make_midi(tmp_path / "groove.mid", notes)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class OscDump:
    """oscdump listening on a UDP port; its lines parsed into (address, [args])."""

    def __init__(self) -> None:
        self.port = free_udp_port()
        self.proc = subprocess.Popen(
            ["oscdump", "-L", str(self.port)], stdout=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[tuple[str, list]] = queue.Queue()
        self.seen: list[tuple[str, list]] = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # wait until oscdump holds the port
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind((HOST, self.port))
                time.sleep(0.02)
            except OSError:
                return
        raise RuntimeError("oscdump did not start")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            parts = shlex.split(line.strip())
            if len(parts) < 2:
                continue
            address, types, values = parts[1], parts[2] if len(parts) > 2 else "", parts[3:]
            args = [
                int(v) if t in "ih" else float(v) if t in "fd" else v
                for t, v in zip(types, values, strict=False)
            ]
            self.lines.put((address, args))

    def wait(self, address: str, job: str | None = None, timeout: float = 30.0) -> list:
        """The args of the next message at `address` (for `job`); others are kept in seen."""
        deadline = time.monotonic() + timeout
        for i, (a, args) in enumerate(self.seen):
            if a == address and (job is None or (args and args[0] == job)):
                return self.seen.pop(i)[1]
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {address} {job or ''} in {timeout} s; saw {self.seen}")
            try:
                a, args = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if a == address and (job is None or (args and args[0] == job)):
                return args
            self.seen.append((a, args))

    def terminal(self, job: str, timeout: float = 60.0) -> tuple[str, list]:
        """The job's done or error, whichever comes first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, (a, args) in enumerate(self.seen):
                if a in (p.DONE, p.ERROR) and args and args[0] == job:
                    return self.seen.pop(i)
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=0.1))
        raise TimeoutError(f"no done/error for {job}; saw {self.seen}")

    def first(self, job: str, addresses: tuple[str, ...], timeout: float = 30.0) -> tuple[str, str]:
        """(address, error code or '') of the job's first message among `addresses`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, (a, args) in enumerate(self.seen):
                if a in addresses and args and args[0] == job:
                    self.seen.pop(i)
                    return a, (args[1] if a == p.ERROR else "")
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=0.1))
        raise TimeoutError(f"nothing for {job}; saw {self.seen}")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


def osc_types(values) -> str:
    return "".join(
        "i" if isinstance(v, int) else "f" if isinstance(v, float) else "s" for v in values
    )


def oscsend(url: str, address: str, *values) -> None:
    """One message through liblo's oscsend; OSC types from the Python types of the values."""
    types = osc_types(values)
    cmd = ["oscsend", url, address] + ([types] if types else []) + [str(v) for v in values]
    subprocess.run(cmd, check=True, timeout=10, capture_output=True)


@pytest.fixture(params=["udp", "tcp"])
def liblo(request, daemon):
    """(send, dump): oscsend over the param's transport, replies subscribed to oscdump."""
    port = daemon.udp_port if request.param == "udp" else daemon.tcp_port
    url = f"osc.{request.param}://{HOST}:{port}"
    dump = OscDump()

    def send(address: str, *values) -> None:
        oscsend(url, address, *values)

    send(p.SUBSCRIBE, dump.port)
    assert dump.wait(p.SUBSCRIBED) == [dump.port]
    yield send, dump
    send(p.SUBSCRIBE, 0)
    dump.close()


def wav_frames(path: str) -> int:
    return sf.info(path).frames


# -- liblo: ping, status, renders, cancel, every error code ------------------------------


def test_ping_and_status(liblo, daemon):
    send, dump = liblo
    send(p.PING)
    assert dump.wait(p.PONG) == [daemon.version]
    send(p.STATUS)
    assert dump.wait(p.STATUS) == [0, 0, "cpu", "tiny"]


def test_render_a_file(liblo, daemon, midi_file):
    send, dump = liblo
    send(p.RENDER, "file-1", str(midi_file), "decoding", "parallel")
    assert dump.wait(p.ACCEPTED, "file-1") == ["file-1"]
    address, args = dump.terminal("file-1")
    assert address == p.DONE, args
    _, path, rate, frames = args
    assert Path(path).parent == daemon.render_dir and wav_frames(path) == frames
    assert rate == daemon.renderer.sample_rate
    from drumgrid.server.midi_io import read_midi

    assert frames == round((read_midi(midi_file).length_s + daemon.renderer.tail_s) * rate)


def test_render_a_clip_sent_as_notes(liblo, daemon):
    send, dump = liblo
    send(p.CLIP_BEGIN, "clip-1", 120.0, 8.0, 4, 4, "kit", "electronic", "seed", 3)
    flat = [v for note in GROOVE for v in note]
    half = len(GROOVE) // 2 * 4
    send(p.CLIP_NOTES, "clip-1", *flat[:half])
    # the second half with int velocities, as Max sends whole numbers
    send(p.CLIP_NOTES, "clip-1", *[int(v) if i % 4 == 3 else v for i, v in enumerate(flat[half:])])
    send(p.CLIP_END, "clip-1")
    assert dump.wait(p.ACCEPTED, "clip-1") == ["clip-1"]
    address, args = dump.terminal("clip-1", timeout=90)
    assert address == p.DONE, args
    assert args[3] == round((4.0 + daemon.renderer.tail_s) * args[2])
    assert wav_frames(args[1]) == args[3]


def test_channel_and_note_map_options_and_notices(daemon, tmp_path):
    """Over OSC as on the command line: the daemon chooses the drum parts, takes `channel`
    and `note_map`, and says what it took (/drumgrid/notice) before each job's end."""
    beat, lead = rock_beat(1), legato_lead(1)
    loop = make_multitrack_midi(tmp_path / "loop.mid", [("", 1, beat), ("Lead", 2, lead)])
    pad_beat = rock_beat(1, kick=44, snare=48, hat=50)
    pads = make_multitrack_midi(tmp_path / "pads.mid", [("", 10, pad_beat)])
    with Client(HOST, daemon.tcp_port, timeout=60) as c:
        (done,) = c.render_file(str(loop), decoding="parallel")
        assert done.notices[0].startswith("drums: track 1 channel 1")
        assert Path(done.path).name.startswith("loop-")  # files are named after the MIDI ...
        (asked,) = c.render_file(str(loop), decoding="parallel", channel="2")
        assert any("'Lead' channel 2 does not look like drums" in n for n in asked.notices)
        pad_map = "none,44=kick,48=snare,50=hihat_closed"
        (mapped,) = c.render_file(str(pads), decoding="parallel", note_map=pad_map)
        assert f"note map {pad_map}: 44 Pedal Hi-Hat x2 -> kick" in mapped.notices
        (clip,) = c.render_clip(
            [(39, 0.0, 0.25, 100.0)], 120.0, 4.0, decoding="parallel", name="Verse beat #2"
        )
        assert "note map gm: 39 Hand Clap x1 -> snare" in clip.notices
        assert Path(clip.path).name.startswith("Verse_beat_2-")  # ... or the clip's name
        (quiet,) = c.render_file(str(loop), decoding="parallel", peak=-12.0)
        audio, _ = sf.read(quiet.path)
        assert 20 * np.log10(np.abs(audio).max()) == pytest.approx(-12.0, abs=0.01)
        assert any(n.startswith("level: gain") for n in quiet.notices)
        refused = [
            (lambda: c.render_file(str(loop), peak=-1.0, loudness=-20.0), "not both"),
            (lambda: c.render_clip(SHORT, 120.0, 4.0, channel="10"), "carry no MIDI channel"),
            (lambda: c.render_file(str(loop), note_map="gm,44=kik"), "unknown drum class"),
            (lambda: c.render_file(str(loop), channel="17"), "expected auto, all, or MIDI"),
            (lambda: c.render_file(str(loop), note_map="/etc/passwd"), "unknown preset"),
        ]
        for call, needle in refused:
            with pytest.raises(RenderError) as info:
                call()
            assert info.value.code == "bad_request" and needle in info.value.message


def test_reply_port_routes_each_job_past_a_subscription(daemon):
    """Two Max devices on one host, each with its own reply port, and a third program that
    subscribed the host: every reply goes to the port its request named."""
    url = f"osc.udp://{HOST}:{daemon.udp_port}"
    a, b, other = OscDump(), OscDump(), OscDump()
    try:
        oscsend(url, p.SUBSCRIBE, other.port)
        assert other.wait(p.SUBSCRIBED) == [other.port]
        oscsend(url, p.PING, a.port)
        assert a.wait(p.PONG) == [daemon.version]
        oscsend(url, p.KITS, b.port)
        assert b.wait(p.KITS) == list(daemon.renderer.kits)
        for dump, job in ((a, "dev-a"), (b, "dev-b")):
            oscsend(url, p.CLIP_BEGIN, job, 120.0, 2.0, 4, 4, "reply_port", dump.port)
            oscsend(url, p.CLIP_NOTES, job, *SHORT[0])
        oscsend(url, p.CLIP_NOTES, "dev-b", 36, 9.0, 0.25, 100.0)  # past the clip's end
        oscsend(url, p.CLIP_END, "dev-a")
        oscsend(url, p.CLIP_END, "dev-b")
        assert a.terminal("dev-a")[0] == p.DONE
        address, args = b.terminal("dev-b")  # the refusal of clip/end reaches b's port too
        assert address == p.ERROR and args[1] == "bad_midi", args
        oscsend(url, p.KITS, a.port, "extra")  # malformed, yet its port is known
        assert a.wait(p.ERROR)[1] == "bad_request"
        time.sleep(0.3)
        assert not [m for m in other.seen + list(other.lines.queue) if m[0] != p.SUBSCRIBED]
    finally:
        oscsend(url, p.SUBSCRIBE, 0)
        for dump in (a, b, other):
            dump.close()


def test_cancel_a_running_job(liblo, engine, monkeypatch):
    """The real render is held after its first progress until the daemon has registered the
    cancel (its next window then stops), so the cancel cannot lose a race with the job's end."""
    render = engine.render

    def held(performance, options=None, progress=None, cancelled=None, prompt=None):
        def progress_then_hold(fraction: float) -> None:
            if progress is not None:
                progress(fraction)
            deadline = time.monotonic() + 60
            while cancelled is not None and not cancelled() and time.monotonic() < deadline:
                time.sleep(0.01)

        return render(performance, options, progress_then_hold, cancelled, prompt)

    monkeypatch.setattr(engine, "render", held)
    send, dump = liblo
    send(p.CLIP_BEGIN, "long-1", 120.0, 64.0, 4, 4)
    send(p.CLIP_NOTES, "long-1", 36, 0.0, 0.25, 100)
    send(p.CLIP_END, "long-1")
    dump.wait(p.ACCEPTED, "long-1")
    dump.wait(p.PROGRESS, "long-1", timeout=60)  # it is running
    send(p.CANCEL, "long-1")
    assert dump.terminal("long-1")[1][1] == "cancelled"
    send(p.STATUS)
    assert dump.wait(p.STATUS)[:2] == [0, 0]


def test_cancel_a_queued_job_and_an_open_clip(daemon):
    with Client(HOST, daemon.tcp_port, timeout=60) as c:
        burst = [
            p.clip_begin_message("q-long", 120.0, 64.0),
            *p.clip_notes_messages("q-long", [(36, 0.0, 0.25, 100.0)]),
            p.encode(p.CLIP_END, ["q-long"]),
            p.clip_begin_message("q-2", 120.0, 4.0, decoding="parallel"),
            *p.clip_notes_messages("q-2", [(36, 0.0, 0.25, 100.0)]),
            p.encode(p.CLIP_END, ["q-2"]),
            p.encode(p.CANCEL, ["q-2"]),  # queued behind q-long
            p.clip_begin_message("q-open", 120.0, 4.0),
            p.encode(p.CANCEL, ["q-open"]),  # between begin and end
            p.encode(p.CANCEL, ["q-long"]),  # running or queued: cancelled either way
            p.encode(p.CANCEL, ["nobody"]),
        ]
        c.sock.sendall(b"".join(frame(m) for m in burst))
        for job in ("q-2", "q-open", "q-long"):
            with pytest.raises(RenderError) as info:
                c.wait(job)
            assert info.value.code == "cancelled"
        # a refused cancel ends no job, so it carries no job id (each job has one ending)
        reply = c.wait_for(lambda r: r.address == p.ERROR and "'nobody'" in r.args[2])
        assert reply.args[:2] == ("", "bad_request")


def test_each_error_code(liblo, daemon, engine, tmp_path, monkeypatch):
    send, dump = liblo
    # bad_request: a path outside the render folder; an unknown address
    send(p.RENDER, "e-out", "/x.mid", "out", "../x.wav")
    assert dump.wait(p.ERROR, "e-out")[1] == "bad_request"
    send("/drumgrid/what", "e-addr")
    assert dump.wait(p.ERROR)[1] == "bad_request"
    # bad_midi: not a MIDI file (accepted, then refused when read)
    not_midi = tmp_path / "x.mid"
    not_midi.write_text("not midi")
    send(p.RENDER, "e-midi", str(not_midi))
    assert dump.terminal("e-midi")[1][1] == "bad_midi"
    # unknown_kit
    send(p.RENDER, "e-kit", str(not_midi), "kit", "tuba")
    error = dump.wait(p.ERROR, "e-kit")
    assert error[1] == "unknown_kit" and "acoustic" in error[2]
    # too_long: 100000 beats at 1 bpm
    send(p.CLIP_BEGIN, "e-long", 1.0, 100000.0, 4, 4)
    send(p.CLIP_NOTES, "e-long", 36, 0.0, 0.25, 100)
    send(p.CLIP_END, "e-long")
    assert dump.wait(p.ERROR, "e-long")[1] == "too_long"
    # cancelled: see the cancel tests; busy: a queue of 8 behind a long render
    jobs = [f"e-busy-{i}" for i in range(11)]
    for job in jobs:
        send(p.CLIP_BEGIN, job, 120.0, 32.0, 4, 4, "steps", 8)
        send(p.CLIP_NOTES, job, 36, 0.0, 0.25, 100)
        send(p.CLIP_END, job)
    codes = [dump.first(job, (p.ACCEPTED, p.ERROR)) for job in jobs]
    assert codes[0] == (p.ACCEPTED, "")
    assert (p.ERROR, "busy") in codes  # the queue holds 8
    for job in jobs:
        send(p.CANCEL, job)

    # internal: an unexpected failure inside a render is answered, not fatal
    def broken(*args, **kwargs):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(engine, "render", broken)
    send(p.CLIP_BEGIN, "e-internal", 120.0, 4.0, 4, 4)
    send(p.CLIP_NOTES, "e-internal", 36, 0.0, 0.25, 100)
    send(p.CLIP_END, "e-internal")
    error = dump.terminal("e-internal", timeout=90)[1]
    assert error[1] == "internal" and "injected fault" in error[2]
    monkeypatch.undo()
    send(p.PING)
    assert dump.wait(p.PONG)


# -- robustness -------------------------------------------------------------------------------


def _garbage(rng: random.Random, valid: list[bytes]) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 200))
    base = rng.choice(valid)
    if kind == 1:
        return base[: rng.randrange(0, len(base))]  # truncated
    if kind == 2:
        data = bytearray(base)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)  # flipped bytes
        return bytes(data)
    return b"#bundle\0" + rng.randbytes(rng.randrange(0, 64))


def _wrongly_typed(rng: random.Random) -> bytes:
    address = rng.choice(p.REQUEST_ADDRESSES[1:])  # ping takes anything
    pool = [1, -5, 2.5, float("inf"), "x", "../../etc/passwd", 2**40, -(2**40), "9000"]
    args = [rng.choice(pool) for _ in range(rng.randrange(0, 7))]
    if address == p.SUBSCRIBE:
        args = ["9000"]  # never a real subscription
    return p.encode(address, args)


def _wait_until_drained(daemon, timeout: float = 5.0) -> None:
    """Wait until the daemon's count of refused packets stops moving (its socket is empty)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline and daemon.malformed_count != last:
        last = daemon.malformed_count
        time.sleep(0.02)


def test_survives_garbage_then_still_serves(daemon):
    rng = random.Random(1234)
    valid = [
        p.encode(p.PING),
        p.render_message("g", "/nope.mid", seed=1),
        p.clip_begin_message("g", 120.0, 4.0),
        *p.clip_notes_messages("g", [(36, 0.0, 0.25, 100.0)] * 5),
    ]
    refused_before = daemon.malformed_count
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        target = (HOST, daemon.udp_port)
        for i in range(11_000):
            data = _garbage(rng, valid) if i < 10_000 else _wrongly_typed(rng)
            try:
                s.sendto(data, target)
            except BlockingIOError:
                time.sleep(0.001)
            if i % 200 == 199:
                _wait_until_drained(daemon)  # a loaded machine drops a flood; pace it
    # TCP: garbage frames, then a frame length the daemon must refuse
    with socket.create_connection((HOST, daemon.tcp_port)) as t:
        t.sendall(b"".join(frame(_garbage(rng, valid)) for _ in range(200)))
        t.sendall(struct.pack(">I", 1 << 30) + b"xxxx")
        t.settimeout(10)
        try:
            while t.recv(65536):
                pass  # error replies, then the daemon closes the connection
        except (ConnectionResetError, TimeoutError):
            pass
    time.sleep(0.5)
    assert daemon.malformed_count - refused_before >= 9_000  # most were read and answered
    for transport, port in (("udp", daemon.udp_port), ("tcp", daemon.tcp_port)):
        with Client(HOST, port, transport, timeout=60) as c:
            assert c.ping() == daemon.version
            (take,) = c.render_clip(GROOVE, 120.0, 8.0, decoding="parallel")
            assert wav_frames(take.path) == take.frames


def test_200_jobs_from_4_clients_each_answered_once(daemon):
    per_client = 50
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def client(index: int) -> None:
        transport = "tcp" if index % 2 else "udp"
        port = daemon.tcp_port if transport == "tcp" else daemon.udp_port
        try:
            with Client(HOST, port, transport, timeout=120) as c:
                jobs = [f"c{index}-{n}" for n in range(per_client)]
                for job in jobs:
                    c.submit_clip(SHORT, 120.0, 2.0, job=job, decoding="parallel")
                    if transport == "udp" and int(job.split("-")[1]) % 10 == 9:
                        time.sleep(0.01)  # UDP has no flow control
                answered: dict[str, list[str]] = {job: [] for job in jobs}
                deadline = time.monotonic() + 100
                while any(not v for v in answered.values()) and time.monotonic() < deadline:
                    for reply in c.drain(0.5):
                        if reply.address == p.DONE:
                            answered[reply.job].append("done")
                        elif reply.address == p.ERROR:
                            answered[reply.job].append(reply.args[1])
                for reply in c.drain(0.5):  # nothing else may arrive later
                    if reply.address in (p.DONE, p.ERROR):
                        answered[reply.job].append(reply.args[1])
                results.update(answered)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(150)
    assert not errors, errors
    assert len(results) == 200
    outcomes = [v for v in results.values()]
    assert all(len(v) == 1 for v in outcomes), [kv for kv in results.items() if len(kv[1]) != 1]
    assert {v[0] for v in outcomes} <= {"done", "busy"}
    assert sum(v[0] == "done" for v in outcomes) >= 8


def test_out_paths_outside_the_render_folder_are_refused(daemon, tmp_path, midi_file):
    before = {q for q in daemon.render_dir.parent.rglob("*")}
    outside = tmp_path / f"abs-{os.getpid()}.wav"
    with Client(HOST, daemon.tcp_port, timeout=60) as c:
        for out in ("../x.wav", str(outside), "..", "sub/x.wav", "x.wav/.."):
            with pytest.raises(RenderError) as info:
                c.render_file(str(midi_file), out=out, decoding="parallel")
            assert info.value.code == "bad_request", out
        (take,) = c.render_file(str(midi_file), out="named.wav", decoding="parallel")
    assert Path(take.path) == daemon.render_dir / "named.wav"
    after = {q for q in daemon.render_dir.parent.rglob("*")}
    assert {q for q in after - before if q.parent != daemon.render_dir} == set()
    assert not outside.exists() and not (daemon.render_dir.parent / "x.wav").exists()


def test_remote_needs_allow_remote_and_reads_only_the_input_dir(engine, tmp_path, midi_file):
    from drumgrid.server.daemon import Daemon, DaemonConfig
    from drumgrid.server.errors import UserError

    with pytest.raises(UserError, match="--allow-remote"):
        Daemon(engine, DaemonConfig(host="0.0.0.0", render_dir=tmp_path / "r"))
    with pytest.raises(UserError, match="--input-dir"):
        Daemon(engine, DaemonConfig(host="0.0.0.0", allow_remote=True, render_dir=tmp_path / "r"))
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(midi_file, inputs / "ok.mid")
    config = DaemonConfig(
        udp_port=0, tcp_port=0, render_dir=tmp_path / "r", input_dir=inputs, model_name="t"
    )
    daemon = Daemon(engine, config).start()
    try:
        with Client(HOST, daemon.tcp_port, timeout=60) as c:
            for path in (str(midi_file), "../groove.mid"):
                with pytest.raises(RenderError, match="input-dir") as info:
                    c.render_file(path)
                assert info.value.code == "bad_request"
            (take,) = c.render_file("ok.mid", decoding="parallel")
            assert Path(take.path).is_file()
    finally:
        daemon.stop()


def test_old_renders_are_cleaned_and_nothing_else(tmp_path):
    from drumgrid.server.daemon.renders import clean_renders, record_written

    old = time.time() - 3 * 86400
    users = [tmp_path / "kick.wav", tmp_path / "snare.wav"]  # a samples folder, days old
    for f in users:
        f.write_bytes(b"u" * 5000)
        os.utime(f, (old, old))
    for i in range(5):
        f = tmp_path / f"r{i}.wav"
        f.write_bytes(b"x" * 1000)
        os.utime(f, (1000 + i, 1000 + i) if i == 0 else (time.time() - 10 + i,) * 2)
        record_written(tmp_path, [f])
    (tmp_path / "r2.wav").write_bytes(b"y" * 1000)  # rewritten by a user: theirs now
    (tmp_path / "keep.txt").write_text("not a render")
    removed = clean_renders(tmp_path, max_bytes=2500, max_age_s=3600, keep={tmp_path / "r4.wav"})
    assert removed == 2  # r0 too old; then r1 (oldest) until r3 + r4 fit in 2500 bytes
    names = sorted(q.name for q in tmp_path.iterdir() if not q.name.startswith("."))
    assert names == ["keep.txt", "kick.wav", "r2.wav", "r3.wav", "r4.wav", "snare.wav"]
    assert clean_renders(tmp_path, max_bytes=0, max_age_s=0) == 2  # r3, r4: never r2 or users'
    assert all(f.exists() for f in users) and (tmp_path / "r2.wav").exists()


def test_the_daemon_never_replaces_or_removes_a_users_file(engine, tmp_path, midi_file):
    from drumgrid.server.daemon import Daemon, DaemonConfig

    samples = tmp_path / "samples"
    samples.mkdir()
    kick = samples / "kick.wav"
    kick.write_bytes(b"RIFF user sample")
    os.utime(kick, (time.time() - 3 * 86400,) * 2)
    config = DaemonConfig(
        udp_port=0, tcp_port=0, render_dir=samples, keep_age_s=3600.0, keep_bytes=1
    )  # everything drumgrid wrote is over the limits at once
    daemon = Daemon(engine, config).start()
    try:
        with Client(HOST, daemon.tcp_port, timeout=60) as c:
            with pytest.raises(RenderError, match=r"kick\.wav exists in the render folder"):
                c.render_file(str(midi_file), out="kick.wav", decoding="parallel")
            first = c.render_file(str(midi_file), out="take.wav", decoding="parallel")[0]
            c.render_file(str(midi_file), decoding="parallel")  # its clean-up removes take.wav
            second = c.render_file(str(midi_file), out="take.wav", decoding="parallel")[0]
        assert kick.read_bytes() == b"RIFF user sample"
        assert first.path == second.path and Path(second.path).is_file()
    finally:
        daemon.stop()


def test_a_planted_temp_link_cannot_redirect_a_write_and_stale_temps_go(engine, tmp_path):
    from drumgrid.server.audio_io import write_audio
    from drumgrid.server.daemon import Daemon, DaemonConfig

    renders, outside = tmp_path / "r", tmp_path / "outside.wav"
    renders.mkdir()
    # the names an attacker could predict before: .NAME.PID.tmp
    for pid in range(os.getpid() - 50, os.getpid() + 50):
        (renders / f".take.wav.{pid}.tmp").symlink_to(outside)
    write_audio(renders / "take.wav", [0.0] * 100, 48000)
    assert not outside.exists() and sf.info(renders / "take.wav").frames == 100
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = renders / f".drumgrid-{int(dead.stdout)}-{'0' * 16}.tmp"
    stale.write_bytes(b"half a wav")
    mine = renders / f".drumgrid-{os.getpid()}-{'1' * 16}.tmp"
    mine.write_bytes(b"being written")
    Daemon(engine, DaemonConfig(udp_port=0, tcp_port=0, render_dir=renders))
    assert not stale.exists() and mine.exists()


# -- the command: drumgrid serve / drumgrid send, shutdown on SIGTERM ---------------------


def test_serve_and_send_commands_and_sigterm(engine, tmp_path, midi_file):
    model = str(engine.model_dir)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cli = [sys.executable, "-m", "drumgrid.training.cli"]
    proc = subprocess.Popen(
        [*cli, "serve", "--model", model, "--device", "cpu", "--port", "0", "--tcp-port", "0",
               "--render-dir", str(tmp_path / "r"), "--no-warmup", "--max-queue", "4"],
        stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "ready on" in line or not line:
                break
        assert "ready on" in lines[-1], "".join(lines)
        udp, tcp = (int(w) for w in lines[-1].replace(",", "").split()[-3::2])
        ping = subprocess.run(
            [*cli, "send", "--port", str(tcp), "ping"], capture_output=True, text=True, cwd=REPO
        )
        assert ping.returncode == 0 and ping.stdout.startswith("drumgrid serve"), ping.stderr
        kits = subprocess.run(
            [*cli, "send", "--port", str(udp), "--udp", "kits"],
            capture_output=True, text=True, cwd=REPO,
        )  # fmt: skip
        assert kits.returncode == 0 and kits.stdout.split("\n")[:-1] == list(engine.kits), (
            kits.stderr
        )
        sent = subprocess.run(
            [*cli, "send", "--port", str(udp), "--udp", "render", str(midi_file), "--as-clip",
                   "--decoding", "parallel", "--quiet"],
            capture_output=True, text=True, cwd=REPO, timeout=120,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        assert wav_frames(sent.stdout.strip()) > 0
        # a file render with a channel and a note map file: the map travels inline, and the
        # daemon's notices come back on stderr
        note_map = tmp_path / "map.txt"
        note_map.write_text("36 snare\n")
        mapped = subprocess.run(
            [*cli, "send", "--port", str(tcp), "render", str(midi_file), "--decoding",
             "parallel", "--channel", "10", "--note-map", str(note_map)],
            capture_output=True, text=True, cwd=REPO, timeout=120,
        )  # fmt: skip
        assert mapped.returncode == 0, mapped.stderr
        assert "channel 10 (as asked)" in mapped.stderr
        assert ": 36 Bass Drum 1 x" in mapped.stderr and "-> snare" in mapped.stderr
        bad = subprocess.run(
            [*cli, "send", "--port", str(tcp), "render", str(midi_file), "--channel", "0"],
            capture_output=True, text=True, cwd=REPO, timeout=60,
        )  # fmt: skip
        assert bad.returncode == 2 and "expected auto, all, or MIDI channels" in bad.stderr
        with Client(HOST, tcp, timeout=60) as c:
            long_job = c.submit_clip([(36, 0.0, 0.25, 100.0)], 120.0, 64.0)
            queued = [c.submit_clip([(36, 0.0, 0.25, 100.0)], 120.0, 4.0) for _ in range(2)]
            c.wait_for(lambda r: r.address == p.PROGRESS, 60)
            proc.send_signal(signal.SIGTERM)
            for job in [*queued, long_job]:
                with pytest.raises(RenderError) as info:
                    c.wait(job, timeout=30)
                assert info.value.code == "cancelled"
        assert proc.wait(30) == 0
        log = "".join(lines) + proc.stderr.read()
        assert "SIGTERM: shutting down" in log and "stopped" in log
        assert "job 127.0.0.1/" in log and "realtime" in log  # one line per job with timing
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- kit prompts over OSC ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prompted_daemon(tmp_path_factory):
    from engine_helpers import make_model_dir

    from drumgrid.server.daemon import Daemon, DaemonConfig
    from drumgrid.server.engine import Engine

    root = tmp_path_factory.mktemp("prompted")
    kits = root / "kits"
    old = os.environ.get("DRUMGRID_KITS")
    os.environ["DRUMGRID_KITS"] = str(kits)
    model = make_model_dir(root, prompted=True, latent_dim=32)
    engine = Engine.load(model, "cpu", "eager", precision="fp32")
    config = DaemonConfig(udp_port=0, tcp_port=0, render_dir=root / "renders", model_name="p")
    daemon = Daemon(engine, config).start()
    yield daemon
    daemon.stop()
    if old is None:
        os.environ.pop("DRUMGRID_KITS")
    else:
        os.environ["DRUMGRID_KITS"] = old


def test_render_from_a_prompt_over_osc_and_save_it_as_a_kit(
    prompted_daemon, daemon, tmp_path, monkeypatch, capsys
):
    """A recording and its MIDI, or one-shots, named by path; the prompt's notices before the
    end; `save_kit` makes a kit that `kit` names and /drumgrid/kits lists; a kit-only model
    and unreadable files are refused when the request arrives."""
    from factories import noise_bursts

    from drumgrid.server.audio_io import write_audio

    rng = np.random.default_rng(3)
    write_audio(tmp_path / "kit.wav", noise_bursts(rng, 2.0, 44100)[:, None], 44100, "pcm16")
    write_audio(tmp_path / "kick.wav", noise_bursts(rng, 0.4, 44100)[:, None], 44100, "pcm16")
    kit_midi = make_midi(tmp_path / "kit.mid", [(i * 480, 36, 100, i * 480 + 60) for i in range(4)])
    groove = make_midi(tmp_path / "groove.mid", [(i * 240, (36, 42)[i % 2], 90, i * 240 + 60)
                                                  for i in range(8)])  # fmt: skip
    prompt = {"prompt": str(tmp_path / "kit.wav"), "prompt_midi": str(kit_midi)}
    with Client(HOST, prompted_daemon.tcp_port, timeout=60) as c:
        (done,) = c.render_file(str(groove), decoding="parallel", save_kit="room", **prompt)
        assert any(n.startswith("kit room saved: ") for n in done.notices)
        assert any("prompt: plays no hihat_closed" in n for n in done.notices)
        fitted = [n for n in done.notices if "known kit" in n]  # which kit it rendered as
        assert len(fitted) == 1 and fitted[0].startswith("prompt: ")
        (given,) = c.render_file(str(groove), decoding="parallel", prompt_fit=0, **prompt)
        assert not any("known kit" in n for n in given.notices)
        assert "room" in c.kits()
        (again,) = c.render_file(str(groove), decoding="parallel", kit="room")
        np.testing.assert_array_equal(sf.read(done.path)[0], sf.read(again.path)[0])
        shots = f"kick={tmp_path / 'kick.wav'}"
        (shot,) = c.render_clip(SHORT, 120.0, 4.0, decoding="parallel", prompt_shots=shots)
        assert Path(shot.path).is_file()
        refused = [
            (lambda: c.render_file(str(groove), prompt=str(tmp_path / "kit.wav")), "without the"),
            (lambda: c.render_file(str(groove), prompt="kit.wav", prompt_midi=str(kit_midi)),
             "expected an absolute path"),
            (lambda: c.render_file(str(groove), prompt_shots=f"kick={tmp_path}/none.wav"),
             "no such file"),
            (lambda: c.render_file(str(groove), prompt_shots="cowbell=/x.wav"), "cowbell"),
            (lambda: c.render_file(str(groove), save_kit="x", **{}), "save_kit saves a prompt"),
            (lambda: c.render_file(str(groove), kit="nobody"), "unknown kit 'nobody'"),
        ]  # fmt: skip
        for call, needle in refused:
            with pytest.raises(RenderError) as info:
                call()
            assert needle in info.value.message
    # `drumgrid send` carries the same options, its paths made absolute
    from drumgrid.training.cli import main

    monkeypatch.chdir(tmp_path)
    send = ["send", "--port", str(prompted_daemon.tcp_port), "render", "groove.mid", "--quiet"]
    assert main([*send, "--prompt-shots", "kick=kick.wav", "--save-kit", "shots"]) == 0
    recording = [*send[:-1], "--prompt", "kit.wav", "--prompt-midi", "kit.mid"]
    for extra, fitted in (([], True), (["--no-prompt-fit"], False)):
        capsys.readouterr()
        assert main([*recording, *extra]) == 0
        assert ("known kit" in capsys.readouterr().err) is fitted
    with Client(HOST, prompted_daemon.tcp_port, timeout=60) as c:
        assert "shots" in c.kits()
    with Client(HOST, daemon.tcp_port, timeout=60) as c, pytest.raises(RenderError) as info:
        c.render_file(str(groove), **prompt)  # a kit-only model refuses before reading
    assert info.value.code == "bad_request" and "renders by kit name only" in info.value.message
