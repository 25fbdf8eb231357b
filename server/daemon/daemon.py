"""The OSC daemon: one loaded engine, a bounded job queue, one render worker.

    network thread (transport.py)     parse -> validate -> enqueue, or answer at once
        |  Job (performance or MIDI path, RenderOptions, where to reply)
        v
    bounded queue (max_queue; full -> error busy)
        |
        v
    worker thread                     read MIDI -> engine.render -> WAVs (temp + rename)
        |                             -> done per take / error; progress while rendering
        v
    outbox thread (transport.py)      writes every reply; progress heartbeat every 0.5 s

Nothing slow runs on the network thread: it parses and validates (clip notes become a
Performance there, which is arithmetic on the notes) and reads the bytes of a MIDI file a
render names (a small regular file, opened without blocking: where it is checked is where
it is read), but never parses MIDI or renders.
Every job gets exactly one terminal reply: one /drumgrid/done per take, or one
/drumgrid/error (bad_request, bad_midi, unknown_kit, too_long, busy, cancelled, internal).
"""

from __future__ import annotations

import collections
import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.renders import (
    check_not_users,
    clean_renders,
    output_paths,
    prepare_render_dir,
    read_midi_file,
    record_written,
    remove_stale_temps,
    resolve_midi_path,
)
from drumgrid.server.daemon.transport import POLL_S, Route, Transport, limited
from drumgrid.server.drum_select import AUTO, ChannelSpec, parse_channels
from drumgrid.server.errors import Cancelled, UnknownKit, UserError
from drumgrid.server.levels import DEFAULT_LEVEL, LevelTarget, apply_level
from drumgrid.server.note_maps import GM_NOTE_MAP, NoteMap, parse_note_map

log = logging.getLogger("drumgrid.serve")

PROGRESS_STEP = 0.1  # send progress when it advanced this much ...
PROGRESS_EVERY_S = 0.5  # ... or this long after the last one
MAX_REFUSALS_PER_PACKET = 8  # refusals one packet can draw (besides jobs' endings), then
# the rest of it is dropped unread: a bundle of junk costs the network thread little


class Renderer(Protocol):
    """What the daemon needs from drumgrid.server.engine.Engine."""

    kits: Any
    device: Any

    def render(
        self, performance: Any, options: Any, progress: Any, cancelled: Any
    ) -> list[Any]: ...


@dataclass(frozen=True)
class DaemonConfig:
    host: str = "127.0.0.1"
    udp_port: int = 9000
    tcp_port: int | None = 9001  # None: no TCP listener
    render_dir: Path | None = None  # None: renders.default_render_dir()
    max_queue: int = 16
    allow_remote: bool = False
    input_dir: Path | None = None
    keep_bytes: int = 1 << 30  # old renders are removed above 1 GiB ...
    keep_age_s: float = 24 * 3600.0  # ... or after a day
    clip_timeout_s: float = 60.0  # a clip whose notes stop arriving is dropped after this
    max_clips_per_host: int = 16  # clips between begin and end at once
    max_notes: int = p.MAX_CLIP_NOTES  # per clip
    wav_format: str = "pcm24"
    model_name: str = ""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_config(config: DaemonConfig) -> None:
    """Secure defaults: a non-loopback address needs --allow-remote, and a remote daemon
    reads MIDI only from --input-dir."""
    if not 1 <= config.max_queue <= 10_000:
        raise UserError(f"--max-queue {config.max_queue}: expected 1..10000")
    if is_loopback(config.host):
        return
    if not config.allow_remote:
        raise UserError(
            f"--host {config.host} is not a loopback address: anyone who can reach it could "
            "render with this machine; pass --allow-remote (and --input-dir) if you mean it"
        )
    if config.input_dir is None:
        raise UserError("--allow-remote needs --input-dir: a remote daemon reads MIDI only there")


@dataclass(frozen=True)
class IOSettings:
    """How a job's notes are read (which MIDI channels are drums, which pitch plays what) and
    the level its audio is written at."""

    channel: ChannelSpec = AUTO
    note_map: NoteMap = GM_NOTE_MAP
    level: LevelTarget = DEFAULT_LEVEL


@dataclass(eq=False)
class Job:
    host: str
    job: str
    route: Route
    options: Any  # RenderOptions
    out: str | None
    performance: Any = None  # a Performance for clips
    midi_path: Path | None = None  # for files: the name, for messages ...
    midi_data: bytes = b""  # ... and the bytes, read when the request arrived
    io: IOSettings = field(default_factory=IOSettings)
    label: str = "render"  # names the files: the MIDI file's stem or the clip's name
    received: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    fraction: float = 0.0
    sent_fraction: float = 0.0
    sent_at: float = 0.0
    written: list[Path] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.host, self.job)

    @property
    def name(self) -> str:
        return f"{self.host}/{self.job}"


@dataclass(eq=False)
class PendingClip:
    route: Route
    begin: p.ClipBegin
    notes: list[tuple[int, float, float, float]] = field(default_factory=list)
    touched: float = field(default_factory=time.monotonic)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("drumgrid")
    except PackageNotFoundError:
        return "unknown"


class Daemon:
    def __init__(self, renderer: Renderer, config: DaemonConfig | None = None) -> None:
        from drumgrid.server.daemon.renders import default_render_dir

        self.config = config = config or DaemonConfig()
        check_config(config)
        self.renderer = renderer
        self.render_dir = prepare_render_dir(config.render_dir or default_render_dir())
        if stale := remove_stale_temps(self.render_dir):
            log.info("removed %d temp file(s) of drumgrid processes that were killed", stale)
        self.input_dir = None if config.input_dir is None else Path(config.input_dir).resolve()
        self.version = _version()
        self.device = str(getattr(renderer, "device", "?"))
        self.model_name = config.model_name or str(getattr(renderer, "model_name", "") or "?")
        kits = [str(kit) for kit in renderer.kits]
        self._kits_reply, fitted = p.kits_message(kits)
        if fitted < len(kits):
            log.warning(
                "/drumgrid/kits lists %d of the model's %d kits (one datagram)", fitted, len(kits)
            )
        self._lock = threading.Condition()
        self._queue: collections.deque[Job] = collections.deque()
        self._running: Job | None = None
        self._clips: dict[tuple[str, str], PendingClip] = {}
        self._stopping = False
        self._worker: threading.Thread | None = None
        self.transport: Transport | None = None
        self._last_sweep = 0.0
        self.jobs_done = 0
        self.malformed_count = 0  # requests refused as malformed (tests, logs)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Daemon:
        c = self.config
        try:
            self.transport = Transport(
                c.host, c.udp_port, c.tcp_port, self._on_packet, self._sweep,
                self._on_bad_stream, self._holds_job,
            )  # fmt: skip
        except OSError as exc:
            raise UserError(
                f"cannot listen on {c.host} (UDP {c.udp_port}, TCP {c.tcp_port}): {exc.strerror}; "
                "is another drumgrid serve running? pick other ports with --port/--tcp-port"
            ) from None
        self._worker = threading.Thread(target=self._work, name="drumgrid-render", daemon=True)
        self._worker.start()
        self.transport.start(on_tick=self._heartbeat)
        log.info(
            "listening on %s UDP %d, TCP %s; model %s on %s; renders in %s; queue %d",
            c.host, self.transport.udp_port, self.transport.tcp_port, self.model_name,
            self.device, self.render_dir, c.max_queue,
        )  # fmt: skip
        return self

    @property
    def udp_port(self) -> int:
        assert self.transport is not None
        return self.transport.udp_port

    @property
    def tcp_port(self) -> int | None:
        assert self.transport is not None
        return self.transport.tcp_port

    def stop(self, timeout: float = 30.0) -> None:
        """No new requests; queued jobs and unfinished clips are answered with `cancelled`;
        the running job is cancelled at its next window; replies are flushed."""
        if self.transport is None:
            return
        self.transport.stop_reading()
        with self._lock:
            self._stopping = True
            queued, self._queue = list(self._queue), collections.deque()
            clips, self._clips = list(self._clips.items()), {}
            running = self._running
            if running is not None:
                running.cancel.set()
            self._lock.notify_all()
        for job in queued:
            self._error(job.route, job.job, "cancelled", "the daemon is shutting down")
            log.info("job %s: cancelled (shutdown)", job.name)
        for (_, job_id), clip in clips:
            self._error(clip.route, job_id, "cancelled", "the daemon is shutting down")
        if self._worker is not None:
            self._worker.join(timeout)
        self.transport.close()
        self.transport = None
        log.info("stopped")

    # -- replies -----------------------------------------------------------------------------

    def _send(self, route: Route, address: str, args: list[Any], droppable: bool = False) -> None:
        assert self.transport is not None
        self.transport.reply(route, p.encode(address, args), droppable)

    def _error(self, route: Route, job: str, code: str, message: str) -> None:
        assert self.transport is not None
        self.transport.reply(route, p.error_message(job, code, message))

    # -- network thread: parse, validate, enqueue --------------------------------------------

    def _on_packet(self, data: bytes, route: Route) -> None:
        try:
            messages = p.parse_packet(data)
        except p.ProtocolError as exc:
            self._log_malformed(route, exc.message)
            self._error(route, "", "bad_request", exc.message)
            return
        answered = 0  # refusals answered; past MAX_REFUSALS_PER_PACKET the rest is dropped
        for n, (address, args) in enumerate(messages):
            if answered >= MAX_REFUSALS_PER_PACKET:
                left = len(messages) - n
                limited.info(
                    "%s: %d messages of a packet dropped after %d refusals", route, left, n
                )
                self._error(route, "", "bad_request", f"{left} more messages of this packet "
                            f"dropped unread after {answered} refusals")  # fmt: skip
                return
            target, job = self._refusal_target(route, address, args)
            try:
                self._handle(p.parse_request(address, args), route)
                continue
            except p.ProtocolError as exc:
                self._log_malformed(route, f"{address[:60]}: {exc.message}")
                code, message = exc.code, exc.message
            except UserError as exc:
                limited.info("request %s from %s refused (%s): %s", address, route, exc.code, exc)
                code, message = exc.code, str(exc)
            except Exception as exc:  # a bug; the daemon answers and goes on
                log.exception("request %s from %s: unexpected error", address[:60], route)
                code, message = "internal", f"internal error: {exc}"
            if job and address in (p.CLIP_NOTES, p.CLIP_END):
                with self._lock:  # the refusal ends the clip: nothing of it renders later
                    self._clips.pop((route.host, job), None)
            answered += not job  # a job's ending does not count: it is always sent
            self._error(target, job, code, message)

    def _on_bad_stream(self, route: Route, why: str) -> None:
        self._log_malformed(route, why)
        self._error(route, "", "bad_request", why)

    def _holds_job(self, conn: Any) -> bool:
        """Does an open clip or a queued or running job wait to reply on this connection?"""
        with self._lock:
            jobs = [*self._clips.values(), *self._queue, self._running]
        return any(j is not None and j.route.conn is conn for j in jobs)

    def _refusal_target(self, route: Route, address: str, args: list[Any]) -> tuple[Route, str]:
        """Where a refusal of this request goes (where its answers would have gone: the
        reply port it names, or the route of the clip or job it is about) and the job id it
        carries: only a job the refusal ends, so that every job gets exactly one ending. A
        request that reuses a live job's id, a cancel, or notes for a clip that is not open
        end nothing, and are refused with an empty job id."""
        job = p.job_of(address, args)
        port = p.reply_port_of(address, args)
        key = (route.host, job)
        with self._lock:
            clip = self._clips.get(key)
            live = [j for j in (*self._queue, self._running) if j is not None and j.key == key]
        if address in (p.RENDER, p.CLIP_BEGIN):
            return route.replying_to(port), "" if clip or live else job
        if address in (p.CLIP_NOTES, p.CLIP_END) and clip is not None:
            return clip.route, job
        if address == p.CANCEL and (clip or live):
            return (clip.route if clip else live[0].route), ""
        return route.replying_to(port), ""

    def _log_malformed(self, route: Route, what: str) -> None:
        self.malformed_count += 1
        limited.warning("malformed request from %s: %s", route, what)

    def _handle(self, request: p.Request, route: Route) -> None:
        if isinstance(request, p.Ping):
            self._send(route.replying_to(request.reply_port), p.PONG, [self.version])
        elif isinstance(request, p.Status):
            with self._lock:
                queued, running = len(self._queue), int(self._running is not None)
            status = [queued, running, self.device, self.model_name]
            self._send(route.replying_to(request.reply_port), p.STATUS, status)
        elif isinstance(request, p.Kits):
            assert self.transport is not None
            self.transport.reply(route.replying_to(request.reply_port), self._kits_reply)
        elif isinstance(request, p.Subscribe):
            assert self.transport is not None
            self.transport.subscribe(route, request.port)
            self._send(route, p.SUBSCRIBED, [request.port])
            limited.info("%s: replies for %s go to UDP port %d", route, route.host, request.port)
        elif isinstance(request, p.Render):
            with self._lock:  # before any file is opened for it
                self._check_free(route.host, request.job)
            options, out = self._options(request.options, request.job)
            io = self._io_settings(request.options, request.job)
            path = resolve_midi_path(request.midi_path, self.input_dir)
            data = read_midi_file(path, self.input_dir)  # opened and checked once, here
            route = route.replying_to(request.options.get("reply_port"))
            job = Job(
                route.host, request.job, route, options, out, midi_path=path, midi_data=data,
                io=io, label=request.options.get("name", path.stem),
            )  # fmt: skip
            self._enqueue(job)
        elif isinstance(request, p.ClipBegin):
            self._clip_begin(request, route)
        elif isinstance(request, p.ClipNotes):
            self._clip_notes(request, route)
        elif isinstance(request, p.ClipEnd):
            self._clip_end(request, route)
        elif isinstance(request, p.Cancel):
            self._cancel(request.job, route)

    def _options(self, given: dict[str, Any], job: str) -> tuple[Any, str | None]:
        from drumgrid.server.engine.options import RenderOptions

        out = given.get("out")
        skip = (*p.ROUTING_OPTIONS, *p.INPUT_OPTIONS, *p.LEVEL_OPTIONS)
        given = {k: v for k, v in given.items() if k not in skip}
        try:
            options = RenderOptions(**given)
        except UserError as exc:
            raise p.ProtocolError(str(exc), job) from None
        if options.kit is not None and options.kit not in tuple(self.renderer.kits):
            known = ", ".join(self.renderer.kits)
            raise UnknownKit(f"unknown kit {options.kit!r}; this model knows {known}")
        if out is not None:  # refuses escapes, and files drumgrid did not write
            check_not_users(
                self.render_dir, output_paths(self.render_dir, job, out, options.variations)
            )
        return options, out

    @staticmethod
    def _label(given: dict[str, Any]) -> str:
        return str(given.get("name", "clip"))

    def _io_settings(self, given: dict[str, Any], job: str, clip: bool = False) -> IOSettings:
        """The channel spec and note map of a request, refused as bad_request when unknown.
        Clip notes carry no MIDI channel, so a clip's `channel` option is refused too."""
        if clip and "channel" in given:
            raise p.ProtocolError(
                "channel: clip notes carry no MIDI channel (a Live clip's notes are all its "
                "drums); leave the option out, or use note_map to choose pitches",
                job,
            )
        try:
            channel = parse_channels(given.get("channel", AUTO))
            note_map = parse_note_map(given.get("note_map"), allow_files=False)
            level = DEFAULT_LEVEL
            if "loudness" in given:
                level = LevelTarget("loudness", given["loudness"])
            elif "peak" in given:
                level = LevelTarget("peak", given["peak"])
        except UserError as exc:
            raise p.ProtocolError(str(exc), job) from None
        return IOSettings(channel, note_map, level)

    def _in_use(self, key: tuple[str, str]) -> bool:
        running = self._running
        return (
            key in self._clips
            or any(job.key == key for job in self._queue)
            or (running is not None and running.key == key)
        )

    def _check_free(self, host: str, job: str) -> None:
        if self._in_use((host, job)):
            raise p.ProtocolError(
                f"job id {job!r} is already in use by a queued, running or unfinished job "
                "from this host; use a new id per job",
                job,
            )

    def _enqueue(self, job: Job) -> None:
        with self._lock:
            self._check_free(job.host, job.job)
            if self._stopping:
                raise UserError("the daemon is shutting down")
            if len(self._queue) >= self.config.max_queue:
                busy = True
            else:
                busy = False
                self._queue.append(job)
                self._send(job.route, p.ACCEPTED, [job.job])  # queued before done can be
                self._lock.notify()
        if busy:
            limited.info("job %s: busy (queue of %d is full)", job.name, self.config.max_queue)
            self._error(
                job.route, job.job, "busy",
                f"the queue is full ({self.config.max_queue} jobs); try again when one finishes",
            )  # fmt: skip

    def _clip_begin(self, request: p.ClipBegin, route: Route) -> None:
        self._options(request.options, request.job)  # refuse bad options before the notes
        self._io_settings(request.options, request.job, clip=True)
        key = (route.host, request.job)
        with self._lock:
            self._check_free(*key)
            if sum(1 for h, _ in self._clips if h == route.host) >= self.config.max_clips_per_host:
                raise p.ProtocolError(
                    f"{self.config.max_clips_per_host} clips from this host are already between "
                    "clip/begin and clip/end; end or cancel one first",
                    request.job,
                )
            self._clips[key] = PendingClip(
                route.replying_to(request.options.get("reply_port")), request
            )

    def _clip_notes(self, request: p.ClipNotes, route: Route) -> None:
        key = (route.host, request.job)
        with self._lock:
            clip = self._clips.get(key)
            if clip is None:
                raise p.ProtocolError(
                    f"no clip {request.job!r} is open: send /drumgrid/clip/begin first", request.job
                )
            if len(clip.notes) + len(request.notes) > self.config.max_notes:
                del self._clips[key]
                raise p.ProtocolError(
                    f"clip has more than {self.config.max_notes} notes; dropped", request.job
                )
            clip.notes.extend(request.notes)
            clip.touched = time.monotonic()

    def _clip_end(self, request: p.ClipEnd, route: Route) -> None:
        from drumgrid.server.performance import BeatNote, from_beat_notes

        with self._lock:
            clip = self._clips.pop((route.host, request.job), None)
        if clip is None:
            raise p.ProtocolError(
                f"no clip {request.job!r} is open: send /drumgrid/clip/begin first", request.job
            )
        begin = clip.begin
        if request.notes is not None and request.notes != len(clip.notes):
            raise p.ProtocolError(
                f"clip {begin.job!r}: {len(clip.notes)} of its {request.notes} notes arrived "
                "(datagrams were lost); send the clip again, or over TCP",
                begin.job,
            )
        options, out = self._options(begin.options, begin.job)
        io = self._io_settings(begin.options, begin.job, clip=True)
        notes = [BeatNote(pitch, start, dur, vel) for pitch, start, dur, vel in clip.notes]
        performance = from_beat_notes(
            notes, begin.tempo, begin.length_beats, (begin.sig_num, begin.sig_den),
            io.note_map,
        )  # fmt: skip
        check = getattr(self.renderer, "check", None)
        if check is not None:  # the engine's refusals before any work: bad_midi, too_long
            check(performance, options)
        # replies go where clip/begin came from (clip/end may come from another process)
        self._enqueue(
            Job(
                route.host,
                begin.job,
                clip.route,
                options,
                out,
                performance,
                io=io,
                label=self._label(begin.options),
            )
        )

    def _cancel(self, job_id: str, route: Route) -> None:
        key = (route.host, job_id)
        with self._lock:
            clip = self._clips.pop(key, None)
            queued = next((job for job in self._queue if job.key == key), None)
            if queued is not None:
                self._queue.remove(queued)
            running = self._running if self._running and self._running.key == key else None
            if running is not None:
                running.cancel.set()  # the worker answers when the engine stops
        if clip is not None:
            self._error(clip.route, job_id, "cancelled", "cancelled before clip/end")
        elif queued is not None:
            self._error(queued.route, job_id, "cancelled", "cancelled while queued")
            log.info("job %s: cancelled while queued", queued.name)
        elif running is None:
            raise p.ProtocolError(f"no queued, running or open job {job_id!r} to cancel", job_id)

    def _sweep(self) -> None:
        """Drop clips whose notes stopped coming (called by the network thread when idle)."""
        now = time.monotonic()
        if now - self._last_sweep < 1.0:
            return
        self._last_sweep = now
        with self._lock:
            stale = [
                (key, clip)
                for key, clip in self._clips.items()
                if now - clip.touched > self.config.clip_timeout_s
            ]
            for key, _ in stale:
                del self._clips[key]
        for (host, job_id), clip in stale:
            log.info(
                "clip %s/%s: dropped, no clip/end in %.0f s",
                host,
                job_id,
                self.config.clip_timeout_s,
            )
            self._error(
                clip.route, job_id, "bad_request",
                f"no clip/end within {self.config.clip_timeout_s:.0f} s of the last message",
            )  # fmt: skip

    # -- worker --------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._lock.wait(POLL_S)
                if self._stopping:
                    return
                job = self._queue.popleft()
                self._running = job
            replies: list[bytes] = []
            try:
                replies = self._run(job)
            finally:
                with self._lock:
                    self._running = None
                for packet in replies:  # after the job stopped counting as running
                    assert self.transport is not None
                    self.transport.reply(job.route, packet)
            if job.written:  # after the replies: clean-up is not on the latency path
                removed = clean_renders(
                    self.render_dir, self.config.keep_bytes, self.config.keep_age_s,
                    set(job.written),
                )  # fmt: skip
                if removed:
                    log.info("removed %d old render(s) from %s", removed, self.render_dir)

    def _progress(self, job: Job, fraction: float) -> None:
        job.fraction = fraction
        now = time.monotonic()
        if fraction - job.sent_fraction >= PROGRESS_STEP or now - job.sent_at >= PROGRESS_EVERY_S:
            self._send_progress(job, now)

    def _send_progress(self, job: Job, now: float) -> None:
        job.sent_fraction, job.sent_at = job.fraction, now
        self._send(job.route, p.PROGRESS, [job.job, float(job.fraction)], droppable=True)

    def _heartbeat(self) -> None:
        """Called by the outbox thread: progress at least every 0.5 s during a long call."""
        job = self._running
        if job is not None and job.sent_at and time.monotonic() - job.sent_at >= PROGRESS_EVERY_S:
            self._send_progress(job, time.monotonic())

    def _notices(self, job: Job, performance: Any) -> None:
        """What the job took from its input (drum parts, warnings, folds), before its end."""
        from drumgrid.server.midi_io import input_report

        for line in input_report(performance, job.io.note_map):
            self._send(job.route, p.NOTICE, [job.job, line[: p.MAX_ERROR_MESSAGE]])

    def _run(self, job: Job) -> list[bytes]:
        """Render one job; returns its terminal replies (done per take, or one error)."""
        from drumgrid.server.audio_io import write_audio

        start = time.monotonic()
        job.sent_at = start
        wait = start - job.received
        try:
            if job.cancel.is_set():
                raise Cancelled("cancelled before it started")
            performance = job.performance
            if performance is None:
                from drumgrid.server.midi_io import read_midi

                assert job.midi_path is not None
                performance = read_midi(
                    job.midi_path, job.io.channel, data=job.midi_data,
                    note_map=job.io.note_map,
                )  # fmt: skip
                check = getattr(self.renderer, "check", None)
                if check is not None:
                    check(performance, job.options)
            self._notices(job, performance)
            results = self.renderer.render(
                performance, job.options, lambda f: self._progress(job, f), job.cancel.is_set
            )
            rendered = time.monotonic()
            if job.cancel.is_set():
                raise Cancelled("cancelled")
            paths = output_paths(self.render_dir, job.job, job.out, len(results), job.label)
            check_not_users(self.render_dir, paths)  # again: a user may have put one there since
            for result, path in zip(results, paths, strict=True):
                audio, level = apply_level(result.audio, result.sample_rate, job.io.level)
                write_audio(path, audio, result.sample_rate, self.config.wav_format)
                self._send(job.route, p.NOTICE, [job.job, level.describe()])
            record_written(self.render_dir, paths)
            written = time.monotonic()
            replies = [
                p.encode(p.DONE, [job.job, str(path), int(r.sample_rate), int(r.audio.shape[0])])
                for r, path in zip(results, paths, strict=True)
            ]
            audio_s = sum(r.audio.shape[0] / r.sample_rate for r in results)
            render_s = rendered - start
            self.jobs_done += 1
            log.info(
                "job %s: done, %d take(s), %.2f s audio, wait %.3f s, render %.3f s (%.1fx "
                "realtime), write %.3f s -> %s",
                job.name, len(results), audio_s, wait, render_s, audio_s / max(render_s, 1e-9),
                written - rendered, paths[0],
            )  # fmt: skip
            job.written = paths
            return replies
        except UserError as exc:
            log.info(
                "job %s: %s after %.3f s (wait %.3f s): %s",
                job.name, exc.code, time.monotonic() - start, wait, exc,
            )  # fmt: skip
            return [p.error_message(job.job, exc.code, str(exc))]
        except Exception as exc:
            log.exception("job %s: internal error after %.3f s", job.name, time.monotonic() - start)
            message = f"internal error: {type(exc).__name__}: {exc}"
            return [p.error_message(job.job, "internal", message)]
