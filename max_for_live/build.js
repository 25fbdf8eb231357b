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
//
// Before building, the sources get the render contract (contract.json, which
// `python -m drumgrid.bridge.device_contract` writes from drumgrid.bridge.contract): the
// marked block at the top of drumgrid.js, and in the patcher the [udpsend] and [udpreceive]
// ports, the Takes range and the Decoding items. The tests fail when a source is stale.
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

// -- the render contract in the sources ------------------------------------------------------

const BLOCK_START = "// -- the render contract: written by build.js from contract.json (drumgrid.bridge.contract) --\n";
const BLOCK_END = "// -- end of the render contract --\n";

function readContract(here) {
  return JSON.parse(fs.readFileSync(path.join(here, "contract.json"), "utf8"));
}

// The block of drumgrid.js that holds the contract (ES5, as the rest of the script).
function contractBlock(c) {
  const span = c.reply_port_last - c.reply_port_first + 1;
  return BLOCK_START + [
    `var DAEMON = ${JSON.stringify(`${c.daemon_host}:${c.daemon_udp_port}`)}; // where [udpsend] sends; the patcher's udpsend box says the same`,
    `var REPLY_PORT_BASE = ${c.reply_port_first}; // reply ports ${c.reply_port_first}..${c.reply_port_last}, one per device instance`,
    `var REPLY_PORT_SPAN = ${span};`,
    `var MAX_DATAGRAM = ${c.max_datagram};`,
    `var DECODINGS = ${JSON.stringify(c.decoding).replace(/,/g, ", ")};`,
    `var MAX_NAME = ${c.max_name}; // characters of the name option, which names the daemon's files`,
    `var MAX_PROMPT_NOTES = ${c.max_prompt_notes}; // characters of prompt_notes (a prompt's MIDI clip)`,
    `var P = ${JSON.stringify(c.prefix + "/")};`,
  ].join("\n") + "\n" + BLOCK_END;
}

function scriptWithContract(scriptText, c) {
  const start = scriptText.indexOf(BLOCK_START);
  const end = scriptText.indexOf(BLOCK_END);
  if (start < 0 || end < start) throw new Error("drumgrid.js: no render contract block (its markers are gone)");
  return scriptText.slice(0, start) + contractBlock(c) + scriptText.slice(end + BLOCK_END.length);
}

function replaceOnce(text, re, to, what) {
  const hits = text.match(new RegExp(re.source, "g")) || [];
  if (hits.length !== 1) throw new Error(`drumgrid.maxpat: expected one ${what}, found ${hits.length}`);
  return text.replace(re, to);
}

// The patcher with the contract's values, edited in place so the rest of the file stays as saved.
function patchWithContract(patchText, c) {
  let text = replaceOnce(patchText, /"text": "udpsend [^"]*"/, `"text": "udpsend ${c.daemon_host} ${c.daemon_udp_port}"`, "udpsend box");
  text = replaceOnce(text, /"text": "udpreceive \d+"/, `"text": "udpreceive ${c.reply_port_first}"`, "udpreceive box");
  text = replaceOnce(text, /("parameter_longname": "drumgrid Takes",[^}]*?"parameter_mmax": )[\d.]+/, `$1${c.max_takes}`, "Takes range");
  const items = ["auto", ...c.decoding];
  return replaceOnce(text, /("parameter_longname": "drumgrid Decoding",[^}]*?)\n(\s*)"parameter_enum": \[[^\]]*\],(\s*)"parameter_mmax": \d+/,
    (_, head, indent, gap) => `${head}\n${indent}"parameter_enum": [\n${items.map((i) => `${indent}\t${JSON.stringify(i)}`).join(",\n")}\n${indent}],${gap}"parameter_mmax": ${items.length - 1}`,
    "Decoding items");
}

// Writes the contract into drumgrid.js and drumgrid.maxpat where they differ; returns the names changed.
function syncContract(here) {
  const c = readContract(here);
  const changed = [];
  for (const [name, apply] of [["drumgrid.js", scriptWithContract], ["drumgrid.maxpat", patchWithContract]]) {
    const file = path.join(here, name);
    const before = fs.readFileSync(file, "utf8");
    const after = apply(before, c);
    if (after !== before) {
      fs.writeFileSync(file, after);
      changed.push(name);
    }
  }
  return changed;
}

function buildFromSources(here) {
  const scripts = SCRIPTS.map((name) => ({ name, data: fs.readFileSync(path.join(here, name), "utf8") }));
  return buildAmxd(fs.readFileSync(path.join(here, "drumgrid.maxpat"), "utf8"), scripts, "mmmm");
}

if (require.main === module) {
  const here = __dirname;
  const out = process.argv[2] || path.join(here, DEVICE_NAME);
  const synced = syncContract(here);
  if (synced.length) console.log(`wrote the render contract into ${synced.join(", ")}`);
  const data = buildFromSources(here);
  fs.writeFileSync(out, data);
  console.log(`wrote ${out} (${data.length} bytes; frozen, with ${SCRIPTS.join(", ")} inside)`);
}

module.exports = {
  buildAmxd, readAmxd, buildFromSources, readContract, scriptWithContract, patchWithContract, syncContract,
  DEVICE_NAME, SCRIPTS,
};
