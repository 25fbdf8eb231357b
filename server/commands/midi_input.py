"""The command-line options every command that reads drum MIDI shares (`--channel`,
`--note-map`), and the report of what it took from the file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drumgrid.server.drum_select import AUTO
from drumgrid.server.midi_io import MAX_MIDI_LENGTH_S, input_report, read_midi
from drumgrid.server.note_maps import DEFAULT_NOTE_MAP, PRESET_NOTES, parse_note_map
from drumgrid.server.performance import Performance


def add_midi_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--channel", default=AUTO, metavar="C",
        help="the drums' MIDI channel(s): auto (default: channel 10, else the parts that look "
        "like drums), all, a channel 1-16, or a list such as 7,8,11",
    )  # fmt: skip
    parser.add_argument(
        "--note-map", default=DEFAULT_NOTE_MAP, metavar="MAP",
        help="which pitch plays which drum: a preset ("
        + "; ".join(f"{k}: {v}" for k, v in PRESET_NOTES.items())
        + "), a file of `PITCH CLASS` lines, and/or PITCH=CLASS overrides, comma-separated "
        "(e.g. none,44=kick,48=snare,50=hihat_closed; CLASS none drops a pitch)",
    )  # fmt: skip


def read_input(
    args: argparse.Namespace, path: Path, max_length_s: float = MAX_MIDI_LENGTH_S
) -> tuple[Performance, list[str]]:
    """Read `path` with the command's --channel and --note-map: the performance, and what was
    taken from the file (drum parts, warnings, folds) as lines to print where the command's
    output allows (an error stays one line)."""
    note_map = parse_note_map(args.note_map, allow_files=True)
    performance = read_midi(path, args.channel, max_length_s=max_length_s, note_map=note_map)
    return performance, input_report(performance, note_map)


def print_report(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)
