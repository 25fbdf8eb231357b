"""`drumgrid kits [--model DIR|NAME]`: the kits a model renders, read from its config.json
without loading any weights; for a prompted model, the saved prompt kits beside them (read
from their metadata), which `--kit NAME` renders too."""

from __future__ import annotations

import argparse
import json

from drumgrid.server.commands.render import add_model_option


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_option(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace) -> int:
    from drumgrid.server.engine.models import resolve_model_dir
    from drumgrid.server.model.folder import read_info

    info = read_info(resolve_model_dir(args.model))
    saved = saved_kit_lines(info.codec_id, info.codec_config_hash) if info.config.prompted else []
    if args.json:
        print(json.dumps([*info.kits, *(name for name, _ in saved)]))
    else:
        print("\n".join([*info.kits, *(f"{name}  ({what})" for name, what in saved)]))
    return 0


def saved_kit_lines(codec_id: str, config_hash: str) -> list[tuple[str, str]]:
    """(name, description) of each saved prompt kit this model's token space can render."""
    from drumgrid.server.prompt_request import saved_kit_path, saved_kits
    from drumgrid.server.prompts import saved_kit_meta

    out = []
    for name in saved_kits():
        meta = saved_kit_meta(saved_kit_path(name))
        if meta is None or (meta["codec_id"], meta["config_hash"]) != (codec_id, config_hash):
            continue
        out.append((name, f"saved prompt kit: {float(meta['seconds']):.1f} s of {meta['source']}"))
    return out
