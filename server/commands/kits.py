"""`drumgrid kits [--model DIR|default]`: the kits a model renders, read from its config.json
without loading any weights."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="default", metavar="DIR|default")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace) -> int:
    from drumgrid.server.engine.models import resolve_model_dir
    from drumgrid.server.model.folder import read_info

    info = read_info(resolve_model_dir(args.model))
    if args.json:
        print(json.dumps(list(info.kits)))
    else:
        print("\n".join(info.kits))
    return 0
