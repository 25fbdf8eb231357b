"""`drumgrid grid FILE.mid`: the expressive grid of a drum MIDI file, as text or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from drumgrid.server.commands.midi_input import add_midi_arguments, print_report, read_input
from drumgrid.server.grid import grid_view, render_text, step_and_offset
from drumgrid.server.performance import Performance


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a Standard MIDI File (.mid/.midi)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--steps-per-beat", type=int, default=4, metavar="N",
        help="grid steps per quarter note (default 4: sixteenths)",
    )  # fmt: skip
    add_midi_arguments(parser)


def grid_json(performance: Performance, steps_per_beat: int) -> dict[str, Any]:
    grid = grid_view(performance, steps_per_beat)
    beats = performance.hit_beats()
    steps, offsets = step_and_offset(beats, steps_per_beat)
    hits = [
        {
            "time_s": round(hit.time_s, 6),
            "beat": round(float(beat), 6),
            "step": int(step),
            "offset": round(float(offset), 6),
            "class": hit.drum_class.label,
            "pitch": hit.pitch,
            "velocity": hit.velocity,
        }
        for hit, beat, step, offset in zip(performance.hits, beats, steps, offsets, strict=True)
    ]
    return {
        "tempo_bpm": round(performance.tempo_bpm, 6),
        "tempo_map": [[round(t, 6), round(bpm, 6)] for t, bpm in performance.tempo_map.changes_s()],
        "time_signature": list(performance.time_signature),
        "time_signatures": [
            [ts.beat, ts.numerator, ts.denominator] for ts in performance.time_signatures
        ],
        "length_beats": round(performance.length_beats, 6),
        "length_s": round(performance.length_s, 6),
        "steps_per_beat": steps_per_beat,
        "n_steps": grid.n_steps,
        "collisions": grid.collisions,
        "unknown_pitches": {str(p): n for p, n in performance.unknown_pitches.items()},
        "drums": performance.selection,
        "warnings": list(performance.warnings),
        "hits": hits,
    }


def run(args: argparse.Namespace) -> int:
    from drumgrid.server.errors import UserError

    if not 1 <= args.steps_per_beat <= 96:
        raise UserError(f"--steps-per-beat {args.steps_per_beat}: expected 1-96")
    performance, report = read_input(args, args.file)
    if args.json:  # the report is in the JSON: drums, warnings, unknown_pitches
        print(json.dumps(grid_json(performance, args.steps_per_beat)))
        return 0
    print_report(report)
    grid = grid_view(performance, args.steps_per_beat)
    signatures = ", ".join(
        f"{ts.numerator}/{ts.denominator}" + (f" at beat {ts.beat:g}" if ts.beat else "")
        for ts in performance.time_signatures
    ) or "{}/{}".format(*performance.time_signature)
    tempo_note = (
        ""
        if len(performance.tempo_map.bpms) == 1
        else f" ({len(performance.tempo_map.bpms)} tempo changes)"
    )
    print(
        f"{args.file.name}: {round(performance.tempo_bpm, 2):g} bpm{tempo_note}, {signatures}, "
        f"{performance.length_beats:.2f} beats ({performance.length_s:.3f} s), "
        f"{len(performance.hits)} hits, {args.steps_per_beat} steps per beat"
    )
    print()
    print(render_text(performance, grid), end="")
    print("o/x/X: soft/medium/loud; '|' starts a bar")
    if grid.collisions:
        print(f"{grid.collisions} hits shared a cell with a louder hit of their class (not shown)")
    return 0
