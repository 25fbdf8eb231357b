"""A request's options, already checked by the protocol, turned into what a job runs with:
the engine's RenderOptions and the take's file name, and how its input is read and its level
set. What the engine or the render folder refuses becomes the protocol's refusal."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.jobs import IOSettings
from drumgrid.server.daemon.renders import check_not_users, output_paths
from drumgrid.server.drum_select import AUTO, parse_channels
from drumgrid.server.errors import UnknownKit, UserError
from drumgrid.server.levels import DEFAULT_LEVEL, LevelTarget
from drumgrid.server.note_maps import parse_note_map

if TYPE_CHECKING:
    from drumgrid.server.engine.options import RenderOptions

NOT_THE_ENGINES = (*p.ROUTING_OPTIONS, *p.INPUT_OPTIONS, *p.LEVEL_OPTIONS)


def render_options(
    given: dict[str, Any], job: str, kits: Sequence[str], render_dir: Path
) -> tuple[RenderOptions, str | None]:
    """The engine's options and the `out` name; refuses a kit the model lacks and an `out`
    that would replace a file drumgrid did not write."""
    from drumgrid.server.engine.options import RenderOptions

    out = given.get("out")
    engine_options = {k: v for k, v in given.items() if k not in NOT_THE_ENGINES}
    try:
        options = RenderOptions(**engine_options)
    except UserError as exc:
        raise p.ProtocolError(str(exc), job) from None
    if options.kit is not None and options.kit not in tuple(kits):
        raise UnknownKit(f"unknown kit {options.kit!r}; this model knows {', '.join(kits)}")
    if out is not None:  # refuses escapes, and files drumgrid did not write
        check_not_users(render_dir, output_paths(render_dir, job, out, options.variations))
    return options, out


def io_settings(given: dict[str, Any], job: str, clip: bool = False) -> IOSettings:
    """The channel spec, note map and level of a request, refused as bad_request when
    unknown. Clip notes carry no MIDI channel, so a clip's `channel` option is refused too."""
    if clip and "channel" in given:
        raise p.ProtocolError(
            "channel: clip notes carry no MIDI channel (a Live clip's notes are all its "
            "drums); leave the option out, or use note_map to choose pitches",
            job,
        )
    try:
        channel = parse_channels(given.get("channel", AUTO))
        note_map = parse_note_map(given.get("note_map"), allow_files=False)
        level = DEFAULT_LEVEL
        if "loudness" in given:
            level = LevelTarget("loudness", given["loudness"])
        elif "peak" in given:
            level = LevelTarget("peak", given["peak"])
    except UserError as exc:
        raise p.ProtocolError(str(exc), job) from None
    return IOSettings(channel, note_map, level)
