"""The render worker: one thread takes the queue's jobs in turn, reads MIDI, renders through
the engine, writes each take (temp file + rename) and answers with one /drumgrid/done per
take or one /drumgrid/error; old renders are cleaned after the replies, off the latency
path."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.config import DaemonConfig
from drumgrid.server.daemon.heartbeat import Heartbeat
from drumgrid.server.daemon.jobs import Job, JobBoard
from drumgrid.server.daemon.renderer import Renderer
from drumgrid.server.daemon.renders import (
    check_not_users,
    clean_renders,
    output_paths,
    read_input_file,
    record_written,
)
from drumgrid.server.daemon.replies import Replies
from drumgrid.server.errors import Cancelled, UserError
from drumgrid.server.levels import apply_level
from drumgrid.server.performance import Performance
from drumgrid.server.prompts import Prompt

log = logging.getLogger("drumgrid.serve")


class Worker:
    def __init__(
        self,
        board: JobBoard,
        renderer: Renderer,
        config: DaemonConfig,
        render_dir: Path,
        replies: Replies,
        heartbeat: Heartbeat,
    ) -> None:
        self.board, self.renderer, self.config = board, renderer, config
        self.render_dir, self.replies, self.heartbeat = render_dir, replies, heartbeat
        self.jobs_done = 0
        self._thread: threading.Thread | None = None
        self.input_dir = None if config.input_dir is None else Path(config.input_dir).resolve()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="drumgrid-render", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _work(self) -> None:
        while (job := self.board.take_next()) is not None:
            replies: list[bytes] = []
            try:
                replies = self.run(job)
            finally:
                self.board.finished()
                for packet in replies:  # after the job stopped counting as running
                    self.replies.packet(job.route, packet)
            if job.written:  # after the replies: clean-up is not on the latency path
                removed = clean_renders(
                    self.render_dir, self.config.keep_bytes, self.config.keep_age_s,
                    set(job.written),
                )  # fmt: skip
                if removed:
                    log.info("removed %d old render(s) from %s", removed, self.render_dir)

    def _notices(self, job: Job, performance: Performance) -> None:
        """What the job took from its input (drum parts, warnings, folds), before its end."""
        from drumgrid.server.midi_io import input_report

        for line in input_report(performance, job.io.note_map):
            self.replies.packet(job.route, p.notice_message(job.job, line))

    def _prompt(self, job: Job, performance: Performance) -> Prompt | None:
        """The job's kit prompt: its files read (as its MIDI is: no FIFOs, inside the input
        folder) and encoded, saved as a kit when asked; or the saved kit its `kit` names. Its
        notices (what was cut or resampled, classes it never plays) go out before the end."""
        from drumgrid.server.prompts import prompt_notices, save_named_kit

        request = job.io.prompt
        if request is None:
            prompt = self.renderer.kit_prompt(job.options.kit)
        else:
            prompt = self.renderer.read_prompt(request, self._read_input)
        if prompt is None:
            return None
        lines = prompt_notices(prompt, performance)
        if job.io.save_kit is not None:
            path = save_named_kit(prompt, job.io.save_kit)
            lines.append(f"kit {job.io.save_kit} saved: {path}")
        for line in lines:
            self.replies.packet(job.route, p.notice_message(job.job, line))
        return prompt

    def _read_input(self, path: Path, max_bytes: int, what: str) -> bytes:
        return read_input_file(path, self.input_dir, max_bytes, what)

    def _performance(self, job: Job) -> Performance:
        """A clip's performance, or the job's MIDI file read and checked by the engine."""
        if job.performance is not None:
            return job.performance
        from drumgrid.server.midi_io import read_midi

        assert job.midi_path is not None
        performance = read_midi(
            job.midi_path, job.io.channel, data=job.midi_data, note_map=job.io.note_map
        )
        self.renderer.check(performance, job.options)
        return performance

    def run(self, job: Job) -> list[bytes]:
        """Render one job; returns its terminal replies (done per take, or one error)."""
        from drumgrid.server.audio_io import write_audio

        start = time.monotonic()
        job.sent_at = start
        wait = start - job.received
        try:
            if job.cancel.is_set():
                raise Cancelled("cancelled before it started")
            performance = self._performance(job)
            self._notices(job, performance)
            prompt = self._prompt(job, performance)
            results = self.renderer.render(
                performance, job.options, lambda f: self.heartbeat.progress(job, f),
                job.cancel.is_set, prompt,
            )  # fmt: skip
            rendered = time.monotonic()
            if job.cancel.is_set():
                raise Cancelled("cancelled")
            if results[0].prompt_fit is not None:  # which kit a prompt rendered as
                self.replies.send(job.route, p.NOTICE, [job.job, results[0].prompt_fit.notice()])
            paths = output_paths(self.render_dir, job.job, job.out, len(results), job.label)
            check_not_users(self.render_dir, paths)  # again: a user may have put one there since
            for result, path in zip(results, paths, strict=True):
                audio, level = apply_level(result.audio, result.sample_rate, job.io.level)
                write_audio(path, audio, result.sample_rate, self.config.wav_format)
                self.replies.send(job.route, p.NOTICE, [job.job, level.describe()])
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
