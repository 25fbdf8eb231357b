"""`drumgrid serve --bench`: latency from the last /drumgrid/clip/end datagram to
/drumgrid/done for a 4-bar clip at 120 bpm, against the engine's own render time for the same
clip. The difference is the daemon's overhead: parsing, queueing, the worker hand-off, the WAV
write and the reply (target: at most 20 ms)."""

from __future__ import annotations

import socket
import statistics
import tempfile
import time
from pathlib import Path

from drumgrid.bridge import protocol as p


def groove_notes(bars: int = 4) -> list[tuple[int, float, float, float]]:
    notes = []
    for step in range(bars * 16):
        beat = step / 4
        notes.append((42, beat + (0.01 if step % 2 else 0.0), 0.25, 60.0 + 5 * (step % 4)))
        if step % 8 == 0:
            notes.append((36, beat, 0.25, 110.0))
        if step % 8 == 4:
            notes.append((38, beat, 0.25, 100.0))
    return notes


def bench_daemon(engine, config, repeats: int = 10, decoding: str = "parallel") -> int:
    from dataclasses import replace

    from drumgrid.server.daemon.daemon import Daemon
    from drumgrid.server.engine import RenderOptions
    from drumgrid.server.performance import BeatNote, from_beat_notes

    notes = groove_notes(4)
    performance = from_beat_notes([BeatNote(*n) for n in notes], 120.0, 16.0)
    options = RenderOptions(decoding=decoding)
    with tempfile.TemporaryDirectory() as tmp:
        config = replace(config, host="127.0.0.1", udp_port=0, tcp_port=None, render_dir=Path(tmp))
        daemon = Daemon(engine, config).start()
        try:
            direct, latency = [], []
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", 0))
                s.settimeout(120)
                target = ("127.0.0.1", daemon.udp_port)
                for i in range(repeats + 1):
                    start = time.perf_counter()
                    engine.render(performance, options)
                    direct.append(time.perf_counter() - start)
                    job = f"bench-{i}"
                    s.sendto(p.clip_begin_message(job, 120.0, 16.0, decoding=decoding), target)
                    for message in p.clip_notes_messages(job, notes):
                        s.sendto(message, target)
                    end = p.encode(p.CLIP_END, [job])
                    start = time.perf_counter()
                    s.sendto(end, target)
                    while True:
                        data = s.recv(65536)
                        ((address, args),) = p.parse_packet(data)
                        if address in (p.DONE, p.ERROR) and args[0] == job:
                            break
                    latency.append(time.perf_counter() - start)
                    if address == p.ERROR:
                        raise RuntimeError(f"bench render failed: {args}")
        finally:
            daemon.stop()
    direct, latency = direct[1:], latency[1:]  # the first of each pays one-off costs
    d, lat = statistics.median(direct), statistics.median(latency)
    print(
        f"drumgrid serve --bench: 4 bars at 120 bpm ({performance.length_s:.0f} s + tail), "
        f"{decoding}, device {engine.device}, backend {engine.backend}, {repeats} runs (median)"
    )
    print(f"  engine.render alone            {d * 1e3:8.1f} ms")
    print(f"  clip/end -> done via daemon    {lat * 1e3:8.1f} ms")
    print(f"  daemon overhead                {(lat - d) * 1e3:8.1f} ms (target <= 20 ms)")
    return 0
