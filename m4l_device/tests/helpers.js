// Test helpers: a Max `js` sandbox, a Live Object Model stand-in and a tiny OSC codec.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const DEVICE_DIR = path.resolve(__dirname, "..");

// ------------------------------------------------------------------ Live Object Model stand-in

// A Live Set: tracks of clip slots; a clip is {name, length, looping, notes: [...]}.
// `deviceTrack` holds the device; `detail` / `highlighted` are [track, slot] or null.
class FakeLive {
  constructor({ tracks = 2, slots = 8, deviceTrack = 0 } = {}) {
    this.tracks = [];
    for (let t = 0; t < tracks; t++) this.tracks.push({ slots: Array.from({ length: slots }, () => ({ clip: null })) });
    this.deviceTrack = deviceTrack;
    this.detail = null;
    this.highlighted = null;
    this.song = { current_song_time: 0, is_playing: 0, signature_numerator: 4, signature_denominator: 4, tempo: 120 };
    this.calls = [];   // every set/call made through LiveAPI: [path, method, ...args]
    this.nextNoteId = 1;
  }

  putClip(track, slot, notes, { name = "user clip", length = 8 } = {}) {
    const clip = { name, length, looping: 1, notes: [] };
    this.tracks[track].slots[slot].clip = clip;
    this.addNotes(clip, notes);
    return clip;
  }

  addNotes(clip, notes) {
    for (const n of notes) {
      clip.notes.push(Object.assign({ note_id: this.nextNoteId++, duration: 0.25, mute: 0, probability: 1,
        velocity_deviation: 0, release_velocity: 64 }, n));
    }
  }

  // Canonical path -> {kind, obj, path} or null.
  resolve(p) {
    p = p.trim();
    if (p === "live_set") return { kind: "song", obj: this.song, path: "live_set" };
    if (p === "this_device canonical_parent") return this.resolve(`live_set tracks ${this.deviceTrack}`);
    if (p === "live_set view detail_clip") {
      return this.detail ? this.resolve(`live_set tracks ${this.detail[0]} clip_slots ${this.detail[1]} clip`) : null;
    }
    if (p === "live_set view highlighted_clip_slot") {
      return this.highlighted ? this.resolve(`live_set tracks ${this.highlighted[0]} clip_slots ${this.highlighted[1]}`) : null;
    }
    const m = /^live_set tracks (\d+)(?: clip_slots (\d+)( clip)?)?$/.exec(p);
    if (!m) throw new Error(`FakeLive: unknown path ${p}`);
    const track = this.tracks[+m[1]];
    if (!track) return null;
    if (m[2] === undefined) return { kind: "track", obj: track, path: p };
    const slot = track.slots[+m[2]];
    if (!slot) return null;
    if (!m[3]) return { kind: "slot", obj: slot, path: p };
    return slot.clip ? { kind: "clip", obj: slot.clip, path: p } : null;
  }

  // The LiveAPI class as Max's js object provides it (the parts the device uses).
  liveAPIClass() {
    const live = this;
    return function LiveAPI(callback, p) {
      const target = live.resolve(p);
      this.id = target ? 1 : 0;
      this.path = target ? `"${target.path}"` : "";
      this.get = (prop) => {
        if (target.kind === "slot" && prop === "has_clip") return [target.obj.clip ? 1 : 0];
        const v = target.obj[prop];
        if (v === undefined) throw new Error(`FakeLive: ${target.kind} has no property ${prop}`);
        return Array.isArray(v) ? v : [v];
      };
      this.set = (prop, value) => {
        live.calls.push([target.path, "set", prop, value]);
        target.obj[prop] = value;
      };
      this.getcount = (prop) => {
        if (target.kind === "track" && prop === "clip_slots") return target.obj.slots.length;
        throw new Error(`FakeLive: getcount ${prop}`);
      };
      this.call = (method, ...args) => {
        live.calls.push([target.path, method, ...args]);
        if (target.kind === "slot" && method === "create_clip") {
          if (target.obj.clip) throw new Error("create_clip on a slot that holds a clip");
          target.obj.clip = { name: "", length: args[0], looping: 0, notes: [] };
          return undefined;
        }
        if (target.kind === "clip" && method === "get_notes_extended") {
          const [fromPitch, span, fromTime, timeSpan] = args;
          const notes = target.obj.notes.filter((n) => n.pitch >= fromPitch && n.pitch < fromPitch + span &&
            n.start_time >= fromTime && n.start_time < fromTime + timeSpan);
          return JSON.stringify({ notes });  // Max's js gets the dictionary as JSON text
        }
        if (target.kind === "clip" && method === "add_new_notes") {
          for (const n of args[0].notes) {
            for (const k of ["pitch", "start_time", "duration"]) if (typeof n[k] !== "number") throw new Error(`note without ${k}`);
          }
          live.addNotes(target.obj, args[0].notes);
          return undefined;
        }
        throw new Error(`FakeLive: ${target.kind}.${method} not supported`);
      };
    };
  }
}

// ------------------------------------------------------------------ Max js sandbox

// Loads beatguide.js as Max's js object would; returns the sandbox and what went out of each outlet.
// onOutlet(n, message) sees each message as it leaves (e.g. to forward OSC to a real server).
function loadDevice(live, onOutlet = () => {}) {
  const out = [];
  const tasks = [];
  const ctx = {
    post: () => {},
    messnamed: () => {},
    outlet: (n, ...args) => {
      const message = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
      out.push([n, ...message]);
      onOutlet(n, message);
    },
    arrayfromargs: (a) => Array.prototype.slice.call(a),
    LiveAPI: live.liveAPIClass(),
    Task: function Task(fn) {
      this.fn = fn;
      this.repeat = () => tasks.push(this);
      this.cancel = () => {};
    },
    JSON, Math, Date, String, parseInt,
  };
  ctx.include = (name) => vm.runInContext(fs.readFileSync(path.join(DEVICE_DIR, name), "utf8"), ctx, { filename: name });
  vm.createContext(ctx);
  vm.runInContext(fs.readFileSync(path.join(DEVICE_DIR, "beatguide.js"), "utf8"), ctx, { filename: "beatguide.js" });
  return {
    ctx,
    out,
    tasks,
    // Sends a Max message (selector + args) into the js inlet.
    send(selector, ...args) {
      if (typeof ctx[selector] === "function") return ctx[selector](...args);
      ctx.messagename = selector;
      return ctx.anything(...args);
    },
    sent(n) { return out.filter((m) => m[0] === n).map((m) => m.slice(1)); },
    status() {
      const s = this.sent(3);
      return s.length ? s[s.length - 1].slice(1).join(" ") : "";
    },
  };
}

// ------------------------------------------------------------------ OSC (int32, float32, string)

function pad4(n) { return (n + 3) & ~3; }

function oscString(s) {
  const b = Buffer.alloc(pad4(Buffer.byteLength(s) + 1));
  b.write(s);
  return b;
}

// As Max's udpsend encodes a message: whole numbers as int32, other numbers as float32.
function encodeOSC(address, args) {
  let tags = ",";
  const parts = [];
  for (const a of args) {
    if (typeof a === "string") { tags += "s"; parts.push(oscString(a)); continue; }
    const b = Buffer.alloc(4);
    if (Number.isInteger(a)) { tags += "i"; b.writeInt32BE(a); } else { tags += "f"; b.writeFloatBE(a); }
    parts.push(b);
  }
  return Buffer.concat([oscString(address), oscString(tags), ...parts]);
}

function decodeOSC(buf) {
  let pos = 0;
  function str() {
    const end = buf.indexOf(0, pos);
    const s = buf.toString("utf8", pos, end);
    pos = pad4(end + 1);
    return s;
  }
  const address = str();
  const tags = str().slice(1);
  const args = [];
  for (const t of tags) {
    if (t === "i") { args.push(buf.readInt32BE(pos)); pos += 4; }
    else if (t === "f") { args.push(buf.readFloatBE(pos)); pos += 4; }
    else if (t === "s") args.push(str());
    else throw new Error(`OSC type ${t} not handled`);
  }
  return { address, args };
}

module.exports = { DEVICE_DIR, FakeLive, loadDevice, encodeOSC, decodeOSC };
