"use strict";
// The device without a daemon: the script's functions, the patch driven through the
// simulator (clicks end in datagrams at a UDP peer), the patcher lint, the frozen .amxd.
const test = require("node:test");
const assert = require("node:assert");
const dgram = require("node:dgram");
const fs = require("node:fs");
const path = require("node:path");
const dev = require("../drumgrid.js");
const osc = require("./osc.js");
const { buildFromSources, readAmxd, readContract, scriptWithContract, patchWithContract, DEVICE_NAME } = require("../build.js");
const { makeFakeLive, liveSet } = require("./fake_live.js");
const { lintPatcher } = require("./patchlint.js");
const s = require("./scenario.js");

const HERE = path.join(__dirname, "..");

// -- the script's functions ---------------------------------------------------------------

function clipTree(notes, extra) {
  const tree = liveSet({ notes, tempo: 97.5, loop: [4, 20], signature: [7, 8] });
  Object.assign(tree["live_set view detail_clip"], { start_marker: 0, end_marker: 24 }, extra || {});
  return tree;
}

const NOTES = [
  { note_id: 1, pitch: 36, start_time: 4.0, duration: 0.25, velocity: 110, mute: 0 },
  { note_id: 2, pitch: 42, start_time: 4.51, duration: 0.25, velocity: 64.5, mute: 0 },
  { note_id: 3, pitch: 38, start_time: 6.0, duration: 0.25, velocity: 100, mute: 1 },
  { note_id: 4, pitch: 36, start_time: 2.0, duration: 0.25, velocity: 100, mute: 0 },
];

test("readClip asks get_notes_extended for the loop in Live's argument order", () => {
  const live = makeFakeLive(clipTree(NOTES));
  const clip = dev.readClip(live.makeApi("live_set view detail_clip"), live.makeApi("live_set"));
  const call = live.calls.find((c) => c.name === "get_notes_extended");
  assert.deepStrictEqual(call.args, [0, 128, 4, 16]);
  assert.strictEqual(clip.tempo, 97.5);
  assert.strictEqual(clip.lengthBeats, 16);
  assert.deepStrictEqual([clip.sigNum, clip.sigDen], [7, 8]);
  // relative to the loop start, muted note skipped, the note before the loop not asked for
  assert.deepStrictEqual(clip.notes, [[36, 0, 0.25, 110], [42, 4.51 - 4, 0.25, 64.5]]);
});

test("readClip uses the markers when the clip does not loop, and refuses an empty one", () => {
  const live = makeFakeLive(clipTree(NOTES, { looping: 0 }));
  const clip = dev.readClip(live.makeApi("live_set view detail_clip"), live.makeApi("live_set"));
  assert.strictEqual(clip.lengthBeats, 24);
  assert.strictEqual(clip.notes.length, 3);
  const empty = makeFakeLive(clipTree(NOTES, { loop_end: 4 }));
  assert.throws(() => dev.readClip(empty.makeApi("live_set view detail_clip"), empty.makeApi("live_set")), /no length/);
});

test("options: auto decoding sends none; parallel with several takes is refused before sending", () => {
  assert.deepStrictEqual([0, 1, 2, 7].map(dev.decodingName), ["", "parallel", "iterative", ""]);
  assert.deepStrictEqual(dev.optionArgs({ kit: "fluid jazz", seed: 300.0, decoding: "", variations: 3 }, 9013),
    ["kit", "fluid jazz", "seed", 300, "variations", 3, "reply_port", 9013]);
  assert.deepStrictEqual(dev.optionArgs({ seed: 1, name: "Verse beat" }, 9013),
    ["seed", 1, "reply_port", 9013, "name", "Verse beat"]);
  assert.throws(() => dev.optionArgs({ decoding: "parallel", variations: 2 }, 9013), /Takes to 1/);
});

test("clipMessages: begin with options, notes chunked under 8 KB, end", () => {
  const notes = [];
  for (let i = 0; i < 1000; i++) notes.push([36 + (i % 10), i * 0.125, 0.1, 1 + (i % 127)]);
  const clip = { tempo: 120, lengthBeats: 125, sigNum: 4, sigDen: 4, notes };
  const msgs = dev.clipMessages("m4l-x-1", clip, ["kit", "acoustic", "seed", 3]);
  assert.deepStrictEqual(msgs[0], ["/drumgrid/clip/begin", "m4l-x-1", 120, 125, 4, 4, "kit", "acoustic", "seed", 3]);
  assert.deepStrictEqual(msgs[msgs.length - 1], ["/drumgrid/clip/end", "m4l-x-1", 1000]);
  let count = 0;
  for (const m of msgs.slice(1, -1)) {
    assert.strictEqual(m[0], "/drumgrid/clip/notes");
    count += (m.length - 2) / 4;
    const bytes = osc.encode(m[0], m.slice(1)).length;
    assert.ok(bytes < dev.MAX_DATAGRAM && dev.oscMessageBytes(m[0], m.slice(1)) >= bytes, `chunk of ${bytes} bytes`);
  }
  assert.strictEqual(count, 1000);
  const many = [];
  for (let i = 0; i < 5000; i++) many.push([36, i * 0.01, 0.01, 100.5]);
  for (const m of dev.clipMessages("j".repeat(64), { tempo: 120, lengthBeats: 64, sigNum: 4, sigDen: 4, notes: many }, [])) {
    assert.ok(osc.encode(m[0], m.slice(1)).length < 8192);
  }
});

test("applyReply: notices of folded or dropped pitches show with the finished take", () => {
  let st = dev.startJob(dev.initialState(), "j1", 1);
  st = dev.applyReply(st, "/drumgrid/notice", ["j1", "note map gm: 39 Hand Clap x2 -> snare"]);
  st = dev.applyReply(st, "/drumgrid/notice", ["other", "note map gm: 56 Cowbell x1 -> snare"]);
  st = dev.applyReply(st, "/drumgrid/notice", ["j1", "drums: channel 10"]);
  st = dev.applyReply(st, "/drumgrid/done", ["j1", "/r/a.wav", 44100, 10]);
  assert.strictEqual(dev.jobText(st), "done: 1 take, a.wav; 1 pitch not played as itself: 39 Hand Clap x2 -> snare");
  assert.deepStrictEqual(dev.startJob(st, "j2", 1).folds, []);
});

test("applyReply: a prompt rendered as the known kit it sounds like says so with the take", () => {
  let st = dev.startJob(dev.initialState(), "j1", 1);
  const notice = "prompt: sounds like the known kit fluid-standard (it predicts the prompt's second half with latent error 0.050, the prompt's first half 0.079): rendered as fluid-standard; --no-prompt-fit (OSC prompt_fit 0) renders from the prompt";
  st = dev.applyReply(st, "/drumgrid/notice", ["j1", notice]);
  st = dev.applyReply(st, "/drumgrid/done", ["j1", "/r/a.wav", 44100, 10]);
  assert.strictEqual(dev.jobText(st), "done: 1 take, a.wav; the prompt sounds like kit fluid-standard, rendered as it");
  assert.strictEqual(dev.startJob(st, "j2", 1).renderedAs, "");
  let kept = dev.startJob(dev.initialState(), "j3", 1);  // rendered from the prompt: nothing added
  kept = dev.applyReply(kept, "/drumgrid/notice", ["j3", "prompt: rendered from the prompt (its first half predicts its second with latent error 0.151; the nearest known kit, millo-ml3, 0.155)"]);
  kept = dev.applyReply(kept, "/drumgrid/done", ["j3", "/r/b.wav", 44100, 10]);
  assert.strictEqual(dev.jobText(kept), "done: 1 take, b.wav");
});

test("applyReply: accepted -> progress -> done for our job; others' and late replies ignored", () => {
  let st = dev.startJob(dev.initialState(), "j1", 2);
  st = dev.applyReply(st, "/drumgrid/accepted", ["j1"]);
  assert.strictEqual(st.status, "queued");
  st = dev.applyReply(st, "/drumgrid/progress", ["j1", 0.4]);
  st = dev.applyReply(st, "/drumgrid/progress", ["other", 0.9]);
  assert.deepStrictEqual([st.status, st.progress, dev.jobText(st)], ["rendering", 0.4, "rendering 40 %"]);
  st = dev.applyReply(st, "/drumgrid/done", ["j1", "/r/a.wav", 44100, 10]);
  assert.strictEqual(st.status, "rendering");
  st = dev.applyReply(st, "/drumgrid/done", ["j1", "/r/a-2.wav", 44100, 10]);
  assert.strictEqual(dev.jobText(st), "done: 2 takes, a-2.wav");
  assert.strictEqual(dev.applyReply(st, "/drumgrid/error", ["j1", "internal", "late"]).status, "done");
  const e = dev.applyReply(dev.startJob(st, "j2", 1), "/drumgrid/error", ["j2", "unknown_kit", "unknown kit 'x'"]);
  assert.strictEqual(dev.jobText(e), "error unknown_kit: unknown kit 'x'");
});

test("the link: offline after two unanswered pings, trying the next reply port while idle", () => {
  let link = dev.initialLink(dev.firstPort(3));
  assert.strictEqual(link.port, 9013);
  let step = dev.tickLink(link, false, 3);
  assert.deepStrictEqual(step.send, [["/drumgrid/ping", 9013]]);
  step = dev.tickLink(step.link, false, 3);
  assert.ok(!step.portChanged);
  step = dev.tickLink(step.link, false, 3);
  assert.ok(step.portChanged && step.link.port !== 9013);
  assert.deepStrictEqual(step.send, [["/drumgrid/ping", step.link.port]]);
  const busy = dev.tickLink(dev.tickLink(dev.tickLink(link, true, 3).link, true, 3).link, true, 3);
  assert.strictEqual(busy.link.port, 9013, "a job in flight keeps its reply port");
  for (let port = 9010, i = 0; i < 2000; i++) {
    port = dev.rotatePort(port, i);
    assert.ok(port >= 9010 && port < 10000);
  }
});

test("Live names: quoted or split names with spaces are read whole", () => {
  assert.strictEqual(dev.liveName(['"My Takes"']), "My Takes");
  assert.strictEqual(dev.liveName(["My", "Takes"]), "My Takes");
  assert.strictEqual(dev.liveName(["Audio"]), "Audio");
});

test("Place checks the Live version, frozen tracks, free slots and that Live made the clip", () => {
  const tree = liveSet({ notes: [], audioTracks: [["My Takes", 2], ["Frozen", 1, true]] });
  const track = { index: 1, name: "My Takes" };
  assert.match(dev.placeAudioClip(makeFakeLive(tree, { version: [12, 0, 1] }).makeApi, track, "/r/a.wav").text, /needs Live 12.0.5 or newer \(this is 12.0.1\)/);
  assert.match(dev.placeAudioClip(makeFakeLive(tree, { version: [11, 3, 25] }).makeApi, track, "/r/a.wav").text, /needs Live/);
  for (const throwing of [false, true]) {
    const failing = makeFakeLive(tree, { failing: { create_audio_clip: "no such file" }, throwing });
    const r = dev.placeAudioClip(failing.makeApi, track, "/r/a.wav");
    assert.ok(!r.ok && /Live did not create the clip on My Takes slot 1/.test(r.text), r.text);
    assert.strictEqual(failing.errors.length, 1);
  }
  const live = makeFakeLive(tree);
  assert.strictEqual(dev.placeAudioClip(live.makeApi, track, "/r/a.wav").text, "placed a.wav on My Takes, slot 1");
  assert.strictEqual(dev.placeAudioClip(live.makeApi, track, "/r/b.wav").text, "placed b.wav on My Takes, slot 2");
  assert.match(dev.placeAudioClip(live.makeApi, track, "/r/c.wav").text, /no empty clip slot on My Takes/);
  assert.match(dev.placeAudioClip(live.makeApi, { index: 2, name: "Frozen" }, "/r/c.wav").text, /Frozen is frozen/);
  assert.deepStrictEqual(dev.audioTracks(live.makeApi), [{ index: 1, name: "My Takes" }, { index: 2, name: "Frozen" }]);
  assert.deepStrictEqual(dev.findTrack([{ index: 1, name: "A" }, { index: 4, name: "A" }], "A", 4), { index: 4, name: "A" });
});

test("the script is ES5 (Max's classic [js])", () => {
  const src = fs.readFileSync(path.join(HERE, "drumgrid.js"), "utf8")
    .replace(/\/\/.*$/gm, "").replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const [what, re] of [["let/const", /\b(let|const)\s/], ["arrow function", /=>/],
    ["template string", /`/], ["class", /\bclass\s/], ["spread", /\.\.\./],
    ["for..of", /for\s*\([^)]*\bof\b/], ["includes/find/assign", /\.(includes|find|findIndex|assign)\(/]]) {
    assert.ok(!re.test(src), `drumgrid.js uses ${what}`);
  }
});

// -- the patcher ------------------------------------------------------------------------------

test("the patcher passes the lint", () => {
  const world = new s.World(s.liveWith());
  const patch = JSON.parse(s.PATCH_TEXT);
  assert.deepStrictEqual(lintPatcher(patch, new s.Device(world, patch)), []);
  world.close();
});

test("the udpsend box and the script name the daemon's default port", () => {
  const patch = JSON.parse(s.PATCH_TEXT);
  const udpsend = patch.patcher.boxes.map((b) => b.box).find((b) => (b.text || "").startsWith("udpsend"));
  assert.strictEqual(udpsend.text, `udpsend ${dev.DAEMON.replace(":", " ")}`);
  const c = readContract(HERE);
  assert.strictEqual(dev.DAEMON, `${c.daemon_host}:${c.daemon_udp_port}`);
});

// contract.json is the render contract's copy for the device (tests/test_bridge.py checks it
// against drumgrid.bridge.contract); build.js writes it into the script and the patcher.
test("the script and the patcher carry the render contract of contract.json", () => {
  const c = readContract(HERE);
  const hint = "run `node max_for_live/build.js` after changing contract.json";
  assert.strictEqual(scriptWithContract(s.SCRIPT_TEXT, c), s.SCRIPT_TEXT, hint);
  assert.strictEqual(patchWithContract(s.PATCH_TEXT, c), s.PATCH_TEXT, hint);
  const boxes = JSON.parse(s.PATCH_TEXT).patcher.boxes.map((b) => b.box);
  const param = (name) => boxes.find((b) => b.varname === name).saved_attribute_attributes.valueof;
  assert.deepStrictEqual([param("takes").parameter_mmin, param("takes").parameter_mmax], [1, c.max_takes]);
  assert.deepStrictEqual(param("decoding").parameter_enum, ["auto", ...c.decoding]);
  assert.ok(boxes.some((b) => b.text === `udpreceive ${c.reply_port_first}`));
  assert.deepStrictEqual([dev.REPLY_PORT_BASE, dev.MAX_DATAGRAM], [c.reply_port_first, c.max_datagram]);
  for (let i = 0; i < 3000; i++) {
    const port = dev.firstPort(i);
    assert.ok(port >= c.reply_port_first && port <= c.reply_port_last, `port ${port}`);
  }
  assert.deepStrictEqual([0, 1, 2].map(dev.decodingName), ["", ...c.decoding]);
  const named = dev.optionArgs({ name: "x".repeat(c.max_name + 20) }, 0);
  assert.strictEqual(named[named.indexOf("name") + 1].length, c.max_name);
});

// A UDP peer standing in for the daemon's front door: it answers ping and kits, and records.
async function peer(kits) {
  const sock = dgram.createSocket("udp4");
  const got = [];
  sock.on("message", (data, from) => {
    const { address, args } = osc.decode(data);
    got.push({ address, args });
    const reply = address === "/drumgrid/ping" ? ["/drumgrid/pong", "test"] : address === "/drumgrid/kits" ? ["/drumgrid/kits", ...kits] : null;
    if (reply && args.length) sock.send(osc.encode(reply[0], reply.slice(1)), args[0], "127.0.0.1");
  });
  await new Promise((resolve) => sock.bind(0, "127.0.0.1", resolve));
  return { port: sock.address().port, got, close: () => sock.close() };
}

test("choose a kit, seed 300, click Render: the clip leaves [udpsend] as OSC datagrams", async () => {
  const daemon = await peer(["fluid standard", "red-zeppelin"]);
  const world = new s.World(s.liveWith());
  try {
    const device = s.addDevice(world, daemon.port);
    await s.connected(world, device);
    assert.deepStrictEqual(device.box("kit_menu").items, ["fluid standard", "red-zeppelin"]);
    s.pickKit(device, "fluid standard");
    device.setNumber("seed", 300);
    device.setNumber("takes", 2);
    device.choose("decoding", 2);
    device.click("b_render");
    await world.until(() => daemon.got.some((m) => m.address === "/drumgrid/clip/end"), 3000, "clip/end");
    const begin = daemon.got.find((m) => m.address === "/drumgrid/clip/begin");
    const port = device.box("udpreceive").port;
    assert.deepStrictEqual(begin.args.slice(1), [120, 4, 4, 4, "kit", "fluid standard", "seed", 300, "decoding", "iterative", "variations", 2, "reply_port", port, "name", "Groove 1"]);
    const notes = daemon.got.filter((m) => m.address === "/drumgrid/clip/notes").flatMap((m) => m.args.slice(1));
    assert.strictEqual(notes.length, 12 * 4);
    assert.strictEqual(device.status, "sending");
  } finally {
    world.close();
    daemon.close();
  }
});

test("no daemon: the status says so and how to start one; no clip selected: says so", async () => {
  const world = new s.World(s.liveWith());
  const silent = dgram.createSocket("udp4"); // a port nobody answers on
  await new Promise((resolve) => silent.bind(0, "127.0.0.1", resolve));
  try {
    const device = s.addDevice(world, silent.address().port);
    await world.until(() => /no drumgrid daemon answers on 127.0.0.1:9000: start it in a terminal: drumgrid serve/.test(device.status), 5000, "the hint");
    delete world.live.tree["live_set view detail_clip"];
    device.click("b_render");
    await world.settle();
    assert.match(device.status, /select a MIDI clip first/);
  } finally {
    world.close();
    silent.close();
  }
});

test("parallel decoding with 2 takes is refused in the device, before anything is sent", async () => {
  const daemon = await peer(["k"]);
  const world = new s.World(s.liveWith());
  try {
    const device = s.addDevice(world, daemon.port);
    await s.connected(world, device);
    device.choose("decoding", 1);
    device.setNumber("takes", 2);
    device.click("b_render");
    await world.settle();
    assert.match(device.status, /parallel decoding makes one take: set Takes to 1/);
    assert.ok(!daemon.got.some((m) => m.address.startsWith("/drumgrid/clip")));
  } finally {
    world.close();
    daemon.close();
  }
});

test("kit, track, seed, takes and decoding are saved with the set and come back", async () => {
  const daemon = await peer(["a", "b kit", "c"]);
  const world = new s.World(s.liveWith({ audioTracks: [["Bus", 1], ["My Takes", 1]] }));
  try {
    const first = s.addDevice(world, daemon.port);
    await s.connected(world, first);
    s.pickKit(first, "b kit");
    first.choose("track_menu", 1);
    first.setNumber("seed", 12345);
    first.setNumber("takes", 3);
    first.choose("decoding", 2);
    await world.settle();
    const saved = first.saveSet();
    assert.deepStrictEqual(saved["drumgrid Kit"].map((a) => a.v), ["b kit"]);
    first.close();
    const again = s.addDevice(world, daemon.port, { saved });
    await s.connected(world, again);
    await world.settle();
    assert.strictEqual(again.box("kit_menu").text, "b kit");
    assert.strictEqual(again.box("track_menu").text, "3 My Takes");
    const opts = again.box("js").ctx.options;
    assert.deepStrictEqual([opts.kit, opts.seed, opts.variations, opts.decoding], ["b kit", 12345, 3, "iterative"]);
  } finally {
    world.close();
    daemon.close();
  }
});

test("live.thisdevice banging again (a preset loads, the device is saved) keeps the reply port", async () => {
  const daemon = await peer(["a"]);
  const world = new s.World(s.liveWith());
  try {
    const device = s.addDevice(world, daemon.port);
    await s.connected(world, device);
    const port = device.box("udpreceive").port;
    device.box("thisdevice").load();
    await world.settle();
    assert.strictEqual(device.box("udpreceive").port, port);
  } finally {
    world.close();
    daemon.close();
  }
});

// -- the built device -------------------------------------------------------------------------

test("drumgrid.amxd is frozen: the patcher and the script travel inside, as built from the sources", () => {
  const data = fs.readFileSync(path.join(HERE, DEVICE_NAME));
  assert.ok(data.equals(buildFromSources(HERE)), "run `node max_for_live/build.js` after editing the sources");
  const amxd = readAmxd(data);
  assert.strictEqual(amxd.deviceType, "mmmm");
  assert.strictEqual(amxd.meta, 7);
  assert.deepStrictEqual(amxd.entries.map((e) => [e.name, e.type, e.flag, e.offset > 0]),
    [[DEVICE_NAME, "JSON", 17, true], ["drumgrid.js", "TEXT", 0, true]]);
  assert.deepStrictEqual(JSON.parse(amxd.entries[0].data.toString("utf8")), JSON.parse(s.PATCH_TEXT));
  assert.strictEqual(amxd.entries[1].data.toString("utf8"), s.SCRIPT_TEXT);
});

test("the device runs from the .amxd alone: its embedded script drives the patch", async () => {
  const amxd = readAmxd(fs.readFileSync(path.join(HERE, DEVICE_NAME)));
  const daemon = await peer(["only"]);
  const world = new s.World(s.liveWith());
  try {
    const patch = s.patchFor(daemon.port, amxd.entries[0].data.toString("utf8"));
    const scripts = Object.fromEntries(amxd.entries.slice(1).map((e) => [e.name, e.data.toString("utf8")]));
    const device = new s.Device(world, patch, { scripts, scriptDir: "/nowhere" }).load();
    await s.connected(world, device);
    assert.deepStrictEqual(device.box("kit_menu").items, ["only"]);
  } finally {
    world.close();
    daemon.close();
  }
});

test("promptNotesText: a MIDI clip's notes as prompt_notes, refused when empty or too long", () => {
  const text = dev.promptNotesText({ tempo: 97.5, notes: [[36, 0, 0.25, 110], [42, 0.5, 0.25, 64.5]] });
  assert.strictEqual(text, "97.5;36,0,0.25,110;42,0.5,0.25,65");
  assert.throws(() => dev.promptNotesText({ tempo: 120, notes: [] }), /plays no notes/);
  const many = Array.from({ length: 400 }, (_, i) => [42, i * 0.25, 0.25, 80]);
  assert.throws(() => dev.promptNotesText({ tempo: 120, notes: many }), /too many notes \(400\)/);
  const args = dev.optionArgs({ kit: "k", promptAudio: "/a b.wav", promptNotes: text }, 0);
  assert.deepStrictEqual(args.slice(0, 4), ["prompt", "/a b.wav", "prompt_notes", text]);
  assert.ok(!args.includes("kit"));
});

test("Prompt: an audio clip, then the MIDI clip that plays it; renders use it until a kit is chosen", async () => {
  const daemon = await peer(["kit a", "kit b"]);
  const world = new s.World(s.liveWith());
  try {
    const device = s.addDevice(world, daemon.port);
    await s.connected(world, device);
    const midiClip = world.live.tree["live_set view detail_clip"];
    device.click("b_prompt");
    await world.settle();
    assert.match(device.status, /select the audio clip of a kit's sound first/); // a MIDI clip alone
    world.live.tree["live_set view detail_clip"] = { name: "Room take", is_audio_clip: 1, is_midi_clip: 0, file_path: "/kits/room take.wav" };
    device.click("b_prompt");
    await world.settle();
    assert.match(device.status, /prompt audio: Room take; now select the MIDI clip it plays/);
    world.live.tree["live_set view detail_clip"] = midiClip;
    device.click("b_prompt");
    await world.settle();
    assert.match(device.status, /prompt: Room take as Groove 1 plays it/);
    device.click("b_render");
    await world.until(() => daemon.got.some((m) => m.address === "/drumgrid/clip/end"), 3000, "clip/end");
    const begin = daemon.got.find((m) => m.address === "/drumgrid/clip/begin").args;
    assert.deepStrictEqual(begin.slice(5, 8), ["prompt", "/kits/room take.wav", "prompt_notes"]);
    assert.match(begin[8], /^120;36,0,0.25,110;42,0,0.25,60;42,0.5,0.25,65;/);
    assert.ok(!begin.includes("kit"));
    daemon.got.length = 0;
    s.pickKit(device, "kit b");
    device.click("b_cancel");
    device.click("b_render");
    await world.until(() => daemon.got.some((m) => m.address === "/drumgrid/clip/begin"), 3000, "begin");
    const again = daemon.got.find((m) => m.address === "/drumgrid/clip/begin").args;
    assert.ok(again.includes("kit") && !again.includes("prompt"));
  } finally {
    world.close();
    daemon.close();
  }
});
