"""Does a class's other sound render as itself? For each pitch a class holds besides its main
one (drums.VARIANT_WORDS as General MIDI names them: 37 side stick, 40 electric snare, 44 pedal
hi-hat, 53 ride bell, ...), four lone hits through a model beside FluidSynth's render of the
same hits and of the class's main pitch (38, 42, 51, ...), per kit. The model's render should
be nearer the sampler's own pitch than the main pitch: log-mel MAE (dB, peak-normalised) to
each, and how many kits it is nearer.

    [DECODING=iterative] .venv/bin/python training/recipes/lone_variants.py [MODEL] [KIT ...]

MODEL defaults to the shipped model, KITs to the shipped corpus's eight (lone_crash.KITS).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from drumgrid.server.drums import GMD_PITCHES, DrumClass, drum_class
from drumgrid.server.engine import Engine, RenderOptions
from drumgrid.server.note_maps import GM_NOTE_MAP, pitch_name
from drumgrid.server.performance import from_note_list
from drumgrid.training.fluidsynth import KitRenderer, parse_kit
from drumgrid.training.metrics import mel_mae_db
from drumgrid.training.recipes.lone_crash import KITS

# GMD's pitches that play a variant of their class (General MIDI's names, drums.VARIANT_WORDS)
VARIANT_PITCHES = tuple(p for p in sorted(GMD_PITCHES) if GM_NOTE_MAP.variant(p))
MAIN_PITCH = {  # each class's commonest pitch in GMD, which has no variant
    DrumClass.SNARE: 38, DrumClass.HIHAT_CLOSED: 42, DrumClass.RIDE: 51, DrumClass.TOM_HIGH: 48,
    DrumClass.TOM_MID: 45, DrumClass.TOM_LOW: 43, DrumClass.CRASH: 49,
}  # fmt: skip
HITS = [(0.5 + 0.6 * i, 100) for i in range(4)]
LENGTH_S = 3.2


def variant_distances(engine: Engine, kit: str, pitch: int) -> tuple[float, float, float]:
    """mel MAE dB of the model's render of `pitch` to FluidSynth's `pitch`, to FluidSynth's
    main pitch of the class, and between the two FluidSynth renders."""
    main = _main_pitch(pitch)
    notes = [(t, pitch, v) for t, v in HITS]
    perf = from_note_list(notes, tempo_bpm=120.0, length_s=LENGTH_S)
    options = RenderOptions(kit=kit, tail_s=0.0, gate=False, decoding=os.environ.get("DECODING"))
    result = engine.render(perf, options)[0]
    ours = np.asarray(result.audio, np.float64).reshape(-1)
    sr = result.sample_rate
    renderer = KitRenderer(parse_kit(f"{kit}={KITS[kit]}"), sr)
    try:
        own = renderer.render(notes, len(ours) / sr).astype(np.float64)
        other = renderer.render([(t, main, v) for t, v in HITS], len(ours) / sr)
    finally:
        renderer.close()
    other = other.astype(np.float64)
    return mel_mae_db(own, ours, sr), mel_mae_db(other, ours, sr), mel_mae_db(own, other, sr)


def main(model: str = "default", *kits: str) -> None:
    engine = Engine.load(model, "cpu", "eager")
    kits = kits or tuple(KITS)
    print(f"{len(HITS)} lone hits at velocity 100; mel MAE dB of the model's render to the "
          "sampler's render of the pitch and of the class's main pitch, mean over kits\n"
          f"{'pitch':24s} {'variant':12s} {'to own':>7s} {'to main':>8s} {'own-main':>9s} "
          "nearer own")  # fmt: skip
    wins, n = 0, 0
    for pitch in VARIANT_PITCHES:
        rows = np.array([variant_distances(engine, kit, pitch) for kit in kits])
        nearer = int((rows[:, 0] < rows[:, 1]).sum())
        wins, n = wins + nearer, n + len(kits)
        own, other, apart = rows.mean(axis=0)
        main_pitch = _main_pitch(pitch)
        print(f"{pitch_name(pitch):24s} {GM_NOTE_MAP.variant(pitch):12s} {own:7.2f} {other:8.2f} "
              f"{apart:9.2f} {nearer}/{len(kits)} (main {main_pitch})")  # fmt: skip
    print(f"nearer its own pitch than the class's main pitch: {wins} of {n} (pitch, kit) pairs")


def _main_pitch(pitch: int) -> int:
    cls = drum_class(pitch)
    assert cls is not None
    return MAIN_PITCH[cls]


if __name__ == "__main__":
    main(*sys.argv[1:])
