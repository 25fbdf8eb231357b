"""The render contract: what a render may ask for (option names, OSC types, defaults,
ranges), the limits it runs under, where the daemon listens, and what its takes are called.

It lives in the bottom layer so that every user reads this one copy: the OSC protocol
(bridge/protocol), the Python client, the CLI (`drumgrid render`, `serve`, `send`), the
engine's RenderOptions and decoding defaults, the daemon, and the Max device, which cannot
import Python and gets `max_for_live/contract.json` instead (`python -m
drumgrid.bridge.device_contract` writes it; max_for_live/build.js copies it into drumgrid.js
and the patcher; tests fail when either copy is stale). docs/osc.md describes it for people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# -- where the daemon listens ------------------------------------------------------------------

DEFAULT_HOST = "127.0.0.1"  # loopback: any other address needs --allow-remote
DEFAULT_UDP_PORT = 9000
DEFAULT_TCP_PORT = 9001
MAX_PORT = 65535
# The Max device listens for its replies on one port of this range per instance.
DEVICE_REPLY_PORTS = range(9010, 10000)

# -- limits and defaults of a render -----------------------------------------------------------

DEFAULT_MAX_LENGTH_S = 600.0  # `--max-length`: bounds memory and a runaway daemon job
DEFAULT_TAIL_S = 1.0  # the corpus renders 1 s past the MIDI's end, so models learnt decays there
MAX_TAIL_S = 10.0
MAX_VARIATIONS = 16  # takes of one render, rendered together as one batch
MAX_SEED = 2**62 - 1
SAMPLE_RATES = (8000, 192000)  # Hz, the range a render may be resampled to
DECODING_METHODS = ("parallel", "iterative")
# Iterative defaults, measured on the shipped model's predecessor (docs/architecture.md,
# "Decoding defaults"): fewer coarse steps and a top-k cut both keep renders closer to the grid.
DEFAULT_COARSE_STEPS = 4  # steps of the coarsest level; finer levels take one each
DEFAULT_TEMPERATURE = 1.0
DEFAULT_TOP_K = 5  # 0: off
DEFAULT_TOP_P = 1.0  # 1: off
# Output level (server/levels.py): a sample peak target, or a loudness target under a ceiling.
PEAK_CEILING_DBFS = -1.0
DEFAULT_PEAK_DBFS = PEAK_CEILING_DBFS
PEAK_RANGE = (-60.0, 0.0)  # dBFS
LOUDNESS_RANGE = (-70.0, -5.0)  # LUFS
MAX_NOTE_MAP = 1024  # characters: a full map of 128 pitches is about 1 KB
MAX_NAME = 100  # characters of the `name` option
MAX_PROMPT_PATH = 1024  # characters of a prompt file's path
MAX_PROMPT_SHOTS = 4096  # characters of `prompt_shots` (CLASS=PATH;CLASS=PATH;...)
MAX_PROMPT_NOTES = 4096  # characters of `prompt_notes` (about 250 notes)
MAX_KIT_NAME = 64  # characters of a saved prompt kit's name


@dataclass(frozen=True)
class OptionSpec:
    """One option of a render request (`<key:s> <value>` over OSC): its OSC type and what
    values it takes. `group` says who reads it: the engine (render), where files and replies
    go (routing), how the input is read (input), or the output level (level)."""

    osc_type: str  # "s", "i" or "f"
    group: str = "render"
    low: float = 0  # numbers: the range [low, high] ...
    high: float = 0
    low_open: bool = False  # ... or (low, high]
    max_chars: int = 0  # strings: 1..max_chars characters
    choices: tuple[str, ...] = ()  # strings: one of these, when given
    flag: bool = False  # an `i` slot of 0 or 1 read as a boolean


# The options in the order the protocol lists them (its error messages name them so).
OPTIONS: dict[str, OptionSpec] = {
    "kit": OptionSpec("s", max_chars=128),
    "seed": OptionSpec("i", low=0, high=MAX_SEED),
    "decoding": OptionSpec("s", max_chars=32, choices=DECODING_METHODS),
    "steps": OptionSpec("i", low=1, high=64),
    "temperature": OptionSpec("f", low=0.0, high=10.0),
    "top_k": OptionSpec("i", low=0, high=1 << 20),
    "top_p": OptionSpec("f", low=0.0, high=1.0, low_open=True),
    "sample_rate": OptionSpec("i", low=SAMPLE_RATES[0], high=SAMPLE_RATES[1]),
    "variations": OptionSpec("i", low=1, high=MAX_VARIATIONS),
    "out": OptionSpec("s", "routing", max_chars=128),
    "reply_port": OptionSpec("i", "routing", low=1, high=MAX_PORT),
    "channel": OptionSpec("s", "input", max_chars=64),
    "note_map": OptionSpec("s", "input", max_chars=MAX_NOTE_MAP),
    "name": OptionSpec("s", "routing", max_chars=MAX_NAME),
    "peak": OptionSpec("f", "level", low=PEAK_RANGE[0], high=PEAK_RANGE[1]),
    "loudness": OptionSpec("f", "level", low=LOUDNESS_RANGE[0], high=LOUDNESS_RANGE[1]),
    "gate": OptionSpec("i", low=0, high=1, flag=True),
    "prompt_fit": OptionSpec("i", low=0, high=1, flag=True),
    "prompt": OptionSpec("s", "prompt", max_chars=MAX_PROMPT_PATH),
    "prompt_midi": OptionSpec("s", "prompt", max_chars=MAX_PROMPT_PATH),
    "prompt_notes": OptionSpec("s", "prompt", max_chars=MAX_PROMPT_NOTES),
    "prompt_shots": OptionSpec("s", "prompt", max_chars=MAX_PROMPT_SHOTS),
    "save_kit": OptionSpec("s", "prompt", max_chars=MAX_KIT_NAME),
}


def options_in(group: str) -> tuple[str, ...]:
    return tuple(name for name, spec in OPTIONS.items() if spec.group == group)


# -- what takes are called -----------------------------------------------------------------------

# `out`: a bare .wav file name inside the render folder; no folders, no '..'.
OUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.wav", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def default_take_name(label: str, job: str) -> str:
    """The daemon's name for a job's first take when `out` does not give one: LABEL-JOB.wav,
    the label being the MIDI file's stem or the clip's `name`, so a producer finds a render by
    what it is and two renders of one clip never replace each other."""
    return f"{_safe(label)}-{_safe(job)}.wav"


def _safe(text: str, limit: int = 40) -> str:
    return _UNSAFE.sub("_", text)[:limit].strip("_") or "job"


def take_paths(first: Path, takes: int) -> list[Path]:
    """Where a render's takes go, the CLI and the daemon alike: take 1 at `first`, takes
    2.. beside it as NAME-v2.wav, NAME-v3.wav, ..."""
    return [first] + [
        first.with_name(f"{first.stem}-v{i}{first.suffix}") for i in range(2, takes + 1)
    ]
