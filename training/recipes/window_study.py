"""The engine's window length against render quality (docs/model_quality.md, "Render windows").

The model trains on windows of 4 beats; the engine renders in windows of the model's longest
(max_frames, 4.8 s for the shipped model) overlapping by a quarter. This renders the first
8 s of N GMD validation grooves through two kits both ways and scores each against
FluidSynth's render of the same notes (ViSQOL, mel MAE dB):

    .venv/bin/python training/recipes/window_study.py [N] [MODEL]
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from drumgrid.server.engine import Engine, RenderOptions
from drumgrid.server.midi_io import read_midi
from drumgrid.server.performance import Performance
from drumgrid.training.corpus import read_gmd_index
from drumgrid.training.evaluation.prompted import score
from drumgrid.training.fluidsynth import KitRenderer, parse_kit

SF2 = "/usr/share/sounds/sf2"
KITS = {
    "fluid-standard": f"{SF2}/FluidR3_GM.sf2:128:0",
    "black-pearl": f"{SF2}/Black_Pearl_4_LV2.sf2",
}
GMD = Path(__file__).resolve().parents[3] / "shared" / "data" / "gmd"
SECONDS, TAIL_S = 8.0, 0.5


def first_seconds(perf: Performance, seconds: float) -> Performance:
    end_beat = float(perf.tempo_map.beat_at(seconds))
    kept = tuple(h for h in perf.hits if h.time_s < seconds)
    return replace(perf, hits=kept, length_beats=end_beat)


def main(n: int = 10, model: str = "default") -> None:
    rows = [r for r in read_gmd_index(GMD) if r["split"] == "validation"]
    rows = [r for r in rows if r["beat_type"] == "beat"]
    rows.sort(key=lambda r: r["midi_filename"])
    rows = [rows[i] for i in np.linspace(0, len(rows) - 1, n).round().astype(int)]
    engine = Engine.load(model, "cpu", "eager", precision="fp32")
    rate, longest = engine.sample_rate, engine.window
    scores: dict[str, list[tuple[float, float]]] = {"longest": [], "4 beats": []}
    for kit, source in KITS.items():
        sampler = KitRenderer(parse_kit(f"{kit}={source}"), rate)
        for row in rows:
            perf = first_seconds(read_midi(GMD / row["midi_filename"]), SECONDS)
            hits = [(h.time_s, h.pitch, h.velocity) for h in perf.hits]
            reference = sampler.render(hits, perf.length_s + TAIL_S).astype(np.float64)
            beats = round(4 * 60 / float(perf.tempo_map.bpms[0]) * engine.info.frame_rate)
            line = f"{kit:14s} {row['midi_filename'][:44]:44s}"
            for name, window in (("longest", longest), ("4 beats", min(beats, longest))):
                engine.window, engine.overlap = window, window // 4
                take = engine.render(perf, RenderOptions(kit=kit, tail_s=TAIL_S))[0]
                q, mel = score(reference, np.asarray(take.audio, np.float64).reshape(-1), rate,
                               visqol=True)  # fmt: skip
                scores[name].append((q, mel))
                line += f"  {name} ({window} frames) {q:.2f} {mel:.2f} dB"
            print(line, flush=True)
    for name, pairs in scores.items():
        q, mel = np.mean(pairs, axis=0)
        print(f"mean, {name}: ViSQOL {q:.3f}, mel MAE {mel:.2f} dB ({len(pairs)} clips)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10, *sys.argv[2:3])
