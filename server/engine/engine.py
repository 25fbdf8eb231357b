"""The inference engine: a model and its codec loaded once, any clip rendered to audio.

    Performance -> frame conditioning [T, F] for the whole clip (from seconds: tempo maps and
    signature changes are honoured), sliced per window
      -> windows of W frames (the trained length) overlapping by >= O frames; each window
         decodes with the overlap's tokens known, so the token stream has no seams
      -> tokens [B, K, T] -> codec decode in chunks with a receptive-field margin
      -> resample to the requested rate, channels -> RenderResult per take

Takes (variations) are the batch dimension: N takes cost one batched pass per model call.

A kit prompt (a prompted model only) runs through the body once per render into a
PromptMemory; every window, of every take, attends to that one memory.

Axes: B takes, K codebooks, T frames, V codebook size, F conditioning features.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import torch

from drumgrid.bridge.contract import DEFAULT_MAX_LENGTH_S, DEFAULT_TAIL_S
from drumgrid.server.codecs.base import Codec
from drumgrid.server.codecs.resample import resample
from drumgrid.server.conditioning import frame_conditioning
from drumgrid.server.decoding import decode_tokens, latent_proposal
from drumgrid.server.devices import native_precision, resolve_device
from drumgrid.server.engine.backends import SelectedBackend, select_backend
from drumgrid.server.engine.models import checkpoint_hash, load_model_codec, resolve_model_dir
from drumgrid.server.engine.options import RenderOptions, RenderResult, RenderTimings
from drumgrid.server.engine.windows import plan_windows, window_seed
from drumgrid.server.errors import Cancelled, MidiError, TooLong, UnknownKit, UserError
from drumgrid.server.model.folder import ModelInfo, load_model
from drumgrid.server.model.lm import DrumLM
from drumgrid.server.model.modules import PromptMemory
from drumgrid.server.performance import Performance
from drumgrid.server.prompt_fit import PromptFit, nearest_known_kit, prompt_key
from drumgrid.server.prompt_request import PromptRequest, saved_kits
from drumgrid.server.prompts import Prompt, Reader, load_named_kit, read_file, read_prompt
from drumgrid.server.silence import ring_mask

if TYPE_CHECKING:
    from typing_extensions import Unpack

CODEC_CHUNK_FRAMES = 1024  # ~12 s at 86 frames/s: bounds the decoder's activations
FITS_KEPT = 16  # prompts whose known-kit fit is kept (a few bytes each)

PRECISIONS = ("auto", "fp32", "bf16")


def resolve_precision(precision: str, device: torch.device, backend: str) -> torch.dtype:
    """auto: bf16 where the device runs it natively (`native_precision`; not for TensorRT,
    which picks its own fp16 kernels from the fp32 export), else fp32."""
    if precision not in PRECISIONS:
        raise UserError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if precision == "fp32" or backend == "tensorrt":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    return native_precision(device)


class Stopwatch:
    """Seconds spent inside the functions it wraps (synchronised with the device first), so
    a decoding loop's model time is told from its own."""

    def __init__(self, sync: Callable[[], None]) -> None:
        self.seconds, self._sync = 0.0, sync

    def wrap(self, fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        def timed(*args: Any) -> torch.Tensor:
            start = time.perf_counter()
            out = fn(*args)
            self._sync()
            self.seconds += time.perf_counter() - start
            return out

        return timed


def decode_chunked(
    codec: Codec,
    tokens: torch.Tensor,  # [B, K, T]
    n_samples: int,
    chunk_frames: int = CODEC_CHUNK_FRAMES,
    margin: int | None = None,  # frames each side; default: what the codec says it needs
    check: Callable[[], None] | None = None,  # called between chunks (cancellation)
) -> torch.Tensor:  # [B, n_samples] float32
    """Decode a long token sequence chunk by chunk, each chunk with `margin` frames of real
    context on both sides whose audio is thrown away, so boundaries match one whole decode."""
    B, _, n_frames = tokens.shape
    hop = codec.hop_length
    if n_frames <= chunk_frames:
        if check:
            check()
        return codec.decode_batch(tokens, n_samples)
    margin = codec.decode_margin if margin is None else margin
    out = torch.empty(B, n_frames * hop)
    for c0 in range(0, n_frames, chunk_frames):
        if check:
            check()
        c1 = min(n_frames, c0 + chunk_frames)
        a, b = max(0, c0 - margin), min(n_frames, c1 + margin)
        wave = codec.decode_batch(tokens[:, :, a:b])  # [B, (b - a) * hop]
        out[:, c0 * hop : c1 * hop] = wave[:, (c0 - a) * hop : (c1 - a) * hop].cpu()
    return out[:, :n_samples]


class EngineOptions(TypedDict, total=False):
    """Engine's keyword options that `Engine.load` passes on (their defaults: Engine's)."""

    max_length_s: float
    tail_s: float
    window_frames: int | None
    overlap_frames: int | None
    codec_chunk_frames: int
    precision: str


class Engine:
    """A loaded model + codec. Thread use: one render at a time per engine (the daemon runs
    one worker per device)."""

    def __init__(
        self,
        model: DrumLM,
        info: ModelInfo,
        codec: Codec,
        device: str = "cpu",
        backend: str = "auto",
        model_hash: str = "unsaved",
        model_dir: Path | None = None,
        max_length_s: float = DEFAULT_MAX_LENGTH_S,
        tail_s: float = DEFAULT_TAIL_S,
        window_frames: int | None = None,
        overlap_frames: int | None = None,
        codec_chunk_frames: int = CODEC_CHUNK_FRAMES,
        precision: str = "auto",
    ) -> None:
        self.device = resolve_device(device)
        c = info.config
        if (codec.n_codebooks, codec.codebook_size) != (c.n_codebooks, c.codebook_size):
            raise UserError(
                f"codec {codec.id} has {codec.n_codebooks} x {codec.codebook_size} tokens, the "
                f"model predicts {c.n_codebooks} x {c.codebook_size}"
            )
        if c.latent_dim and codec.latent_dim != c.latent_dim:
            raise UserError(
                f"the model's latent head predicts {c.latent_dim}-wide latents, codec {codec.id} "
                f"codes {codec.latent_dim or 'no exposed'} latents; load the codec it was "
                "trained with"
            )
        if abs(codec.frame_rate - info.frame_rate) > 1e-6 * info.frame_rate:
            raise UserError(
                f"codec {codec.id} runs at {codec.frame_rate:.4f} frames/s, the model was "
                f"trained at {info.frame_rate:.4f}"
            )
        self.model, self.info = model.to(self.device).eval(), info
        self.codec = codec.to(self.device)
        self.model_dir, self.model_hash = model_dir, model_hash
        self.max_length_s, self.tail_s = float(max_length_s), float(tail_s)
        self.window = min(window_frames or model.max_frames, model.max_frames)
        self.overlap = self.window // 4 if overlap_frames is None else overlap_frames
        plan_windows(self.window + 1, self.window, self.overlap)  # validates the pair
        self.codec_chunk_frames = codec_chunk_frames
        selected: SelectedBackend = select_backend(
            backend, self.model, self.device, model_hash, self.window
        )
        self.backend, self.backend_note, self._body = selected.name, selected.note, selected.body
        if self.backend == "tensorrt" and precision == "bf16":
            raise UserError("--backend tensorrt picks its own fp16 kernels; use --precision auto")
        self.dtype = resolve_precision(precision, self.device, self.backend)
        self.model.to(self.dtype)  # in place: a compiled body sees the converted weights
        self._fits: dict[str, PromptFit] = {}  # prompt_key -> its fit, the latest last

    @property
    def precision(self) -> str:
        return "bf16" if self.dtype == torch.bfloat16 else "fp32"

    @classmethod
    def load(
        cls,
        model: str | Path = "default",
        device: str = "cpu",
        backend: str = "auto",
        codec_path: str | Path | None = None,
        **engine_options: Unpack[EngineOptions],
    ) -> Engine:
        """Load a model folder (or the packaged `default`) and its codec once."""
        folder = resolve_model_dir(model)
        dev = resolve_device(device)
        lm, info = load_model(folder, "cpu")
        codec = load_model_codec(folder, info, codec_path, str(dev))
        return cls(
            lm, info, codec, str(dev), backend, checkpoint_hash(folder), folder,
            **engine_options,
        )  # fmt: skip

    # -- what callers ask about ------------------------------------------------------------

    @property
    def kits(self) -> tuple[str, ...]:
        return self.info.kits

    @property
    def sample_rate(self) -> int:
        """The codec's rate: what a render gives when no rate is asked for."""
        return int(self.codec.sample_rate)

    def kit_index(self, name: str | None) -> int:
        if name is None:
            return 0
        if name not in self.kits:
            saved = f", and the saved prompt kits {', '.join(saved_kits()) or '(none)'}"
            raise UnknownKit(
                f"unknown kit {name!r}; this model knows {', '.join(self.kits)}"
                + (saved if self.prompted else "")
            )
        return self.kits.index(name)

    def kit_prompt(self, name: str | None) -> Prompt | None:
        """The saved prompt kit a kit name means, where the model has no kit of that name
        and renders from prompts; None for the model's own kits."""
        if name is None or name in self.kits or not self.prompted:
            return None
        return load_named_kit(name)

    @property
    def prompted(self) -> bool:
        """Does the model render from kit prompts as well as by kit name?"""
        return self.info.config.prompted

    def require_prompted(self) -> None:
        if not self.prompted:
            raise UserError(
                "this model renders by kit name only (it was not trained on kit prompts); "
                "pass a kit name, or load a prompted model"
            )

    def check_prompt(self, prompt: Prompt) -> None:
        """A prompt this model can render from: a prompted model, the model's token space."""
        self.require_prompted()
        ours = (self.info.codec_id, self.info.codec_config_hash)
        if (prompt.codec_id, prompt.config_hash) != ours:
            raise UserError(
                f"prompt {prompt.source}: its tokens are {prompt.codec_id} "
                f"({prompt.config_hash}), this model's are {ours[0]} ({ours[1]}); make the "
                "prompt again from its audio"
            )

    def check(
        self, performance: Performance, options: RenderOptions, prompt: Prompt | None = None
    ) -> None:
        """Everything about a request that can be refused before any work (the daemon calls
        this at enqueue time)."""
        prompt = prompt or self.kit_prompt(options.kit)
        if prompt is not None:
            self.check_prompt(prompt)
        else:
            self.kit_index(options.kit)
        if not performance.hits:
            unknown = ", ".join(str(p) for p in performance.unknown_pitches)
            hint = f" (pitches {unknown} are not drum notes drumgrid maps)" if unknown else ""
            raise MidiError(f"the clip has no drum hits to render{hint}")
        if performance.length_s > self.max_length_s:
            raise TooLong(
                f"the clip is {performance.length_s:.1f} s long; this engine renders at most "
                f"{self.max_length_s:.0f} s"
            )

    # -- rendering -------------------------------------------------------------------------

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def render_tokens(
        self,
        performance: Performance,
        options: RenderOptions,
        n_frames: int,
        timings: RenderTimings,
        progress: Callable[[int, int], None] | None = None,  # (units done, units in all)
        cancelled: Callable[[], bool] | None = None,
        extra_units: int = 0,
        prompt: Prompt | None = None,
    ) -> torch.Tensor:  # [B, K, n_frames]
        """The token stream for frames [0, n_frames), window by window (module docstring)."""
        K, V = self.model.n_codebooks, self.model.codebook_size
        B = options.variations
        kit_id = self.kit_index(options.kit) if prompt is None else 0
        decode_options = options.decode_options(K)
        t0 = time.perf_counter()
        cond = frame_conditioning(
            performance, self.info.frame_rate, 0, n_frames, kit=kit_id, features=self.info.features
        )
        features = torch.from_numpy(cond.features).to(self.device)  # [T, F]
        kit: torch.Tensor | None = torch.full((B,), kit_id, dtype=torch.long, device=self.device)
        memory = None
        if prompt is not None:
            memory, kit = self.remember(prompt), None
        timings.conditioning += time.perf_counter() - t0

        windows = plan_windows(n_frames, self.window, self.overlap)
        calls = decode_options.n_calls(K)
        total_units = len(windows) * calls + extra_units
        tokens = torch.full((B, K, n_frames), V, dtype=torch.long, device=self.device)
        for w, win in enumerate(windows):
            if cancelled is not None and cancelled():
                raise Cancelled("render cancelled")
            t0 = time.perf_counter()
            feats = features[win.start : win.stop].expand(B, -1, -1)  # [B, W, F]
            stopwatch = Stopwatch(self._sync)
            logits_fn = stopwatch.wrap(
                self.model.logits_fn(feats, kit, None, self._body, memory=memory)
            )
            propose = latent_proposal(self.model, feats, kit, None, self.codec.quantize, memory)
            if propose is not None:  # the latent head's codes [B, K, W]
                propose = stopwatch.wrap(propose)
            self._sync()
            timings.conditioning += time.perf_counter() - t0

            def on_step(done: int, _: int, w: int = w) -> None:
                if progress is not None:
                    progress(w * calls + done, total_units)

            t0 = time.perf_counter()
            seeds = [window_seed(options.seed + b, w) for b in range(B)]
            out = decode_tokens(
                logits_fn, (B, K, win.n_frames), V, decode_options,
                known=tokens[:, :, win.start : win.stop], seeds=seeds, device=self.device,
                on_step=on_step, propose=propose,
            )  # fmt: skip
            self._sync()
            timings.transformer += stopwatch.seconds
            timings.sampling += time.perf_counter() - t0 - stopwatch.seconds
            tokens[:, :, win.start : win.stop] = out
        return tokens

    def read_prompt(self, request: PromptRequest, read: Reader = read_file) -> Prompt:
        """A prompt's files, read through `read`, encoded with this model's codec."""
        self.require_prompted()
        return read_prompt(request, self.codec, read)

    def fit_prompt(self, prompt: Prompt) -> PromptFit:
        """Whether the prompt sounds like a kit the model knows (server/prompt_fit.py). The
        answers for the last FITS_KEPT prompts are kept: a producer renders clip after clip
        from one prompt, and stems render each class from it again."""
        key = prompt_key(prompt)
        fit = self._fits.pop(key, None)
        if fit is None:
            self.check_prompt(prompt)
            fit = nearest_known_kit(self, prompt)
        self._fits[key] = fit
        while len(self._fits) > FITS_KEPT:
            del self._fits[next(iter(self._fits))]
        return fit

    def remember(self, prompt: Prompt) -> PromptMemory:
        """The prompt's tokens and grid through the body once, for every window to attend to."""
        self.check_prompt(prompt)
        n = prompt.tokens.shape[1]
        cond = frame_conditioning(
            prompt.performance, self.info.frame_rate, 0, n, features=self.info.features
        )
        tokens = torch.from_numpy(prompt.tokens).to(self.device)[None]  # [1, K, P]
        features = torch.from_numpy(cond.features).to(self.device)[None]  # [1, P, F]
        return self.model.remember(tokens, features)

    def render(
        self,
        performance: Performance,
        options: RenderOptions | None = None,
        progress: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        prompt: Prompt | None = None,
    ) -> list[RenderResult]:
        """One RenderResult per take (options.variations), each `length_s + tail` long at the
        requested rate. `progress(fraction)` is called after every model call and codec chunk;
        `cancelled()` is polled between windows and chunks and raises Cancelled. With a
        `prompt`, the takes are in its sound instead of options.kit's."""
        options = options or RenderOptions()
        start = time.perf_counter()
        self.check(performance, options, prompt)
        prompt = prompt or self.kit_prompt(options.kit)
        fit = None
        if prompt is not None and options.prompt_fit:
            fit = self.fit_prompt(prompt)
            if fit.kit is not None:
                prompt, options = None, replace(options, kit=fit.kit)
        timings = RenderTimings()
        tail = self.tail_s if options.tail_s is None else options.tail_s
        duration = performance.length_s + tail
        n_codec = max(1, round(duration * self.codec.sample_rate))  # samples at the codec rate
        n_frames = self.codec.n_frames(n_codec)
        n_chunks = -(-n_frames // self.codec_chunk_frames)

        def report(done: int, total: int) -> None:
            if progress is not None:
                progress(min(1.0, done / max(total, 1)))

        with torch.inference_mode():
            tokens = self.render_tokens(
                performance, options, n_frames, timings, report, cancelled, n_chunks, prompt
            )  # [B, K, T]
            windows_units = len(plan_windows(n_frames, self.window, self.overlap)) * (
                options.decode_options(self.model.n_codebooks).n_calls(self.model.n_codebooks)
            )
            chunks_done = itertools.count()

            def check() -> None:  # between codec chunks: progress, then cancellation
                if cancelled is not None and cancelled():
                    raise Cancelled("render cancelled")
                report(windows_units + next(chunks_done), windows_units + n_chunks)

            t0 = time.perf_counter()
            wave = decode_chunked(
                self.codec, tokens, n_codec, self.codec_chunk_frames, check=check
            )  # [B, n_codec]
            self._sync()
            timings.codec += time.perf_counter() - t0
        report(1, 1)

        t0 = time.perf_counter()
        rate = options.sample_rate or self.sample_rate
        n_out = max(1, round(duration * rate))
        results = []
        waves = wave.float().cpu().numpy()  # [B, n_codec]
        mask = ring_mask(performance, n_out, rate) if options.gate else None
        for b in range(options.variations):
            y = resample(waves[b], self.sample_rate, rate)[:n_out]  # [N]
            if y.shape[0] < n_out:
                y = np.pad(y, (0, n_out - y.shape[0]))
            if mask is not None:
                y = y * mask
            audio = np.ascontiguousarray(np.repeat(y[:, None], options.channels, axis=1))
            results.append(
                RenderResult(
                    audio,
                    rate,
                    options.seed + b,
                    n_out / rate,
                    tokens[b].cpu(),
                    self.backend,
                    str(self.device),
                    timings,
                    fit,
                )
            )
        timings.resample += time.perf_counter() - t0
        timings.total = time.perf_counter() - start
        return results

    def warmup(self) -> None:
        """One short render, so first-call costs (allocator, torch.compile's graphs, TensorRT
        context) are paid before a user waits on a render."""
        from drumgrid.server.performance import from_note_list

        clip = from_note_list([(0.0, 36, 100)], 120.0, 2.0)
        self.render(clip, RenderOptions(decoding="parallel", tail_s=0.0))
        self.render(clip, RenderOptions(decoding="iterative", steps=1, tail_s=0.0))
