"use strict";
// What a producer does with the device, driven through the simulated patch (maxsim.js):
// load it in a Live set, pick a kit, set a seed, click Render on the selected clip, wait for
// the take, Place it. Used against a real `drumgrid serve` (e2e.test.js) and with defects
// put back (mutations.test.js).

const assert = require("node:assert");
const { spawn } = require("node:child_process");
const dgram = require("node:dgram");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { World, Device } = require("./maxsim.js");
const { makeFakeLive, liveSet } = require("./fake_live.js");

const HERE = path.join(__dirname, "..");
const PATCH_TEXT = fs.readFileSync(path.join(HERE, "drumgrid.maxpat"), "utf8");
const SCRIPT_TEXT = fs.readFileSync(path.join(HERE, "drumgrid.js"), "utf8");
const DRUMGRID = process.env.DRUMGRID_BIN || "";

// A 4-beat groove as Live's get_notes_extended returns it: kick, snare, hats with velocities.
function fourBeats() {
  const notes = [];
  for (let i = 0; i < 8; i++) notes.push({ note_id: i + 1, pitch: 42, start_time: i * 0.5, duration: 0.25, velocity: 60 + 5 * i, mute: 0 });
  notes.push({ note_id: 20, pitch: 36, start_time: 0, duration: 0.25, velocity: 110, mute: 0 });
  notes.push({ note_id: 21, pitch: 38, start_time: 1.01, duration: 0.25, velocity: 100, mute: 0 });
  notes.push({ note_id: 22, pitch: 36, start_time: 2, duration: 0.25, velocity: 105, mute: 0 });
  notes.push({ note_id: 23, pitch: 38, start_time: 3, duration: 0.25, velocity: 98, mute: 0 });
  return notes;
}

// The patch as a user would point it at a daemon on another port (the test's, not 9000).
function patchFor(daemonPort, patchText) {
  const patch = JSON.parse(patchText || PATCH_TEXT);
  for (const { box } of patch.patcher.boxes) {
    if ((box.text || "").startsWith("udpsend ")) box.text = `udpsend 127.0.0.1 ${daemonPort}`;
  }
  return patch;
}

// A Live process with the clip selected and `audio` tracks for Place.
function liveWith(opts = {}) {
  return makeFakeLive(liveSet({ notes: fourBeats(), audioTracks: opts.audioTracks || [["My Takes", 2]] }), opts.live);
}

// A device in `world`: daemonPort, and optionally a mutated patch or script, saved values.
function addDevice(world, daemonPort, opts = {}) {
  const device = new Device(world, patchFor(daemonPort, opts.patchText), {
    scripts: { "drumgrid.js": opts.scriptText || SCRIPT_TEXT },
    saved: opts.saved,
    liveId: opts.liveId,
  });
  return device.load();
}

// A UDP port free on loopback right now (for a daemon the test starts).
function freeUdpPort() {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    sock.bind(0, "127.0.0.1", () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

// A real `drumgrid serve` on loopback: UDP `port`, no TCP, renders in a fresh folder.
async function startDaemon(port, renderDir) {
  if (!DRUMGRID) throw new Error("DRUMGRID_BIN is not set");
  const dir = renderDir || fs.mkdtempSync(path.join(os.tmpdir(), "drumgrid-device-"));
  const args = ["serve", "--port", String(port), "--tcp-port", "-1", "--render-dir", dir];
  if (process.env.DRUMGRID_MODEL) args.push("--model", process.env.DRUMGRID_MODEL);
  const proc = spawn(DRUMGRID, args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`drumgrid serve did not start:\n${log}`)), 60000);
    const read = (chunk) => {
      log += chunk;
      if (log.includes("ready on")) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on("data", read);
    proc.stderr.on("data", read);
    proc.on("exit", (code) => reject(new Error(`drumgrid serve exited (${code}):\n${log}`)));
  });
  return {
    port,
    dir,
    proc,
    log: () => log,
    async stop() {
      if (proc.exitCode !== null) return;
      const gone = new Promise((resolve) => proc.on("exit", resolve));
      proc.kill("SIGTERM");
      await gone;
    },
  };
}

// Connected: the daemon's kits fill the kit menu (or, on a patch without one, the script has
// them: its "connected" status comes with the pong, before the kits' reply).
async function connected(world, device, ms = 15000) {
  const menu = device.box("kit_menu");
  const script = device.box("js").ctx;
  const ready = () => (menu.items ? menu.items : script.kits || []).length > 0;
  await world.until(ready, ms, `${device.name} to list the daemon's kits (status: ${device.status})`);
}

// Type a kit: choose it in the kit menu (or, on a patch with a text field, type it).
function pickKit(device, name) {
  const menu = device.box("kit_menu");
  if (menu.items) {
    const at = menu.items.indexOf(name);
    assert.ok(at >= 0, `kit ${name} is not in the menu: ${menu.items}`);
    menu.choose(at);
  } else menu.type(name);
}

// Render the selected clip and wait for the take: returns what the daemon answered.
async function renderTake(world, device, ms = 60000) {
  const before = device.sent.length;
  device.click("b_render");
  await world.until(() => /^(done|error|cancelled)/.test(device.status) || /first|needs|makes one/.test(device.status), ms, `${device.name}'s render to end (status: ${device.status})`);
  await world.settle(100);
  return device.sent.slice(before);
}

// The scenario of the issue: kit, seed above 255, Render on a 4-beat clip, replies, preview,
// Place. Throws (an assertion) at the first thing that does not happen.
async function producerScenario(world, device, { kit, seed = 300, ms = 60000 } = {}) {
  await connected(world, device, ms);
  const kits = device.box("js").ctx.kits;
  const wanted = kit || kits[kits.length - 1];
  pickKit(device, wanted);
  device.setNumber("seed", seed);
  const sent = await renderTake(world, device, ms);
  const begin = sent.find((m) => m.address === "/drumgrid/clip/begin");
  assert.ok(begin, `no clip/begin sent: ${JSON.stringify(sent)}`);
  const opts = {};
  for (let i = 5; i + 1 < begin.args.length; i += 2) opts[begin.args[i]] = begin.args[i + 1];
  assert.strictEqual(opts.kit, wanted, "the kit chosen is the kit sent");
  assert.strictEqual(opts.seed, seed, "the seed set is the seed sent");
  assert.match(device.status, /^done: 1 take, /, `status: ${device.status}`);
  const job = device.box("js").ctx.state;
  assert.strictEqual(job.takes.length, 1);
  const take = job.takes[0];
  assert.ok(fs.existsSync(take.path), take.path);
  // the preview: this device's buffer~ holds the take and its waveform~ shows that buffer
  await world.until(() => device.box("wave").shown && device.box("wave").shown.file === take.path, Math.min(ms, 5000), "the preview to load");
  assert.strictEqual(device.box("wave").shown.frames, take.frames);
  assert.match(device.status, /in the preview/);
  // Place: on the saved/selected audio track, checked with Live
  device.click("b_place");
  await world.settle();
  assert.match(device.status, /^placed .+ on My Takes, slot 1$/, device.status);
  const slot = world.live.tree["live_set tracks 1 clip_slots 0"];
  assert.strictEqual(slot.file, take.path, "Live holds the placed clip");
  return { take, begin, opts };
}

module.exports = {
  PATCH_TEXT, SCRIPT_TEXT, DRUMGRID, World, Device, fourBeats, patchFor, liveWith, addDevice,
  freeUdpPort, startDaemon, connected, pickKit, renderTake, producerScenario,
};
