"""The native module builds, loads with one import and registers its ops."""

from __future__ import annotations

import torch

import drumgrid.server.ops  # noqa: F401


def test_module_loads_and_registers_ops() -> None:
    from drumgrid import _C

    assert isinstance(_C.with_cuda, bool)
    assert hasattr(torch.ops.drumgrid, "embed_tokens")
    tokens = torch.tensor([[[0, 2]]])
    tables = torch.arange(6, dtype=torch.float32).reshape(1, 3, 2)
    out = torch.ops.drumgrid.embed_tokens(tokens, tables, torch.zeros(1, 2, 2))
    assert out.tolist() == [[[0.0, 1.0], [4.0, 5.0]]]
