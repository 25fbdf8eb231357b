"""`drumgrid kits`: the kits a model renders (--model, the default; server.commands.kits reads
them from its config.json) or, with --available, the kits this machine can render a corpus
through, with their licences and the drum classes each plays."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from drumgrid.server.commands import kits as model_kits
from drumgrid.server.drums import CLASS_LABELS
from drumgrid.server.errors import UserError

if TYPE_CHECKING:
    from drumgrid.training.kits.available import AvailableKit

SOURCES = ("soundfont", "sfz", "hydrogen")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model_kits.add_arguments(parser)
    parser.add_argument(
        "--available",
        action="store_true",
        help="list the SoundFont, SFZ and Hydrogen kits installed here that `drumgrid corpus "
        "--kit` can render, with licence and drum classes",
    )


def run(args: argparse.Namespace) -> int:
    if not args.available:
        return model_kits.run(args)
    if args.model != "default":
        raise UserError("--available lists this machine's kits; it takes no --model")
    from drumgrid.training.kits.available import available_kits

    kits = available_kits()
    if args.json:
        print(json.dumps([k.to_json() for k in kits], indent=2))
        return 0
    for k in kits:
        print(_describe(k))
    print(_totals(kits))
    return 0


def _describe(k: AvailableKit) -> str:
    """Two or three lines: source, name, classes and licence; the --kit argument; what of
    the kit no class plays."""
    if k.problem is not None:
        return f"{k.source:<9} {k.name}: cannot render: {k.problem}"
    missing = [c for c in CLASS_LABELS if c not in k.classes]
    cover = f"{len(k.classes)}/{len(CLASS_LABELS)} classes" + (
        f" (no {', '.join(missing)})" if missing else ""
    )
    licence = k.terms.licence or (
        "licence unknown" if k.source == "soundfont" else "no licence found: corpus skips it"
    )
    lines = [f"{k.source:<9} {k.name}: {cover}; {licence}", f"{'':<12}--kit {k.kit_argument}"]
    if k.unmapped:
        lines.append(f"{'':<12}not played: {', '.join(k.unmapped)}")
    return "\n".join(lines)


def _totals(kits: list[AvailableKit]) -> str:
    good = [k for k in kits if k.problem is None]
    by_source = ", ".join(f"{sum(k.source == s for k in good)} {s}" for s in SOURCES)
    licensed = sum(k.terms.licence is not None for k in good)
    return (
        f"{len(good)} kits ({by_source}); licence found for {licensed}, missing for "
        f"{len(good) - licensed}; {len(kits) - len(good)} failed their checks"
    )
