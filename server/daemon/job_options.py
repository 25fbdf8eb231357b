"""A request's options, already checked by the protocol, turned into what a job runs with:
the engine's RenderOptions and the take's file name, and how its input is read and its level
set. What the engine or the render folder refuses becomes the protocol's refusal."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drumgrid.bridge import protocol as p
from drumgrid.server.daemon.jobs import IOSettings
from drumgrid.server.daemon.renderer import Renderer
from drumgrid.server.daemon.renders import check_not_users, output_paths, resolve_midi_path
from drumgrid.server.drum_select import AUTO, parse_channels
from drumgrid.server.errors import UnknownKit, UserError
from drumgrid.server.levels import DEFAULT_LEVEL, LevelTarget
from drumgrid.server.note_maps import parse_note_map

if TYPE_CHECKING:
    from drumgrid.server.engine.options import RenderOptions
    from drumgrid.server.prompt_request import PromptRequest

NOT_THE_ENGINES = (*p.ROUTING_OPTIONS, *p.INPUT_OPTIONS, *p.LEVEL_OPTIONS, *p.PROMPT_OPTIONS)


def known_kits(renderer: Renderer) -> list[str]:
    """The kit names a request may give: the model's, and for a prompted model the saved
    prompt kits."""
    from drumgrid.server.prompt_request import saved_kits

    return [*renderer.kits, *(saved_kits() if renderer.prompted else ())]


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


def io_settings(
    given: dict[str, Any],
    job: str,
    clip: bool = False,
    renderer: Renderer | None = None,
    input_dir: Path | None = None,
) -> IOSettings:
    """The channel spec, note map, level and kit prompt of a request, refused as bad_request
    when unknown. Clip notes carry no MIDI channel, so a clip's `channel` option is refused
    too. A prompt needs a prompted model (`renderer`) and files the daemon may read, which
    exist now (they are read when the job runs)."""
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
        prompt, save_kit = prompt_settings(given, renderer, input_dir)
    except UserError as exc:
        raise p.ProtocolError(str(exc), job) from None
    return IOSettings(channel, note_map, level, prompt, save_kit)


def prompt_settings(
    given: dict[str, Any], renderer: Renderer | None, input_dir: Path | None
) -> tuple[PromptRequest | None, str | None]:
    from drumgrid.server.prompt_request import PromptRequest, check_kit_name, parse_shots

    if not any(name in given for name in p.PROMPT_OPTIONS):
        return None, None
    if renderer is None or not renderer.prompted:
        raise UserError("this model renders by kit name only (it was not trained on kit prompts)")

    def where(option: str) -> Path | None:
        if option not in given:
            return None
        path = resolve_midi_path(given[option], input_dir, option)
        if not path.is_file():
            raise UserError(f"{option} {path}: no such file")
        return path

    shots = tuple(
        (cls, resolve_midi_path(str(path), input_dir, "prompt_shots"))
        for cls, path in parse_shots(given.get("prompt_shots", ""))
    )
    for _, path in shots:
        if not path.is_file():
            raise UserError(f"prompt_shots {path}: no such file")
    request = PromptRequest(where("prompt"), where("prompt_midi"), shots, given.get("prompt_notes"))
    save_kit = given.get("save_kit")
    if save_kit is not None:
        if not request.given:
            raise UserError("save_kit saves a prompt; give prompt and prompt_midi, or prompt_shots")
        check_kit_name(save_kit)
    if not request.given:
        raise UserError("prompt: give prompt and prompt_midi, or prompt_shots")
    return request, save_kit
