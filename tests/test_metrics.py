"""Every metric on signals whose answer is known in advance."""

from __future__ import annotations

import numpy as np
import pytest

from drumgrid.training import metrics as M

SR = 22050


def hits(times, amps=None, n_s: float = 2.0, decay_s: float = 0.01, seed: int = 0) -> np.ndarray:
    """One noise burst with a sharp attack and an exponential decay, placed at `times` with
    gains `amps` (an onset detector's easiest case: a click with a spectrum)."""
    n = int(0.08 * SR)
    burst = np.random.default_rng(seed).standard_normal(n) * np.exp(-np.arange(n) / (decay_s * SR))
    x = np.zeros(int(n_s * SR))
    for i, t in enumerate(times):
        s = round(t * SR)
        a = 1.0 if amps is None else amps[i]
        x[s : s + n] += a * burst[: len(x) - s]
    return x


TIMES = np.arange(0.1, 1.85, 0.125)  # 14 hits, 125 ms apart (16ths at 120 bpm)


@pytest.fixture(scope="module")
def train() -> np.ndarray:
    return hits(TIMES)


def test_identical_audio_scores_perfectly(train):
    assert M.mel_mae_db(train, train, SR) == 0.0
    assert M.spectral_convergence(train, train) == 0.0
    assert M.envelope_correlation(train, train, SR) == pytest.approx(1.0)
    assert M.tter_mae_db(train, train, SR) == 0.0
    assert M.flux_cosine(train, train, SR) == pytest.approx(1.0, abs=1e-6)


def test_gain_does_not_change_the_normalised_metrics(train):
    quiet = 0.25 * train
    assert M.mel_mae_db(train, quiet, SR) == pytest.approx(0.0, abs=1e-6)
    assert M.envelope_correlation(train, quiet, SR) == pytest.approx(1.0)
    assert M.tter_mae_db(train, quiet, SR) == pytest.approx(0.0, abs=1e-6)
    assert M.flux_cosine(train, quiet, SR) == pytest.approx(1.0, abs=1e-5)
    # Spectral convergence is not gain-normalised (as defined by the paper): |1 - 0.25|.
    assert M.spectral_convergence(train, quiet) == pytest.approx(0.75, rel=1e-6)


def test_silence_against_audio():
    x = hits(TIMES)
    assert M.spectral_convergence(x, np.zeros_like(x)) == pytest.approx(1.0)
    assert M.envelope_correlation(x, np.zeros_like(x), SR) == 0.0
    assert M.flux_cosine(x, np.zeros_like(x), SR) == 0.0


def test_a_5_ms_late_click_train_gives_5_ms_timing_error():
    late = hits(TIMES + 0.005)
    detected = M.detect_onsets(late, SR, refine=True)
    score = M.onset_score(TIMES, detected)
    assert score.f1 == 1.0
    assert score.median_error_ms == pytest.approx(5.0, abs=0.3)
    assert np.mean(score.signed_errors_ms) == pytest.approx(5.0, abs=0.3)  # late is positive
    early = M.onset_score(TIMES, M.detect_onsets(hits(TIMES - 0.005), SR, refine=True))
    assert np.mean(early.signed_errors_ms) == pytest.approx(-5.0, abs=0.3)


def test_refinement_lands_on_the_attack_sample():
    times = np.array([0.2, 0.53, 0.9017, 1.3])
    refined = M.detect_onsets(hits(times), SR, refine=True)
    np.testing.assert_allclose(refined, times, atol=0.0003)
    # librosa's own answer is on a 256-sample grid and late: refinement is what makes
    # millisecond timing measurable at all.
    raw = M.detect_onsets(hits(times), SR)
    assert np.abs(raw - times).max() > 0.002


def test_a_missing_hit_lowers_recall_by_exactly_one_hit():
    full = M.detect_onsets(hits(TIMES), SR, refine=True)
    gap = M.detect_onsets(hits(np.delete(TIMES, 5)), SR, refine=True)
    a, b = M.onset_score(TIMES, full), M.onset_score(TIMES, gap)
    assert a.n_matched == len(TIMES) and b.n_matched == len(TIMES) - 1
    assert a.recall - b.recall == pytest.approx(1 / len(TIMES))
    assert b.precision == 1.0


def test_paper_onset_f1_ignores_quiet_grid_onsets_and_merges_simultaneous_ones():
    audio_times = TIMES[::2]
    detected = M.detect_onsets(hits(audio_times), SR, refine=True)
    velocities = np.where(np.arange(len(TIMES)) % 2 == 0, 100, 38)  # 38 / 127 < 0.3 < 39 / 127
    assert not M.loud_enough(np.array([38]))[0] and M.loud_enough(np.array([39]))[0]
    s = M.paper_onset_score(TIMES, velocities, detected)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    # A kick and a hi-hat together are one event, not one found and one missed.
    both = np.concatenate([audio_times, audio_times + 0.002])
    s = M.paper_onset_score(both, np.full(len(both), 100), detected)
    assert s.recall == 1.0 and s.n_reference == len(audio_times)


def test_onset_score_edge_cases():
    assert M.onset_score(np.zeros(0), np.zeros(0)).f1 == 1.0
    s = M.onset_score(np.array([0.5]), np.zeros(0))
    assert (s.f1, s.n_reference, s.n_estimate) == (0.0, 1, 0)
    # One-to-one: two detections near one grid onset match once.
    s = M.onset_score(np.array([0.5]), np.array([0.49, 0.51]))
    assert (s.n_matched, s.precision, s.recall) == (1, 0.5, 1.0)
    assert M.onset_score(np.array([0.5]), np.array([0.56])).f1 == 0.0  # outside +-50 ms


def test_class_recall_counts_each_class_against_all_detections():
    times = np.array([0.1, 0.1, 0.35, 0.6, 0.85, 1.1])
    classes = np.array([0, 2, 2, 1, 2, 0])
    vel = np.array([100, 100, 100, 100, 100, 20])  # the last kick is too quiet to count
    detected = np.array([0.101, 0.352, 0.603])  # the hi-hat at 0.85 was not rendered
    out = M.class_onset_recall(times, classes, vel, detected, n_classes=9)
    assert [(c.n_hits, c.n_found) for c in out[:3]] == [(1, 1), (1, 1), (3, 2)]
    assert out[2].recall == pytest.approx(2 / 3)
    assert np.isnan(out[3].recall) and out[3].n_hits == 0


def test_velocity_rank_correlation():
    vel = np.linspace(30, 127, len(TIMES))
    monotonic = hits(TIMES, amps=(vel / 127) ** 2)
    assert M.velocity_loudness_correlation(monotonic, SR, TIMES, vel).rho == pytest.approx(1.0)
    reversed_ = hits(TIMES, amps=(vel[::-1] / 127) ** 2)
    assert M.velocity_loudness_correlation(reversed_, SR, TIMES, vel).rho == pytest.approx(-1.0)
    flat = hits(TIMES)
    r = M.velocity_loudness_correlation(flat, SR, TIMES, vel)
    assert r.rho == 0.0 and r.n_hits == len(TIMES)  # equal loudness: no rank information


def test_velocity_rank_correlation_is_taken_within_each_class():
    """A kick always louder than a hi-hat says nothing about velocity; within each class the
    order is perfect, so the answer is 1 although the pooled order is not."""
    vel = np.resize([40, 70, 100, 127], len(TIMES))
    classes = (np.arange(len(TIMES)) >= 7).astype(int)  # first 7 hits kick, the rest hi-hat
    amps = (vel / 127) * np.where(classes == 0, 1.0, 0.1)
    audio = hits(TIMES, amps=amps)
    assert M.velocity_loudness_correlation(audio, SR, TIMES, vel, classes).rho == pytest.approx(1)
    assert M.velocity_loudness_correlation(audio, SR, TIMES, vel).rho < 0.9
    # Too few hits or one velocity: no information, nan.
    r = M.velocity_loudness_correlation(audio, SR, TIMES[:2], vel[:2])
    assert np.isnan(r.rho) and r.n_hits == 0


def test_hit_loudness_is_the_power_a_hit_adds_over_a_ringing_tail():
    """Hits growing louder under a long decaying tail (a crash still ringing): the mix's peak
    falls with the tail, the power each hit adds rises with the hit."""
    times = np.arange(0.2, 1.5, 0.2)
    amps = np.linspace(0.2, 0.5, len(times))
    n = int(1.6 * SR)
    tail = 0.5 * np.random.default_rng(1).standard_normal(n) * np.exp(-np.arange(n) / (0.5 * SR))
    audio = hits(times, amps, n_s=1.6) + tail
    assert np.all(np.diff(M.hit_loudness_db(audio, SR, times)) > 0)
    assert M.velocity_loudness_correlation(audio, SR, times, amps * 127).rho == pytest.approx(1)
    # Without the tail the added power is the hit's own: 20 dB per factor 10 of amplitude.
    clean = M.hit_loudness_db(hits(times, amps, n_s=1.6), SR, times)
    assert clean[-1] - clean[0] == pytest.approx(20 * np.log10(amps[-1] / amps[0]), abs=0.01)


def test_only_isolated_hits_are_ranked():
    times = np.array([0.1, 0.3, 0.33, 0.6, 0.649, 0.9])
    assert M.isolated_hits(times).tolist() == [True, False, False, False, False, True]


def test_rank_correlation_pools_each_group_over_clips():
    groups = np.array(["a/0"] * 4 + ["b/0"] * 4 + ["c/0"] * 2)
    vel = np.array([10, 20, 30, 40, 10, 20, 30, 40, 10, 20])
    db = np.array([1, 2, 3, 4, 4, 3, 2, 1, 0, 5], np.float64)  # a perfect, b reversed
    r = M.rank_correlation(groups, vel, db)
    assert r.rho == pytest.approx(0.0) and r.n_hits == 8  # c has too few hits to rank


def test_tter_sees_long_tails():
    sharp = hits(TIMES, decay_s=0.005)
    long_ = hits(TIMES, decay_s=0.05)
    assert M.tter_mae_db(sharp, long_, SR) > 3.0
    ratio, level = M.tter_db(sharp, SR)
    assert len(ratio) == len(level) == 1 + (len(sharp) - int(0.3 * SR)) // int(0.1 * SR)


def test_tter_of_a_single_decaying_hit_matches_its_closed_form():
    """A burst at the window's start decaying as exp(-t / tau): head energy over 75 ms,
    tail over the remaining 225 ms, each a mean square."""
    tau = 0.03
    t = np.arange(int(0.3 * SR)) / SR
    x = np.exp(-t / tau)  # amplitude; energy decays with tau / 2
    ratio, _ = M.tter_db(x, SR)
    k = tau / 2
    head = k * (1 - np.exp(-0.075 / k)) / 0.075
    tail = k * (np.exp(-0.075 / k) - np.exp(-0.3 / k)) / 0.225
    assert ratio[0] == pytest.approx(10 * np.log10(head / tail), abs=0.05)


def test_flux_cosine_sees_moved_hits(train):
    moved = hits(TIMES + 0.06)
    assert M.flux_cosine(train, moved, SR) < 0.5


def test_mel_mae_floor_bounds_the_error_of_silence(train):
    """Silence against audio costs at most the 80 dB floor, never the log of zero."""
    err = M.mel_mae_db(train, np.zeros_like(train), SR)
    assert 0 < err <= M.FLOOR_DB


def test_token_accuracy_and_nll_from_logits():
    targets = np.array([[0, 1, 2, 3]])
    logits = np.full((1, 4, 4), -1e9)
    logits[0, np.arange(4), [0, 1, 2, 0]] = 0.0  # right on 3 of 4
    assert M.token_accuracy(logits, targets) == 0.75
    uniform = np.zeros((2, 5, 8))
    assert M.token_nll(uniform, np.zeros((2, 5), int)) == pytest.approx(np.log(8))
    # Large logits stay finite (log-softmax, not log of softmax).
    big = np.array([[1000.0, 0.0]])
    assert M.token_nll(big, np.array([0])) == pytest.approx(0.0)
    assert M.token_nll(big, np.array([1])) == pytest.approx(1000.0)
    mask = np.array([[True, True, True, False]])
    assert M.token_accuracy(logits, targets, mask) == 1.0
    with pytest.raises(ValueError, match="expected logits"):
        M.token_accuracy(np.zeros((2, 3)), np.zeros(3, int))


def test_per_level_accuracy():
    true = np.zeros((2, 3, 4), int)  # [B, K, T]
    dec = true.copy()
    dec[:, 2] = 1  # the finest level always wrong
    dec[0, 1, 0] = 1  # one miss at level 1
    valid = np.array([[True] * 4, [True, True, False, False]])
    np.testing.assert_allclose(M.per_level_accuracy(dec, true, valid), [1.0, 5 / 6, 0.0])


def test_quiet_detections_counts_audible_ghost_notes_only():
    grid = np.array([0.1, 0.4, 0.7, 1.0])
    vel = np.array([100, 20, 100, 20])  # 0.4 and 1.0 are ghost notes the paper leaves out
    detected = np.array([0.101, 0.402, 0.701, 1.5])  # the ghost at 0.4 sounded; 1.5 is noise
    s = M.paper_onset_score(grid, vel, detected)
    assert (s.n_matched, s.n_estimate) == (2, 4)  # strict: 0.402 and 1.5 are false positives
    assert M.quiet_detections(grid, vel, detected) == 1  # only 0.402 is excusable


def test_visqol_scores_identical_above_degraded_and_refuses_what_it_cannot_score():
    sr = 44_100  # resampled to ViSQOL's 48 kHz inside
    rng = np.random.default_rng(0)
    x = np.zeros(sr * 3)
    for k in range(12):  # decaying noise bursts, a hit every 250 ms
        start = int(k * 0.25 * sr)
        x[start : start + 3000] += rng.standard_normal(3000) * np.exp(-np.arange(3000) / 400)
    same = M.visqol_moslqo(x, x * 0.5, sr)  # gain does not matter
    noisy = M.visqol_moslqo(x, x + 0.05 * rng.standard_normal(len(x)), sr)
    assert abs(same - M.VISQOL_IDENTICAL) < 0.01
    assert noisy < same - 0.5
    assert M.visqol_moslqo(x, np.zeros_like(x), sr) is None  # silence
    assert M.visqol_moslqo(x[: sr // 4], x[: sr // 4], sr) is None  # shorter than 0.5 s
    stereo = np.stack([x, x], axis=1)
    assert abs(M.visqol_moslqo(stereo, x, sr) - M.VISQOL_IDENTICAL) < 0.01
