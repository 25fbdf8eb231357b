"""Building blocks: ConvNeXt blocks over frames, and STFT/iSTFT that give exactly one frame
per hop (T frames for T * hop samples) so the codec contract holds without trimming tricks."""

from __future__ import annotations

import torch
from torch import nn


class ConvNeXtBlock(nn.Module):
    """Depthwise conv over time, LayerNorm, pointwise MLP, layer scale, residual."""

    def __init__(self, dim: int, expansion: int, kernel_size: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = nn.Linear(dim, expansion * dim)
        self.act = nn.GELU()
        self.pw2 = nn.Linear(expansion * dim, dim)
        self.scale = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, T] -> [B, C, T]
        y = self.dwconv(x).transpose(1, 2)  # [B, T, C]
        y = self.pw2(self.act(self.pw1(self.norm(y))))
        return x + (self.scale * y).transpose(1, 2)


class ConvNeXtStack(nn.Module):
    def __init__(
        self, in_dim: int, dim: int, out_dim: int, blocks: int, expansion: int, kernel_size: int
    ) -> None:
        super().__init__()
        self.proj_in = nn.Conv1d(in_dim, dim, 1)  # the blocks give the temporal context
        self.norm_in = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(dim, expansion, kernel_size) for _ in range(blocks)
        )
        self.norm_out = nn.LayerNorm(dim, eps=1e-6)
        self.proj_out = nn.Linear(dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C_in, T] -> [B, T, C_out]
        x = self.norm_in(self.proj_in(x).transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.proj_out(self.norm_out(x.transpose(1, 2)))


class FrameSTFT(nn.Module):
    """STFT with (n_fft - hop) / 2 samples of padding on each side and no centring: N = T * hop
    samples give exactly T frames, frame t centred on samples [t * hop, (t + 1) * hop)."""

    window: torch.Tensor  # [n_fft] Hann, a buffer: it follows the module's device

    def __init__(self, n_fft: int, hop_length: int) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop_length
        self.pad = (n_fft - hop_length) // 2
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:  # [B, N] -> complex [B, F, T]
        x = nn.functional.pad(wave[:, None], (self.pad, self.pad), mode="constant")[:, 0]
        return torch.stft(
            x, self.n_fft, self.hop, window=self.window, center=False, return_complex=True
        )


class FrameISTFT(nn.Module):
    """Inverse of FrameSTFT by windowed overlap-add: T frames give exactly T * hop samples.

    When the hop divides n_fft (as in every preset), overlap-add is n_fft / hop shifted adds
    of [B, T, hop] blocks, several times faster on a CPU than `fold`; the window-square
    normalisation depends only on T and is cached.
    """

    window: torch.Tensor  # [n_fft] Hann, a buffer: it follows the module's device

    def __init__(self, n_fft: int, hop_length: int) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop_length
        self.pad = (n_fft - hop_length) // 2
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self._envelopes: dict[tuple[int, str], torch.Tensor] = {}

    def _overlap_add(self, frames: torch.Tensor) -> torch.Tensor:  # [B, n_fft, T] -> [B, L]
        b, _, t = frames.shape
        out_len = (t - 1) * self.hop + self.n_fft
        if self.n_fft % self.hop:
            fold = dict(output_size=(1, out_len), kernel_size=(1, self.n_fft), stride=(1, self.hop))
            return nn.functional.fold(frames, **fold)[:, 0, 0]
        r = self.n_fft // self.hop
        blocks = frames.view(b, r, self.hop, t).permute(0, 1, 3, 2)  # [B, r, T, hop]
        y = frames.new_zeros(b, t + r - 1, self.hop)
        for j in range(r):
            y[:, j : j + t] += blocks[:, j]
        return y.reshape(b, out_len)

    def _envelope(self, t: int) -> torch.Tensor:  # [T * hop]
        key = (t, str(self.window.device))
        env = self._envelopes.get(key)
        if env is None:
            sq = (self.window**2)[None, :, None].expand(1, -1, t)
            env = self._overlap_add(sq)[0, self.pad : self.pad + t * self.hop].clamp_min(1e-8)
            if len(self._envelopes) > 16:
                self._envelopes.clear()
            self._envelopes[key] = env
        return env

    def forward(self, spec: torch.Tensor) -> torch.Tensor:  # complex [B, F, T] -> [B, T * hop]
        t = spec.shape[-1]
        frames = torch.fft.irfft(spec, n=self.n_fft, dim=1) * self.window[None, :, None]
        y = self._overlap_add(frames)[:, self.pad : self.pad + t * self.hop]
        return y / self._envelope(t)
