"""sample_tokens against its reference draw for draw, argmax and its ties, the filtered set,
the distribution over 200,000 draws, errors, Philox known answers, opcheck, export, compile."""

from __future__ import annotations

import pytest
import torch

from drumgrid.server.ops import WITH_CUDA, sample_tokens, sample_tokens_reference
from drumgrid.server.ops.philox import philox4x32_10

HAS_CUDA = WITH_CUDA and torch.cuda.is_available()
CUDA = pytest.param(
    "cuda",
    marks=[pytest.mark.cuda, pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device or build")],
)
DEVICES = ["cpu", CUDA]

# (temperature, top_k, top_p): every filter combination, argmax with and without filters
CONFIGS = [
    (1.0, 0, 1.0),
    (0.8, 50, 0.9),
    (1.3, 5, 1.0),
    (1.0, 0, 0.6),
    (0.7, 3, 0.5),
    (0.0, 0, 1.0),
    (0.0, 7, 0.8),
    (1e-30, 0, 1.0),
]


def logits_for(shape: tuple[int, int, int, int], seed: int, scale: float = 3.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g) * scale  # [B, K, T, V]


def filtered_set(x: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """[R, V] bool: tokens allowed by top-k then top-p at temperature 1, from a plain sort."""
    V = x.shape[-1]
    probs, order = torch.sort(torch.softmax(x.double(), -1), dim=-1, descending=True, stable=True)
    keep = torch.ones_like(probs, dtype=torch.bool)
    if 0 < top_k < V:
        keep[:, top_k:] = False
    probs = probs * keep
    if top_p < 1:
        probs = probs / probs.sum(-1, keepdim=True)
        before = torch.cumsum(probs, -1) - probs
        keep &= before < top_p + 1e-9
    return torch.zeros_like(keep).scatter(-1, order, keep)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "t{}-k{}-p{}".format(*c))
@pytest.mark.parametrize("shape", [(2, 3, 41, 257), (1, 4, 9, 1024), (3, 1, 2, 2)])
def test_matches_reference_draw_for_draw(device: str, config: tuple, shape: tuple) -> None:
    temperature, top_k, top_p = config
    x = logits_for(shape, seed=sum(shape))
    tok, prob = sample_tokens(x.to(device), temperature, top_k, top_p, seed=1234, offset=5)
    ref_tok, ref_prob = sample_tokens_reference(x, temperature, top_k, top_p, 1234, 5)
    assert tok.dtype == torch.int64 and prob.dtype == torch.float32 and tok.shape == shape[:3]
    torch.testing.assert_close(tok.cpu(), ref_tok, rtol=0, atol=0)
    torch.testing.assert_close(prob.cpu(), ref_prob, rtol=1e-6, atol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_seed_offset_and_row_change_the_draw(device: str) -> None:
    x = torch.zeros(1, 1, 4000, 64, device=device)  # uniform: the draw is pure randomness
    a, _ = sample_tokens(x, 1.0, 0, 1.0, seed=1, offset=0)
    assert len(torch.unique(a)) == 64
    assert (a != sample_tokens(x, 1.0, 0, 1.0, seed=2, offset=0)[0]).float().mean() > 0.9
    assert (a != sample_tokens(x, 1.0, 0, 1.0, seed=1, offset=1)[0]).float().mean() > 0.9
    torch.testing.assert_close(a, sample_tokens(x, 1.0, 0, 1.0, seed=1, offset=0)[0])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_logits_and_non_contiguous(device: str, dtype: torch.dtype) -> None:
    x = logits_for((2, 3, 17, 96), seed=3).to(dtype)
    x_nc = x.permute(0, 2, 1, 3).contiguous().permute(0, 2, 1, 3).to(device)  # strided [B,K,T,V]
    assert not x_nc.is_contiguous()
    tok, prob = sample_tokens(x_nc, 0.9, 20, 0.95, seed=7, offset=3)
    ref_tok, ref_prob = sample_tokens_reference(x, 0.9, 20, 0.95, 7, 3)
    torch.testing.assert_close(tok.cpu(), ref_tok, rtol=0, atol=0)
    torch.testing.assert_close(prob.cpu(), ref_prob, rtol=1e-6, atol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_argmax_exact_with_ties(device: str) -> None:
    x = logits_for((2, 2, 50, 33), seed=9)
    x[0, 0, 0] = 1.0  # all tied: id 0
    x[0, 0, 1, [4, 9, 20]] = 50.0  # three-way tie: id 4
    x[0, 0, 2, 5] = 0.0
    x[0, 0, 2, 3] = -0.0  # -0 and +0 tie at the top: id 3
    x[0, 0, 2, [i for i in range(33) if i not in (3, 5)]] = -1.0
    tok, prob = sample_tokens(x.to(device), 0.0, 0, 1.0, seed=0, offset=0)
    expected = torch.argmax(x, dim=-1)  # first maximal index
    assert tok[0, 0, :3].tolist() == [0, 4, 3]
    torch.testing.assert_close(tok.cpu(), expected, rtol=0, atol=0)
    torch.testing.assert_close(prob.cpu(), torch.softmax(x.double(), -1).amax(-1).float())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("top_k,top_p", [(10, 1.0), (0, 0.7), (20, 0.5), (1, 1.0)])
def test_never_outside_the_filtered_set(device: str, top_k: int, top_p: float) -> None:
    x = logits_for((1, 1, 3000, 100), seed=11, scale=2.0)
    tok, _ = sample_tokens(x.to(device), 1.0, top_k, top_p, seed=5, offset=0)
    allowed = filtered_set(x.view(-1, 100), top_k, top_p)  # [R, V]
    assert allowed.gather(-1, tok.cpu().view(-1, 1)).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("temperature,top_k,top_p", [(1.0, 0, 1.0), (0.8, 12, 0.9), (1.5, 0, 0.8)])
def test_frequencies_match_filtered_probabilities(
    device: str, temperature: float, top_k: int, top_p: float
) -> None:
    V, N = 40, 200_000
    row = logits_for((1, 1, 1, V), seed=13, scale=1.5)
    x = row.expand(1, 1, N, V).to(device)  # the same row N times, one draw each
    tok, prob = sample_tokens(x, temperature, top_k, top_p, seed=99, offset=0)
    # expected distribution: the reference's probabilities of every token of the row
    z = row.view(1, V).double() / temperature
    allowed = filtered_set(z, top_k, top_p)[0]  # [V]
    p = torch.softmax(z[0], -1) * allowed
    p = p / p.sum()
    freq = torch.bincount(tok.cpu().view(-1), minlength=V).double() / N
    assert 0.5 * (freq - p).abs().sum().item() < 0.01
    torch.testing.assert_close(
        prob.cpu().view(-1).double(), p[tok.cpu().view(-1)], rtol=1e-6, atol=0
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_logits_raise(device: str, bad: float) -> None:
    x = logits_for((1, 2, 3, 10), seed=1)
    x[0, 1, 2, 7] = bad
    with pytest.raises(RuntimeError, match="finite"):
        sample_tokens(x.to(device), 1.0, 0, 1.0)
        if device == "cuda":
            torch.cuda.synchronize()


@pytest.mark.parametrize("device", DEVICES)
def test_bad_arguments_raise(device: str) -> None:
    x = logits_for((1, 1, 2, 5), seed=1).to(device)
    with pytest.raises(RuntimeError, match="temperature"):
        sample_tokens(x, -1.0)
    with pytest.raises(RuntimeError, match="top_p"):
        sample_tokens(x, 1.0, 0, 0.0)
    with pytest.raises(RuntimeError, match=r"expected logits \[B, K, T, V\]"):
        sample_tokens(x[0], 1.0)


def test_philox_known_answers() -> None:
    """Random123's kat_vectors for philox4x32-10."""
    cases = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ]
    for counter, key, expected in cases:
        out = philox4x32_10(tuple(torch.tensor([c]) for c in counter), key)
        assert tuple(int(o) for o in out) == expected


@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device or build")
@pytest.mark.cuda
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "t{}-k{}-p{}".format(*c))
def test_cpu_equals_cuda(config: tuple) -> None:
    x = logits_for((4, 4, 300, 1024), seed=21)
    a = sample_tokens(x, *config, seed=3, offset=17)
    b = sample_tokens(x.cuda(), *config, seed=3, offset=17)
    torch.testing.assert_close(b[0].cpu(), a[0], rtol=0, atol=0)
    torch.testing.assert_close(b[1].cpu(), a[1], rtol=1e-6, atol=0)


@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device or build")
@pytest.mark.cuda
def test_cuda_graphs_reduce_overhead() -> None:
    x = logits_for((2, 4, 50, 512), seed=4).cuda()

    def step(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return sample_tokens(logits * 1.0, 0.9, 20, 0.9, seed=8, offset=2)

    compiled = torch.compile(step, mode="reduce-overhead", fullgraph=True)
    for _ in range(3):
        tok, prob = compiled(x)
    ref_tok, ref_prob = step(x)
    torch.testing.assert_close(tok, ref_tok, rtol=0, atol=0)
    torch.testing.assert_close(prob, ref_prob)


@pytest.mark.parametrize("device", DEVICES)
def test_opcheck(device: str) -> None:
    x = logits_for((2, 3, 4, 17), seed=2).to(device)
    for args in ((1.0, 5, 0.9, 1, 2), (0.0, 0, 1.0, 0, 0)):
        torch.library.opcheck(torch.ops.drumgrid.sample_tokens.default, (x, *args))


class _Sampler(torch.nn.Module):
    def forward(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return sample_tokens(logits * 1.0, 0.8, 10, 0.9, seed=42, offset=1)


def test_export_dynamic_T_and_compile_fullgraph() -> None:
    model = _Sampler()
    x = logits_for((1, 4, 8, 64), seed=6)
    T = torch.export.Dim("T", min=2, max=4096)
    ep = torch.export.export(model, (x,), dynamic_shapes={"logits": {2: T}})
    assert any("drumgrid.sample_tokens" in str(n.target) for n in ep.graph.nodes)
    for t_len in (2, 31):
        y = logits_for((1, 4, t_len, 64), seed=t_len)
        for got, want in zip(ep.module()(y), model(y), strict=True):
            torch.testing.assert_close(got, want, rtol=0, atol=0)
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    for got, want in zip(compiled(x), model(x), strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
