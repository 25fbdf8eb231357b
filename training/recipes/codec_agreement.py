"""How near are two drum codecs' token spaces? Can a model trained on one seed a model of the
other (`drumgrid train --transfer`, training/lm/transfer.py)? On the same audio: each level's
share of frames with the same code index; the second codec's latent against the first's
(normalised squared error); and, fitted on half the files and scored on the other half, how
often the first codec's code is the one its second-codec code co-occurs with most.

    .venv/bin/python training/recipes/codec_agreement.py CORPUS [FILES] [OLD_ID NEW_ID]

CORPUS: a corpus folder (`drumgrid corpus`); the first FILES (default 40) of its WAV or FLAC
files are read, 8 s each. The codecs default to drumgrid-drums and drumgrid-drums-2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from drumgrid.server.codecs.registry import load_codec

SECONDS = 8.0


def main(corpus: Path, n_files: int, old_id: str, new_id: str) -> None:
    old, new = load_codec(old_id), load_codec(new_id)
    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".wav", ".flac"))[:n_files]
    if len(files) < 2:
        sys.exit(f"{corpus}: fewer than 2 audio files; pass a corpus folder")
    pairs, nmse = [], []
    with torch.no_grad():
        for f in files:
            wave, rate = sf.read(f, dtype="float32", frames=int(SECONDS * old.sample_rate))
            if rate != old.sample_rate or rate != new.sample_rate:
                sys.exit(f"{f}: {rate} Hz, the codecs read {old.sample_rate} / {new.sample_rate}")
            wave = wave.mean(1) if wave.ndim > 1 else wave
            K = old.n_codebooks
            a, b = old.encode(wave).reshape(K, -1), new.encode(wave).reshape(K, -1)
            n = min(a.shape[1], b.shape[1])
            a, b = a[:, :n], b[:, :n]
            z_old, z_new = old.latents(a[None]), new.latents(b[None])
            nmse.append(float((z_new - z_old).square().mean() / z_old.square().mean()))
            pairs.append((a.numpy(), b.numpy()))
    K, V = pairs[0][0].shape[0], new.codebook_size
    fit, held = pairs[::2], pairs[1::2]
    counts = np.zeros((K, V, old.codebook_size), np.int64)
    for t_old, t_new in fit:
        for k in range(K):
            np.add.at(counts[k], (t_new[k], t_old[k]), 1)
    commonest = counts.argmax(-1)  # [K, V]

    def share(hit) -> list[float]:
        return [round(float(np.mean(np.concatenate([hit(o, w, k) for o, w in held]))), 3)
                for k in range(K)]  # fmt: skip

    print(f"{len(files)} files, {SECONDS:g} s each; {old_id} -> {new_id}")
    print(f"latent nmse of {new_id} to {old_id}: {np.mean(nmse):.3f}")
    print("same code index, per level:", share(lambda o, w, k: o[k] == w[k]))
    print("co-occurrence map, held-out files:", share(lambda o, w, k: commonest[k][w[k]] == o[k]))


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    ids = args[2:4] if len(args) >= 4 else ["drumgrid-drums", "drumgrid-drums-2"]
    main(Path(args[0]), int(args[1]) if len(args) > 1 else 40, ids[0], ids[1])
