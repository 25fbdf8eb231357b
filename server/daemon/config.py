"""How a daemon is set up (DaemonConfig) and the security policy it refuses to start without:
a non-loopback address needs --allow-remote, and then MIDI is read only from --input-dir."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from drumgrid.bridge.contract import DEFAULT_HOST, DEFAULT_TCP_PORT, DEFAULT_UDP_PORT
from drumgrid.bridge.protocol import MAX_CLIP_NOTES
from drumgrid.server.errors import UserError

MAX_QUEUE_LIMIT = 10_000


@dataclass(frozen=True)
class DaemonConfig:
    host: str = DEFAULT_HOST
    udp_port: int = DEFAULT_UDP_PORT
    tcp_port: int | None = DEFAULT_TCP_PORT  # None: no TCP listener
    render_dir: Path | None = None  # None: renders.default_render_dir()
    max_queue: int = 16
    allow_remote: bool = False
    input_dir: Path | None = None
    keep_bytes: int = 1 << 30  # old renders are removed above 1 GiB ...
    keep_age_s: float = 24 * 3600.0  # ... or after a day
    clip_timeout_s: float = 60.0  # a clip whose notes stop arriving is dropped after this
    max_clips_per_host: int = 16  # clips between begin and end at once
    max_notes: int = MAX_CLIP_NOTES  # per clip
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
    if not 1 <= config.max_queue <= MAX_QUEUE_LIMIT:
        raise UserError(f"--max-queue {config.max_queue}: expected 1..{MAX_QUEUE_LIMIT}")
    if is_loopback(config.host):
        return
    if not config.allow_remote:
        raise UserError(
            f"--host {config.host} is not a loopback address: anyone who can reach it could "
            "render with this machine; pass --allow-remote (and --input-dir) if you mean it"
        )
    if config.input_dir is None:
        raise UserError("--allow-remote needs --input-dir: a remote daemon reads MIDI only there")
