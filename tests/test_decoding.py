"""Decoding: parallel and iterative agree with their plain statements, known tokens stay,
results depend only on the seed and the item, not on the batch or its padding."""

from __future__ import annotations

import pytest
import torch
from lm_helpers import DEBUG_K, DEBUG_V, debug_model, random_inputs

from drumgrid.server.conditioning import frame_conditioning
from drumgrid.server.decoding import (
    DecodeOptions,
    batch_conditioning,
    coarse_to_fine_steps,
    decode,
    masked_after,
    prefix_known,
)
from drumgrid.server.performance import from_note_list

GREEDY = DecodeOptions(method="iterative", steps=1, temperature=0.0)
SAMPLED = DecodeOptions(method="iterative", steps=3, temperature=1.0, top_k=10, seed=7)


def _level_by_level_argmax(model, features, kit, known=None):
    """The plain statement of iterative decoding with one greedy step per level."""
    B, T = features.shape[:2]
    tokens = torch.full((B, DEBUG_K, T), DEBUG_V) if known is None else known.clone()
    for k in range(DEBUG_K):
        best = model(tokens, features, kit)[:, k].argmax(-1)  # [B, T]
        tokens[:, k] = torch.where(tokens[:, k] == DEBUG_V, best, tokens[:, k])
    return tokens


def test_parallel_is_one_argmax_pass():
    model = debug_model()
    features, kit = random_inputs(B=2, T=15)
    out = decode(model, features, kit, DecodeOptions(method="parallel"))
    with torch.no_grad():
        expected = model(torch.full((2, DEBUG_K, 15), DEBUG_V), features, kit).argmax(-1)
    assert torch.equal(out, expected)


def test_one_greedy_step_per_level_is_level_by_level_argmax():
    model = debug_model()
    features, kit = random_inputs(B=2, T=15)
    with torch.no_grad():
        expected = _level_by_level_argmax(model, features, kit)
    assert torch.equal(decode(model, features, kit, GREEDY), expected)
    # With one level there is nothing coarser to condition on: iterative == parallel.
    one = debug_model(n_codebooks=1)
    f1, k1 = random_inputs(B=2, T=15)
    assert torch.equal(
        decode(one, f1, k1, GREEDY), decode(one, f1, k1, DecodeOptions(method="parallel"))
    )


def test_same_seed_same_tokens_other_seed_other_tokens():
    model = debug_model()
    features, kit = random_inputs(B=2, T=30)
    a = decode(model, features, kit, SAMPLED)
    assert torch.equal(a, decode(model, features, kit, SAMPLED))
    other = decode(model, features, kit, DecodeOptions(steps=3, top_k=10, seed=8))
    assert not torch.equal(a, other)
    assert a.min() >= 0 and a.max() < DEBUG_V


@pytest.mark.parametrize("options", [DecodeOptions(method="parallel"), GREEDY, SAMPLED])
def test_continuation_keeps_known_tokens(options):
    model = debug_model()
    features, kit = random_inputs(B=2, T=20)
    truth = torch.randint(DEBUG_V, (2, DEBUG_K, 20))
    mask = torch.rand(2, DEBUG_K, 20, generator=torch.Generator().manual_seed(1)) < 0.4
    known = torch.where(mask, truth, DEBUG_V)
    out = decode(model, features, kit, options, known=known)
    assert torch.equal(out[mask], truth[mask])
    if options == GREEDY:  # and the rest is filled as the plain statement says
        with torch.no_grad():
            assert torch.equal(out, _level_by_level_argmax(model, features, kit, known))


def test_prefix_continuation():
    prefix = torch.randint(DEBUG_V, (1, DEBUG_K, 5))
    known = prefix_known(prefix, 12, DEBUG_V)
    assert torch.equal(known[:, :, :5], prefix) and (known[:, :, 5:] == DEBUG_V).all()
    model = debug_model()
    features, kit = random_inputs(B=1, T=12)
    assert torch.equal(decode(model, features, kit, SAMPLED, known=known)[:, :, :5], prefix)
    with pytest.raises(ValueError, match="at most 12 frames, got 13"):
        prefix_known(torch.zeros(1, DEBUG_K, 13, dtype=torch.long), 12, DEBUG_V)


def test_item_result_does_not_depend_on_batch_or_padding():
    """Per-item seeds: a padded batch of two gives each item's tokens when decoded alone."""
    model = debug_model()
    f1, k1 = random_inputs(B=1, T=11, seed=1)
    f2, k2 = random_inputs(B=1, T=18, seed=2)
    features = torch.cat([torch.nn.functional.pad(f1, (0, 0, 0, 7)), f2])
    pad = torch.zeros(2, 18, dtype=torch.bool)
    pad[0, 11:] = True
    both = decode(model, features, torch.cat([k1, k2]), SAMPLED, pad_mask=pad, seeds=[3, 4])
    alone1 = decode(model, f1, k1, SAMPLED, seeds=[3])
    alone2 = decode(model, f2, k2, SAMPLED, seeds=[4])
    assert torch.equal(both[0:1, :, :11], alone1) and torch.equal(both[1:2], alone2)


def test_cosine_schedule_and_step_count():
    n = torch.tensor([100])
    left = [int(masked_after(n, s, 4)) for s in range(4)]
    assert left == [92, 70, 38, 0]  # floor(100 cos(pi/2 * s/4)) for s = 1..4
    calls = []
    model = debug_model()
    features, kit = random_inputs(B=1, T=10)
    options = DecodeOptions(steps=(3, 1, 1, 2))
    decode(model, features, kit, options, on_step=lambda d, t: calls.append((d, t)))
    assert calls == [(i, 7) for i in range(1, 8)] and options.n_calls(DEBUG_K) == 7
    with pytest.raises(ValueError, match="one step count per level"):
        DecodeOptions(steps=(2, 2)).steps_per_level(DEBUG_K)
    with pytest.raises(ValueError, match="expected method"):
        DecodeOptions(method="beam")


def test_coarse_to_fine_steps():
    assert coarse_to_fine_steps(None, 4) == (4, 1, 1, 1)
    assert coarse_to_fine_steps(5, 3) == (5, 1, 1)
    assert coarse_to_fine_steps((2, 2, 1), 3) == (2, 2, 1)


def test_batch_conditioning_pads_frame_conditionings():
    perf = from_note_list([(0.0, 36, 100), (0.5, 38, 90)], 120.0, length_s=2.0)
    a = frame_conditioning(perf, 25.0, 0, 30, kit=1)
    b = frame_conditioning(perf, 25.0, 10, 20, kit=0)
    features, kit, pad = batch_conditioning([a, b])
    assert features.shape == (2, 30, a.features.shape[1]) and kit.tolist() == [1, 0]
    assert pad[1, 20:].all() and not pad[1, :20].any() and not pad[0].any()
    out = decode(debug_model(), features, kit, SAMPLED, pad_mask=pad)
    assert out.shape == (2, DEBUG_K, 30)
