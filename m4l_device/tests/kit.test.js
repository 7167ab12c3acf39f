// The kit map (bg_kit.js): lanes to Drum Rack pads by name, GM notes as fallback, overrides.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { load } = require("./helpers.js");

const core = load("bg_core.js");
const kit = load("bg_kit.js");
const SPEC = core.BG_SPEC;
const LANES = SPEC.classes.length;
const NO_OVERRIDE = new Array(LANES).fill(-1);
const AUTO = new Array(128).fill(core.BG_AUTO);
const lane = (name) => SPEC.classes.indexOf(name);

test("pad names: the usual spellings of each drum", () => {
  const cases = {
    kick: ["Kick 808", "BD Deep", "Bass Drum", "kik 2", "909 KICK"],
    snare: ["Snare", "SD 1", "Clap", "snr-tight", "Rimshot", "Snare Rim"],
    closed_hihat: ["Closed Hat", "HH Closed", "Hihat", "CH", "Hi-Hat", "Pedal Hat"],
    open_hihat: ["Open Hat", "OH", "HH Open", "Hat Open 2"],
    low_tom: ["Low Tom", "Floor Tom", "Tom Lo"],
    mid_tom: ["Mid Tom", "Tom Mid"],
    high_tom: ["Hi Tom", "High Tom"],
    crash: ["Crash", "China", "Splash 10", "Cymbal"],
    ride: ["Ride", "Ride Bell", "Ride Cymbal"],
    tom: ["Tom 1", "TOM"],
    "": ["Perc 2", "Cowbell", "Shaker", "C1", ""],
  };
  for (const [kind, names] of Object.entries(cases)) {
    for (const n of names) assert.equal(kit.bgPadKind(n), kind, n);
  }
});

test("a kit with renamed and moved pads: every lane finds its pad by name", () => {
  const pads = [
    { note: 36, name: "Perc 1" }, { note: 37, name: "BD Deep" }, { note: 40, name: "Clap" }, { note: 41, name: "Snare 2" },
    { note: 44, name: "Closed Hat" }, { note: 47, name: "Hat Open" }, { note: 50, name: "Tom 1" }, { note: 52, name: "Tom 2" },
    { note: 53, name: "Tom 3" }, { note: 60, name: "Crash" }, { note: 61, name: "Ride" },
  ];
  const m = kit.bgKitMap(pads, NO_OVERRIDE, AUTO);
  assert.deepEqual(m.lanes.map((l) => [l.note, l.source]), [[37, "pad"], [40, "pad"], [44, "pad"], [47, "pad"],
    [50, "pad"], [52, "pad"], [53, "pad"], [60, "pad"], [61, "pad"]]);
  assert.deepEqual(kit.bgOutputPitches(m), [37, 40, 44, 47, 50, 52, 53, 60, 61]);
  // clips are read through the same map: every named pad reads as its lane, the rest as GM says
  assert.equal(m.inputMap[41], lane("snare"));
  assert.equal(m.inputMap[61], lane("ride"));
  assert.equal(m.inputMap[36], lane("kick"));   // "Perc 1": no name match, GM 36 is a kick
  assert.equal(m.inputMap[38], lane("snare"));  // no pad at 38: GM
  assert.equal(m.inputMap[53], lane("high_tom"));   // GM would read 53 (ride bell) as ride
});

test("lanes no pad name claims fall back to the GM note; a GM pad named for another drum is not taken", () => {
  const pads = [{ note: 36, name: "Kick" }, { note: 38, name: "Snare" }, { note: 42, name: "Hat" },
    { note: 45, name: "Clap" }, { note: 49, name: "FX" }];
  const m = kit.bgKitMap(pads, NO_OVERRIDE, AUTO);
  assert.deepEqual(m.lanes[lane("crash")], { note: 49, name: "FX", source: "gm" });
  assert.deepEqual(m.lanes[lane("low_tom")], { note: 45, name: "", source: "empty" });   // 45 is the clap
  assert.deepEqual(m.lanes[lane("ride")], { note: 51, name: "", source: "empty" });
  assert.equal(m.inputMap[45], lane("snare"));
  assert.match(kit.bgKitSummary(m, "Kit"), /^Drum Rack 'Kit': 3 lanes by pad name, by GM note: crash; no pad for open HH A#1, low tom A1, mid tom C2, high tom D2, ride D#2$/);
});

test("without a Drum Rack every lane is its GM note", () => {
  const m = kit.bgKitMap(null, NO_OVERRIDE, AUTO);
  assert.deepEqual(kit.bgOutputPitches(m), SPEC.pitches.output);
  assert.ok(m.lanes.every((l) => l.source === "gm"));
  assert.deepEqual(m.inputMap, core.bgDefaultInputMap());
});

test("the producer's choices win: a lane's pad, a pitch's lane or not read", () => {
  const pads = [{ note: 36, name: "Kick A" }, { note: 37, name: "Kick B" }, { note: 38, name: "Snare" }];
  const over = NO_OVERRIDE.slice();
  over[lane("kick")] = 37;
  over[lane("ride")] = 90;                 // a note without a pad: kept, shown as such
  const input = AUTO.slice();
  input[38] = core.BG_NOT_READ;
  input[90] = lane("crash");
  const m = kit.bgKitMap(pads, over, input);
  assert.deepEqual(m.lanes[lane("kick")], { note: 37, name: "Kick B", source: "override" });
  assert.equal(m.lanes[lane("ride")].note, 90);
  assert.equal(m.inputMap[36], lane("kick"));
  assert.equal(m.inputMap[38], core.BG_NOT_READ);
  assert.equal(m.inputMap[90], lane("crash"));
});

test("pad menus: auto first (saying what auto gives), then every pad; a chosen pad that emptied stays shown", () => {
  const pads = [{ note: 36, name: "Kick" }, { note: 38, name: "Snare" }];
  const auto = kit.bgKitMap(pads, NO_OVERRIDE, AUTO);
  let menu = kit.bgPadMenu(auto, auto, pads, lane("kick"));
  assert.deepEqual(menu.items, ["auto: C1 Kick", "C1 Kick", "D1 Snare"]);
  assert.deepEqual(menu.notes, [-1, 36, 38]);
  assert.equal(menu.selected, 0);
  const over = NO_OVERRIDE.slice();
  over[lane("kick")] = 40;
  menu = kit.bgPadMenu(kit.bgKitMap(pads, over, AUTO), auto, pads, lane("kick"));
  assert.equal(menu.items[menu.selected], "E1 (no pad)");
  const none = kit.bgKitMap(null, NO_OVERRIDE, AUTO);
  menu = kit.bgPadMenu(none, none, null, lane("snare"));
  assert.equal(menu.items.length, 129);
  assert.equal(menu.items[0], "auto: D1 (GM)");
  assert.equal(menu.items[1 + 60], "C3 60");
});

test("note names as Live shows them", () => {
  assert.deepEqual([0, 36, 60, 61, 127].map(kit.bgNoteName), ["C-2", "C1", "C3", "C#3", "G8"]);
  assert.deepEqual(SPEC.classes.map((_, c) => kit.bgLaneLabel(c)),
    ["kick", "snare", "closed HH", "open HH", "low tom", "mid tom", "high tom", "crash", "ride"]);
});
