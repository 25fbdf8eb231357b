"""Clips sent as notes: clip/begin opens one (its options checked at once), clip/notes add
to it, clip/end turns it into a job (a Performance, checked by the engine before it is
queued). Clips whose notes stop coming are dropped."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.config import DaemonConfig
from drumgrid.server.daemon.job_options import io_settings, known_kits, render_options
from drumgrid.server.daemon.jobs import Job, JobBoard, PendingClip
from drumgrid.server.daemon.renderer import Renderer
from drumgrid.server.daemon.replies import Replies
from drumgrid.server.daemon.transport import Route

log = logging.getLogger("drumgrid.serve")

SWEEP_EVERY_S = 1.0


class Clips:
    def __init__(
        self,
        board: JobBoard,
        config: DaemonConfig,
        renderer: Renderer,
        render_dir: Path,
        replies: Replies,
    ) -> None:
        self.board, self.config, self.renderer = board, config, renderer
        self.render_dir, self.replies = render_dir, replies
        self.input_dir = None if config.input_dir is None else Path(config.input_dir).resolve()
        self._last_sweep = 0.0

    def begin(self, request: p.ClipBegin, route: Route) -> None:
        render_options(request.options, request.job, known_kits(self.renderer), self.render_dir)
        io_settings(request.options, request.job, True, self.renderer, self.input_dir)  # now
        key = (route.host, request.job)
        limit = self.config.max_clips_per_host
        with self.board.lock:
            self.board.check_free(*key)
            if sum(1 for h, _ in self.board.clips if h == route.host) >= limit:
                raise p.ProtocolError(
                    f"{limit} clips from this host are already between clip/begin and "
                    "clip/end; end or cancel one first",
                    request.job,
                )
            reply_to = route.replying_to(request.options.get("reply_port"))
            self.board.clips[key] = PendingClip(reply_to, request)

    def notes(self, request: p.ClipNotes, route: Route) -> None:
        key = (route.host, request.job)
        with self.board.lock:
            clip = self.board.clips.get(key)
            if clip is None:
                raise p.ProtocolError(
                    f"no clip {request.job!r} is open: send /drumgrid/clip/begin first", request.job
                )
            if len(clip.notes) + len(request.notes) > self.config.max_notes:
                del self.board.clips[key]
                raise p.ProtocolError(
                    f"clip has more than {self.config.max_notes} notes; dropped", request.job
                )
            clip.notes.extend(request.notes)
            clip.touched = time.monotonic()

    def end(self, request: p.ClipEnd, route: Route) -> Job:
        """The clip as a job to queue; its replies go where clip/begin came from (clip/end
        may come from another process)."""
        from drumgrid.server.performance import BeatNote, from_beat_notes

        with self.board.lock:
            clip = self.board.clips.pop((route.host, request.job), None)
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
        kits = known_kits(self.renderer)
        options, out = render_options(begin.options, begin.job, kits, self.render_dir)
        io = io_settings(begin.options, begin.job, True, self.renderer, self.input_dir)
        notes = [BeatNote(pitch, start, dur, vel) for pitch, start, dur, vel in clip.notes]
        performance = from_beat_notes(
            notes, begin.tempo, begin.length_beats, (begin.sig_num, begin.sig_den),
            io.note_map,
        )  # fmt: skip
        self.renderer.check(performance, options)  # the engine's refusals: bad_midi, too_long
        label = str(begin.options.get("name", "clip"))
        return Job(route.host, begin.job, clip.route, options, out, performance, io=io, label=label)

    def sweep(self) -> None:
        """Drop clips whose notes stopped coming (called by the network thread when idle)."""
        now = time.monotonic()
        if now - self._last_sweep < SWEEP_EVERY_S:
            return
        self._last_sweep = now
        timeout = self.config.clip_timeout_s
        with self.board.lock:
            stale = [(k, c) for k, c in self.board.clips.items() if now - c.touched > timeout]
            for key, _ in stale:
                del self.board.clips[key]
        for (host, job_id), clip in stale:
            log.info("clip %s/%s: dropped, no clip/end in %.0f s", host, job_id, timeout)
            self.replies.error(
                clip.route, job_id, "bad_request",
                f"no clip/end within {timeout:.0f} s of the last message",
            )  # fmt: skip
