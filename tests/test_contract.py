"""The render contract (drumgrid.bridge.contract) is the one copy every user reads: the OSC
protocol, the engine's RenderOptions and decoding defaults, the CLI's defaults, the daemon's
ports and take names, and the docs' option table agree with it."""

from __future__ import annotations

import argparse
import re

import pytest
from paths import REPO

from drumgrid.bridge import contract as c
from drumgrid.bridge import protocol as p
from drumgrid.server.errors import UserError


def test_the_protocol_takes_the_contracts_options_with_their_types():
    # the wire's option keys, in the order error messages list them, and their OSC types
    wire = "kit s seed i decoding s steps i temperature f top_k i top_p f sample_rate i " + (
        "variations i out s reply_port i channel s note_map s name s peak f loudness f gate i "
        "prompt_fit i "
        "prompt s prompt_midi s prompt_notes s prompt_shots s save_kit s"
    )
    words = wire.split()
    assert list(p.OPTION_TYPES.items()) == list(zip(words[::2], words[1::2], strict=True))
    assert list(c.OPTIONS) == list(p.OPTION_TYPES)
    groups = {*p.ROUTING_OPTIONS, *p.INPUT_OPTIONS, *p.LEVEL_OPTIONS, *p.PROMPT_OPTIONS}
    assert groups == {n for n, spec in c.OPTIONS.items() if spec.group != "render"}


@pytest.mark.parametrize("name", [n for n, s in c.OPTIONS.items() if s.osc_type != "s"])
def test_the_protocol_refuses_just_outside_each_contract_range(name):
    spec = c.OPTIONS[name]
    step = 1 if spec.osc_type == "i" else 1e-3
    edges = [spec.high] + ([] if spec.low_open else [spec.low])
    for value in edges:
        p.check_option(name, int(value) if spec.osc_type == "i" else value)
    for value in (spec.low - step if not spec.low_open else spec.low, spec.high + step):
        with pytest.raises(p.ProtocolError):
            p.check_option(name, int(value) if spec.osc_type == "i" else value)


def test_render_options_and_the_protocol_share_their_limits():
    from drumgrid.server.engine.options import RenderOptions

    for name in ("variations", "sample_rate", "seed"):
        spec = c.OPTIONS[name]
        extra = {"decoding": "iterative"} if name == "variations" else {}
        RenderOptions(**{name: int(spec.high)}, **extra)
        RenderOptions(**{name: int(spec.low)})
        for value in (int(spec.low) - 1, int(spec.high) + 1):
            with pytest.raises(UserError):
                RenderOptions(**{name: value}, **extra)
    RenderOptions(tail_s=c.MAX_TAIL_S)
    with pytest.raises(UserError):
        RenderOptions(tail_s=c.MAX_TAIL_S + 0.1)
    with pytest.raises(UserError, match="parallel, iterative"):
        RenderOptions(decoding="beam")


def test_decode_options_default_to_what_a_render_uses():
    """DecodeOptions() and RenderOptions' iterative decoding use the same steps (the shipped
    behaviour: DEFAULT_COARSE_STEPS on the coarsest level, one step on each finer one)."""
    from drumgrid.server.decoding import DecodeOptions
    from drumgrid.server.engine.options import RenderOptions

    for levels in (1, 4, 8, 9):
        rendered = RenderOptions(decoding="iterative").decode_options(levels)
        assert DecodeOptions().steps_per_level(levels) == rendered.steps_per_level(levels)
        assert rendered.steps_per_level(levels) == (c.DEFAULT_COARSE_STEPS,) + (1,) * (levels - 1)
    default = DecodeOptions()
    assert (default.temperature, default.top_k, default.top_p) == (
        c.DEFAULT_TEMPERATURE, c.DEFAULT_TOP_K, c.DEFAULT_TOP_P,
    )  # fmt: skip
    assert DecodeOptions().n_calls(4) == c.DEFAULT_COARSE_STEPS + 3
    with pytest.raises(ValueError):
        DecodeOptions(steps=())


def _parsed(module_name: str, argv: list[str]) -> argparse.Namespace:
    import importlib

    module = importlib.import_module(f"drumgrid.server.commands.{module_name}")
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def test_the_cli_defaults_are_the_contracts():
    from drumgrid.server.commands.serve import config_from_args
    from drumgrid.server.daemon import DaemonConfig

    render = _parsed("render", ["in.mid", "-o", "out.wav"])
    assert render.max_length == c.DEFAULT_MAX_LENGTH_S == 600.0
    serve = _parsed("serve", [])
    assert serve.max_length == c.DEFAULT_MAX_LENGTH_S
    assert (serve.host, serve.port, serve.tcp_port) == (
        c.DEFAULT_HOST, c.DEFAULT_UDP_PORT, c.DEFAULT_TCP_PORT,
    )  # fmt: skip
    assert config_from_args(serve, "m") == DaemonConfig(model_name="m")
    send = _parsed("send", ["ping"])
    assert send.host == c.DEFAULT_HOST


def test_cli_and_daemon_name_takes_alike(tmp_path):
    from drumgrid.server.daemon.renders import output_paths

    cli = c.take_paths(tmp_path / "take.wav", 3)
    assert [path.name for path in cli] == ["take.wav", "take-v2.wav", "take-v3.wav"]
    assert output_paths(tmp_path, "j1", "take.wav", 3) == cli
    named = output_paths(tmp_path, "job 7", None, 2, "Verse beat")
    assert [path.name for path in named] == ["Verse_beat-job_7.wav", "Verse_beat-job_7-v2.wav"]
    assert named[0].name == c.default_take_name("Verse beat", "job 7")
    assert all(c.OUT_NAME.fullmatch(path.name) for path in cli + named)


def test_the_docs_option_table_lists_the_contracts_options():
    text = (REPO / "docs" / "osc.md").read_text()
    rows = re.findall(r"^\| (\w+) \| ([sif])\b", text, re.MULTILINE)
    assert dict(rows) == {name: spec.osc_type for name, spec in c.OPTIONS.items()}
    assert f"UDP port {c.DEFAULT_UDP_PORT}" in text and f"TCP port {c.DEFAULT_TCP_PORT}" in text
    steps = re.search(r"^\| steps \| i \| .* \| (\d+) \|$", text, re.MULTILINE)
    assert steps is not None and int(steps[1]) == c.DEFAULT_COARSE_STEPS
    assert f"| variations | i | 1..{c.MAX_VARIATIONS} " in text
