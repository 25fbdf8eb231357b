"""The OSC daemon behind `drumgrid serve` (daemon.py: queue, worker, handlers; transport.py:
sockets and where replies go; renders.py: the render folder). The protocol itself is
drumgrid.bridge."""

from drumgrid.server.daemon.daemon import Daemon, DaemonConfig, check_config, is_loopback

__all__ = ["Daemon", "DaemonConfig", "check_config", "is_loopback"]
