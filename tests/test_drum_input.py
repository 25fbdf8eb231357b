"""Drum MIDI as it really comes: awkward files built here (drums on channel 1 beside a melody,
a kit spread over three channels, DAW tracks that all use channel 1, a pad-mapped beat,
percussion beyond the nine classes, melodic input), each read as a producer would expect:
the right notes taken, the choice and every fold reported, melodies refused or warned about."""

from __future__ import annotations

import subprocess
import sys

import pytest
from factories import BeatsNote, legato_lead, make_multitrack_midi, rock_beat

from drumgrid.server.drum_select import ALL, AUTO, parse_channels
from drumgrid.server.drums import DrumClass
from drumgrid.server.errors import MidiError, UserError
from drumgrid.server.midi_io import input_report, read_midi
from drumgrid.server.note_maps import GM_NOTE_MAP, parse_note_map


def bass(bars: int = 2) -> list[BeatsNote]:
    roots = [40, 40, 43, 45, 38, 38, 36, 43]  # E2 ... : right in the drum pitches
    return [(i, roots[i % 8], 100, 1.0) for i in range(bars * 4)]


def pads(bars: int = 2) -> list[BeatsNote]:
    return [(b * 2, p, 70, 2.0) for b in range(bars * 2) for p in (57, 60, 64)]


def classes(perf) -> dict[str, int]:
    out: dict[str, int] = {}
    for h in perf.hits:
        out[h.drum_class.label] = out.get(h.drum_class.label, 0) + 1
    return out


def test_drums_on_channel_1_beside_a_melody(tmp_path):
    path = make_multitrack_midi(
        tmp_path / "loop.mid", [("", 1, rock_beat()), ("", 2, legato_lead())]
    )
    perf = read_midi(path)
    assert classes(perf) == {"hihat_closed": 16, "kick": 4, "snare": 4}
    assert "track 1 channel 1" in perf.selection and "look like drums" in perf.selection
    assert "left out: track 2 channel 2" in perf.selection and "legato" in perf.selection
    assert perf.warnings == ()
    # asked for the melody's channel: rendered, with a warning naming why it looks melodic
    asked = read_midi(path, channel=2)
    assert len(asked.warnings) == 1 and "does not look like drums" in asked.warnings[0]
    # `all` takes both and warns about the melody
    everything = read_midi(path, channel=ALL)
    assert len(everything.hits) == 24 + 16 and len(everything.warnings) == 1


def test_a_kit_spread_over_three_channels(tmp_path):
    b = rock_beat()
    tracks = [
        ("", 7, [n for n in b if n[1] == 36]),
        ("", 8, [n for n in b if n[1] == 38]),
        ("", 11, [n for n in b if n[1] == 42]),
        ("", 1, bass()),
    ]
    perf = read_midi(make_multitrack_midi(tmp_path / "split.mid", tracks))
    assert classes(perf) == {"hihat_closed": 16, "kick": 4, "snare": 4}
    assert "left out: track 4 channel 1" in perf.selection
    listed = read_midi(tmp_path / "split.mid", channel=parse_channels("7,8"))
    assert classes(listed) == {"kick": 4, "snare": 4}


def test_daw_tracks_on_channel_1_are_told_apart_by_their_notes_and_names(tmp_path):
    tracks = [("Drums", 1, rock_beat()), ("Bass", 1, bass()), ("Strings", 1, pads())]
    perf = read_midi(make_multitrack_midi(tmp_path / "export.mid", tracks))
    assert classes(perf) == {"hihat_closed": 16, "kick": 4, "snare": 4}
    assert "track 1 'Drums' channel 1" in perf.selection
    assert "a melodic track name" in perf.selection and "held in chords" in perf.selection
    # an explicit channel takes every track on it, and says which do not look like drums
    forced = read_midi(tmp_path / "export.mid", channel=1)
    assert len(forced.hits) == 24 + 8 + 12
    assert [w.split(" does")[0] for w in forced.warnings] == [
        "track 2 'Bass' channel 1", "track 3 'Strings' channel 1"
    ]  # fmt: skip


def test_channel_10_wins_and_other_drum_channels_are_pointed_out(tmp_path):
    tracks = [("", 10, rock_beat()), ("", 11, [(0.25, 49, 100, 0.25)]), ("", 2, legato_lead())]
    perf = read_midi(make_multitrack_midi(tmp_path / "gm.mid", tracks))
    assert classes(perf) == {"hihat_closed": 16, "kick": 4, "snare": 4}
    assert perf.selection.startswith("channel 10, General MIDI's drum channel")
    assert "--channel 10,11" in perf.selection


def test_melodic_input_is_refused_with_what_each_part_looks_like(tmp_path):
    tracks = [("Lead", 1, legato_lead()), ("Bass", 2, bass()), ("Pad", 3, pads())]
    path = make_multitrack_midi(tmp_path / "song.mid", tracks)
    with pytest.raises(MidiError, match="no channel looks like drums") as err:
        read_midi(path)
    text = str(err.value)
    assert "track 1 'Lead' channel 1" in text and "Pass --channel N" in text
    assert "track 3 'Pad' channel 3" in text


def test_a_pad_mapped_beat_needs_a_note_map_and_reports_it(tmp_path):
    """Kick 44, snare 48, hat 50: read as General MIDI it is pedal hats, toms; the map fixes
    it, and every pitch played as another instrument is reported."""
    path = make_multitrack_midi(
        tmp_path / "pads.mid", [("", 10, rock_beat(kick=44, snare=48, hat=50))]
    )
    gm = read_midi(path)
    assert classes(gm) == {"hihat_closed": 4, "tom_high": 20}
    note_map = parse_note_map("none,44=kick,48=snare,50=hihat_closed")
    mapped = read_midi(path, note_map=note_map)
    assert classes(mapped) == {"hihat_closed": 16, "kick": 4, "snare": 4}
    report = input_report(mapped, note_map)
    spec = "none,44=kick,48=snare,50=hihat_closed"
    assert f"note map {spec}: 44 Pedal Hi-Hat x4 -> kick" in report
    assert f"note map {spec}: 48 Hi-Mid Tom x4 -> snare" in report
    assert f"note map {spec}: 50 High Tom x16 -> hihat_closed" in report


def test_percussion_beyond_the_nine_classes_is_folded_and_reported(tmp_path):
    extra = [(0.0, 39, 100, 0.1)] * 1 + [(1.0, 39, 100, 0.1), (2.0, 56, 90, 0.1),
                                         (3.0, 64, 80, 0.1), (3.5, 82, 80, 0.1)]  # fmt: skip
    path = make_multitrack_midi(tmp_path / "perc.mid", [("", 10, rock_beat(1) + extra)])
    perf = read_midi(path)
    report = input_report(perf)
    assert report[0].startswith("drums: channel 10")
    assert "note map gm: 39 Hand Clap x2 -> snare" in report
    assert "note map gm: 56 Cowbell x1 -> snare" in report
    assert "note map gm: 64 Low Conga x1 -> tom_low" in report
    assert "note map gm: 82: not in the note map, dropped" not in report
    assert "note map gm: 82 x1: not in the note map, dropped" in report
    assert not any("36" in line or "42 Closed" in line for line in report)  # native: quiet
    # a user drops the claps instead
    dropped = read_midi(path, note_map=parse_note_map("gm,39=none"))
    assert dropped.unknown_pitches == {39: 2, 82: 1}
    assert DrumClass.SNARE in {h.drum_class for h in dropped.hits}


def test_note_map_text_and_files(tmp_path):
    assert parse_note_map("gm") is GM_NOTE_MAP and parse_note_map(None) is GM_NOTE_MAP
    assert parse_note_map("gmd").drum_class(39) is None  # only the TD-11 pitches
    assert parse_note_map("egmd").drum_class(39) is DrumClass.SNARE
    assert parse_note_map("44=kick").drum_class(36) is DrumClass.KICK  # on top of gm
    assert parse_note_map("none,44=kick").drum_class(36) is None
    mapping = tmp_path / "kit.txt"
    mapping.write_text("base none  # a pad kit\n44 kick\n48=snare\n\n# hats\n50 hihat_closed\n")
    from_file = parse_note_map(f"{mapping},51=ride", allow_files=True)
    assert from_file.drum_class(44) is DrumClass.KICK and from_file.drum_class(36) is None
    assert from_file.drum_class(51) is DrumClass.RIDE
    for text, needle in [
        ("gnu", "unknown preset 'gnu'"),
        ("gm,44=kik", "unknown drum class 'kik'"),
        ("gm,200=kick", "pitch 200 is outside 0-127"),
        ("gm,44", "'44' is not PITCH=CLASS"),
        (str(mapping), "unknown preset"),  # files only where allowed (not over OSC)
    ]:
        with pytest.raises(UserError, match=needle):
            parse_note_map(text)


def test_channel_specs():
    assert parse_channels(None) == AUTO and parse_channels("ALL") == ALL
    assert parse_channels("11,7,8,7") == (7, 8, 11) and parse_channels(10) == (10,)
    for bad in ("0", "17", "drums", "", "1,x"):
        with pytest.raises(UserError, match="expected auto, all, or MIDI channels 1-16"):
            parse_channels(bad)


def test_cli_prints_what_it_took(tmp_path):
    path = make_multitrack_midi(
        tmp_path / "loop.mid", [("", 1, rock_beat()), ("Lead", 2, legato_lead())]
    )
    out = subprocess.run(
        [sys.executable, "-m", "drumgrid.training.cli", "grid", str(path), "--note-map",
         "gm,42=hihat_open"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "drums: track 1 channel 1" in out.stderr
    assert "42 Closed Hi-Hat x16 -> hihat_open (note map gm,42=hihat_open)" not in out.stderr
    assert "note map gm,42=hihat_open: 42 Closed Hi-Hat x16 -> hihat_open" in out.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "drumgrid.training.cli", "grid", str(path), "--channel", "x"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "expected auto, all, or MIDI channels" in bad.stderr
