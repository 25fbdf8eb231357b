"""The exported body (what TensorRT compiles): dynamic in frames and batch, equal to eager at
two lengths after a save/load round trip, written by `drumgrid export`."""

from __future__ import annotations

import torch
from engine_helpers import make_model_dir

from drumgrid.server.engine.export import export_body, load_exported, save_exported
from drumgrid.server.model.folder import load_model
from drumgrid.training.cli import main

torch.set_num_threads(1)


def test_export_round_trip_at_two_lengths(tmp_path, capsys):
    folder = make_model_dir(tmp_path, max_frames=96)
    model, _ = load_model(folder)
    out = tmp_path / "body.pt2"
    assert main(["export", "--model", str(folder), "--out", str(out)]) == 0
    assert "matches eager" in capsys.readouterr().out
    program, meta = load_exported(out)
    assert meta["frames"] == [2, 96] and meta["n_codebooks"] == 8
    body = program.module()
    g = torch.Generator().manual_seed(1)
    for B, T in ((1, 7), (3, 96)):  # lengths other than the ones checked at export time
        x = torch.randn(B, T, model.cond_proj.out_features, generator=g)  # [B, T, D]
        with torch.no_grad():
            torch.testing.assert_close(body(x), model.body(x), atol=1e-5, rtol=1e-5)


def test_export_api_saves_what_it_checked(tmp_path):
    model, _ = load_model(make_model_dir(tmp_path, max_frames=32))
    path = save_exported(export_body(model, max_batch=2), tmp_path / "b.pt2", {"k": 1})
    program, meta = load_exported(path)
    assert meta == {"k": 1}
    x = torch.randn(2, 20, model.cond_proj.out_features)
    with torch.no_grad():
        assert program.module()(x).shape == (2, 8, 20, 1024)
