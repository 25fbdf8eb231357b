"""The engine: lengths, determinism, windowing, chunked codec decoding, errors, backends.

Every test uses the tiny random checkpoint of engine_helpers (a debug Transformer over the
tiny drumgrid-drums codec), so renders take tens of milliseconds.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from engine_helpers import KITS, WINDOW_FRAMES, local_model_dir, make_model_dir
from factories import make_groove, make_midi

from drumgrid.server.conditioning import frame_conditioning
from drumgrid.server.drums import DrumClass
from drumgrid.server.engine import Engine, RenderOptions, decode_chunked, models
from drumgrid.server.engine.models import DEFAULT_MODEL_DIR, resolve_model_dir
from drumgrid.server.engine.options import RenderTimings
from drumgrid.server.engine.windows import Window, plan_windows
from drumgrid.server.errors import Cancelled, MidiError, TooLong, UnknownKit, UserError
from drumgrid.server.midi_io import read_midi
from drumgrid.server.performance import from_note_list
from drumgrid.server.prompt_fit import NAME_MARGIN, fit_by_names

# Busy CI machines make two OpenMP threads wait on each other for whole time slices.
torch.set_num_threads(1)

GREEDY = RenderOptions(decoding="iterative", steps=2, temperature=0.0)
SAMPLED = RenderOptions(decoding="iterative", steps=3, temperature=1.0, top_k=50, seed=5)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="module")
def engine(model_dir):
    return Engine.load(model_dir, "cpu", "eager", precision="fp32")


@pytest.mark.parametrize("rate", [None, 48000])
def test_length_is_the_midi_length_plus_the_tail(engine, rate, tmp_path):
    # A tempo change half way: 4 beats at 120 bpm (2 s), then 90 bpm.
    ppq = 480
    notes = [(i * ppq, 36 if i % 2 == 0 else 42, 100, i * ppq + 60) for i in range(8)]
    path = make_midi(tmp_path / "t.mid", notes, ppq, tempos=[(0, 500000), (4 * ppq, 666667)])
    perf = read_midi(path)
    assert perf.length_s == pytest.approx(2.0 + (perf.length_beats - 4) * 0.666667, abs=1e-3)
    for tail in (0.0, 0.5):
        (result,) = engine.render(perf, RenderOptions(sample_rate=rate, tail_s=tail, channels=2))
        sr = rate or engine.sample_rate
        assert result.sample_rate == sr
        assert result.audio.shape == (round((perf.length_s + tail) * sr), 2)
        assert result.audio.dtype == np.float32
        assert np.array_equal(result.audio[:, 0], result.audio[:, 1])
        assert np.isfinite(result.audio).all()
    # The engine's default tail is the corpus's 1 s.
    (result,) = engine.render(perf, RenderOptions(decoding="parallel"))
    assert result.audio.shape[0] == round((perf.length_s + 1.0) * engine.sample_rate)


def test_same_seed_same_audio_other_seed_other_audio(engine):
    perf = make_groove(2)
    a, b = engine.render(perf, SAMPLED)[0], engine.render(perf, SAMPLED)[0]
    assert torch.equal(a.tokens, b.tokens) and np.array_equal(a.audio, b.audio)
    c = engine.render(perf, RenderOptions(**{**SAMPLED.__dict__, "seed": 6}))[0]
    assert not torch.equal(a.tokens, c.tokens)


def test_variations_are_the_single_takes_batched(engine):
    perf = make_groove(1)
    takes = engine.render(perf, RenderOptions(**{**SAMPLED.__dict__, "variations": 3}))
    assert [t.seed for t in takes] == [5, 6, 7]
    for take in takes:
        single = engine.render(perf, RenderOptions(**{**SAMPLED.__dict__, "seed": take.seed}))[0]
        assert torch.equal(take.tokens, single.tokens)
    assert not torch.equal(takes[0].tokens, takes[1].tokens)


def test_window_plan_covers_the_clip_with_the_fewest_even_windows():
    assert plan_windows(50, 64, 16) == [Window(0, 50, 0)]
    for n in (65, 100, 112, 113, 200, 1000):
        wins = plan_windows(n, 64, 16)
        assert wins[0].start == 0 and wins[-1].stop == n
        assert len({w.n_frames for w in wins}) == 1 and wins[0].n_frames <= 64  # one shape
        # The fewest windows of at most 64 frames overlapping by 16: k cover 64 + 48 (k - 1).
        assert len(wins) == math.ceil((n - 16) / 48)
        for prev, w in itertools.pairwise(wins):
            assert w.known == prev.stop - w.start >= 16  # continuation overlap
            assert w.start > prev.start
    # Just past one window: two windows of 41 frames, not two of 64 overlapping by 63.
    assert plan_windows(65, 64, 16) == [Window(0, 41, 0), Window(24, 65, 17)]


def _tokens(engine, perf, options, n_frames):
    return engine.render_tokens(perf, options, n_frames, RenderTimings())[0]  # [K, T]


@pytest.mark.parametrize(
    "options, latent_dim",
    [
        (RenderOptions(decoding="parallel"), 0),
        (GREEDY, 0),
        (RenderOptions(decoding="parallel"), 32),
    ],
)
def test_windowed_equals_one_window_for_a_frame_local_model(tmp_path, options, latent_dim):
    """With attention switched off, frames do not see each other, so any difference between
    a windowed render and one window would be the windowing's own fault (features sliced at
    the wrong frame, tokens stitched off by one, a known prefix overwritten). Also for a
    model with a latent head, whose parallel tokens are the codec's codes of its latent."""
    folder = local_model_dir(tmp_path, max_frames=512, latent_dim=latent_dim)
    perf = make_groove(4, bpm=140)
    n_frames = 400  # fits one window of 512; nine windows of 48
    one = Engine.load(folder, "cpu", "eager", precision="fp32")
    windowed = Engine.load(folder, "cpu", "eager", precision="fp32", window_frames=48)
    assert windowed.window == 48 and one.window == 512
    assert torch.equal(
        _tokens(one, perf, options, n_frames), _tokens(windowed, perf, options, n_frames)
    )


def test_latent_head_renders_the_codecs_codes_of_its_prediction(tmp_path):
    """Parallel decoding of a model with a latent head: one window's tokens are exactly the
    codec's quantisation of the head's latent, not the token heads' argmax; iterative
    decoding still samples the token heads."""
    folder = make_model_dir(tmp_path, latent_dim=32)
    engine = Engine.load(folder, "cpu", "eager", precision="fp32")
    perf = make_groove(1)
    W = WINDOW_FRAMES
    got = _tokens(engine, perf, RenderOptions(decoding="parallel"), W)  # [K, W]
    from drumgrid.server.conditioning import frame_conditioning

    cond = frame_conditioning(perf, engine.info.frame_rate, 0, W, kit=0)
    feats = torch.from_numpy(cond.features)[None]
    kit = torch.zeros(1, dtype=torch.long)
    masked = torch.full((1, engine.codec.n_codebooks, W), engine.codec.codebook_size)
    with torch.no_grad():
        latent = engine.model.latent_fn(feats, kit)(masked)
        argmax = engine.model.logits_fn(feats, kit)(masked).argmax(-1)[0]
    assert torch.equal(got, engine.codec.quantize(latent)[0])
    assert not torch.equal(got, argmax)
    iterative = _tokens(engine, perf, GREEDY, W)
    assert not torch.equal(iterative, got)


def test_later_windows_never_change_earlier_ones(engine):
    """For the real (bidirectional) model a window only sees its own frames, so a long
    clip's tokens cannot equal one long window's; what holds is continuation: the first
    window's tokens are those of rendering its frames alone, and every overlap keeps the
    tokens the previous window chose (known tokens are never resampled)."""
    perf = make_groove(4)
    W = WINDOW_FRAMES
    long = _tokens(engine, perf, SAMPLED, 4 * W)
    first = _tokens(engine, perf, SAMPLED, W)
    assert torch.equal(long[:, :W], first)
    assert (long < engine.codec.codebook_size).all()


def test_chunked_codec_decode_matches_one_decode(engine):
    codec = engine.codec
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, codec.codebook_size, (2, codec.n_codebooks, 300), generator=g)
    n = 300 * codec.hop_length - 100
    whole = codec.decode_batch(tokens, n)
    chunked = decode_chunked(codec, tokens, n, chunk_frames=64)
    torch.testing.assert_close(chunked, whole, atol=1e-5, rtol=1e-4)


def test_progress_and_cancel(engine):
    perf = make_groove(2)
    seen: list[float] = []
    engine.render(perf, GREEDY, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 5
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2  # after two windows

    with pytest.raises(Cancelled) as exc:
        engine.render(perf, GREEDY, cancelled=cancelled)
    assert exc.value.code == "cancelled"


def test_bad_requests_have_their_codes(engine):
    perf = make_groove(1)
    with pytest.raises(UnknownKit, match="acoustic, electronic") as exc:
        engine.render(perf, RenderOptions(kit="trash"))
    assert exc.value.code == "unknown_kit" and engine.kits == KITS
    empty = from_note_list([(0.0, 20, 100)], 120.0, 2.0)  # pitch 20 maps to no drum
    with pytest.raises(MidiError, match="no drum hits") as exc:
        engine.render(empty)
    assert exc.value.code == "bad_midi"
    long = from_note_list([(0.0, 36, 100)], 120.0, 601.0)
    with pytest.raises(TooLong) as exc:
        engine.render(long)
    assert exc.value.code == "too_long"
    with pytest.raises(UserError, match="identical"):
        RenderOptions(decoding="parallel", variations=2)
    # No decoding given: iterative when takes or sampling options ask for it, else parallel.
    assert RenderOptions().decoding == "parallel"
    assert RenderOptions(variations=2).decoding == "iterative"
    assert RenderOptions(temperature=0.5).decoding == "iterative"
    assert RenderOptions(steps=4).decode_options(8).steps == (4, 1, 1, 1, 1, 1, 1, 1)


def test_codec_lookup(tmp_path):
    beside = make_model_dir(tmp_path / "a", codec="beside")
    assert Engine.load(beside, "cpu", "eager").codec.n_codebooks == 8
    missing = make_model_dir(tmp_path / "b", codec="none")
    with pytest.raises(UserError, match="codec drumgrid-drums"):
        Engine.load(missing, "cpu", "eager")
    # An explicit --codec-path wins.
    assert Engine.load(missing, "cpu", "eager", codec_path=beside.parent / "codec-src")


def test_packaged_model_missing_says_so(tmp_path, monkeypatch):
    """A build without a packaged model (a source checkout before the recipe ran), and a name
    that is neither a packaged model nor a folder."""
    assert resolve_model_dir("default") == DEFAULT_MODEL_DIR
    monkeypatch.setitem(models.PACKAGED_MODELS, "default", tmp_path / "default_model")
    with pytest.raises(UserError, match="no default model ships in this build"):
        resolve_model_dir("default")
    with pytest.raises(UserError, match=r"no packaged model of that name \(default, eight-kits\)"):
        resolve_model_dir("eight-kit")


def test_auto_backend_falls_back_and_tensorrt_says_why(model_dir):
    engine = Engine.load(model_dir, "cpu", "auto")
    assert engine.backend == "eager" and "tensorrt" in engine.backend_note
    with pytest.raises(UserError, match="--backend tensorrt: TensorRT needs an NVIDIA GPU"):
        Engine.load(model_dir, "cpu", "tensorrt")


@pytest.mark.slow
def test_compiled_body_renders_the_same_tokens(model_dir):
    eager = Engine.load(model_dir, "cpu", "eager", precision="fp32")
    compiled = Engine.load(model_dir, "cpu", "compile", precision="fp32")
    perf = make_groove(2)
    opts = RenderOptions(decoding="parallel")
    a, b = eager.render(perf, opts)[0], compiled.render(perf, opts)[0]
    assert (a.tokens == b.tokens).float().mean() > 0.999  # argmax ties may flip in fp32


# -- kit prompts -------------------------------------------------------------------------------


def _prompt_of(engine, seconds: float = 2.0, seed: int = 0):
    from factories import noise_bursts

    from drumgrid.server.prompts import prompt_from_recording

    wave = noise_bursts(np.random.default_rng(seed), seconds, engine.codec.sample_rate)
    groove = make_groove(max(1, round(seconds / 2)))  # 2 s a bar
    return prompt_from_recording(wave, engine.codec.sample_rate, groove, engine.codec, "kit.wav")


def test_a_prompted_model_renders_in_the_prompts_sound(tmp_path):
    """Every window (several here) of every take attends to the prompt: two prompts, two
    renders; the same prompt, the same render; a latent head quantises as by kit name."""
    folder = make_model_dir(tmp_path, prompted=True, latent_dim=32)
    engine = Engine.load(folder, "cpu", "eager", precision="fp32")
    perf = make_groove(3)
    a, b = _prompt_of(engine, seed=1), _prompt_of(engine, seed=2)
    options = RenderOptions(decoding="parallel", tail_s=0.0, prompt_fit=False)
    first = engine.render(perf, options, prompt=a)[0]
    assert first.tokens.shape[1] > WINDOW_FRAMES  # several windows
    assert torch.equal(first.tokens, engine.render(perf, options, prompt=a)[0].tokens)
    other = engine.render(perf, options, prompt=b)[0].tokens
    named = engine.render(perf, options)[0].tokens
    assert not torch.equal(first.tokens, other) and not torch.equal(first.tokens, named)
    takes = engine.render(perf, replace(SAMPLED, variations=2), prompt=a)
    assert len(takes) == 2 and not torch.equal(takes[0].tokens, takes[1].tokens)


def test_a_prompt_renders_as_the_known_kit_that_predicts_it_better(tmp_path):
    """The prompt's first half and each kit by name predict its second half; a kit that does
    it better renders in the prompt's place, else the prompt does, and the render says so.
    Where the halves do not compare, a kit renders instead only where it stands out."""
    from drumgrid.server.prompts import prompt_from_shots

    folder = make_model_dir(tmp_path, prompted=True, latent_dim=32)
    engine = Engine.load(folder, "cpu", "eager", precision="fp32")
    perf, options = make_groove(1), RenderOptions(decoding="parallel", tail_s=0.0)
    prompt = _prompt_of(engine, seconds=4.0, seed=3)
    fit = engine.fit_prompt(prompt)
    assert set(fit.errors) == {"prompt", *engine.kits} and not fit.skipped
    assert all(np.isfinite(e) and e > 0 for e in fit.errors.values())
    best = min(engine.kits, key=fit.errors.__getitem__)
    assert fit.kit == (best if fit.errors[best] < fit.errors["prompt"] else None)
    # the latent head refitted (least squares) so that one path predicts the prompt's second
    # half best: a kit by name, or the prompt's first half; that path then wins
    model, n = engine.model, prompt.tokens.shape[1]
    half = n // 2
    stop = min(n, half + model.max_frames)  # one window of it
    cond = frame_conditioning(prompt.performance, engine.info.frame_rate, half, stop - half,
                              features=engine.info.features)  # fmt: skip
    features = torch.from_numpy(cond.features)[None]
    masked = torch.full((1, model.n_codebooks, stop - half), model.codebook_size)
    target = engine.codec.latents(torch.from_numpy(prompt.tokens[:, half:stop])[None])[0]
    first = replace(prompt, tokens=prompt.tokens[:, :half], seconds=half / engine.info.frame_rate,
                    performance=prompt.performance.cut(half / engine.info.frame_rate))  # fmt: skip
    head, heard = model.body.latent_head, {}
    for expect, path in (
        ("electronic", model.latent_fn(features, torch.tensor([engine.kits.index("electronic")]))),
        (None, model.latent_fn(features, None, memory=engine.remember(first))),
    ):
        hook = head.register_forward_hook(lambda _m, args, _o: heard.update(h=args[0][0]))
        with torch.inference_mode():
            path(masked)
        hook.remove()
        rows = torch.cat([heard["h"], torch.ones(len(heard["h"]), 1)], 1)  # [T, D + 1]
        solved = torch.linalg.lstsq(rows, target.float()).solution  # [D + 1, L]
        with torch.no_grad():
            head.weight.copy_(solved[:-1].T)
            head.bias.copy_(solved[-1])
        engine._fits.clear()  # its answers were the model's before the head was refitted
        fit = engine.fit_prompt(prompt)
        assert fit.kit == expect, fit.errors
        made = replace(prompt, source="again.wav")  # the same sound: the answer kept
        assert engine.fit_prompt(made) is fit
        rendered = engine.render(perf, options, prompt=made)[0]
        as_given = engine.render(perf, replace(options, prompt_fit=False), prompt=made)[0]
        assert rendered.prompt_fit is fit and as_given.prompt_fit is None
        if expect is not None:
            assert "rendered as electronic; --no-prompt-fit" in fit.notice()
            # the device reads the kit from this opening (max_for_live/drumgrid.js applyReply)
            assert fit.notice().startswith("prompt: sounds like the known kit electronic (")
            named = engine.render(perf, replace(options, kit=expect))[0]
            assert torch.equal(rendered.tokens, named.tokens)
            assert not torch.equal(rendered.tokens, as_given.tokens)
        else:
            assert "rendered from the prompt (its first half predicts" in fit.notice()
            assert torch.equal(rendered.tokens, as_given.tokens)
    # what holds nothing out (one-shots, a prompt under 2 s): the kits by name predict all of
    # it, and the nearest renders only where it stands out from the runner-up
    shots = {cls: (np.hanning(2000).astype(np.float32), engine.codec.sample_rate)
             for cls in (DrumClass.KICK, DrumClass.SNARE)}  # fmt: skip
    for held_nothing in (prompt_from_shots(shots, engine.codec, "shots"),
                         _prompt_of(engine, seconds=1.5)):  # fmt: skip
        engine._fits.clear()
        fit = engine.fit_prompt(held_nothing)
        assert set(fit.errors) == set(engine.kits) and not fit.skipped
        nearest, runner_up = sorted(engine.kits, key=fit.errors.__getitem__)[:2]
        stop = min(held_nothing.tokens.shape[1], model.max_frames)
        onsets = {round(h.time_s * engine.info.frame_rate) for h in held_nothing.performance.hits}
        won, of = fit.onsets_won
        assert of == len({f for f in onsets if f < stop}) >= 1 and 0 <= won <= of
        stands_out = fit.errors[nearest] <= NAME_MARGIN * fit.errors[runner_up] and won == of
        assert fit.kit == (nearest if stands_out else None)
    one_shots = prompt_from_shots(shots, engine.codec, "shots")
    rows = engine.model.kit_embedding.weight
    with torch.no_grad():  # every kit alike: none stands out
        saved = rows.clone()
        rows.copy_(rows[:1].expand_as(rows))
    engine._fits.clear()
    fit = engine.fit_prompt(one_shots)
    assert fit.kit is None and len(set(fit.errors.values())) == 1
    assert fit.notice().startswith("prompt: rendered from the prompt (no known kit stands out: "
                                   f"the nearest, {min(fit.errors, key=fit.errors.__getitem__)}, "
                                   "predicts the prompt with latent error")  # fmt: skip
    with torch.no_grad():
        rows.copy_(saved)
    n = min(one_shots.tokens.shape[1], model.max_frames)  # the latent head refitted to
    # electronic's reading of it
    cond = frame_conditioning(one_shots.performance, engine.info.frame_rate, 0, n,
                              features=engine.info.features)  # fmt: skip
    target = engine.codec.latents(torch.from_numpy(one_shots.tokens[:, :n])[None])[0]
    electronic = torch.tensor([engine.kits.index("electronic")])
    hook = head.register_forward_hook(lambda _m, args, _o: heard.update(h=args[0][0]))
    with torch.inference_mode():
        model.latent_fn(torch.from_numpy(cond.features)[None], electronic)(
            torch.full((1, model.n_codebooks, n), model.codebook_size)
        )
    hook.remove()
    rows_h = torch.cat([heard["h"], torch.ones(len(heard["h"]), 1)], 1)
    solved = torch.linalg.lstsq(rows_h, target.float()).solution
    with torch.no_grad():
        head.weight.copy_(solved[:-1].T)
        head.bias.copy_(solved[-1])
    engine._fits.clear()
    fit = engine.fit_prompt(one_shots)
    won, of = fit.onsets_won  # the shots in the model's window, each nearest to electronic
    assert fit.kit == "electronic" and won == of >= 1, fit.errors
    assert fit.notice().startswith("prompt: sounds like the known kit electronic (it predicts "
                                   "the prompt with latent error")  # fmt: skip
    assert f"and is the nearest on {of} of its {of} onsets" in fit.notice()
    plain = Engine.load(make_model_dir(tmp_path / "p", prompted=True), "cpu", "eager",
                        precision="fp32")  # fmt: skip
    assert plain.fit_prompt(_prompt_of(plain, 4.0)).skipped == (
        "the model has no latent head to compare with"
    )


def test_a_kit_stands_out_by_its_margin_and_on_every_onset():
    """Nearest by the margin is not enough: a kit it never heard comes nearest to one known
    kit on some drums and to another on the rest."""
    near, far = 0.1, 0.1 / NAME_MARGIN
    both = {"a": near, "b": far * 1.01, "c": far * 2}
    fit = fit_by_names(both, [{"a": 0.1, "b": 0.3, "c": 0.4}, {"a": 0.05, "b": 0.2, "c": 0.1}])
    assert fit.kit == "a" and fit.onsets_won == (2, 2)
    fit = fit_by_names(both, [{"a": 0.1, "b": 0.3, "c": 0.4}, {"a": 0.2, "b": 0.1, "c": 0.3}])
    assert fit.kit is None and fit.onsets_won == (1, 2)
    assert "and is the nearest on 1 of its 2 onsets; the next nearest kit, b," in fit.notice()
    close = {"a": near, "b": far * 0.99, "c": far * 2}  # every onset, but not by the margin
    assert fit_by_names(close, [{"a": 0.1, "b": 0.3, "c": 0.4}]).kit is None


def test_prompts_are_refused_where_they_cannot_work(engine, tmp_path):
    prompt = _prompt_of(engine)
    with pytest.raises(UserError, match="renders by kit name only"):
        engine.render(make_groove(1), RenderOptions(), prompt=prompt)
    folder = make_model_dir(tmp_path, prompted=True)
    prompted = Engine.load(folder, "cpu", "eager", precision="fp32")
    foreign = replace(prompt, config_hash="0" * 16)
    with pytest.raises(UserError, match="make the prompt again from its audio"):
        prompted.render(make_groove(1), RenderOptions(), prompt=foreign)
