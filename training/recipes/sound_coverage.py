"""How near each unseen kit's hits come to the nearest sound a model trains on, per class: the
training kits' own hit (what kit mixes play too: a mix recombines, it adds no sound) and the
same hit voiced over a grid of the voiced mixes' range (training/kits/voicing.py). Distance:
log-mel MAE dB over 0.6 s from the onset, each hit scaled to peak 0 dB (timbre, not level).

    .venv/bin/python training/recipes/sound_coverage.py --kit NAME=SPEC ... \
        --unseen NAME=SPEC ... [--tune 3] [--bright 6]

docs/prompting.md ("Voiced mixes") runs it with the recipe's NEXT_KITS and UNSEEN_KITS.
"""

from __future__ import annotations

import argparse
import statistics

import librosa
import numpy as np

from drumgrid.server.drums import CLASS_TO_GM_PITCH, DrumClass
from drumgrid.training.kits.base import KitRenderer
from drumgrid.training.kits.spec import parse_kit
from drumgrid.training.kits.voicing import Voicing, render_voiced

RATE = 44100
SPAN_S = 0.6
SILENT = 1e-4  # a kit whose hit peaks below this does not play the class


def mel_db(wave: np.ndarray) -> np.ndarray | None:
    """The hit's log-mel from its onset, at peak 0 dB; None for a silent render."""
    peak = np.abs(wave).max()
    if peak < SILENT:
        return None
    onset = int(np.argmax(np.abs(wave) > 0.05 * peak))
    span = wave[onset : onset + int(SPAN_S * RATE)]
    span = np.pad(span, (0, int(SPAN_S * RATE) - len(span))) / np.abs(span).max()
    mel = librosa.feature.melspectrogram(y=span, sr=RATE, n_fft=2048, hop_length=512, n_mels=64)
    return librosa.power_to_db(mel, ref=1.0, amin=1e-8, top_db=None).clip(-80, None)


def hit(renderer: KitRenderer, cls: DrumClass, voicing: Voicing) -> np.ndarray | None:
    return mel_db(
        render_voiced(renderer, [(0.05, CLASS_TO_GM_PITCH[cls], 100)], 1.2, RATE, voicing)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kit", action="append", required=True, help="a training kit")
    parser.add_argument("--unseen", action="append", required=True, help="an unseen kit")
    parser.add_argument("--tune", type=float, default=3.0, help="semitones either way")
    parser.add_argument("--bright", type=float, default=6.0, help="dB of shelf either way")
    args = parser.parse_args()
    grid = [Voicing(float(t), float(b))
            for t in np.linspace(-args.tune, args.tune, 13).round(1)
            for b in np.linspace(-args.bright, args.bright, 5).round(1)]  # fmt: skip
    train = [parse_kit(spec).open(RATE) for spec in args.kit]
    unseen = {spec.split("=")[0]: parse_kit(spec).open(RATE) for spec in args.unseen}
    gaps: dict[str, list[tuple[float, float]]] = {}
    print("| class | " + " | ".join(unseen) + " |\n|---|" + "---|" * len(unseen))
    for cls in DrumClass:
        own: list[np.ndarray] = []
        voiced: list[np.ndarray] = []
        for renderer in train:
            for voicing in grid:
                mel = hit(renderer, cls, voicing)
                if mel is not None:
                    (own if voicing.neutral else voiced).append(mel)
        voiced += own
        cells = []
        for name, renderer in unseen.items():
            mel = hit(renderer, cls, Voicing())
            if mel is None:
                cells.append("(silent)")
                continue
            near = [min(float(np.abs(mel - m).mean()) for m in pool) for pool in (own, voiced)]
            gaps.setdefault(name, []).append((near[0], near[1]))
            cells.append(f"{near[0]:.2f} -> {near[1]:.2f}")
        print(f"| {cls.label} | " + " | ".join(cells) + " |", flush=True)
    every = [g for kit in gaps.values() for g in kit]
    print(f"\nmedian over {len(every)} (class, kit): nearest kit "
          f"{statistics.median(g[0] for g in every):.2f} dB, nearest voiced "
          f"{statistics.median(g[1] for g in every):.2f} dB; closer voiced: "
          f"{sum(g[1] < g[0] for g in every)}")  # fmt: skip


if __name__ == "__main__":
    main()
