"use strict";
// A simulator of the device's patcher: it reads the patcher JSON and passes messages between
// boxes the way Max does, so a test can click Render and see datagrams leave [udpsend].
//
// What it models, per Cycling '74's reference pages (see OBJECTS below): messages are lists of
// typed atoms (int, float, symbol); an outlet feeds its patch cords right to left (by the
// destination's x position); [deferlow] and [qmetro] run on the low-priority queue; [js] loads
// the real script with Max's globals (outlet, messagename, arrayfromargs, LiveAPI, ...);
// [udpsend]/[udpreceive] are real OSC over loopback UDP; [buffer~] reads the real WAV's header.
// Live's side: the `---` prefix becomes a number unique to each device instance, parameters
// are restored (and output) before [live.thisdevice] bangs, int parameters hold 0..255.
//
// One World is one Live process: it owns the global names (buffer~), the low-priority queue,
// the Max window (errors) and the LiveAPI tree; several Device instances can live in it.

const dgram = require("node:dgram");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const osc = require("./osc.js");

// -- atoms and messages -------------------------------------------------------------------

const int = (v) => ({ t: "i", v: Math.trunc(v) });
const float = (v) => ({ t: "f", v: Number(v) });
const sym = (v) => ({ t: "s", v: String(v) });
const BANG = [sym("bang")];

function parseAtoms(text) {
  const atoms = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m[1] !== undefined) atoms.push(sym(m[1].replace(/\\(.)/g, "$1")));
    else if (/^-?\d+$/.test(m[2])) atoms.push(int(Number(m[2])));
    else if (/^-?(\d+\.\d*|\.\d+|\d+)(e-?\d+)?$/.test(m[2])) atoms.push(float(Number(m[2])));
    else atoms.push(sym(m[2]));
  }
  return atoms;
}

const selectorOf = (msg) => (msg.length && msg[0].t === "s" ? msg[0].v : msg.length === 1 ? (msg[0].t === "i" ? "int" : "float") : "list");
const values = (atoms) => atoms.map((a) => a.v);
const show = (msg) => msg.map((a) => (a.t === "s" && /\s/.test(a.v) ? JSON.stringify(a.v) : String(a.v))).join(" ");
const isNumber = (a) => a && (a.t === "i" || a.t === "f");

// A JS value from [js]'s outlet() -> atoms: integral numbers become ints, others floats.
function fromJs(value) {
  if (Array.isArray(value)) return value.flatMap(fromJs);
  if (typeof value === "number") return [Number.isInteger(value) ? int(value) : float(value)];
  if (typeof value === "boolean") return [int(value ? 1 : 0)];
  return [sym(String(value))];
}

// route's and similar objects' output: what is left after the matched selector.
function rest(atoms) {
  return atoms.length ? atoms : BANG;
}

// -- the object table: inlets and outlets Max gives a box, and its behaviour ----------------

// counts(args, box, device) -> [numinlets, numoutlets]; behaviour(box, args, device) -> object.
// `args` are the atoms after the class name in the box's text.
const OBJECTS = {
  "live.thisdevice": { counts: () => [1, 3], make: (b, a, d) => new ThisDevice(b, d) },
  "live.text": { counts: () => [1, 2], make: (b, a, d) => new LiveText(b, d) },
  "live.numbox": { counts: () => [1, 2], make: (b, a, d) => new LiveNumber(b, d) },
  "live.tab": { counts: () => [1, 3], make: (b, a, d) => new LiveEnum(b, d) },
  "live.menu": { counts: () => [1, 3], make: (b, a, d) => new LiveEnum(b, d) },
  umenu: { counts: () => [1, 3], make: (b, a, d) => new Umenu(b, d) },
  textedit: { counts: () => [1, 4], make: (b, a, d) => new TextEdit(b, d) },
  comment: { counts: () => [1, 0], make: (b, a, d) => new Comment(b, d) },
  "live.comment": { counts: () => [1, 0], make: (b, a, d) => new Comment(b, d) },
  slider: { counts: () => [1, 1], make: (b, a, d) => new Slider(b, d) },
  panel: { counts: () => [1, 0], make: (b, a, d) => new Inert(b, d) },
  "waveform~": { counts: () => [5, 6], make: (b, a, d) => new Waveform(b, d) },
  message: { counts: () => [2, 1], make: (b, a, d) => new MessageBox(b, d) },
  route: { counts: (a) => [a.length + 1, a.length + 1], make: (b, a, d) => new Route(b, d, a) },
  select: { counts: (a) => [a.length + 1, a.length + 1], make: (b, a, d) => new Select(b, d, a) },
  prepend: { counts: () => [1, 1], make: (b, a, d) => new Prepend(b, d, a) },
  trigger: { counts: (a) => [1, Math.max(a.length, 1)], make: (b, a, d) => new Trigger(b, d, a) },
  deferlow: { counts: () => [1, 1], make: (b, a, d) => new DeferLow(b, d) },
  qmetro: { counts: () => [2, 1], make: (b, a, d) => new QMetro(b, d, a) },
  js: { counts: (a, b, d) => d.scriptCounts(a), make: (b, a, d) => new Js(b, d, a) },
  udpsend: { counts: () => [1, 0], make: (b, a, d) => new UdpSend(b, d, a) },
  udpreceive: { counts: () => [1, 1], make: (b, a, d) => new UdpReceive(b, d, a) },
  "buffer~": { counts: () => [1, 2], make: (b, a, d) => new Buffer(b, d, a) },
  "play~": { counts: (a) => [1, (a.length > 1 ? a[1].v : 1) + 1], make: (b, a, d) => new Play(b, d, a) },
  "plugout~": { counts: () => [2, 2], make: (b, a, d) => new Inert(b, d) },
  midiin: { counts: () => [1, 1], make: (b, a, d) => new Inert(b, d) },
  midiout: { counts: () => [1, 0], make: (b, a, d) => new Inert(b, d) },
  pattr: { counts: () => [1, 3], make: (b, a, d) => new Pattr(b, d, a) },
};
const ALIASES = { sel: "select", t: "trigger" };

function classOf(box) {
  if (box.maxclass !== "newobj") return { name: box.maxclass, args: box.maxclass === "message" ? [] : [] };
  const atoms = parseAtoms(box.text || "");
  const name = atoms.length ? String(atoms[0].v) : "";
  return { name: ALIASES[name] || name, args: atoms.slice(1) };
}

// -- boxes -------------------------------------------------------------------------------------

class Box {
  constructor(box, device) {
    this.box = box;
    this.device = device;
    this.id = box.id;
  }
  out(outlet, msg) {
    this.device.emit(this.id, outlet, msg);
  }
  receive() {}
}

class Inert extends Box {}

class ThisDevice extends Box {
  load() {
    this.out(0, BANG);
  }
}

// Live parameters: the value Live holds, restored at load when the box has an initial value.
class Parameter extends Box {
  constructor(box, device) {
    super(box, device);
    const p = (box.saved_attribute_attributes && box.saved_attribute_attributes.valueof) || {};
    this.param = p;
    this.value = Array.isArray(p.parameter_initial) ? p.parameter_initial[0] : 0;
    this.restorable = box.parameter_enable === 1 && p.parameter_initial_enable === 1;
  }
  // What Live stores for a value: clamped to the range; int parameters hold 0..255 only.
  hold(value) {
    const p = this.param;
    const type = p.parameter_type === undefined ? 0 : p.parameter_type;
    let lo = p.parameter_mmin === undefined ? 0 : p.parameter_mmin;
    let hi = p.parameter_mmax === undefined ? (type === 2 ? (p.parameter_enum || [0]).length - 1 : 127) : p.parameter_mmax;
    if (type === 1 || type === 2) {
      lo = Math.max(lo, 0);
      hi = Math.min(hi, 255);
      value = Math.round(value);
    }
    return Math.min(Math.max(value, lo), hi);
  }
  atom(value) {
    return this.param.parameter_type === 0 ? float(value) : int(value);
  }
  load() {
    const saved = this.box.parameter_enable === 1 ? this.device.savedParameters[this.param.parameter_longname] : undefined;
    if (saved !== undefined) this.value = this.hold(saved);
    if (this.restorable || saved !== undefined) this.out(0, [this.atom(this.value)]);
  }
  set(value) {
    this.value = this.hold(value);
    this.out(0, [this.atom(this.value)]);
  }
  receive(inlet, msg) {
    if (selectorOf(msg) === "set" && isNumber(msg[1])) this.value = this.hold(msg[1].v);
    else if (isNumber(msg[0])) this.set(msg[0].v);
  }
}

class LiveText extends Parameter {
  // "mode": 0 is button mode (a click sends bang); toggle mode, the default, sends 1 / 0.
  click() {
    if (this.box.mode === 0) this.out(0, BANG);
    else this.set(this.value ? 0 : 1);
  }
  load() {
    if (this.box.mode !== 0) super.load();
  }
}

class LiveNumber extends Parameter {}

class LiveEnum extends Parameter {
  choose(index) {
    this.set(index);
  }
}

class Umenu extends Box {
  constructor(box, device) {
    super(box, device);
    this.items = (box.items || []).filter((x) => x !== ",").map(String);
    this.index = -1;
  }
  choose(index) {
    if (index < 0 || index >= this.items.length) throw new Error(`umenu ${this.id}: no item ${index}`);
    this.index = index;
    this.out(1, parseAtoms(this.items[index]));
    this.out(0, [int(index)]);
  }
  receive(inlet, msg) {
    const s = selectorOf(msg);
    if (s === "clear") {
      this.items = [];
      this.index = -1;
    } else if (s === "append") this.items.push(values(msg.slice(1)).join(" "));
    else if (s === "set" && isNumber(msg[1])) this.index = Math.min(Math.max(msg[1].v, -1), this.items.length - 1);
    else if (s === "int" || s === "float") this.choose(Math.trunc(msg[0].v));
  }
  get text() {
    return this.items[this.index];
  }
}

class TextEdit extends Box {
  type(text) {
    this.out(0, text ? [sym("text"), ...parseAtoms(text).map((a) => sym(String(a.v)))] : BANG);
  }
}

class Comment extends Box {
  constructor(box, device) {
    super(box, device);
    this.text = box.text || "";
    this.history = [];
  }
  receive(inlet, msg) {
    if (selectorOf(msg) === "set") {
      this.text = values(msg.slice(1)).join(" ");
      this.history.push(this.text);
    }
  }
}

class Slider extends Box {
  receive(inlet, msg) {
    if (isNumber(msg[0])) {
      this.value = msg[0].v;
      this.out(0, msg);
    }
  }
}

class Waveform extends Box {
  receive(inlet, msg) {
    if (inlet === 0 && selectorOf(msg) === "set") this.bufferName = String(msg[1].v);
  }
  get shown() {
    return this.device.world.buffers.get(this.bufferName);
  }
}

class MessageBox extends Box {
  constructor(box, device) {
    super(box, device);
    this.content = parseAtoms(box.text || "");
  }
  receive(inlet, msg) {
    const s = selectorOf(msg);
    if (s === "set") {
      this.content = msg.slice(1);
      return;
    }
    if (inlet !== 0) return;
    const given = s === "bang" ? [] : msg;
    this.out(0, this.content.map((a) => (a.t === "s" && /^\$\d$/.test(a.v) ? given[Number(a.v[1]) - 1] || int(0) : a)));
  }
}

class Route extends Box {
  constructor(box, device, args) {
    super(box, device);
    this.keys = args.map((a) => String(a.v));
  }
  receive(inlet, msg) {
    if (inlet !== 0) return;
    const at = this.keys.indexOf(selectorOf(msg));
    if (at >= 0 && msg[0].t === "s") this.out(at, rest(msg.slice(1)));
    else this.out(this.keys.length, msg);
  }
}

class Select extends Box {
  constructor(box, device, args) {
    super(box, device);
    this.keys = args.map((a) => a.v);
  }
  receive(inlet, msg) {
    if (inlet === 1) {
      if (msg.length) this.keys[0] = msg[0].v;
      return;
    }
    const one = msg.length === 1 || (msg.length === 2 && msg[0].v === "symbol") ? msg[msg.length - 1] : null;
    const at = one && one.v !== "bang" ? this.keys.findIndex((k) => k === one.v) : -1;
    if (at >= 0) this.out(at, BANG);
    else this.out(this.keys.length, msg);
  }
}

class Prepend extends Box {
  constructor(box, device, args) {
    super(box, device);
    this.head = args;
  }
  receive(inlet, msg) {
    if (inlet === 0) this.out(0, [...this.head, ...msg]);
  }
}

class Trigger extends Box {
  constructor(box, device, args) {
    super(box, device);
    this.kinds = args.length ? args.map((a) => String(a.v)) : ["b"];
  }
  receive(inlet, msg) {
    for (let i = this.kinds.length - 1; i >= 0; i--) {
      const k = this.kinds[i];
      if (k === "b") this.out(i, BANG);
      else if (k === "i") this.out(i, [int(isNumber(msg[0]) ? msg[0].v : 0)]);
      else if (k === "f") this.out(i, [float(isNumber(msg[0]) ? msg[0].v : 0)]);
      else if (k === "s") this.out(i, [msg[0] && msg[0].t === "s" ? msg[0] : sym("")]);
      else this.out(i, msg); // l, a
    }
  }
}

class DeferLow extends Box {
  receive(inlet, msg) {
    this.device.world.defer(() => this.out(0, msg));
  }
}

class QMetro extends Box {
  constructor(box, device, args) {
    super(box, device);
    this.interval = args.length ? Number(args[0].v) : 5;
    this.timer = null;
  }
  receive(inlet, msg) {
    if (inlet === 1) {
      this.interval = Number(msg[0].v);
      return;
    }
    const s = selectorOf(msg);
    const on = s === "bang" || ((s === "int" || s === "float") && msg[0].v !== 0);
    this.stop();
    if (on) {
      this.device.world.defer(() => this.out(0, BANG));
      this.timer = setInterval(() => this.device.world.defer(() => this.out(0, BANG)), this.interval);
    }
  }
  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
  close() {
    this.stop();
  }
}

class UdpSend extends Box {
  constructor(box, device, args) {
    super(box, device);
    this.host = String(args[0].v);
    this.port = Number(args[1].v);
    this.socket = dgram.createSocket("udp4");
    this.socket.unref();
    this.sent = [];
  }
  receive(inlet, msg) {
    const s = selectorOf(msg);
    if (s === "host") this.host = String(msg[1].v);
    else if (s === "port") this.port = Number(msg[1].v);
    else if (s.startsWith("/")) {
      if (this.closed) return; // the device was deleted while a message was queued
      const data = osc.encodeTyped(s, msg.slice(1));
      this.sent.push({ address: s, args: values(msg.slice(1)), bytes: data.length });
      this.device.world.datagrams += 1;
      this.socket.send(data, this.port, this.host === "localhost" ? "127.0.0.1" : this.host);
    } else this.device.world.error(`udpsend: ${s}: not an OSC address`);
  }
  close() {
    this.closed = true;
    try {
      this.socket.close();
    } catch (err) {
      // closed already
    }
  }
}

class UdpReceive extends Box {
  constructor(box, device, args) {
    super(box, device);
    this.socket = null;
    this.port = 0;
    this.bind(Number(args[0].v));
  }
  bind(port) {
    this.close();
    this.port = port;
    const socket = dgram.createSocket("udp4");
    this.socket = socket;
    this.bound = new Promise((resolve) => {
      socket.once("listening", () => resolve(true));
      socket.on("error", (err) => {  // as Max: a message in the Max window, no output
        if (this.socket === socket) {
          this.device.world.error(`udpreceive: port ${port}: ${err.code}`);
          this.socket = null;
        }
        resolve(false);
      });
    });
    socket.on("message", (data) => {
      let messages;
      try {
        messages = osc.decodePacket(data);
      } catch (err) {
        this.device.world.error(`udpreceive: ${err.message}`);
        return;
      }
      for (const m of messages) this.out(0, [sym(m.address), ...m.atoms]);
      this.device.world.kick();
    });
    socket.bind(port, "127.0.0.1");
    socket.unref();
  }
  receive(inlet, msg) {
    if (selectorOf(msg) === "port" && isNumber(msg[1])) this.bind(msg[1].v);
  }
  close() {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      try {
        socket.close();
      } catch (err) {
        // a socket whose bind failed is closed by node already
      }
    }
  }
}

class Buffer extends Box {
  constructor(box, device, args) {
    super(box, device);
    this.name = String(args[0].v);
    const buffers = device.world.buffers;
    if (!buffers.has(this.name)) buffers.set(this.name, { name: this.name, file: null, frames: 0, owners: [] });
    buffers.get(this.name).owners.push(device.name);
  }
  receive(inlet, msg) {
    const s = selectorOf(msg);
    if (s !== "replace" && s !== "read") return;
    const file = String(msg[1].v);
    const data = this.device.world.buffers.get(this.name);
    try {
      const info = wavInfo(fs.readFileSync(file));
      Object.assign(data, { file, frames: info.frames, sampleRate: info.sampleRate, channels: info.channels });
    } catch (err) {
      this.device.world.error(`buffer~ ${this.name}: can't open ${file}: ${err.message}`);
      return;
    }
    this.device.world.defer(() => this.out(1, BANG)); // read done
  }
}

function wavInfo(data) {
  if (data.toString("latin1", 0, 4) !== "RIFF" || data.toString("latin1", 8, 12) !== "WAVE") throw new Error("not a WAV file");
  let at = 12;
  let fmt = null;
  while (at + 8 <= data.length) {
    const id = data.toString("latin1", at, at + 4);
    const size = data.readUInt32LE(at + 4);
    if (id === "fmt ") fmt = { channels: data.readUInt16LE(at + 10), sampleRate: data.readUInt32LE(at + 12), bits: data.readUInt16LE(at + 22) };
    if (id === "data" && fmt) return { ...fmt, frames: Math.floor(size / (fmt.channels * (fmt.bits / 8))) };
    at += 8 + size + (size % 2);
  }
  throw new Error("no fmt/data chunk");
}

class Play extends Box {
  constructor(box, device, args) {
    super(box, device);
    this.name = String(args[0].v);
    this.playing = false;
  }
  receive(inlet, msg) {
    const s = selectorOf(msg);
    if (s === "start" || (s === "int" && msg[0].v === 1)) this.playing = Boolean(this.device.world.buffers.get(this.name));
    if (s === "stop" || (s === "int" && msg[0].v === 0)) this.playing = false;
  }
}

// pattr keeps its parameter switch among its object attributes, not on the box.
function pattrEnabled(box) {
  return Boolean(box.saved_object_attributes && box.saved_object_attributes.parameter_enable === 1);
}

class Pattr extends Parameter {
  constructor(box, device, args) {
    super(box, device);
    this.value = [];
  }
  load() {
    const saved = this.device.savedParameters[this.param.parameter_longname];
    if (saved !== undefined && pattrEnabled(this.box)) {
      this.value = saved;
      this.out(0, saved.length ? saved : BANG);
    }
  }
  receive(inlet, msg) {
    if (selectorOf(msg) === "set") this.value = msg.slice(1);
    else {
      this.value = msg;
      this.out(0, msg);
    }
  }
}

// [js]: the real script in a context with Max's globals.
class Js extends Box {
  constructor(box, device, args) {
    super(box, device);
    const file = path.join(device.scriptDir, String(args[0].v));
    const ctx = device.scriptContext(this);
    vm.createContext(ctx);
    vm.runInContext(device.scriptSource(file), ctx, { filename: file });
    this.ctx = ctx;
  }
  receive(inlet, msg) {
    const s = selectorOf(msg);
    const ctx = this.ctx;
    const call = (name, args) => {
      ctx.messagename = s;
      ctx.inlet = inlet;
      return ctx[name].apply(null, args);
    };
    const args = s === "int" || s === "float" || s === "list" ? values(msg) : values(msg.slice(1));
    try {
      if (s === "bang" && typeof ctx.bang === "function") call("bang", []);
      else if (s === "int" && typeof ctx.msg_int === "function") call("msg_int", args);
      else if (s === "float" && typeof ctx.msg_float === "function") call("msg_float", args);
      else if (s === "list" && typeof ctx.list === "function") call("list", args);
      else if (!["bang", "int", "float", "list"].includes(s) && /^[A-Za-z_]\w*$/.test(s) && typeof ctx[s] === "function") call(s, args);
      else if (typeof ctx.anything === "function") call("anything", args);
      else this.device.world.error(`js: no function for ${s}`);
    } catch (err) {
      this.device.world.error(`js: ${err && err.stack ? err.stack : err}`);
    }
  }
}

// -- a device and the world it lives in ----------------------------------------------------------

class World {
  constructor(live) {
    this.live = live;
    this.buffers = new Map();
    this.queue = [];
    this.errors = [];
    this.devices = [];
    this.datagrams = 0;
    this.draining = false;
  }
  defer(fn) {
    this.queue.push(fn);
    this.kick();
  }
  kick() {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => {
      while (this.queue.length) {
        const fn = this.queue.shift();
        try {
          fn();
        } catch (err) {
          this.error(`scheduler: ${err && err.stack ? err.stack : err}`); // Max posts it, goes on
        }
      }
      this.draining = false;
    });
  }
  error(text) {
    this.errors.push(text);
  }
  // Waits until `predicate()` holds (polled as the queue drains), or throws after `ms`.
  async until(predicate, ms, what) {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what || predicate}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  async settle(ms = 50) {
    await new Promise((r) => setTimeout(r, ms));
    await this.until(() => !this.queue.length && !this.draining, 2000, "the queue to drain");
  }
  close() {
    for (const d of [...this.devices]) d.close();
  }
}

class Device {
  // patcher: the parsed .maxpat; scriptDir: where [js] finds its file (or `scripts`, a map
  // of embedded files, as a frozen device carries them); saved: parameter values saved with
  // the set, by long name.
  constructor(world, patcher, opts = {}) {
    this.world = world;
    this.name = opts.name || `device-${world.devices.length + 1}`;
    this.unique = String(opts.unique !== undefined ? opts.unique : 100 + world.devices.length * 7).padStart(3, "0");
    this.scriptDir = opts.scriptDir || path.join(__dirname, "..");
    this.scripts = opts.scripts || null;
    this.savedParameters = opts.saved || {};
    this.liveId = opts.liveId !== undefined ? opts.liveId : world.devices.length + 3;
    const p = patcher.patcher;
    this.boxes = new Map();
    this.lines = p.lines.map((l) => l.patchline);
    for (const { box } of p.boxes) {
      const local = JSON.parse(JSON.stringify(box).replace(/---/g, this.unique)); // Live: per-device names
      const { name, args } = classOf(local);
      const spec = OBJECTS[name];
      if (!spec) throw new Error(`box ${box.id}: no model of [${name}] in the simulator`);
      this.boxes.set(box.id, spec.make(local, args, this));
    }
    this.posX = (id) => (this.boxes.get(id).box.patching_rect || [0])[0];
    world.devices.push(this);
  }
  scriptSource(file) {
    if (this.scripts) {
      const name = path.basename(file);
      if (!(name in this.scripts)) throw new Error(`js: can't find file ${name}`);
      return this.scripts[name];
    }
    return fs.readFileSync(file, "utf8");
  }
  scriptCounts(args) {
    const ctx = this.scriptContext(null);
    vm.createContext(ctx);
    vm.runInContext(this.scriptSource(path.join(this.scriptDir, String(args[0].v))), ctx);
    return [ctx.inlets, ctx.outlets];
  }
  scriptContext(owner) {
    const device = this;
    const ctx = {
      inlets: 1,
      outlets: 1,
      autowatch: 0,
      jsarguments: [],
      messagename: "",
      inlet: 0,
      console,
      post: () => {},
      error: (...a) => device.world.error(a.join(" ")),
      arrayfromargs: (args) => Array.prototype.slice.call(args),
      outlet: (n, ...vals) => {
        if (!owner) return;
        const atoms = fromJs(vals.length === 1 ? vals[0] : vals);
        if (atoms.length) owner.out(n, atoms);
      },
      LiveAPI: function LiveAPI(callback, p) {
        return device.world.live.api(p, device);
      },
    };
    return ctx;
  }
  emit(id, outlet, msg) {
    const cords = this.lines
      .filter((l) => l.source[0] === id && l.source[1] === outlet)
      .sort((a, b) => this.posX(b.destination[0]) - this.posX(a.destination[0])); // right to left
    for (const l of cords) this.boxes.get(l.destination[0]).receive(l.destination[1], msg);
  }
  // Live loads the device: parameters restored (and output), then live.thisdevice bangs.
  load() {
    for (const b of this.boxes.values()) if (!(b instanceof ThisDevice) && typeof b.load === "function") b.load();
    for (const b of this.boxes.values()) if (b instanceof ThisDevice) b.load();
    return this;
  }
  box(idOrVarname) {
    if (this.boxes.has(idOrVarname)) return this.boxes.get(idOrVarname);
    for (const b of this.boxes.values()) if (b.box.varname === idOrVarname) return b;
    throw new Error(`no box ${idOrVarname}`);
  }
  of(cls) {
    return [...this.boxes.values()].filter((b) => classOf(b.box).name === cls);
  }
  // What a user does:
  click(name) {
    this.box(name).click();
  }
  choose(name, index) {
    this.box(name).choose(index);
  }
  setNumber(name, value) {
    this.box(name).set(value);
  }
  type(name, text) {
    this.box(name).type(text);
  }
  get status() {
    const comments = [...this.boxes.values()].filter((b) => b instanceof Comment && b.box.varname === "status");
    return comments.length ? comments[0].text : "";
  }
  // What Live saves with the set: each parameter's value, by long name.
  saveSet() {
    const saved = {};
    for (const b of this.boxes.values()) {
      if (!(b instanceof Parameter) || !b.param.parameter_longname) continue;
      const enabled = b instanceof Pattr ? pattrEnabled(b.box) : b.box.parameter_enable === 1;
      if (enabled) saved[b.param.parameter_longname] = b.value;
    }
    return saved;
  }
  get statusHistory() {
    return this.box("status").history;
  }
  get sent() {
    return this.of("udpsend").flatMap((b) => b.sent);
  }
  // The device is deleted (or its set closed): timers stop, sockets close.
  close() {
    const at = this.world.devices.indexOf(this);
    if (at < 0) return;
    this.world.devices.splice(at, 1);
    for (const b of this.boxes.values()) if (typeof b.close === "function") b.close();
  }
}

module.exports = { World, Device, OBJECTS, classOf, parseAtoms, pattrEnabled, wavInfo, int, float, sym };
