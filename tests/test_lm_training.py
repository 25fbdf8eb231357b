"""Training the Transformer: the SoundStorm masking rule, a tiny model learning a synthetic
token set, exact resume, the `drumgrid train` command, and DDP over two gloo processes."""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from factories import CRASH_BREAKS, make_token_cache
from hypothesis import given, settings
from hypothesis import strategies as st
from lm_helpers import LEGACY_FEATURES, random_inputs, save_legacy_copy

from drumgrid.server.conditioning import FEATURE_NAMES
from drumgrid.server.decoding import DecodeOptions, decode
from drumgrid.server.errors import UserError
from drumgrid.server.model import load_model
from drumgrid.training.cards import lm_training_lines
from drumgrid.training.cli import main
from drumgrid.training.lm.decoded import DecodedErrors, band_error_db, level_error_db
from drumgrid.training.lm.growth import deepened_order
from drumgrid.training.lm.masking import soundstorm_mask
from drumgrid.training.lm.trainer import LMTrainConfig, LMTrainer
from drumgrid.training.schedule import warmup_cosine

SMALL = {"dim": 32, "n_layers": 2, "n_heads": 2}
CFG = LMTrainConfig(
    steps=40, batch_size=8, lr=3e-3, warmup_steps=4, validate_every=20, checkpoint_every=10,
    val_windows=8, seed=1,
)  # fmt: skip


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return make_token_cache(tmp_path_factory.mktemp("lm"))


def _log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@settings(max_examples=40, deadline=None)
@given(
    B=st.integers(1, 4), K=st.integers(1, 5), T=st.integers(1, 30), seed=st.integers(0, 999),
    prompt_prob=st.sampled_from([0.0, 0.5, 1.0]),
)  # fmt: skip
def test_masking_rule(B, K, T, seed, prompt_prob):
    V = 16
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(V, (B, K, T), generator=g)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    pad = torch.arange(T)[None, :] >= lengths[:, None]
    m = soundstorm_mask(tokens, pad, V, g, prompt_prob)
    masked = m.inputs == V
    for b in range(B):
        k, p, n = int(m.level[b]), int(m.prompt[b]), int(lengths[b])
        assert 0 <= p <= n // 2
        real = slice(p, n)
        assert not masked[b, :, :p].any()  # the prompt is known at every level
        assert masked[b, :, n:].all() and not m.loss_mask[b, :, n:].any()  # padding
        assert not masked[b, :k, real].any()  # coarser levels known
        assert masked[b, k, real].sum() >= 1  # some of level k masked
        assert masked[b, k + 1 :, real].all()  # finer levels all masked
        assert torch.equal(m.loss_mask[b, :, :n], masked[b, :, :n])  # loss on masked only
        keep = ~masked[b]
        assert torch.equal(m.inputs[b][keep], tokens[b][keep])


def test_full_mask_share_masks_whole_items_and_keeps_the_other_draws():
    """full_prob masks that share of items at every level and frame (parallel decoding's
    input) and leaves the other items' masks as a run without it draws them."""
    B, K, T, V = 400, 4, 20, 16
    tokens = torch.randint(V, (B, K, T), generator=torch.Generator().manual_seed(1))
    pad = torch.zeros(B, T, dtype=torch.bool)
    plain = soundstorm_mask(tokens, pad, V, torch.Generator().manual_seed(0), 0.5)
    full = soundstorm_mask(tokens, pad, V, torch.Generator().manual_seed(0), 0.5, full_prob=0.3)
    whole = (full.inputs == V).all(2).all(1)  # [B]
    assert whole.float().mean().item() == pytest.approx(0.3, abs=0.08)
    assert (full.prompt[whole] == 0).all() and full.loss_mask[whole].all()
    assert torch.equal(full.inputs[~whole], plain.inputs[~whole])
    assert (plain.inputs == V).all(2).all(1).float().mean() < 0.05  # rare without it


def test_mask_share_follows_the_cosine_schedule():
    """E[share of level k masked] = E[cos(pi/2 u)] = 2/pi."""
    tokens = torch.zeros(4000, 1, 50, dtype=torch.long)
    m = soundstorm_mask(tokens, torch.zeros(4000, 50, dtype=torch.bool), 8,
                        torch.Generator().manual_seed(0))  # fmt: skip
    assert float(m.loss_mask.float().mean()) == pytest.approx(2 / np.pi, abs=0.02)


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    lrs = [warmup_cosine(step, 1e-3, 10, 110) for step in range(130)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert lrs[60] == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5))  # half way down the cosine
    assert all(a >= b for a, b in itertools.pairwise(lrs[9:]))
    assert lrs[110] == lrs[129] == pytest.approx(1e-4)  # past the schedule: the floor


def test_tiny_model_learns_and_exports_a_model_folder(cache, tmp_path):
    trainer = LMTrainer(cache, tmp_path / "run", CFG, "tiny", model_overrides=SMALL)
    result = trainer.run(progress=False)
    losses = [r["loss"] for r in _log(tmp_path / "run")]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:3])
    val = result["validation"]
    assert val["token_acc"] > 2 * val["baseline_acc"]
    _, info = load_model(tmp_path / "run" / "model")
    assert info.codec_id == "synthetic" and info.kits == ("kitA", "kitB")
    assert info.card["steps"] in (20, 40) and info.config.max_frames == trainer.sampler.max_frames


@pytest.mark.parametrize("latent", [False, True])
def test_resume_is_exact(cache, codec_cache, tmp_path, latent):
    """Stop after step 13, resume from the step-10 checkpoint: same log, same weights (with a
    latent head too)."""
    cfg = replace(CFG, steps=20, validate_every=10)
    tokens, extra = cache, {}
    if latent:
        tokens, extra = codec_cache[0], {"latent_head": True, "codec_path": codec_cache[1]}

    def trainer(out: str) -> LMTrainer:
        return LMTrainer(tokens, tmp_path / out, cfg, "tiny", model_overrides=SMALL, **extra)

    whole = trainer("whole")
    whole.run(progress=False)
    first = trainer("parts")
    first.run(progress=False, until=13)  # killed 3 steps after the checkpoint at step 10
    second = trainer("parts")
    assert second.resume() and second.step == 10
    second.run(progress=False)
    assert _log(tmp_path / "whole") == _log(tmp_path / "parts")
    for (name, a), b in zip(whole.model.state_dict().items(), second.model.state_dict().values(),
                            strict=True):  # fmt: skip
        assert torch.equal(a, b), name


def test_validation_cadence_never_changes_the_weights(cache, tmp_path):
    """Windows, masks and the torch seed are drawn by step, so a run that validates every 5
    steps ends with the weights of one that validates only at its end (the recipe's
    lm-classes-more stage ships its last step this way)."""
    ends = []
    for every in (5, 20):
        cfg = replace(CFG, steps=20, validate_every=every)
        trainer = LMTrainer(cache, tmp_path / f"v{every}", cfg, "tiny", model_overrides=SMALL)
        trainer.run(progress=False)
        ends.append(trainer.model.state_dict())
    for name, weight in ends[0].items():
        assert torch.equal(weight, ends[1][name]), name


def test_init_continues_a_trained_model(cache, tmp_path):
    """--init starts from the folder's weights (the first loss is the trained model's, well
    below a fresh start's), keeps its card, and resumes like any run."""
    cfg = replace(CFG, steps=20, validate_every=10)
    LMTrainer(cache, tmp_path / "first", cfg, "tiny", model_overrides=SMALL).run(progress=False)
    trained, _ = load_model(tmp_path / "first" / "model")
    more = replace(cfg, steps=10, lr=1e-3)
    tuned = LMTrainer(cache, tmp_path / "more", more, "tiny", model_overrides=SMALL,
                      init=tmp_path / "first" / "model")  # fmt: skip
    for (name, a), b in zip(trained.state_dict().items(), tuned.model.state_dict().values(),
                            strict=True):  # fmt: skip
        assert torch.equal(a, b), name
    tuned.run(progress=False)
    fresh = LMTrainer(cache, tmp_path / "fresh", more, "tiny", model_overrides=SMALL)
    fresh.run(progress=False)
    assert _log(tmp_path / "more")[0]["loss"] < 0.7 * _log(tmp_path / "fresh")[0]["loss"]
    _, info = load_model(tmp_path / "more" / "model")
    assert info.card["steps"] == 10 and info.card["init"]["steps"] == 20
    assert info.card["init"]["path"] == str(tmp_path / "first" / "model")
    resumed = LMTrainer(cache, tmp_path / "more", replace(more, steps=12), "tiny",
                        model_overrides=SMALL)  # fmt: skip
    assert resumed.resume() and resumed.init_card == info.card["init"]
    # Other windows are no new weights: shorter ones keep the model's longest (the engine's
    # render window), longer ones grow it.
    first_frames = trained.max_frames
    for beats in (2.0, 6.0):
        other = LMTrainer(
            cache,
            tmp_path / f"beats{beats:g}",
            replace(more, window_beats=beats),
            "tiny",
            model_overrides=SMALL,
            init=tmp_path / "first" / "model",
        )
        data_frames = other.sampler.max_frames
        assert (data_frames < first_frames) == (beats < 4)
        assert other.model_config.max_frames == max(first_frames, data_frames)

    with pytest.raises(UserError, match="pass --preset tiny"):
        LMTrainer(cache, tmp_path / "other", more, "tiny", model_overrides={**SMALL, "dim": 16},
                  init=tmp_path / "first" / "model")  # fmt: skip


def test_init_grows_a_model_trained_before_a_feature(cache, tmp_path):
    """A model that reads fewer conditioning columns (trained before `ring` existed) loads;
    --init continues it on its own columns, and with --grow-features adds the new ones at
    zero weight: the same function."""
    cfg = replace(CFG, steps=10, validate_every=10)
    LMTrainer(cache, tmp_path / "full", cfg, "tiny", model_overrides=SMALL).run(progress=False)
    _, info = load_model(tmp_path / "full" / "model")
    legacy = LEGACY_FEATURES
    old, old_info = load_model(save_legacy_copy(tmp_path / "full" / "model", tmp_path / "old"))
    assert old_info.features == legacy
    kept = LMTrainer(cache, tmp_path / "kept", cfg, "tiny", model_overrides=SMALL,
                     init=tmp_path / "old")  # fmt: skip
    assert kept.model.n_features == len(legacy) and kept.train_tracks[0].n_features == 41
    assert kept.train_tracks[0].features(0, 5).shape == (5, 41)
    kept.run(progress=False)
    assert load_model(tmp_path / "kept" / "model")[1].features == legacy
    growing = LMTrainer(cache, tmp_path / "grown", cfg, "tiny", model_overrides=SMALL,
                        init=tmp_path / "old", grow_features=True)  # fmt: skip
    grown = growing.model.eval()
    assert grown.n_features == len(FEATURE_NAMES)
    features, kit = random_inputs(B=2, T=12, config=info.config)
    tokens = torch.full((2, info.config.n_codebooks, 12), old.mask_id)
    columns = [FEATURE_NAMES.index(n) for n in legacy]
    expected = old(tokens, features[..., columns], kit)
    torch.testing.assert_close(grown(tokens, features, kit), expected)
    # A grown run resumes only as it started: the message says so.
    growing.run(progress=False)
    plain = LMTrainer(cache, tmp_path / "grown", replace(cfg, steps=12), "tiny",
                      model_overrides=SMALL, init=tmp_path / "old")  # fmt: skip
    wanted = rf"{len(FEATURE_NAMES)} conditioning columns, this run 41: .*--grow-features"
    with pytest.raises(UserError, match=wanted):
        plain.resume()


def test_init_deepens_a_trained_model(cache, tmp_path):
    """--init with more --layers adds blocks that start as the identity: the grown model
    computes the trained one's function, trains on, and fewer layers are refused."""
    cfg = replace(CFG, steps=10, validate_every=10)
    LMTrainer(cache, tmp_path / "two", cfg, "tiny", model_overrides=SMALL).run(progress=False)
    trained, info = load_model(tmp_path / "two" / "model")
    deep = LMTrainer(cache, tmp_path / "three", cfg, "tiny", init=tmp_path / "two" / "model",
                     model_overrides={**SMALL, "n_layers": 3})  # fmt: skip
    assert len(deep.model.body.blocks) == 3
    features, kit = random_inputs(B=2, T=12, config=info.config)
    tokens = torch.full((2, info.config.n_codebooks, 12), trained.mask_id)
    torch.testing.assert_close(deep.model.eval()(tokens, features, kit),
                               trained.eval()(tokens, features, kit))  # fmt: skip
    deep.model.train()
    deep.run(progress=False)
    grown, grown_info = load_model(tmp_path / "three" / "model")
    assert grown_info.config.n_layers == 3 and grown_info.card["init"]["steps"] == 10
    assert "continuing from the weights above grown from 2 to 3 blocks" in " ".join(
        lm_training_lines(grown_info.card)
    )
    new_block = grown.body.blocks[2]  # the copy of block 1, trained away from zero
    assert new_block.attn.out.weight.abs().sum() > 0
    with pytest.raises(UserError, match="--layers may add blocks"):
        LMTrainer(cache, tmp_path / "one", cfg, "tiny", init=tmp_path / "two" / "model",
                  model_overrides={**SMALL, "n_layers": 1})  # fmt: skip


def test_deepened_blocks_spread_evenly():
    """New blocks follow the block they copy, spread over the depth."""
    assert deepened_order(4, 4) == [(0, False), (1, False), (2, False), (3, False)]
    assert [i for i, _ in deepened_order(4, 6)] == [0, 1, 1, 2, 3, 3]
    assert [i for i, _ in deepened_order(4, 8)] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [i for i, _ in deepened_order(2, 7)] == [0, 0, 0, 1, 1, 1, 1]
    assert sum(copy for _, copy in deepened_order(4, 5)) == 1 and deepened_order(4, 5)[-1][1]
    with pytest.raises(ValueError):
        deepened_order(4, 3)


def test_train_command(cache, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--tokens", str(cache), "--out", str(out), "--steps", "4",
            "--batch-size", "4", "--validate-every", "2", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    assert (out / "model" / "model.safetensors").is_file()
    assert "model written to" in capsys.readouterr().out
    assert main(args) == 2  # the folder holds a run: refuse without --resume
    assert "pass --resume" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 0
    more = ["train", "--tokens", str(cache), "--out", str(tmp_path / "more"), "--steps", "2",
            "--batch-size", "4", "--no-progress", "--init", str(out / "model")]  # fmt: skip
    assert main(more) == 0  # the preset comes from the model folder
    _, info = load_model(tmp_path / "more" / "model")
    assert info.card["init"]["steps"] == 4 and info.config.preset == "tiny"
    assert main([*more[:4], str(tmp_path / "other"), *more[5:], "--preset", "small"]) == 2
    assert "pass --preset tiny" in capsys.readouterr().err
    assert main(["train", "--tokens", str(tmp_path), "--out", str(out)]) == 2
    for flag in (["--grow-features"], ["--transfer"], ["--head-steps", "1"]):
        assert main([*args[:4], str(tmp_path / "g"), *flag]) == 2
        assert "pass --init MODEL" in capsys.readouterr().err
    assert main([*args[:4], str(tmp_path / "c"), "--ce-body-grad", "1.5"]) == 2
    assert "--ce-body-grad 1.5: expected 0 to 1" in capsys.readouterr().err


def test_stop_at_a_checkpoint_then_go_on(cache, tmp_path, capsys):
    """--stop-at ends a run at a checkpoint of its schedule; --resume goes on to the end,
    the same log as one run."""
    base = ["--tokens", str(cache), "--steps", "8", "--batch-size", "4", "--validate-every",
            "4", "--checkpoint-every", "2", "--no-progress"]  # fmt: skip
    assert main(["train", *base, "--out", str(tmp_path / "whole")]) == 0
    assert main(["train", *base, "--out", str(tmp_path / "parts"), "--stop-at", "4"]) == 0
    assert "after 4 steps" in capsys.readouterr().out
    assert main(["train", *base, "--out", str(tmp_path / "parts"), "--resume"]) == 0
    assert _log(tmp_path / "parts") == _log(tmp_path / "whole")
    assert main(["train", *base, "--out", str(tmp_path / "x"), "--stop-at", "3"]) == 2
    assert "a positive multiple of --checkpoint-every 2" in capsys.readouterr().err


def _train_cli(cache: Path, out: Path, nproc: int) -> tuple[list[float], list[float]]:
    """Train through the CLI (torchrun for nproc > 1): (train losses, validation losses)."""
    args = ["train", "--tokens", str(cache), "--out", str(out), "--steps", "8",
            "--batch-size", "8", "--lr", "3e-3", "--warmup", "2", "--validate-every", "4",
            "--no-progress"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if nproc == 1:
        cmd = [sys.executable, "-m", "drumgrid.training.cli", *args]
    else:
        torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
        cmd = [torchrun or "torchrun", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "drumgrid.training.cli", *args]  # fmt: skip
    subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=240)
    return [r["loss"] for r in _log(out)], [r["validation"]["loss"] for r in _log(out)
                                            if "validation" in r]  # fmt: skip


def test_ddp_two_processes_follow_one_process(cache, tmp_path):
    """Same global batch, same masks, loss = global token mean: the curves agree to float
    rounding (sums in another order), far inside the step-to-step noise."""
    one, one_val = _train_cli(cache, tmp_path / "one", 1)
    two, two_val = _train_cli(cache, tmp_path / "two", 2)
    assert len(one) == len(two) == 8
    np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(two_val, one_val, rtol=1e-4, atol=1e-4)
    assert one[-1] < one[0]


def test_early_stopping_on_validation_loss(cache, tmp_path):
    """With a zero learning rate the loss never improves: patience 1 stops at the second
    validation, and model/ keeps the first (best) one."""
    cfg = replace(CFG, steps=40, lr=0.0, validate_every=5, patience=1)
    result = LMTrainer(cache, tmp_path / "run", cfg, "tiny", model_overrides=SMALL).run(
        progress=False
    )
    assert result["stopped_early"] and result["step"] == 10
    _, info = load_model(tmp_path / "run" / "model")
    assert info.card["steps"] == 5


@pytest.fixture(scope="module")
def codec_cache(tmp_path_factory) -> tuple[Path, Path]:
    """A synthetic token cache said to be the tiny drum codec's, and that codec's folder: the
    latent head's targets are the codec's latents of these tokens."""
    from engine_helpers import make_codec_dir

    from drumgrid.server.drum_codec.codec import DrumgridCodec

    root = tmp_path_factory.mktemp("latent")
    codec_dir = make_codec_dir(root / "codec")
    codec = DrumgridCodec.from_folder(codec_dir)
    cache = make_token_cache(
        root, K=codec.n_codebooks, V=codec.codebook_size, codec_id=codec.id,
        config_hash=codec.config_hash, frame_rate=codec.frame_rate,
    )  # fmt: skip
    return cache, codec_dir


def test_latent_head_learns_the_codec_latent(codec_cache, tmp_path):
    """The latent head regresses the codec's latent of the true tokens: its normalised error
    falls (1 is predicting the mean), on training and validation windows, and the model
    folder records the head."""
    from drumgrid.server.drum_codec.codec import DrumgridCodec

    cache, codec_dir = codec_cache
    cfg = replace(CFG, steps=60, validate_every=30, lr=3e-3)
    trainer = LMTrainer(cache, tmp_path / "run", cfg, "tiny", model_overrides=SMALL,
                        latent_head=True, codec_path=codec_dir)  # fmt: skip
    codec = DrumgridCodec.from_folder(codec_dir)
    assert trainer.model_config.latent_dim == codec.latent_dim == 32
    result = trainer.run(progress=False)
    log = _log(tmp_path / "run")
    assert np.mean([r["latent_nmse"] for r in log[-5:]]) < 0.6 * log[0]["latent_nmse"]
    vals = [r["validation"] for r in log if "validation" in r]
    assert vals[1]["latent_nmse"] < vals[0]["latent_nmse"] < 1.0
    val = result["validation"]
    assert val["loss"] == pytest.approx(val["ce"] + val["latent_nmse"])
    assert len(val["latent_token_acc_per_level"]) == codec.n_codebooks
    model, info = load_model(tmp_path / "run" / "model")
    assert info.config.latent_dim == 32 and model.body.latent_head is not None

    # Parallel decoding through the head gives the codec's codes of its prediction.
    features, kit = random_inputs(2, 30, config=info.config)
    opts = DecodeOptions(method="parallel")
    tokens = decode(model, features, kit, opts, quantize=codec.quantize)
    with torch.no_grad():
        latent = model.latent_fn(features, kit)(torch.full_like(tokens, model.mask_id))
    assert torch.equal(tokens, codec.quantize(latent))
    argmax = decode(model, features, kit, opts)  # no quantiser: the token heads' argmax
    assert not torch.equal(tokens, argmax)


def test_init_adds_a_latent_head_to_a_trained_model(codec_cache, tmp_path):
    cache, codec_dir = codec_cache
    cfg = replace(CFG, steps=10, validate_every=10)
    LMTrainer(cache, tmp_path / "plain", cfg, "tiny", model_overrides=SMALL).run(progress=False)
    plain, _ = load_model(tmp_path / "plain" / "model")
    grown = LMTrainer(cache, tmp_path / "grown", cfg, "tiny", model_overrides=SMALL,
                      init=tmp_path / "plain" / "model", latent_head=True,
                      codec_path=codec_dir)  # fmt: skip
    state = grown.model.state_dict()
    for name, value in plain.state_dict().items():
        assert torch.equal(state[name], value), name
    assert "body.latent_head.weight" in state
    grown.run(progress=False)
    # A model with a head continues with it, even without --latent-head ...
    again = LMTrainer(cache, tmp_path / "again", cfg, "tiny", model_overrides=SMALL,
                      init=tmp_path / "grown" / "model", codec_path=codec_dir)  # fmt: skip
    assert again.model_config.latent_dim == 32
    # ... and a codec without an exposed latent is refused by name.
    with pytest.raises(UserError, match="synthetic"):
        LMTrainer(make_token_cache(tmp_path / "syn"), tmp_path / "x", cfg, "tiny",
                  model_overrides=SMALL, latent_head=True)  # fmt: skip


def test_extra_token_caches_get_their_share_of_windows(cache, tmp_path):
    extra = make_token_cache(tmp_path / "extra", n_train=2, n_val=1, kits=("kitB",), seed=5)
    cfg = replace(CFG, steps=4, extra_share=0.25)
    trainer = LMTrainer(cache, tmp_path / "run", cfg, "tiny", model_overrides=SMALL,
                        extra_tokens=(extra,))  # fmt: skip
    main_n = len(trainer.train_tracks) - 2
    assert main_n == 12 and len(trainer.val_tracks) == 4 and len(trainer.extra_val_tracks) == 1
    weights = trainer.sampler.weights.numpy()
    assert weights[main_n:].sum() == pytest.approx(0.25) and weights.sum() == pytest.approx(1.0)
    g = torch.Generator().manual_seed(0)
    picks = torch.multinomial(trainer.sampler.weights, 4000, replacement=True, generator=g)
    assert (picks >= main_n).float().mean().item() == pytest.approx(0.25, abs=0.03)
    trainer.run(progress=False)
    card = load_model(tmp_path / "run" / "model")[1].card
    assert card["extra_token_caches"] == [str(extra)] and card["train"]["extra_share"] == 0.25
    # The objective weighs the extras' validation split by their share of training windows.
    val = trainer.validate()
    assert val["extra_loss"] != val["main_loss"]
    assert val["loss"] == pytest.approx(0.75 * val["main_loss"] + 0.25 * val["extra_loss"])
    assert "extras" in trainer.describe(val)
    from drumgrid.training.cards import extra_data_lines

    source = extra / ".." / "corpus"
    (source / "ATTRIBUTION.md").write_text("# Attribution\n\nRing-outs by drumgrid,\nApache.\n")
    assert extra_data_lines(card)[-1].endswith("windows from: Ring-outs by drumgrid, Apache.")

    # Without extras the draw is by length alone, as before extras existed.
    plain = LMTrainer(cache, tmp_path / "plain", replace(CFG, steps=4), "tiny",
                      model_overrides=SMALL)  # fmt: skip
    lengths = np.array([t.n_frames for t in plain.train_tracks], np.float64)
    assert torch.equal(plain.sampler.weights, torch.from_numpy(lengths / lengths.sum()))


def test_extra_token_caches_are_checked(cache, tmp_path):
    def trainer(extra: Path, share: float = 0.1) -> LMTrainer:
        cfg = replace(CFG, steps=4, extra_share=share)
        return LMTrainer(cache, tmp_path / "run", cfg, "tiny", model_overrides=SMALL,
                         extra_tokens=(extra,))  # fmt: skip

    other_kit = make_token_cache(tmp_path / "k", n_train=1, n_val=0, kits=("kitZ",))
    with pytest.raises(UserError, match="kits kitZ are not in"):
        trainer(other_kit)
    other_codec = make_token_cache(tmp_path / "c", n_train=1, n_val=0, config_hash="e" * 16)
    with pytest.raises(UserError, match=r"e{16}|other codec|hash"):
        trainer(other_codec)
    good = make_token_cache(tmp_path / "g", n_train=1, n_val=0)
    with pytest.raises(UserError, match=r"--extra-share 1\.0"):
        trainer(good, share=1.0)
    with pytest.raises(UserError, match="needs extra token caches"):
        LMTrainer(cache, tmp_path / "run", replace(CFG, extra_share=0.2), "tiny",
                  model_overrides=SMALL)  # fmt: skip


# -- prompted models -----------------------------------------------------------------------------


def test_a_prompted_model_learns_the_kit_from_its_prompt(cache, tmp_path):
    """Half the steps render from a prompt of the window's kit (another file of it); the
    prompted validation then reads the kit from the prompt about as well as from the name,
    and a prompt of the other kit turns the render into that kit's tokens."""
    shots = make_token_cache(tmp_path / "shots", n_train=2, n_val=0, seed=7)
    cfg = replace(CFG, steps=120, validate_every=60, prompt_share=0.5, shot_share=0.25,
                  prompt_seconds=(0.5, 2.0), val_prompt_seconds=1.5)  # fmt: skip
    trainer = LMTrainer(cache, tmp_path / "run", cfg, "tiny", model_overrides=SMALL,
                        prompt_shots=shots)  # fmt: skip
    result = trainer.run(progress=False)
    log = _log(tmp_path / "run")
    assert 0.3 < np.mean([r["prompted"] for r in log]) < 0.7
    # a prompted step: 4 groups of windows of one kit each, a prompt per group
    step = next(r["step"] for r in log if r["prompted"])
    trainer.step = step - 1
    kits = trainer._prompted_kits()
    windows = trainer.sampler.windows(trainer.step, cfg.batch_size, kits)
    assert len(kits) == 4
    assert [trainer.sampler.tracks[i].kit for i, _, _ in windows] == [
        k for k in kits for _ in (0, 1)
    ]
    assert trainer._step_prompt(kits, windows).tokens.shape[0] == 4
    val = result["validation"]
    assert val["prompted_token_acc"] > 2 * val["baseline_acc"]
    assert val["prompted_token_acc"] > val["token_acc"] - 0.1
    assert val["loss"] == pytest.approx((val["named_loss"] + val["prompted_loss"]) / 2)
    model, info = load_model(tmp_path / "run" / "model")
    assert info.config.prompted and info.card["prompt_shots"] == [str(shots)]

    # A window of kitA's groove with kitB's prompt comes out as kitB's tokens.
    a = next(t for t in trainer.val_tracks if t.kit == 0)
    b_prompt = next(t for t in trainer.val_tracks if t.kit == 1 and t.name != a.name)
    a_as_b = next(
        t for t in trainer.val_tracks if t.kit == 1 and t.name.split("_")[0] == a.name.split("_")[0]
    )
    T = min(a.n_frames, 40)
    features = torch.from_numpy(a.features(0, T)[None])
    memory = model.eval().remember(
        torch.from_numpy(b_prompt.tokens[None].astype(np.int64)),
        torch.from_numpy(b_prompt.features()[None]),
    )
    masked = torch.full((1, info.config.n_codebooks, T), info.config.codebook_size)
    with torch.no_grad():
        pred = model(masked, features, None, memory=memory).argmax(-1)[0].numpy()
    as_b = (pred == a_as_b.tokens[:, :T]).mean()
    as_a = (pred == a.tokens[:, :T]).mean()
    assert as_b > as_a + 0.2


def test_prompted_training_resumes_exactly(cache, tmp_path):
    cfg = replace(CFG, steps=12, validate_every=6, checkpoint_every=6, prompt_share=0.5,
                  prompt_seconds=(0.5, 2.0))  # fmt: skip

    def trainer(out: str) -> LMTrainer:
        return LMTrainer(cache, tmp_path / out, cfg, "tiny", model_overrides=SMALL)

    trainer("whole").run(progress=False)
    trainer("parts").run(progress=False, until=8)
    second = trainer("parts")
    assert second.resume() and second.step == 6
    second.run(progress=False)
    assert _log(tmp_path / "whole") == _log(tmp_path / "parts")


def test_a_resumed_run_reads_the_entries_it_began_with(cache, tmp_path):
    """tokenize rewrites a cache as its corpus grows: a resumed run still trains on the
    entries it started with (same log as an uninterrupted run), and one that lost an entry
    is refused."""
    cfg = replace(CFG, steps=12, validate_every=6, checkpoint_every=6)
    grown = tmp_path / "cache"
    shutil.copytree(cache, grown)

    def trainer(out: str) -> LMTrainer:
        return LMTrainer(grown, tmp_path / out, cfg, "tiny", model_overrides=SMALL)

    trainer("whole").run(progress=False)
    trainer("parts").run(progress=False, until=8)
    index = grown / "entries.jsonl"
    lines = index.read_text().splitlines()
    first = json.loads(lines[0])
    shutil.copy(grown / first["tokens"], grown / "tokens" / "added.npy")
    added = json.dumps({**first, "tokens": "tokens/added.npy", "id": "added"})
    index.write_text("\n".join([added, *reversed(lines)]) + "\n")  # new first, order changed
    second = trainer("parts")
    assert len(second.train_tracks) == len(trainer("whole").train_tracks)
    assert second.resume() and second.step == 6
    assert "1 new in tokens left out" in second.data_used.left_out_note()
    second.run(progress=False)
    assert _log(tmp_path / "whole") == _log(tmp_path / "parts")
    index.write_text("\n".join([added, *lines[1:]]) + "\n")  # an entry it trained on is gone
    with pytest.raises(UserError, match=r"1 of the \d+ files this run trained on"):
        trainer("parts")
    (tmp_path / "parts" / "data_used.json").unlink()  # a run begun before the record
    assert "no record of the files of tokens" in trainer("parts").data_used.left_out_note()


def test_prompt_only_kits_train_from_prompts_alone(cache, tmp_path):
    """Kits with no name (kit mixes): never in a named step, drawn for about their share of
    a prompted step's groups, each group's windows of one kit; the model keeps its named
    kits only."""
    mixes = make_token_cache(tmp_path / "mixes", kits=("mix-a", "mix-b"), seed=2)
    cfg = replace(CFG, steps=4, prompt_share=0.5, prompt_kits_share=0.5,
                  prompt_seconds=(0.5, 2.0))  # fmt: skip
    t = LMTrainer(cache, tmp_path / "run", cfg, "tiny", model_overrides=SMALL, prompt_kits=mixes)
    n_named = len(t.kits)
    assert t.prompt_only_kits == ["mix-a", "mix-b"] and t.model_config.n_kits == n_named
    groups = {"named": 0, "mix": 0}
    for step in range(300):
        t.step = step
        kits = t._prompted_kits()
        windows = t.sampler.windows(step, cfg.batch_size, kits)
        kit_of = [t.sampler.tracks[i].kit for i, _, _ in windows]
        if not kits:
            assert all(k < n_named for k in kit_of)
            continue
        each = cfg.batch_size // len(kits)
        for j, k in enumerate(kits):
            assert set(kit_of[j * each : (j + 1) * each]) == {k}
            groups["mix" if k >= n_named else "named"] += 1
        t._step_prompt(kits, windows)
    assert 0.4 < groups["mix"] / (groups["mix"] + groups["named"]) < 0.6
    t.step = 0
    t.run(progress=False)
    _, info = load_model(tmp_path / "run" / "model")
    assert info.kits == tuple(t.kits) and info.card["prompt_kits"]["kits"] == 2
    assert info.card["prompt_kits"]["voiced"] is False  # its source holds no voiced mix
    # one-shot prompts of both: the named kits' and the mixes' (two --prompt-shots)
    shots = [make_token_cache(tmp_path / f"shots-{i}", kits=k, seed=5 + i)
             for i, k in enumerate((("kitA", "kitB"), ("mix-a", "mix-b")))]  # fmt: skip
    both = LMTrainer(cache, tmp_path / "both", replace(cfg, shot_share=0.5), "tiny",
                     model_overrides=SMALL, prompt_kits=mixes, prompt_shots=shots)  # fmt: skip
    assert sorted(both.prompts.shots_by_kit) == [0, 1, 2, 3]
    with pytest.raises(UserError, match="one-shot prompts of kits mix-a, mix-b"):
        LMTrainer(cache, tmp_path / "z", replace(cfg, shot_share=0.5), "tiny",
                  model_overrides=SMALL, prompt_shots=shots)  # fmt: skip
    with pytest.raises(UserError, match="named kits of"):
        LMTrainer(cache, tmp_path / "x", cfg, "tiny", model_overrides=SMALL, prompt_kits=cache)
    with pytest.raises(UserError, match="needs --prompt-share"):
        LMTrainer(cache, tmp_path / "y", replace(cfg, prompt_share=0.0), "tiny",
                  model_overrides=SMALL, prompt_kits=mixes)  # fmt: skip


def test_init_makes_a_named_kit_model_prompted(cache, tmp_path):
    LMTrainer(cache, tmp_path / "named", replace(CFG, steps=4), "tiny",
              model_overrides=SMALL).run(progress=False)  # fmt: skip
    cfg = replace(CFG, steps=4, prompt_share=0.5)
    grown = LMTrainer(cache, tmp_path / "prompted", cfg, "tiny", model_overrides=SMALL,
                      init=tmp_path / "named" / "model")  # fmt: skip
    assert grown.model.prompted
    named, _ = load_model(tmp_path / "named" / "model")
    for name, value in named.state_dict().items():
        assert torch.equal(grown.model.state_dict()[name], value), name
    with pytest.raises(UserError, match="one-shot prompts"):
        LMTrainer(
            cache, tmp_path / "x", replace(cfg, shot_share=0.5), "tiny", model_overrides=SMALL
        )


def test_tail_frames_are_a_ringing_cymbal_after_the_last_hit():
    """A lone crash (velocity 100 at 0.5 s): tail frames from about 0.41 s after the hit (its
    short decay under 0.1) until its ring falls under 0.05 (about 4.1 s); a groove's frames
    between its hits are not tails, nor is anything after a lone kick."""
    from drumgrid.server.conditioning import frame_conditioning
    from drumgrid.server.performance import from_note_list
    from drumgrid.training.lm.tails import TailFrames

    rate, v = 50.0, 100 / 127

    def tails(notes, length_s):
        perf = from_note_list(notes, tempo_bpm=120.0, length_s=length_s)
        feats = frame_conditioning(perf, rate, 0, int(length_s * rate)).features
        return TailFrames(FEATURE_NAMES)(torch.from_numpy(feats)[None])[0].numpy()

    crash = tails([(0.5, 49, 100)], 6.0)
    ages = (np.arange(len(crash)) + 1) / rate - 0.5  # age at each frame's end
    expected = (ages > 0.2 * np.log(v / 0.1)) & (ages <= 1.5 * np.log(v / 0.05))
    assert np.array_equal(crash, expected) and 150 < expected.sum() < 200
    hats = [(0.25 * i, 42, 80) for i in range(16)] + [(3.0, 49, 100)]
    groove = tails(hats, 6.0)
    assert not groove[: int(3.75 * rate) + 15].any() and groove[int(4.4 * rate)]
    assert not tails([(0.5, 36, 127)], 3.0).any()


def crash_cache(codec_dir: Path, tmp_path: Path) -> Path:
    """A token cache in the codec's token space of grooves broken by lone crashes."""
    from drumgrid.server.drum_codec.codec import DrumgridCodec

    codec = DrumgridCodec.from_folder(codec_dir)
    return make_token_cache(
        tmp_path / "crashes", K=codec.n_codebooks, V=codec.codebook_size, codec_id=codec.id,
        config_hash=codec.config_hash, frame_rate=codec.frame_rate, spec=CRASH_BREAKS, bars=3,
    )  # fmt: skip


def latent_run(cache: Path, run: Path, cfg: LMTrainConfig, codec_dir: Path) -> LMTrainer:
    """A latent-head model trained for cfg.steps; the trainer, to validate again."""
    trainer = LMTrainer(cache, run, cfg, "tiny", model_overrides=SMALL, latent_head=True,
                        codec_path=codec_dir)  # fmt: skip
    trainer.run(progress=False)
    return trainer


def _runs_without_and_with(
    cache: Path, codec_dir: Path, tmp_path: Path, cfg: LMTrainConfig, loss: str
) -> tuple[dict[float, dict], dict[float, dict], LMTrainer]:
    """Runs of `cfg` with the decoded `loss` ("level", "mel") weighted 0 and 2: each one's
    first logged step and validation, and the second's trainer."""
    firsts, vals = {}, {}
    for w in (0.0, 2.0):
        run = tmp_path / f"{loss}{w:g}"
        trainer = latent_run(cache, run, replace(cfg, **{f"{loss}_weight": w}), codec_dir)
        firsts[w], vals[w] = _log(run)[0], trainer.validate()
    return firsts, vals, trainer


def test_level_weight_adds_the_loss_on_decoded_levels(codec_cache, tmp_path):
    """--level-weight adds the squared dB error of each frame's decoded level: the first step
    is otherwise the same, validation reports it and counts it in the objective."""
    codec_dir = codec_cache[1]
    cache = crash_cache(codec_dir, tmp_path)
    cfg = replace(CFG, steps=3, validate_every=3, tail_weight=4.0)
    firsts, vals, trainer = _runs_without_and_with(cache, codec_dir, tmp_path, cfg, "level")
    assert "level_err" not in firsts[0.0] and firsts[2.0]["level_err"] > 0
    for key in ("loss", "latent_nmse"):  # the same first step besides the new term
        assert firsts[2.0][key] == pytest.approx(firsts[0.0][key])
    v = vals[2.0]
    assert "level_db" not in vals[0.0] and v["level_db"] > 0 and v["tail_level_db"] > 0
    assert v["loss"] > v["ce"] + cfg.latent_weight * v["weighted_nmse"]
    assert "level error" in trainer.describe(v)
    with pytest.raises(UserError, match=r"--level-weight.*--latent-head"):
        LMTrainer(cache, tmp_path / "x", replace(cfg, tail_weight=0.0, level_weight=1.0),
                  "tiny", model_overrides=SMALL)  # fmt: skip


def test_ce_body_grad_keeps_the_forward_and_changes_what_the_body_learns(codec_cache, tmp_path):
    """--ce-body-grad 0: the first step's losses are the same (one forward), its gradient
    smaller (the cross-entropy no longer reaches the body), and the runs part after it."""
    codec_dir = codec_cache[1]
    cache = crash_cache(codec_dir, tmp_path)
    cfg = replace(CFG, steps=2, validate_every=2)
    logs = {}
    for share in (1.0, 0.0):
        run = tmp_path / f"ce{share:g}"
        latent_run(cache, run, replace(cfg, ce_body_grad=share), codec_dir)
        logs[share] = _log(run)
    for key in ("loss", "latent_nmse"):
        assert logs[0.0][0][key] == pytest.approx(logs[1.0][0][key])
    assert logs[0.0][0]["grad_norm"] < logs[1.0][0]["grad_norm"]
    assert logs[0.0][1]["loss"] != pytest.approx(logs[1.0][1]["loss"])
    with pytest.raises(UserError, match=r"--ce-body-grad.*--latent-head"):
        LMTrainer(cache, tmp_path / "x", replace(cfg, ce_body_grad=0.0), "tiny",
                  model_overrides=SMALL)  # fmt: skip


def test_mel_weight_adds_the_loss_on_decoded_bands(codec_cache, tmp_path):
    """--mel-weight adds the mean absolute dB error of each frame's decoded mel bands: the
    first step is otherwise the same, validation reports it and counts it in the objective."""
    codec_dir = codec_cache[1]
    cache = crash_cache(codec_dir, tmp_path)
    cfg = replace(CFG, steps=3, validate_every=3, tail_weight=4.0, level_weight=1.0)
    firsts, vals, trainer = _runs_without_and_with(cache, codec_dir, tmp_path, cfg, "mel")
    assert "mel_err" not in firsts[0.0] and firsts[2.0]["mel_err"] > 0
    for key in ("loss", "latent_nmse", "level_err"):  # the same first step besides the new term
        assert firsts[2.0][key] == pytest.approx(firsts[0.0][key])
    v = vals[2.0]
    assert "mel_db" not in vals[0.0] and v["mel_db"] > 0 and v["tail_mel_db"] > 0
    level_term = cfg.level_weight * (v["level_db"] / 10) ** 2  # at least, untailed
    assert v["loss"] > v["ce"] + cfg.latent_weight * v["weighted_nmse"] + level_term
    assert "mel error" in trainer.describe(v)
    with pytest.raises(UserError, match=r"--mel-weight.*--latent-head"):
        LMTrainer(cache, tmp_path / "x", replace(cfg, tail_weight=0.0, level_weight=0.0,
                  mel_weight=1.0), "tiny", model_overrides=SMALL)  # fmt: skip


def test_decoded_bands_are_the_mel_metrics_bands(codec_cache):
    """The mel loss reads the decoded spectrum through the metric's 80 bands: a spectrum 6 dB
    louder everywhere is 6 dB off in every band (0.6 in units of 10 dB), the frame levels sum
    the same bins, and a band under the window's floor costs nothing."""
    from drumgrid.server.drum_codec.codec import DrumgridCodec
    from drumgrid.training.metrics.spectral import MEL_BANDS

    codec = DrumgridCodec.from_folder(codec_cache[1])
    errors = DecodedErrors(codec, 80.0, ("mel",), "--mel-weight")
    tokens = torch.randint(codec.codebook_size, (1, codec.n_codebooks, 12))
    latent = codec.latents(tokens)
    spectrum = codec.frame_spectrum_db(latent).detach()
    assert torch.allclose(
        codec.frame_levels_db(latent),
        torch.logsumexp(spectrum / (10 / np.log(10)), -1) * (10 / np.log(10)),
        atol=1e-4,
    )
    bands = errors._mel_db(spectrum)
    assert bands.shape == (1, 12, MEL_BANDS)
    louder = errors._mel_db(spectrum + 6.0)
    assert torch.allclose(louder - bands, torch.full_like(bands, 6.0), atol=1e-3)
    valid = torch.ones(1, 12, dtype=torch.bool)
    want = bands - bands.amax() - 10.0  # the random codec decodes near -115 dBFS: raise it
    want[..., 0] = -130.0  # far under the floor (-90 dBFS): both read the floor
    got = want.clone()
    got[..., 0] += 10.0
    assert band_error_db(got, want, valid, 80.0).abs().max() < 1e-4
    got[..., 1] += 6.0
    loud = want[..., 1] > -70.0  # 20 dB over the floor: the soft floor adds under 0.05 dB
    error = band_error_db(got, want, valid, 80.0)
    assert loud.any() and torch.allclose(error[loud], torch.tensor(0.6 / MEL_BANDS), rtol=0.02)


def test_the_level_loss_sees_as_far_down_as_its_range():
    """A tail ringing on 10 dB too loud 65-75 dB under the window's peak costs almost nothing
    over a 60 dB range and costs over an 80 dB one (the mel metric's floor, the default)."""
    want = torch.tensor([[-10.0, -40.0, -85.0, -95.0]])
    got = torch.tensor([[-10.0, -40.0, -75.0, -95.0]])
    valid = torch.ones_like(want, dtype=torch.bool)
    near, far = (
        level_error_db(got, want, valid, r)[0] for r in (60.0, LMTrainConfig.level_range_db)
    )
    assert LMTrainConfig.level_range_db == 80.0
    assert near[2] < 0.02 and far[2] > 0.5  # in units of 10 dB, squared: 1.4 dB, 7 dB
    assert near[[0, 1, 3]].abs().max() == 0 and far[[0, 1, 3]].abs().max() == 0
    # The floor follows the loudest valid frame only.
    quiet = level_error_db(got, want, torch.tensor([[False, True, True, True]]), 60.0)[0]
    assert quiet[2] > 0.3


def test_tail_weight_weights_the_latent_loss_on_tail_frames(codec_cache, tmp_path):
    """--tail-weight raises the latent loss where tail frames are drawn and nowhere else (the
    same first step, the same model); it needs a latent head and the ring features."""
    codec_dir = codec_cache[1]
    cache = crash_cache(codec_dir, tmp_path)
    cfg = replace(CFG, steps=20, validate_every=20)
    firsts, vals = {}, {}
    for w in (0.0, 4.0):
        run = tmp_path / f"w{w:g}"
        trainer = latent_run(cache, run, replace(cfg, tail_weight=w), codec_dir)
        firsts[w], vals[w] = _log(run)[:20], trainer.validate()
    # Validation weighs the latent error as training does, and reports the tail frames' own.
    v0, v4 = vals[0.0], vals[4.0]
    assert "tail_nmse" not in v0 and v0["weighted_nmse"] == v0["latent_nmse"]
    assert v4["tail_frames"] > 0 and v4["weighted_nmse"] > v4["latent_nmse"]
    assert v4["loss"] == pytest.approx(v4["ce"] + cfg.latent_weight * v4["weighted_nmse"])
    shares = [r["tail_share"] for r in firsts[4.0]]
    assert "tail_share" not in firsts[0.0][0] and shares[0] > 0 and max(shares) <= 1
    for w4, w0 in zip(firsts[4.0], firsts[0.0], strict=True):
        if w4["step"] > 1:
            break  # the weights differ after the first update
        assert w4["loss"] == w0["loss"]  # the token cross-entropy is not weighted
        assert (w4["latent_nmse"] > w0["latent_nmse"]) == (w4["tail_share"] > 0)
    with pytest.raises(UserError, match="--latent-head"):
        LMTrainer(cache, tmp_path / "x", replace(cfg, tail_weight=1.0), "tiny",
                  model_overrides=SMALL)  # fmt: skip
    LMTrainer(cache, tmp_path / "full", cfg, "tiny", model_overrides=SMALL,
              latent_head=True, codec_path=codec_dir).run(progress=False)  # fmt: skip
    old = save_legacy_copy(tmp_path / "full" / "model", tmp_path / "old")
    with pytest.raises(UserError, match=r"ring.*--grow-features"):
        LMTrainer(cache, tmp_path / "y", replace(cfg, tail_weight=1.0), "tiny",
                  model_overrides=SMALL, init=old, codec_path=codec_dir)  # fmt: skip


def test_transfer_carries_a_model_to_another_codec_and_kits(tmp_path):
    """--transfer: a model of drumgrid-drums carried to a drumgrid-drums-2 whose codebooks are
    the first codec's, each level's permuted (so the codes map exactly): every code's input
    row and output head is its counterpart's, the body is untouched, a kit the model knows
    keeps its row and a new one starts at the mean; without --transfer both are refused."""
    from engine_helpers import make_codec_dir

    from drumgrid.server.codecs.registry import load_codec
    from drumgrid.server.drum_codec.codec import DrumgridCodec
    from drumgrid.server.drum_codec.folder import save_drum_codec
    from drumgrid.server.engine.models import attach_codec

    # A tiny random codec whose levels shrink fivefold each, as a trained one's do, so that
    # quantising a latent finds (nearly always) the codes that made it.
    a = DrumgridCodec.from_folder(make_codec_dir(tmp_path / "codec-src"))
    with torch.no_grad():
        for k, level in enumerate(a.model.quantizer.levels):
            level.proj_out.weight.mul_(0.2**k)
            level.proj_out.bias.mul_(0.2**k)
    codec_dir = save_drum_codec(tmp_path / "codec-a", a.model)
    a = load_codec("drumgrid-drums", codec_dir)
    cache_a = make_token_cache(
        tmp_path / "a", K=a.n_codebooks, V=a.codebook_size, codec_id=a.id,
        config_hash=a.config_hash, frame_rate=a.frame_rate,
    )  # fmt: skip
    cfg = replace(CFG, steps=10, validate_every=10)
    LMTrainer(cache_a, tmp_path / "old", cfg, "tiny", model_overrides=SMALL, latent_head=True,
              codec_path=codec_dir).run(progress=False)  # fmt: skip
    old_dir = attach_codec(tmp_path / "old" / "model", codec_dir, copy=True)
    old, old_info = load_model(old_dir)

    b = DrumgridCodec.from_config("drumgrid-drums-2", a.model.config)
    b.model.load_state_dict(a.model.state_dict())
    g = torch.Generator().manual_seed(3)
    perms = [torch.randperm(a.codebook_size, generator=g) for _ in range(a.n_codebooks)]
    with torch.no_grad():
        for level, perm in zip(b.model.quantizer.levels, perms, strict=True):
            level.codebook.weight.copy_(level.codebook.weight[perm])  # b's code c is a's perm[c]
    b_dir = save_drum_codec(tmp_path / "codec-b", b.model)
    b = DrumgridCodec.from_folder(b_dir)

    def cache_of_b(name: str, kits: tuple[str, ...]) -> Path:
        return make_token_cache(
            tmp_path / name, kits=kits, K=b.n_codebooks, V=b.codebook_size, codec_id=b.id,
            config_hash=b.config_hash, frame_rate=b.frame_rate, seed=4,
        )  # fmt: skip

    def trainer(cache: Path, out: str, transfer: bool) -> LMTrainer:
        return LMTrainer(cache, tmp_path / out, cfg, "tiny", model_overrides=SMALL, init=old_dir,
                         codec_path=b_dir, transfer=transfer)  # fmt: skip

    kits = (old_info.kits[0], "kitNew")
    cache_b = cache_of_b("b", kits)
    for cache, why in ((cache_b, "knows the kits"), (cache_of_b("b2", old_info.kits), "predicts")):
        with pytest.raises(UserError, match=f"{why}.*pass --transfer"):
            trainer(cache, "refused", transfer=False)
    moved = trainer(cache_b, "moved", transfer=True)
    carried = moved.transferred
    assert carried is not None
    assert carried["from_codec"] == "drumgrid-drums" and carried["kits_carried"] == [kits[0]]
    assert min(carried["code_agreement"]) > 0.95
    new, want = moved.model.state_dict(), old.state_dict()
    V = a.codebook_size
    tracks = torch.from_numpy(np.concatenate([t.tokens for t in moved.train_tracks], -1)[None])
    round_trip = b.quantize(b.latents(tracks.long()))[0]
    for k, perm in enumerate(perms):
        codes = tracks[0, k].long().unique()
        # The codes b's quantiser recovers wherever they occur map exactly to a's.
        kept = [int(c) for c in codes if (round_trip[k][tracks[0, k] == c] == c).all()]
        assert len(kept) >= 0.9 * len(codes)
        kept_t = torch.tensor(kept)
        same = functools.partial(torch.testing.assert_close, rtol=0, atol=1e-6)
        same(new["tables"][k, kept_t], want["tables"][k, perm[kept_t]])
        same(new["body.heads"][k, kept_t], want["body.heads"][k, perm[kept_t]])
        same(new["body.head_bias"][k, 0, kept_t], want["body.head_bias"][k, 0, perm[kept_t]])
        same(new["tables"][k, V], want["tables"][k, V])  # the mask
    kit_rows = want["kit_embedding.weight"]
    assert torch.equal(new["kit_embedding.weight"][0], kit_rows[old_info.kits.index(kits[0])])
    assert torch.allclose(new["kit_embedding.weight"][1], kit_rows.mean(0))
    for name in ("body.blocks.0.attn.qkv.weight", "body.latent_head.weight", "cond_proj.bias"):
        assert torch.equal(new[name], want[name]), name
    # The same codec with other kits: only the kit table moves.
    cache_a2 = make_token_cache(
        tmp_path / "a2", kits=kits, K=a.n_codebooks, V=a.codebook_size, codec_id=a.id,
        config_hash=a.config_hash, frame_rate=a.frame_rate, seed=4,
    )  # fmt: skip
    kits_only = LMTrainer(cache_a2, tmp_path / "kits", cfg, "tiny", model_overrides=SMALL,
                          init=old_dir, codec_path=codec_dir, transfer=True)  # fmt: skip
    assert kits_only.transferred == {"from_codec": "drumgrid-drums", "kits_carried": [kits[0]],
                                     "code_agreement": None}  # fmt: skip
    for name in ("tables", "body.heads", "body.head_bias"):
        assert torch.equal(kits_only.model.state_dict()[name], want[name]), name
    moved.run(progress=False)
    _, info = load_model(tmp_path / "moved" / "model")
    assert info.kits == kits and info.card["transfer"] == carried
    line = lm_training_lines(info.card)[-2]
    assert f"carried over from the tokens of drumgrid-drums (kits kept: {kits[0]})" in line

    # --head-steps: the first steps train only what the transfer laid out anew.
    held = LMTrainer(cache_b, tmp_path / "held", replace(cfg, head_steps=2), "tiny",
                     model_overrides=SMALL, init=old_dir, codec_path=b_dir,
                     transfer=True)  # fmt: skip
    assert held.fresh_params == {"tables", "body.heads", "body.head_bias", "kit_embedding.weight"}
    start = {k: v.clone() for k, v in held.model.state_dict().items()}
    for _ in range(2):
        held.train_step()
        held.step += 1
    after = held.model.state_dict()
    moved_now = {k for k in start if not torch.equal(after[k], start[k])}
    assert moved_now == held.fresh_params
    held.train_step()
    assert not torch.equal(held.model.state_dict()["body.blocks.0.attn.qkv.weight"],
                           start["body.blocks.0.attn.qkv.weight"])  # fmt: skip
    with pytest.raises(UserError, match="starts nothing anew"):
        LMTrainer(cache_a, tmp_path / "none", replace(cfg, head_steps=2), "tiny",
                  model_overrides=SMALL, init=old_dir, codec_path=codec_dir)  # fmt: skip
