"""SFZ kits through sfizz: a groove's onsets within 1 ms of the MIDI (a sample's own leading
silence taken off), each note on its velocity layer, the open hat choked by the closed one
(group/off_by), and the kit recorded with its licence."""

from __future__ import annotations

import numpy as np
import pytest
from sample_kits import (
    band_level,
    expected_sample,
    groove_hits,
    onset_ms,
    sample_played,
    sfz_kit,
)

pytest.importorskip("pysfizz", reason="pysfizz (the train extra) is not installed")


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    from drumgrid.training.kits.spec import parse_kit

    return parse_kit(f"test sfz={sfz_kit(tmp_path_factory.mktemp('sfz'))}")


@pytest.mark.parametrize("sr", [44100, 24000])
def test_groove_onsets_within_1ms_on_the_right_layer(kit, sr):
    from drumgrid.training.kits.sfizz import SAMPLE_QUALITY

    hits = groove_hits()
    renderer = kit.open(sr)
    try:
        wave = renderer.render(hits, hits[-1][0] + 0.5)
        assert renderer._synth.get_sample_quality() == SAMPLE_QUALITY  # not freewheeling's 10
    finally:
        renderer.close()
    assert wave.shape == (round((hits[-1][0] + 0.5) * sr),) and wave.dtype == np.float32
    errors = [onset_ms(wave, sr, t) for t, _, _ in hits]
    assert max(abs(e) for e in errors) <= 1.0, np.round(errors, 3)
    played = [sample_played(wave, sr, t) for t, _, _ in hits]
    assert played == [expected_sample(p, v) for _, p, v in hits]


def test_open_hat_is_choked_by_the_closed_hat(kit):
    sr = 44100
    renderer = kit.open(sr)
    try:
        alone = renderer.render([(0.1, 46, 100)], 1.0)
        choked = renderer.render([(0.1, 46, 100), (0.5, 42, 100)], 1.0)
        again = renderer.render([(0.1, 46, 100)], 1.0)
    finally:
        renderer.close()
    ringing = band_level(alone, sr, 4000, 0.55, 0.95)
    assert ringing > 0.01
    assert band_level(choked, sr, 4000, 0.55, 0.95) < 0.01 * ringing
    np.testing.assert_array_equal(again, alone)  # nothing leaks from one render to the next


def test_the_kit_is_recorded_with_its_licence_and_classes(kit):
    record = kit.record()
    assert record["source"] == "sfz" and record["sfz"].endswith("kit.sfz")
    assert record["licence"].startswith("CC0") and record["licence_from"].endswith("LICENSE")
    assert record["classes"] == ["kick", "snare", "hihat_closed", "hihat_open"]
