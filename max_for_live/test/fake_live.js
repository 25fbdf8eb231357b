"use strict";
// A fake LiveAPI that is as strict as Live: ids are strings ("0" for a path that does not
// exist), names with spaces come back as one quoted symbol, calls fail the way Live's do
// (an error in the Max window and no effect, or a thrown error), and the Live version is a
// switch. tree: {path: {property: value, method: function, child: count}}.
//
// opts: version [major, minor, bugfix] (default 12.1.0); quoteNames (default true);
// failing: {method: "why"} makes those calls fail; throwing: failures throw instead of
// only reporting.

function makeFakeLive(tree, opts) {
  const o = Object.assign({ version: [12, 1, 0], quoteNames: true, failing: {}, throwing: false }, opts || {});
  const calls = [];
  const errors = []; // what Live would print in the Max window
  const ids = new Map();
  const idOf = (path) => {
    if (!(path in tree)) return "0";
    if (!ids.has(path)) ids.set(path, String(ids.size + 1));
    return ids.get(path);
  };
  const app = {
    get_major_version: () => o.version[0],
    get_minor_version: () => o.version[1],
    get_bugfix_version: () => o.version[2],
  };
  function fail(path, name, why) {
    errors.push(`${path}: ${name}: ${why}`);
    if (o.throwing) throw new Error(`${name}: ${why}`);
  }
  function makeApi(path) {
    const node = path === "live_app" ? app : tree[path];
    return {
      id: path === "live_app" ? "1000" : idOf(path),
      path: JSON.stringify(path),
      get(prop) {
        if (!node) {
          fail(path, "get " + prop, "invalid object");
          return [];
        }
        const v = node[prop];
        if (v === undefined) {
          fail(path, "get " + prop, "no such property");
          return [];
        }
        if (typeof v === "string" && o.quoteNames && /\s/.test(v)) return [`"${v}"`];
        return Array.isArray(v) ? v : [v];
      },
      getcount(child) {
        return node && typeof node[child] === "number" ? node[child] : 0;
      },
      call(name, ...args) {
        calls.push({ path, name, args });
        if (!node || typeof node[name] !== "function") {
          fail(path, name, node ? "no such function" : "invalid object");
          return undefined;
        }
        if (o.failing[name]) {
          fail(path, name, o.failing[name]);
          return undefined;
        }
        try {
          return node[name](...args);
        } catch (err) {
          fail(path, name, err.message);
          return undefined;
        }
      },
    };
  }
  // api(path, device): what `new LiveAPI(callback, path)` gives inside a device (maxsim);
  // this_device is each device's own object.
  function api(path, device) {
    const made = makeApi(path);
    if (path === "this_device" && device) made.id = String(device.liveId);
    return made;
  }
  return { makeApi, api, calls, errors, tree, options: o };
}

// A set with a MIDI clip selected on a drum track and audio tracks to place takes on; every
// ClipSlot's create_audio_clip works as Live's does (audio tracks only, not frozen).
function liveSet({ notes, tempo = 120, loop = [0, 4], signature = [4, 4], audioTracks = [["Audio", 2]] } = {}) {
  const tree = {
    live_set: { tempo, tracks: 1 + audioTracks.length },
    this_device: {},
    "live_set tracks 0": { has_audio_input: 0, has_midi_input: 1, name: "Drums", clip_slots: 1, is_frozen: 0 },
    "live_set view detail_clip": {
      name: "Groove 1", is_midi_clip: 1, looping: 1, loop_start: loop[0], loop_end: loop[1], start_marker: loop[0], end_marker: loop[1],
      signature_numerator: signature[0], signature_denominator: signature[1],
      get_notes_extended(fromPitch, pitchSpan, fromTime, timeSpan) {
        const picked = notes.filter((n) => n.pitch >= fromPitch && n.pitch < fromPitch + pitchSpan &&
          n.start_time >= fromTime && n.start_time < fromTime + timeSpan);
        return JSON.stringify({ notes: picked });
      },
    },
  };
  audioTracks.forEach(([name, slots, frozen], i) => {
    const t = `live_set tracks ${i + 1}`;
    tree[t] = { has_audio_input: 1, has_midi_input: 0, name, clip_slots: slots, is_frozen: frozen ? 1 : 0 };
    for (let s = 0; s < slots; s++) {
      const slot = { has_clip: 0, file: null };
      slot.create_audio_clip = (file) => {
        if (tree[t].is_frozen) throw new Error("the track is frozen");
        slot.has_clip = 1;
        slot.file = file;
      };
      tree[`${t} clip_slots ${s}`] = slot;
    }
  });
  return tree;
}

module.exports = { makeFakeLive, liveSet };
