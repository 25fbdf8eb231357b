"""`drumgrid bench ops`: the native ops against the plain PyTorch way of doing the same."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from drumgrid.server.bench.timing import median_ms
from drumgrid.server.errors import UserError

# decoding shapes: (B, K, T, D, V)
OPS_SHAPES: tuple[tuple[int, int, int, int, int], ...] = (
    (8, 9, 600, 512, 1024),
    (1, 4, 200, 512, 2048),
)


@dataclass(frozen=True)
class Timing:
    name: str
    ours_ms: float
    plain_ms: float

    @property
    def speedup(self) -> float:
        return self.plain_ms / self.ours_ms


def bench_ops(args: argparse.Namespace) -> int:
    import torch
    import torch.nn.functional as F

    from drumgrid.server.ops import embed_tokens, sample_tokens

    device = args.device
    if device not in ("cpu", "cuda"):
        raise UserError(f"bench ops --device {device}: expected cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is visible to torch; use --device cpu")
    from drumgrid.server.ops import WITH_CUDA

    if device == "cuda" and not WITH_CUDA:
        raise UserError(
            "--device cuda: drumgrid._C was built without CUDA; rebuild with nvcc on PATH"
        )
    gen = torch.Generator().manual_seed(0)
    timings: list[Timing] = []

    def time_pair(name: str, ours: Callable[[], object], plain: Callable[[], object]) -> None:
        t = Timing(
            name,
            median_ms(ours, device, args.repeats, args.warmup),
            median_ms(plain, device, args.repeats, args.warmup),
        )
        timings.append(t)
        print(f"{t.name:<52}{t.ours_ms:>10.2f}{t.plain_ms:>10.2f}{t.speedup:>8.2f}x", flush=True)

    print(
        f"drumgrid bench ops on {device} "
        f"(torch {torch.__version__}, {torch.get_num_threads()} threads)"
    )
    print(f"{'case':<52}{'ours ms':>10}{'plain ms':>10}{'ratio':>9}")
    for B, K, T, D, V in OPS_SHAPES:
        tokens = torch.randint(0, V + 1, (B, K, T), generator=gen).to(device)  # [B, K, T]
        tables = torch.randn(K, V + 1, D, generator=gen).to(device)  # [K, V+1, D]
        cond = torch.randn(B, T, D, generator=gen).to(device)  # [B, T, D]
        embeddings = [torch.nn.Embedding.from_pretrained(tables[k]) for k in range(K)]

        def plain_embed(tokens=tokens, cond=cond, embeddings=embeddings) -> torch.Tensor:
            out = cond
            for k, emb in enumerate(embeddings):
                out = out + emb(tokens[:, k])
            return out

        with torch.inference_mode():
            time_pair(
                f"embed_tokens B={B} K={K} T={T} D={D} V={V}",
                partial(embed_tokens, tokens, tables, cond),
                plain_embed,
            )

        logits = (torch.randn(B, K, T, V, generator=gen) * 3).to(device)  # [B, K, T, V]
        for temperature, top_k, top_p in ((1.0, 50, 0.9), (1.0, 0, 1.0), (0.0, 0, 1.0)):

            def ours(logits=logits, temperature=temperature, top_k=top_k, top_p=top_p):
                return sample_tokens(logits, temperature, top_k, top_p, seed=1, offset=0)

            def plain(logits=logits, temperature=temperature, top_k=top_k, top_p=top_p):
                return _plain_sample(F, torch, logits, temperature, top_k, top_p)

            with torch.inference_mode():
                time_pair(
                    f"sample_tokens B={B} K={K} T={T} V={V} t={temperature} k={top_k} p={top_p}",
                    ours,
                    plain,
                )
    return 0


def _plain_sample(F, torch, logits, temperature: float, top_k: int, top_p: float):
    """The usual PyTorch sampler: softmax, top-k, sort + cumsum for top-p, multinomial."""
    *lead, V = logits.shape
    x = logits.reshape(-1, V)  # [R, V]
    if temperature == 0:
        probs = F.softmax(x, dim=-1)
        p, tok = probs.max(dim=-1)
        return tok.view(lead), p.view(lead)
    probs = F.softmax(x / temperature, dim=-1)  # [R, V]
    if 0 < top_k < V:
        probs, idx = torch.topk(probs, top_k, dim=-1)  # [R, k], sorted
    else:
        idx = None
    if top_p < 1:
        if idx is None:
            probs, idx = torch.sort(probs, dim=-1, descending=True)
        probs = probs / probs.sum(-1, keepdim=True)
        before = torch.cumsum(probs, dim=-1) - probs
        probs = probs.masked_fill(before >= top_p, 0.0)
    probs = probs / probs.sum(-1, keepdim=True)
    choice = torch.multinomial(probs, 1)  # [R, 1]
    p = probs.gather(-1, choice)
    tok = choice if idx is None else idx.gather(-1, choice)
    return tok.view(lead), p.view(lead)
