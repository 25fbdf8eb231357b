"""Frame conditioning: exact sub-frame onsets at any codec frame rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from paths import EXAMPLES

from drumgrid.server.conditioning import (
    FEATURE_NAMES,
    N_FEATURES,
    VARIANT_FEATURES,
    frame_conditioning,
)
from drumgrid.server.drums import DrumClass
from drumgrid.server.midi_io import read_midi
from drumgrid.server.note_maps import GM_NOTE_MAP, parse_note_map
from drumgrid.server.performance import TempoMap, from_note_list

RATES = [50.0, 75.0, 44100 / 512]


@pytest.mark.parametrize("rate", RATES)
def test_frame_count_and_onset_position(rate: float) -> None:
    perf = from_note_list([(0.5033, 38, 100)], tempo_bpm=120.0, length_s=2.0)
    fc = frame_conditioning(perf, rate)
    assert fc.features.shape == (math.ceil(2.0 * rate), N_FEATURES)
    f = math.floor(0.5033 * rate)
    assert fc.column("snare.onset")[f] == 1.0 and fc.column("snare.onset").sum() == 1.0
    assert fc.column("snare.position")[f] == pytest.approx(0.5033 * rate - f, abs=1e-6)
    assert fc.column("snare.velocity")[f] == pytest.approx(100 / 127)


@pytest.mark.parametrize("rate", RATES)
def test_moving_a_hit_by_1_ms_moves_its_features(rate: float) -> None:
    base = frame_conditioning(from_note_list([(1.0, 36, 100)], length_s=3.0), rate).features
    moved = frame_conditioning(from_note_list([(1.001, 36, 100)], length_s=3.0), rate).features
    kick = [FEATURE_NAMES.index(f"kick.{n}") for n in ("position", "decay")]
    assert not np.allclose(base[:, kick], moved[:, kick])
    # Nothing else changes.
    others = [i for i in range(N_FEATURES) if not FEATURE_NAMES[i].startswith("kick.")]
    np.testing.assert_array_equal(base[:, others], moved[:, others])
    # 1 ms is 0.001 * rate of a frame, unless the hit crossed a frame boundary.
    pos_b = base[:, kick[0]].sum()
    pos_m = moved[:, kick[0]].sum()
    assert pos_m - pos_b == pytest.approx(0.001 * rate, abs=1e-5) or abs(pos_m - pos_b) > 0.5


def test_decay_falls_after_an_onset_and_louder_hit_wins_a_shared_frame() -> None:
    perf = from_note_list([(0.100, 38, 40), (0.104, 38, 120)], length_s=1.0)
    fc = frame_conditioning(perf, 50.0)
    f = 5
    assert fc.column("snare.velocity")[f] == pytest.approx(120 / 127)
    assert fc.column("snare.position")[f] == pytest.approx(0.104 * 50 - 5, abs=1e-6)
    decay = fc.column("snare.decay")
    assert decay[:f].max() == 0.0
    assert np.all(np.diff(decay[f:]) < 0)


def test_windows_equal_slices_of_the_whole() -> None:
    perf = read_midi(EXAMPLES / "rock_100_beat.mid")
    whole = frame_conditioning(perf, 75.0)
    part = frame_conditioning(perf, 75.0, start_frame=300, n_frames=150, kit=3)
    np.testing.assert_array_equal(part.features, whole.features[300:450])
    assert part.kit == 3 and part.start_frame == 300


def test_tempo_map_and_beat_phase() -> None:
    perf = from_note_list([(0.0, 36, 100)], tempo_bpm=120.0, length_s=4.0)
    perf = type(perf)(perf.hits, TempoMap((0.0, 2.0), (120.0, 60.0)), perf.time_signatures, 6.0)
    fc = frame_conditioning(perf, 50.0)
    # Beat 2 falls at 1.0 s; beat 3 at 2.0 s (60 bpm after the change): phase 0 there.
    for t in (0.5, 1.0, 2.0, 3.0):
        assert fc.column("beat_cos")[round(t * 50)] == pytest.approx(1.0, abs=1e-6)
    assert fc.column("beat_cos")[round(1.5 * 50)] == pytest.approx(-1.0, abs=1e-6)
    assert fc.column("log2_tempo")[0] == 0.0 and fc.column("log2_tempo")[150] == -1.0
    assert fc.tempo_bpm[150] == 60.0
    assert int(DrumClass.KICK) == 0 and fc.column("kick.onset")[0] == 1.0


def test_ring_remembers_a_crash_for_seconds_where_decay_forgets() -> None:
    perf = from_note_list([(0.5, 49, 127)], length_s=5.0)
    fc = frame_conditioning(perf, 50.0)
    at = {s: round((0.5 + s) * 50) - 1 for s in (1.0, 3.0)}  # frames ending s after the hit
    assert fc.column("crash.decay")[at[1.0]] < 0.01
    assert 0.1 < fc.column("crash.ring")[at[3.0]] < fc.column("crash.ring")[at[1.0]] < 0.6
    assert fc.column("crash.ring")[:25].max() == 0.0 and fc.column("kick.ring").max() == 0.0


def test_age_is_a_clock_since_the_last_onset_whatever_its_velocity() -> None:
    """Where `ring` is the same for a loud crash long ago and a soft one just now, `age`
    tells them apart: it rises from 0 at the hit to 1 at AGE_MAX_S, and is 1 before any."""
    from drumgrid.server.conditioning import AGE_MAX_S

    perf = from_note_list([(0.5, 49, 127), (7.0, 49, 30)], length_s=8.0)
    fc = frame_conditioning(perf, 50.0)
    age = fc.column("crash.age")
    at = {s: round((0.5 + s) * 50) - 1 for s in (1.0, 3.0, 5.5)}  # frames ending s after
    assert (age[:25] == 1.0).all() and age[25] < 0.01  # 1 before the hit, 0 at it
    assert age[at[1.0]] == pytest.approx(1.0 / AGE_MAX_S, abs=1e-6)
    assert age[at[3.0]] == pytest.approx(3.0 / AGE_MAX_S, abs=1e-6)
    assert age[at[5.5]] == 1.0 and age[round(7.0 * 50) + 5] < 0.05  # the soft one restarts it
    assert (fc.column("kick.age") == 1.0).all()


def test_the_crash_class_says_which_cymbal_rings() -> None:
    """General MIDI's splash (55) and china (52) ring in their own columns until the next
    crash-class hit; a crash (49) rings in neither. The note map decides by the pitch's name."""
    hits = [(0.5, 55, 127), (2.0, 49, 127), (3.0, 52, 127), (3.2, 38, 127)]
    perf = from_note_list(hits, length_s=5.0)
    assert [h.variant for h in perf.hits] == ["splash", "", "china", ""]
    fc = frame_conditioning(perf, 50.0)
    ring, splash, china = (fc.column(f"crash.{n}") for n in ("ring", "splash", "china"))
    at = {t: round(t * 50) for t in (0.3, 1.0, 1.9, 2.5, 3.5, 4.9)}
    assert splash[at[0.3]] == 0 and ring[at[0.3]] == 0  # nothing rings before the hit
    for t in (1.0, 1.9):
        assert splash[at[t]] == ring[at[t]] > 0.3 and china[at[t]] == 0
    assert splash[at[2.5]] == china[at[2.5]] == 0 < ring[at[2.5]]  # the crash took over
    for t in (3.5, 4.9):  # the snare at 3.2 s changes nothing
        assert china[at[t]] == ring[at[t]] > 0 and splash[at[t]] == 0
    assert GM_NOTE_MAP.variant(55) == "splash" and GM_NOTE_MAP.variant(57) == ""
    assert parse_note_map("gm,55=snare").variant(55) == ""  # a snare has no cymbal
    # A plug-in preset's own names decide there; a hi-hat's foot splash is no cymbal variant.
    ggd = parse_note_map("ggd-invasion")
    assert (ggd.variant(65), ggd.variant(73), ggd.variant(54)) == ("china", "splash", "")
    assert parse_note_map("ad2").variant(59) == ""  # "HH Foot Splash"


def test_every_class_says_which_of_its_sounds_sounds() -> None:
    """A side stick, an electric snare, a pedal hi-hat, a ride's bell and a class's second tom
    gate the class's short decay (a cymbal's ring) until the class's next hit; the class's
    main pitch gates none. Words in the note map's names decide, a plug-in's too."""
    hits = [(0.5, 37, 100), (1.0, 38, 100), (1.5, 40, 100), (0.5, 44, 90), (1.2, 53, 110)]
    fc = frame_conditioning(from_note_list(hits, length_s=3.0), 50.0)
    decay, stick, electric = (fc.column(f"snare.{n}") for n in ("decay", "side_stick", "electric"))
    at = {t: round(t * 50) for t in (0.4, 0.7, 1.2, 1.7)}
    assert stick[at[0.4]] == 0 and stick[at[0.7]] == decay[at[0.7]] > 0.2
    assert stick[at[1.2]] == electric[at[1.2]] == 0 < decay[at[1.2]]  # the snare took over
    assert electric[at[1.7]] == decay[at[1.7]] > 0.2 and stick[at[1.7]] == 0
    pedal = fc.column("hihat_closed.pedal")
    assert pedal[at[0.7]] == fc.column("hihat_closed.decay")[at[0.7]] > 0.2
    bell, ring = fc.column("ride.bell"), fc.column("ride.ring")
    assert bell[at[1.7]] == ring[at[1.7]] > 0.5 and bell[-1] == ring[-1] > 0.2  # rings on
    assert not fc.column("ride.ride_2").any() and not fc.column("tom_low.vibraslap").any()
    toms = {p: GM_NOTE_MAP.variant(p) for p in (48, 50, 45, 47, 43, 58)}
    assert toms == {48: "", 50: "high", 45: "", 47: "low_mid", 43: "", 58: "vibraslap"}
    plain = [GM_NOTE_MAP.variant(p) for p in (22, 42, 26, 46, 36, 51, 59)]
    assert plain == ["", "", "", "", "", "", "ride_2"]
    ad2, ezd, sd3 = parse_note_map("ad2"), parse_note_map("ezd"), parse_note_map("sd3")
    assert (ad2.variant(61), ad2.variant(4)) == ("bell", "")  # 4: "Ride 1 CCPos Tip<->Bell"
    assert (ezd.variant(44), ezd.variant(37), sd3.variant(53), sd3.variant(38)) == (
        "pedal", "side_stick", "bell", ""
    )  # fmt: skip


def test_a_model_gets_its_own_columns_in_its_order() -> None:
    """A model from before a feature existed reads exactly the columns it was trained on."""
    perf = read_midi(EXAMPLES / "rock_100_beat.mid")
    whole = frame_conditioning(perf, 75.0)
    legacy = tuple(
        n for n in FEATURE_NAMES if not n.endswith((".ring", ".age")) and n not in VARIANT_FEATURES
    )
    for names in (legacy, ("log2_tempo", "kick.ring")):
        part = frame_conditioning(perf, 75.0, features=names)
        assert part.names == names and part.features.shape[1] == len(names)
        for n in names:
            np.testing.assert_array_equal(part.column(n), whole.column(n))
    assert len(legacy) == 41
    with pytest.raises(ValueError, match="unknown conditioning features"):
        frame_conditioning(perf, 75.0, features=("kick.wobble",))
