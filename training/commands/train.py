"""`drumgrid train`: train the grid-to-tokens Transformer on a token cache.

Several GPUs (or CPU processes): `torchrun --nproc-per-node N -m drumgrid.training.cli train
...`; --batch-size is the global batch, split among the processes.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from drumgrid.server.errors import UserError
from drumgrid.training.commands.threads import add_threads_argument, apply_threads
from drumgrid.training.metrics.signals import FLOOR_DB

PRESETS = ("tiny", "medium", "small", "base")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tokens", type=Path, required=True, metavar="DIR",
        help="a token cache from `drumgrid tokenize` (train + validation splits)",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR",
        help="run folder: checkpoint/, log.jsonl and the trained model/",
    )  # fmt: skip
    parser.add_argument(
        "--corpus", type=Path, metavar="DIR",
        help="the corpus with the MIDI files (default: the cache's own)",
    )  # fmt: skip
    parser.add_argument(
        "--extra-tokens", type=Path, action="append", default=[], metavar="DIR",
        help="another token cache of the same codec and kits (e.g. of ring-outs) whose train "
        "split joins training and whose validation split joins the objective, by --extra-share "
        "(repeat for more)",
    )  # fmt: skip
    parser.add_argument(
        "--extra-share", type=float, default=0.1, metavar="F",
        help="share of training windows drawn from --extra-tokens (default 0.1)",
    )  # fmt: skip
    parser.add_argument(
        "--prompt-share", type=float, default=0.0, metavar="F",
        help="train a prompted model: this share of steps renders each window from a prompt "
        "of its kit (another recording of it, or a one-shot prompt) instead of its name",
    )  # fmt: skip
    parser.add_argument(
        "--prompt-seconds", type=float, nargs=2, default=(1.0, 8.0), metavar=("LOW", "HIGH"),
        help="length range of recorded prompts, drawn once per step (default 1 8)",
    )  # fmt: skip
    parser.add_argument(
        "--prompt-mode", choices=("prefix", "pooled"), default="prefix",
        help="how a prompt conditions a window: attended to as a prefix (default), or pooled "
        "into its kit vector",
    )  # fmt: skip
    parser.add_argument(
        "--prompt-groups", type=int, default=4, metavar="G",
        help="a prompted step takes its windows from G kits, each group sharing one prompt "
        "(default 4)",
    )  # fmt: skip
    parser.add_argument(
        "--prompt-shots", type=Path, action="append", default=[], metavar="DIR",
        help="a token cache of one-shot prompts of the same kits (`drumgrid shot-prompts`; "
        "repeat for more, e.g. of the --prompt-kits' kits)",
    )  # fmt: skip
    parser.add_argument(
        "--shot-share", type=float, default=0.25, metavar="F",
        help="share of prompts taken from --prompt-shots (default 0.25)",
    )  # fmt: skip
    parser.add_argument(
        "--prompt-kits", type=Path, metavar="DIR",
        help="a token cache of kits learnt only from prompts, never by name (e.g. kit mixes, "
        "`drumgrid corpus --mixes`): more kits to generalise from",
    )  # fmt: skip
    parser.add_argument(
        "--prompt-kits-share", type=float, default=0.5, metavar="F",
        help="share of prompted groups drawn from --prompt-kits (default 0.5)",
    )  # fmt: skip
    parser.add_argument(
        "--preset", choices=PRESETS,
        help="model size (default: tiny, or the --init model's own)",
    )  # fmt: skip
    parser.add_argument(
        "--init", type=Path, metavar="MODEL",
        help="continue training a trained model folder (RUN/model, or the shipped default's) "
        "with a fresh optimizer and schedule; its card stays in the new model's",
    )  # fmt: skip
    parser.add_argument(
        "--grow-features", action="store_true",
        help="with --init: add the conditioning features this drumgrid computes that the model "
        "lacks (zero weights at first, so it starts as the same model)",
    )  # fmt: skip
    parser.add_argument(
        "--transfer", action="store_true",
        help="with --init: carry a model of another codec (drumgrid-drums to drumgrid-drums-2) "
        "or other kits over to this cache's: kits by name, codes through the codecs' latents, "
        "every conditioning feature grown in",
    )  # fmt: skip
    parser.add_argument(
        "--head-steps", type=int, default=0, metavar="N",
        help="with --init: the first N steps train only what the run starts anew (a "
        "--transfer's code tables, heads and kit table; a new latent head or prompt path), "
        "the carried weights held",
    )  # fmt: skip
    parser.add_argument(
        "--ce-body-grad", type=float, default=1.0, metavar="F",
        help="share of the token heads' cross-entropy gradient that reaches the body (0-1; "
        "default 1): 0 trains the body on the latent head's losses alone, the heads on its "
        "features, so a --transfer's new heads do not rewrite the body they came with",
    )  # fmt: skip
    parser.add_argument(
        "--latent-head", action="store_true",
        help="add a head that regresses the codec's continuous latent; parallel decoding then "
        "quantises its prediction (a codec that exposes its quantiser: drumgrid-drums)",
    )  # fmt: skip
    parser.add_argument(
        "--latent-weight", type=float, default=1.0, metavar="W",
        help="weight of the latent head's loss beside the token cross-entropy",
    )  # fmt: skip
    parser.add_argument(
        "--tail-weight", type=float, default=0.0, metavar="W",
        help="count the latent loss W times more on frames where a cymbal rings with no hit "
        "for about 0.45 s (training/lm/tails.py; default 0: every frame alike)",
    )  # fmt: skip
    parser.add_argument(
        "--full-mask-share", type=float, default=0.0, metavar="F",
        help="share of training windows masked entirely, as parallel decoding (the engine's "
        "default) sees them; the rest follow SoundStorm's mask (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--level-weight", type=float, default=0.0, metavar="W",
        help="add a loss on the level (dB) each frame's predicted latent decodes to, where "
        "the latent's squared error weighs little: quiet tails (a codec that decodes frame "
        "levels: drumgrid-drums; default 0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--mel-weight", type=float, default=0.0, metavar="W",
        help="add a loss on the mel bands (dB) each frame's predicted latent decodes to, the "
        "mel metric's, in units of 10 dB of mean absolute error (the same codecs as "
        "--level-weight; default 0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--level-range", type=float, default=FLOOR_DB, metavar="DB",
        help="how far below each window's loudest frame (mel cell) the level (mel) loss looks "
        "(default %(default)s: the mel metric's floor)",
    )  # fmt: skip
    parser.add_argument(
        "--codec-path", type=Path, metavar="DIR",
        help="the codec the token cache was made with, when not the registry's (latent head)",
    )  # fmt: skip
    for flag, what in (("--dim", "body width"), ("--layers", "body depth"), ("--heads", "heads")):
        parser.add_argument(flag, type=int, metavar="N", help=f"{what} (default: the preset's)")
    parser.add_argument("--steps", type=int, default=20000, metavar="N")
    parser.add_argument("--batch-size", type=int, default=16, metavar="B", help="global batch")
    parser.add_argument("--lr", type=float, default=1e-3, metavar="LR", help="peak learning rate")
    parser.add_argument("--warmup", type=int, default=500, metavar="N", help="warm-up steps")
    parser.add_argument("--window-beats", type=float, default=4.0, metavar="N")
    parser.add_argument("--validate-every", type=int, default=500, metavar="N")
    parser.add_argument("--checkpoint-every", type=int, default=250, metavar="N")
    parser.add_argument(
        "--patience", type=int, default=0, metavar="N",
        help="stop after N validations without a better loss (0: never)",
    )  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    add_threads_argument(parser)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    parser.add_argument(
        "--stop-at", type=int, metavar="N",
        help="stop after step N of the --steps schedule, at a checkpoint (a multiple of "
        "--checkpoint-every); --resume without it goes on",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:

    from drumgrid.training.lm.distributed import init_from_env, shutdown
    from drumgrid.training.lm.trainer import LMTrainConfig, LMTrainer

    if args.steps < 1 or args.batch_size < 1:
        raise UserError(f"--steps and --batch-size must be at least 1, got {args.steps}, "
                        f"{args.batch_size}")  # fmt: skip
    if args.lr <= 0:
        raise UserError(f"--lr must be positive, got {args.lr}")
    if args.grow_features and args.init is None:
        raise UserError("--grow-features adds inputs to an --init model; pass --init MODEL")
    if args.transfer and args.init is None:
        raise UserError("--transfer carries an --init model over; pass --init MODEL")
    if args.head_steps and args.init is None:
        raise UserError("--head-steps holds an --init model's weights at first; pass --init MODEL")
    if not 0 <= args.head_steps < args.steps:
        raise UserError(f"--head-steps {args.head_steps}: expected 0 to --steps - 1")
    for flag in ("latent_weight", "tail_weight", "level_weight", "mel_weight"):
        if not getattr(args, flag) >= 0:
            raise UserError(f"--{flag.replace('_', '-')} must be >= 0, got {getattr(args, flag)}")
    if not args.level_range > 0:
        raise UserError(f"--level-range must be above 0 dB, got {args.level_range}")
    if not 0.0 <= args.ce_body_grad <= 1.0:
        raise UserError(f"--ce-body-grad {args.ce_body_grad}: expected 0 to 1")
    if not 0.0 <= args.full_mask_share <= 1.0:
        raise UserError(f"--full-mask-share {args.full_mask_share}: expected 0 to 1")
    apply_threads(args.threads)
    sizes = {"dim": args.dim, "n_layers": args.layers, "n_heads": args.heads}
    overrides = {k: v for k, v in sizes.items() if v is not None}
    if args.prompt_mode != "prefix":
        overrides["prompt_mode"] = args.prompt_mode
    from drumgrid.server.devices import resolve_device

    args.device = str(resolve_device(args.device))
    cfg = replace(
        LMTrainConfig(),
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=min(args.warmup, max(1, args.steps // 10)),
        window_beats=args.window_beats,
        validate_every=args.validate_every,
        checkpoint_every=args.checkpoint_every,
        patience=args.patience,
        seed=args.seed,
        latent_weight=args.latent_weight,
        tail_weight=args.tail_weight,
        level_weight=args.level_weight,
        mel_weight=args.mel_weight,
        level_range_db=args.level_range,
        full_mask_share=args.full_mask_share,
        head_steps=args.head_steps,
        ce_body_grad=args.ce_body_grad,
        extra_share=args.extra_share if args.extra_tokens else 0.0,
        prompt_share=args.prompt_share,
        prompt_seconds=tuple(args.prompt_seconds),
        prompt_groups=args.prompt_groups,
        shot_share=args.shot_share if args.prompt_shots else 0.0,
        prompt_kits_share=args.prompt_kits_share if args.prompt_kits else 0.0,
    )
    if args.stop_at is not None and (args.stop_at < 1 or args.stop_at % args.checkpoint_every):
        raise UserError(f"--stop-at {args.stop_at}: expected a positive multiple of "
                        f"--checkpoint-every {args.checkpoint_every}, so the run stops at a "
                        "checkpoint")  # fmt: skip
    preset = args.preset or "tiny"
    if args.init is not None and args.preset is None:
        from drumgrid.server.model import read_info

        preset = read_info(args.init).config.preset or preset
    device = init_from_env(args.device)
    try:
        trainer = LMTrainer(
            args.tokens, args.out, cfg, preset, device, args.corpus, overrides, args.init,
            args.latent_head, args.codec_path, args.grow_features, tuple(args.extra_tokens),
            tuple(args.prompt_shots), args.prompt_kits, args.transfer,
        )  # fmt: skip
        if trainer.checkpoint_dir.exists() and not args.resume:
            raise UserError(
                f"{args.out} already holds a run; pass --resume to continue it or pick a new --out"
            )
        if args.resume and trainer.resume() and trainer.rank == 0:
            print(f"resuming at step {trainer.step} of {cfg.steps}")
            if note := trainer.data_used.left_out_note():
                print(note)
        result = trainer.run(progress=not args.no_progress, until=args.stop_at)
    finally:
        shutdown()
    if trainer.rank == 0:
        print(f"model written to {trainer.model_dir} after {result['step']} steps"
              + (" (stopped early)" if result["stopped_early"] else ""))  # fmt: skip
        val = result["validation"]
        if val:
            print(f"validation: loss {val['loss']:.4f}, token acc {val['token_acc']:.4f} "
                  f"(frequency baseline {val['baseline_acc']:.4f})")  # fmt: skip
    return 0
