// The Live Object Model classes the device may touch: children, properties and functions, as
// Cycling '74's LOM reference documents them (https://docs.cycling74.com/apiref/lom/, Live 12).
// The stand-in in fake_live.js refuses anything not listed here, so a misspelt property fails a test.
"use strict";

// children: name -> {list: bool, cls}; props: name -> {set: bool, observe: bool}; functions: names.
function cls(spec) {
  const out = { children: {}, props: {}, functions: spec.functions || [], base: spec.base || null };
  for (const [name, c] of Object.entries(spec.children || {})) out.children[name] = c;
  for (const [name, access] of Object.entries(spec.props || {})) {
    out.props[name] = { set: access.includes("set"), observe: access.includes("observe") };
  }
  return out;
}

const R = "get", RO = "get observe", RW = "get set", RWO = "get set observe";

const LOM = {
  Song: cls({
    children: {
      tracks: { list: true, cls: "Track" }, return_tracks: { list: true, cls: "Track" },
      master_track: { cls: "Track" }, scenes: { list: true, cls: "Scene" }, view: { cls: "Song.View" },
      visible_tracks: { list: true, cls: "Track" }, cue_points: { list: true, cls: "CuePoint" },
    },
    props: {
      current_song_time: RWO, is_playing: RWO, is_counting_in: RO, signature_numerator: RWO, signature_denominator: RWO, tempo: RWO,
      loop: RWO, loop_start: RWO, loop_length: RWO, metronome: RWO, record_mode: RWO, song_length: RO,
    },
    functions: ["start_playing", "stop_playing", "continue_playing", "create_midi_track", "create_scene",
      "get_current_beats_song_time", "undo", "redo"],
  }),
  "Song.View": cls({
    children: {
      detail_clip: { cls: "Clip" }, highlighted_clip_slot: { cls: "ClipSlot" }, selected_track: { cls: "Track" },
      selected_scene: { cls: "Scene" }, selected_chain: { cls: "Chain" }, selected_parameter: { cls: "DeviceParameter" },
    },
    props: { draw_mode: RWO, follow_song: RWO },
    functions: ["select_device"],
  }),
  Track: cls({
    children: {
      clip_slots: { list: true, cls: "ClipSlot" }, devices: { list: true, cls: "Device" },
      arrangement_clips: { list: true, cls: "Clip" }, canonical_parent: { cls: "Song" },
    },
    props: {
      name: RWO, color: RWO, has_midi_input: R, has_audio_input: R, has_midi_output: R, has_audio_output: R,
      mute: RWO, solo: RWO, arm: RWO, can_be_armed: R, is_foldable: R, is_grouped: R, playing_slot_index: RO,
      fired_slot_index: RO, current_monitoring_state: RWO, input_routing_type: RWO,
    },
    functions: ["delete_clip", "delete_device", "duplicate_clip_slot", "stop_all_clips"],
  }),
  ClipSlot: cls({
    children: { clip: { cls: "Clip" }, canonical_parent: { cls: "Track" } },
    props: {
      has_clip: RO, has_stop_button: RWO, is_group_slot: R, is_playing: R, is_recording: R, is_triggered: RO,
      playing_status: RO, color: RO, color_index: RO, controls_other_clips: RO, will_record_on_start: R,
    },
    functions: ["create_clip", "delete_clip", "duplicate_clip_to", "fire", "set_fire_button_state", "stop"],
  }),
  Clip: cls({
    children: { canonical_parent: { cls: "ClipSlot" } },
    props: {
      name: RWO, length: R, looping: RWO, is_midi_clip: R, is_audio_clip: R, loop_start: RWO, loop_end: RWO,
      start_marker: RWO, end_marker: RWO, start_time: R, end_time: RO, color: RWO, color_index: RWO,
      is_playing: RW, is_recording: RO, muted: RWO, signature_numerator: RWO, signature_denominator: RWO,
    },
    functions: ["add_new_notes", "get_notes_extended", "get_all_notes_extended", "get_selected_notes_extended",
      "remove_notes_extended", "apply_note_modifications", "duplicate_loop", "fire", "stop", "select_all_notes",
      "deselect_all_notes", "clear_envelope"],
  }),
  Device: cls({
    children: { parameters: { list: true, cls: "DeviceParameter" }, canonical_parent: { cls: "Chain" } },
    props: {
      name: RWO, class_name: R, class_display_name: R, type: R, can_have_chains: R, can_have_drum_pads: R,
      is_active: RO,
    },
    functions: ["store_chosen_bank"],
  }),
  RackDevice: cls({
    base: "Device",
    children: {
      chains: { list: true, cls: "Chain" }, drum_pads: { list: true, cls: "DrumPad" },
      visible_drum_pads: { list: true, cls: "DrumPad" }, return_chains: { list: true, cls: "Chain" },
    },
    props: {
      has_drum_pads: RO, can_show_chains: R, is_showing_chains: RWO, has_macro_mappings: RO,
      variation_count: RO, selected_variation_index: RW, visible_macro_count: RO,
    },
    functions: ["copy_pad", "insert_chain", "randomize_macros", "store_variation", "recall_selected_variation"],
  }),
  Chain: cls({
    children: { devices: { list: true, cls: "Device" }, canonical_parent: { cls: "Device" } },
    props: { name: RWO, color: RWO, color_index: RWO, mute: RWO, solo: RWO, muted_via_solo: RO, is_auto_colored: RWO },
    functions: ["delete_device"],
  }),
  DrumChain: cls({ base: "Chain", props: { in_note: RWO, out_note: RWO, choke_group: RWO } }),
  DrumPad: cls({
    children: { chains: { list: true, cls: "DrumChain" }, canonical_parent: { cls: "RackDevice" } },
    props: { mute: RWO, name: RO, note: R, solo: RWO },
    functions: ["delete_all_chains"],
  }),
};

// A class with its bases' members.
function members(name) {
  const c = LOM[name];
  if (!c) throw new Error(`LOM: no class ${name}`);
  if (!c.base) return c;
  const b = members(c.base);
  return {
    children: { ...b.children, ...c.children }, props: { ...b.props, ...c.props },
    functions: [...b.functions, ...c.functions],
  };
}

// Every member name of every class (for the static check of the scripts).
function allNames() {
  const names = new Set(["live_set", "this_device", "id"]);
  for (const name of Object.keys(LOM)) {
    const m = members(name);
    for (const k of [...Object.keys(m.children), ...Object.keys(m.props), ...m.functions]) names.add(k);
  }
  return names;
}

module.exports = { LOM, members, allNames };
