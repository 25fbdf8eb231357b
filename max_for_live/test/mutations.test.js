"use strict";
// Each defect the device once had, put back into a copy of the patcher or the script: the
// lint or the producer's scenario (against a real `drumgrid serve`) must fail on it. A test
// that passes with a defect in place would not be worth having.
const test = require("node:test");
const assert = require("node:assert");
const { lintPatcher } = require("./patchlint.js");
const s = require("./scenario.js");

const QUICK_MS = 6000; // a scenario step that has not happened by then will not

function edit(patchText, fn) {
  const patch = JSON.parse(patchText);
  fn(patch.patcher, (id) => patch.patcher.boxes.find((b) => b.box.id === id).box);
  return JSON.stringify(patch);
}

function replaceOnce(text, from, to) {
  assert.ok(text.includes(from), `the script no longer contains ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

// Put [sel 1] between each button and its message box, as the first patcher had it.
const BUTTONS_THROUGH_SEL_1 = edit(s.PATCH_TEXT, (p) => {
  for (const name of ["render", "cancel", "place", "tracks"]) {
    const id = `sel_${name}`;
    p.boxes.push({ box: { id, maxclass: "newobj", text: "sel 1", numinlets: 2, numoutlets: 2, outlettype: ["bang", ""], patching_rect: [0, 0, 40, 22] } });
    const cord = p.lines.find((l) => l.patchline.source[0] === `b_${name}`).patchline;
    p.lines.push({ patchline: { source: [id, 0], destination: cord.destination } });
    cord.destination = [id, 0];
  }
});

// The kit as a text field whose output goes to the script as it comes (`text <words>`).
const KIT_AS_TEXT = edit(s.PATCH_TEXT, (p, box) => {
  Object.assign(box("kit_menu"), { maxclass: "textedit", numoutlets: 4, outlettype: ["", "int", "", ""] });
});

// Subscribe once at load; requests without a reply port.
const SUBSCRIBE_AT_LOAD = [
  ['args.push("reply_port", replyPort);', ""],
  ['out.send.push([P + "ping", l.port]);', 'out.send.push([P + "ping"]);'],
  ['send([P + "kits", link.port]);', 'send([P + "kits"]);'],
  ['listen();\n        show(', 'listen();\n        send([P + "subscribe", link.port]);\n        show('],
].reduce((text, [from, to]) => replaceOnce(text, from, to), s.SCRIPT_TEXT);

const SEED_AS_INT = edit(s.PATCH_TEXT, (p, box) => {
  Object.assign(box("seed").saved_attribute_attributes.valueof, { parameter_type: 1, parameter_mmin: 0, parameter_mmax: 100000 });
});

const DUPLICATE_ID_AND_LINE = edit(s.PATCH_TEXT, (p) => {
  p.boxes.push({ box: { id: "m_tracks", maxclass: "message", text: "tracks", numinlets: 2, numoutlets: 1, outlettype: [""], patching_rect: [0, 0, 40, 22] } });
  p.lines.push(JSON.parse(JSON.stringify(p.lines[0])));
});

const GLOBAL_BUFFER = s.PATCH_TEXT.split("---drumgrid_preview").join("drumgrid_preview");

const FIXED_REPLY_PORT = edit(s.PATCH_TEXT, (p) => {
  p.lines = p.lines.filter((l) => l.patchline.destination[0] !== "udpreceive");
});

const NO_PARAMETER_ENABLE = edit(s.PATCH_TEXT, (p, box) => {
  delete box("seed").parameter_enable;
});

const ENUM_WITHOUT_MMAX = edit(s.PATCH_TEXT, (p, box) => {
  delete box("decoding").saved_attribute_attributes.valueof.parameter_mmax;
});

const WRONG_COUNTS = edit(s.PATCH_TEXT, (p, box) => {
  box("ui").numinlets = 1; // route's inlets: one per argument, plus one
  box("sel_play").numinlets = 1;
  Object.assign(box("plugout"), { numoutlets: 0, outlettype: [] });
});

const PARALLEL_TAKES_ALLOWED = replaceOnce(s.SCRIPT_TEXT, 'if (options.decoding === "parallel" && takes > 1) {', "if (false) {");

const PLACE_UNCHECKED = replaceOnce(replaceOnce(s.SCRIPT_TEXT,
  "if (!versionAtLeast(version, MIN_LIVE_FOR_PLACE)) {", "if (false) {"),
"if (Number(first(slot.get(\"has_clip\"))) !== 1) {", "if (false) {");

const NAMES_AS_GIVEN = replaceOnce(s.SCRIPT_TEXT, "function liveName(value) {", "function liveName(value) {\n    return String(value);");

const KIT_AND_TRACK_NOT_SAVED = edit(s.PATCH_TEXT, (p, box) => {
  box("pattr_kit").saved_object_attributes.parameter_enable = 0;
  box("pattr_track").saved_object_attributes.parameter_enable = 0;
});

// -- the lint catches the structural ones ------------------------------------------------------

for (const [name, text, words] of [
  ["Seed as an Int parameter 0..100000", SEED_AS_INT, /Int parameter 0..100000; Live's Int parameters hold 0..255/],
  ["duplicate box id m_tracks and a duplicated line", DUPLICATE_ID_AND_LINE, /box id m_tracks is used twice[^]*appears twice/],
  ["buffer~/play~/waveform~ on a global name", GLOBAL_BUFFER, [/\[buffer~ drumgrid_preview\] uses a global name/, /\[play~ drumgrid_preview\] uses/, /points waveform~ at a global/]],
  ["udpreceive on a fixed port", FIXED_REPLY_PORT, /listens on a fixed port/],
  ["a live.* box without parameter_enable", NO_PARAMETER_ENABLE, /seed: \[live.numbox\] lacks "parameter_enable": 1/],
  ["the Decoding enum without parameter_mmax", ENUM_WITHOUT_MMAX, /Enum of 3 items needs parameter_mmax 2/],
  ["route, sel 1 0 and plugout~ saved with other counts than Max makes", WRONG_COUNTS, /ui: .* 1 inlets[^]*sel_play[^]*plugout: .* 2 inlets \/ 0 outlets; Max makes 2 \/ 2/],
  ["kit and track pattrs not saved with the set", KIT_AND_TRACK_NOT_SAVED, /pattr_kit: \[pattr\] lacks[^]*pattr_track/],
]) {
  test(`lint fails with the defect put back: ${name}`, () => {
    const world = new s.World(s.liveWith());
    try {
      const patch = JSON.parse(text);
      const problems = lintPatcher(patch, new s.Device(world, JSON.parse(s.PATCH_TEXT)));
      for (const re of [].concat(words)) assert.match(problems.join("\n"), re);
    } finally {
      world.close();
    }
  });
}

// -- the scenario against a real daemon catches the behavioural ones -------------------------------

const skip = !s.DRUMGRID && "DRUMGRID_BIN not set";

test("the scenario fails with each behavioural defect put back", { skip, timeout: 300000 }, async (t) => {
  const port = await s.freeUdpPort();
  const daemon = await s.startDaemon(port);
  // runs the scenario on a fresh Live with the given device; returns the error it failed with
  async function scenario(opts, live) {
    const world = new s.World(s.liveWith({ live }));
    try {
      const device = s.addDevice(world, port, opts);
      await s.producerScenario(world, device, { ms: QUICK_MS });
      return null;
    } catch (err) {
      return err;
    } finally {
      world.close();
    }
  }
  try {
    await t.test("as shipped, the scenario passes", async () => {
      assert.strictEqual(await scenario({}), null);
    });
    for (const [name, opts, live, words] of [
      ["buttons routed through [sel 1]: Render does nothing", { patchText: BUTTONS_THROUGH_SEL_1 }, null, /render to end/],
      ["the kit as a text field: the kit sent is not the kit typed", { patchText: KIT_AS_TEXT }, null, /the kit chosen is the kit sent/],
      ["Seed as an Int parameter: 300 is sent as 255", { patchText: SEED_AS_INT }, null, /the seed set is the seed sent/],
      ["udpreceive on a fixed port: the replies go to a port nobody listens on", { patchText: FIXED_REPLY_PORT }, null, /list the daemon's kits/],
      ["Place without checking: a clip Live did not make is reported placed", { scriptText: PLACE_UNCHECKED }, { failing: { create_audio_clip: "bad file" } }, /Live holds the placed clip/],
      ["Place on Live 12.0.1 without checking the version", { scriptText: PLACE_UNCHECKED }, { version: [12, 0, 1], failing: { create_audio_clip: "no such function" } }, /Live holds the placed clip/],
      ["names taken as Live gives them: the quoted track name", { scriptText: NAMES_AS_GIVEN }, null, /on "My Takes", slot 1/],
    ]) {
      await t.test(name, async () => {
        const err = await scenario(opts, live);
        assert.ok(err, "the scenario passed with the defect in place");
        assert.match(String(err.message), words);
      });
    }
    await t.test("parallel decoding with 2 takes allowed: the request goes out and the daemon refuses it", async () => {
      for (const [script, refusedLocally] of [[s.SCRIPT_TEXT, true], [PARALLEL_TAKES_ALLOWED, false]]) {
        const world = new s.World(s.liveWith());
        try {
          const device = s.addDevice(world, port, { scriptText: script });
          await s.connected(world, device);
          device.choose("decoding", 1);
          device.setNumber("takes", 2);
          const sent = await s.renderTake(world, device, QUICK_MS);
          assert.strictEqual(sent.some((m) => m.address === "/drumgrid/clip/begin"), !refusedLocally);
          assert.match(device.status, refusedLocally ? /makes one take/ : /^error bad_request: variations > 1 needs decoding iterative/);
        } finally {
          world.close();
        }
      }
    });
  } finally {
    await daemon.stop();
  }
});

test("two instances with a global buffer name: one device's preview shows the other's take", { skip, timeout: 120000 }, async () => {
  const port = await s.freeUdpPort();
  const daemon = await s.startDaemon(port);
  try {
    for (const [text, shared] of [[s.PATCH_TEXT, false], [GLOBAL_BUFFER, true]]) {
      const world = new s.World(s.liveWith());
      try {
        const a = s.addDevice(world, port, { liveId: 3, patchText: text });
        const b = s.addDevice(world, port, { liveId: 4, patchText: text });
        await s.connected(world, a);
        await s.connected(world, b);
        a.click("b_render");
        await world.until(() => /^done/.test(a.status), 30000, "a's take");
        b.click("b_render");
        await world.until(() => /^done/.test(b.status), 30000, "b's take");
        await world.settle(200);
        const aTake = a.box("js").ctx.state.takes[0].path;
        assert.strictEqual(a.box("wave").shown.file !== aTake, shared);
      } finally {
        world.close();
      }
    }
  } finally {
    await daemon.stop();
  }
});

test("kit and track not saved with the set: a reloaded device forgets them", { skip, timeout: 120000 }, async () => {
  const port = await s.freeUdpPort();
  const daemon = await s.startDaemon(port);
  try {
    for (const [text, kept] of [[s.PATCH_TEXT, true], [KIT_AND_TRACK_NOT_SAVED, false]]) {
      const world = new s.World(s.liveWith({ audioTracks: [["Bus", 1], ["My Takes", 1]] }));
      try {
        const first = s.addDevice(world, port, { patchText: text });
        await s.connected(world, first);
        const kits = first.box("kit_menu").items;
        s.pickKit(first, kits[2]);
        first.choose("track_menu", 1);
        await world.settle();
        const saved = first.saveSet();
        first.close();
        const again = s.addDevice(world, port, { patchText: text, saved });
        await s.connected(world, again);
        await world.settle();
        assert.strictEqual(again.box("kit_menu").text === kits[2] && again.box("track_menu").text === "3 My Takes", kept);
      } finally {
        world.close();
      }
    }
  } finally {
    await daemon.stop();
  }
});

test("subscribe at load: a daemon started after the device never reaches it", { skip, timeout: 120000 }, async () => {
  const port = await s.freeUdpPort();
  for (const [script, works] of [[s.SCRIPT_TEXT, true], [SUBSCRIBE_AT_LOAD, false]]) {
    const world = new s.World(s.liveWith());
    let daemon = null;
    try {
      const device = s.addDevice(world, port, { scriptText: script });
      await world.settle(1500);
      daemon = await s.startDaemon(port);
      const err = await s.producerScenario(world, device, { ms: QUICK_MS }).then(() => null, (e) => e);
      assert.strictEqual(err === null, works, String(err));
    } finally {
      world.close();
      if (daemon) await daemon.stop();
    }
  }
});
