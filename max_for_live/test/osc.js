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
    } else if (t === "h") {
      args.push(Number(buf.readBigInt64BE(at)));
      at += 8;
    } else {
      throw new Error("unexpected type tag " + t);
    }
  }
  return { address, args };
}

// Typed atoms ({t: "i"|"f"|"s", v}) -> an OSC message, as [udpsend] writes a Max message.
function encodeTyped(address, atoms) {
  let tags = ",";
  const parts = [];
  for (const a of atoms) {
    if (a.t === "s") {
      tags += "s";
      parts.push(pad(Buffer.from(String(a.v), "utf8")));
    } else {
      const b = Buffer.alloc(4);
      if (a.t === "i") b.writeInt32BE(a.v);
      else b.writeFloatBE(a.v);
      tags += a.t;
      parts.push(b);
    }
  }
  return Buffer.concat([pad(Buffer.from(address)), pad(Buffer.from(tags)), ...parts]);
}

// An OSC packet (a message or a bundle) -> [{address, atoms}], as [udpreceive] outputs them.
function decodePacket(buf) {
  if (buf.toString("latin1", 0, 8) === "#bundle\0") {
    const out = [];
    let at = 16;
    while (at + 4 <= buf.length) {
      const size = buf.readInt32BE(at);
      out.push(...decodePacket(buf.subarray(at + 4, at + 4 + size)));
      at += 4 + size;
    }
    return out;
  }
  const { address, args, tags } = decodeWithTags(buf);
  return [{ address, atoms: args.map((v, i) => ({ t: tags[i] === "s" ? "s" : tags[i] === "i" || tags[i] === "h" ? "i" : "f", v })) }];
}

function decodeWithTags(buf) {
  const [, at] = readString(buf, 0);
  const [tags] = readString(buf, at);
  return { ...decode(buf), tags: tags.slice(1) };
}

module.exports = { encode, decode, encodeTyped, decodePacket };
