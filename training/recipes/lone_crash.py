"""A lone crash through a model beside FluidSynth's render of the same hit: the level of each
at 0.5 s steps after the hit, in dB below its own attack (metrics.decay_curve_db), and the
gap, per kit. Levels under FLOOR_DB count as FLOOR_DB in the gap: there both are inaudible
beside the attack (a Black Pearl crash sample ends at about 2.8 s, -76 dB at 3 s).

    [DECODING=iterative] [VELOCITIES="60 100 127"] \
        .venv/bin/python training/recipes/lone_crash.py [MODEL] [KIT ...]

MODEL defaults to the shipped model, KITs to the shipped corpus's eight, DECODING to the
engine's choice (parallel), VELOCITIES to 100 (each is a table of its own).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from drumgrid.server.engine import Engine, RenderOptions
from drumgrid.server.performance import from_note_list
from drumgrid.training.fluidsynth import KitRenderer, parse_kit
from drumgrid.training.metrics import decay_curve_db

SF2 = "/usr/share/sounds/sf2"
KITS = {  # the shipped model's, as the recipe's corpus stage renders them
    "fluid-standard": f"{SF2}/FluidR3_GM.sf2:128:0",
    "fluid-power": f"{SF2}/FluidR3_GM.sf2:128:16",
    "fluid-electronic": f"{SF2}/FluidR3_GM.sf2:128:24",
    "fluid-tr808": f"{SF2}/FluidR3_GM.sf2:128:25",
    "fluid-jazz": f"{SF2}/FluidR3_GM.sf2:128:32",
    "fluid-brush": f"{SF2}/FluidR3_GM.sf2:128:40",
    "black-pearl": f"{SF2}/Black_Pearl_4_LV2.sf2",
    "red-zeppelin": f"{SF2}/Red_Zeppelin_4_LV2.sf2",
}
HIT_S, CRASH = 0.5, 49
STEPS_S = np.arange(0.0, 3.01, 0.5)
FLOOR_DB, WITHIN_DB = -60.0, 6.0  # issue 23: within 6 dB of the sampler's for 3 s


def lone_crash_gap(engine: Engine, kit: str, velocity: int) -> tuple[np.ndarray, np.ndarray]:
    """(model's decay curve, FluidSynth's) of one crash at HIT_S, dB at STEPS_S after it."""
    perf = from_note_list([(HIT_S, CRASH, velocity)], tempo_bpm=120.0, length_s=4.5)
    options = RenderOptions(kit=kit, tail_s=0.5, gate=False, decoding=os.environ.get("DECODING"))
    result = engine.render(perf, options)[0]
    ours = np.asarray(result.audio, np.float64).reshape(-1)
    sr = result.sample_rate
    reference = KitRenderer(parse_kit(f"{kit}={KITS[kit]}"), sr).render(
        [(HIT_S, CRASH, velocity)], len(ours) / sr
    )
    return (
        decay_curve_db(ours, sr, HIT_S, STEPS_S),
        decay_curve_db(reference.astype(np.float64), sr, HIT_S, STEPS_S),
    )


def main(model: str = "default", *kits: str) -> None:
    engine = Engine.load(model, "cpu", "eager")
    for velocity in map(int, os.environ.get("VELOCITIES", "100").split()):
        table(engine, velocity, kits or tuple(KITS))


def table(engine: Engine, velocity: int, kits: tuple[str, ...]) -> None:
    print(
        f"velocity {velocity}\nafter (s)                " + " ".join(f"{s:6.1f}" for s in STEPS_S)
    )
    within, gaps = [], []
    for kit in kits:
        model_db, fluid_db = lone_crash_gap(engine, kit, velocity)
        gap = np.maximum(model_db, FLOOR_DB) - np.maximum(fluid_db, FLOOR_DB)
        gaps.append(float(np.abs(gap).max()))
        within.append(gaps[-1] <= WITHIN_DB)
        print(f"{kit:16s} model dB " + " ".join(f"{v:6.1f}" for v in model_db))
        print(f"{kit:16s} fluid dB " + " ".join(f"{v:6.1f}" for v in fluid_db))
        print(f"{kit:16s} gap dB   " + " ".join(f"{v:6.1f}" for v in gap)
              + f"   max |gap| {np.abs(gap).max():.1f}")  # fmt: skip
    floored = f"levels floored at {FLOOR_DB:g} dB"
    print(f"within {WITHIN_DB:g} dB for {STEPS_S[-1]:g} s ({floored}): {sum(within)} of "
          f"{len(within)} kits; mean largest gap {np.mean(gaps):.1f} dB")  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:])
