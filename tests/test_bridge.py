"""The OSC protocol on literal bytes: what each message looks like on the wire, which
requests validate and which are refused (and with what), and the TCP framing."""

from __future__ import annotations

import struct

import pytest

from drumgrid.bridge import protocol as p
from drumgrid.bridge.framing import Deframer, FramingError, check_datagram, frame


def osc_string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return raw + b"\0" * (-len(raw) % 4)


# -- literal datagrams --------------------------------------------------------------------

PING = b"/drumgrid/ping\0\0" + b",\0\0\0"
RENDER = (
    osc_string("/drumgrid/render")
    + osc_string(",sssi")
    + osc_string("j1")
    + osc_string("/tmp/a.mid")
    + osc_string("seed")
    + struct.pack(">i", 7)
)
NOTES = (
    osc_string("/drumgrid/clip/notes")
    + osc_string(",siffff")
    + osc_string("c")
    + struct.pack(">i", 36)
    + struct.pack(">fff", 0.0, 0.25, 100.0)
    + struct.pack(">f", 1.5)  # a second note would need 4 values: this one is incomplete
)


def test_ping_literal():
    assert p.encode(p.PING) == PING
    assert p.parse_packet(PING) == [("/drumgrid/ping", [])]
    assert p.parse_request("/drumgrid/ping", []) == p.Ping()


def test_render_literal_round_trip():
    assert p.render_message("j1", "/tmp/a.mid", seed=7) == RENDER
    ((address, args),) = p.parse_packet(RENDER)
    assert p.parse_request(address, args) == p.Render("j1", "/tmp/a.mid", {"seed": 7})


def test_done_and_error_literals():
    done = p.encode(p.DONE, ["j1", "/r/x.wav", 44100, 396900])
    assert done == (
        osc_string("/drumgrid/done")
        + osc_string(",ssii")
        + osc_string("j1")
        + osc_string("/r/x.wav")
        + struct.pack(">ii", 44100, 396900)
    )
    err = p.error_message("j1", "busy", "full")
    assert err == osc_string("/drumgrid/error") + osc_string(",sss") + b"".join(
        osc_string(s) for s in ("j1", "busy", "full")
    )
    assert p.parse_reply(*p.parse_packet(done)[0]).job == "j1"


def test_incomplete_note_group_is_refused_with_its_job():
    ((address, args),) = p.parse_packet(NOTES)
    with pytest.raises(p.ProtocolError) as info:
        p.parse_request(address, args)
    assert info.value.job == "c" and info.value.code == "bad_request"
    assert "groups of 4" in info.value.message


def test_bundle_contents_run_in_order_and_time_tags_are_ignored():
    inner = p.encode(p.STATUS)
    bundle = (
        b"#bundle\0"
        + struct.pack(">Q", 0xFFFFFFFF_00000000)  # far in the future: still handled now
        + struct.pack(">i", len(PING))
        + PING
        + struct.pack(">i", len(inner))
        + inner
    )
    assert [a for a, _ in p.parse_packet(bundle)] == [p.PING, p.STATUS]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02",
        b"hello world",
        b"/drumgrid/ping",  # no NUL, no type tags
        b"/drumgrid/ping\0\0,i\0\0",  # promises an int, has none
        b"#bundle\0" + b"\0" * 8 + struct.pack(">i", 999) + PING,  # element longer than data
        RENDER[:-3],  # truncated
    ],
)
def test_not_osc_raises_protocol_error(data):
    with pytest.raises(p.ProtocolError) as info:
        p.parse_packet(data)
    assert info.value.code == "bad_request" and info.value.job == ""


# -- validation table ---------------------------------------------------------------------

OK = [
    (p.STATUS, [], p.Status()),
    (p.STATUS, [9010], p.Status(9010)),
    (p.PING, [9011.0], p.Ping(9011)),
    (p.KITS, [], p.Kits()),
    (p.CLIP_BEGIN, ["j", 120, 4, 4, 4, "reply_port", 9012], None),
    (p.SUBSCRIBE, [9010], p.Subscribe(9010)),
    (p.SUBSCRIBE, [0], p.Subscribe(0)),
    (p.RENDER, ["j", "/a.mid", "kit", "rock", "temperature", 1], None),  # int for a float
    (p.RENDER, ["j", "/a.mid", "steps", 4.0], None),  # integral float for an int
    (p.RENDER, ["j", "/a.mid", "seed", 2**40], None),  # 64-bit seed
    (p.RENDER, ["j", "/a.mid", "out", "take_1.wav", "variations", 2], None),
    (p.CLIP_BEGIN, ["j", 120.0, 16.0, 4, 4], p.ClipBegin("j", 120.0, 16.0, 4, 4, {})),
    (p.CLIP_BEGIN, ["j", 90, 7, 7, 8, "decoding", "parallel"], None),
    (p.CLIP_NOTES, ["j"], p.ClipNotes("j", ())),
    (p.CLIP_NOTES, ["j", 36, 0, 0.25, 100], p.ClipNotes("j", ((36, 0.0, 0.25, 100.0),))),
    (p.CLIP_END, ["j"], p.ClipEnd("j")),
    (p.CLIP_END, ["j", 12], p.ClipEnd("j", 12)),
    (p.CANCEL, ["j"], p.Cancel("j")),
]


@pytest.mark.parametrize(("address", "args", "expected"), OK)
def test_valid_requests(address, args, expected):
    request = p.parse_request(address, args)
    if expected is not None:
        assert request == expected


BAD = [
    # address, args, job the error names, words in the message
    ("/drumgrid/nope", [], "", "unknown address"),
    ("/other", ["j"], "", "unknown address"),
    (p.STATUS, [1, 2], "", "expected 0 or 1 argument"),
    (p.KITS, ["9010"], "", "reply_port: expected an int"),
    (p.PING, [0], "", "reply_port: expected 1..65535"),
    (p.RENDER, ["j", "/a.mid", "reply_port", 70000], "j", "1..65535"),
    (p.SUBSCRIBE, [], "", "expected 1 arguments"),
    (p.SUBSCRIBE, [70000], "", "0..65535"),
    (p.SUBSCRIBE, ["9000"], "", "expected an int"),
    (p.SUBSCRIBE, [True], "", "a boolean"),
    (p.RENDER, [], "", "at least 1"),
    (p.RENDER, [5, "/a.mid"], "", "job id: expected a string"),
    (p.RENDER, ["x" * 65, "/a.mid"], "", "1..64 characters"),
    (p.RENDER, ["a\nb", "/a.mid"], "", "control characters"),
    (p.RENDER, ["j"], "j", "at least 2"),
    (p.RENDER, ["j", 3], "j", "midi_path: expected a string"),
    (p.RENDER, ["j", "/a.mid", "kit"], "j", "key value pairs"),
    (p.RENDER, ["j", "/a.mid", "colour", "red"], "j", "expected one of kit"),
    (p.RENDER, ["j", "/a.mid", 4, "red"], "j", "expected one of kit"),
    (p.RENDER, ["j", "/a.mid", "seed", 1, "seed", 2], "j", "given twice"),
    (p.RENDER, ["j", "/a.mid", "seed", -1], "j", "0..4611686018427387903"),
    (p.RENDER, ["j", "/a.mid", "seed", 1.5], "j", "expected an int"),
    (p.RENDER, ["j", "/a.mid", "decoding", "fast"], "j", "parallel, iterative"),
    (p.RENDER, ["j", "/a.mid", "steps", 0], "j", "1..64"),
    (p.RENDER, ["j", "/a.mid", "temperature", float("nan")], "j", "finite"),
    (p.RENDER, ["j", "/a.mid", "temperature", "hot"], "j", "finite float"),
    (p.RENDER, ["j", "/a.mid", "top_p", 0.0], "j", "(0, 1]"),
    (p.RENDER, ["j", "/a.mid", "sample_rate", 1000], "j", "8000..192000"),
    (p.RENDER, ["j", "/a.mid", "variations", 17], "j", "1..16"),
    (p.RENDER, ["j", "/a.mid", "variations", 2, "decoding", "parallel"], "j", "iterative"),
    (p.RENDER, ["j", "/a.mid", "out", "../x.wav"], "j", "bare file name"),
    (p.RENDER, ["j", "/a.mid", "out", "/tmp/x.wav"], "j", "bare file name"),
    (p.RENDER, ["j", "/a.mid", "out", "sub/x.wav"], "j", "bare file name"),
    (p.RENDER, ["j", "/a.mid", "out", ".hidden.wav"], "j", "bare file name"),
    (p.RENDER, ["j", "/a.mid", "out", "x.mp3"], "j", "bare file name"),
    (p.RENDER, ["j", "/a.mid", "out", b"x.wav"], "j", "blob"),
    (p.CLIP_BEGIN, ["j", 120.0, 16.0, 4], "j", "at least 5"),
    (p.CLIP_BEGIN, ["j", 0.0, 16.0, 4, 4], "j", "tempo"),
    (p.CLIP_BEGIN, ["j", 120.0, 0.0, 4, 4], "j", "length_beats"),
    (p.CLIP_BEGIN, ["j", 120.0, 16.0, 0, 4], "j", "sig_num"),
    (p.CLIP_BEGIN, ["j", 120.0, 16.0, 4, 3], "j", "power of two"),
    (p.CLIP_BEGIN, ["j", 120.0, 16.0, 4, 4, "seed"], "j", "key value pairs"),
    (p.CLIP_NOTES, ["j", 36, 0.0, 0.25], "j", "groups of 4"),
    (p.CLIP_NOTES, ["j", 128, 0.0, 0.25, 100.0], "j", "note 0 pitch"),
    (p.CLIP_NOTES, ["j", 36, -1.0, 0.25, 100.0], "j", "note 0 start"),
    (p.CLIP_NOTES, ["j", 36, 0.0, 0.25, 200.0], "j", "note 0 velocity"),
    (p.CLIP_NOTES, ["j", 36, 0.0, 0.25, 100.0, 36, 0.0, 0.25, None], "j", "note 1 velocity"),
    (p.CLIP_END, ["j", 1, 2], "j", "expected 1 arguments"),
    (p.CLIP_END, ["j", -1], "j", "notes: expected 0..100000"),
    (p.CANCEL, ["j", 1], "j", "expected 1 arguments"),
    (p.CANCEL, [], "", "at least 1"),
]


@pytest.mark.parametrize(("address", "args", "job", "words"), BAD)
def test_invalid_requests(address, args, job, words):
    with pytest.raises(p.ProtocolError) as info:
        p.parse_request(address, args)
    assert info.value.code == "bad_request"
    assert info.value.job == job
    assert words in info.value.message


# -- building requests --------------------------------------------------------------------


def test_clip_notes_chunks_stay_under_8k_and_keep_every_note():
    notes = [(36 + i % 10, i * 0.125, 0.125, float(1 + i % 127)) for i in range(3000)]
    messages = p.clip_notes_messages("m4l-1234567890", notes)
    assert len(messages) > 1
    assert all(len(m) < p.MAX_DATAGRAM for m in messages)
    assert len(messages[0]) > p.MAX_DATAGRAM - 40  # chunks are full, not tiny
    back = []
    for m in messages:
        ((address, args),) = p.parse_packet(m)
        back += p.parse_request(address, args).notes
    assert [(n[0], n[1]) for n in back] == [(n[0], pytest.approx(n[1])) for n in notes]


def test_option_args_coerce_types():
    args = p.option_args({"seed": 3.0, "temperature": 1, "kit": "k", "top_k": None})
    assert args == ["seed", 3, "temperature", 1.0, "kit", "k"]
    with pytest.raises(p.ProtocolError):
        p.option_args({"colour": 1})


def test_reply_port_of_a_request_even_a_malformed_one():
    assert p.reply_port_of(p.PING, [9010]) == 9010
    assert p.reply_port_of(p.KITS, []) is None
    assert p.reply_port_of(p.CLIP_BEGIN, ["j", 120, 0, 4, 4, "seed", 1, "reply_port", 9010]) == 9010
    assert p.reply_port_of(p.RENDER, ["j", "/a.mid", "reply_port", 9010, "kit"]) == 9010
    assert p.reply_port_of(p.RENDER, ["j", "/a.mid", "reply_port", 0]) is None
    assert p.reply_port_of(p.CLIP_NOTES, ["j", "reply_port", 9010]) is None


def test_kits_reply_fits_one_datagram():
    message, n = p.kits_message(["fluid-standard", "fluid power"])
    assert n == 2 and p.parse_packet(message) == [(p.KITS, ["fluid-standard", "fluid power"])]
    many = [f"kit-{i:03d}-" + "x" * 100 for i in range(200)]
    message, n = p.kits_message(many)
    assert len(message) < p.MAX_DATAGRAM and 50 < n < 200
    assert p.parse_reply(*p.parse_packet(message)[0]).args == tuple(many[:n])


def test_parse_reply_checks_types():
    assert p.parse_reply(p.PONG, ["0.1"]).args == ("0.1",)
    assert p.parse_reply(p.KITS, ["a", "b c"]).args == ("a", "b c")
    with pytest.raises(p.ProtocolError):
        p.parse_reply(p.KITS, [])
    with pytest.raises(p.ProtocolError):
        p.parse_reply(p.DONE, ["j", "/x.wav", 44100.5, 10])
    with pytest.raises(p.ProtocolError):
        p.parse_reply("/drumgrid/what", [])


# -- framing ------------------------------------------------------------------------------


def test_tcp_framing_split_anywhere():
    stream = frame(PING) + frame(RENDER) + frame(b"") + frame(PING)
    assert stream[:4] == struct.pack(">I", len(PING))
    for cut in range(len(stream) + 1):
        d = Deframer()
        got = d.feed(stream[:cut]) + d.feed(stream[cut:])
        assert got == [PING, RENDER, PING]
        assert d.pending == 0


def test_tcp_framing_refuses_huge_lengths():
    with pytest.raises(FramingError):
        Deframer(max_packet=1024).feed(struct.pack(">I", 4096) + b"x")


def test_datagram_size_limit():
    check_datagram(b"x" * (p.MAX_DATAGRAM - 1))
    with pytest.raises(ValueError):
        check_datagram(b"x" * p.MAX_DATAGRAM)


def test_bridge_imports_nothing_above_it():
    import subprocess
    import sys

    code = (
        "import sys, drumgrid.bridge, drumgrid.bridge.client;"
        "bad = [m for m in sys.modules if m.startswith(('drumgrid.server', 'drumgrid.training'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_max_device_sends_to_the_daemons_default_port():
    """The device's [udpsend] box and the daemon agree on the port (the patcher cannot
    import Python, so this test ties the two)."""
    import json

    from paths import REPO

    from drumgrid.bridge.client import DEFAULT_UDP_PORT
    from drumgrid.bridge.contract import DEFAULT_HOST
    from drumgrid.server.daemon import DaemonConfig

    patch = json.loads((REPO / "max_for_live" / "drumgrid.maxpat").read_text())
    texts = [b["box"].get("text", "") for b in patch["patcher"]["boxes"]]
    udpsend = [t for t in texts if t.startswith("udpsend ")]
    assert udpsend == [f"udpsend 127.0.0.1 {DaemonConfig().udp_port}"]
    assert DaemonConfig().udp_port == DEFAULT_UDP_PORT
    assert (DaemonConfig().host, DEFAULT_HOST) == ("127.0.0.1", "127.0.0.1")


def test_the_devices_contract_json_is_the_render_contracts():
    """max_for_live/contract.json is what build.js writes into the device (the device's node
    tests check that it did); here it must equal what drumgrid.bridge.contract says now."""
    import json

    from paths import REPO

    from drumgrid.bridge.device_contract import device_contract, device_contract_json

    written = (REPO / "max_for_live" / "contract.json").read_text()
    assert written == device_contract_json(), (
        "run `python -m drumgrid.bridge.device_contract > max_for_live/contract.json` and "
        "`node max_for_live/build.js`"
    )
    contract = json.loads(written)
    assert contract == device_contract()
    assert contract["daemon_udp_port"] == 9000 and contract["max_datagram"] == p.MAX_DATAGRAM
    assert contract["prefix"] + "/ping" == p.PING


# -- the wire: what python-osc skipped or recursed on ---------------------------------------


def _osc_string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return raw + b"\0" * (-len(raw) % 4)


def test_every_osc_type_tag_decodes_without_shifting_the_rest(caplog):
    payload = (
        _osc_string("sym")  # S
        + struct.pack(">I", ord("x"))  # c
        + struct.pack(">i", 7)  # i after the argument-less I
        + struct.pack(">d", 0.25)  # d
    )
    message = _osc_string("/a") + _osc_string(",ScIid") + payload
    with caplog.at_level("DEBUG"):
        [(address, args)] = p.parse_packet(message)
    assert address == "/a" and args[:2] == ["sym", "x"] and args[3:] == [7, 0.25]
    assert repr(args[2]) == "<OSC 'I'>" and not caplog.records  # nothing logged
    request = p.parse_request(p.RENDER, ["j", "/a.mid", "kit", args[0]])
    assert request.options["kit"] == "sym"  # S is a string


@pytest.mark.parametrize(
    ("packet", "words"),
    [
        (_osc_string("/a") + _osc_string(",[i]") + b"\0\0\0\1", "arrays"),
        (_osc_string("/a") + _osc_string(",Q"), "unknown type tag 'Q'"),
        (_osc_string("/a") + _osc_string(",i"), "cut off"),
        (_osc_string("/a") + _osc_string(",b") + struct.pack(">i", 99), "does not fit"),
        (b"#bundle\0" + b"\0" * 8 + struct.pack(">i", 4) + b"junk", "bundle element 0"),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(packet, words):
    with pytest.raises(p.ProtocolError, match=words):
        p.parse_packet(packet)


def test_deeply_nested_bundles_are_refused_without_recursing():
    packet = _osc_string("/drumgrid/ping") + _osc_string(",")
    for _ in range(3000):  # deeper than Python's recursion limit
        packet = b"#bundle\0" + b"\0" * 8 + struct.pack(">i", len(packet)) + packet
    with pytest.raises(p.ProtocolError, match="nested deeper than 4"):
        p.parse_packet(packet)
