"""Kit inversion: a kit row fitted to a prompt by gradient descent, against the prompt itself
and the nearest known kit (docs/prompting.md, "A kit row fitted to the prompt").

For each kit of an unseen-kit corpus (and the named seen kits of a seen-kit corpus), the
prompt eval-prompts takes (8 s of another validation file, server/prompts.py's reading) is
fitted: one kit vector, everything else frozen, Adam on the latent head's error over the
prompt's frames with every token masked (what parallel decoding reads). Printed per kit:

- held out: the latent error on the prompt's second half of a row fitted on its first half,
  beside the first half as a prompt and the nearest kit by name (server/prompt_fit.py's
  latent_errors);
- audio: ViSQOL / mel MAE dB on eval-prompts' grooves of the prompt, the nearest kit by name
  and the row fitted on the whole prompt (rendered in the nearest kit's slot), and the
  codec's round trip (the ceiling).

    .venv/bin/python training/recipes/kit_inversion.py MODEL UNSEEN_CORPUS SEEN_CORPUS \
        [--seen-kits fluid-standard,black-pearl] [--steps 80] [--grooves 4]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from drumgrid.server.conditioning import frame_conditioning
from drumgrid.server.engine import Engine, RenderOptions
from drumgrid.server.midi_io import read_midi
from drumgrid.server.ops.embed import embed_tokens
from drumgrid.server.prompt_fit import latent_errors, prompt_head
from drumgrid.server.prompts import Prompt, prompt_from_recording
from drumgrid.training.egmd import EGMDIndex
from drumgrid.training.evaluation.prompted import PromptEvalConfig, plan_kit, read_audio, score


class Inverter:
    """The frozen model's latent error as a function of one kit vector."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.model = engine, engine.model
        for weight in self.model.parameters():
            weight.requires_grad_(False)

    def frames(self, prompt: Prompt, start: int, stop: int) -> tuple[torch.Tensor, ...]:
        """Features, all-masked tokens and the codec's latent target of frames [start, stop),
        as windows of at most the model's length (the last one ending at `stop`)."""
        info, width = self.engine.info, self.model.max_frames
        starts = list(range(start, max(stop - width, start) + 1, width))
        if starts[-1] + width < stop:
            starts.append(stop - width)
        n = min(width, stop - start)
        feats, tokens = [], []
        for a in starts:
            cond = frame_conditioning(prompt.performance, info.frame_rate, a, n,
                                      features=info.features)  # fmt: skip
            feats.append(torch.from_numpy(cond.features))
            tokens.append(torch.from_numpy(prompt.tokens[:, a : a + n]))
        known = torch.stack(tokens)
        with torch.no_grad():
            target = self.engine.codec.latents(known).float()
        return torch.stack(feats), torch.full_like(known, self.model.codebook_size), target

    def error(self, kit: torch.Tensor, frames: tuple[torch.Tensor, ...]) -> torch.Tensor:
        features, masked, target = frames
        cond = (self.model.cond_proj(features) + kit).to(self.model.tables.dtype)
        latent = self.model.body.latent(embed_tokens(masked, self.model.tables, cond))
        return ((latent.float() - target) ** 2).sum() / (target**2).sum()

    def fit(self, frames: tuple[torch.Tensor, ...], steps: int, lr: float) -> torch.Tensor:
        """A kit vector from the mean kit row, by Adam on the latent error."""
        kit = self.model.kit_embedding.weight.mean(0).clone().requires_grad_(True)
        optimiser = torch.optim.Adam([kit], lr=lr)
        for _ in range(steps):
            loss = self.error(kit, frames)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        return kit.detach()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("unseen", type=Path, help="corpus of kits the model never heard")
    parser.add_argument("seen", type=Path, help="corpus holding kits the model knows")
    parser.add_argument("--seen-kits", default="fluid-standard,black-pearl")
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--grooves", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(1)
    engine = Engine.load(args.model, "cpu", "eager", precision="fp32")
    engine.require_prompted()
    inverter, codec, rate = Inverter(engine), engine.codec, engine.info.frame_rate
    rows = engine.model.kit_embedding.weight
    cfg = PromptEvalConfig(grooves=args.grooves)
    options = RenderOptions(decoding="parallel", tail_s=0.0, prompt_fit=False)
    print("| kit | nearest | held out: named / prompt / fitted | audio: named | prompt | fitted "
          "| ceiling |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    sets = [(EGMDIndex.read(args.unseen), (), False),
            (EGMDIndex.read(args.seen), tuple(args.seen_kits.split(",")), True)]  # fmt: skip
    for index, only, seen in sets:
        for kit in only or index.kits:
            plan = plan_kit(index, None, kit, cfg, seen)
            wave, sr = read_audio(index.audio_path(plan.prompt_row), cfg.prompt_seconds)
            played = read_midi(index.midi_path(plan.prompt_row)).cut(len(wave) / sr)
            prompt = prompt_from_recording(wave, sr, played, codec, plan.prompt_row.audio_filename)
            n = prompt.tokens.shape[1]
            half = n // 2
            errors, _ = latent_errors(engine, prompt, half, n,
                                      prompt_head(prompt, half, half / rate))  # fmt: skip
            nearest = min(engine.kits, key=errors.__getitem__)
            on_first = inverter.fit(inverter.frames(prompt, 0, half), args.steps, args.lr)
            with torch.no_grad():
                by_fit = float(inverter.error(on_first, inverter.frames(prompt, half, n)))
            held = (errors[nearest], errors["prompt"], by_fit)
            fitted = inverter.fit(inverter.frames(prompt, 0, n), args.steps, args.lr)
            slot = engine.kits.index(nearest)
            scores: dict[str, list[tuple[float, float]]] = {}
            kept = rows[slot].detach().clone()
            for groove_row in plan.grooves:
                groove = read_midi(index.midi_path(groove_row)).cut(cfg.seconds)
                ref, _ = read_audio(index.audio_path(groove_row), cfg.seconds)
                with torch.no_grad():
                    renders = {
                        "named": engine.render(groove, replace(options, kit=nearest))[0],
                        "prompt": engine.render(groove, options, prompt=prompt)[0],
                    }
                    rows[slot] = fitted
                    renders["fitted"] = engine.render(groove, replace(options, kit=nearest))[0]
                    rows[slot] = kept
                    ceiling = codec.decode(codec.encode(ref)).cpu().numpy()[: len(ref)]
                for name, result in renders.items():
                    scores.setdefault(name, []).append(score(ref, result.audio[:, 0], sr, True))
                scores.setdefault("ceiling", []).append(score(ref, ceiling, sr, True))
            cells = [" / ".join(f"{v:.2f}" for v in np.mean(scores[name], axis=0))
                     for name in ("named", "prompt", "fitted", "ceiling")]  # fmt: skip
            label = f"{kit}{' (seen)' if seen else ''}"
            held_cell = " / ".join(f"{v:.3f}" for v in held)
            print(f"| {label} | {nearest} | {held_cell} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
