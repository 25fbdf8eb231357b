"""The grid-to-tokens Transformer: shapes, any length, padding, the body as its own module,
export with a dynamic frame count, and the self-describing model folder."""

from __future__ import annotations

import json

import pytest
import torch
from lm_helpers import DEBUG_K, DEBUG_V, debug_info, debug_model, random_inputs

from drumgrid.server.conditioning import N_FEATURES
from drumgrid.server.errors import UserError
from drumgrid.server.model import LMConfig, load_model, read_info, save_model
from drumgrid.server.model.config import PRESETS
from drumgrid.server.model.modules import level_major


def _all_masked(B: int, T: int) -> torch.Tensor:
    return torch.full((B, DEBUG_K, T), DEBUG_V, dtype=torch.long)


@pytest.mark.parametrize("T", [1, 2, 7, 33])
def test_logits_shape_at_any_length(T):
    model = debug_model()
    features, kit = random_inputs(B=3, T=T)
    logits = model(_all_masked(3, T), features, kit)
    assert logits.shape == (3, DEBUG_K, T, DEBUG_V)
    assert torch.isfinite(logits).all()


def test_padded_batch_equals_items_alone():
    model = debug_model()
    f1, k1 = random_inputs(B=1, T=9, seed=1)
    f2, k2 = random_inputs(B=1, T=16, seed=2)
    t1 = torch.randint(DEBUG_V + 1, (1, DEBUG_K, 9))
    t2 = torch.randint(DEBUG_V + 1, (1, DEBUG_K, 16))
    features = torch.cat([torch.nn.functional.pad(f1, (0, 0, 0, 7)), f2])
    tokens = torch.cat([torch.nn.functional.pad(t1, (0, 7), value=DEBUG_V), t2])
    pad = torch.zeros(2, 16, dtype=torch.bool)
    pad[0, 9:] = True
    batched = model(tokens, features, torch.cat([k1, k2]), pad)
    torch.testing.assert_close(batched[0:1, :, :9], model(t1, f1, k1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(batched[1:2], model(t2, f2, k2), atol=1e-5, rtol=1e-5)


def test_known_tokens_and_kit_change_the_logits():
    model = debug_model()
    features, kit = random_inputs(B=1, T=8)
    masked = model(_all_masked(1, 8), features, kit)
    known = model(torch.zeros(1, DEBUG_K, 8, dtype=torch.long), features, kit)
    other_kit = model(_all_masked(1, 8), features, 1 - kit)
    assert not torch.allclose(masked, known) and not torch.allclose(masked, other_kit)


def test_one_level_head_equals_that_level_of_all_heads():
    model = debug_model().eval()
    features, kit = random_inputs(B=2, T=9)
    tokens = torch.randint(DEBUG_V + 1, (2, DEBUG_K, 9))
    pad = torch.zeros(2, 9, dtype=torch.bool)
    pad[1, 6:] = True
    fn = model.logits_fn(features, kit, pad)
    every = fn(tokens)  # [B, K, T, V]
    for level in range(DEBUG_K):
        torch.testing.assert_close(fn(tokens, level), every[:, level], atol=1e-5, rtol=1e-5)
    # A replacement body (compiled, exported) is sliced instead.
    sliced = model.logits_fn(features, kit, pad, body=model.body)
    torch.testing.assert_close(sliced(tokens, 1), every[:, 1])


def test_selected_logits_are_those_of_all_heads_and_train_alike():
    """Training's shortcut (only the masked tokens' logits, level-major) gives the same
    logits, loss and gradients as selecting from the full [B, K, T, V] output."""
    model = debug_model()
    features, kit = random_inputs(B=2, T=9)
    tokens = torch.randint(DEBUG_V, (2, DEBUG_K, 9))
    select = torch.rand(2, DEBUG_K, 9, generator=torch.Generator().manual_seed(3)) < 0.5
    pad = torch.zeros(2, 9, dtype=torch.bool)
    pad[1, 6:] = True
    select &= ~pad[:, None, :]
    inputs = torch.where(select, DEBUG_V, tokens)

    full = model(inputs, features, kit, pad)
    chosen = model(inputs, features, kit, pad, select)
    assert chosen.shape == (int(select.sum()), DEBUG_V)
    torch.testing.assert_close(chosen, level_major(full, select), atol=1e-5, rtol=1e-5)

    losses = []
    for logits, targets in ((full[select], tokens[select]), (chosen, level_major(tokens, select))):
        model.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
        loss.backward()
        grads = model.body.heads.grad.clone(), model.tables.grad.clone()
        losses.append((float(loss.detach()), *grads))
    assert losses[0][0] == pytest.approx(losses[1][0], rel=1e-5)
    for a, b in zip(losses[0][1:], losses[1][1:], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    # The order really is level-major: level 0's selected tokens come first.
    n0 = int(select[:, 0].sum())
    torch.testing.assert_close(chosen[:n0], full[:, 0][select[:, 0]], atol=1e-5, rtol=1e-5)


def test_head_grad_scales_only_what_the_token_heads_send_into_the_body():
    """--ce-body-grad: the same outputs; the heads' own gradient whole; the body's share of
    the cross-entropy scaled (none at 0); the latent head's gradient into the body untouched."""
    model = debug_model(latent_dim=6)
    features, kit = random_inputs(B=2, T=9)
    inputs = torch.full((2, DEBUG_K, 9), DEBUG_V)  # every token masked
    body_weight = model.body.blocks[0].norm1.weight

    def grads(scale: float, of: str) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        model.zero_grad(set_to_none=True)
        logits, latent = model(inputs, features, kit, with_latent=True, head_grad=scale)
        (logits.square().mean() if of == "logits" else latent.square().mean()).backward()
        heads = model.body.heads.grad
        return logits.detach(), body_weight.grad, heads if heads is None else heads.clone()

    logits_1, body_1, heads_1 = grads(1.0, "logits")
    logits_half, body_half, heads_half = grads(0.5, "logits")
    logits_0, body_0, heads_0 = grads(0.0, "logits")
    torch.testing.assert_close(logits_half, logits_1)
    torch.testing.assert_close(logits_0, logits_1)
    torch.testing.assert_close(heads_half, heads_1)
    torch.testing.assert_close(heads_0, heads_1)
    assert body_1.abs().sum() > 0
    torch.testing.assert_close(body_half, 0.5 * body_1)
    assert body_0 is None
    _, latent_body_1, _ = grads(1.0, "latent")
    _, latent_body_0, _ = grads(0.0, "latent")
    torch.testing.assert_close(latent_body_0, latent_body_1)


def test_body_is_the_part_between_the_ops():
    """logits = body(embed_tokens(tokens, tables, conditioning)); gradients reach every
    parameter through the custom op."""
    model = debug_model().train()
    features, kit = random_inputs(B=2, T=6)
    tokens = torch.randint(DEBUG_V + 1, (2, DEBUG_K, 6))
    x = model.tables[torch.arange(DEBUG_K)[None, :, None], tokens].sum(1)
    x = x + model.conditioning(features, kit)
    torch.testing.assert_close(model.body(x), model(tokens, features, kit), atol=1e-5, rtol=1e-5)
    model(tokens, features, kit).square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_body_exports_with_a_dynamic_frame_count():
    """What the engine compiles: the body alone, T symbolic; checked at two lengths."""
    model = debug_model()
    T = torch.export.Dim("T", min=2, max=model.max_frames)
    x = torch.randn(2, 12, model.body.norm.normalized_shape[0])
    pad = torch.zeros(2, 12, dtype=torch.bool)
    ep = torch.export.export(model.body, (x, pad), dynamic_shapes=({1: T}, {1: T}))
    for n in (5, 40):
        x = torch.randn(2, n, x.shape[-1])
        pad = torch.zeros(2, n, dtype=torch.bool)
        pad[1, n - 2 :] = True
        torch.testing.assert_close(ep.module()(x, pad), model.body(x, pad))


def test_inputs_are_checked_with_expected_and_got():
    model = debug_model()
    features, kit = random_inputs(B=1, T=4)
    with pytest.raises(ValueError, match="expected features"):
        model.logits_fn(features[..., :5], kit)
    with pytest.raises(ValueError, match=r"expected kit ids in 0\.\.1, got 5\.\.5"):
        model.logits_fn(features, torch.tensor([5]))
    with pytest.raises(ValueError, match="at most 256 frames"):
        model.logits_fn(*random_inputs(B=1, T=300))


def test_presets():
    small = LMConfig.preset_config(
        "small", n_codebooks=4, codebook_size=2048, n_kits=39, max_frames=500
    )
    assert (small.dim, small.n_layers, small.n_heads) == (768, 6, 8)
    assert set(PRESETS) >= {"tiny", "small", "base"}
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        LMConfig.preset_config("huge", n_codebooks=1, codebook_size=2, n_kits=1, max_frames=1)
    with pytest.raises(ValueError, match="divisible by n_heads"):
        small.with_(n_heads=7)


def test_model_folder_round_trip(tmp_path):
    model = debug_model(seed=3)
    info = debug_info()
    save_model(tmp_path / "m", model, info)
    loaded, info2 = load_model(tmp_path / "m")
    assert info2 == info and not loaded.training
    features, kit = random_inputs(B=2, T=10)
    tokens = _all_masked(2, 10)
    torch.testing.assert_close(loaded(tokens, features, kit), model(tokens, features, kit))
    meta = json.loads((tmp_path / "m" / "config.json").read_text())
    assert meta["codec"]["id"] == "encodec-24k" and meta["kits"] == ["kit0", "kit1"]
    assert meta["model"]["dim"] == 32 and len(meta["features"]) == N_FEATURES
    assert meta["classes"][0] == "kick" and meta["card"] == {"note": "random debug model"}
    assert info2.kit_index("kit1") == 1
    with pytest.raises(UserError, match="unknown kit 'jazz'; this model knows kit0, kit1"):
        info2.kit_index("jazz")


def test_model_folder_errors(tmp_path):
    with pytest.raises(UserError, match="not a drumgrid model"):
        read_info(tmp_path)
    save_model(tmp_path / "m", debug_model(), debug_info())
    path = tmp_path / "m" / "config.json"
    meta = json.loads(path.read_text())
    features = meta["features"]
    path.write_text(json.dumps({**meta, "features": features[:-1]}))
    n = N_FEATURES
    with pytest.raises(UserError, match=rf"lists {n - 1} conditioning features .* reads {n}"):
        load_model(tmp_path / "m")
    path.write_text(json.dumps({**meta, "features": [*features[:-1], features[0]]}))
    with pytest.raises(UserError, match=rf"distinct: {n - 1}\) for a model that reads {n}"):
        load_model(tmp_path / "m")
    path.write_text(json.dumps({**meta, "features": [*features[:-1], "kick.shimmer"]}))
    with pytest.raises(UserError, match=r"does not compute \(kick.shimmer\); update drumgrid"):
        load_model(tmp_path / "m")


# -- prompted models: a kit prompt as a prefix the window attends to --------------------------


def _prompt(P: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    features, _ = random_inputs(B=1, T=P, seed=seed)
    return torch.randint(
        DEBUG_V, (1, DEBUG_K, P), generator=torch.Generator().manual_seed(seed)
    ), features


def test_prompt_memory_is_a_one_way_prefix():
    """A window with a prompt's memory = the prompt and window as one sequence in which the
    prompt attends only to itself (what training and every window of a render compute)."""
    model = debug_model(prompted=True)
    body = model.body
    P, T = 6, 9
    tokens_p, features_p = _prompt(P, seed=3)
    features, _ = random_inputs(B=1, T=T, seed=4)
    tokens = torch.randint(DEBUG_V + 1, (1, DEBUG_K, T))
    memory = model.remember(tokens_p, features_p)
    got = model(tokens, features, None, memory=memory)

    from drumgrid.server.model.modules import rotary_tables
    from drumgrid.server.ops import embed_tokens

    xp = embed_tokens(tokens_p, model.tables, (model.cond_proj(features_p) + model.prompt_tag))
    xw = embed_tokens(tokens, model.tables, model.conditioning(features, None))
    x = torch.cat((xp, xw), 1)
    cos, sin = rotary_tables(P + T, body.head_dim, body.rope_base, x.device)
    allowed = torch.ones(P + T, P + T, dtype=torch.bool)
    allowed[:P, P:] = False  # the prompt does not see the window
    for block in body.blocks:
        x = block(x, cos, sin, allowed[None, None])
    want = body.head_logits(body.norm(x))[:, :, P:]
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_left_padded_prompts_batch_like_each_alone():
    model = debug_model(prompted=True)
    (t5, f5), (t8, f8) = _prompt(5, seed=1), _prompt(8, seed=2)
    tokens_p = torch.cat([torch.nn.functional.pad(t5, (3, 0)), t8])
    features_p = torch.cat([torch.nn.functional.pad(f5, (0, 0, 3, 0)), f8])
    pad = torch.zeros(2, 8, dtype=torch.bool)
    pad[0, :3] = True
    features, _ = random_inputs(B=2, T=7, seed=5)
    tokens = torch.full((2, DEBUG_K, 7), DEBUG_V)
    batched = model(tokens, features, None, memory=model.remember(tokens_p, features_p, pad))
    alone = model(tokens[:1], features[:1], None, memory=model.remember(t5, f5))
    torch.testing.assert_close(batched[:1], alone, atol=1e-5, rtol=1e-5)
    # one prompt serves a batch of windows (the engine's case): an expanded view
    memory = model.remember(t8, f8)
    torch.testing.assert_close(
        model(tokens, features, None, memory=memory)[1:],
        model(tokens[1:], features[1:], None, memory=memory),
        atol=1e-5, rtol=1e-5,
    )  # fmt: skip


def test_the_prompt_decides_the_sound_and_kit_only_models_refuse_one():
    model = debug_model(prompted=True)
    features, _ = random_inputs(B=1, T=7, seed=5)
    tokens = torch.full((1, DEBUG_K, 7), DEBUG_V)
    a = model(tokens, features, None, memory=model.remember(*_prompt(6, seed=1)))
    b = model(tokens, features, None, memory=model.remember(*_prompt(6, seed=2)))
    assert not torch.allclose(a, b)
    plain = debug_model()
    with pytest.raises(ValueError, match="not trained on prompts"):
        plain.remember(*_prompt(6, seed=1))
    with pytest.raises(ValueError, match="not trained on prompts"):
        plain.logits_fn(features, None)


def test_prompted_config_round_trips_and_old_configs_stay_unprompted():
    config = LMConfig.preset_config(
        "debug", n_codebooks=4, codebook_size=32, n_kits=2, max_frames=9
    )
    assert "prompted" not in config.to_dict()  # folders from before keep their config.json
    prompted = config.with_(prompted=True)
    assert LMConfig.from_dict(prompted.to_dict()) == prompted
    with pytest.raises(ValueError, match="prompted: expected true or false"):
        LMConfig.from_dict({**prompted.to_dict(), "prompted": 1})


def test_a_pooled_prompt_conditions_through_the_kit_vector_only():
    """prompt_mode "pooled": the prompt's frames, averaged, set the window's kit vector; the
    body does not attend to them (so a prompt of the same average conditions alike)."""
    model = debug_model(prompted=True, prompt_mode="pooled")
    features, _ = random_inputs(B=1, T=7, seed=5)
    tokens = torch.full((1, DEBUG_K, 7), DEBUG_V)
    memory = model.remember(*_prompt(6, seed=1))
    got = model(tokens, features, None, memory=memory)
    other = model(tokens, features, None, memory=model.remember(*_prompt(6, seed=2)))
    assert not torch.allclose(got, other)
    cond = model.conditioning(features, None, memory)
    want = model.body(embed_tokens_of(model, tokens, cond))
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="prompt_mode prefix or pooled"):
        debug_model(prompted=True, prompt_mode="cross")


def embed_tokens_of(model, tokens, cond):
    from drumgrid.server.ops import embed_tokens

    return embed_tokens(tokens, model.tables, cond)
