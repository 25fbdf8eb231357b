#!/usr/bin/env node
// Builds drumgrid.amxd from drumgrid.maxpat: the 'ampf' container Live reads.
//   "ampf" u32le(4) "mmmm"         (device type: mmmm MIDI effect, aaaa audio, iiii instrument)
//   "meta" u32le(4) u32le(0)
//   "ptch" u32le(n) <patcher JSON, UTF-8, NUL-terminated>
// The script file (drumgrid.js) stays beside the device; Max finds it by name.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

function chunk(tag, body) {
  const head = Buffer.alloc(8);
  head.write(tag, 0, "latin1");
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function buildAmxd(patcherText, deviceType) {
  const patch = JSON.parse(patcherText); // refuse to wrap a patcher that does not parse
  if (!patch.patcher || !Array.isArray(patch.patcher.boxes)) {
    throw new Error("expected a Max patcher: {\"patcher\": {\"boxes\": [...]}}");
  }
  const body = Buffer.concat([Buffer.from(JSON.stringify(patch, null, "\t"), "utf8"), Buffer.from([0])]);
  return Buffer.concat([
    chunk("ampf", Buffer.from(deviceType || "mmmm", "latin1")),
    chunk("meta", u32(0)),
    chunk("ptch", body),
  ]);
}

if (require.main === module) {
  const here = __dirname;
  const out = process.argv[2] || path.join(here, "drumgrid.amxd");
  const data = buildAmxd(fs.readFileSync(path.join(here, "drumgrid.maxpat"), "utf8"), "mmmm");
  fs.writeFileSync(out, data);
  console.log(`wrote ${out} (${data.length} bytes)`);
}

module.exports = { buildAmxd };
