"""What the machine offers: --device values, and the precision a processor runs well (read
from /proc/cpuinfo by server/devices.py, the one place that reads it)."""

from __future__ import annotations

import pytest
import torch

from drumgrid.server.devices import (
    cpu_flags,
    cpu_model,
    cpu_precision,
    native_precision,
    resolve_device,
)
from drumgrid.server.engine.engine import resolve_precision
from drumgrid.server.errors import UserError

ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9654 96-Core Processor
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512vl
bogomips\t: 4792.83

processor\t: 1
model name\t: AMD EPYC 9654 96-Core Processor
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512vl
"""
AVX2 = "model name\t: Intel(R) Core(TM) i7-8700\nflags\t\t: fpu sse2 avx2 fma\n"
SAPPHIRE_RAPIDS = "flags\t\t: avx2 amx_tile amx_bf16 amx_int8\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes bf16\nCPU part\t: 0xd0c\n"
# Flags named like the native ones but not them: no substring matches.
LOOKALIKE = "flags\t\t: xavx512_bf16 amx_bf16x\n"


def test_cpu_flags_and_model_are_read_from_cpuinfo_text() -> None:
    assert "avx512_bf16" in cpu_flags(ZEN4) and "avx2" in cpu_flags(AVX2)
    assert cpu_model(ZEN4) == "AMD EPYC 9654 96-Core Processor"
    assert cpu_model(ARM) is None and cpu_flags("") == frozenset()
    assert "asimd" in cpu_flags(ARM)


@pytest.mark.parametrize(
    ("cpuinfo", "dtype"),
    [
        (ZEN4, torch.bfloat16),
        (SAPPHIRE_RAPIDS, torch.bfloat16),
        (AVX2, torch.float32),  # bf16 emulated: slower than fp32
        (ARM, torch.float32),
        (LOOKALIKE, torch.float32),
        ("", torch.float32),  # nothing known: the exact choice
    ],
)
def test_cpu_precision_is_bf16_only_where_it_is_native(cpuinfo: str, dtype: torch.dtype) -> None:
    assert cpu_precision(cpu_flags(cpuinfo)) == dtype


def test_the_engine_asks_the_device_what_auto_means() -> None:
    cpu = torch.device("cpu")
    assert native_precision(cpu) == cpu_precision()
    assert resolve_precision("auto", cpu, "eager") == cpu_precision()
    assert resolve_precision("bf16", cpu, "eager") == torch.bfloat16
    assert resolve_precision("fp32", cpu, "eager") == torch.float32
    assert resolve_precision("auto", cpu, "tensorrt") == torch.float32
    with pytest.raises(UserError, match="expected one of auto, fp32, bf16"):
        resolve_precision("fp16", cpu, "eager")


def test_device_names() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(UserError, match="expected cpu, cuda, cuda:N or auto"):
        resolve_device("tpu")
