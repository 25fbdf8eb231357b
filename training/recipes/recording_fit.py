"""Where recorded prompts render as a known kit: for validation recordings of the kits a model
knows and of kits it never heard (the recipe's corpus-kits and corpus-unseen), the first
SECONDS of each with its MIDI as a prompt, server/prompt_fit.py's answer: which check it
took (the prompt's halves, or each kit on the whole prompt and its onsets), the nearest kit,
the runner-up kit and their ratio, the prompt's own first half's error, and what it renders
as. A recording of a known kit should render as that kit; any other name is a miss. The
closing table counts, per rule, seen recordings rendered as their own kit / as another kit
and unseen ones rendered by a name, for the shipped rule and for the halves check with a
margin over the runner-up kit too (a kit that barely leads its sisters is not recognised).

    .venv/bin/python training/recipes/recording_fit.py MODEL SEEN UNSEEN [--files 2] \
        [--seconds 4 8]

docs/prompting.md ("Recorded prompts and the nearest known kit") has its tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from drumgrid.server.engine import Engine
from drumgrid.server.midi_io import read_midi
from drumgrid.server.prompt_fit import NAME_MARGIN, nearest_known_kit
from drumgrid.server.prompts import prompt_from_recording
from drumgrid.training.egmd import EGMDIndex
from drumgrid.training.evaluation.prompted import read_audio

MARGINS = (0.7, 0.8, 0.9, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("seen", type=Path, help="corpus of kits the model knows")
    parser.add_argument("unseen", type=Path, help="corpus of kits it never heard")
    parser.add_argument("--files", type=int, default=2, help="validation files per kit")
    parser.add_argument("--seconds", type=float, nargs="+", default=[4.0, 8.0])
    args = parser.parse_args()
    torch.set_num_threads(1)
    engine = Engine.load(args.model, "cpu", "eager", precision="fp32")
    print("| kit | seen | s | check | nearest | error | runner-up | ratio | first half | renders |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    scored = []  # (seconds, seen, kit, halves compared, shipped verdict, ratio)
    for corpus, seen in ((args.seen, True), (args.unseen, False)):
        index = EGMDIndex.read(corpus)
        rows = sorted(index.select(split="validation"), key=lambda r: r.midi_filename)
        for kit in sorted({r.kit_name for r in rows}):
            picked = [r for r in rows if r.kit_name == kit and r.duration >= max(args.seconds)]
            for row in picked[: args.files]:
                played = read_midi(index.midi_path(row))
                for seconds in args.seconds:
                    wave, rate = read_audio(index.audio_path(row), seconds)
                    prompt = prompt_from_recording(
                        wave, rate, played.cut(seconds), engine.codec, row.audio_filename
                    )
                    fit = nearest_known_kit(engine, prompt)
                    a, b = fit.ranked()[:2]
                    ratio = fit.errors[a] / fit.errors[b]
                    own = fit.errors.get("prompt")
                    check = "halves" if own is not None else "onsets {}/{}".format(*fit.onsets_won)
                    verdict = fit.kit or "the prompt"
                    first = "-" if own is None else f"{own:.3f}"
                    print(f"| {kit} | {'yes' if seen else 'no'} | {seconds:g} | {check} | {a} | "
                          f"{fit.errors[a]:.3f} | {b} | {ratio:.3f} | {first} | {verdict} |",
                          flush=True)  # fmt: skip
                    halves = own is not None
                    scored.append((seconds, seen, kit, halves, fit.kit, ratio))
    print()
    print("Rendered as a known kit: seen recordings as their own kit / as another kit / unseen "
          "recordings by a name")  # fmt: skip
    print()
    margins: list[float | None] = [None, *MARGINS]  # None: the shipped rule alone
    names = ["shipped", *(f"halves and margin {m:g}" for m in MARGINS)]
    print("| seconds | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for seconds in args.seconds:
        cells = []
        for margin in margins:
            own = other = unseen = 0
            for s, seen, kit, halves, shipped, ratio in scored:
                held = margin is None or not halves or ratio <= margin
                if s != seconds or shipped is None or not held:
                    continue
                if not seen:
                    unseen += 1
                elif shipped == kit:
                    own += 1
                else:
                    other += 1
            cells.append(f"{own} / {other} / {unseen}")
        print(f"| {seconds:g} | " + " | ".join(cells) + " |")
    print(f"\n(NAME_MARGIN, which the onset check uses: {NAME_MARGIN})")


if __name__ == "__main__":
    main()
