"""`drumgrid codecs`: the registered codec ids, their rates and sizes, and whether their
weights are on this machine (looked up on disk only, so it answers offline at once)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from drumgrid.server.codecs.registry import CODECS, weights_location


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument(
        "--codec-path", type=Path, metavar="DIR",
        help="also report whether DIR holds loadable weights (config.json + weights)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    rows = []
    seen = set()
    for spec in CODECS.values():
        if spec.id in seen:
            continue
        seen.add(spec.id)
        local = weights_location(spec)
        rows.append(
            {
                "id": spec.id,
                "aliases": [a for a in spec.aliases if a != spec.id],
                "hub_id": spec.hub_id,
                "sample_rate": spec.sample_rate,
                "frame_rate": spec.frame_rate,
                "n_codebooks": spec.n_codebooks,
                "codebook_size": spec.codebook_size,
                "bits_per_second": spec.bits_per_second,
                "weights_local": local is not None,
                "weights_path": str(local) if local else None,
                "description": spec.description,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(spec_id) for spec_id in seen) + 1
    header = f"{'id':<{width}}{'sr':>7}{'frames/s':>10}{'K x V':>11}{'bits/s':>9}  weights  source"
    print(header)
    for r in rows:
        kv = f"{r['n_codebooks']} x {r['codebook_size']}"
        have = "yes" if r["weights_local"] else "no"
        print(
            f"{r['id']:<{width}}{r['sample_rate']:>7}{r['frame_rate']:>10.2f}{kv:>11}"
            f"{r['bits_per_second']:>9.0f}  {have:<7}  {r['hub_id'] or 'packaged'}"
        )
    if args.codec_path is not None:
        ok = (args.codec_path / "config.json").is_file()
        print(f"\n{args.codec_path}: {'has' if ok else 'has no'} config.json")
    if not all(r["weights_local"] for r in rows):
        print(
            "\nmissing weights: on a networked machine run `hf download HUB_ID` "
            "(or `huggingface-cli download HUB_ID`), or pass --codec-path DIR to commands"
        )
    return 0
