"""Token caches: every audio file of a corpus encoded once by one codec, stored so training
reads windows straight from memory-mapped arrays.

Layout: OUT/cache.json (codec id, config hash, rates, sizes), OUT/tokens/<audio path>.npy
(int16 [K, T] per file, written to a temp name and renamed, so finished files are skipped on
a rerun) and OUT/entries.jsonl (one line of metadata per file, rewritten at the end of each
run). A cache belongs to one codec: opening or extending it with another is refused.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drumgrid.server.codecs.base import Codec
from drumgrid.server.codecs.registry import load_codec
from drumgrid.server.codecs.resample import resample, to_mono
from drumgrid.server.errors import UserError

CACHE_VERSION = 1
CACHE_JSON = "cache.json"
ENTRIES = "entries.jsonl"
DEFAULT_CHUNK_S = 30.0
DEFAULT_OVERLAP_S = 2.0


@dataclass(frozen=True)
class TokenEntry:
    """One encoded file and what training needs to pair it with its MIDI."""

    tokens: str  # .npy path relative to the cache
    n_frames: int
    n_samples: int  # at the codec's sample rate
    kit: str
    bpm: float
    split: str
    midi_filename: str  # relative to the corpus root
    audio_filename: str
    duration: float
    style: str = ""
    beat_type: str = ""
    time_signature: str = ""
    drummer: str = ""
    id: str = ""
    codec_id: str = ""  # repeated from cache.json so an entry stands on its own
    config_hash: str = ""
    frame_rate: float = 0.0


def codec_record(codec: Codec, source: str = "") -> dict[str, object]:
    return {
        "version": CACHE_VERSION,
        "codec_id": codec.id,
        "config_hash": codec.config_hash,
        "sample_rate": codec.sample_rate,
        "hop_length": codec.hop_length,
        "frame_rate": codec.frame_rate,
        "n_codebooks": codec.n_codebooks,
        "codebook_size": codec.codebook_size,
        "dtype": "int16",
        "source": source,
    }


class TokenCache:
    """A finished (or partly finished) cache, opened for reading."""

    def __init__(self, root: Path, meta: dict[str, Any], entries: list[TokenEntry]):
        self.root = root
        self.meta = meta
        self.entries = entries

    @classmethod
    def open(
        cls, root: str | Path, codec_id: str | None = None, config_hash: str | None = None
    ) -> TokenCache:
        """Open `root`; with codec_id / config_hash given, refuse a cache of another codec."""
        root = Path(root)
        meta = _read_meta(root)
        if meta is None:
            raise UserError(f"{root}: not a token cache (no {CACHE_JSON}); run drumgrid tokenize")
        _check_same_codec(root, meta, codec_id, config_hash)
        path = root / ENTRIES
        entries = []
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entries.append(TokenEntry(**json.loads(line)))
        return cls(root, meta, entries)

    @property
    def codec_id(self) -> str:
        return str(self.meta["codec_id"])

    @property
    def frame_rate(self) -> float:
        return float(self.meta["frame_rate"])

    def load_codec(self, codec_path: str | Path | None = None, device: str = "cpu") -> Codec:
        """The codec these tokens came from (the registry's, or `codec_path`'s weights),
        refused when its config hash differs from the cache's."""
        codec = load_codec(self.codec_id, codec_path, device)
        want = str(self.meta["config_hash"])
        if codec.config_hash != want:
            raise UserError(
                f"codec {self.codec_id}{f' from {codec_path}' if codec_path else ''} has config "
                f"hash {codec.config_hash}, the tokens in {self.root} came from {want} (other "
                "weights); pass --codec-path with the codec the token cache was made with"
            )
        if abs(codec.frame_rate - self.frame_rate) > 1e-6:
            raise UserError(
                f"codec frame rate {codec.frame_rate}, cache frame rate {self.frame_rate}; "
                "they must agree"
            )
        return codec

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[TokenEntry]:
        return iter(self.entries)

    def tokens(self, entry: TokenEntry | int) -> np.ndarray:
        """[K, T] int16, memory-mapped (nothing is read until sliced)."""
        e = self.entries[entry] if isinstance(entry, int) else entry
        return np.load(self.root / e.tokens, mmap_mode="r")

    def read_tokens(self, entry: TokenEntry | int) -> np.ndarray:
        """[K, T] int16 in memory, for holding many files at once: a memory map per file
        holds a file open, and a corpus has more files than the open-file limit."""
        return np.array(self.tokens(entry))

    def select(
        self, split: str | None = None, kits: Iterable[str] | None = None
    ) -> list[TokenEntry]:
        ks = set(kits) if kits is not None else None
        return [
            e for e in self.entries
            if (split is None or e.split == split) and (ks is None or e.kit in ks)
        ]  # fmt: skip


def _read_meta(root: Path) -> dict[str, Any] | None:  # cache.json, as JSON
    path = root / CACHE_JSON
    return json.loads(path.read_text()) if path.is_file() else None


def _check_same_codec(
    root: Path, meta: dict[str, Any], codec_id: str | None, config_hash: str | None
) -> None:
    if codec_id is not None and meta.get("codec_id") != codec_id:
        raise UserError(
            f"{root} holds tokens of codec {meta.get('codec_id')}, not {codec_id}; "
            "use another --out for this codec (one cache, one codec)"
        )
    if config_hash is not None and meta.get("config_hash") != config_hash:
        raise UserError(
            f"{root} was built with codec {meta.get('codec_id')} of config hash "
            f"{meta.get('config_hash')}, this codec's is {config_hash} (other weights or "
            "settings); use another --out"
        )


def encode_long(
    codec: Codec,
    wave: np.ndarray,
    chunk_s: float = DEFAULT_CHUNK_S,
    overlap_s: float = DEFAULT_OVERLAP_S,
) -> np.ndarray:
    """wave [N] at codec rate -> tokens [K, ceil(N / hop)], encoded in chunks of `chunk_s`
    with `overlap_s` of context on each side cropped away at frame boundaries, so chunk
    edges see the same surroundings as the middle (no seams) and memory stays bounded."""
    hop = codec.hop_length
    n = wave.shape[0]
    total = codec.n_frames(n)
    step = max(1, round(chunk_s * codec.frame_rate))
    ctx = max(0, round(overlap_s * codec.frame_rate))
    parts = []
    for a in range(0, total, step):
        b = min(total, a + step)
        s0, s1 = max(0, a - ctx), min(total, b + ctx)
        seg = wave[s0 * hop : min(n, s1 * hop)]
        codes = codec.encode(seg).cpu().numpy()  # [K, s1 - s0]
        parts.append(codes[:, a - s0 : b - s0])
    return np.concatenate(parts, axis=1)


# What read_audio accepts, checked from the header before any sample is read: the rates
# audio is recorded and rendered at (render's --sample-rate range), mono to 7.1, and at least
# one sample. A 1 Hz header over 7 KB of data would otherwise resample to 7000 s of audio.
MIN_AUDIO_RATE = 8000
MAX_AUDIO_RATE = 192000
MAX_AUDIO_CHANNELS = 8


def audio_info(path: Path, max_seconds: float | None = None):  # -> soundfile's _SoundFileInfo
    """A sound file's header, checked against the limits above (and `max_seconds` when
    given) without reading its samples; one clear error line for a file that cannot be read."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    expected = (
        f"drumgrid reads WAV files of {MIN_AUDIO_RATE}-{MAX_AUDIO_RATE} Hz with "
        f"1-{MAX_AUDIO_CHANNELS} channels"
    )
    try:
        info = sf.info(str(path))
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = msg.replace(f"Error opening {str(path)!r}: ", "").rstrip(".")
        raise UserError(
            f"{path}: unreadable audio ({msg}); {expected}: re-export or re-render it"
        ) from None
    if not MIN_AUDIO_RATE <= info.samplerate <= MAX_AUDIO_RATE:
        raise UserError(
            f"{path}: sample rate {info.samplerate} Hz; {expected}: resample it (e.g. to 44100 Hz)"
        )
    if not 1 <= info.channels <= MAX_AUDIO_CHANNELS:
        raise UserError(f"{path}: {info.channels} channels; {expected}: mix it down")
    if info.frames < 1:
        raise UserError(f"{path}: holds no samples (0 frames); re-export it")
    seconds = info.frames / info.samplerate
    if max_seconds is not None and seconds > max_seconds:
        raise UserError(
            f"{path}: {seconds:.1f} s of audio, over the {max_seconds:g} s limit (it is "
            "encoded in one piece); trim the file or split it"
        )
    return info


def read_audio(path: Path, sample_rate: int, max_seconds: float | None = None) -> np.ndarray:
    """A sound file (any rate within the limits above, any channels) -> mono float32 at
    `sample_rate`; one clear error line for a file that cannot be read or holds NaN or
    infinite samples."""
    import soundfile as sf

    audio_info(path, max_seconds)
    try:
        wave, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"{path}: unreadable audio ({msg}); re-render it or drop its row from the CSV"
        ) from None
    if wave.shape[0] == 0:
        raise UserError(f"{path}: holds no samples (its header promised some); re-export it")
    finite = np.isfinite(wave).all(axis=1)
    if not finite.all():
        first = int(np.argmin(finite))
        raise UserError(
            f"{path}: {int((~finite).sum())} sample(s) are NaN or infinite (the first at "
            f"{first / rate:.3f} s, frame {first}); the file is damaged: re-export it"
        )
    return resample(to_mono(wave), rate, sample_rate)


def tokenize(
    index,  # drumgrid.training.egmd.EGMDIndex (rows + root)
    codec: Codec,
    out: Path,
    chunk_s: float = DEFAULT_CHUNK_S,
    progress: bool = True,
) -> dict[str, object]:
    """Encode every row's audio into `out` (skipping files already there), then write the
    entry list. Returns counts and the encoding speed."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    meta = _read_meta(out)
    if meta is None:
        rec = codec_record(codec, str(index.root.resolve()))
        tmp = out / f".{CACHE_JSON}.tmp"
        tmp.write_text(json.dumps(rec, indent=2, sort_keys=True))
        os.replace(tmp, out / CACHE_JSON)
    else:
        _check_same_codec(out, meta, codec.id, codec.config_hash)
    if codec.codebook_size > np.iinfo(np.int16).max + 1:
        raise ValueError(f"codebook size {codec.codebook_size} does not fit int16 tokens")
    entries, encoded, encoded_s, spent = [], 0, 0.0, 0.0
    rows = sorted(index, key=lambda r: r.audio_filename)
    for row in tqdm(rows, desc=f"tokenize {codec.id}", unit="file", disable=not progress):
        rel = Path("tokens") / Path(row.audio_filename).with_suffix(".npy")
        dest = out / rel
        if dest.is_file():
            arr = np.load(dest, mmap_mode="r")
            n_frames, n_samples = int(arr.shape[1]), int(arr.shape[1]) * codec.hop_length
            n_samples = _n_samples_of(out, rel, n_samples)
        else:
            t0 = time.perf_counter()
            wave = read_audio(index.audio_path(row), codec.sample_rate)
            codes = encode_long(codec, wave, chunk_s).astype(np.int16)
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.stem}.tmp.npy")
            np.save(tmp, codes)
            n_frames, n_samples = codes.shape[1], wave.shape[0]
            _n_samples_of(out, rel, n_samples, write=True)  # before the rename marks it done
            os.replace(tmp, dest)
            encoded += 1
            spent += time.perf_counter() - t0
            encoded_s += n_samples / codec.sample_rate
        entries.append(
            TokenEntry(
                tokens=str(rel), n_frames=n_frames, n_samples=n_samples, kit=row.kit_name,
                bpm=row.bpm, split=row.split, midi_filename=row.midi_filename,
                audio_filename=row.audio_filename, duration=row.duration, style=row.style,
                beat_type=row.beat_type, time_signature=row.time_signature,
                drummer=row.drummer, id=row.id, codec_id=codec.id,
                config_hash=codec.config_hash, frame_rate=codec.frame_rate,
            )
        )  # fmt: skip
    tmp = out / f".{ENTRIES}.tmp"
    tmp.write_text("".join(json.dumps(asdict(e), sort_keys=True) + "\n" for e in entries))
    os.replace(tmp, out / ENTRIES)
    return {
        "files": len(entries),
        "encoded_files": encoded,
        "encoded_s": encoded_s,
        "seconds": spent,
        "x_realtime": encoded_s / spent if spent else None,
    }


def _n_samples_of(out: Path, rel: Path, n: int, write: bool = False) -> int:
    """Sample counts live beside the tokens (T * hop overstates them by up to a hop)."""
    side = out / rel.with_suffix(".len")
    if write:
        side.write_text(str(n))
        return n
    return int(side.read_text()) if side.is_file() else n
