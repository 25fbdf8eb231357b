"""Shared fixtures: the read-only GMD data beside the repo, and a real daemon on loopback
with a tiny random model (test_daemon.py, test_hostile.py). Builders live in factories.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from paths import GMD_ROOT


@pytest.fixture(autouse=True)
def _fresh_log_limits():
    """The daemon's log limiter is process-wide: without a reset, a test that looks for a
    line can find it swallowed because an earlier test logged 20 like it seconds before."""
    from drumgrid.server.daemon.ratelimit import limited

    limited.reset()


@pytest.fixture(scope="session")
def gmd_root() -> Path:
    """GMD beside the checkout. Without it the tests that read it skip, by name in the
    summary; under CI (CI set) that is a failure, since CI always has it."""
    if not (GMD_ROOT / "info.csv").is_file():
        message = f"the Groove MIDI Dataset is not at {GMD_ROOT}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI runs with ../shared/data beside the checkout")
        pytest.skip(message)
    return GMD_ROOT


@pytest.fixture(scope="session")
def gmd_files(gmd_root: Path) -> list[Path]:
    """A fixed, spread-out sample of GMD files (every 34th of the sorted list)."""
    files = sorted(gmd_root.rglob("*.mid"))
    return files[::34]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """The real engine with a tiny random model (tests/engine_helpers.py), warmed up."""
    from engine_helpers import make_model_dir
    from factories import make_groove

    from drumgrid.server.engine import Engine, RenderOptions

    folder = make_model_dir(tmp_path_factory.mktemp("model"))
    engine = Engine.load(folder, device="cpu")
    engine.render(make_groove(1), RenderOptions(decoding="parallel", tail_s=0.0))  # warm-up
    return engine


@pytest.fixture(scope="module")
def daemon(engine, tmp_path_factory):
    from drumgrid.server.daemon import Daemon, DaemonConfig

    root = tmp_path_factory.mktemp("serve")
    config = DaemonConfig(
        udp_port=0, tcp_port=0, render_dir=root / "renders", max_queue=8, model_name="tiny"
    )
    daemon = Daemon(engine, config).start()
    yield daemon
    daemon.stop()
