"""Rendering a MIDI groove through a FluidSynth kit the way the corpus does, for tests that
compare the shipped weights with the sound they were trained on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drumgrid.server.midi_io import read_midi

FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
FLUID_STANDARD = f"fluid-standard={FLUID}:128:0"
needs_fonts = pytest.mark.skipif(not FLUID.is_file(), reason="fluid-soundfont-gm not installed")


def render_groove(midi: Path, kit: str, seconds: float) -> np.ndarray:
    """The groove's hits before `seconds` through the kit, `seconds` long, 44.1 kHz mono."""
    from drumgrid.training.fluidsynth import KitRenderer, parse_kit

    hits = [(h.time_s, h.pitch, h.velocity) for h in read_midi(midi).hits if h.time_s < seconds]
    renderer = KitRenderer(parse_kit(kit), 44100)
    try:
        return renderer.render(hits, seconds)
    finally:
        renderer.close()
