"""The OSC daemon: one loaded engine, a bounded job queue, one render worker.

    network thread (transport.py)     parse -> validate -> enqueue, or answer at once
        |  Job (performance or MIDI path, RenderOptions, where to reply)    (dispatch.py,
        v                                                                     clips.py)
    bounded queue (max_queue; full -> error busy)                           (jobs.py)
        |
        v
    worker thread                     read MIDI -> engine.render -> WAVs (temp + rename)
        |                             -> done per take / error; progress while rendering
        v                                                                   (worker.py)
    outbox thread (transport.py)      writes every reply; progress heartbeat every 0.5 s
                                                                            (heartbeat.py)

Nothing slow runs on the network thread: it parses and validates (clip notes become a
Performance there, which is arithmetic on the notes) and reads the bytes of a MIDI file a
render names (a small regular file, opened without blocking: where it is checked is where
it is read), but never parses MIDI or renders. What a peer's bad packets may cost is bounded
in ratelimit.py; the security policy is config.py's.
Every job gets exactly one terminal reply: one /drumgrid/done per take, or one
/drumgrid/error (bad_request, bad_midi, unknown_kit, too_long, busy, cancelled, internal).
"""

from __future__ import annotations

import logging

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.clips import Clips
from drumgrid.server.daemon.config import DaemonConfig, check_config
from drumgrid.server.daemon.dispatch import About, Dispatcher
from drumgrid.server.daemon.heartbeat import Heartbeat
from drumgrid.server.daemon.jobs import JobBoard
from drumgrid.server.daemon.renderer import Renderer
from drumgrid.server.daemon.renders import (
    default_render_dir,
    prepare_render_dir,
    remove_stale_temps,
)
from drumgrid.server.daemon.replies import Replies
from drumgrid.server.daemon.transport import Transport
from drumgrid.server.daemon.worker import Worker
from drumgrid.server.errors import UserError

log = logging.getLogger("drumgrid.serve")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("drumgrid")
    except PackageNotFoundError:
        return "unknown"


class Daemon:
    def __init__(self, renderer: Renderer, config: DaemonConfig | None = None) -> None:
        self.config = config = config or DaemonConfig()
        check_config(config)
        self.renderer = renderer
        self.render_dir = prepare_render_dir(config.render_dir or default_render_dir())
        if stale := remove_stale_temps(self.render_dir):
            log.info("removed %d temp file(s) of drumgrid processes that were killed", stale)
        self.version = _version()
        self.device = str(renderer.device)
        self.model_name = config.model_name or "?"
        kits = [str(kit) for kit in renderer.kits]
        kits_reply, fitted = p.kits_message(kits)
        if fitted < len(kits):
            log.warning(
                "/drumgrid/kits lists %d of the model's %d kits (one datagram)", fitted, len(kits)
            )
        self.transport: Transport | None = None
        self.board = JobBoard()
        self.replies = Replies()
        self.clips = Clips(self.board, config, renderer, self.render_dir, self.replies)
        about = About(self.version, self.device, self.model_name, kits_reply)
        self.dispatcher = Dispatcher(
            self.board, self.clips, self.replies, renderer, config, self.render_dir, about
        )
        self.heartbeat = Heartbeat(self.board, self.replies)
        self.worker = Worker(
            self.board, renderer, config, self.render_dir, self.replies, self.heartbeat
        )
        self.input_dir = self.dispatcher.input_dir

    @property
    def jobs_done(self) -> int:
        return self.worker.jobs_done

    @property
    def malformed_count(self) -> int:
        """Requests refused as malformed (tests, logs)."""
        return self.dispatcher.malformed_count

    def start(self) -> Daemon:
        c = self.config
        try:
            self.transport = Transport(
                c.host, c.udp_port, c.tcp_port, self.dispatcher.on_packet, self.clips.sweep,
                self.dispatcher.on_bad_stream, self.dispatcher.holds_job,
            )  # fmt: skip
        except OSError as exc:
            raise UserError(
                f"cannot listen on {c.host} (UDP {c.udp_port}, TCP {c.tcp_port}): {exc.strerror}; "
                "is another drumgrid serve running? pick other ports with --port/--tcp-port"
            ) from None
        self.replies.transport = self.transport
        self.worker.start()
        self.transport.start(on_tick=self.heartbeat.beat)
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
        queued, clips = self.board.stop()
        for job in queued:
            self.replies.error(job.route, job.job, "cancelled", "the daemon is shutting down")
            log.info("job %s: cancelled (shutdown)", job.name)
        for (_, job_id), clip in clips:
            self.replies.error(clip.route, job_id, "cancelled", "the daemon is shutting down")
        self.worker.join(timeout)
        self.transport.close()
        self.transport = None
        self.replies.transport = None
        log.info("stopped")
