"""The drum codec's trainer: reconstruction + VQ losses, dead-code restarts, an optional
adversarial stage, validation with the shared metrics, safetensors output. The step loop, its
log, checkpoints, resume and early stopping (on validation mel MAE) are training/loop.py's.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from drumgrid.server.drum_codec import DrumCodecConfig, DrumCodecModel
from drumgrid.server.drum_codec.folder import load_drum_codec, save_drum_codec
from drumgrid.server.drum_codec.model import TOKEN_PARTS
from drumgrid.server.errors import UserError
from drumgrid.training.checkpoint import (
    flatten_optimizer,
    load_checkpoint,
    prefixed,
    restore_optimizer,
    unprefixed,
)
from drumgrid.training.codec.data import (
    AudioFile,
    SegmentSampler,
    corpus_audio,
    validation_clips,
)
from drumgrid.training.codec.discriminator import (
    MultiResolutionDiscriminator,
    discriminator_loss,
    generator_losses,
)
from drumgrid.training.codec.evaluation import evaluate_codec
from drumgrid.training.codec.losses import reconstruction_losses
from drumgrid.training.loop import TrainingLoop
from drumgrid.training.pinned import PinnedData
from drumgrid.training.schedule import warmup_cosine


@dataclass(frozen=True)
class CodecTrainConfig:
    steps: int = 20000
    batch_size: int = 16
    segment_s: float = 1.0
    lr: float = 1e-3
    warmup_steps: int = 500
    weight_decay: float = 1e-2
    grad_clip: float = 1.0
    mel_weight: float = 1.0
    logmag_weight: float = 1.0
    sc_weight: float = 1.0
    complex_weight: float = 0.0  # compressed complex-spectrum L1: phase, not only magnitude
    commitment_weight: float = 0.25
    codebook_weight: float = 1.0
    adversarial_after: int = -1  # step from which the discriminator trains; -1: never
    adversarial_weight: float = 0.1
    feature_matching_weight: float = 1.0
    freeze_encoder: bool = False  # train decoder + head only: codes (and token caches) stay valid
    restart_every: int = 100
    restart_threshold: float = 1e-3  # usage EMA below this counts as dead
    validate_every: int = 1000
    checkpoint_every: int = 250
    validation_clips: int = 24
    validation_s: float = 4.0
    patience: int = 0  # validations without a lower mel MAE before stopping; 0: never stop
    seed: int = 0


class CodecTrainer(TrainingLoop[CodecTrainConfig]):
    desc = "train-codec"
    shown = ("loss", "mel")
    objective = "mel_mae_db"
    keeps_rng = True  # quantiser dropout draws from torch's global generator

    model: DrumCodecModel

    def __init__(
        self,
        corpus: Path,
        out: Path,
        model_config: DrumCodecConfig,
        cfg: CodecTrainConfig,
        device: str = "cpu",
        init: Path | None = None,
    ) -> None:
        """`init`: a trained codec folder to start from (a fine-tune) instead of random weights;
        its card is kept in the new codec's config.json as the stage before this one."""
        super().__init__(out, cfg)
        self.device = torch.device(device)
        self.model_config = model_config
        torch.manual_seed(cfg.seed)
        self.model = DrumCodecModel(model_config).to(self.device)
        self.init_card = self._load_init(Path(init)) if init is not None else None
        if cfg.freeze_encoder:
            for part in TOKEN_PARTS:
                getattr(self.model, part).requires_grad_(False)
        self.optimizer = torch.optim.AdamW(
            [p for p in self.model.parameters() if p.requires_grad],
            lr=cfg.lr,
            betas=(0.8, 0.99),
            weight_decay=cfg.weight_decay,
        )
        self.disc = MultiResolutionDiscriminator().to(self.device)
        self.disc_optimizer = torch.optim.AdamW(
            self.disc.parameters(), lr=cfg.lr, betas=(0.8, 0.99)
        )
        sr = model_config.sample_rate
        segment = round(cfg.segment_s * sr) // model_config.hop_length * model_config.hop_length
        self.data_used = data_used = PinnedData(self.out, resuming=self.checkpoint_dir.exists())

        def pinned(split: str, files: list[AudioFile]) -> list[AudioFile]:
            return data_used.pick(split, files, lambda f: os.path.relpath(f.path, corpus), corpus)

        self.sampler = SegmentSampler(
            pinned("train", corpus_audio(corpus, "train", sr)), segment, cfg.seed
        )
        try:
            val_files = corpus_audio(corpus, "validation", sr)
        except UserError:  # no validation split: the run validates nothing
            val_files = []
        val_files = pinned("validation", val_files)  # outside: losing one is an error
        if self.rank == 0:
            data_used.write()
        self.val_clips = validation_clips(
            val_files, cfg.validation_clips, round(cfg.validation_s * sr)
        )

    def _load_init(self, folder: Path) -> dict[str, Any]:
        trained, info = load_drum_codec(folder)
        if info.config != self.model_config:
            raise UserError(
                f"--init {folder}: its config.json describes another architecture than the one "
                "being trained; train with the config it was made with"
            )
        self.model.load_state_dict(trained.state_dict(), strict=False)
        # Usage is not shipped: start every code in its grace period, not as dead.
        self.model.quantizer.usage.fill_(2 * self.cfg.restart_threshold)
        return {**info.card, "path": str(folder)}

    # -- checkpoints ---------------------------------------------------------------------------

    def checkpoint_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {
            **prefixed("model", self.model.state_dict()),
            **prefixed("disc", self.disc.state_dict()),
        }
        opt_t, opt_meta = flatten_optimizer("gen", self.optimizer)
        disc_t, disc_meta = flatten_optimizer("disc", self.disc_optimizer)
        tensors.update(opt_t)
        tensors.update(disc_t)
        meta = {
            "model": self.model_config.to_dict(),
            "optim_gen": opt_meta,
            "optim_disc": disc_meta,
        }
        return tensors, meta

    def restore(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        theirs = asdict(DrumCodecConfig.from_dict(meta["model"]))
        ours = asdict(self.model_config)
        if theirs != ours:
            differ = ", ".join(
                f"{k}: {theirs[k]} there, {v} here" for k, v in ours.items() if theirs[k] != v
            )
            raise UserError(
                f"{self.checkpoint_dir}: the checkpoint has another model config ({differ}); "
                "resume with the options it was started with (e.g. --phase-features) or use "
                "a new --out"
            )
        started_frozen = meta["train"].get("freeze_encoder", False)
        if started_frozen != self.cfg.freeze_encoder:
            raise UserError(
                f"{self.checkpoint_dir}: the run was started "
                f"{'with' if started_frozen else 'without'} --freeze-encoder; "
                "resume it with the same setting or use a new --out"
            )
        self.model.load_state_dict(unprefixed("model", tensors))
        self.disc.load_state_dict(unprefixed("disc", tensors))
        restore_optimizer("gen", self.optimizer, tensors, meta["optim_gen"])
        restore_optimizer("disc", self.disc_optimizer, tensors, meta["optim_disc"])

    # -- training --------------------------------------------------------------------------------

    def train_step(self) -> dict[str, float]:
        cfg, sr = self.cfg, self.model_config.sample_rate
        wave = self.sampler.batch(self.step, cfg.batch_size).to(self.device)
        for group in (*self.optimizer.param_groups, *self.disc_optimizer.param_groups):
            group["lr"] = warmup_cosine(self.step, cfg.lr, cfg.warmup_steps, cfg.steps)
        if cfg.freeze_encoder:
            with torch.no_grad():
                q = self.model.quantizer(self.model.analyse(wave))
            recon = self.model.synthesise(q.latent)
        else:
            recon, q = self.model(wave)
        losses = reconstruction_losses(wave, recon, sr, with_complex=cfg.complex_weight > 0)
        total = (
            cfg.mel_weight * losses["mel"]
            + cfg.logmag_weight * losses["logmag"]
            + cfg.sc_weight * losses["sc"]
            + cfg.complex_weight * losses["complex"]
            + cfg.commitment_weight * q.commitment_loss
            + cfg.codebook_weight * q.codebook_loss
        )
        logs = {k: float(v.detach()) for k, v in losses.items()}
        adversarial = 0 <= cfg.adversarial_after <= self.step
        if adversarial:
            d_loss = discriminator_loss(self.disc(wave), self.disc(recon.detach()))
            self.disc_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            self.disc_optimizer.step()
            with torch.no_grad():  # feature matching's targets: no graph needed
                real = self.disc(wave)
            adv, fm = generator_losses(real, self.disc(recon))
            total = total + cfg.adversarial_weight * adv + cfg.feature_matching_weight * fm
            logs.update(disc=float(d_loss.detach()), adv=float(adv.detach()), fm=float(fm.detach()))
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        done = self.step + 1  # steps trained, this one included
        if done % cfg.restart_every == 0 and not cfg.freeze_encoder:
            logs["restarted"] = self.model.quantizer.restart_dead_codes(cfg.restart_threshold)
        logs.update(loss=float(total.detach()), commit=float(q.commitment_loss.detach()))
        return logs

    def validate(self) -> dict[str, Any]:
        if not self.val_clips:
            return {}
        return evaluate_codec(self.model, self.val_clips)

    def finish(self, validation: dict[str, Any]) -> None:
        card = _codec_card(self.step, self.elapsed_s, asdict(self.cfg), validation, self.init_card)
        save_drum_codec(self.out / "codec", self.model, card)


def _codec_card(
    steps: int,
    elapsed_s: float,
    train: dict[str, Any],
    validation: dict[str, Any],
    init: dict[str, Any] | None,
) -> dict[str, Any]:
    """What a trained codec's config.json says of its training (the model card reads it)."""
    return {
        "steps": steps,
        "train_seconds": round(elapsed_s),
        "train": train,
        "validation": validation,
        "init": init,
    }


def export_checkpoint(run: Path) -> tuple[Path, int]:
    """Write RUN/codec (inference weights + config) from RUN/checkpoint, without a corpus."""
    tensors, meta = load_checkpoint(Path(run) / "checkpoint")
    model = DrumCodecModel(DrumCodecConfig.from_dict(meta["model"]))
    model.load_state_dict(unprefixed("model", tensors))
    card = _codec_card(meta["step"], meta["elapsed_s"], meta["train"], {}, meta.get("init"))
    return save_drum_codec(Path(run) / "codec", model, card), int(meta["step"])
