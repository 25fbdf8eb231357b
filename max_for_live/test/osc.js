// A minimal OSC 1.0 encoder/decoder for the tests: what Max's [udpsend]/[udpreceive] do.
// Numbers with an integral value go out as int32 ('i'), others as float32 ('f'), as Max does.
"use strict";

function pad(buf) {
  const n = Math.floor(buf.length / 4) * 4 + 4;
  const out = Buffer.alloc(n);
  buf.copy(out);
  return out;
}

function encode(address, args) {
  let tags = ",";
  const parts = [];
  for (const a of args) {
    if (typeof a === "string") {
      tags += "s";
      parts.push(pad(Buffer.from(a, "utf8")));
    } else if (Number.isInteger(a)) {
      tags += "i";
      const b = Buffer.alloc(4);
      b.writeInt32BE(a);
      parts.push(b);
    } else {
      tags += "f";
      const b = Buffer.alloc(4);
      b.writeFloatBE(a);
      parts.push(b);
    }
  }
  return Buffer.concat([pad(Buffer.from(address)), pad(Buffer.from(tags)), ...parts]);
}

function readString(buf, at) {
  const end = buf.indexOf(0, at);
  return [buf.toString("utf8", at, end), Math.floor(end / 4) * 4 + 4];
}

function decode(buf) {
  let [address, at] = readString(buf, 0);
  let tags;
  [tags, at] = readString(buf, at);
  const args = [];
  for (const t of tags.slice(1)) {
    if (t === "s") {
      let s;
      [s, at] = readString(buf, at);
      args.push(s);
    } else if (t === "i") {
      args.push(buf.readInt32BE(at));
      at += 4;
    } else if (t === "f") {
      args.push(buf.readFloatBE(at));
      at += 4;
    } else {
      throw new Error("unexpected type tag " + t);
    }
  }
  return { address, args };
}

module.exports = { encode, decode };
