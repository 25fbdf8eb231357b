"""What installing drumgrid pulls in: rendering and serving run on the base dependencies,
the training commands' extra ones are the `train` extra, and the native module builds
against the torch already installed (not one downloaded into an isolated build)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from paths import EXAMPLES, REPO

from drumgrid.training.cli import TRAIN_EXTRA

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

# Runs the CLI with the `train` extra's modules made unimportable, as on a render-only install.
WITHOUT_TRAIN_EXTRA = """
import sys
BLOCKED = set(sys.argv[1].split(","))
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Blocker())
from drumgrid.training.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _name(requirement: str) -> str:
    return requirement.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0]


def test_the_train_extra_is_what_the_cli_names():
    project = PYPROJECT["project"]
    train = {_name(r).strip() for r in project["optional-dependencies"]["train"]}
    base = {_name(r).strip() for r in project["dependencies"]}
    assert train == set(TRAIN_EXTRA.values())
    assert not train & base


def test_the_native_module_builds_against_the_installed_torch():
    requires = {_name(r).strip() for r in PYPROJECT["build-system"]["requires"]}
    assert "torch" not in requires
    assert "--no-build-isolation" in (REPO / "CMakeLists.txt").read_text()


def _without_train_extra(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    blocked = ",".join(TRAIN_EXTRA)
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TRAIN_EXTRA, blocked, *argv],
        capture_output=True, text=True, timeout=600, cwd=cwd,
    )  # fmt: skip


def test_rendering_needs_no_training_extra(tmp_path):
    out = tmp_path / "beat.wav"
    done = _without_train_extra(
        "render", str(EXAMPLES / "rock_100_beat.mid"), "-o", str(out), "--threads", "1",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    audio, rate = sf.read(out)
    assert rate == 44100 and audio.shape[0] > 10 * rate and abs(audio).max() > 0.1
    for argv in (("kits",), ("grid", str(EXAMPLES / "rock_100_beat.mid")), ("serve", "--help")):
        done = _without_train_extra(*argv, cwd=tmp_path)
        assert done.returncode == 0, (argv, done.stderr)
