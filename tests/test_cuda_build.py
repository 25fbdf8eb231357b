"""The torch-free CUDA sources compile with nvcc alone (no GPU needed), for sm_80 and sm_90."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CSRC = Path(__file__).resolve().parents[1] / "csrc"
CU_FILES = sorted((CSRC / "cuda").glob("*.cu"))


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
@pytest.mark.parametrize("source", CU_FILES, ids=[p.name for p in CU_FILES])
def test_cu_compiles_with_nvcc(source: Path, tmp_path: Path) -> None:
    cmd = [
        "nvcc", "-c", str(source), "-o", str(tmp_path / (source.stem + ".o")),
        "-std=c++17", "-O3", "--use_fast_math", f"-I{CSRC}", "-Xcompiler", "-fPIC",
        "-gencode", "arch=compute_80,code=sm_80", "-gencode", "arch=compute_90,code=sm_90",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr.lower(), result.stderr


def test_cuda_sources_exist() -> None:
    assert {p.name for p in CU_FILES} >= {"embed_tokens.cu", "sample_tokens.cu"}
