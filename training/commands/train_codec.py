"""`drumgrid train-codec`: train drumgrid's drum codec on a rendered corpus."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from drumgrid.server.errors import UserError

PRESETS = ("default", "tiny")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="a corpus from `drumgrid corpus` (E-GMD layout, train + validation)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="run folder: checkpoint/, log.jsonl and the trained codec/",
    )
    parser.add_argument(
        "--preset", choices=PRESETS, default="default", help="model size (unless --init)"
    )
    parser.add_argument(
        "--init",
        type=Path,
        metavar="DIR",
        help="start from this trained codec (model.safetensors + config.json) and its "
        "architecture: a fine-tune",
    )
    parser.add_argument(
        "--freeze-encoder",
        action="store_true",
        help="with --init: train only the decoder and head, so the codes, and any token "
        "cache or Transformer made with them, stay valid",
    )
    parser.add_argument(
        "--phase-features",
        action="store_true",
        help="the encoder also reads each STFT bin's phase (a new token space; not with --init)",
    )
    parser.add_argument(
        "--complex-weight",
        type=float,
        default=0.0,
        metavar="W",
        help="weight of the compressed complex-spectrum L1, which asks the decoder for the "
        "original's phase as well as its magnitudes (default 0: magnitudes only)",
    )
    parser.add_argument("--steps", type=int, default=20000, metavar="N")
    parser.add_argument("--batch-size", type=int, default=16, metavar="B")
    parser.add_argument("--segment", type=float, default=1.0, metavar="S", help="seconds per item")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument(
        "--adversarial-after",
        type=int,
        default=-1,
        metavar="STEP",
        help="start the discriminator at this step (default: never)",
    )
    parser.add_argument("--validate-every", type=int, default=1000, metavar="N")
    parser.add_argument("--checkpoint-every", type=int, default=250, metavar="N")
    parser.add_argument(
        "--patience", type=int, default=0, metavar="N",
        help="stop after N validations without a lower mel MAE (0: never)",
    )  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    parser.add_argument(
        "--export",
        action="store_true",
        help="only write the codec folder OUT/codec from the run's latest checkpoint (e.g. "
        "while it trains); `drumgrid export` is the Transformer body's torch.export",
    )
    parser.add_argument("--no-progress", action="store_true")  # fmt: skip


def run(args: argparse.Namespace) -> int:

    from drumgrid.server.drum_codec import DrumCodecConfig
    from drumgrid.training.codec.trainer import CodecTrainConfig, CodecTrainer

    if args.steps < 1 or args.batch_size < 1:
        raise UserError("--steps and --batch-size must be at least 1")
    from drumgrid.server.devices import resolve_device

    args.device = str(resolve_device(args.device))
    if args.freeze_encoder and args.init is None:
        raise UserError("--freeze-encoder needs --init DIR: the trained codec whose codes to keep")
    if args.init is not None and args.phase_features:
        raise UserError(
            "--phase-features changes the encoder; --init keeps the trained codec's own "
            "architecture, so pass one or the other"
        )
    if not args.complex_weight >= 0:
        raise UserError(f"--complex-weight must be >= 0, got {args.complex_weight}")
    if args.init is not None:
        from drumgrid.server.drum_codec.folder import read_codec_info

        model_config = read_codec_info(args.init).config
    else:
        model_config = DrumCodecConfig() if args.preset == "default" else DrumCodecConfig.tiny()
        model_config = replace(model_config, phase_features=args.phase_features)
    cfg = replace(
        CodecTrainConfig(),
        steps=args.steps,
        batch_size=args.batch_size,
        segment_s=args.segment,
        lr=args.lr,
        complex_weight=args.complex_weight,
        adversarial_after=args.adversarial_after,
        freeze_encoder=args.freeze_encoder,
        validate_every=args.validate_every,
        checkpoint_every=args.checkpoint_every,
        patience=args.patience,
        seed=args.seed,
    )
    if args.export:
        from drumgrid.training.codec.trainer import export_checkpoint

        folder, step = export_checkpoint(args.out)
        print(f"codec written to {folder} from the checkpoint at step {step}")
        return 0
    if args.corpus is None:
        raise UserError("--corpus DIR is needed to train (only --export works without it)")
    trainer = CodecTrainer(args.corpus, args.out, model_config, cfg, args.device, args.init)
    has_checkpoint = trainer.checkpoint_dir.exists()
    if has_checkpoint and not args.resume:
        raise UserError(
            f"{args.out} already holds a run; pass --resume to continue it or pick a new --out"
        )
    if args.resume and trainer.resume():
        print(f"resuming at step {trainer.step} of {cfg.steps}")
        if note := trainer.data_used.left_out_note():
            print(note)
    result = trainer.run(progress=not args.no_progress)
    print(f"codec written to {args.out / 'codec'} after {result['step']} steps"
          + (" (stopped early)" if result["stopped_early"] else ""))  # fmt: skip
    val = result["validation"]
    if val:
        print("validation: " + ", ".join(f"{k} {v}" for k, v in val.items()))
    return 0
