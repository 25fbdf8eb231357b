"use strict";
// The simulated device (the real patcher and script, maxsim.js) against a real
// `drumgrid serve` over loopback UDP. Runs when DRUMGRID_BIN names the drumgrid command
// (`make test` sets it; DRUMGRID_MODEL optionally names a model folder).
const test = require("node:test");
const assert = require("node:assert");
const s = require("./scenario.js");

const skip = !s.DRUMGRID && "DRUMGRID_BIN not set";

test("the producer's scenario: kit, seed 300, Render, replies, preview, Place", { skip, timeout: 120000 }, async () => {
  const port = await s.freeUdpPort();
  const daemon = await s.startDaemon(port);
  const world = new s.World(s.liveWith());
  try {
    const device = s.addDevice(world, port);
    const { take, opts } = await s.producerScenario(world, device);
    assert.ok(take.path.startsWith(daemon.dir), take.path);
    assert.strictEqual(opts.reply_port, device.box("udpreceive").port);
    // every datagram the device sent was under 8 KB and refused nothing
    assert.ok(device.box("udpsend").sent.every((m) => m.bytes < 8192));
    assert.deepStrictEqual(world.errors, []);
  } finally {
    world.close();
    await daemon.stop();
  }
});

test("two device instances render at once, each with its own replies and buffer", { skip, timeout: 120000 }, async () => {
  const port = await s.freeUdpPort();
  const daemon = await s.startDaemon(port);
  const world = new s.World(s.liveWith());
  try {
    const a = s.addDevice(world, port, { liveId: 3 });
    const b = s.addDevice(world, port, { liveId: 4 });
    await s.connected(world, a);
    await s.connected(world, b);
    assert.notStrictEqual(a.box("udpreceive").port, b.box("udpreceive").port);
    assert.notStrictEqual(a.box("buffer").name, b.box("buffer").name);
    s.pickKit(a, a.box("kit_menu").items[0]);
    s.pickKit(b, b.box("kit_menu").items[1]);
    a.click("b_render");
    b.click("b_render"); // both requests are out before either render ends
    await world.until(() => /^done/.test(a.status) && /^done/.test(b.status), 60000, `both takes (a: ${a.status}; b: ${b.status})`);
    const [ta, tb] = [a, b].map((d) => d.box("js").ctx.state);
    assert.notStrictEqual(ta.job, tb.job);
    assert.notStrictEqual(ta.takes[0].path, tb.takes[0].path);
    await world.until(() => a.box("wave").shown.file === ta.takes[0].path && b.box("wave").shown.file === tb.takes[0].path, 5000, "each preview");
    assert.strictEqual(ta.takes.length, 1, "a got only its own take");
    assert.strictEqual(tb.takes.length, 1, "b got only its own take");
  } finally {
    world.close();
    await daemon.stop();
  }
});

test("a daemon started after the device, and restarted while Live runs: Render still works", { skip, timeout: 180000 }, async () => {
  const port = await s.freeUdpPort();
  const world = new s.World(s.liveWith());
  let daemon = null;
  try {
    const device = s.addDevice(world, port);
    await world.until(() => /no drumgrid daemon answers on .*drumgrid serve/.test(device.status), 10000, `the offline hint (status: ${device.status})`);
    device.click("b_render"); // nobody listens: the device says so instead of waiting forever
    await world.until(() => /daemon stopped answering|no drumgrid daemon/.test(device.status), 10000, `the render to give up (status: ${device.status})`);
    daemon = await s.startDaemon(port);
    await s.connected(world, device);
    await world.until(() => /^connected to drumgrid/.test(device.status), 10000, "connected");
    await s.producerScenario(world, device, { seed: 4242 });
    await daemon.stop();
    daemon = await s.startDaemon(port, daemon.dir); // Live keeps running; the daemon comes back
    world.live.tree["live_set tracks 1 clip_slots 0"].has_clip = 1; // the first take sits there
    const sent = await s.renderTake(world, device);
    assert.match(device.status, /^done: 1 take, Groove_1-[A-Za-z0-9_-]+\.wav/, device.status);
    assert.ok(sent.some((m) => m.address === "/drumgrid/clip/end"));
  } finally {
    world.close();
    if (daemon) await daemon.stop();
  }
});
