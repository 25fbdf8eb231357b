"""Audio and token metrics, defined as in ../shared/DESIGN.md so that numbers compare across
runs and with the research. One module per family; every public name is re-exported here.

Audio against a reference audio: mel MAE in dB (floored), multi-resolution STFT spectral
convergence, spectral-flux cosine (spectral.py); RMS-envelope correlation, TTER dB MAE,
a lone hit's decay curve (envelope.py); ViSQOL MOS-LQO (perceptual.py).
Audio against the grid (the MIDI it was rendered from): the seed paper's onset F1 (grid
onsets with velocity > 0.3 against detected onsets, +-50 ms), per-class onset recall, onset
timing error in ms (onsets.py, grid_onsets.py), velocity-to-loudness rank correlation
(velocity.py).
Tokens: accuracy and negative log-likelihood from logits (tokens.py).

Audio functions take mono float numpy arrays at a given sample rate and return plain floats
(or small dataclasses of counts, so an evaluation can pool them over many windows). Only
numpy, scipy, librosa and mir_eval, and for ViSQOL its bundled model: no network.
"""

from drumgrid.training.metrics.envelope import (
    DECAY_WINDOW_S,
    TTER_HEAD,
    TTER_HOP_S,
    TTER_SILENCE_DB,
    TTER_WINDOW_S,
    decay_curve_db,
    envelope_correlation,
    rms_envelope,
    tter_db,
    tter_mae_db,
)
from drumgrid.training.metrics.grid_onsets import (
    ONSET_WINDOW_S,
    PAPER_VELOCITY_THRESHOLD,
    ClassRecall,
    class_onset_recall,
    loud_enough,
    paper_onset_score,
    quiet_detections,
)
from drumgrid.training.metrics.onsets import (
    ATTACK_HOP_S,
    ATTACK_SEARCH_S,
    ATTACK_WINDOW_S,
    OnsetScore,
    detect_onsets,
    merge_simultaneous,
    onset_score,
    refine_onsets,
)
from drumgrid.training.metrics.perceptual import VISQOL_IDENTICAL, visqol_moslqo
from drumgrid.training.metrics.signals import (
    FLOOR_DB,
    common_length,
)
from drumgrid.training.metrics.spectral import (
    FLUX_HOP,
    FLUX_N_FFT,
    MEL_BANDS,
    MEL_FMAX,
    MEL_FMIN,
    MEL_HOP,
    MEL_N_FFT,
    SC_RESOLUTIONS,
    flux_cosine,
    mel_mae_db,
    spectral_convergence,
    spectral_flux,
)
from drumgrid.training.metrics.tokens import (
    per_level_accuracy,
    token_accuracy,
    token_nll,
)
from drumgrid.training.metrics.velocity import (
    BACKGROUND_SPAN_S,
    ISOLATION_S,
    LOUDNESS_SPAN_S,
    LOUDNESS_WINDOW_S,
    RankCorrelation,
    hit_loudness_db,
    isolated_hits,
    rank_correlation,
    velocity_loudness_correlation,
)

__all__ = [
    "ATTACK_HOP_S",
    "ATTACK_SEARCH_S",
    "ATTACK_WINDOW_S",
    "BACKGROUND_SPAN_S",
    "DECAY_WINDOW_S",
    "FLOOR_DB",
    "FLUX_HOP",
    "FLUX_N_FFT",
    "ISOLATION_S",
    "LOUDNESS_SPAN_S",
    "LOUDNESS_WINDOW_S",
    "MEL_BANDS",
    "MEL_FMAX",
    "MEL_FMIN",
    "MEL_HOP",
    "MEL_N_FFT",
    "ONSET_WINDOW_S",
    "PAPER_VELOCITY_THRESHOLD",
    "SC_RESOLUTIONS",
    "TTER_HEAD",
    "TTER_HOP_S",
    "TTER_SILENCE_DB",
    "TTER_WINDOW_S",
    "VISQOL_IDENTICAL",
    "ClassRecall",
    "OnsetScore",
    "RankCorrelation",
    "class_onset_recall",
    "common_length",
    "decay_curve_db",
    "detect_onsets",
    "envelope_correlation",
    "flux_cosine",
    "hit_loudness_db",
    "isolated_hits",
    "loud_enough",
    "mel_mae_db",
    "merge_simultaneous",
    "onset_score",
    "paper_onset_score",
    "per_level_accuracy",
    "quiet_detections",
    "rank_correlation",
    "refine_onsets",
    "rms_envelope",
    "spectral_convergence",
    "spectral_flux",
    "token_accuracy",
    "token_nll",
    "tter_db",
    "tter_mae_db",
    "velocity_loudness_correlation",
    "visqol_moslqo",
]
