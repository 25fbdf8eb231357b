#!/usr/bin/env node
// Builds drumgrid.amxd from drumgrid.maxpat and drumgrid.js as a *frozen* device: the script
// travels inside the file, so installing the device is dropping one file into Live.
//
// The container Live reads (outer sizes little-endian, payload only):
//   "ampf" u32(4) "mmmm"           device type: mmmm MIDI effect, aaaa audio effect, iiii instrument
//   "meta" u32(4) u32(7)           7 in devices Max froze (0 or 1 when not frozen)
//   "ptch" u32(n) <body>           the last chunk
// The body of a frozen device (inner numbers big-endian, offsets from the body's first byte):
//   "mx@c" u32(16) u64(F)          F: where the directory starts
//   <patcher JSON, NUL-terminated> entry 0, at offset 16
//   <each embedded file's bytes>   back to back, in directory order
//   "dlst" u32(size) dire...       at F; one "dire" per entry, fields in Max's order:
//       type (4-char code: JSON for the device, TEXT for .js), fnam (name, NUL, padded to 4),
//       sz32, of32, vers (0), flag (17 for the device, 0 for a [js] script), mdat (s since 1904)
//   every inner field: tag, u32 size counting its 8-byte head and its NUL padding to 4, payload.
// Max finds an embedded file by its bare name, so [js drumgrid.js] loads the embedded copy.
// Checked against 109 devices frozen by Max 8.1-9.1 (Ableton/maxdevtools' reader, devices on
// GitHub): this writer reproduces such files byte for byte. docs: max_for_live/README.md.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const DEVICE_NAME = "drumgrid.amxd";
const SCRIPTS = ["drumgrid.js"];
const MTIME_UNIX = 1767225600; // 2026-01-01: a fixed stamp keeps the build reproducible
const HFS_EPOCH = 2082844800; // seconds from 1904-01-01 to 1970-01-01
const FROZEN_META = 7;
const FLAG = { device: 17, script: 0 };

const u32le = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u32be = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

function outer(tag, payload) {
  return Buffer.concat([Buffer.from(tag, "latin1"), u32le(payload.length), payload]);
}

function field(tag, payload) {
  const padded = Math.ceil(payload.length / 4) * 4;
  return Buffer.concat([Buffer.from(tag, "latin1"), u32be(8 + padded), payload, Buffer.alloc(padded - payload.length)]);
}

function entry(type, name, size, offset, flag) {
  return field("dire", Buffer.concat([
    field("type", Buffer.from(type.padEnd(4, " "), "latin1")),
    field("fnam", Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([0])])),
    field("sz32", u32be(size)),
    field("of32", u32be(offset)),
    field("vers", u32be(0)),
    field("flag", u32be(flag)),
    field("mdat", u32be(MTIME_UNIX + HFS_EPOCH)),
  ]));
}

// patcherText: the .maxpat; scripts: [{name, data}]; returns the frozen .amxd's bytes.
function buildAmxd(patcherText, scripts, deviceType) {
  const patch = JSON.parse(patcherText); // refuse to wrap a patcher that does not parse
  if (!patch.patcher || !Array.isArray(patch.patcher.boxes)) {
    throw new Error("expected a Max patcher: {\"patcher\": {\"boxes\": [...]}}");
  }
  const main = Buffer.concat([Buffer.from(JSON.stringify(patch, null, "\t"), "utf8"), Buffer.from([0])]);
  const blobs = [main];
  const dir = [entry("JSON", DEVICE_NAME, main.length, 16, FLAG.device)];
  let offset = 16 + main.length;
  for (const s of scripts) {
    const data = Buffer.from(s.data, "utf8");
    dir.push(entry("TEXT", s.name, data.length, offset, FLAG.script));
    blobs.push(data);
    offset += data.length;
  }
  const head = Buffer.alloc(16);
  head.write("mx@c", 0, "latin1");
  head.writeUInt32BE(16, 4);
  head.writeBigUInt64BE(BigInt(offset), 8);
  const body = Buffer.concat([head, ...blobs, field("dlst", Buffer.concat(dir))]);
  return Buffer.concat([
    outer("ampf", Buffer.from(deviceType || "mmmm", "latin1")),
    outer("meta", u32le(FROZEN_META)),
    outer("ptch", body),
  ]);
}

// The reverse, for tests and for looking inside a device: {deviceType, meta, entries:
// [{type, name, flag, offset, data}]} with entry 0 the patcher (its trailing NUL removed).
function readAmxd(data) {
  const chunks = {};
  for (let at = 0; at + 8 <= data.length;) {
    const tag = data.toString("latin1", at, at + 4);
    const size = data.readUInt32LE(at + 4);
    chunks[tag] = data.subarray(at + 8, at + 8 + size);
    at += 8 + size;
  }
  const body = chunks.ptch;
  if (!chunks.ampf || !body || body.toString("latin1", 0, 4) !== "mx@c") throw new Error("not a frozen .amxd");
  const footer = Number(body.readBigUInt64BE(8));
  const fields = (buf) => {
    const out = [];
    for (let at = 0; at + 8 <= buf.length;) {
      const size = buf.readUInt32BE(at + 4);
      out.push([buf.toString("latin1", at, at + 4), buf.subarray(at + 8, at + size)]);
      at += size;
    }
    return out;
  };
  const [[dlst, dirs]] = fields(body.subarray(footer));
  if (dlst !== "dlst") throw new Error("no dlst directory");
  const entries = fields(dirs).map(([, dire]) => {
    const f = Object.fromEntries(fields(dire));
    const offset = f.of32.readUInt32BE(0);
    const content = body.subarray(offset, offset + f.sz32.readUInt32BE(0));
    return {
      type: f.type.toString("latin1"),
      name: f.fnam.toString("utf8").replace(/\0+$/, ""),
      flag: f.flag.readUInt32BE(0),
      offset,
      data: content[content.length - 1] === 0 ? content.subarray(0, content.length - 1) : content,
    };
  });
  return { deviceType: chunks.ampf.toString("latin1"), meta: chunks.meta.readUInt32LE(0), entries };
}

function buildFromSources(here) {
  const scripts = SCRIPTS.map((name) => ({ name, data: fs.readFileSync(path.join(here, name), "utf8") }));
  return buildAmxd(fs.readFileSync(path.join(here, "drumgrid.maxpat"), "utf8"), scripts, "mmmm");
}

if (require.main === module) {
  const here = __dirname;
  const out = process.argv[2] || path.join(here, DEVICE_NAME);
  const data = buildFromSources(here);
  fs.writeFileSync(out, data);
  console.log(`wrote ${out} (${data.length} bytes; frozen, with ${SCRIPTS.join(", ")} inside)`);
}

module.exports = { buildAmxd, readAmxd, buildFromSources, DEVICE_NAME, SCRIPTS };
