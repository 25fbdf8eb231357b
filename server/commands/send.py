"""`drumgrid send ACTION`: talk to a running `drumgrid serve` (built on drumgrid.bridge.Client).

drumgrid send ping
drumgrid send status
drumgrid send kits                                          # the model's kits, one a line
drumgrid send render groove.mid --kit acoustic --seed 3     # prints the WAV path(s)
drumgrid send render groove.mid --as-clip                   # read here, send as notes
drumgrid send cancel JOB
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drumgrid.bridge.contract import (
    DECODING_METHODS,
    DEFAULT_HOST,
    DEFAULT_TCP_PORT,
    DEFAULT_UDP_PORT,
)
from drumgrid.server.commands.midi_input import add_midi_arguments, read_input
from drumgrid.server.commands.prompt_input import add_prompt_arguments, prompt_request
from drumgrid.server.drum_select import AUTO
from drumgrid.server.errors import UserError
from drumgrid.server.note_maps import DEFAULT_NOTE_MAP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument(
        "--port", type=int,
        help=f"daemon port (default {DEFAULT_TCP_PORT} TCP, {DEFAULT_UDP_PORT} UDP)",
    )  # fmt: skip
    parser.add_argument("--udp", action="store_true", help="send over UDP instead of TCP")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for replies")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("ping", help="check that the daemon answers; prints its version")
    actions.add_parser("status", help="queued and running jobs, device, model")
    actions.add_parser("kits", help="the kits of the daemon's model, the default first")
    cancel = actions.add_parser("cancel", help="cancel a queued or running job")
    cancel.add_argument("job")
    render = actions.add_parser("render", help="render a MIDI file; prints the WAV path(s)")
    render.add_argument("input", type=Path, help="drum MIDI file")
    render.add_argument(
        "--as-clip", action="store_true",
        help="read the MIDI here and send its notes (for a daemon elsewhere)",
    )  # fmt: skip
    render.add_argument("--job", help="job id (default: a random one)")
    render.add_argument("--kit", help="a kit of the daemon's model, or a saved prompt kit")
    add_prompt_arguments(render)
    render.add_argument("--seed", type=int)
    render.add_argument("--decoding", choices=list(DECODING_METHODS))
    render.add_argument("--steps", type=int)
    render.add_argument("--temperature", type=float)
    render.add_argument("--top-k", type=int)
    render.add_argument("--top-p", type=float)
    render.add_argument("--sample-rate", type=int)
    render.add_argument("--variations", type=int)
    render.add_argument("--out", help="bare file name inside the daemon's render folder")
    render.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_midi_arguments(render)


OPTION_NAMES = (
    "kit", "seed", "decoding", "steps", "temperature", "top_k", "top_p", "sample_rate",
    "variations", "out",
)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from drumgrid.bridge import Client, RenderError

    transport = "udp" if args.udp else "tcp"
    try:
        client = Client(args.host, args.port, transport, timeout=args.timeout)
    except OSError as exc:
        raise UserError(
            f"cannot reach drumgrid serve at {args.host} ({transport}): {exc}; is it running?"
        ) from None
    with client:
        try:
            return _act(client, args)
        except RenderError as exc:
            print(f"drumgrid send: {exc.code}: {exc.message}", file=sys.stderr)
            return 2
        except TimeoutError:
            raise UserError(f"no answer from the daemon within {args.timeout:g} s") from None


def _act(client, args: argparse.Namespace) -> int:
    if args.action == "ping":
        print(f"drumgrid serve {client.ping()}")
    elif args.action == "status":
        s = client.status()
        print(f"queued {s.queued}, running {s.running}, device {s.device}, model {s.model}")
    elif args.action == "kits":
        print("\n".join(client.kits()))
    elif args.action == "cancel":
        client.cancel(args.job)
        print(f"cancel sent for {args.job}")
    else:
        return _render(client, args)
    return 0


def _render(client, args: argparse.Namespace) -> int:
    from drumgrid.server.drum_select import parse_channels
    from drumgrid.server.note_maps import parse_note_map

    options = {name: getattr(args, name) for name in OPTION_NAMES}
    options = {k: v for k, v in options.items() if v is not None}
    parse_channels(args.channel)  # refuse a bad spec here, before anything is sent
    # the daemon reads no note map files: a file's map travels inline
    options["note_map"] = parse_note_map(args.note_map, allow_files=True).inline()
    if options["note_map"] == DEFAULT_NOTE_MAP:
        del options["note_map"]
    options.update(prompt_request(args).osc_options())
    if args.save_kit is not None:
        options["save_kit"] = args.save_kit
    if args.no_prompt_fit:
        options["prompt_fit"] = 0

    def progress(fraction: float) -> None:
        if not args.quiet:
            print(f"\rrender {fraction * 100:5.1f} %", end="", file=sys.stderr, flush=True)

    if args.as_clip:
        notes, tempo, length, signature = clip_from_midi(args, args.input)
        takes = client.render_clip(
            notes, tempo, length, signature, args.job, progress=progress, **options
        )
    else:
        if args.channel != AUTO:
            options["channel"] = args.channel
        takes = client.render_file(
            str(args.input.resolve()), args.job, progress=progress, **options
        )
    if not args.quiet:
        print("", file=sys.stderr)
        for notice in takes[0].notices if takes else ():
            print(notice, file=sys.stderr)
    for take in takes:
        print(take.path)
    return 0


def clip_from_midi(args: argparse.Namespace, path: Path):
    """A MIDI file's drum notes (chosen here by --channel) as clip notes in beats at its first
    tempo (the clip protocol carries one tempo and one signature; a file with tempo changes
    is refused rather than distorted)."""
    performance, _ = read_input(args, path)  # the daemon reports what it took
    if len(performance.tempo_map.bpms) > 1:
        raise UserError(
            f"{path}: has tempo changes; send it as a file (drumgrid send render without --as-clip)"
        )
    beats = performance.hit_beats()
    spb = 60.0 / performance.tempo_bpm
    notes = [
        (h.pitch, float(b), h.duration_s / spb, float(h.velocity))
        for h, b in zip(performance.hits, beats, strict=True)
    ]
    return notes, performance.tempo_bpm, performance.length_beats, performance.time_signature
