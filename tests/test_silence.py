"""Clean silence: the ring mask from the grid, and the engine's renders silent before the
first hit, after the last has rung out, and in breaks, untouched where hits ring."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import make_model_dir

from drumgrid.server.drums import CLASS_TO_GM_PITCH, DrumClass
from drumgrid.server.engine import Engine, RenderOptions
from drumgrid.server.performance import from_note_list
from drumgrid.server.silence import FADE_OUT_S, PRE_ROLL_S, RING_S, ring_mask

SR = 1000  # a coarse rate keeps the arithmetic readable


def perf(notes, length_s):
    return from_note_list(
        [(t, CLASS_TO_GM_PITCH[c], 100) for t, c in notes], 120.0, length_s=length_s
    )


def test_ring_mask_follows_the_hits_ring_times():
    p = perf([(1.0, DrumClass.KICK), (6.0, DrumClass.CRASH)], 12.0)
    mask = ring_mask(p, 12 * SR, SR)
    kick_end = 1.0 + RING_S[DrumClass.KICK]
    assert not mask[: int((1.0 - 2 * PRE_ROLL_S) * SR)].any()  # the intro is silent
    assert (mask[int((1.0 - PRE_ROLL_S) * SR) : int(kick_end * SR)] == 1).all()
    assert 0 < mask[int((kick_end + FADE_OUT_S / 2) * SR)] < 1  # a fade, not a cut
    assert not mask[int((kick_end + FADE_OUT_S) * SR) + 1 : int(5.99 * SR)].any()  # the break
    crash_end = 6.0 + RING_S[DrumClass.CRASH]
    assert (mask[6 * SR : int(crash_end * SR)] == 1).all() and RING_S[DrumClass.CRASH] >= 3.5
    assert not mask[int((crash_end + FADE_OUT_S) * SR) + 1 :].any()


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    # a random model: noise and phantom transients everywhere, the worst case for silence
    return Engine.load(make_model_dir(tmp_path_factory.mktemp("m")), "cpu", "eager")


def db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x)) + 1e-20)


def test_renders_are_silent_where_no_hit_rings(engine):
    p = perf([(2.0, DrumClass.KICK), (2.5, DrumClass.SNARE), (3.0, DrumClass.CRASH)], 4.0)
    gated = engine.render(p, RenderOptions(decoding="parallel", tail_s=6.0))[0]
    raw = engine.render(p, RenderOptions(decoding="parallel", tail_s=6.0, gate=False))[0]
    sr = gated.sample_rate
    a, b = gated.audio[:, 0], raw.audio[:, 0]
    intro = slice(0, int(1.99 * sr))
    after = slice(int((3.0 + RING_S[DrumClass.CRASH] + FADE_OUT_S + 0.01) * sr), None)
    assert b[intro].any() and b[after].any()  # the model plays something there (noise) ...
    assert not a[intro].any() and not a[after].any()  # ... the render is digital silence
    ringing = slice(int(2.0 * sr), int(6.9 * sr))
    assert np.array_equal(a[ringing], b[ringing])  # and untouched where hits ring
