"""What a peer's bad packets may cost the daemon: log lines per message template per window
(LimitedLog), and refusals answered per packet (RefusalBudget), so that neither a flood of
junk nor one bundle of it costs the network thread or the log much."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("drumgrid.serve")

# Refusals one packet can draw (besides jobs' endings, which are always sent); then the rest
# of it is dropped unread.
MAX_REFUSALS_PER_PACKET = 8


class LimitedLog:
    """A logger for lines a peer can cause: each message template gets at most `per_window`
    lines per `window_s`, then one line counting the rest, so no client can flood the log."""

    def __init__(self, logger: logging.Logger, per_window: int = 20, window_s: float = 10.0):
        self.logger, self.per_window, self.window_s = logger, per_window, window_s
        self._windows: dict[str, list[float]] = {}  # template -> [start, logged, suppressed]
        self._lock = threading.Lock()

    def log(self, level: int, template: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(template, [now, 0, 0])
            if now - window[0] > self.window_s:
                if window[2]:
                    self.logger.log(level, "... %d more like: %s", window[2], template)
                window[:] = [now, 0, 0]
            allowed = window[1] < self.per_window
            window[1 if allowed else 2] += 1
        if allowed:
            self.logger.log(level, template, *args)

    def reset(self) -> None:
        """Forget every window (tests: a log line must not depend on what ran before)."""
        with self._lock:
            self._windows.clear()

    def info(self, template: str, *args: object) -> None:
        self.log(logging.INFO, template, *args)

    def warning(self, template: str, *args: object) -> None:
        self.log(logging.WARNING, template, *args)


limited = LimitedLog(log)


class RefusalBudget:
    """The refusals one packet has drawn; a refusal that ends a job does not count."""

    def __init__(self, limit: int = MAX_REFUSALS_PER_PACKET) -> None:
        self.limit, self.answered = limit, 0

    @property
    def spent(self) -> bool:
        return self.answered >= self.limit

    def refused(self, ends_job: bool) -> None:
        self.answered += not ends_job
