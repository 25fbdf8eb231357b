"""Kit prompt options of `drumgrid render` and `drumgrid send` (--prompt, --prompt-midi,
--prompt-shots, --save-kit), read into a PromptRequest before anything heavy is loaded."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.server.drums import CLASS_LABELS
from drumgrid.server.errors import UserError
from drumgrid.server.prompt_request import (
    MAX_PROMPT_S,
    PromptRequest,
    check_kit_name,
    parse_shots,
)


def add_prompt_arguments(parser: argparse.ArgumentParser) -> None:
    """--prompt/--prompt-midi/--prompt-shots/--save-kit: a kit from a taste of its sound."""
    group = parser.add_argument_group("kit prompts (a prompted model)")
    group.add_argument(
        "--prompt", type=Path, metavar="AUDIO",
        help=f"render in the sound of this recording of a kit (1-{MAX_PROMPT_S:g} s are used) "
        "instead of a named kit; needs --prompt-midi",
    )  # fmt: skip
    group.add_argument(
        "--prompt-midi", type=Path, metavar="MIDI", help="the MIDI of what --prompt plays"
    )
    group.add_argument(
        "--prompt-shots", nargs="+", default=[], metavar="CLASS=FILE",
        help="render in the sound of one-shot samples, one per class (kick=kick.wav "
        f"snare=snare.wav ...; classes: {', '.join(CLASS_LABELS)})",
    )  # fmt: skip
    group.add_argument(
        "--save-kit", metavar="NAME",
        help="also save the prompt as a kit, so that `--kit NAME` renders with it again "
        "without the audio (in $DRUMGRID_KITS or ~/.local/share/drumgrid/kits)",
    )  # fmt: skip
    group.add_argument(
        "--no-prompt-fit", action="store_true",
        help="render from the prompt even where one of the model's own kits predicts it better "
        "(by default that kit renders, and the render says which)",
    )  # fmt: skip


def prompt_request(args: argparse.Namespace) -> PromptRequest:
    request = PromptRequest(args.prompt, args.prompt_midi, parse_shots(args.prompt_shots))
    if request.given and args.kit is not None:
        raise UserError("a prompt gives the kit's sound; pass --kit or a prompt, not both")
    if args.save_kit is not None:
        if not request.given:
            raise UserError("--save-kit saves a prompt; give --prompt and --prompt-midi, or "
                            "--prompt-shots")  # fmt: skip
        check_kit_name(args.save_kit)
    return request
