"""The network thread's side of the daemon: each packet is parsed and validated, queries are
answered at once, render requests become queued jobs, clip messages go to the clips, and
every refusal is answered where the request's answers would have gone. Nothing slow runs
here: no MIDI parsing, no rendering (a render's MIDI file is read as bytes, here, where it
is checked)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.clips import Clips
from drumgrid.server.daemon.config import DaemonConfig
from drumgrid.server.daemon.job_options import io_settings, known_kits, render_options
from drumgrid.server.daemon.jobs import Job, JobBoard
from drumgrid.server.daemon.ratelimit import RefusalBudget, limited
from drumgrid.server.daemon.renderer import Renderer
from drumgrid.server.daemon.renders import read_midi_file, resolve_midi_path
from drumgrid.server.daemon.replies import Replies
from drumgrid.server.daemon.transport import Connection, Route
from drumgrid.server.errors import UserError

log = logging.getLogger("drumgrid.serve")


@dataclass(frozen=True)
class About:
    """What queries answer with besides the queue: /drumgrid/pong, status and kits."""

    version: str
    device: str
    model_name: str
    kits_reply: bytes  # /drumgrid/kits, built once


class Dispatcher:
    def __init__(
        self,
        board: JobBoard,
        clips: Clips,
        replies: Replies,
        renderer: Renderer,
        config: DaemonConfig,
        render_dir: Path,
        about: About,
    ) -> None:
        self.board, self.clips, self.replies = board, clips, replies
        self.renderer, self.config, self.render_dir = renderer, config, render_dir
        self.about = about
        self.input_dir = None if config.input_dir is None else Path(config.input_dir).resolve()
        self.malformed_count = 0  # requests refused as malformed (tests, logs)

    def on_packet(self, data: bytes, route: Route) -> None:
        try:
            messages = p.parse_packet(data)
        except p.ProtocolError as exc:
            self._log_malformed(route, exc.message)
            self.replies.error(route, "", "bad_request", exc.message)
            return
        budget = RefusalBudget()  # past it, the rest of the packet is dropped unread
        for n, (address, args) in enumerate(messages):
            if budget.spent:
                left = len(messages) - n
                limited.info(
                    "%s: %d messages of a packet dropped after %d refusals", route, left, n
                )
                why = f"{left} more messages of this packet dropped unread after "
                self.replies.error(route, "", "bad_request", f"{why}{budget.answered} refusals")
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
                with self.board.lock:  # the refusal ends the clip: nothing of it renders later
                    self.board.clips.pop((route.host, job), None)
            budget.refused(ends_job=bool(job))  # a job's ending is always sent
            self.replies.error(target, job, code, message)

    def on_bad_stream(self, route: Route, why: str) -> None:
        self._log_malformed(route, why)
        self.replies.error(route, "", "bad_request", why)

    def holds_job(self, conn: Connection) -> bool:
        return self.board.holds(conn)

    def _refusal_target(self, route: Route, address: str, args: list[Any]) -> tuple[Route, str]:
        """Where a refusal of this request goes (where its answers would have gone: the
        reply port it names, or the route of the clip or job it is about) and the job id it
        carries: only a job the refusal ends, so that every job gets exactly one ending. A
        request that reuses a live job's id, a cancel, or notes for a clip that is not open
        end nothing, and are refused with an empty job id."""
        job = p.job_of(address, args)
        port = p.reply_port_of(address, args)
        key = (route.host, job)
        with self.board.lock:
            clip = self.board.clips.get(key)
            live = self.board.live_jobs(key)
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
            self.replies.send(route.replying_to(request.reply_port), p.PONG, [self.about.version])
        elif isinstance(request, p.Status):
            queued, running = self.board.counts()
            status = [queued, running, self.about.device, self.about.model_name]
            self.replies.send(route.replying_to(request.reply_port), p.STATUS, status)
        elif isinstance(request, p.Kits):
            reply = self.about.kits_reply  # a prompted model's list grows with saved kits:
            if self.renderer.prompted:
                reply = p.kits_message(known_kits(self.renderer))[0]
            self.replies.packet(route.replying_to(request.reply_port), reply)
        elif isinstance(request, p.Subscribe):
            assert self.replies.transport is not None
            self.replies.transport.subscribe(route, request.port)
            self.replies.send(route, p.SUBSCRIBED, [request.port])
            limited.info("%s: replies for %s go to UDP port %d", route, route.host, request.port)
        elif isinstance(request, p.Render):
            self._render(request, route)
        elif isinstance(request, p.ClipBegin):
            self.clips.begin(request, route)
        elif isinstance(request, p.ClipNotes):
            self.clips.notes(request, route)
        elif isinstance(request, p.ClipEnd):
            self.enqueue(self.clips.end(request, route))
        elif isinstance(request, p.Cancel):
            self._cancel(request.job, route)

    def _render(self, request: p.Render, route: Route) -> None:
        with self.board.lock:  # before any file is opened for it
            self.board.check_free(route.host, request.job)
        kits = known_kits(self.renderer)
        options, out = render_options(request.options, request.job, kits, self.render_dir)
        io = io_settings(request.options, request.job, False, self.renderer, self.input_dir)
        path = resolve_midi_path(request.midi_path, self.input_dir)
        data = read_midi_file(path, self.input_dir)  # opened and checked once, here
        route = route.replying_to(request.options.get("reply_port"))
        job = Job(
            route.host, request.job, route, options, out, midi_path=path, midi_data=data,
            io=io, label=request.options.get("name", path.stem),
        )  # fmt: skip
        self.enqueue(job)

    def enqueue(self, job: Job) -> None:
        max_queue = self.config.max_queue
        with self.board.lock:
            self.board.check_free(job.host, job.job)
            if self.board.stopping:
                raise UserError("the daemon is shutting down")
            busy = len(self.board.queue) >= max_queue
            if not busy:
                self.board.queue.append(job)
                self.replies.send(job.route, p.ACCEPTED, [job.job])  # queued before done can be
                self.board.lock.notify()
        if busy:
            limited.info("job %s: busy (queue of %d is full)", job.name, max_queue)
            self.replies.error(
                job.route, job.job, "busy",
                f"the queue is full ({max_queue} jobs); try again when one finishes",
            )  # fmt: skip

    def _cancel(self, job_id: str, route: Route) -> None:
        key = (route.host, job_id)
        with self.board.lock:
            clip = self.board.clips.pop(key, None)
            queued = next((job for job in self.board.queue if job.key == key), None)
            if queued is not None:
                self.board.queue.remove(queued)
            running = self.board.running
            running = running if running is not None and running.key == key else None
            if running is not None:
                running.cancel.set()  # the worker answers when the engine stops
        if clip is not None:
            self.replies.error(clip.route, job_id, "cancelled", "cancelled before clip/end")
        elif queued is not None:
            self.replies.error(queued.route, job_id, "cancelled", "cancelled while queued")
            log.info("job %s: cancelled while queued", queued.name)
        elif running is None:
            raise p.ProtocolError(f"no queued, running or open job {job_id!r} to cancel", job_id)
