"""Tiny sample kits written into a test's tmp folder: an SFZ kit and a Hydrogen kit (both
drumkit.xml layouts) over the same synthesized samples. Every sample is a decaying sine of
its own frequency, so a test can tell from the audio which sample (and so which velocity
layer) played; one starts after 3 ms of silence, which the renderer must take off."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SR = 48000  # the samples' rate; kits render at the corpus rate, resampled by sfizz
# sample file -> (frequency Hz, decay per second, leading silence s, length s)
SAMPLES = {
    "kick_soft.wav": (110.0, 40.0, 0.0, 0.3),
    "kick_hard.wav": (170.0, 40.0, 0.0, 0.3),
    "snare.flac": (330.0, 50.0, 0.003, 0.3),
    "hat_closed.aiff": (2500.0, 60.0, 0.0, 0.2),
    "hat_open.wav": (4000.0, 1.0, 0.0, 1.5),
    "cowbell.wav": (800.0, 30.0, 0.0, 0.3),
}
KICK_SPLIT = 64  # MIDI velocities 1-63 play kick_soft, 64-127 kick_hard


def write_samples(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (freq, decay, lead, length) in SAMPLES.items():
        t = np.arange(int(length * SR)) / SR
        tone = 0.8 * np.sin(2 * np.pi * freq * t) * np.exp(-decay * t)
        wave = np.concatenate([np.zeros(int(lead * SR)), tone]).astype(np.float32)
        sf.write(str(folder / name), wave, SR)


SFZ = """// a four-piece test kit: two kick layers, a snare, hi-hats that choke
#define $KICK 36
<control> default_path=samples/
<global> loop_mode=one_shot
<group> key=$KICK
<region> sample=kick_soft.wav hivel=63
<region> sample=kick_hard.wav lovel=64
<group>
<region> key=d2 sample=snare.flac
/* the open hat (group 2) is cut by the closed one (group 1) */
<region> key=42 sample=hat_closed.aiff group=1
<region> key=46 sample=hat_open.wav group=2 off_by=1
"""


def sfz_kit(folder: Path, text: str = SFZ, licence: bool = True) -> Path:
    """An SFZ kit in `folder` (samples in a subfolder); returns the .sfz file."""
    write_samples(folder / "samples")
    (folder / "kit.sfz").write_text(text)
    if licence:
        (folder / "LICENSE").write_text("CC0 1.0 Universal (test samples)\n")
    return folder / "kit.sfz"


# (name, MIDI note in the newer layout, mute group, [(sample, min, max)])
INSTRUMENTS = [
    ("Kick", 36, -1, [("kick_soft.wav", 0.0, 63.5 / 127), ("kick_hard.wav", 63.5 / 127, 1.0)]),
    ("Snare", 38, -1, [("snare.flac", 0.0, 1.0)]),
    ("Hat Closed", 42, 1, [("hat_closed.aiff", 0.0, 1.0)]),
    ("Hat Open", 46, 1, [("hat_open.wav", 0.0, 1.0)]),
    ("Cowbell", 60, -1, [("cowbell.wav", 0.0, 1.0)]),
    ("Zap", 90, -1, [("cowbell.wav", 0.0, 1.0)]),
]


def _layers(layers: list[tuple[str, float, float]]) -> str:
    return "".join(
        f"<layer><filename>{f}</filename><min>{lo:.6f}</min><max>{hi:.6f}</max>"
        "<gain>1</gain><pitch>0</pitch></layer>"
        for f, lo, hi in layers
    )


def drumkit_xml(layout: str, licence: str | None = "CC0", instruments=INSTRUMENTS) -> str:
    """A drumkit.xml: `layer` is the layout before Hydrogen 0.9.7 (layers under the
    instrument, pan_L/pan_R, no MIDI notes: names decide), `component` the newer one (layers
    under <instrumentComponent>, one <pan>, <midiOutNote>)."""
    parts = []
    for i, (name, note, group, layers) in enumerate(instruments):
        if layout == "layer":
            body = f"<pan_L>1</pan_L><pan_R>1</pan_R>{_layers(layers)}"
        else:
            body = (f"<pan>0</pan><midiOutNote>{note}</midiOutNote><instrumentComponent>"
                    f"<component_id>0</component_id><gain>1</gain>{_layers(layers)}"
                    "</instrumentComponent>")  # fmt: skip
        parts.append(
            f"<instrument><id>{i}</id><name>{name}</name><volume>1</volume><gain>1</gain>"
            f"<muteGroup>{group}</muteGroup>{body}</instrument>"
        )
    namespace = ' xmlns="http://www.hydrogen-music.org/drumkit"' if layout == "component" else ""
    components = (
        "<componentList><drumkitComponent><id>0</id><name>Main</name><volume>1</volume>"
        "</drumkitComponent></componentList>"
        if layout == "component"
        else ""
    )
    tag = f"<license>{licence}</license>" if licence else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<drumkit_info{namespace}><name>Test Kit</name>'
        f"<author>drumgrid tests</author>{tag}{components}<instrumentList>{''.join(parts)}"
        "</instrumentList></drumkit_info>\n"
    )


def hydrogen_kit(folder: Path, layout: str, **kwargs) -> Path:
    """A Hydrogen kit folder; returns it."""
    write_samples(folder)
    (folder / "drumkit.xml").write_text(drumkit_xml(layout, **kwargs))
    return folder


# Two bars of sixteenths at 100 bpm, one hit per step so each onset can be measured alone;
# kick velocities on both sides of the layer split. (step, pitch, velocity)
GROOVE = [
    (0, 36, 100), (2, 42, 70), (4, 38, 90), (6, 42, 40), (8, 36, 50), (10, 42, 90),
    (12, 38, 60), (14, 42, 30), (16, 36, 127), (18, 42, 80), (20, 38, 110), (22, 42, 50),
    (24, 36, 63), (25, 36, 64), (28, 38, 30), (30, 42, 100),
]  # fmt: skip
STEP_S = 60 / 100 / 4


def groove_hits(seed: int = 3) -> list[tuple[float, int, int]]:
    """GROOVE with up to 10 ms of microtiming at arbitrary sub-sample positions."""
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(-0.01, 0.01, len(GROOVE))
    return [(0.1 + s * STEP_S + j, p, v) for (s, p, v), j in zip(GROOVE, jitter, strict=True)]


def onset_ms(wave: np.ndarray, sr: int, t: float) -> float:
    """Independent onset detector: the first sample reaching 10% of the peak within 60 ms
    of t (from 3 ms before), as ms after t."""
    s = int((t - 0.003) * sr)
    seg = np.abs(wave[s : s + int(0.063 * sr)])
    return ((s + int(np.argmax(seg >= 0.1 * seg.max()))) / sr - t) * 1000


def sample_played(wave: np.ndarray, sr: int, t: float) -> str:
    """Which sample sounds in the 30 ms after t: the one whose frequency is strongest."""
    seg = wave[int(t * sr) : int((t + 0.03) * sr)]
    time = np.arange(len(seg)) / sr
    power = {name: abs(np.sum(seg * np.exp(-2j * np.pi * f * time))) for name, (f, *_) in
             SAMPLES.items()}  # fmt: skip
    return max(power, key=power.__getitem__)


def band_level(wave: np.ndarray, sr: int, freq: float, t0: float, t1: float) -> float:
    """The amplitude at `freq` between t0 and t1 (seconds)."""
    seg = wave[int(t0 * sr) : int(t1 * sr)]
    time = np.arange(len(seg)) / sr
    return float(abs(np.sum(seg * np.exp(-2j * np.pi * freq * time))) / max(1, len(seg)))


def expected_sample(pitch: int, velocity: int) -> str:
    """The sample file the test kits play for a GM pitch and velocity."""
    names = {38: "snare.flac", 42: "hat_closed.aiff", 46: "hat_open.wav"}
    if pitch == 36:
        return "kick_hard.wav" if velocity >= KICK_SPLIT else "kick_soft.wav"
    return names[pitch]
