"""The OSC daemon behind `drumgrid serve`, one module per job: daemon.py wires them and owns
the lifecycle; config.py the settings and security policy; dispatch.py the network thread's
handling of each request; clips.py clips sent as notes; jobs.py the jobs and the board the
threads share; job_options.py a request's options as the engine's; worker.py the render
thread; heartbeat.py progress replies; ratelimit.py what bad packets may cost; replies.py
where replies go; renderer.py what the daemon needs from the engine; transport.py sockets and
routes; renders.py the render folder. The protocol itself is drumgrid.bridge."""

from drumgrid.server.daemon.config import DaemonConfig, check_config, is_loopback
from drumgrid.server.daemon.daemon import Daemon

__all__ = ["Daemon", "DaemonConfig", "check_config", "is_loopback"]
