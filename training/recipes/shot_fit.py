"""Where one-shot prompts render as a known kit: for each one-shot prompt of a seen-kit and an
unseen-kit one-shot corpus (the recipe's corpus-shots and corpus-unseen-shots), each of a
model's kits by name predicts the whole prompt, as server/prompt_fit.py does; prints the
nearest kit, the runner-up, their ratio, which NAME_MARGIN bounds, and on how many of the
prompt's onsets the nearest was nearest (all, to render as it); then what each margin, alone
and with every onset, would render as a known kit. A rule is safe for a model where no
unseen kit and no other seen kit passes it.

    .venv/bin/python training/recipes/shot_fit.py MODEL SEEN_SHOTS UNSEEN_SHOTS [--files 4]

docs/prompting.md ("One-shots and the nearest known kit") has its tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from drumgrid.server.engine import Engine
from drumgrid.server.errors import UserError
from drumgrid.server.prompt_fit import nearest_known_kit
from drumgrid.server.prompts import prompt_from_shots
from drumgrid.training.egmd import EGMDIndex
from drumgrid.training.evaluation.prompted import shots_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("seen", type=Path, help="one-shot corpus of kits the model knows")
    parser.add_argument("unseen", type=Path, help="one-shot corpus of kits it never heard")
    parser.add_argument("--files", type=int, default=4, help="validation files per kit")
    args = parser.parse_args()
    torch.set_num_threads(1)
    engine = Engine.load(args.model, "cpu", "eager", precision="fp32")
    print("| kit | seen | nearest | error | runner-up | error | ratio | onsets won | renders as |")
    print("|---|---|---|---|---|---|---|---|---|")
    scored = []  # (seen, prompt's kit, nearest, ratio, nearest on every onset)
    for corpus, seen in ((args.seen, True), (args.unseen, False)):
        index = EGMDIndex.read(corpus)
        for kit in sorted({r.kit_name for r in index.select(split="validation")}):
            for row in list(index.select(split="validation", kits=[kit]))[: args.files]:
                try:
                    prompt = prompt_from_shots(
                        shots_of(index, row), engine.codec, row.audio_filename
                    )
                except UserError as e:  # a kit without a sound for some class: as a user is told
                    print(f"| {kit} | {'yes' if seen else 'no'} | {e} |||||||", flush=True)
                    continue
                fit = nearest_known_kit(engine, prompt)
                errors = fit.errors
                a, b = fit.ranked()[:2]
                ratio = errors[a] / errors[b]
                verdict = fit.kit or "the shots"
                won, of = fit.onsets_won
                print(f"| {kit} | {'yes' if seen else 'no'} | {a} | {errors[a]:.3f} | {b} | "
                      f"{errors[b]:.3f} | {ratio:.3f} | {won}/{of} | {verdict} |",
                      flush=True)  # fmt: skip
                scored.append((seen, kit, a, ratio, won == of))
    print("\nWhat each rule renders as a known kit: seen prompts as their own kit / as another "
          "kit / unseen prompts as a known kit\n")  # fmt: skip
    print("| margin | margin alone | margin and every onset |\n|---|---|---|")
    for margin in (0.5, 0.6, 0.7, 0.8):
        cells = []
        for every_onset in (False, True):
            picked = [(seen, kit == near) for seen, kit, near, ratio, all_won in scored
                      if ratio <= margin and (all_won or not every_onset)]  # fmt: skip
            own = sum(seen and right for seen, right in picked)
            other = sum(seen and not right for seen, right in picked)
            cells.append(f"{own} / {other} / {sum(not seen for seen, _ in picked)}")
        print(f"| {margin} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
