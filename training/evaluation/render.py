"""Every row's tokens and audio for a batch of windows: the true tokens (ceiling), the model's
decodings and the baseline's, through the codec. Decoding depends only on each window's own
seed, so rendering a window again (for a plot) gives the same audio."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from drumgrid.server.conditioning import FEATURE_NAMES
from drumgrid.server.decoding import decode
from drumgrid.training import metrics as M
from drumgrid.training.evaluation.config import EvalConfig
from drumgrid.training.evaluation.inputs import EvalInputs
from drumgrid.training.evaluation.windows import CorpusAudio, EvalTrack, EvalWindow


@dataclass(frozen=True)
class RenderedBatch:
    true: torch.Tensor  # [B, K, T] the cache's tokens
    valid: np.ndarray  # [B, T] bool, False at padding
    tokens: dict[str, torch.Tensor]  # row -> [B, K, T], "ceiling" the true ones
    waves: dict[str, np.ndarray]  # row -> [B, T * hop], every row but "reference"
    logits: np.ndarray  # [B, K, T, V] the model's one pass with every token masked
    sample_rate: int

    def audio(
        self, j: int, window: EvalWindow, reference: np.ndarray | None, hop: int
    ) -> dict[str, np.ndarray | None]:
        """Row -> the audio of batch item j (`window`), "reference" the corpus's."""
        out: dict[str, np.ndarray | None] = {"reference": reference}
        out.update({row: w[j, : window.n * hop] for row, w in self.waves.items()})
        return out


@dataclass(frozen=True)
class RowAudio:
    """A row's audio of a window and its detected onsets (seconds), kept for the plots."""

    wave: np.ndarray  # [N]
    onsets: np.ndarray  # [O]


KeptAudio = dict[int, dict[str, RowAudio]]  # window index -> row -> audio


@dataclass
class Renderer:
    inputs: EvalInputs
    tracks: list[EvalTrack]
    cfg: EvalConfig
    rows: Sequence[str]
    decode_seconds: dict[str, float] = field(init=False)  # row -> seconds of timed decoding

    def __post_init__(self) -> None:
        self.decode_seconds = {d: 0.0 for d in self.cfg.decodings}

    def render(self, batch: Sequence[EvalWindow], timed: bool = True) -> RenderedBatch:
        """Every row's tokens and audio for `batch`; `timed` adds the decoding time of each
        row to decode_seconds."""
        model, info, codec = self.inputs.model, self.inputs.info, self.inputs.codec
        true, all_feats, kit, pad = self._batch(batch)
        feats = columns(all_feats, info.features)
        dev = model.tables.device
        with torch.no_grad():
            masked = torch.full_like(true, model.codebook_size).to(dev)
            logits = model(masked, feats.to(dev), kit.to(dev), pad.to(dev)).float().cpu().numpy()
        seeds = [self.cfg.seed + w.index for w in batch]
        decoded: dict[str, torch.Tensor] = {"ceiling": true}
        methods = [(d, model, feats, d) for d in self.cfg.decodings]
        base, base_info = self.inputs.baseline, self.inputs.baseline_info
        if base is not None and base_info is not None:
            base_feats = columns(all_feats, base_info.features)
            methods.insert(0, ("baseline", base, base_feats, "parallel"))
        for row, m, f, method in methods:
            t0 = time.perf_counter()
            decoded[row] = decode(
                m, f, kit, self.cfg.decode_options(method, m.n_codebooks), pad_mask=pad,
                seeds=seeds, quantize=codec.quantize,
            ).cpu()  # fmt: skip
            if timed:
                self.decode_seconds[row] = (
                    self.decode_seconds.get(row, 0.0) + time.perf_counter() - t0
                )
        waves = {
            row: codec.decode_batch(decoded[row]).cpu().numpy()  # [B, T * hop]
            for row in self.rows
            if row != "reference"
        }
        return RenderedBatch(true, ~pad.numpy(), decoded, waves, logits, codec.sample_rate)

    def _batch(
        self, windows: Sequence[EvalWindow]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """tokens [B, K, T], features [B, T, F], kit [B], pad_mask [B, T] of the windows."""
        T = max(w.n for w in windows)
        first = self.tracks[0].track
        K, F = first.tokens.shape[0], first.n_features
        tokens = np.zeros((len(windows), K, T), np.int64)
        feats = np.zeros((len(windows), T, F), np.float32)
        pad = np.ones((len(windows), T), bool)
        kit = np.zeros(len(windows), np.int64)
        for b, w in enumerate(windows):
            tr = self.tracks[w.track].track
            tokens[b, :, : w.n] = tr.tokens[:, w.f0 : w.f0 + w.n]
            feats[b, : w.n] = tr.features(w.f0, w.f0 + w.n)
            pad[b, : w.n] = False
            kit[b] = tr.kit
        return (
            torch.from_numpy(tokens),
            torch.from_numpy(feats),
            torch.from_numpy(kit),
            torch.from_numpy(pad),
        )


def columns(features: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    """[B, T, every feature] -> [B, T, len(names)]: the conditioning columns one model reads
    (models from before a feature was added read fewer)."""
    return features[..., [FEATURE_NAMES.index(n) for n in names]]


def keep_audio(
    renderer: Renderer, corpus: CorpusAudio, chosen: Sequence[EvalWindow], kept: KeptAudio
) -> None:
    """Render the `chosen` windows not in `kept` again (one batch) and keep every row's audio
    and onsets: the worst windows are known only after scoring."""
    missing = [w for w in chosen if w.index not in kept]
    if not missing:
        return
    rendered = renderer.render(missing, timed=False)
    hop, sr = renderer.inputs.codec.hop_length, renderer.inputs.codec.sample_rate
    for j, w in enumerate(missing):
        track = renderer.tracks[w.track]
        reference = corpus.window(track, w) if "reference" in renderer.rows else None
        audio_of = rendered.audio(j, w, reference, hop)
        kept[w.index] = {}
        for row in renderer.rows:
            audio = audio_of[row]
            assert audio is not None
            wave = np.asarray(audio)
            kept[w.index][row] = RowAudio(wave, M.detect_onsets(wave, sr, refine=True))
