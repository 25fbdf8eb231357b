"""The `drumgrid` command. It sits at the top of the import chain (training -> server ->
bridge) because it dispatches into every layer. Each subcommand is a module with
`add_arguments(parser)` and `run(args) -> int`, imported only when it is chosen, so that
`drumgrid grid` does not pay for importing torch."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# name -> (module, one-line help). Modules live in the layer whose work they start.
COMMANDS: dict[str, tuple[str, str]] = {
    "grid": ("drumgrid.server.commands.grid", "show the expressive grid of a drum MIDI file"),
    "bench": ("drumgrid.server.commands.bench", "time the native ops or a render (ops | render)"),
    "codecs": ("drumgrid.server.commands.codecs", "list the audio codecs and their local weights"),
    "corpus": ("drumgrid.training.commands.corpus", "render GMD MIDI through drum kits"),
    "ring-outs": (
        "drumgrid.training.commands.ring_outs",
        "write MIDI of lone hits ringing out into silence, for a corpus beside GMD's",
    ),
    "shot-prompts": (
        "drumgrid.training.commands.shot_prompts",
        "write MIDI of one-shot prompts (one hit per class), for a corpus that trains prompts",
    ),
    "train-codec": ("drumgrid.training.commands.train_codec", "train drumgrid's drum codec"),
    "codec-roundtrip": (
        "drumgrid.training.commands.codec_roundtrip",
        "encode and decode a WAV to hear what a codec keeps",
    ),
    "eval-codec": (
        "drumgrid.training.commands.eval_codec",
        "score codecs' reconstructions of held-out corpus clips",
    ),
    "card": ("drumgrid.training.commands.card", "write the model card of a trained codec or model"),
    "tokenize": ("drumgrid.training.commands.tokenize", "encode a corpus into a codec token cache"),
    "train": ("drumgrid.training.commands.train", "train the grid-to-tokens Transformer"),
    "render": ("drumgrid.server.commands.render", "render a drum MIDI file to a WAV"),
    "kits": (
        "drumgrid.training.commands.kits",
        "list the kits a model renders, or (--available) those this machine can render",
    ),
    "export": ("drumgrid.server.commands.export", "export the Transformer body (torch.export)"),
    "eval": ("drumgrid.training.commands.eval", "score a model with the research's metrics"),
    "eval-prompts": (
        "drumgrid.training.commands.eval_prompts",
        "score a prompted model on unseen kits against the sampler and the best named kit",
    ),
    "serve": (
        "drumgrid.server.commands.serve",
        "run the OSC daemon for Live and other OSC clients",
    ),
    "send": (
        "drumgrid.server.commands.send",
        "talk to a running drumgrid serve (ping, render, ...)",
    ),
}


# Import name -> distribution of the `train` extra (pyproject.toml): rendering and serving
# run without them, and a command that needs one says how to install it.
TRAIN_EXTRA: dict[str, str] = {
    "librosa": "librosa",
    "mir_eval": "mir_eval",
    "matplotlib": "matplotlib",
    "fluidsynth": "pyfluidsynth",
    "pysfizz": "pysfizz",
    "visqol": "visqol-python",
}


def _missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The `train` extra's distribution whose absence raised `exc`, if it is one."""
    return TRAIN_EXTRA.get((exc.name or "").split(".")[0])


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("drumgrid")
    except PackageNotFoundError:
        return "unknown"


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drumgrid",
        description="Render drum audio from expressive drum MIDI.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n"
        + "\n".join(f"  {name:<16}{help_}" for name, (_, help_) in COMMANDS.items())
        + "\n\nrun `drumgrid COMMAND --help` for a command's options",
    )
    parser.add_argument("--version", action="version", version=f"drumgrid {_version()}")
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from drumgrid.server.errors import UserError

    argv = list(sys.argv[1:] if argv is None else argv)
    top = _top_parser()
    if not argv or argv[0].startswith("-"):
        top.parse_args(argv or ["--help"])
        return 0
    name = argv[0]
    if name not in COMMANDS:
        top.error(f"unknown command {name!r}; choose from {', '.join(sorted(COMMANDS))}")
    module_name, help_ = COMMANDS[name]
    try:
        command = importlib.import_module(module_name)
        parser = argparse.ArgumentParser(prog=f"drumgrid {name}", description=help_)
        command.add_arguments(parser)
        args = parser.parse_args(argv[1:])
        return int(command.run(args) or 0)
    except ModuleNotFoundError as exc:
        dist = _missing_extra(exc)
        if dist is None:
            raise
        print(
            f"drumgrid {name}: error: needs {dist}, one of drumgrid's training extras; "
            "install them with `pip install --no-build-isolation 'drumgrid[train]'` "
            "(or `make setup` in a checkout)",
            file=sys.stderr,
        )
        return 2
    except UserError as exc:
        print(f"drumgrid {name}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"drumgrid {name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `drumgrid grid x.mid --json | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
