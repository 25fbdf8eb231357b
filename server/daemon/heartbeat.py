"""Progress replies of the running job: sent when it advanced PROGRESS_STEP, and at least
every PROGRESS_EVERY_S, also while one long model call reports nothing (the outbox thread
ticks `beat`), so a client can tell a slow render from a dead daemon."""

from __future__ import annotations

import time

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.jobs import Job, JobBoard
from drumgrid.server.daemon.replies import Replies

PROGRESS_STEP = 0.1  # send progress when it advanced this much ...
PROGRESS_EVERY_S = 0.5  # ... or this long after the last one


class Heartbeat:
    def __init__(self, board: JobBoard, replies: Replies) -> None:
        self.board, self.replies = board, replies

    def progress(self, job: Job, fraction: float) -> None:
        """The engine's progress callback (worker thread)."""
        job.fraction = fraction
        now = time.monotonic()
        if fraction - job.sent_fraction >= PROGRESS_STEP or now - job.sent_at >= PROGRESS_EVERY_S:
            self._send(job, now)

    def beat(self) -> None:
        """Called by the outbox thread: progress at least every 0.5 s during a long call."""
        job = self.board.running
        if job is not None and job.sent_at and time.monotonic() - job.sent_at >= PROGRESS_EVERY_S:
            self._send(job, time.monotonic())

    def _send(self, job: Job, now: float) -> None:
        job.sent_fraction, job.sent_at = job.fraction, now
        self.replies.send(job.route, p.PROGRESS, [job.job, float(job.fraction)], droppable=True)
