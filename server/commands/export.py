"""`drumgrid export --model DIR --out FILE.pt2`: the Transformer body as a torch.export
ExportedProgram with dynamic batch and frame dimensions (what TensorRT compiles), checked
against eager at two lengths before it is written."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumgrid.server.commands.render import add_model_option


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_option(parser)
    parser.add_argument("--out", type=Path, required=True, help="the .pt2 file to write")
    parser.add_argument("--max-batch", type=int, default=16, help="largest batch it accepts")


def run(args: argparse.Namespace) -> int:
    from drumgrid.server.audio_io import check_output_path
    from drumgrid.server.engine.export import (
        MIN_FRAMES,
        contract_lengths,
        export_body,
        save_exported,
    )
    from drumgrid.server.engine.models import checkpoint_hash, resolve_model_dir
    from drumgrid.server.errors import UserError
    from drumgrid.server.model.folder import load_model

    if args.max_batch < 1:
        raise UserError(f"--max-batch {args.max_batch}: expected >= 1")
    check_output_path(args.out, (".pt2",))
    folder = resolve_model_dir(args.model)
    model, info = load_model(folder)
    program = export_body(model, args.max_batch)
    c = info.config
    meta = {
        "input": "x [B, T, D] float32", "output": "logits [B, K, T, V]",
        "dim": c.dim, "n_codebooks": c.n_codebooks, "codebook_size": c.codebook_size,
        "frames": [MIN_FRAMES, c.max_frames], "batch": [1, args.max_batch],
        "checkpoint_hash": checkpoint_hash(folder), "codec_id": info.codec_id,
    }  # fmt: skip
    save_exported(program, args.out, meta)
    short, long = contract_lengths(c.max_frames)
    print(
        f"wrote {args.out}: body x [B, T, {c.dim}] -> logits [B, {c.n_codebooks}, T, "
        f"{c.codebook_size}], B 1..{args.max_batch}, T {MIN_FRAMES}..{c.max_frames}; "
        f"matches eager at T={short} and T={long}"
    )
    return 0
