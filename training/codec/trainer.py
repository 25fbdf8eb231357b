"""The drum codec's training loop: reconstruction + VQ losses, dead-code restarts, an optional
adversarial stage, validation with the shared metrics, exact resume, safetensors output."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from drumgrid.server.drum_codec import DrumCodecConfig, DrumCodecModel
from drumgrid.server.drum_codec.folder import load_drum_codec, save_drum_codec
from drumgrid.server.drum_codec.model import TOKEN_PARTS
from drumgrid.server.errors import UserError
from drumgrid.training.checkpoint import (
    flatten_optimizer,
    load_checkpoint,
    prefixed,
    restore_optimizer,
    save_checkpoint,
    truncate_log,
    unprefixed,
)
from drumgrid.training.codec.data import SegmentSampler, corpus_audio, validation_clips
from drumgrid.training.codec.discriminator import (
    MultiResolutionDiscriminator,
    discriminator_loss,
    generator_losses,
)
from drumgrid.training.codec.evaluation import evaluate_codec
from drumgrid.training.codec.losses import reconstruction_losses
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
    seed: int = 0


class CodecTrainer:
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
        self.out, self.cfg, self.device = Path(out), cfg, torch.device(device)
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
        self.sampler = SegmentSampler(corpus_audio(corpus, "train", sr), segment, cfg.seed)
        try:
            val_files = corpus_audio(corpus, "validation", sr)
        except UserError:
            val_files = []
        self.val_clips = validation_clips(
            val_files, cfg.validation_clips, round(cfg.validation_s * sr)
        )
        self.step = 0
        self.elapsed_s = 0.0

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

    @property
    def checkpoint_dir(self) -> Path:
        return self.out / "checkpoint"

    def save(self) -> None:
        tensors = {
            **prefixed("model", self.model.state_dict()),
            **prefixed("disc", self.disc.state_dict()),
        }
        opt_t, opt_meta = flatten_optimizer("gen", self.optimizer)
        disc_t, disc_meta = flatten_optimizer("disc", self.disc_optimizer)
        tensors.update(opt_t)
        tensors.update(disc_t)
        tensors["rng.torch"] = torch.get_rng_state()
        meta = {
            "step": self.step,
            "elapsed_s": self.elapsed_s,
            "train": asdict(self.cfg),
            "model": self.model_config.to_dict(),
            "optim_gen": opt_meta,
            "optim_disc": disc_meta,
            "init": self.init_card,
        }
        save_checkpoint(self.checkpoint_dir, tensors, meta)

    def resume(self) -> bool:
        if not self.checkpoint_dir.exists():
            return False
        tensors, meta = load_checkpoint(self.checkpoint_dir)
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
        torch.set_rng_state(tensors["rng.torch"])
        self.step, self.elapsed_s = int(meta["step"]), float(meta["elapsed_s"])
        self.init_card = meta.get("init")
        truncate_log(self.out / "log.jsonl", self.step)
        return True

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
        self.step += 1
        if self.step % cfg.restart_every == 0 and not cfg.freeze_encoder:
            logs["restarted"] = self.model.quantizer.restart_dead_codes(cfg.restart_threshold)
        logs.update(loss=float(total.detach()), commit=float(q.commitment_loss.detach()))
        return logs

    def validate(self) -> dict[str, Any]:
        if not self.val_clips:
            return {}
        return evaluate_codec(self.model, self.val_clips)

    def run(self, progress: bool = True) -> dict[str, Any]:
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        log = (self.out / "log.jsonl").open("a")
        bar = tqdm(
            total=cfg.steps,
            initial=self.step,
            disable=not progress,
            desc="train-codec",
            unit="step",
        )
        last_val: dict[str, Any] = {}
        try:
            while self.step < cfg.steps:
                t0 = time.perf_counter()
                logs = self.train_step()
                self.elapsed_s += time.perf_counter() - t0
                bar.update(1)
                bar.set_postfix(loss=f"{logs['loss']:.3f}", mel=f"{logs['mel']:.3f}")
                record: dict[str, Any] = {"step": self.step, **logs}
                if self.step % cfg.validate_every == 0 or self.step == cfg.steps:
                    last_val = self.validate()
                    if last_val:
                        record["validation"] = last_val
                        bar.write(f"step {self.step}: " + json.dumps(last_val))
                log.write(json.dumps(record) + "\n")
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                    log.flush()
                    self.save()
        finally:
            bar.close()
            log.close()
        card = {
            "steps": self.step,
            "train_seconds": round(self.elapsed_s),
            "train": asdict(cfg),
            "validation": last_val,
            "init": self.init_card,
        }
        save_drum_codec(self.out / "codec", self.model, card)
        return last_val


def export_checkpoint(run: Path) -> tuple[Path, int]:
    """Write RUN/codec (inference weights + config) from RUN/checkpoint, without a corpus."""
    tensors, meta = load_checkpoint(Path(run) / "checkpoint")
    model = DrumCodecModel(DrumCodecConfig.from_dict(meta["model"]))
    model.load_state_dict(unprefixed("model", tensors))
    card = {
        "steps": meta["step"],
        "train_seconds": round(meta["elapsed_s"]),
        "train": meta["train"],
        "validation": {},
        "init": meta.get("init"),
    }
    return save_drum_codec(Path(run) / "codec", model, card), int(meta["step"])
