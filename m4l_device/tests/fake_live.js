// A strict stand-in for the Live Object Model, as Max's js LiveAPI object sees it.
//
// A Live Set of MIDI tracks with clip slots, devices (this device, Drum Racks, Instrument Racks),
// Drum Rack pads and chains. Every path, property, call and observed property goes through the
// LOM table (lom.js): anything Live does not document throws, and where Live refuses (create_clip
// on a slot holding a clip, notes outside the clip, reading notes of an audio clip) so does this.
"use strict";
const { members } = require("./lom.js");

const PADS = 128;

class Node {
  constructor(cls, props = {}, children = {}) {
    this.cls = cls;
    this.props = props;
    this.children = children;
    this.parent = null;
    this.key = null;     // the child name this node sits under in its canonical parent
    this.index = null;   // its index in that list
  }

  adopt(key, child, index = null) {
    child.parent = this;
    child.key = key;
    child.index = index;
    return child;
  }
}

class FakeLive {
  // tracks: how many MIDI tracks; slots per track; the device sits on `deviceTrack`, followed by
  // whatever devices the test adds (addDrumRack, addInstrumentRack, ...).
  constructor({ tracks = 2, slots = 8, deviceTrack = 0 } = {}) {
    this.calls = [];       // every set and call: [path, method, ...args]
    this.used = new Set(); // every "Class.member" the device touched
    this.observers = [];   // {node, prop, api}
    this.ids = new Map();
    this.nodes = new Map();
    this.nextNoteId = 1;
    this.song = new Node("Song", { current_song_time: 0, is_playing: 0, is_counting_in: 0, signature_numerator: 4,
      signature_denominator: 4, tempo: 120 }, { tracks: [] });
    this.view = this.song.adopt("view", new Node("Song.View", {}, {}));
    this.song.children.view = this.view;
    this.slots = slots;
    for (let t = 0; t < tracks; t++) this.song.children.tracks.push(this.song.adopt("tracks", this.newTrack(t), t));
    this.device = this.addDevice(this.track(deviceTrack), new Node("Device", { name: "Beat Guide",
      class_name: "MxDeviceMidiEffect", type: 4, can_have_chains: 0, can_have_drum_pads: 0 }));
    this.detail = null;        // [track, slot] of the clip in the detail view
    this.highlighted = null;   // [track, slot] of the highlighted clip slot
  }

  track(t) { return this.song.children.tracks[t]; }

  newTrack(t) {
    const track = new Node("Track", { name: `${t + 1} MIDI`, has_midi_input: 1, has_audio_input: 0, arm: 0,
      current_monitoring_state: 1 }, { clip_slots: [], devices: [] });
    for (let s = 0; s < this.slots; s++) {
      track.children.clip_slots.push(track.adopt("clip_slots", new Node("ClipSlot", {}, { clip: null }), s));
    }
    return track;
  }

  // ------------------------------------------------------------------ editing the Set (tracks and scenes)

  reindex(parent, key) { parent.children[key].forEach((c, i) => parent.adopt(key, c, i)); }

  insertTrack(at) {
    const track = this.newTrack(this.song.children.tracks.length);
    this.song.children.tracks.splice(at, 0, track);
    this.reindex(this.song, "tracks");
    return track;
  }

  deleteTrack(t) {
    const [track] = this.song.children.tracks.splice(t, 1);
    track.parent = null;
    this.reindex(this.song, "tracks");
  }

  moveTrack(from, to) {
    const [track] = this.song.children.tracks.splice(from, 1);
    this.song.children.tracks.splice(to, 0, track);
    this.reindex(this.song, "tracks");
  }

  // A scene is a row of clip slots, one on every track.
  insertScene(at) {
    for (const track of this.song.children.tracks) {
      track.children.clip_slots.splice(at, 0, new Node("ClipSlot", {}, { clip: null }));
      this.reindex(track, "clip_slots");
    }
  }

  deleteScene(at) {
    for (const track of this.song.children.tracks) {
      const [slot] = track.children.clip_slots.splice(at, 1);
      slot.parent = null;
      this.reindex(track, "clip_slots");
    }
  }

  // Whether a node is still in the Set (a deleted one reads as id 0, as in Live).
  alive(node) {
    let n = node;
    while (n && n !== this.song) n = n.parent;
    return n === this.song;
  }

  get tracks() {
    return this.song.children.tracks.map((t) => ({ slots: t.children.clip_slots.map((s) => ({ clip: s.children.clip })) }));
  }

  // ------------------------------------------------------------------ building a Set

  addDevice(chain, device, at = chain.children.devices.length) {
    chain.children.devices.splice(at, 0, device);
    chain.children.devices.forEach((d, i) => chain.adopt("devices", d, i));
    this.notify(chain, "devices");
    return device;
  }

  removeDevice(chain, device) {
    chain.children.devices = chain.children.devices.filter((d) => d !== device);
    chain.children.devices.forEach((d, i) => chain.adopt("devices", d, i));
    device.parent = null;
    this.notify(chain, "devices");
  }

  // A Drum Rack with pads {note: name}, appended to `chain` (a track or a rack chain).
  addDrumRack(chain, pads, name = "Drum Rack") {
    const rack = new Node("RackDevice", { name, class_name: "DrumGroupDevice", type: 1, can_have_chains: 1,
      can_have_drum_pads: 1 }, { chains: [], drum_pads: [] });
    for (let n = 0; n < PADS; n++) rack.children.drum_pads.push(rack.adopt("drum_pads", new Node("DrumPad",
      { note: n, mute: 0, solo: 0 }, { chains: [] }), n));
    this.addDevice(chain, rack);
    for (const [note, padName] of Object.entries(pads)) this.fillPad(rack, +note, padName);
    return rack;
  }

  // An Instrument Rack holding `chains` empty chains, appended to `chain`.
  addInstrumentRack(chain, chains = 1, name = "Instrument Rack") {
    const rack = new Node("RackDevice", { name, class_name: "InstrumentGroupDevice", type: 1, can_have_chains: 1,
      can_have_drum_pads: 0 }, { chains: [], drum_pads: [] });
    for (let i = 0; i < chains; i++) {
      rack.children.chains.push(rack.adopt("chains", new Node("Chain", { name: `Chain ${i + 1}` }, { devices: [] }), i));
    }
    return this.addDevice(chain, rack);
  }

  addInstrument(chain, name = "Operator") {
    return this.addDevice(chain, new Node("Device", { name, class_name: name, type: 1, can_have_chains: 0,
      can_have_drum_pads: 0 }));
  }

  addMidiEffect(chain, name = "Arpeggiator") {
    return this.addDevice(chain, new Node("Device", { name, class_name: name, type: 4, can_have_chains: 0,
      can_have_drum_pads: 0 }));
  }

  pad(rack, note) { return rack.children.drum_pads[note]; }

  // Starts or stops the transport, as the Live API reports it to observers.
  setTransport(props) {
    for (const [k, v] of Object.entries(props)) {
      this.song.props[k] = v;
      if (k !== "current_song_time") this.notify(this.song, k);
    }
  }

  // Drops a sample on an empty pad: the rack gains a chain named `name`.
  fillPad(rack, note, name) {
    const chain = new Node("DrumChain", { name, in_note: note, out_note: 60, choke_group: 0 }, { devices: [] });
    rack.children.chains.push(chain);
    rack.children.chains.forEach((c, i) => rack.adopt("chains", c, i));
    this.pad(rack, note).children.chains = [chain];
    this.notify(this.pad(rack, note), "chains");
    this.notify(rack, "chains");
  }

  renamePad(rack, note, name) {
    this.pad(rack, note).children.chains[0].props.name = name;
    this.notify(this.pad(rack, note), "name");
  }

  // Drags a pad onto an empty one, as in Live's Drum Rack view.
  movePad(rack, from, to) {
    const chains = this.pad(rack, from).children.chains;
    this.pad(rack, from).children.chains = [];
    this.pad(rack, to).children.chains = chains;
    for (const c of chains) c.props.in_note = to;
    this.notify(this.pad(rack, from), "chains");
    this.notify(this.pad(rack, to), "chains");
  }

  putClip(track, slot, notes, { name = "user clip", length = 8, audio = false } = {}) {
    const s = this.track(track).children.clip_slots[slot];
    const clip = s.adopt("clip", new Node("Clip", { name, length, looping: 1, is_midi_clip: audio ? 0 : 1,
      is_audio_clip: audio ? 1 : 0 }, {}));
    clip.notes = [];
    s.children.clip = clip;
    this.addNotes(clip, notes);
    return clip;
  }

  addNotes(clip, notes) {
    for (const n of notes) {
      clip.notes.push(Object.assign({ note_id: this.nextNoteId++, duration: 0.25, mute: 0, probability: 1,
        velocity_deviation: 0, release_velocity: 64 }, n));
    }
  }

  // ------------------------------------------------------------------ the object model

  id(node) {
    if (!this.ids.has(node)) {
      this.ids.set(node, this.ids.size + 1);
      this.nodes.set(this.ids.get(node), node);
    }
    return this.ids.get(node);
  }

  canonical(node) {
    if (node === this.song) return "live_set";
    const up = this.canonical(node.parent);
    return node.index === null ? `${up} ${node.key}` : `${up} ${node.key} ${node.index}`;
  }

  // A derived property value (has_clip, a pad's name), or the stored one.
  value(node, prop) {
    if (node.cls === "ClipSlot" && prop === "has_clip") return node.children.clip ? 1 : 0;
    if (node.cls === "RackDevice" && prop === "has_drum_pads") {   // an empty Drum Rack has none
      return node.props.can_have_drum_pads && node.children.chains.length ? 1 : 0;
    }
    if (node.cls === "DrumPad" && prop === "name") return node.children.chains.length ? node.children.chains[0].props.name : "";
    if (node.cls === "Song.View" && prop === "detail_clip") return this.slotAt(this.detail, true);
    if (node.cls === "Song.View" && prop === "highlighted_clip_slot") return this.slotAt(this.highlighted, false);
    return node.props[prop];
  }

  slotAt(where, clip) {
    if (!where) return null;
    const slot = this.track(where[0]).children.clip_slots[where[1]];
    return clip ? slot.children.clip : slot;
  }

  child(node, name) {
    const m = members(node.cls);
    if (!(name in m.children)) throw new Error(`LOM: ${node.cls} has no child '${name}'`);
    this.used.add(`${node.cls}.${name}`);
    if (name === "canonical_parent") return node.parent;
    if (node.cls === "Song.View") return this.value(node, name);
    const c = node.children[name];
    return c === undefined ? (m.children[name].list ? [] : null) : c;
  }

  // A path as LiveAPI takes it -> the node, or null (id 0). A name Live does not have throws.
  resolve(path) {
    const words = String(path).trim().split(/\s+/);
    let node;
    let i = 1;
    if (words[0] === "live_set") node = this.song;
    else if (words[0] === "this_device") node = this.device;
    else if (words[0] === "id") {
      node = this.nodes.get(+words[1]) || null;
      if (node && !this.alive(node)) node = null;
      i = 2;
    }
    else throw new Error(`LOM: unknown root '${words[0]}' in '${path}'`);
    for (; i < words.length && node; i++) {
      const name = words[i];
      const c = this.child(node, name);
      if (Array.isArray(c)) {
        const k = words[++i];
        if (k === undefined || !/^\d+$/.test(k)) throw new Error(`LOM: '${name}' needs an index in '${path}'`);
        node = c[+k] || null;
      } else {
        node = c;
      }
    }
    return node;
  }

  checkProp(node, prop, access) {
    const m = members(node.cls);
    const p = m.props[prop];
    if (!p && !(prop in m.children)) throw new Error(`LOM: ${node.cls} has no property '${prop}'`);
    if (access === "set" && !(p && p.set)) throw new Error(`LOM: ${node.cls}.${prop} is read-only`);
    if (access === "observe" && !(p ? p.observe : true)) throw new Error(`LOM: ${node.cls}.${prop} cannot be observed`);
    this.used.add(`${node.cls}.${prop}`);
  }

  // What get(prop) returns: [value], or ["id", n, ...] for children.
  getValue(node, prop) {
    const m = members(node.cls);
    if (prop in m.children) {
      const c = this.child(node, prop);
      if (Array.isArray(c)) return c.flatMap((x) => ["id", this.id(x)]);
      return ["id", c ? this.id(c) : 0];
    }
    const v = this.value(node, prop);
    if (v === undefined) throw new Error(`LOM stand-in: ${node.cls}.${prop} has no value in this Set`);
    return [v];
  }

  notify(node, prop) {
    for (const o of this.observers.slice()) {
      if (o.node === node && o.prop === prop) o.api.fire(prop);
    }
  }

  // ------------------------------------------------------------------ functions and settable properties

  call(node, fn, args) {
    const m = members(node.cls);
    if (!m.functions.includes(fn)) throw new Error(`LOM: ${node.cls} has no function '${fn}'`);
    this.used.add(`${node.cls}.${fn}`);
    this.calls.push([this.canonical(node), fn, ...args]);
    if (node.cls === "ClipSlot" && fn === "create_clip") {
      if (node.children.clip) throw new Error("create_clip: the slot already holds a clip");
      if (!node.parent.props.has_midi_input) throw new Error("create_clip: not a MIDI track");
      if (!(args[0] > 0)) throw new Error(`create_clip: length ${args[0]}`);
      const clip = node.adopt("clip", new Node("Clip", { name: "", length: args[0], looping: 0, is_midi_clip: 1,
        is_audio_clip: 0 }, {}));
      clip.notes = [];
      node.children.clip = clip;
      this.notify(node, "has_clip");
      return undefined;
    }
    if (node.cls === "Clip" && fn === "get_notes_extended") {
      if (!node.props.is_midi_clip) throw new Error("get_notes_extended: not a MIDI clip");
      if (args.length !== 4) throw new Error("get_notes_extended takes from_pitch, pitch_span, from_time, time_span");
      const [fromPitch, span, fromTime, timeSpan] = args;
      const notes = node.notes.filter((n) => n.pitch >= fromPitch && n.pitch < fromPitch + span &&
        n.start_time >= fromTime && n.start_time < fromTime + timeSpan);
      return JSON.stringify({ notes });   // Max's js gets the dictionary as JSON text
    }
    if (node.cls === "Clip" && fn === "add_new_notes") {
      if (!node.props.is_midi_clip) throw new Error("add_new_notes: not a MIDI clip");
      for (const n of args[0].notes) {
        if (!Number.isInteger(n.pitch) || n.pitch < 0 || n.pitch > 127) throw new Error(`note pitch ${n.pitch}`);
        if (!(n.start_time >= 0 && n.start_time < node.props.length)) {
          throw new Error(`note at ${n.start_time} outside the clip (length ${node.props.length})`);
        }
        if (!(n.duration > 0)) throw new Error(`note duration ${n.duration}`);
        if (n.velocity !== undefined && !(n.velocity >= 0 && n.velocity <= 127)) throw new Error(`note velocity ${n.velocity}`);
      }
      this.addNotes(node, args[0].notes);
      return undefined;
    }
    throw new Error(`LOM stand-in: ${node.cls}.${fn} is documented but not modelled here`);
  }

  set(node, prop, value) {
    this.checkProp(node, prop, "set");
    this.calls.push([this.canonical(node), "set", prop, value]);
    node.props[prop] = value;
    this.notify(node, prop);
  }

  // ------------------------------------------------------------------ Max's LiveAPI class

  liveAPIClass() {
    const live = this;
    return function LiveAPI(callback, path) {
      const api = this;
      const node = live.resolve(path);
      let observed = "";
      api.id = node ? live.id(node) : 0;
      api.path = node ? `"${live.canonical(node)}"` : "";
      api.unquotedpath = node ? live.canonical(node) : "";
      api.type = node ? node.cls : "";
      const need = () => {
        if (!node) throw new Error(`LiveAPI: '${path}' is id 0`);
        if (!live.alive(node)) throw new Error(`LiveAPI: '${path}' was deleted`);
        return node;
      };
      api.get = (prop) => {
        live.checkProp(need(), prop, "get");
        return live.getValue(node, prop);
      };
      api.set = (prop, value) => live.set(need(), prop, value);
      api.call = (fn, ...args) => live.call(need(), fn, args);
      api.getcount = (prop) => {
        const m = members(need().cls);
        if (!(m.children[prop] && m.children[prop].list)) throw new Error(`LOM: ${node.cls}.${prop} is not a list`);
        return live.child(node, prop).length;
      };
      api.fire = (prop) => { if (callback) callback.call(api, [prop, ...live.getValue(node, prop)]); };
      Object.defineProperty(api, "property", {
        get: () => observed,
        set: (prop) => {
          live.observers = live.observers.filter((o) => o.api !== api);
          observed = prop;
          if (prop === "") return;
          live.checkProp(need(), prop, "observe");
          live.observers.push({ node, prop, api });
          api.fire(prop);   // Live reports the current value when observation starts
        },
      });
    };
  }
}

module.exports = { FakeLive, PADS };
