"""A lone crash through a model beside FluidSynth's render of the same hit: the level of each
at 0.5 s steps after the hit, in dB below its own attack (50 ms RMS windows), and the gap.

    .venv/bin/python training/recipes/lone_crash.py [MODEL] [KIT]

MODEL defaults to the shipped model, KIT to fluid-standard (a kit of the shipped corpus).
"""

from __future__ import annotations

import sys

import numpy as np

from drumgrid.server.engine import Engine, RenderOptions
from drumgrid.server.performance import from_note_list
from drumgrid.training.fluidsynth import KitRenderer, parse_kit

SF2 = "/usr/share/sounds/sf2"
KITS = {
    "fluid-standard": f"{SF2}/FluidR3_GM.sf2:128:0",
    "fluid-jazz": f"{SF2}/FluidR3_GM.sf2:128:32",
    "black-pearl": f"{SF2}/Black_Pearl_4_LV2.sf2",
    "red-zeppelin": f"{SF2}/Red_Zeppelin_4_LV2.sf2",
}
HIT_S, CRASH, VELOCITY = 0.5, 49, 100
STEPS_S = np.arange(0.0, 3.01, 0.5)
WINDOW_S = 0.05


def levels_db(wave: np.ndarray, sr: int) -> np.ndarray:
    """Level at each of STEPS_S after the hit, dB below the loudest 50 ms of the attack."""
    w = round(WINDOW_S * sr)

    def power(start_s: float) -> float:
        a = round(start_s * sr)
        return float(np.mean(wave[a : a + w] ** 2)) + 1e-20

    attack = max(power(HIT_S + d) for d in np.arange(0.0, 0.2, WINDOW_S / 4))
    at = [power(HIT_S + max(s, WINDOW_S) - WINDOW_S / 2) for s in STEPS_S]
    return 10 * np.log10(np.array(at) / attack)


def main(model: str = "default", kit: str = "fluid-standard") -> None:
    engine = Engine.load(model, "cpu", "eager")
    perf = from_note_list([(HIT_S, CRASH, VELOCITY)], tempo_bpm=120.0, length_s=4.5)
    result = engine.render(perf, RenderOptions(kit=kit, tail_s=0.5, gate=False))[0]
    ours = np.asarray(result.audio, np.float64).reshape(-1)
    sr = result.sample_rate
    reference = KitRenderer(parse_kit(f"{kit}={KITS[kit]}"), sr).render(
        [(HIT_S, CRASH, VELOCITY)], len(ours) / sr
    )
    model_db, fluid_db = levels_db(ours, sr), levels_db(reference.astype(np.float64), sr)
    print("after (s) " + " ".join(f"{s:6.1f}" for s in STEPS_S))
    print("model dB  " + " ".join(f"{v:6.1f}" for v in model_db))
    print("fluid dB  " + " ".join(f"{v:6.1f}" for v in fluid_db))
    gap = model_db - fluid_db
    worst = np.abs(gap).max()
    print("gap dB    " + " ".join(f"{v:6.1f}" for v in gap) + f"   max |gap| {worst:.1f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
