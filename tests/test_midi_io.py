"""Reading and writing drum MIDI: real GMD files against an independent mido pass, edge
cases of the format, and the read -> write -> read round trip."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest
from factories import make_midi, smf_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drumgrid.server.drums import GMD_PITCHES, PITCH_TO_CLASS, DrumClass
from drumgrid.server.errors import MidiError, UserError
from drumgrid.server.midi_io import read_midi, write_midi
from drumgrid.server.performance import BeatNote, from_beat_notes, from_note_list


def mido_onsets(path: Path, channel: int = 9) -> list[tuple[float, int, int]]:
    """(seconds, pitch, velocity) of every note-on, from mido's own playback timing."""
    now = 0.0
    out = []
    for msg in mido.MidiFile(str(path)):
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0 and msg.channel == channel:
            out.append((now, msg.note, msg.velocity))
    return sorted(out, key=lambda x: (x[0], x[1]))


def test_gmd_files_match_an_independent_mido_pass(gmd_files: list[Path]) -> None:
    assert len(gmd_files) >= 30
    for path in gmd_files:
        perf = read_midi(path)
        expected = mido_onsets(path)
        assert len(perf.hits) == len(expected), path
        for hit, (t, pitch, velocity) in zip(perf.hits, expected, strict=True):
            assert hit.time_s == pytest.approx(t, abs=1e-9)
            assert (hit.pitch, hit.velocity) == (pitch, velocity)
            assert hit.drum_class == PITCH_TO_CLASS[pitch]
        assert perf.unknown_pitches == {}
        assert perf.length_s == pytest.approx(mido.MidiFile(str(path)).length, abs=1e-6)


def test_gmd_pitch_map_covers_22_pitches_in_9_classes() -> None:
    assert len(GMD_PITCHES) == 22
    assert set(GMD_PITCHES.values()) == set(DrumClass)
    assert GMD_PITCHES[44] == DrumClass.HIHAT_CLOSED and GMD_PITCHES[58] == DrumClass.TOM_LOW
    assert all(p in PITCH_TO_CLASS for p in range(35, 82))


def test_gmd_round_trip_to_the_tick(gmd_files: list[Path], tmp_path: Path) -> None:
    for path in gmd_files[:10]:
        perf = read_midi(path)
        again = read_midi(write_midi(perf, tmp_path / "x.mid"))
        assert [(h.pitch, h.velocity) for h in again.hits] == [
            (h.pitch, h.velocity) for h in perf.hits
        ]
        ticks = [round(float(b) * perf.ppq) for b in perf.hit_beats()]
        assert [round(float(b) * again.ppq) for b in again.hit_beats()] == ticks
        assert again.tempo_map == perf.tempo_map
        assert again.time_signatures == perf.time_signatures


def test_tempo_changes_signatures_and_ppq(tmp_path: Path) -> None:
    # 96 ppq; 120 bpm for 2 beats, then 60 bpm; 3/4 then 4/4 at beat 3.
    path = make_midi(
        tmp_path / "t.mid",
        [(0, 36, 100, 10), (192, 38, 90, 200), (288, 42, 80, 290)],
        ppq=96,
        tempos=[(0, 500_000), (192, 1_000_000)],
        signatures=[(0, 3, 4), (288, 4, 4)],
    )
    perf = read_midi(path)
    assert [h.time_s for h in perf.hits] == pytest.approx([0.0, 1.0, 2.0])
    assert perf.tempo_map.bpms == (120.0, 60.0)
    assert [(s.beat, s.numerator, s.denominator) for s in perf.time_signatures] == [
        (0.0, 3, 4),
        (3.0, 4, 4),
    ]
    assert perf.bar_lines()[:3] == [0.0, 3.0]
    assert perf.hits[0].duration_s == pytest.approx(10 / 96 * 0.5)


def test_running_status_and_velocity_zero_note_off(tmp_path: Path) -> None:
    # note-on ch10 kick, then running status: note 36 vel 0 (off), snare on, snare vel-0 off.
    track = bytes(
        [0x00, 0x99, 36, 100, 0x60, 36, 0, 0x00, 38, 80, 0x81, 0x40, 38, 0, 0x00, 0xFF, 0x2F, 0x00]
    )
    path = tmp_path / "rs.mid"
    path.write_bytes(smf_bytes([track]))
    perf = read_midi(path)
    assert [(h.pitch, h.velocity) for h in perf.hits] == [(36, 100), (38, 80)]
    assert perf.hits[1].time_s == pytest.approx(96 / 480 * 0.5)
    assert perf.hits[0].duration_s == pytest.approx(96 / 480 * 0.5)
    assert perf.hits[1].duration_s == pytest.approx(192 / 480 * 0.5)


def test_channels(tmp_path: Path) -> None:
    path = tmp_path / "c.mid"
    make_midi(path, [(0, 36, 100, 10)], channel=0)
    auto = read_midi(path)  # a lone kick on channel 1 looks like drums
    assert len(auto.hits) == 1 and "channel 1" in auto.selection
    with pytest.raises(MidiError, match=r"no notes on channel\(s\) 2; .* channel\(s\) 1"):
        read_midi(path, channel=2)
    assert len(read_midi(path, channel=1).hits) == 1
    assert len(read_midi(path, channel=None).hits) == 1


def test_unknown_pitches_are_reported_not_dropped_silently(tmp_path: Path) -> None:
    path = make_midi(tmp_path / "u.mid", [(0, 36, 100, 10), (0, 100, 50, 10), (10, 100, 50, 20)])
    perf = read_midi(path)
    assert len(perf.hits) == 1 and perf.unknown_pitches == {100: 2}
    only_unknown = make_midi(tmp_path / "v.mid", [(0, 100, 50, 10)])
    with pytest.raises(MidiError, match="100 have no drum class in note map 'gm'"):
        read_midi(only_unknown)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, not midi", r"not a MIDI file \(it does not start with 'MThd'\)"),
        (b"", "not a MIDI file"),
        (b"MThd\x00\x00", "not a readable MIDI file: the file ends"),
    ],
)
def test_not_midi(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.mid"
    path.write_bytes(content)
    with pytest.raises(MidiError, match=message):
        read_midi(path)


def test_truncated_missing_and_bad_tempo(tmp_path: Path) -> None:
    full = make_midi(tmp_path / "f.mid", [(i * 120, 36, 100, i * 120 + 60) for i in range(50)])
    truncated = tmp_path / "t.mid"
    truncated.write_bytes(full.read_bytes()[:60])
    with pytest.raises(MidiError, match="truncated"):
        read_midi(truncated)
    with pytest.raises(UserError, match="no such file"):
        read_midi(tmp_path / "missing.mid")
    fast = make_midi(tmp_path / "fast.mid", [(0, 36, 100, 10)], tempos=[(0, 50_000)])
    with pytest.raises(MidiError, match="1200 bpm"):
        read_midi(fast)
    zero = make_midi(tmp_path / "zero.mid", [(0, 36, 100, 10)], tempos=[(0, 0)])
    with pytest.raises(MidiError, match="inf bpm"):
        read_midi(zero)


def test_format_2_is_refused(tmp_path: Path) -> None:
    track = bytes([0x00, 0x99, 36, 100, 0x10, 0x89, 36, 0, 0x00, 0xFF, 0x2F, 0x00])
    path = tmp_path / "f2.mid"
    path.write_bytes(smf_bytes([track, track], fmt=2))
    with pytest.raises(MidiError, match="format 2"):
        read_midi(path)


def test_clip_notes_and_note_lists() -> None:
    perf = from_beat_notes(
        [
            BeatNote(36, 0.0, 0.25, 100.0),
            BeatNote(38, 1.0, 0.25, 64.4),
            BeatNote(42, 1.5, 0.1, 90, mute=True),
        ],
        tempo_bpm=120.0,
        length_beats=4.0,
    )
    assert [(h.time_s, h.pitch, h.velocity) for h in perf.hits] == [(0.0, 36, 100), (0.5, 38, 64)]
    assert perf.length_s == 2.0
    with pytest.raises(MidiError, match="outside the clip"):
        from_beat_notes([BeatNote(36, 4.0, 0.25, 100)], 120.0, 4.0)
    with pytest.raises(MidiError, match="tempo 0"):
        from_beat_notes([BeatNote(36, 0, 0.25, 100)], 0.0, 4.0)
    with pytest.raises(MidiError, match="velocity of pitch 36 is nan"):
        from_beat_notes([BeatNote(36, 0, 0.25, float("nan"))], 120.0, 4.0)
    listed = from_note_list([(0.1, 36, 100), (2.1, 38, 80)], tempo_bpm=120.0)
    assert listed.length_beats == 8.0  # the bar line after the last hit (beat 4.2)


# Property: any drum MIDI (random ppq, tempo changes, hits) reads, writes and reads back to the
# same hits, tick for tick.
hits_strategy = st.lists(
    st.tuples(
        st.integers(0, 20_000),
        st.sampled_from(sorted(PITCH_TO_CLASS)),
        st.integers(1, 127),
        st.integers(1, 400),
    ),
    min_size=1,
    max_size=40,
)
tempo_strategy = st.lists(
    st.tuples(st.integers(1, 20_000), st.integers(60_000, 3_000_000)), max_size=4
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(hits=hits_strategy, tempos=tempo_strategy, ppq=st.sampled_from([24, 96, 384, 480, 960]))
def test_round_trip_property(tmp_path: Path, hits, tempos, ppq: int) -> None:
    notes = [(on, pitch, vel, on + dur) for on, pitch, vel, dur in hits]
    tempo_events = [(0, 600_000), *sorted(tempos)]
    src = make_midi(tmp_path / "src.mid", notes, ppq=ppq, tempos=tempo_events)
    first = read_midi(src)
    second = read_midi(write_midi(first, tmp_path / "out.mid"))

    def ticks(perf):
        return sorted(
            (round(float(b) * ppq), h.pitch, h.velocity)
            for h, b in zip(perf.hits, perf.hit_beats(), strict=True)
        )

    expected = sorted((on, pitch, vel) for on, pitch, vel, _ in notes)
    assert ticks(first) == expected
    assert ticks(second) == expected
