"use strict";
// End to end: the device's own functions against a running `drumgrid serve` over real UDP.
// Skipped unless DRUMGRID_E2E_PORT names the daemon's UDP port (tests/test_daemon.py sets it).
const test = require("node:test");
const assert = require("node:assert");
const dgram = require("node:dgram");
const fs = require("node:fs");
const dev = require("../drumgrid.js");
const osc = require("./osc.js");
const { makeFakeLive } = require("./fake_live.js");

const PORT = Number(process.env.DRUMGRID_E2E_PORT || 0);

test("a clip read through the fake LiveAPI renders to a WAV", { skip: !PORT && "DRUMGRID_E2E_PORT not set", timeout: 120000 }, async () => {
  const notes = [];
  for (let i = 0; i < 16; i++) notes.push({ pitch: 42, start_time: i * 0.5, duration: 0.25, velocity: 70 + i, mute: 0 });
  for (let i = 0; i < 4; i++) notes.push({ pitch: i % 2 ? 38 : 36, start_time: i * 2, duration: 0.25, velocity: 110, mute: 0 });
  const live = makeFakeLive({
    live_set: { tempo: 120 },
    "live_set view detail_clip": {
      looping: 1, loop_start: 0, loop_end: 8, signature_numerator: 4, signature_denominator: 4,
      get_notes_extended: (fp, ps, ft, ts) => JSON.stringify({ notes: notes.filter((n) => n.start_time >= ft && n.start_time < ft + ts) }),
    },
  });
  const clip = dev.readClip(live.makeApi("live_set view detail_clip"), live.makeApi("live_set"));
  const sock = dgram.createSocket("udp4");
  await new Promise((resolve) => sock.bind(0, "127.0.0.1", resolve));
  const replyPort = sock.address().port;
  let state = dev.initialState();
  const send = (m) => new Promise((resolve, reject) => {
    const data = osc.encode(m[0], m.slice(1));
    assert.ok(data.length < 8192);
    sock.send(data, PORT, "127.0.0.1", (err) => (err ? reject(err) : resolve()));
  });
  const settled = new Promise((resolve) => {
    sock.on("message", (data) => {
      const { address, args } = osc.decode(data);
      state = dev.applyReply(state, address, args);
      if (["done", "error", "cancelled"].includes(state.status) && state.job) resolve();
    });
  });
  try {
    await send(["/drumgrid/subscribe", replyPort]); // as the device does with [udpreceive]
    const job = dev.newJobId();
    state = dev.startJob(state, job, 1);
    for (const m of dev.clipMessages(job, clip, { decoding: "parallel", seed: 1 })) await send(m);
    await settled;
    assert.strictEqual(state.status, "done", state.error);
    const take = state.takes[0];
    const wav = fs.readFileSync(take.path);
    assert.strictEqual(wav.toString("latin1", 0, 4), "RIFF");
    assert.strictEqual(wav.toString("latin1", 8, 12), "WAVE");
    assert.ok(take.frames > take.sampleRate * 4, `${take.frames} frames`);
  } finally {
    await send(["/drumgrid/subscribe", 0]);
    sock.close();
  }
});
