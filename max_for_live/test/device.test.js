"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const dev = require("../drumgrid.js");
const osc = require("./osc.js");
const { makeFakeLive } = require("./fake_live.js");

function clipTree(notes, extra) {
  const clip = Object.assign(
    {
      looping: 1, loop_start: 4, loop_end: 20, start_marker: 0, end_marker: 24,
      signature_numerator: 7, signature_denominator: 8, is_midi_clip: 1,
      get_notes_extended(fromPitch, pitchSpan, fromTime, timeSpan) {
        // Live's argument order: from_pitch, pitch_span, from_time, time_span
        const picked = notes.filter(
          (n) => n.pitch >= fromPitch && n.pitch < fromPitch + pitchSpan &&
            n.start_time >= fromTime && n.start_time < fromTime + timeSpan);
        return JSON.stringify({ notes: picked });
      },
    },
    extra || {});
  return { "live_set view detail_clip": clip, live_set: { tempo: 97.5 } };
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

test("readClip uses the markers when the clip does not loop", () => {
  const live = makeFakeLive(clipTree(NOTES, { looping: 0 }));
  const clip = dev.readClip(live.makeApi("live_set view detail_clip"), live.makeApi("live_set"));
  assert.strictEqual(clip.lengthBeats, 24);
  assert.strictEqual(clip.notes.length, 3);
});

test("the Decoding menu: auto sends no decoding, so the daemon picks", () => {
  assert.deepStrictEqual([0, 1, 2, 7].map(dev.decodingName), ["", "parallel", "iterative", ""]);
  const args = dev.optionArgs({ seed: 1, decoding: dev.decodingName(0), variations: 3 });
  assert.deepStrictEqual(args, ["seed", 1, "variations", 3]);
});

test("clipMessages: begin with options, notes chunked under 8 KB, end", () => {
  const notes = [];
  for (let i = 0; i < 1000; i++) notes.push([36 + (i % 10), i * 0.125, 0.1, 1 + (i % 127)]);
  const clip = { tempo: 120, lengthBeats: 125, sigNum: 4, sigDen: 4, notes };
  const msgs = dev.clipMessages("m4l-x-1", clip, { kit: "acoustic", seed: 3, decoding: "iterative", variations: 2, steps: "" });
  assert.deepStrictEqual(msgs[0], ["/drumgrid/clip/begin", "m4l-x-1", 120, 125, 4, 4,
    "kit", "acoustic", "seed", 3, "decoding", "iterative", "variations", 2]);
  assert.deepStrictEqual(msgs[msgs.length - 1], ["/drumgrid/clip/end", "m4l-x-1"]);
  const chunks = msgs.slice(1, -1);
  let count = 0;
  for (const m of chunks) {
    assert.strictEqual(m[0], "/drumgrid/clip/notes");
    assert.strictEqual((m.length - 2) % 4, 0);
    count += (m.length - 2) / 4;
    const bytes = osc.encode(m[0], m.slice(1)).length;
    assert.ok(bytes < dev.MAX_DATAGRAM, `chunk of ${bytes} bytes`);
    assert.ok(dev.oscMessageBytes(m[0], m.slice(1)) >= bytes);
  }
  assert.strictEqual(count, 1000);
});

test("a long job id and many notes still give datagrams under 8 KB", () => {
  const notes = [];
  for (let i = 0; i < 5000; i++) notes.push([36, i * 0.01, 0.01, 100.5]);
  const msgs = dev.clipMessages("j".repeat(64), { tempo: 120, lengthBeats: 64, sigNum: 4, sigDen: 4, notes }, {});
  for (const m of msgs) assert.ok(osc.encode(m[0], m.slice(1)).length < 8192);
});

test("applyReply: accepted -> progress -> done for our job, others ignored", () => {
  let s = dev.startJob(dev.initialState(), "j1", 2);
  s = dev.applyReply(s, "/drumgrid/accepted", ["j1"]);
  assert.strictEqual(s.status, "queued");
  s = dev.applyReply(s, "/drumgrid/progress", ["j1", 0.4]);
  s = dev.applyReply(s, "/drumgrid/progress", ["other", 0.9]);
  assert.deepStrictEqual([s.status, s.progress], ["rendering", 0.4]);
  s = dev.applyReply(s, "/drumgrid/done", ["j1", "/r/a.wav", 44100, 10]);
  assert.strictEqual(s.status, "rendering");
  s = dev.applyReply(s, "/drumgrid/done", ["j1", "/r/a-v2.wav", 44100, 10]);
  assert.strictEqual(s.status, "done");
  assert.deepStrictEqual(s.takes.map((t) => t.path), ["/r/a.wav", "/r/a-v2.wav"]);
});

test("applyReply: errors and cancel, pong", () => {
  let s = dev.startJob(dev.initialState(), "j2", 1);
  const before = JSON.stringify(s);
  const e = dev.applyReply(s, "/drumgrid/error", ["j2", "unknown_kit", "unknown kit 'x'"]);
  assert.strictEqual(e.status, "error");
  assert.match(e.error, /^unknown_kit: /);
  assert.strictEqual(JSON.stringify(s), before, "applyReply does not mutate");
  assert.strictEqual(dev.applyReply(s, "/drumgrid/error", ["j2", "cancelled", "x"]).status, "cancelled");
  assert.strictEqual(dev.applyReply(dev.initialState(), "/drumgrid/pong", ["0.1.0"]).version, "0.1.0");
});

test("audio tracks are listed and a take goes into the first empty slot", () => {
  const tree = {
    live_set: { tracks: 3 },
    "live_set tracks 0": { has_audio_input: 0, has_midi_input: 1, name: "Drums" },
    "live_set tracks 1": { has_audio_input: 1, has_midi_input: 0, name: "Audio", clip_slots: 3 },
    "live_set tracks 2": { has_audio_input: 1, has_midi_input: 0, name: "Bus", clip_slots: 1 },
    "live_set tracks 1 clip_slots 0": { has_clip: 1 },
    "live_set tracks 1 clip_slots 1": { has_clip: 0 },
    "live_set tracks 1 clip_slots 2": { has_clip: 0 },
    "live_set tracks 2 clip_slots 0": { has_clip: 1 },
  };
  const live = makeFakeLive(tree);
  assert.deepStrictEqual(dev.audioTracks(live.makeApi), [{ index: 1, name: "Audio" }, { index: 2, name: "Bus" }]);
  assert.strictEqual(dev.placeAudioClip(live.makeApi, 1, "/r/a.wav"), 1);
  assert.deepStrictEqual(live.calls.filter((c) => c.name === "create_audio_clip"),
    [{ path: "live_set tracks 1 clip_slots 1", name: "create_audio_clip", args: ["/r/a.wav"] }]);
  assert.strictEqual(dev.placeAudioClip(live.makeApi, 2, "/r/a.wav"), -1);
});

test("the script is ES5 (Max's classic [js])", () => {
  const src = fs.readFileSync(path.join(__dirname, "..", "drumgrid.js"), "utf8")
    .replace(/\/\/.*$/gm, "").replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const [what, re] of [["let/const", /\b(let|const)\s/], ["arrow function", /=>/],
    ["template string", /`/], ["class", /\bclass\s/], ["spread", /\.\.\./],
    ["for..of", /for\s*\([^)]*\bof\b/], ["includes/find/assign", /\.(includes|find|findIndex|assign)\(/]]) {
    assert.ok(!re.test(src), `drumgrid.js uses ${what}`);
  }
});

test("the patcher parses and wires js, udpsend, udpreceive, buffer~ through deferlow", () => {
  const patch = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "drumgrid.maxpat"), "utf8"));
  const boxes = patch.patcher.boxes.map((b) => b.box);
  const texts = boxes.map((b) => b.text || "");
  for (const want of ["js drumgrid.js", "udpsend 127.0.0.1 9000", "udpreceive 9010", "buffer~ drumgrid_preview", "live.thisdevice"]) {
    assert.ok(texts.some((t) => t.startsWith(want)), `missing ${want}`);
  }
  const byId = Object.fromEntries(boxes.map((b) => [b.id, b]));
  const into = (id) => patch.patcher.lines.filter((l) => l.patchline.destination[0] === id).map((l) => byId[l.patchline.source[0]].text || "");
  const js = boxes.find((b) => (b.text || "").startsWith("js drumgrid.js")).id;
  const udpsend = boxes.find((b) => (b.text || "").startsWith("udpsend")).id;
  assert.ok(into(js).every((t) => t.startsWith("deferlow")), into(js).join(","));
  assert.ok(into(udpsend).every((t) => t.startsWith("deferlow")), into(udpsend).join(","));
});

test("the built .amxd starts with the ampf header and carries the patcher JSON", () => {
  const file = path.join(__dirname, "..", "drumgrid.amxd");
  const data = fs.readFileSync(file);
  assert.strictEqual(data.toString("latin1", 0, 4), "ampf");
  assert.strictEqual(data.toString("latin1", 8, 12), "mmmm");
  const at = data.indexOf("ptch");
  const size = data.readUInt32LE(at + 4);
  const json = data.toString("utf8", at + 8, at + 8 + size).replace(/\0+$/, "");
  assert.ok(JSON.parse(json).patcher.boxes.length > 10);
  // Built from the current sources: run `node max_for_live/build.js` after editing the patcher.
  const source = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "drumgrid.maxpat"), "utf8"));
  assert.deepStrictEqual(JSON.parse(json), source);
});
