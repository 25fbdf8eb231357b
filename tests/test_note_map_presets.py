"""The drum plug-in note-map presets (server/note_map_presets.py): the pitches their public
sources give (docs/note_maps.md), the articulation fold, and a plug-in's MIDI read the way
the command line reads it, reported in the plug-in's own names."""

from __future__ import annotations

import argparse

import pytest
from factories import make_multitrack_midi

from drumgrid.server.commands.midi_input import add_midi_arguments, read_input
from drumgrid.server.drums import DrumClass
from drumgrid.server.errors import UserError
from drumgrid.server.midi_io import input_report, read_midi
from drumgrid.server.note_maps import (
    PRESET_NAMES,
    PRESET_NOTES,
    PRESETS,
    parse_note_map,
    pitch_name,
)

K, S = DrumClass.KICK, DrumClass.SNARE
HC, HO = DrumClass.HIHAT_CLOSED, DrumClass.HIHAT_OPEN
TL, TM, TH = DrumClass.TOM_LOW, DrumClass.TOM_MID, DrumClass.TOM_HIGH
CR, RD = DrumClass.CRASH, DrumClass.RIDE
PLUGINS = ("ad2", "ezd", "sd3", "ggd-invasion")

# pitch -> class (None: dropped) as each preset's sources name the pitch; see the comments.
EXPECTED: dict[str, dict[int, DrumClass | None]] = {
    "ad2": {
        36: K, 38: S, 37: S,  # Kick, Snare Open Hit, Snare RimShot
        42: S, 44: S,  # Snare SideStick, Snare RimClick (GM's closed and pedal hats)
        48: HC, 49: HC, 53: HC,  # HH Foot Close, HH Closed1 Tip, HH Closed Bell
        54: HO, 57: HO, 59: HO,  # HH Open A, HH Open D, HH Foot Splash
        60: RD, 61: RD, 62: RD, 84: RD,  # Ride 1 Tip / Bell / Shaft, Ride 2 Tip
        65: TL, 67: TL, 69: TM, 71: TH, 72: TH,  # Tom 4, Tom 3, Tom 2, Tom 1 (+ rimshot)
        46: CR, 77: CR, 93: CR,  # Cymbal 1 (dbl), Cymbal 1, Cymbal 6
        63: None, 78: None, 94: None,  # Ride 1 Choke, Cymbal 1 Choke, Cymbal 6 Choke
        47: None, 96: None,  # Flex 1 Hit A, Flex 2 Hit A: user slots
    },
    "ezd": {
        36: K, 35: K, 38: S, 33: S, 37: S, 40: S,  # Kick (+alias), Snare R/L, sidestick, rim
        21: HC, 22: HC, 42: HC, 61: HC, 62: HC, 63: HC,  # pedal, closed edge/tip, tight
        23: HO, 24: HO, 25: HO, 26: HO, 46: HO, 60: HO,  # foot splash, Open 1-3, 2, 4
        41: TL, 43: TL, 45: TM, 47: TM, 48: TH, 50: TH,  # floortom, racktom 2, racktom 1
        49: CR, 57: CR, 27: CR, 51: RD, 53: RD, 59: RD,  # crash A/B (+alias), ride, punch
        54: None, 58: None,  # Crash A Mute, Crash B Mute
    },
    "sd3": {
        35: K, 36: K, 38: S, 39: S, 40: S, 69: S,  # Kick Hit/Open, Center, Ruff, Rim, Flam
        42: HC, 61: HC, 11: HC, 22: HC, 21: HC, 44: HC, 62: HC,  # closed tip/edge, pedal
        12: HO, 17: HO, 24: HO, 46: HO, 60: HO, 64: HO, 23: HO,  # Open Tip 0/5, Edge 1/2/4/0
        41: TL, 43: TL, 45: TM, 47: TM, 48: TH, 82: TH,  # floortoms, racktoms 3/2/1
        49: CR, 52: CR, 55: CR, 57: CR, 86: CR,  # cymbals 2, 5, 3, 4, 1 crash
        51: RD, 53: RD, 59: RD, 116: RD,  # Ride Bow Tip, Bell Shank, Crash, Bow Shank
        50: None, 54: None, 118: None,  # Mute Hits
    },
    "ggd-invasion": {
        22: K, 23: K, 24: K,  # Kick ADK / Left / Right
        26: S, 27: S, 30: S,  # Snare Hit, Flam, Side Stick
        33: TH, 34: TM, 36: TL, 38: TL,  # Rack Tom 1, 2, Floor Tom 1, 3 (36 is no kick here)
        41: HC, 44: HC, 48: HC, 45: HO, 47: HO,  # Tip Tight, Edge Closed, Pedal, Open 1/3
        52: CR, 65: CR, 73: CR, 78: CR,  # Main Crash L, China L, Splash L, Stack
        61: RD, 62: RD, 63: RD,  # Ride Bell, Hit, Edge
        53: None, 66: None, 74: None,  # chokes
    },
}  # fmt: skip


@pytest.mark.parametrize("preset", PLUGINS)
def test_each_preset_plays_the_pitches_its_sources_name(preset):
    note_map = parse_note_map(preset)
    for pitch, cls in EXPECTED[preset].items():
        assert note_map.drum_class(pitch) is cls, (preset, pitch, note_map.names[pitch])
        assert pitch in PRESET_NAMES[preset]  # dropped ones too: named in reports


def test_every_preset_is_sound_and_listed():
    for name, classes in PRESETS.items():
        assert name in PRESET_NOTES
        assert all(0 <= p <= 127 for p in classes), name
        if name != "none":
            assert {K, S} <= set(classes.values()), name  # every preset plays kick and snare
    for name in PLUGINS:
        assert set(PRESETS[name]) <= set(PRESET_NAMES[name])  # every played pitch is named
        assert all(0 <= p <= 127 for p in PRESET_NAMES[name])


def test_preset_names_case_overrides_and_errors(tmp_path):
    assert parse_note_map("AD2").classes == parse_note_map("ad2").classes
    assert parse_note_map(" GGD-Invasion ").drum_class(36) is TL
    rim_clicks_off = parse_note_map("ad2,44=none,75=none")
    assert rim_clicks_off.drum_class(44) is None and rim_clicks_off.drum_class(75) is None
    assert rim_clicks_off.drum_class(38) is S and rim_clicks_off.names == PRESET_NAMES["ad2"]
    assert parse_note_map("ad2,78=crash").drum_class(78) is CR  # a user keeps the chokes
    assert parse_note_map("gm").names is None and parse_note_map("none,44=kick").names is None
    kit = tmp_path / "kit.txt"
    kit.write_text("base SD3\n50 crash  # the mute hit played as a crash\n")
    from_file = parse_note_map(str(kit), allow_files=True)
    assert from_file.drum_class(50) is CR and from_file.drum_class(42) is HC
    assert from_file.names == PRESET_NAMES["sd3"]
    with pytest.raises(UserError, match="unknown preset 'ssd5'") as err:
        parse_note_map("ssd5,36=kick")
    for name in PLUGINS:
        assert f"{name} (" in str(err.value)
    parser = argparse.ArgumentParser()
    add_midi_arguments(parser)
    assert all(name in parser.format_help() for name in PLUGINS)


def ad2_groove(bars: int = 2) -> list[tuple[float, int, int, float]]:
    """A groove as Addictive Drums 2 plays it: kick 36, snare 38, hats on 49 (HH Closed1 Tip)
    opening on 54 (HH Open A) at each bar's end, a fill on the toms 71/69/65, a crash on
    77 choked by 78, a snare rim click on 44."""
    notes = []
    for bar in range(bars):
        b = bar * 4.0
        for e in range(8):
            notes.append((b + e / 2, 54 if e == 7 else 49, 80, 0.25))
        notes += [(b, 36, 110, 0.25), (b + 2, 36, 110, 0.25)]
        notes += [(b + 1, 38, 100, 0.25), (b + 3, 38, 100, 0.25)]
    notes += [(0.0, 77, 120, 1.0), (0.75, 78, 100, 0.1), (1.5, 44, 60, 0.1)]
    notes += [(bars * 4 - 1 + i / 4, p, 100, 0.25) for i, p in enumerate((71, 69, 65, 65))]
    return notes


def test_a_plugin_groove_renders_its_classes_through_the_cli_path(tmp_path):
    path = make_multitrack_midi(tmp_path / "ad2.mid", [("Drums", 10, ad2_groove())])
    parser = argparse.ArgumentParser()
    add_midi_arguments(parser)
    performance, report = read_input(parser.parse_args(["--note-map", "AD2"]), path)
    counts: dict[str, int] = {}
    for hit in performance.hits:
        counts[hit.drum_class.label] = counts.get(hit.drum_class.label, 0) + 1
    assert counts == {
        "hihat_closed": 14, "hihat_open": 2, "kick": 4, "snare": 5, "crash": 1,
        "tom_high": 1, "tom_mid": 1, "tom_low": 2,
    }  # fmt: skip
    assert performance.unknown_pitches == {78: 1}  # the choke is dropped, and counted
    assert "note map AD2: 49 HH Closed1 Tip x14 -> hihat_closed" in report
    assert "note map AD2: 54 HH Open A x2 -> hihat_open" in report
    assert "note map AD2: 44 Snare RimClick x1 -> snare (its side stick)" in report
    assert {h.variant for h in performance.hits if h.pitch == 44} == {"side_stick"}
    assert "note map AD2: 77 Cymbal 1 x1 -> crash" in report
    assert "note map AD2: 78 Cymbal 1 Choke x1: not in the note map, dropped" in report
    assert not any(line.startswith("note map AD2: 36 ") for line in report)  # native: quiet
    # read as General MIDI the same file is cymbals and congas where AD2 has hats and toms
    as_gm = read_midi(path)
    assert {h.drum_class for h in as_gm.hits if h.pitch == 49} == {CR}
    # an override on a plug-in preset keeps its names; a pitch it does not name is bare
    mapped = parse_note_map("ad2,78=crash,64=kick")
    assert "78 Cymbal 1 Choke x1 -> crash" in "\n".join(
        input_report(read_midi(path, note_map=mapped), mapped)
    )
    assert pitch_name(64, mapped.names) == "64" and pitch_name(64) == "64 Low Conga"
