"""The step loop both trainers share, so the codec and the Transformer train, log, validate,
stop early, checkpoint and resume the same way.

A trainer subclasses TrainingLoop and supplies the model-specific parts: `train_step` (one
optimiser step on batch number `step`), `validate`, its share of the checkpoint
(`checkpoint_state` / `restore`), and what it writes when validation improves and when the
run ends. The loop owns the rest: the step count (stop at cfg.steps, or after step `until`
as a killed run would), the progress bar, one log.jsonl line per step, validation and
checkpoint cadence, early stopping after cfg.patience validations without a lower
`objective`, and the bookkeeping every checkpoint holds beside the trainer's own:

    state.json: step, elapsed_s, best_val (null: none yet), bad_validations, train (the
        config), init (the --init model's card), and the trainer's keys
    state.safetensors: the trainer's tensors, and rng.torch for a trainer that keeps_rng

Under torchrun every process runs the loop; files, the progress bar and the trainer's
`improved` / `finish` happen on rank 0 only.
"""

from __future__ import annotations

import json
import math
import time
from abc import ABC, abstractmethod
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import torch
import torch.distributed as dist
from tqdm import tqdm

from drumgrid.training.checkpoint import load_checkpoint, save_checkpoint, truncate_log

RNG_TENSOR = "rng.torch"


class LoopConfig(Protocol):
    """The fields of a trainer's config (a frozen dataclass) that the loop reads."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def steps(self) -> int: ...
    @property
    def validate_every(self) -> int: ...
    @property
    def checkpoint_every(self) -> int: ...
    @property
    def patience(self) -> int: ...  # validations without a better objective; 0: never stop


C = TypeVar("C", bound=LoopConfig)


def rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of processes: (0, 1) without torch.distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class TrainingLoop(ABC, Generic[C]):
    desc: ClassVar[str]  # the progress bar's label
    shown: ClassVar[tuple[str, ...]]  # train_step's logs shown on the progress bar
    objective: ClassVar[str] = "loss"  # the validation key that early stopping minimises
    # Save and restore torch's global RNG with each checkpoint: for a trainer whose random
    # draws are not keyed by (seed, step) alone.
    keeps_rng: ClassVar[bool] = False

    model: torch.nn.Module

    def __init__(self, out: str | Path, cfg: C) -> None:
        self.out, self.cfg = Path(out), cfg
        self.rank, self.world = rank_and_world()
        self.step = 0
        self.elapsed_s = 0.0
        self.best_val = math.inf
        self.bad_validations = 0
        self.init_card: dict[str, Any] | None = None  # the --init model's card, kept in ours

    # -- what a trainer supplies ---------------------------------------------------------------

    @abstractmethod
    def train_step(self) -> dict[str, float]:
        """One optimiser step on batch number `self.step` (the loop then counts it); its logs
        for this step's log.jsonl line."""

    @abstractmethod
    def validate(self) -> dict[str, Any]:
        """Validation metrics, on every process alike; {} when there is nothing to validate."""

    @abstractmethod
    def checkpoint_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The trainer's tensors and meta for the checkpoint (weights, optimisers, config)."""

    @abstractmethod
    def restore(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Check that a checkpoint fits this run (a UserError if not) and load its state."""

    def improved(self, validation: dict[str, Any]) -> None:
        """Called (on rank 0) when validation reaches a new best objective."""

    def finish(self, validation: dict[str, Any]) -> None:
        """Called (on rank 0) when the run ends: write the final model folder."""

    def describe(self, validation: dict[str, Any]) -> str:
        """The progress bar's line for a validation."""
        return json.dumps(validation)

    # -- checkpoints ---------------------------------------------------------------------------

    @property
    def checkpoint_dir(self) -> Path:
        return self.out / "checkpoint"

    @property
    def log_path(self) -> Path:
        return self.out / "log.jsonl"

    def save(self) -> None:
        """Write checkpoint/ atomically (rank 0 only)."""
        if self.rank != 0:
            return
        tensors, meta = self.checkpoint_state()
        if self.keeps_rng:
            tensors[RNG_TENSOR] = torch.get_rng_state()
        meta.update(
            step=self.step,
            elapsed_s=self.elapsed_s,
            best_val=self.best_val if math.isfinite(self.best_val) else None,
            bad_validations=self.bad_validations,
            train=asdict(self.cfg),
            init=self.init_card,
        )
        save_checkpoint(self.checkpoint_dir, tensors, meta)

    def resume(self) -> bool:
        """Continue from checkpoint/ if there is one, and drop the log lines written after it
        so the log reads as one uninterrupted run. False: nothing to resume."""
        if not self.checkpoint_dir.exists():
            return False
        tensors, meta = load_checkpoint(self.checkpoint_dir)
        self.restore(tensors, meta)
        if self.keeps_rng:
            torch.set_rng_state(tensors[RNG_TENSOR])
        self.step, self.elapsed_s = int(meta["step"]), float(meta["elapsed_s"])
        # Codec checkpoints written before it had early stopping lack the two counters.
        best = meta.get("best_val")
        self.best_val = math.inf if best is None else float(best)
        self.bad_validations = int(meta.get("bad_validations", 0))
        self.init_card = meta.get("init")
        if self.rank == 0:
            truncate_log(self.log_path, self.step)
        return True

    # -- the loop ------------------------------------------------------------------------------

    def _stops(self, validation: dict[str, Any]) -> bool:
        """Track the best objective; True once cfg.patience validations in a row missed it."""
        if validation[self.objective] < self.best_val:
            self.best_val, self.bad_validations = validation[self.objective], 0
            if self.rank == 0:
                self.improved(validation)
            return False
        self.bad_validations += 1
        return 0 < self.cfg.patience <= self.bad_validations

    def run(self, progress: bool = True, until: int | None = None) -> dict[str, Any]:
        """Train to cfg.steps (or stop after step `until`, as a killed run would, for tests
        of resume). Returns the last step, whether patience ran out, the last validation."""
        cfg, lead = self.cfg, self.rank == 0
        last_step = cfg.steps if until is None else min(until, cfg.steps)
        if lead:
            self.out.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("a") if lead else None
        bar = tqdm(
            total=cfg.steps, initial=self.step, disable=not progress or not lead,
            desc=self.desc, unit="step",
        )  # fmt: skip
        last_val: dict[str, Any] = {}
        stopped = False
        self.model.train()
        try:
            while self.step < last_step and not stopped:
                t0 = time.perf_counter()
                logs = self.train_step()
                self.step += 1
                self.elapsed_s += time.perf_counter() - t0
                bar.update(1)
                bar.set_postfix({k: f"{logs[k]:.3f}" for k in self.shown})
                record: dict[str, Any] = {"step": self.step, **logs}
                if self.step % cfg.validate_every == 0 or self.step == cfg.steps:
                    val = self.validate()
                    if val:
                        last_val = record["validation"] = val
                        stopped = self._stops(val)
                        bar.write(
                            f"step {self.step}: {self.describe(val)}"
                            + (" - stopping early" if stopped else "")
                        )
                if log is not None:
                    log.write(json.dumps(record) + "\n")
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps or stopped:
                    if log is not None:
                        log.flush()
                    self.save()
        finally:
            bar.close()
            if log is not None:
                log.close()
        if lead:
            self.finish(last_val)
        if self.world > 1:
            dist.barrier()
        return {"step": self.step, "stopped_early": stopped, "validation": last_val}
