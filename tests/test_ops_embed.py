"""embed_tokens against its reference: values, dtypes, odd and strided shapes, bad ids,
gradients, opcheck, export with a dynamic T and compile(fullgraph=True)."""

from __future__ import annotations

import pytest
import torch

from drumgrid.server.ops import WITH_CUDA, embed_tokens, embed_tokens_reference

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=[
            pytest.mark.cuda,
            pytest.mark.skipif(
                not (WITH_CUDA and torch.cuda.is_available()), reason="no CUDA device or build"
            ),
        ],
    ),
]


def make_inputs(
    B: int, K: int, T: int, D: int, V: int, dtype: torch.dtype, device: str, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, V + 1, (B, K, T), generator=g)  # [B, K, T], V = MASK
    tables = torch.randn(K, V + 1, D, generator=g)  # [K, V+1, D]
    cond = torch.randn(B, T, D, generator=g)  # [B, T, D]
    return tokens.to(device), tables.to(device, dtype), cond.to(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("shape", [(2, 9, 37, 64, 16), (1, 3, 5, 33, 7), (3, 1, 2, 8, 1)])
def test_matches_reference(device: str, dtype: torch.dtype, shape: tuple[int, ...]) -> None:
    tokens, tables, cond = make_inputs(*shape, dtype=dtype, device=device)
    out = embed_tokens(tokens, tables, cond)
    ref = embed_tokens_reference(tokens.cpu(), tables.cpu(), cond.cpu())
    assert out.dtype == dtype and out.shape == cond.shape
    out, ref = out.cpu().float(), ref.float()
    if dtype == torch.float32:
        assert ((out - ref).abs().max() / ref.abs().max()).item() < 1e-6
    else:  # fp32 accumulation, one rounding: within one unit in the last place
        torch.testing.assert_close(out, ref, rtol=torch.finfo(dtype).eps, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_mask_row_and_non_contiguous(device: str) -> None:
    B, K, T, D, V = 2, 4, 11, 24, 6
    tokens, tables, cond = make_inputs(B, K, T, D, V, torch.float32, device)
    tokens[:, :, ::2] = V  # MASK
    tokens_nc = tokens.transpose(1, 2).contiguous().transpose(1, 2)  # same values, strided
    tables_big = torch.randn(K, V + 1, 2 * D, device=device)
    tables_big[..., ::2] = tables
    tables_nc = tables_big[..., ::2]  # [K, V+1, D], stride 2
    cond_nc = cond.transpose(0, 1).contiguous().transpose(0, 1)  # [B, T, D], strided
    assert not (tokens_nc.is_contiguous() or tables_nc.is_contiguous() or cond_nc.is_contiguous())
    out = embed_tokens(tokens_nc, tables_nc, cond_nc)
    torch.testing.assert_close(out, embed_tokens(tokens, tables, cond), rtol=0, atol=0)
    ref = embed_tokens_reference(tokens.cpu(), tables.cpu(), cond.cpu())
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bad", [-1, 7, 1 << 40])
def test_bad_ids_raise(device: str, bad: int) -> None:
    tokens, tables, cond = make_inputs(2, 3, 5, 8, 6, torch.float32, device)  # ids in [0, 6]
    tokens[1, 2, 4] = bad
    with pytest.raises(RuntimeError, match=r"outside|expected token ids"):
        embed_tokens(tokens, tables, cond)
        if device == "cuda":
            torch.cuda.synchronize()


@pytest.mark.parametrize("device", DEVICES)
def test_shape_errors_name_expected_and_got(device: str) -> None:
    tokens, tables, cond = make_inputs(2, 3, 5, 8, 6, torch.float32, device)
    with pytest.raises(RuntimeError, match="expected cond"):
        embed_tokens(tokens, tables, cond[:, :4])
    with pytest.raises(RuntimeError, match="expected cond dtype"):
        embed_tokens(tokens, tables, cond.double())


@pytest.mark.parametrize("device", DEVICES)
def test_backward_matches_reference(device: str) -> None:
    tokens, tables, cond = make_inputs(2, 3, 9, 16, 4, torch.float32, device)
    tokens[0, 0, :3] = 1  # repeated ids accumulate
    t1, c1 = tables.clone().requires_grad_(), cond.clone().requires_grad_()
    t2, c2 = tables.clone().requires_grad_(), cond.clone().requires_grad_()
    grad = torch.randn_like(cond)
    embed_tokens(tokens, t1, c1).backward(grad)
    embed_tokens_reference(tokens, t2, c2).backward(grad)
    torch.testing.assert_close(t1.grad, t2.grad)
    torch.testing.assert_close(c1.grad, c2.grad)


@pytest.mark.parametrize("device", DEVICES)
def test_opcheck(device: str) -> None:
    tokens, tables, cond = make_inputs(2, 3, 5, 8, 6, torch.float32, device)
    torch.library.opcheck(torch.ops.drumgrid.embed_tokens.default, (tokens, tables, cond))
    torch.library.opcheck(
        torch.ops.drumgrid.embed_tokens.default,
        (tokens, tables.requires_grad_(), cond.requires_grad_()),
    )


class _Embed(torch.nn.Module):
    def __init__(self, tables: torch.Tensor) -> None:
        super().__init__()
        self.tables = torch.nn.Parameter(tables)

    def forward(self, tokens: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return embed_tokens(tokens, self.tables, cond) * 2.0


def test_export_dynamic_T_and_compile_fullgraph() -> None:
    tokens, tables, cond = make_inputs(2, 3, 8, 16, 5, torch.float32, "cpu")
    model = _Embed(tables).eval()
    T = torch.export.Dim("T", min=2, max=4096)
    with torch.no_grad():
        ep = torch.export.export(
            model, (tokens, cond), dynamic_shapes={"tokens": {2: T}, "cond": {1: T}}
        )
    assert any("drumgrid.embed_tokens" in str(n.target) for n in ep.graph.nodes)
    for t_len in (2, 13):
        tok, _, cnd = make_inputs(2, 3, t_len, 16, 5, torch.float32, "cpu", seed=t_len)
        with torch.no_grad():
            torch.testing.assert_close(ep.module()(tok, cnd), model(tok, cnd))
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(tokens, cond), model(tokens, cond))
