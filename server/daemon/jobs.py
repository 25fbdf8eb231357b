"""The daemon's jobs and the board the threads share them on: clips between begin and end,
the bounded queue, the running job. One lock (a Condition the worker waits on) guards them;
the network thread adds and cancels, the worker takes, shutdown empties."""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.transport import POLL_S, Connection, Route
from drumgrid.server.drum_select import AUTO, ChannelSpec
from drumgrid.server.levels import DEFAULT_LEVEL, LevelTarget
from drumgrid.server.note_maps import GM_NOTE_MAP, NoteMap
from drumgrid.server.prompt_request import PromptRequest

if TYPE_CHECKING:
    from drumgrid.server.engine.options import RenderOptions
    from drumgrid.server.performance import Performance

JobKey = tuple[str, str]  # (host, job id): job ids are unique per host


@dataclass(frozen=True)
class IOSettings:
    """How a job's notes are read (which MIDI channels are drums, which pitch plays what),
    the level its audio is written at, and the kit prompt it renders from, if any."""

    channel: ChannelSpec = AUTO
    note_map: NoteMap = GM_NOTE_MAP
    level: LevelTarget = DEFAULT_LEVEL
    prompt: PromptRequest | None = None  # files of a kit prompt, checked to be readable
    save_kit: str | None = None  # save that prompt as a kit of this name


@dataclass(eq=False)
class Job:
    host: str
    job: str
    route: Route
    options: RenderOptions
    out: str | None
    performance: Performance | None = None  # for clips
    midi_path: Path | None = None  # for files: the name, for messages ...
    midi_data: bytes = b""  # ... and the bytes, read when the request arrived
    io: IOSettings = field(default_factory=IOSettings)
    label: str = "render"  # names the files: the MIDI file's stem or the clip's name
    received: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    fraction: float = 0.0  # progress, and what of it was sent when (heartbeat.py)
    sent_fraction: float = 0.0
    sent_at: float = 0.0
    written: list[Path] = field(default_factory=list)

    @property
    def key(self) -> JobKey:
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


class JobBoard:
    """Methods whose docstring says "lock held" expect the caller to hold `lock`."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.queue: collections.deque[Job] = collections.deque()
        self.running: Job | None = None
        self.clips: dict[JobKey, PendingClip] = {}
        self.stopping = False

    def live_jobs(self, key: JobKey) -> list[Job]:
        """Queued or running jobs with this key (lock held)."""
        return [j for j in (*self.queue, self.running) if j is not None and j.key == key]

    def in_use(self, key: JobKey) -> bool:
        """Lock held."""
        return key in self.clips or bool(self.live_jobs(key))

    def check_free(self, host: str, job: str) -> None:
        """Lock held."""
        if self.in_use((host, job)):
            raise p.ProtocolError(
                f"job id {job!r} is already in use by a queued, running or unfinished job "
                "from this host; use a new id per job",
                job,
            )

    def holds(self, conn: Connection) -> bool:
        """Does an open clip or a queued or running job wait to reply on this connection?"""
        with self.lock:
            jobs = [*self.clips.values(), *self.queue, self.running]
        return any(j is not None and j.route.conn is conn for j in jobs)

    def counts(self) -> tuple[int, int]:
        """(queued, running)"""
        with self.lock:
            return len(self.queue), int(self.running is not None)

    def take_next(self) -> Job | None:
        """The worker's next job, now running; None once the daemon stops."""
        with self.lock:
            while not self.queue and not self.stopping:
                self.lock.wait(POLL_S)
            if self.stopping:
                return None
            self.running = self.queue.popleft()
            return self.running

    def finished(self) -> None:
        with self.lock:
            self.running = None

    def stop(self) -> tuple[list[Job], list[tuple[JobKey, PendingClip]]]:
        """No more jobs: returns the queued jobs and open clips (to answer `cancelled`) and
        cancels the running job at its next window."""
        with self.lock:
            self.stopping = True
            queued, self.queue = list(self.queue), collections.deque()
            clips, self.clips = list(self.clips.items()), {}
            if self.running is not None:
                self.running.cancel.set()
            self.lock.notify_all()
        return queued, clips
