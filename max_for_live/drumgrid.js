// drumgrid Max for Live device: the [js] part (ES5: Max's classic [js] engine).
//
// Plain functions do the work (clip -> OSC message lists, replies -> UI state) and are
// tested under node with a fake LiveAPI (max_for_live/test). The Max entry points at the
// bottom only wire them to outlets. Everything here runs on Max's low-priority thread:
// the patcher puts [deferlow] in front of this object and of [udpsend].
//
// outlet 0: OSC messages for [udpsend] ("/drumgrid/... args")
// outlet 1: UI state as "key value" messages (status, progress, path)
// outlet 2: buffer~ commands ("replace /path/take.wav")

autowatch = 1;
inlets = 1;
outlets = 3;

var MAX_DATAGRAM = 8192;
var MAX_NOTES_PER_MESSAGE = 128; // Max lists stay short; far under 8 KB either way
var DONE = "/drumgrid/done";

// -- sizes of OSC messages, to keep every datagram under 8 KB ----------------------------

function oscStringBytes(text) {
    var n = unescape(encodeURIComponent(String(text))).length; // UTF-8 length
    return (Math.floor(n / 4) + 1) * 4;
}

function oscMessageBytes(address, args) {
    var size = oscStringBytes(address) + oscStringBytes("," + new Array(args.length + 1).join("x"));
    for (var i = 0; i < args.length; i++) {
        size += typeof args[i] === "string" ? oscStringBytes(args[i]) : 4;
    }
    return size;
}

// -- options and clip reading -----------------------------------------------------------

var OPTION_KEYS = ["kit", "seed", "decoding", "steps", "temperature", "variations"];

function optionArgs(options) {
    var args = [];
    for (var i = 0; i < OPTION_KEYS.length; i++) {
        var key = OPTION_KEYS[i];
        if (options && options[key] !== undefined && options[key] !== null && options[key] !== "") {
            args.push(key, options[key]);
        }
    }
    return args;
}

// The Decoding menu's items: "auto" sends no decoding, so the daemon picks (parallel for
// one take, iterative for variations).
var DECODING_MENU = ["auto", "parallel", "iterative"];

function decodingName(index) {
    var name = DECODING_MENU[index];
    return name === undefined || name === "auto" ? "" : name;
}

// The clip as the protocol wants it: notes relative to the loop start, in beats.
// clip: a LiveAPI object on a MIDI clip; song: a LiveAPI object on live_set.
function readClip(clip, song) {
    var first = function (value) { return value instanceof Array ? value[0] : value; };
    var looping = first(clip.get("looping")) === 1;
    var start = looping ? first(clip.get("loop_start")) : first(clip.get("start_marker"));
    var end = looping ? first(clip.get("loop_end")) : first(clip.get("end_marker"));
    var length = end - start;
    // get_notes_extended(from_pitch, pitch_span, from_time, time_span) -> JSON dictionary
    var raw = clip.call("get_notes_extended", 0, 128, start, length);
    var parsed = typeof raw === "string" ? JSON.parse(raw) : raw;
    var notes = [];
    var list = (parsed && parsed.notes) || [];
    for (var i = 0; i < list.length; i++) {
        var n = list[i];
        if (n.mute) {
            continue;
        }
        var at = n.start_time - start;
        if (at < 0 || at >= length) {
            continue;
        }
        notes.push([n.pitch, at, n.duration, n.velocity]);
    }
    notes.sort(function (a, b) { return a[1] - b[1] || a[0] - b[0]; });
    return {
        tempo: first(song.get("tempo")),
        lengthBeats: length,
        sigNum: first(clip.get("signature_numerator")),
        sigDen: first(clip.get("signature_denominator")),
        notes: notes
    };
}

// clip -> [[address, arg, ...], ...]: begin, notes in chunks under 8 KB, end.
function clipMessages(job, clip, options) {
    var messages = [];
    messages.push(["/drumgrid/clip/begin", job, clip.tempo, clip.lengthBeats, clip.sigNum, clip.sigDen]
        .concat(optionArgs(options)));
    var current = ["/drumgrid/clip/notes", job];
    for (var i = 0; i < clip.notes.length; i++) {
        var n = clip.notes[i];
        var note = [Math.round(n[0]), n[1], n[2], n[3]];
        var grown = current.concat(note);
        var full = (current.length - 2) / 4 >= MAX_NOTES_PER_MESSAGE;
        if (current.length > 2 && (full || oscMessageBytes(grown[0], grown.slice(1)) >= MAX_DATAGRAM)) {
            messages.push(current);
            current = ["/drumgrid/clip/notes", job].concat(note);
        } else {
            current = grown;
        }
    }
    if (current.length > 2) {
        messages.push(current);
    }
    messages.push(["/drumgrid/clip/end", job]);
    return messages;
}

var jobCounter = 0;

function newJobId(now) {
    jobCounter += 1;
    return "m4l-" + (now === undefined ? new Date().getTime() : now).toString(36) + "-" + jobCounter;
}

// -- replies -> UI state ------------------------------------------------------------------

function initialState() {
    return { status: "idle", job: "", progress: 0, takes: [], error: "", expected: 1, version: "" };
}

// One reply (address, args) -> the new state; pure, so node can test it.
function applyReply(state, address, args) {
    var s = {};
    for (var k in state) {
        if (state.hasOwnProperty(k)) {
            s[k] = state[k];
        }
    }
    s.takes = state.takes.slice();
    var job = args.length ? String(args[0]) : "";
    if (address === "/drumgrid/pong") {
        s.version = String(args[0]);
        if (s.status === "idle" || s.status === "offline") {
            s.status = "connected";
        }
        return s;
    }
    if (address === "/drumgrid/subscribed") {
        s.status = s.status === "offline" || s.status === "idle" ? "connected" : s.status;
        return s;
    }
    if (job !== s.job) {
        return s; // replies for jobs this device did not start (or an older one)
    }
    if (address === "/drumgrid/accepted") {
        s.status = "queued";
    } else if (address === "/drumgrid/progress") {
        s.status = "rendering";
        s.progress = Math.max(s.progress, Number(args[1]));
    } else if (address === DONE) {
        s.takes.push({ path: String(args[1]), sampleRate: Number(args[2]), frames: Number(args[3]) });
        if (s.takes.length >= s.expected) {
            s.status = "done";
            s.progress = 1;
        }
    } else if (address === "/drumgrid/error") {
        s.status = args[1] === "cancelled" ? "cancelled" : "error";
        s.error = String(args[1]) + ": " + String(args[2]);
    }
    return s;
}

function startJob(state, job, expected) {
    var s = applyReply(state, "", []);
    s.job = job;
    s.status = "sending";
    s.progress = 0;
    s.takes = [];
    s.error = "";
    s.expected = expected || 1;
    return s;
}

// -- placing a take as an audio clip (Live 12.0.5+: ClipSlot.create_audio_clip) -----------

// [{index, name}] of the audio tracks of the set.
function audioTracks(makeApi) {
    var song = makeApi("live_set");
    var count = song.getcount("tracks");
    var tracks = [];
    for (var i = 0; i < count; i++) {
        var t = makeApi("live_set tracks " + i);
        var audio = t.get("has_audio_input")[0] === 1 && t.get("has_midi_input")[0] !== 1;
        if (audio) {
            tracks.push({ index: i, name: String(t.get("name")) });
        }
    }
    return tracks;
}

// Creates the clip in the first empty slot of the track; returns the slot index or -1.
function placeAudioClip(makeApi, trackIndex, path) {
    var track = makeApi("live_set tracks " + trackIndex);
    var slots = track.getcount("clip_slots");
    for (var i = 0; i < slots; i++) {
        var slot = makeApi("live_set tracks " + trackIndex + " clip_slots " + i);
        if (slot.get("has_clip")[0] === 0) {
            slot.call("create_audio_clip", path);
            return i;
        }
    }
    return -1;
}

// -- Max entry points (not run under node) -------------------------------------------------

var state = initialState();
var options = { kit: "", seed: 0, decoding: "", variations: 1 };
var targetTrack = -1;
var trackList = [];

function makeLiveApi(path) {
    return new LiveAPI(null, path);
}

function show() {
    outlet(1, "status", state.status + (state.error ? " (" + state.error + ")" : ""));
    outlet(1, "progress", state.progress);
}

function send(message) {
    outlet(0, message);
}

function subscribe(port) {
    send(["/drumgrid/subscribe", Math.round(port)]);
    send(["/drumgrid/ping"]);
}

function setoption(key, value) {
    options[key] = value;
}

function setdecoding(index) {
    options.decoding = decodingName(index);
}

// index: the item chosen in the track menu, which lists trackList
function settrack(index) {
    targetTrack = trackList[index] ? trackList[index].index : -1;
}

function tracks() {
    trackList = audioTracks(makeLiveApi);
    outlet(1, "tracks", "clear");
    for (var i = 0; i < trackList.length; i++) {
        outlet(1, "tracks", "append", trackList[i].index + 1 + " " + trackList[i].name);
    }
    settrack(0);
}

function render() {
    var clip = makeLiveApi("live_set view detail_clip");
    if (clip.id == 0 || clip.get("is_midi_clip")[0] !== 1) {
        state.status = "select a MIDI clip first";
        show();
        return;
    }
    var job = newJobId();
    state = startJob(state, job, options.variations);
    var messages = clipMessages(job, readClip(clip, makeLiveApi("live_set")), options);
    for (var i = 0; i < messages.length; i++) {
        send(messages[i]);
    }
    show();
}

function cancel() {
    if (state.job) {
        send(["/drumgrid/cancel", state.job]);
    }
}

function place() {
    if (!state.takes.length || targetTrack < 0) {
        state.status = "render, then choose an audio track";
        show();
        return;
    }
    var slot = placeAudioClip(makeLiveApi, targetTrack, state.takes[state.takes.length - 1].path);
    state.status = slot < 0 ? "no empty clip slot on that track" : "placed in slot " + (slot + 1);
    show();
}

// [udpreceive] output arrives as a message whose selector is the OSC address.
function anything() {
    var address = messagename;
    var args = arrayfromargs(arguments);
    var before = state.takes.length;
    state = applyReply(state, address, args);
    if (address === DONE && state.takes.length > before) {
        outlet(2, "replace", state.takes[state.takes.length - 1].path);
        outlet(1, "path", state.takes[state.takes.length - 1].path);
    }
    show();
}

if (typeof module !== "undefined" && module.exports) {
    module.exports = {
        MAX_DATAGRAM: MAX_DATAGRAM,
        oscMessageBytes: oscMessageBytes,
        optionArgs: optionArgs,
        decodingName: decodingName,
        readClip: readClip,
        clipMessages: clipMessages,
        newJobId: newJobId,
        initialState: initialState,
        applyReply: applyReply,
        startJob: startJob,
        audioTracks: audioTracks,
        placeAudioClip: placeAudioClip
    };
}
