"""`drumgrid serve`: the OSC daemon (docs/osc.md). Loads the model once, warms it up, then
serves UDP and TCP on 127.0.0.1 until SIGINT or SIGTERM. `--bench` instead measures the
latency from the last /drumgrid/clip/end datagram to /drumgrid/done for a 4-bar clip."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from drumgrid.bridge.contract import (
    DECODING_METHODS,
    DEFAULT_HOST,
    DEFAULT_TCP_PORT,
    DEFAULT_UDP_PORT,
    MAX_PORT,
)
from drumgrid.server.commands.render import (
    add_max_length_argument,
    add_model_arguments,
    set_threads,
)
from drumgrid.server.daemon.config import DaemonConfig
from drumgrid.server.errors import UserError

MB = 1 << 20
HOUR_S = 3600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (loopback unless --allow-remote)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_UDP_PORT, help="UDP port")
    parser.add_argument(
        "--tcp-port",
        type=int,
        default=DEFAULT_TCP_PORT,
        help="TCP port (OSC 1.0 framing); 0 picks one, -1 turns TCP off",
    )
    parser.add_argument(
        "--render-dir", type=Path, help="where WAVs are written (default ~/.cache/drumgrid/renders)"
    )
    add_model_arguments(parser)
    parser.add_argument(
        "--max-queue", type=int, default=DaemonConfig.max_queue,
        help="queued jobs before requests are answered busy",
    )  # fmt: skip
    parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    parser.add_argument(
        "--input-dir",
        type=Path,
        help="read MIDI files only from here (required with --allow-remote)",
    )
    parser.add_argument(
        "--keep-mb", type=float, default=DaemonConfig.keep_bytes / MB,
        help="remove the oldest renders above this many MB",
    )  # fmt: skip
    parser.add_argument(
        "--keep-hours", type=float, default=DaemonConfig.keep_age_s / HOUR_S,
        help="remove renders older than this",
    )  # fmt: skip
    parser.add_argument(
        "--format", default=DaemonConfig.wav_format, choices=["pcm16", "pcm24", "float"],
        help="WAV sample format",
    )  # fmt: skip
    add_max_length_argument(parser)
    parser.add_argument("--no-warmup", action="store_true", help="skip the warm-up render at start")
    parser.add_argument(
        "--bench", action="store_true", help="measure clip/end -> done latency and exit"
    )
    parser.add_argument(
        "--bench-repeats", type=int, default=10, help="--bench: timed renders (median)"
    )
    parser.add_argument("--bench-decoding", default="parallel", choices=list(DECODING_METHODS))


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s drumgrid serve: %(message)s", datefmt="%H:%M:%S")
    )
    logger = logging.getLogger("drumgrid.serve")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def config_from_args(args: argparse.Namespace, model_name: str) -> DaemonConfig:
    if args.keep_mb <= 0 or args.keep_hours <= 0:
        raise UserError(
            f"--keep-mb and --keep-hours: expected > 0, got {args.keep_mb}, {args.keep_hours}"
        )
    for name, port in (("--port", args.port), ("--tcp-port", args.tcp_port)):
        if not -1 <= port <= MAX_PORT:
            raise UserError(f"{name} {port}: expected 0..{MAX_PORT}")
    return DaemonConfig(
        host=args.host, udp_port=args.port,
        tcp_port=None if args.tcp_port < 0 else args.tcp_port,
        render_dir=args.render_dir, max_queue=args.max_queue,
        allow_remote=args.allow_remote, input_dir=args.input_dir,
        keep_bytes=int(args.keep_mb * MB), keep_age_s=args.keep_hours * HOUR_S,
        wav_format=args.format, model_name=model_name,
    )  # fmt: skip


def model_name(model: str) -> str:
    from drumgrid.server.engine.models import PACKAGED_MODELS

    return str(model) if str(model) in PACKAGED_MODELS else Path(model).resolve().name


def run(args: argparse.Namespace) -> int:
    from drumgrid.server.daemon import Daemon, check_config
    from drumgrid.server.engine import Engine

    _setup_logging()
    log = logging.getLogger("drumgrid.serve")
    config = config_from_args(args, model_name(args.model))
    check_config(config)  # before the model loads: refuse an open address at once
    set_threads(args.threads)
    start = time.monotonic()
    engine = Engine.load(
        args.model, args.device, args.backend, args.codec_path,
        max_length_s=args.max_length, precision=args.precision,
    )  # fmt: skip
    log.info(
        "model %s loaded in %.1f s (backend %s, device %s)",
        config.model_name, time.monotonic() - start, engine.backend, engine.device,
    )  # fmt: skip
    if engine.backend_note:
        log.info("%s", engine.backend_note)
    if not args.no_warmup:
        start = time.monotonic()
        engine.warmup()
        log.info("warmed up in %.1f s", time.monotonic() - start)
    if args.bench:
        from drumgrid.server.daemon.bench import bench_daemon

        return bench_daemon(engine, config, args.bench_repeats, args.bench_decoding)

    daemon = Daemon(engine, config).start()
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("%s: shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(
        f"drumgrid serve: ready on {config.host} UDP {daemon.udp_port}"
        + (f", TCP {daemon.tcp_port}" if daemon.tcp_port is not None else ""),
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        daemon.stop()
    return 0
