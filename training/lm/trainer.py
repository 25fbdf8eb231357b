"""The Transformer's trainer: SoundStorm masking, cross-entropy on masked tokens, AdamW with
warm-up and cosine decay, gradient clipping, bf16 autocast on CUDA, DDP under torchrun, and
validation by masked loss and the seed paper's token accuracy. The step loop, its log,
checkpoints, resume and early stopping are training/loop.py's.

DDP: every process builds the same global batch and masks from (seed, step) and trains on
its contiguous share. The loss is each process's sum of token losses divided by the global
token count, times the world size (DDP averages gradients), so the gradients, and so the
loss curve, equal those of one process with the whole batch.

Files under --out: checkpoint/ (training state, for --resume), model/ (the model folder:
the best by validation loss, or the last without a validation split), log.jsonl.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from drumgrid.server.conditioning import FEATURE_NAMES
from drumgrid.server.engine.models import load_model_codec
from drumgrid.server.errors import UserError
from drumgrid.server.model import (
    DrumLM,
    LMConfig,
    ModelInfo,
    build_model,
    load_model,
    read_info,
    save_model,
)
from drumgrid.server.model.folder import DAMAGED
from drumgrid.server.model.modules import PromptMemory, level_major
from drumgrid.training.checkpoint import (
    flatten_optimizer,
    prefixed,
    restore_optimizer,
    unprefixed,
)
from drumgrid.training.kits.records import voiced_mixes
from drumgrid.training.lm.data import (
    LMBatch,
    PromptBatch,
    PromptSampler,
    Track,
    WindowSampler,
    collate,
    corpus_root,
    fixed_windows,
    load_tracks,
    max_window_frames,
)
from drumgrid.training.lm.decoded import LEVEL_UNIT_DB, DecodedErrors
from drumgrid.training.lm.growth import deepen, widen_columns
from drumgrid.training.lm.masking import soundstorm_mask
from drumgrid.training.lm.tails import TailFrames
from drumgrid.training.lm.transfer import code_agreement, code_counts, transfer_state
from drumgrid.training.loop import TrainingLoop, rank_and_world
from drumgrid.training.metrics.signals import FLOOR_DB
from drumgrid.training.pinned import PinnedData
from drumgrid.training.schedule import warmup_cosine
from drumgrid.training.tokens import TokenCache

LATENT_SUMS = (
    "frames", "tails", "error", "weighted", "tail_error", "level", "level_weighted", "tail_level",
    "mel", "mel_weighted", "tail_mel",
)  # fmt: skip


@dataclass(frozen=True)
class LMTrainConfig:
    steps: int = 20000
    batch_size: int = 16  # global, over all processes
    lr: float = 1e-3
    warmup_steps: int = 500
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.98)
    grad_clip: float = 1.0
    window_beats: float = 4.0
    max_frames: int = 0  # 0: the longest window the training files give
    prompt_prob: float = 0.1  # share of items trained with a known prefix (continuation)
    # Share of items masked entirely, parallel decoding's input (training/lm/masking.py).
    full_mask_share: float = 0.0
    validate_every: int = 500
    checkpoint_every: int = 250
    val_windows: int = 64
    val_batch_size: int = 16
    patience: int = 0  # validations without a better loss before stopping; 0: never stop
    seed: int = 0
    # Weight of the latent head's loss (a model with one): mean squared error to the codec's
    # quantised latent over the frames with a masked token, divided by the latent's variance.
    latent_weight: float = 1.0
    # Extra weight of the latent loss on tail frames (training/lm/tails.py): a frame there
    # counts 1 + tail_weight times. 0: every frame alike.
    tail_weight: float = 0.0
    # Weight of the level loss (a latent head on a codec that decodes frame levels): the
    # squared dB error of the level each frame's predicted latent decodes to, in units of
    # LEVEL_UNIT_DB, over the same frames and tail weights as the latent loss. 0: none.
    level_weight: float = 0.0
    # Weight of the mel loss (the same codecs): the mean absolute dB error of the mel metric's
    # bands each frame's predicted latent decodes to, in LEVEL_UNIT_DB, over the same frames
    # and tail weights. 0: none.
    mel_weight: float = 0.0
    # How far below each window's loudest frame (mel cell) the level (mel) loss looks: by
    # default as far as the mel metric does (its floor), so a tail ringing on 70 dB down is
    # not free.
    level_range_db: float = FLOOR_DB
    # Share of training windows drawn from the extra token caches (e.g. ring-outs), whatever
    # their length beside the main cache's; 0 without extras. Their validation splits count as
    # much in the validation objective.
    extra_share: float = 0.0
    # Share of steps whose windows render from a prompt of their kit (another recording of
    # it, or a one-shot prompt) instead of its name: > 0 trains a prompted model.
    prompt_share: float = 0.0
    prompt_seconds: tuple[float, float] = (1.0, 8.0)  # recorded prompts' lengths, one per step
    shot_share: float = 0.0  # share of prompts that are one-shot prompts (--prompt-shots)
    val_prompt_seconds: float = 6.0  # the validation windows' prompts
    # A prompted step draws its windows from this many kits, batch / groups of each, and each
    # group shares one prompt: the prompt's pass costs 1 / (batch / groups) per window.
    prompt_groups: int = 4
    # Share of a prompted step's groups drawn from the kits learnt only from prompts
    # (--prompt-kits, e.g. kit mixes); 0 without them.
    prompt_kits_share: float = 0.0
    # Steps at the start of an --init run that train only what it starts anew (a --transfer's
    # code tables, output heads and kit table, a gained latent head or prompt path), the
    # carried weights held: a fresh head's large early gradients would otherwise rewrite the
    # body it was carried with (trained whole from step one, the transferred default lost 0.3
    # ViSQOL on its own kits in 1000 steps: docs/prompting.md). 0: everything trains at once.
    head_steps: int = 0
    # Share of the token heads' cross-entropy gradient that reaches the body, conditioning and
    # code tables (1: all). Below 1 the body learns mostly from the latent losses, which a
    # --transfer's carried body already meets, while the heads, laid out anew at
    # cross-entropy 10, learn on its features: their gradients no longer rewrite it.
    ce_body_grad: float = 1.0


def masked_sum(
    err: torch.Tensor, frames: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Sum of a per-frame error [B, T] over `frames` [B, T], each weighted by `weight`."""
    if weight is not None:
        err = err * weight.to(err.device)
    return err[frames.to(err.device)].sum()


def _all_sum(values: list[float], device: torch.device) -> list[float]:
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if rank_and_world()[1] > 1:
        dist.all_reduce(t)
    return t.tolist()


def selected_cross_entropy(
    logits: torch.Tensor,  # [N, V] the scored tokens' logits
    targets: torch.Tensor,  # [N] int64
) -> tuple[torch.Tensor, torch.Tensor]:  # (sum of token losses, correct argmax count)
    logits = logits.float()
    loss = F.cross_entropy(logits, targets, reduction="sum")
    correct = (logits.argmax(-1) == targets).sum()
    return loss, correct


def decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on matrices only: not on norms, biases, or the token / kit tables."""
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        skip = p.ndim < 2 or "tables" in name or "embedding" in name or "bias" in name
        (no_decay if skip else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


class LMTrainer(TrainingLoop[LMTrainConfig]):
    desc = "train"
    shown = ("loss", "acc")

    def __init__(
        self,
        tokens: str | Path,
        out: str | Path,
        cfg: LMTrainConfig,
        preset: str = "tiny",
        device: str = "cpu",
        corpus: str | Path | None = None,
        model_overrides: dict[str, Any] | None = None,
        init: str | Path | None = None,
        latent_head: bool = False,
        codec_path: str | Path | None = None,
        grow_features: bool = False,
        extra_tokens: tuple[str | Path, ...] = (),
        prompt_shots: str | Path | Sequence[str | Path] | None = None,
        prompt_kits: str | Path | None = None,
        transfer: bool = False,
    ) -> None:
        """`init`: a trained model folder to continue from (its weights, a fresh optimizer and
        learning-rate schedule) instead of random weights; its card is kept in the new
        model's card as the stage before this one. `latent_head`: add a head that regresses
        the codec's latent (the codec, from the registry or `codec_path`, gives the targets);
        an `init` model without one gets a new one. The conditioning: every feature this
        drumgrid computes for a new model, the `init` model's own unless `grow_features` (the
        ones it lacks are added at zero weight). `extra_tokens`: more token caches of the same
        codec and kits whose train splits give cfg.extra_share of the training windows.
        `prompt_shots`: token caches of one-shot prompts of the same kits, named or
        prompt-only (their train splits), for cfg.shot_share of the prompts of a prompted
        model (cfg.prompt_share > 0).
        `prompt_kits`: a token cache of kits the model learns only from prompts (kit mixes:
        no name, never a named step), cfg.prompt_kits_share of the prompted groups.
        `transfer`: the `init` model may speak another codec's tokens and know other kits
        (training/lm/transfer.py); it gains every feature, as with `grow_features`."""
        super().__init__(out, cfg)
        self.device = torch.device(device)
        if cfg.batch_size % self.world:
            raise UserError(
                f"--batch-size {cfg.batch_size} must divide among {self.world} processes"
            )
        self.data_used = PinnedData(self.out, resuming=self.checkpoint_dir.exists())
        self.cache = self.data_used.open_cache("tokens", tokens)
        root = corpus_root(self.cache, corpus)
        self.kits = sorted({e.kit for e in self.cache})
        train_entries = self.cache.select(split="train")
        if not train_entries:
            raise UserError(f"{tokens}: no entries with split 'train'")
        init_info = read_info(init) if init is not None else None
        self.transfer = transfer
        grow_features = grow_features or transfer
        self.features = (
            init_info.features if init_info is not None and not grow_features else FEATURE_NAMES
        )
        self.train_tracks = load_tracks(self.cache, train_entries, self.kits, root, self.features)
        self.extra_caches = [
            self._open_extra(Path(p), f"extra:{Path(p).resolve()}") for p in extra_tokens
        ]
        extra_tracks = [
            track
            for extra in self.extra_caches
            for track in load_tracks(
                extra, extra.select(split="train"), self.kits, corpus_root(extra), self.features
            )
        ]
        self.prompt_kit_cache = self._open_prompt_kits(Path(prompt_kits)) if prompt_kits else None
        self.prompt_only_kits = (
            sorted({e.kit for e in self.prompt_kit_cache}) if self.prompt_kit_cache else []
        )
        prompt_kit_tracks = []
        self.prompt_kits_voiced = False  # its corpus's mixes voiced (read once, for the card)
        if self.prompt_kit_cache is not None:
            c = self.prompt_kit_cache
            self.prompt_kits_voiced = voiced_mixes(Path(c.meta.get("source", "")))
            prompt_kit_tracks = load_tracks(
                c, c.select(split="train"), self.kits + self.prompt_only_kits, corpus_root(c),
                self.features,
            )  # fmt: skip
        self.val_tracks = load_tracks(
            self.cache, self.cache.select(split="validation"), self.kits, root, self.features
        )
        max_frames = cfg.max_frames or max_window_frames(self.train_tracks, cfg.window_beats)
        self.sampler = WindowSampler(
            self.train_tracks + extra_tracks + prompt_kit_tracks, cfg.window_beats, max_frames,
            cfg.seed, groups=self._groups(len(self.train_tracks), len(extra_tracks),
                                          len(prompt_kit_tracks)),
        )  # fmt: skip
        self.n_main = len(self.train_tracks)
        if isinstance(prompt_shots, str | Path):
            prompt_shots = [prompt_shots]
        self.shot_caches = [  # the first under the role it has always had in data_used.json
            self._open_shots(
                Path(p), "prompt_shots" if i == 0 else f"prompt_shots:{Path(p).resolve()}"
            )
            for i, p in enumerate(prompt_shots or ())
        ]
        if self.rank == 0:
            self.data_used.write()
        self.prompts, self.val_prompts = self._prompt_samplers()
        self.train_tracks += extra_tracks + prompt_kit_tracks
        self.val_windows = fixed_windows(self.val_tracks, cfg.window_beats, cfg.val_windows)
        # The extras' validation splits: scored beside the main one and weighed into the
        # objective by their share of training windows, so the model is chosen by what it is
        # trained on (a tail the extras teach barely moves the grooves' loss).
        self.extra_val_tracks = [
            track
            for extra in self.extra_caches
            for track in load_tracks(
                extra, extra.select(split="validation"), self.kits, corpus_root(extra),
                self.features,
            )
        ]  # fmt: skip
        self.extra_val_windows = fixed_windows(
            self.extra_val_tracks, cfg.window_beats, cfg.val_windows
        )
        meta = self.cache.meta
        overrides = {**(model_overrides or {}), "n_features": len(self.features)}
        self.prompted = cfg.prompt_share > 0 or bool(init_info and init_info.config.prompted)
        if self.prompted:
            overrides["prompted"] = True
        self.codec = None
        if latent_head or (init_info is not None and init_info.config.latent_dim):
            self.codec = self.cache.load_codec(codec_path)
            if self.codec.latent_dim is None:
                raise UserError(
                    f"a latent head needs a codec that exposes its quantiser's latent; "
                    f"{self.codec.id} does not (drumgrid-drums does)"
                )
            overrides["latent_dim"] = self.codec.latent_dim
        try:
            self.model_config = LMConfig.preset_config(
                preset,
                n_codebooks=int(meta["n_codebooks"]),
                codebook_size=int(meta["codebook_size"]),
                n_kits=len(self.kits),
                # An --init model keeps its longest window (what the engine renders in), also
                # where this run's data gives shorter ones (rotary positions: no weights).
                max_frames=max(max_frames, init_info.config.max_frames if init_info else 0),
                **overrides,
            )
        except ValueError as exc:  # e.g. windows of --window-beats at the slowest tempo
            hint = "; lower --window-beats" if "max_frames" in str(exc) else ""
            raise UserError(f"model config: {exc}{hint}") from None
        torch.manual_seed(cfg.seed)
        self.model: DrumLM = build_model(self.model_config).to(self.device)
        self.grown_from_layers: int | None = None  # an --init model's blocks, where it grew
        self.transferred: dict[str, Any] | None = None  # what --transfer carried over
        self.fresh_params: set[str] = set()  # what an --init run starts anew (head_steps)
        self.init_card = self._load_init(Path(init)) if init is not None else None
        self.ddp: torch.nn.Module = self.model
        if self.world > 1:
            self.ddp = torch.nn.parallel.DistributedDataParallel(
                self.model,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=self.prompted,  # a named step leaves the prompt's unused
            )
        self.optimizer = torch.optim.AdamW(
            decay_groups(self.model, cfg.weight_decay), lr=cfg.lr, betas=cfg.betas
        )
        self.baseline_acc = self._frequency_baseline()
        self.latent_var = self._latent_variance() if self.codec is not None else None
        self.tail_frames = TailFrames(self.features) if cfg.tail_weight else None
        self.decoded_weights = {
            name: w for name, w in (("level", cfg.level_weight), ("mel", cfg.mel_weight)) if w
        }
        if cfg.ce_body_grad < 1 and self.codec is None:
            raise UserError(f"--ce-body-grad {cfg.ce_body_grad}: the body then learns from the "
                            "latent head's loss; train one with --latent-head (or --init a "
                            "model that has one)")  # fmt: skip
        flags = {"--tail-weight": cfg.tail_weight}
        flags.update({f"--{name}-weight": w for name, w in self.decoded_weights.items()})
        for flag, on in flags.items():
            if on and self.codec is None:
                raise UserError(f"{flag} weights the latent head's loss; train one with "
                                "--latent-head (or --init a model that has one)")  # fmt: skip
        self.decoded: DecodedErrors | None = None
        if self.codec is not None and self.decoded_weights:
            names = tuple(self.decoded_weights)
            self.decoded = DecodedErrors(self.codec, cfg.level_range_db, names,
                                         f"--{names[0]}-weight")  # fmt: skip

    def _load_init(self, folder: Path) -> dict[str, Any]:
        trained, info = load_model(folder)
        what = f"--init {folder}"
        # A model without a latent head may gain one, one trained before a conditioning
        # feature existed gains its columns, one may gain blocks (training/lm/growth.py: it
        # starts as the same function), and other windows are no new weights (rotary
        # positions). A --transfer model may also know other kits and another codec's
        # tokens (training/lm/transfer.py). Everything else must match.
        gains_head = not info.config.latent_dim and self.model_config.latent_dim
        gains_prompts = not info.config.prompted and self.model_config.prompted
        old_layers, new_layers = info.config.n_layers, self.model_config.n_layers
        grown = info.config.with_(
            latent_dim=self.model_config.latent_dim,
            n_features=self.model_config.n_features,
            prompted=self.model_config.prompted,
            max_frames=max(info.config.max_frames, self.model_config.max_frames),
            n_layers=max(old_layers, new_layers),
            n_kits=self.model_config.n_kits if self.transfer else info.config.n_kits,
        )
        if grown != self.model_config or (
            info.config.latent_dim and not self.model_config.latent_dim
        ):
            raise UserError(
                f"{what}: its model ({info.config.to_dict()}) differs from the one this run "
                f"builds ({self.model_config.to_dict()}); pass --preset {info.config.preset} "
                "(--layers may add blocks) and a token cache with the same windows"
            )
        hash_here = str(self.cache.meta["config_hash"])
        same_codec = (info.codec_id, info.codec_config_hash) == (self.cache.codec_id, hash_here)
        if self.transfer:
            if same_codec and info.kits == tuple(self.kits):
                raise UserError(f"{what} --transfer: the model already speaks {info.codec_id} "
                                "and knows these kits; continue it with --init alone")  # fmt: skip
        elif info.kits != tuple(self.kits):
            raise UserError(
                f"{what} knows the kits {', '.join(info.kits)}, {self.cache.root} has "
                f"{', '.join(self.kits)}; continue training on a cache of the same kits, or "
                "pass --transfer to carry the model over to them"
            )
        elif not same_codec:
            raise UserError(
                f"{what} predicts tokens of {info.codec_id} ({info.codec_config_hash}), "
                f"{self.cache.root} holds {self.cache.codec_id} ({hash_here}); use a cache "
                "made with the model's codec, or pass --transfer to carry the model over to it"
            )
        self.grown_from_layers = old_layers if new_layers > old_layers else None
        state = deepen(trained.state_dict(), old_layers, new_layers)
        state["cond_proj.weight"] = widen_columns(
            state["cond_proj.weight"], info.features, self.features
        )
        if self.transfer:
            self.transferred, changed = self._transfer(folder, info, state, same_codec)
            self.fresh_params.update(changed)
        missing, _ = self.model.load_state_dict(state, strict=not (gains_head or gains_prompts))
        new = ("body.latent_head.", "prompt_kit", "prompt_tag")
        if any(not k.startswith(new) for k in missing):
            raise UserError(f"{what}: weights {missing} missing; {DAMAGED}")
        self.fresh_params.update(missing)
        if self.cfg.head_steps and not self.fresh_params:
            raise UserError(f"--head-steps {self.cfg.head_steps}: {what} starts nothing anew "
                            "(no --transfer, no new head); drop --head-steps")  # fmt: skip
        return {**info.card, "path": str(folder)}

    def _transfer(
        self, folder: Path, info: ModelInfo, state: dict[str, torch.Tensor], same_codec: bool
    ) -> tuple[dict[str, Any], list[str]]:
        """Lays `state` (the --init model's) out for this run's kits and codec in place; (what
        carried over, for the card; the entries it laid out anew)."""
        if self.codec is None:
            raise UserError("--transfer maps codes through the codecs' latents; it carries a "
                            "model with a latent head (train one with --latent-head)")  # fmt: skip
        old_codec = (
            self.codec if same_codec else load_model_codec(folder, info, None, str(self.device))
        )
        if (old_codec.latent_dim, old_codec.n_codebooks) != (
            self.codec.latent_dim,
            self.codec.n_codebooks,
        ):
            raise UserError(
                f"--transfer: {info.codec_id}'s latent ({old_codec.latent_dim} wide, "
                f"{old_codec.n_codebooks} levels) is not {self.codec.id}'s "
                f"({self.codec.latent_dim}, {self.codec.n_codebooks}); a model carries over "
                "only between codecs of one latent (drumgrid-drums and drumgrid-drums-2)"
            )
        counts = None  # the same codec: each code stays itself
        if not same_codec:
            counts = code_counts(self.codec, old_codec, [t.tokens for t in self.train_tracks])
        changed, carried = transfer_state(state, self.model.state_dict(), counts, info.kits,
                                          self.kits)  # fmt: skip
        state.update(changed)
        return {
            "from_codec": info.codec_id,
            "kits_carried": carried,
            "code_agreement": code_agreement(counts) if counts is not None else None,
        }, list(changed)

    # -- data --------------------------------------------------------------------------------

    def _frequency_baseline(self) -> float | None:
        """Validation accuracy of always guessing each level's most frequent train token."""
        if not self.val_tracks:
            return None
        V = self.model_config.codebook_size
        K = self.model_config.n_codebooks
        counts = np.zeros((K, V), np.int64)
        for t in self.train_tracks:
            for k in range(K):
                counts[k] += np.bincount(t.tokens[k].astype(np.int64), minlength=V)
        mode = counts.argmax(1)  # [K]
        hits = sum(int((t.tokens == mode[:, None]).sum()) for t in self.val_tracks)
        total = sum(t.tokens.size for t in self.val_tracks)
        return hits / total

    def _latent_variance(self, n_tracks: int = 64) -> float:
        """Mean per-dimension variance of the codec's latent over a fixed sample of training
        tracks: the latent loss's unit, so its weight means the same for any codec."""
        assert self.codec is not None
        step = max(1, len(self.train_tracks) // n_tracks)
        sample = [t.tokens for t in self.train_tracks[::step][:n_tracks]]
        z = torch.cat([self.codec.latents(torch.from_numpy(np.asarray(t, np.int64))[None])[0]
                       for t in sample])  # fmt: skip
        return float(z.var(0).mean())

    def _open_same_codec(self, role: str, path: Path) -> TokenCache:
        """Another cache of the main cache's codec with a train split (refused otherwise), as
        the run first saw it."""
        codec_hash = str(self.cache.meta["config_hash"])
        other = self.data_used.open_cache(
            role, path, codec_id=self.cache.codec_id, config_hash=codec_hash
        )
        if not other.select(split="train"):
            raise UserError(f"{path}: no entries with split 'train'")
        return other

    def _open_prompt_kits(self, path: Path) -> TokenCache:
        """The prompt-only kits' cache: the main cache's codec, kits the model has no name
        for, a train split; only for a prompted model."""
        if not self.cfg.prompt_share:
            raise UserError("--prompt-kits trains kits from prompts alone: it needs --prompt-share")
        if not 0.0 < self.cfg.prompt_kits_share <= 1.0:
            raise UserError(f"--prompt-kits-share {self.cfg.prompt_kits_share}: expected a "
                            "fraction above 0, at most 1")  # fmt: skip
        cache = self._open_same_codec("prompt_kits", path)
        named = sorted({e.kit for e in cache} & set(self.kits))
        if named:
            raise UserError(f"{path}: kits {', '.join(named)} are named kits of {self.cache.root}; "
                            "prompt-only kits need names of their own")  # fmt: skip
        return cache

    def _open_shots(self, path: Path, role: str) -> TokenCache:
        """One-shot prompts: the main cache's codec, of its kits or the prompt-only kits."""
        return self._open_of_kits(
            role, path, {*self.kits, *self.prompt_only_kits},
            "one-shot prompts of kits {}, which this run neither names nor learns from prompts",
        )  # fmt: skip

    def _open_extra(self, path: Path, role: str) -> TokenCache:
        """An extra cache: the main cache's codec, kits among its kits, a train split."""
        return self._open_of_kits(
            role, path, set(self.kits),
            f"kits {{}} are not in {self.cache.root} ({', '.join(self.kits)}); render the "
            "extra corpus through the same kits",
        )  # fmt: skip

    def _open_of_kits(self, role: str, path: Path, kits: set[str], unknown: str) -> TokenCache:
        """Another cache of the main cache's codec whose kits are all among `kits`; else
        `unknown`, its {} filled with the others."""
        cache = self._open_same_codec(role, path)
        others = sorted({e.kit for e in cache} - kits)
        if others:
            raise UserError(f"{path}: " + unknown.replace("{}", ", ".join(others), 1))
        return cache

    def _prompt_samplers(self) -> tuple[PromptSampler, PromptSampler | None]:
        """Prompts of the main cache's kits for training, and for validation."""
        cfg = self.cfg
        if not 0.0 <= cfg.prompt_share <= 1.0 or not 0.0 <= cfg.shot_share <= 1.0:
            raise UserError("--prompt-share and --shot-share: expected fractions from 0 to 1")
        groups = cfg.prompt_groups
        if cfg.prompt_share and (groups < 1 or cfg.batch_size % groups or groups % self.world):
            raise UserError(
                f"--prompt-groups {groups}: expected a divisor of --batch-size "
                f"{cfg.batch_size} that {self.world} processes can share"
            )
        lo, hi = cfg.prompt_seconds
        if not 0 < lo <= hi:
            raise UserError(f"--prompt-seconds {lo} {hi}: expected 0 < LOW <= HIGH")
        shots: list[Track] = []
        if not self.shot_caches and cfg.shot_share:
            raise UserError("a one-shot share needs one-shot prompts (--prompt-shots)")
        for c in self.shot_caches:
            kits = self.kits + self.prompt_only_kits
            shots += load_tracks(c, c.select(split="train"), kits, corpus_root(c), self.features)
        val = PromptSampler(self.val_tracks, (lo, hi)) if self.val_tracks else None
        # Prompts come from the main cache's tracks and the prompt-only kits', not the extras.
        tracks, n_main = self.sampler.tracks, len(self.train_tracks)
        usable = [i for i, t in enumerate(tracks) if i < n_main or t.kit >= len(self.kits)]
        named = None  # the kits that need one-shot prompts: every kit, or only the named ones
        if self.prompt_only_kits:
            named = sorted({tracks[i].kit for i in usable if tracks[i].kit < len(self.kits)})
        train = PromptSampler(tracks, (lo, hi), shots, cfg.shot_share, usable, named)
        return train, val

    def _groups(
        self, n_main: int, n_extra: int, n_prompt_kits: int
    ) -> list[tuple[int, float]] | None:
        """The window draw's groups: the extras their share; the prompt-only kits' tracks
        none (a plain draw never takes them; a prompted group of their kit does)."""
        share = self.cfg.extra_share
        if not n_extra and share:
            raise UserError("an extra share needs extra token caches (--extra-tokens)")
        if n_extra and not 0.0 < share < 1.0:
            raise UserError(f"--extra-share {share}: expected a fraction between 0 and 1")
        groups = [(n_main, 1.0 - share)] + ([(n_extra, share)] if n_extra else [])
        if n_prompt_kits:
            groups.append((n_prompt_kits, 0.0))
        return groups if len(groups) > 1 else None

    def latent_targets(self, tokens: torch.Tensor) -> torch.Tensor:  # [B, K, T] -> [B, T, L]
        assert self.codec is not None
        return self.codec.latents(tokens.cpu()).to(self.device)

    def _local(self, batch: LMBatch) -> slice:
        share = len(batch) // self.world
        return slice(self.rank * share, (self.rank + 1) * share)

    # -- checkpoints -------------------------------------------------------------------------

    @property
    def model_dir(self) -> Path:
        return self.out / "model"

    def checkpoint_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = prefixed("model", self.model.state_dict())
        opt_t, opt_meta = flatten_optimizer("adamw", self.optimizer)
        tensors.update(opt_t)
        return tensors, {"model": self.model_config.to_dict(), "optim": opt_meta}

    def restore(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        theirs, mine = meta["model"], self.model_config.to_dict()
        if theirs != mine:
            fix = "use a new --out"
            if {k for k in mine if mine[k] != theirs.get(k)} == {"n_features"}:
                fix = (f"it reads {theirs['n_features']} conditioning columns, this run "
                       f"{mine['n_features']}: resume with the flags it started with "
                       "(--grow-features, if it grew them)")  # fmt: skip
            raise UserError(
                f"{self.checkpoint_dir}: the checkpoint's model config differs from this run's "
                f"({theirs} vs {mine}); {fix}"
            )
        self.model.load_state_dict(unprefixed("model", tensors))
        restore_optimizer("adamw", self.optimizer, tensors, meta["optim"])

    def model_info(self, card: dict[str, Any]) -> ModelInfo:
        return ModelInfo(
            config=self.model_config,
            codec_id=self.cache.codec_id,
            codec_config_hash=str(self.cache.meta["config_hash"]),
            frame_rate=self.cache.frame_rate,
            kits=tuple(self.kits),
            window_beats=self.cfg.window_beats,
            features=self.features,
            card=card,
        )

    def data_card(self, validation: dict[str, Any]) -> dict[str, Any]:
        named_tracks = [t for t in self.train_tracks if t.kit < len(self.kits)]  # not mixes
        return {
            "token_cache": str(self.cache.root),
            "corpus": str(self.cache.meta.get("source", "")),
            "extra_token_caches": [str(c.root) for c in self.extra_caches],
            "extra_corpora": [str(c.meta.get("source", "")) for c in self.extra_caches],
            "prompt_shots": [str(c.root) for c in self.shot_caches],
            "prompt_kits": None
            if self.prompt_kit_cache is None
            else {
                "token_cache": str(self.prompt_kit_cache.root),
                "kits": len(self.prompt_only_kits),
                "files": len(self.train_tracks) - len(named_tracks),
                "voiced": self.prompt_kits_voiced,
            },
            "train_files": len(named_tracks),
            "validation_files": len(self.val_tracks),
            "train_hours": round(
                sum(t.n_frames for t in named_tracks) / self.cache.frame_rate / 3600, 3
            ),
            "steps": self.step,
            "train_seconds": round(self.elapsed_s),
            "processes": self.world,
            "train": asdict(self.cfg),
            "validation": validation,
            "init": self.init_card,
            "layers": self.model_config.n_layers,
            "grown_from_layers": self.grown_from_layers,
            "transfer": self.transferred,
        }

    def export_model(self, validation: dict[str, Any]) -> None:
        save_model(self.model_dir, self.model, self.model_info(self.data_card(validation)))

    def improved(self, validation: dict[str, Any]) -> None:
        self.export_model(validation)  # model/ holds the best model by validation loss

    def finish(self, validation: dict[str, Any]) -> None:
        if not self.val_windows:
            self.export_model({})  # nothing to choose by: the last model

    # -- training ----------------------------------------------------------------------------

    def train_step(self) -> dict[str, float]:
        cfg, V = self.cfg, self.model_config.codebook_size
        kits = self._prompted_kits()
        windows = self.sampler.windows(self.step, cfg.batch_size, kits)  # global, every rank
        batch = collate(self.sampler.tracks, windows, self.sampler.max_frames)
        prompt = self._step_prompt(kits, windows) if kits else None
        m = soundstorm_mask(
            batch.tokens, batch.pad_mask, V, self.sampler.generator(self.step, 1), cfg.prompt_prob,
            cfg.full_mask_share,
        )  # fmt: skip
        n_global = int(m.loss_mask.sum())
        local = self._local(batch)
        b = batch.select(local).to(self.device)
        inputs, loss_mask = m.inputs[local].to(self.device), m.loss_mask[local].to(self.device)
        lr = warmup_cosine(self.step, cfg.lr, cfg.warmup_steps, cfg.steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        # Dropout draws keyed by (seed, step, rank): a resumed run redraws the same ones.
        torch.manual_seed((cfg.seed * 1_000_003 + self.step) * 1009 + self.rank)
        latent = self.codec is not None
        logs: dict[str, float] = {}
        kit = b.kit if prompt is None else None
        prompt_args = None
        if prompt is not None:  # the groups of this rank's windows
            groups = len(prompt.pad) // self.world
            mine = slice(self.rank * groups, (self.rank + 1) * groups)
            prompt_args = prompt.select(mine).to(self.device).args()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            out = self.ddp(
                inputs, b.features, kit, b.pad_mask, loss_mask, with_latent=latent,
                prompt=prompt_args, head_grad=cfg.ce_body_grad,
            )  # fmt: skip
        logits, pred = out if latent else (out, None)  # [N, V], [B, T, L]
        loss_sum, correct = selected_cross_entropy(logits, level_major(b.tokens, loss_mask))
        loss = loss_sum / max(1, n_global) * self.world
        latent_sum = torch.zeros(())
        decoded_sums = {name: torch.zeros(()) for name in ("level", "mel")}
        if pred is not None:
            frames = m.loss_mask.any(1) & ~batch.pad_mask  # [B, T], the global batch's
            n_frames = int(frames.sum())
            weight = None
            if self.tail_frames is not None:
                tails = self.tail_frames(b.features)  # [B_local, T]
                weight = 1.0 + cfg.tail_weight * tails.float()
                logs["tail_share"] = float(tails[frames[local].to(tails.device)].float().mean())
            target = self.latent_targets(b.tokens)
            latent_sum = masked_sum(self.latent_error(pred, target), frames[local], weight)
            loss = loss + cfg.latent_weight * latent_sum / max(1, n_frames) * self.world
            if self.decoded is not None:
                for name, error in self.decoded(pred, target, ~b.pad_mask).items():
                    decoded_sums[name] = masked_sum(error, frames[local], weight)
                    w = self.decoded_weights[name]
                    loss = loss + w * decoded_sums[name] / max(1, n_frames) * self.world
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.step < cfg.head_steps:  # AdamW leaves a parameter without a gradient as it is
            for name, p in self.model.named_parameters():
                if name not in self.fresh_params:
                    p.grad = None
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        total_loss, total_correct, total_latent, total_level, total_mel = _all_sum(
            [float(loss_sum.detach()), float(correct), float(latent_sum.detach()),
             *(float(v.detach()) for v in decoded_sums.values())], self.device,
        )  # fmt: skip
        if pred is not None:
            logs["latent_nmse"] = total_latent / max(1, n_frames)
        if cfg.level_weight:
            logs["level_err"] = total_level / max(1, n_frames)
        if cfg.mel_weight:
            logs["mel_err"] = total_mel / max(1, n_frames)
        if self.prompted:
            logs["prompted"] = float(prompt is not None)
        return {
            **logs,
            "loss": total_loss / max(1, n_global),
            "acc": total_correct / max(1, n_global),
            "lr": lr,
            "grad_norm": float(grad_norm),
        }

    def _prompted_kits(self) -> list[int]:
        """The kits of a prompted step's groups (cfg.prompt_share of steps); [] otherwise."""
        cfg, g = self.cfg, self.sampler.generator(self.step, 2)
        if not float(torch.rand((), generator=g)) < cfg.prompt_share:
            return []
        n_named = len(self.kits)
        kits = sorted(k for k in self.prompts.by_kit if k < n_named)
        picks = [kits[i] for i in torch.randint(len(kits), (cfg.prompt_groups,), generator=g)]
        if not self.prompt_only_kits:
            return picks
        others = sorted(k for k in self.prompts.by_kit if k >= n_named)
        other = torch.rand(cfg.prompt_groups, generator=g) < cfg.prompt_kits_share
        instead = torch.randint(len(others), (cfg.prompt_groups,), generator=g)
        return [
            others[j] if o else k for k, o, j in zip(picks, other, instead.tolist(), strict=True)
        ]

    def _step_prompt(self, kits: list[int], windows: list[tuple[int, int, int]]) -> PromptBatch:
        """One prompt per group of windows, from a track none of them comes from."""
        each = len(windows) // len(kits)
        avoid = [{i for i, _, _ in windows[j * each : (j + 1) * each]} for j in range(len(kits))]
        return self.prompts.batch(kits, avoid, self.sampler.generator(self.step, 3))

    def latent_error(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """[B, T]: the squared error per dimension over the latent's variance, 1 as bad as
        predicting the mean."""
        assert self.latent_var is not None  # a latent head trains only with its codec
        return (pred.float() - target).square().mean(-1) / self.latent_var

    def _validation_batch(
        self, tracks: list[Track], windows: list[tuple[int, int, int]], idx: list[int]
    ) -> tuple[LMBatch, torch.Tensor, torch.Tensor]:
        """Validation windows `idx` with masks drawn per window (from its index alone), so
        the set of masks is the same however the windows are split among processes."""
        V, max_frames = self.model_config.codebook_size, self.sampler.max_frames
        batch = collate(tracks, [windows[i] for i in idx], max_frames)
        inputs = torch.full_like(batch.tokens, V)
        loss_mask = torch.zeros_like(batch.tokens, dtype=torch.bool)
        for j, i in enumerate(idx):
            one = collate(tracks, [windows[i]], max_frames)
            g = torch.Generator().manual_seed(self.cfg.seed * 7919 + i)
            m = soundstorm_mask(one.tokens, one.pad_mask, V, g, self.cfg.prompt_prob)
            n = one.tokens.shape[-1]
            inputs[j, :, :n], loss_mask[j, :, :n] = m.inputs[0], m.loss_mask[0]
        return batch, inputs, loss_mask

    @torch.no_grad()
    def validate(self) -> dict[str, Any]:
        """Masked loss and accuracy under the training mask (fixed draws per window), and the
        seed paper's token accuracy: every token masked, one pass, argmax, per level. A
        prompted model is scored twice, by kit name and from a prompt of the kit (another
        validation recording's middle cfg.val_prompt_seconds), and its loss is the mean."""
        if not self.val_windows:
            return {}
        self.model.eval()
        named = self._scores(self.val_tracks, self.val_windows, prompted=False)
        out = {**named}
        if self.prompted:
            prompted = self._scores(self.val_tracks, self.val_windows, prompted=True)
            out.update({f"prompted_{k}": v for k, v in prompted.items() if k != "baseline_acc"})
            out["named_loss"] = named["loss"]
            out["loss"] = (named["loss"] + prompted["loss"]) / 2
        if self.extra_val_windows:
            extra = self._scores(self.extra_val_tracks, self.extra_val_windows, prompted=False)
            out.update({f"extra_{k}": v for k, v in extra.items() if k != "baseline_acc"})
            share = self.cfg.extra_share
            out["main_loss"] = out["loss"]
            out["loss"] = (1 - share) * out["loss"] + share * extra["loss"]
        self.model.train()
        return out

    def _scores(
        self, tracks: list[Track], windows: list[tuple[int, int, int]], prompted: bool
    ) -> dict[str, Any]:
        cfg, V, K = self.cfg, self.model_config.codebook_size, self.model_config.n_codebooks
        # loss, correct, count, per-level parallel correct, count, and per-level correct of
        # the quantised all-masked prediction; the latent head's sums by name (_latent_sums)
        sums = np.zeros(3 + 3 * K)
        lat: dict[str, float] = dict.fromkeys(LATENT_SUMS, 0.0)
        mine = list(range(self.rank, len(windows), self.world))
        for j in range(0, len(mine), cfg.val_batch_size):
            idx = mine[j : j + cfg.val_batch_size]
            batch, inputs, loss_mask = self._validation_batch(tracks, windows, idx)
            b = batch.to(self.device)
            loss_mask = loss_mask.to(self.device)
            kit: torch.Tensor | None = b.kit
            memory: PromptMemory | None = None
            if prompted:
                assert self.val_prompts is not None  # validation windows imply tracks
                p = self.val_prompts.fixed([windows[i] for i in idx], cfg.val_prompt_seconds)
                p = p.to(self.device)
                kit, memory = None, self.model.remember(*p.args())
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
                logits = self.model(inputs.to(self.device), b.features, kit, b.pad_mask,
                                    memory=memory)  # fmt: skip
                all_masked = torch.full_like(b.tokens, V)
                out = self.model(
                    all_masked, b.features, kit, b.pad_mask, with_latent=self.codec is not None,
                    memory=memory,
                )  # fmt: skip
                par = (out[0] if self.codec is not None else out).argmax(-1)
            loss, correct = selected_cross_entropy(logits[loss_mask], b.tokens[loss_mask])
            sums[:3] += [float(loss), float(correct), float(loss_mask.sum())]
            valid = ~b.pad_mask[:, None, :]  # [B, 1, T]
            sums[3 : 3 + K] += ((par == b.tokens) & valid).sum((0, 2)).double().cpu().numpy()
            sums[3 + K : 3 + 2 * K] += float(valid.sum())
            if self.codec is not None:
                for key, value in self._latent_sums(out[1], b).items():
                    lat[key] += value
                codes = self.codec.quantize(out[1].float()).to(self.device)  # [B, K, T]
                hit = ((codes == b.tokens) & valid).sum((0, 2)).double().cpu().numpy()
                sums[3 + 2 * K :] += hit
        sums = np.array(_all_sum(sums.tolist(), self.device))
        lat = dict(zip(LATENT_SUMS, _all_sum(list(lat.values()), self.device), strict=True))
        per_level = sums[3 : 3 + K] / np.maximum(1, sums[3 + K : 3 + 2 * K])
        ce = float(sums[0] / max(1, sums[2]))
        latent: dict[str, Any] = {}
        objective = 0.0  # the latent losses as training weighs them
        if self.codec is not None:
            frames, tails = max(1.0, lat["frames"]), max(1.0, lat["tails"])
            lat_level = sums[3 + 2 * K :] / np.maximum(1, sums[3 + K : 3 + 2 * K])
            latent = {
                "ce": ce,
                "latent_nmse": lat["error"] / frames,
                "weighted_nmse": lat["weighted"] / frames,
                "latent_token_acc": float(lat_level.mean()),
                "latent_token_acc_per_level": [round(float(a), 4) for a in lat_level],
            }
            objective = cfg.latent_weight * latent["weighted_nmse"]
            if self.tail_frames is not None:
                latent["tail_nmse"] = lat["tail_error"] / tails
                latent["tail_frames"] = int(lat["tails"])
            if cfg.level_weight:  # levels as the RMS dB error of the decoded frames
                latent["level_db"] = LEVEL_UNIT_DB * math.sqrt(lat["level"] / frames)
                if self.tail_frames is not None:
                    latent["tail_level_db"] = LEVEL_UNIT_DB * math.sqrt(lat["tail_level"] / tails)
                objective += cfg.level_weight * lat["level_weighted"] / frames
            if cfg.mel_weight:  # bands as the mean absolute dB error of the decoded cells
                latent["mel_db"] = LEVEL_UNIT_DB * lat["mel"] / frames
                if self.tail_frames is not None:
                    latent["tail_mel_db"] = LEVEL_UNIT_DB * lat["tail_mel"] / tails
                objective += cfg.mel_weight * lat["mel_weighted"] / frames
        return {
            "loss": ce + objective,
            **latent,
            "masked_acc": float(sums[1] / max(1, sums[2])),
            "token_acc": float(per_level.mean()),
            "token_acc_per_level": [round(float(a), 4) for a in per_level],
            "baseline_acc": self.baseline_acc,
        }

    def _latent_sums(self, pred: torch.Tensor, b: LMBatch) -> dict[str, float]:
        """One validation batch's LATENT_SUMS: the latent error over its frames, unweighted
        and as training weighs it (tail frames), over the tail frames alone, and the same
        for the level loss where it is on."""
        frames = ~b.pad_mask
        target = self.latent_targets(b.tokens)
        tails, weight = torch.zeros_like(frames), None
        if self.tail_frames is not None:
            tails = self.tail_frames(b.features) & frames
            weight = 1.0 + self.cfg.tail_weight * tails.float()
        latent = self.latent_error(pred, target)
        out = {
            "frames": float(frames.sum()),
            "tails": float(tails.sum()),
            "error": float(masked_sum(latent, frames)),
            "weighted": float(masked_sum(latent, frames, weight)),
            "tail_error": float(masked_sum(latent, tails)),
        }
        if self.decoded is not None:  # one decoder pass for the sums of both
            for name, error in self.decoded(pred, target, frames).items():
                out[name] = float(masked_sum(error, frames))
                out[f"{name}_weighted"] = float(masked_sum(error, frames, weight))
                out[f"tail_{name}"] = float(masked_sum(error, tails))
        return out

    def describe(self, validation: dict[str, Any]) -> str:
        val = validation
        line = (
            f"val loss {val['loss']:.3f}, token acc {val['token_acc']:.3f} "
            f"(baseline {val['baseline_acc']:.3f})"
        )
        if "latent_nmse" in val:
            line += (
                f", latent nmse {val['latent_nmse']:.3f}, quantised token acc "
                f"{val['latent_token_acc']:.3f}"
            )
        if "prompted_token_acc" in val:
            line += f", prompted token acc {val['prompted_token_acc']:.3f}"
        if "extra_loss" in val:
            line += f" (main {val['main_loss']:.3f}, extras {val['extra_loss']:.3f})"
        for key, name in (("tail_nmse", "tail"), ("extra_tail_nmse", "extras' tail")):
            if key in val:
                line += f", {name} nmse {val[key]:.3f}"
        for key, name in (
            ("level_db", "level"), ("extra_tail_level_db", "extras' tail level"), ("mel_db", "mel"),
        ):  # fmt: skip
            if key in val:
                line += f", {name} error {val[key]:.1f} dB"
        return line
