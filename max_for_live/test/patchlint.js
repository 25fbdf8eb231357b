"use strict";
// A structural lint of the patcher: what Max or Live would get wrong or refuse, found by
// reading the JSON. lintPatcher(patch, device) -> ["problem", ...] (empty when clean).
// `device` is a maxsim Device built from the same patch (it knows the object table and the
// script's inlet and outlet counts).

const { OBJECTS, classOf, parseAtoms, pattrEnabled } = require("./maxsim.js");

const LIVE_INT_RANGE = [0, 255]; // Live's int parameters hold 0..255; larger: Float, unit style Int
const DEVICE_LOCAL = ["buffer~", "play~", "groove~", "wave~", "peek~", "index~"]; // global names

function lintPatcher(patch, device) {
  const problems = [];
  const p = patch.patcher;
  const boxes = p.boxes.map((b) => b.box);
  const byId = new Map();
  for (const b of boxes) {
    if (byId.has(b.id)) problems.push(`box id ${b.id} is used twice (Max resolves cords by id)`);
    byId.set(b.id, b);
  }
  const seenLines = new Set();
  for (const { patchline: l } of p.lines) {
    const key = JSON.stringify([l.source, l.destination]);
    if (seenLines.has(key)) problems.push(`cord ${key} appears twice`);
    seenLines.add(key);
    const src = byId.get(l.source[0]);
    const dst = byId.get(l.destination[0]);
    if (!src || !dst) {
      problems.push(`cord ${key} names a box that does not exist`);
      continue;
    }
    if (l.source[1] >= src.numoutlets) problems.push(`cord ${key}: ${src.id} has ${src.numoutlets} outlets`);
    if (l.destination[1] >= dst.numinlets) problems.push(`cord ${key}: ${dst.id} has ${dst.numinlets} inlets`);
  }
  const longnames = new Map();
  for (const b of boxes) {
    const { name, args } = classOf(b);
    const spec = OBJECTS[name];
    if (!spec) {
      problems.push(`${b.id}: [${name}] is not in the object table`);
      continue;
    }
    const [ins, outs] = spec.counts(args, b, device);
    if (b.numinlets !== ins || b.numoutlets !== outs) {
      problems.push(`${b.id}: [${b.text || name}] is saved with ${b.numinlets} inlets / ${b.numoutlets} outlets; Max makes ${ins} / ${outs}`);
    }
    if ((b.outlettype || []).length !== (b.numoutlets || 0)) problems.push(`${b.id}: outlettype lists ${(b.outlettype || []).length} outlets, not ${b.numoutlets}`);
    lintParameter(b, name, problems, longnames);
    if (DEVICE_LOCAL.includes(name) && args.length && !String(args[0].v).startsWith("---")) {
      problems.push(`${b.id}: [${b.text}] uses a global name; prefix it with --- so each device instance has its own`);
    }
    if (b.maxclass === "message") {
      const atoms = parseAtoms(b.text || "");
      const to = p.lines.filter((l) => l.patchline.source[0] === b.id).map((l) => classOf(byId.get(l.patchline.destination[0])).name);
      if (atoms.length > 1 && atoms[0].v === "set" && to.some((n) => n === "waveform~") && !String(atoms[1].v).startsWith("---")) {
        problems.push(`${b.id}: (${b.text}) points waveform~ at a global buffer name; use ---`);
      }
    }
    if (name === "udpreceive" && !p.lines.some((l) => l.patchline.destination[0] === b.id)) {
      problems.push(`${b.id}: [${b.text}] listens on a fixed port, so a second device instance cannot; let the script set the port`);
    }
  }
  // what enters [js] and [udpsend] comes through [deferlow] (the Live API's low-priority thread)
  for (const b of boxes) {
    const { name } = classOf(b);
    if (name !== "js" && name !== "udpsend") continue;
    for (const { patchline: l } of p.lines.filter((x) => x.patchline.destination[0] === b.id)) {
      const from = classOf(byId.get(l.source[0])).name;
      if (from !== "deferlow") problems.push(`${b.id}: fed by ${l.source[0]} ([${from}]), not through [deferlow]`);
    }
  }
  return problems;
}

function lintParameter(b, name, problems, longnames) {
  const isLive = name.startsWith("live.") && !["live.thisdevice", "live.comment"].includes(name);
  const v = b.saved_attribute_attributes && b.saved_attribute_attributes.valueof;
  if (!isLive && !(name === "pattr" && v)) return;
  const enabled = name === "pattr" ? pattrEnabled(b) : b.parameter_enable === 1;
  if (!enabled) problems.push(`${b.id}: [${name}] lacks "parameter_enable": 1, so Live neither saves nor automates it`);
  if (!v) {
    problems.push(`${b.id}: no parameter attributes (saved_attribute_attributes.valueof)`);
    return;
  }
  if (!v.parameter_longname) problems.push(`${b.id}: no parameter_longname`);
  else if (longnames.has(v.parameter_longname)) problems.push(`${b.id}: parameter name ${v.parameter_longname} is also ${longnames.get(v.parameter_longname)}'s`);
  else longnames.set(v.parameter_longname, b.id);
  const type = v.parameter_type === undefined ? 0 : v.parameter_type;
  if (type === 1) {
    const lo = v.parameter_mmin === undefined ? 0 : v.parameter_mmin;
    const hi = v.parameter_mmax === undefined ? 127 : v.parameter_mmax;
    if (lo < LIVE_INT_RANGE[0] || hi > LIVE_INT_RANGE[1]) {
      problems.push(`${b.id}: Int parameter ${lo}..${hi}; Live's Int parameters hold ${LIVE_INT_RANGE.join("..")}: use Float with unit style Int`);
    }
  }
  if (type === 2) {
    const items = v.parameter_enum || [];
    if (!items.length) problems.push(`${b.id}: Enum parameter without parameter_enum`);
    if (v.parameter_mmax !== items.length - 1) problems.push(`${b.id}: Enum of ${items.length} items needs parameter_mmax ${items.length - 1}, has ${v.parameter_mmax}`);
  }
  if (name === "pattr" && type !== 3) problems.push(`${b.id}: a pattr that stores a name must be a Blob parameter (type 3)`);
}

module.exports = { lintPatcher };
