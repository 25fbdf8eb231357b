// drumgrid Max for Live device: the [js] part (ES5: Max's classic [js] engine).
//
// Plain functions do the work (clip -> OSC message lists, replies -> UI state, placing a
// take) and are tested under node with a fake LiveAPI; the patch around this script is
// tested by a simulator that passes messages between its boxes as Max does
// (max_for_live/test). Everything here runs on Max's low-priority thread: every inlet of
// this object is fed through [deferlow], and the outlet to [udpsend] goes through another.
//
// Each device instance listens for its replies on a UDP port of its own and names it in
// every request (the protocol's reply_port), so several devices share one daemon, and a
// daemon started (or restarted) after the device answers the next request at once.
//
// outlet 0: OSC messages for [udpsend] ("/drumgrid/... args")
// outlet 1: UI: status TEXT | progress F | kits clear|append NAME|set I | tracks ... | save kit|track NAME
//
// A kit prompt (a prompted model): press Prompt with an audio clip of a kit's sound selected,
// then again with the MIDI clip that plays it; renders then use that sound (the daemon reads
// the audio file; the MIDI clip's notes travel as prompt_notes) until a kit is chosen.
// outlet 2: the preview buffer~ ("replace /path/take.wav")
// outlet 3: [udpreceive] ("port N": this instance's reply port)

autowatch = 1;
inlets = 1;
outlets = 4;

// -- the render contract: written by build.js from contract.json (drumgrid.bridge.contract) --
var DAEMON = "127.0.0.1:9000"; // where [udpsend] sends; the patcher's udpsend box says the same
var REPLY_PORT_BASE = 9010; // reply ports 9010..9999, one per device instance
var REPLY_PORT_SPAN = 990;
var MAX_DATAGRAM = 8192;
var DECODINGS = ["parallel", "iterative"];
var MAX_NAME = 100; // characters of the name option, which names the daemon's files
var MAX_PROMPT_NOTES = 4096; // characters of prompt_notes (a prompt's MIDI clip)
var P = "/drumgrid/";
// -- end of the render contract --

var SERVE_HINT = "start it in a terminal: drumgrid serve";
var PING_EVERY_TICKS = 5; // the patch ticks once a second; ping this often while connected
var MISSES_OFFLINE = 2; // unanswered pings before the daemon counts as gone
var MAX_NOTES_PER_MESSAGE = 128; // Max lists stay short; far under 8 KB either way
var MIN_LIVE_FOR_PLACE = [12, 0, 5]; // ClipSlot.create_audio_clip
var DECODING_MENU = ["auto"].concat(DECODINGS); // the Decoding tab's items, in order

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

// -- options ------------------------------------------------------------------------------

// "auto" sends no decoding, so the daemon picks (parallel for one take, iterative for more).
function decodingName(index) {
    var name = DECODING_MENU[index];
    return name === undefined || name === "auto" ? "" : name;
}

// The render options as protocol key value pairs; throws a message for the status line when
// the combination cannot render (the daemon would refuse it).
function optionArgs(options, replyPort) {
    var takes = options.variations || 1;
    if (options.decoding === "parallel" && takes > 1) {
        throw new Error("parallel decoding makes one take: set Takes to 1, or Decoding to auto or iterative");
    }
    var args = [];
    if (options.promptAudio && options.promptNotes) {
        args.push("prompt", String(options.promptAudio), "prompt_notes", options.promptNotes);
    } else if (options.kit) {
        args.push("kit", String(options.kit));
    }
    args.push("seed", Math.max(0, Math.round(options.seed || 0)));
    if (options.decoding) {
        args.push("decoding", options.decoding);
    }
    if (takes > 1) {
        args.push("variations", takes);
    }
    if (replyPort) {
        args.push("reply_port", replyPort);
    }
    if (options.name) {
        args.push("name", String(options.name).slice(0, MAX_NAME)); // names the daemon's files
    }
    return args;
}

// -- clip reading -------------------------------------------------------------------------

function first(value) {
    return value instanceof Array ? value[0] : value;
}

// A LiveAPI name as text: Live may hand a name with spaces back as several atoms or as one
// symbol wrapped in double quotes.
function liveName(value) {
    var text = value instanceof Array ? value.join(" ") : String(value);
    if (text.length >= 2 && text.charAt(0) === "\"" && text.charAt(text.length - 1) === "\"") {
        text = text.substring(1, text.length - 1).replace(/\\"/g, "\"");
    }
    return text;
}

// The clip as the protocol wants it: notes relative to the loop start, in beats.
// clip: a LiveAPI object on a MIDI clip; song: a LiveAPI object on live_set.
function readClip(clip, song) {
    var looping = Number(first(clip.get("looping"))) === 1;
    var start = Number(first(clip.get(looping ? "loop_start" : "start_marker")));
    var end = Number(first(clip.get(looping ? "loop_end" : "end_marker")));
    var length = end - start;
    if (!(length > 0)) {
        throw new Error("the clip has no length: set its loop or its start and end markers");
    }
    // get_notes_extended(from_pitch, pitch_span, from_time, time_span) -> JSON dictionary
    var raw = clip.call("get_notes_extended", 0, 128, start, length);
    var parsed = typeof raw === "string" ? JSON.parse(raw) : raw;
    var notes = [];
    var list = (parsed && parsed.notes) || [];
    for (var i = 0; i < list.length; i++) {
        var n = list[i];
        var at = n.start_time - start;
        if (n.mute || at < 0 || at >= length) {
            continue;
        }
        notes.push([n.pitch, at, n.duration, n.velocity]);
    }
    notes.sort(function (a, b) { return a[1] - b[1] || a[0] - b[0]; });
    return {
        tempo: Number(first(song.get("tempo"))),
        lengthBeats: length,
        sigNum: Number(first(clip.get("signature_numerator"))),
        sigDen: Number(first(clip.get("signature_denominator"))),
        notes: notes
    };
}

// A read clip (readClip) as the protocol's prompt_notes: "TEMPO;PITCH,START,DURATION,VELOCITY;..."
// with positions in beats from the clip's start; throws when it is too long to send.
function promptNotesText(clip) {
    var parts = [String(clip.tempo)];
    for (var i = 0; i < clip.notes.length; i++) {
        var n = clip.notes[i];
        parts.push([Math.round(n[0]), n[1], n[2], Math.round(n[3])].join(","));
    }
    var text = parts.join(";");
    if (clip.notes.length === 0) {
        throw new Error("the prompt's MIDI clip plays no notes");
    }
    if (text.length > MAX_PROMPT_NOTES) {
        throw new Error("the prompt's MIDI clip has too many notes (" + clip.notes.length + "): use the first 8 s of it");
    }
    return text;
}

// clip -> [[address, arg, ...], ...]: begin (with the option pairs), notes in chunks under
// 8 KB, end (with the number of notes sent).
function clipMessages(job, clip, optionPairs) {
    var messages = [[P + "clip/begin", job, clip.tempo, clip.lengthBeats, clip.sigNum, clip.sigDen]
        .concat(optionPairs)];
    var current = [P + "clip/notes", job];
    for (var i = 0; i < clip.notes.length; i++) {
        var n = clip.notes[i];
        var note = [Math.round(n[0]), n[1], n[2], n[3]];
        var grown = current.concat(note);
        var full = (current.length - 2) / 4 >= MAX_NOTES_PER_MESSAGE;
        if (current.length > 2 && (full || oscMessageBytes(grown[0], grown.slice(1)) >= MAX_DATAGRAM)) {
            messages.push(current);
            current = [P + "clip/notes", job].concat(note);
        } else {
            current = grown;
        }
    }
    if (current.length > 2) {
        messages.push(current);
    }
    messages.push([P + "clip/end", job, clip.notes.length]); // the count shows lost datagrams
    return messages;
}

var jobCounter = 0;

function newJobId(instance, now) {
    jobCounter += 1;
    var time = (now === undefined ? new Date().getTime() : now).toString(36);
    return "m4l-" + instance + "-" + time + "-" + jobCounter;
}

// -- replies -> the job's state -------------------------------------------------------------

function initialState() {
    return { status: "idle", job: "", progress: 0, takes: [], error: "", expected: 1, folds: [], renderedAs: "" };
}

function shallowCopy(object) {
    var copy = {};
    for (var k in object) {
        if (object.hasOwnProperty(k)) {
            copy[k] = object[k];
        }
    }
    return copy;
}

function copyState(state) {
    var s = shallowCopy(state);
    s.takes = state.takes.slice();
    s.folds = (state.folds || []).slice();
    return s;
}

function inFlight(state) {
    return state.status === "sending" || state.status === "queued" || state.status === "rendering";
}

// One reply about a job (address, args) -> the new state; pure, so node can test it.
function applyReply(state, address, args) {
    var s = copyState(state);
    if (!args.length || String(args[0]) !== s.job || !inFlight(s)) {
        return s; // another device's job, an older one, or one that has ended
    }
    if (address === P + "accepted") {
        s.status = "queued";
    } else if (address === P + "progress") {
        s.status = "rendering";
        s.progress = Math.max(s.progress, Number(args[1]));
    } else if (address === P + "done") {
        s.takes.push({ path: String(args[1]), sampleRate: Number(args[2]), frames: Number(args[3]) });
        s.status = s.takes.length >= s.expected ? "done" : "rendering";
        s.progress = s.takes.length >= s.expected ? 1 : s.progress;
    } else if (address === P + "error") {
        s.status = args[1] === "cancelled" ? "cancelled" : "error";
        s.error = String(args[1]) + ": " + String(args[2]);
    } else if (address === P + "notice") {
        // what the daemon took from the clip: pitches played as another drum, or dropped
        var text = String(args[1]);
        var folded = text.match(/^note map [^:]*: (.*)$/);
        if (folded) {
            s.folds.push(folded[1]);
        }
        // a prompt that sounds like one of the model's kits renders as that kit
        var known = text.match(/^prompt: sounds like the known kit (\S+) /);
        if (known) {
            s.renderedAs = known[1];
        }
    }
    return s;
}

function startJob(state, job, expected) {
    var s = copyState(state);
    s.job = job;
    s.status = "sending";
    s.progress = 0;
    s.takes = [];
    s.error = "";
    s.folds = [];
    s.renderedAs = "";
    s.expected = expected || 1;
    return s;
}

function baseName(path) {
    return String(path).replace(/^.*[\\\/]/, "");
}

// The status line for a job's state.
function jobText(state) {
    if (state.status === "queued") {
        return "queued";
    }
    if (state.status === "rendering") {
        return "rendering " + Math.round(state.progress * 100) + " %";
    }
    if (state.status === "done") {
        var n = state.takes.length;
        var text = "done: " + n + (n === 1 ? " take, " : " takes, ") + baseName(state.takes[n - 1].path);
        var folds = state.folds || [];
        if (folds.length) {
            text += "; " + folds.length + (folds.length === 1 ? " pitch" : " pitches") + " not played as itself: " + folds.join(", ");
        }
        if (state.renderedAs) {
            text += "; the prompt sounds like kit " + state.renderedAs + ", rendered as it";
        }
        return text;
    }
    if (state.status === "error") {
        return "error " + state.error;
    }
    return state.status;
}

// -- the daemon's health --------------------------------------------------------------------

function initialLink(port) {
    return { connected: false, version: "", port: port, ticks: 0, outstanding: false, missed: 0, kitsKnown: false };
}

// One tick (the patch sends one a second) -> {link, send: [messages], wentOffline, portChanged}.
// While the daemon is gone and no job waits on the port, each tick tries the next reply port
// (another program may hold ours; [udpreceive] cannot say so).
function tickLink(link, busy, instance) {
    var l = copyLink(link);
    var out = { link: l, send: [], wentOffline: false, portChanged: false };
    l.ticks += 1;
    if (l.connected && l.ticks % PING_EVERY_TICKS !== 0) {
        return out;
    }
    if (l.outstanding) {
        l.missed += 1;
    }
    if (l.missed >= MISSES_OFFLINE) {
        out.wentOffline = l.connected;
        l.connected = false;
        l.kitsKnown = false;
        if (!busy) {
            l.port = rotatePort(l.port, instance);
            out.portChanged = true;
        }
    }
    l.outstanding = true;
    out.send.push([P + "ping", l.port]);
    return out;
}

function copyLink(link) {
    return shallowCopy(link);
}

function rotatePort(port, instance) {
    var next = port + 1 + (instance % 7);
    return next >= REPLY_PORT_BASE + REPLY_PORT_SPAN ? REPLY_PORT_BASE + (next % REPLY_PORT_SPAN) : next;
}

function firstPort(instance) {
    return REPLY_PORT_BASE + (Math.abs(Math.round(instance)) % REPLY_PORT_SPAN);
}

function offlineText() {
    return "no drumgrid daemon answers on " + DAEMON + ": " + SERVE_HINT;
}

// -- Live: version, tracks, placing a take ----------------------------------------------------

function liveVersion(makeApi) {
    var app = makeApi("live_app");
    return [
        Number(first(app.call("get_major_version"))),
        Number(first(app.call("get_minor_version"))),
        Number(first(app.call("get_bugfix_version")))
    ];
}

function versionAtLeast(version, wanted) {
    for (var i = 0; i < wanted.length; i++) {
        if ((version[i] || 0) !== wanted[i]) {
            return (version[i] || 0) > wanted[i];
        }
    }
    return true;
}

function exists(api) {
    return api && api.id !== undefined && String(api.id) !== "0";
}

// [{index, name}] of the audio tracks of the set.
function audioTracks(makeApi) {
    var song = makeApi("live_set");
    var count = Number(song.getcount("tracks"));
    var tracks = [];
    for (var i = 0; i < count; i++) {
        var t = makeApi("live_set tracks " + i);
        if (Number(first(t.get("has_audio_input"))) === 1 && Number(first(t.get("has_midi_input"))) !== 1) {
            tracks.push({ index: i, name: liveName(t.get("name")) });
        }
    }
    return tracks;
}

// The track to place on: the one named `name` (the set may have changed since the menu was
// filled), preferring the index it had.
function findTrack(tracks, name, index) {
    var found = null;
    for (var i = 0; i < tracks.length; i++) {
        if (tracks[i].name === name && (found === null || tracks[i].index === index)) {
            found = tracks[i];
        }
    }
    return found;
}

// Puts the take into the first empty clip slot of the track and checks that Live made the
// clip; returns {ok, text} for the status line.
function placeAudioClip(makeApi, track, path) {
    var version = liveVersion(makeApi);
    if (!versionAtLeast(version, MIN_LIVE_FOR_PLACE)) {
        return { ok: false, text: "Place needs Live " + MIN_LIVE_FOR_PLACE.join(".") + " or newer (this is " +
            version.join(".") + "); drag " + baseName(path) + " from the render folder instead" };
    }
    var base = "live_set tracks " + track.index;
    if (Number(first(makeApi(base).get("is_frozen"))) === 1) {
        return { ok: false, text: "track " + track.name + " is frozen: unfreeze it, then Place" };
    }
    var slots = Number(makeApi(base).getcount("clip_slots"));
    for (var i = 0; i < slots; i++) {
        var slot = makeApi(base + " clip_slots " + i);
        if (Number(first(slot.get("has_clip"))) !== 0) {
            continue;
        }
        var failure = "";
        try {
            slot.call("create_audio_clip", path);
        } catch (e) {
            failure = String(e.message || e);
        }
        if (Number(first(slot.get("has_clip"))) !== 1) {
            return { ok: false, text: "Live did not create the clip on " + track.name + " slot " + (i + 1) +
                (failure ? " (" + failure + ")" : "") + "; see the Max window" };
        }
        return { ok: true, text: "placed " + baseName(path) + " on " + track.name + ", slot " + (i + 1) };
    }
    return { ok: false, text: "no empty clip slot on " + track.name + ": add a scene or free a slot" };
}

// -- Max entry points (run in Max; the simulator in max_for_live/test runs them too) -----------

var state = initialState();
var options = { kit: "", seed: 0, decoding: "", variations: 1 };
var kits = [];
var wantedKit = ""; // the kit saved with the set, applied once the daemon lists its kits
var trackList = [];
var target = { name: "", index: -1 }; // the track chosen for Place, saved with the set by name
var instance = 0; // this device's Live object id: a number unique in the set
var link = initialLink(0);
var started = false;

function makeLiveApi(path) {
    return new LiveAPI(null, path);
}

function show(text) {
    outlet(1, "status", text);
}

function showJob() {
    show(jobText(state) + (link.connected || !inFlight(state) ? "" : " (waiting for the daemon)"));
    outlet(1, "progress", state.progress);
}

function send(message) {
    outlet(0, message);
}

function listen() {
    outlet(3, "port", link.port);
}

// live.thisdevice: the Live API is ready. It bangs again when a preset loads or the device
// is saved: then only the track list is refreshed.
function init() {
    if (!started) {
        var self = makeLiveApi("this_device");
        instance = Number(self.id) || Math.floor(Math.random() * 100000);
        link = initialLink(firstPort(instance));
        started = true;
        listen();
        show("looking for the daemon on " + DAEMON); // the first tick follows at once
    }
    tracks();
}

function tick() {
    if (!started) {
        return;
    }
    var step = tickLink(link, inFlight(state), instance);
    link = step.link;
    if (step.portChanged) {
        listen();
    }
    if (inFlight(state) && link.missed >= MISSES_OFFLINE) {
        state = copyState(state);
        state.status = "error";
        state.error = "the daemon stopped answering; Render again once it is back";
        showJob();
    } else if (step.wentOffline || link.missed === MISSES_OFFLINE) {
        show(offlineText());
    }
    for (var i = 0; i < step.send.length; i++) {
        send(step.send[i]);
    }
}

function seed(value) {
    options.seed = Math.max(0, Math.round(Number(value)));
}

function takes(value) {
    options.variations = Math.max(1, Math.round(Number(value)));
}

function decoding(index) {
    options.decoding = decodingName(Number(index));
}

// Prompt button: an audio clip of a kit's sound, then the MIDI clip that plays it (the
// selected clip each time, in either view).
function prompt() {
    if (!started) {
        return;
    }
    var clip = makeLiveApi("live_set view detail_clip");
    if (!exists(clip)) {
        show("select the audio clip of a kit's sound, press Prompt, then its MIDI clip and Prompt");
        return;
    }
    var name = liveName(clip.get("name"));
    if (Number(first(clip.get("is_audio_clip"))) === 1) {
        options.promptAudio = liveName(clip.get("file_path"));
        options.promptName = name;
        options.promptNotes = "";
        show("prompt audio: " + name + "; now select the MIDI clip it plays and press Prompt");
        return;
    }
    if (!options.promptAudio) {
        show("select the audio clip of a kit's sound first and press Prompt, then its MIDI clip");
        return;
    }
    try {
        options.promptNotes = promptNotesText(readClip(clip, makeLiveApi("live_set")));
    } catch (e) {
        show(String(e.message || e));
        return;
    }
    show("prompt: " + options.promptName + " as " + name + " plays it; renders use its sound until you choose a kit");
}

// kit menu: the item chosen (an index into the daemon's list); it ends a prompt
function kit(index) {
    var name = kits[Number(index)];
    if (name !== undefined) {
        options.promptAudio = options.promptNotes = "";
        options.kit = name;
        wantedKit = name;
        outlet(1, "save", "kit", name);
    }
}

function restorekit() {
    var name = arrayfromargs(arguments).join(" ");
    if (name) {
        wantedKit = name;
        showKits();
    }
}

function showKits() {
    outlet(1, "kits", "clear");
    for (var i = 0; i < kits.length; i++) {
        outlet(1, "kits", "append", kits[i]);
    }
    var at = kits.indexOf(wantedKit);
    options.kit = at >= 0 ? kits[at] : kits[0] || "";
    if (kits.length) {
        outlet(1, "kits", "set", at >= 0 ? at : 0);
    }
    if (wantedKit && kits.length && at < 0) {
        show("kit " + wantedKit + " is not in this model; rendering with " + kits[0]);
    }
}

// track menu: the item chosen (an index into the listed audio tracks)
function track(index) {
    var chosen = trackList[Number(index)];
    if (chosen) {
        target = { name: chosen.name, index: chosen.index };
        outlet(1, "save", "track", chosen.name);
    }
}

function restoretrack() {
    var name = arrayfromargs(arguments).join(" ");
    if (name) {
        target = { name: name, index: -1 };
        tracks();
    }
}

function tracks() {
    if (!started) {
        return;
    }
    trackList = audioTracks(makeLiveApi);
    outlet(1, "tracks", "clear");
    var at = -1;
    for (var i = 0; i < trackList.length; i++) {
        outlet(1, "tracks", "append", trackList[i].index + 1 + " " + trackList[i].name);
        if (at < 0 && trackList[i].name === target.name) {
            at = i;
        }
    }
    if (at >= 0) {
        target.index = trackList[at].index;
        outlet(1, "tracks", "set", at);
    } else if (trackList.length && !target.name) {
        track(0);
        outlet(1, "tracks", "set", 0);
    }
}

function render() {
    if (!started) {
        return;
    }
    var clip = makeLiveApi("live_set view detail_clip");
    if (!exists(clip) || Number(first(clip.get("is_midi_clip"))) !== 1) {
        show("select a MIDI clip first (click it in Session or Arrangement view)");
        return;
    }
    var job = newJobId(instance);
    var messages;
    try {
        var named = shallowCopy(options);
        named.name = liveName(clip.get("name"));
        messages = clipMessages(job, readClip(clip, makeLiveApi("live_set")), optionArgs(named, link.port));
    } catch (e) {
        show(String(e.message || e));
        return;
    }
    state = startJob(state, job, options.variations);
    if (!link.connected) {
        send([P + "ping", link.port]); // the daemon may have just started
    }
    for (var i = 0; i < messages.length; i++) {
        send(messages[i]);
    }
    showJob();
}

function cancel() {
    if (state.job && inFlight(state)) {
        send([P + "cancel", state.job]);
        show("cancelling");
    }
}

function place() {
    if (!state.takes.length) {
        show("render first, then Place puts the take on an audio track");
        return;
    }
    var found = findTrack(audioTracks(makeLiveApi), target.name, target.index);
    if (!found) {
        show(target.name ? "audio track " + target.name + " is gone: press Tracks and choose one"
            : "choose an audio track first (press Tracks)");
        return;
    }
    show(placeAudioClip(makeLiveApi, found, state.takes[state.takes.length - 1].path).text);
}

function previewloaded() {
    if (state.status === "done") {
        show(jobText(state) + " (in the preview)");
    }
}

// [udpreceive] output: a message whose selector is the OSC address.
function anything() {
    var address = messagename;
    var args = arrayfromargs(arguments);
    if (address === P + "pong") {
        var was = link.connected;
        link = copyLink(link);
        link.connected = true;
        link.outstanding = false;
        link.missed = 0;
        link.version = String(args[0]);
        if (!link.kitsKnown) {
            send([P + "kits", link.port]);
        }
        if (!was && !inFlight(state)) {
            show("connected to drumgrid " + link.version);
        }
    } else if (address === P + "kits") {
        link.kitsKnown = true;
        kits = [];
        for (var i = 0; i < args.length; i++) {
            kits.push(String(args[i]));
        }
        showKits();
    } else {
        var before = state.takes.length;
        state = applyReply(state, address, args);
        if (state.takes.length > before) {
            outlet(2, "replace", state.takes[state.takes.length - 1].path);
        }
        if (args.length && String(args[0]) === state.job) {
            showJob();
        }
    }
}

if (typeof module !== "undefined" && module.exports) {
    module.exports = {
        MAX_DATAGRAM: MAX_DATAGRAM,
        DAEMON: DAEMON,
        REPLY_PORT_BASE: REPLY_PORT_BASE,
        oscMessageBytes: oscMessageBytes,
        optionArgs: optionArgs,
        decodingName: decodingName,
        liveName: liveName,
        readClip: readClip,
        promptNotesText: promptNotesText,
        clipMessages: clipMessages,
        newJobId: newJobId,
        initialState: initialState,
        applyReply: applyReply,
        startJob: startJob,
        jobText: jobText,
        initialLink: initialLink,
        tickLink: tickLink,
        firstPort: firstPort,
        rotatePort: rotatePort,
        versionAtLeast: versionAtLeast,
        audioTracks: audioTracks,
        findTrack: findTrack,
        placeAudioClip: placeAudioClip
    };
}
