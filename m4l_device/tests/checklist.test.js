// Ableton's Final Checklist (shared/reference/m4l-production-guidelines.md), every item that can be
// checked without Live: on the built (frozen) device's patcher, and on its scripts run against the
// Live Object Model stand-in. The items that need Live are listed in docs/device.md.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, loadDevice, readPatch, load } = require("./helpers.js");

const SPEC = load("bg_spec.js");
const { patch } = readPatch();
const boxes = patch.boxes.map((b) => b.box);
const byId = new Map(boxes.map((b) => [b.id, b]));
const valueof = (b) => (b.saved_attribute_attributes || {}).valueof || {};
const isParam = (b) => b.maxclass.startsWith("live.") || (b.saved_object_attributes || {}).parameter_enable === 1;
const stored = (b) => isParam(b) && valueof(b).parameter_invisible !== 2;
const shown = boxes.filter((b) => b.presentation);
const TEXT_SHOWN = new Set(["comment", "umenu", "number", "textedit", "live.text", "live.menu", "live.numbox", "live.dial"]);
const INTERACTIVE = new Set(["umenu", "number", "textedit", "jsui"]);

test("fonts: every box that shows text uses Ableton Sans, and so does the patcher", () => {
  assert.match(patch.default_fontname, /^Ableton Sans/);
  const texts = shown.filter((b) => TEXT_SHOWN.has(b.maxclass));
  assert.ok(texts.length > 40);
  for (const b of texts) assert.match(b.fontname || "", /^Ableton Sans/, `${b.id} ${b.maxclass} ${b.text || b.varname}`);
});

test("colours: every colour attribute follows the Live theme; plain boxes shown set theirs", () => {
  let themed = 0;
  for (const b of boxes) {
    for (const attr of Object.keys(b).filter((k) => /color$/.test(k))) {
      const expr = ((b.saved_attribute_attributes || {})[attr] || {}).expression || "";
      assert.match(expr, /^themecolor\.live_[a-z_]+$/, `${b.id} ${attr} is a fixed colour`);
      themed++;
    }
  }
  for (const b of shown.filter((x) => ["comment", "umenu", "number", "textedit"].includes(x.maxclass))) {
    assert.ok(b.textcolor, `${b.id} ${b.maxclass} sets a theme text colour`);
  }
  assert.ok(themed > 50);
});

test("comments hold no tab stops (they look different per OS)", () => {
  for (const b of boxes.filter((x) => x.maxclass === "comment")) assert.ok(!/\t/.test(b.text), b.text);
});

test("width and positioning: narrow, whole pixels, inside the strip, equal margins left and right", () => {
  assert.ok(patch.devicewidth <= 760, `${patch.devicewidth} px`);
  for (const b of shown) {
    for (const v of b.presentation_rect) assert.ok(Number.isInteger(v), `${b.id} ${b.presentation_rect}`);
  }
  const left = Math.min(...shown.map((b) => b.presentation_rect[0]));
  const right = Math.max(...shown.map((b) => b.presentation_rect[0] + b.presentation_rect[2]));
  assert.equal(patch.devicewidth - right, left);
});

// The boxes visible in the grid view and in the setup view (the Setup switch's messages say which).
function views() {
  const sel = boxes.find((b) => b.text === "sel 1");
  const msgs = patch.lines.filter((l) => l.patchline.source[0] === sel.id)
    .sort((a, b) => a.patchline.source[1] - b.patchline.source[1]).map((l) => byId.get(l.patchline.destination[0]).text);
  const parse = (text) => text.split(", ").map((m) => m.split(" ")).map(([s, what, name]) => [s, what, name]);
  const [toSetup, toGrid] = msgs.map(parse);
  const hiddenAtLoad = shown.filter((b) => b.hidden === 1).map((b) => b.varname);
  const visible = (changes) => {
    const hidden = new Set(hiddenAtLoad);
    for (const [, what, name] of changes) { if (what === "hide") hidden.add(name); else hidden.delete(name); }
    return shown.filter((b) => !hidden.has(b.varname));
  };
  return { toSetup, toGrid, hiddenAtLoad, grid: visible([]), setup: visible(toSetup), back: visible(toSetup.concat(toGrid)) };
}

test("setup view: a Hidden switch shows the settings in the grid's place and back; the device opens on the grid", () => {
  const sw = boxes.find((b) => b.varname === "bg_setup");
  assert.deepEqual([valueof(sw).parameter_invisible, valueof(sw).parameter_initial], [2, [0]]);
  const { toSetup, toGrid, hiddenAtLoad, grid, setup, back } = views();
  for (const [s] of toSetup.concat(toGrid)) assert.equal(s, "script");
  assert.deepEqual(toSetup.filter(([, w]) => w === "show").map(([, , n]) => n).sort(), [...hiddenAtLoad].sort());
  assert.deepEqual(toGrid.filter(([, w]) => w === "hide").map(([, , n]) => n).sort(), [...hiddenAtLoad].sort());
  for (const n of ["bg_grid", "bg_accents_label", "bg_groove_label"]) {
    assert.ok(grid.some((b) => b.varname === n) && !setup.some((b) => b.varname === n), n);
  }
  assert.deepEqual(back.map((b) => b.id), grid.map((b) => b.id));
  for (const n of ["bg_pad_0", "bg_send_port", "bg_reply_port", "bg_inpitch", "bg_inclass"]) assert.ok(hiddenAtLoad.includes(n), n);
  const g = boxes.find((b) => b.varname === "bg_grid").presentation_rect;
  for (const b of setup.filter((x) => hiddenAtLoad.includes(x.varname))) {
    const [x, y, w, h] = b.presentation_rect;
    assert.ok(x >= g[0] && x + w <= g[0] + g[2] && y >= 0 && y + h <= 169, `${b.varname} lies in the grid's place`);
  }
});

test("no two boxes shown at once overlap, in either view", () => {
  const { grid, setup } = views();
  for (const view of [grid, setup]) {
    for (let i = 0; i < view.length; i++) {
      for (let j = i + 1; j < view.length; j++) {
        const [ax, ay, aw, ah] = view[i].presentation_rect;
        const [bx, by, bw, bh] = view[j].presentation_rect;
        const overlap = ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah;
        assert.ok(!overlap, `${view[i].text || view[i].varname} overlaps ${view[j].text || view[j].varname}`);
      }
    }
  }
});

test("buttons act on Mouse Up, as Live's do, and are Hidden", () => {
  const buttons = boxes.filter((b) => b.maxclass === "live.text" && b.mode === 0);
  assert.equal(buttons.length, 7);
  for (const b of buttons) {
    assert.equal(b.transition, 1, `${b.text}: Mouse Up`);
    assert.equal(valueof(b).parameter_invisible, 2, `${b.text}: Hidden`);
  }
});

test("info: every parameter and every control shown has an Info title and text", () => {
  for (const b of boxes.filter(isParam)) {
    if (valueof(b).parameter_type === 3) continue;   // the state blob: not shown
    assert.ok(valueof(b).parameter_annotation_name && valueof(b).parameter_info, valueof(b).parameter_longname);
  }
  for (const b of shown.filter((x) => isParam(x) || INTERACTIVE.has(x.maxclass) || x.varname === "bg_status")) {
    assert.ok(b.annotation_name && b.annotation && b.annotation.length > 20, `${b.varname} has Info text`);
  }
  assert.ok(patch.description.length > 40, "the device's own description");
});

test("parameters: non-generic long and short names, no auto-indexes, enum labels that say something", () => {
  const generic = /^(live\.[a-z]+|val\d|menu|button|toggle|dial|number)$|\[\d+\]$/;
  for (const b of boxes.filter(isParam)) {
    const v = valueof(b);
    for (const name of [v.parameter_longname, v.parameter_shortname]) assert.ok(name && !generic.test(name), `${b.id}: '${name}'`);
    for (const item of v.parameter_enum || []) assert.ok(!/^val\d$/.test(item), `${v.parameter_longname}: '${item}'`);
  }
});

test("defaults: every parameter shown starts at a stated initial value", () => {
  for (const b of boxes.filter((x) => isParam(x) && x.presentation && x.mode !== 0)) {
    const v = valueof(b);
    assert.equal(v.parameter_initial_enable, 1, v.parameter_longname);
    assert.equal(v.parameter_initial.length, 1, v.parameter_longname);
  }
});

test("modulation: every stored parameter has a mode (Bipolar or Absolute for Float, Absolute for Int and Enum)", () => {
  for (const b of boxes.filter(stored)) {
    const v = valueof(b);
    if (v.parameter_type === 3) continue;   // a blob is not modulated
    const allowed = v.parameter_type === 0 ? [2, 4] : [4];
    assert.ok(allowed.includes(v.parameter_modmode), `${v.parameter_longname}: modmode ${v.parameter_modmode}`);
  }
});

// A device on a drum track, loaded, answered by a server, drawn on, generated with, then reloaded
// from its saved state: everything it does by itself.
function session() {
  const live = new FakeLive();
  live.addDrumRack(live.track(0), { 36: "Kick", 38: "Snare" });
  const dev = loadDevice(live);
  dev.send("bang");
  const ping = dev.sent(0).filter((m) => m[0] === SPEC.addresses.ping).pop();
  const bits = (names, vocabulary) => names.reduce((m, n) => m | (1 << vocabulary.indexOf(n)), 0);
  dev.send(SPEC.addresses.pong, ping[1], SPEC.protocol_version, 1, "agvae2", bits(["groove", "score"], SPEC.gestures),
    bits(SPEC.lane_modes, SPEC.lane_modes), bits(SPEC.latent_sources, SPEC.latent_sources),
    bits(["score", "groove"], SPEC.gestures), SPEC.needs.indexOf("score_or_groove"));
  dev.send("model", 0);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  dev.tick();
  return dev;
}

test("undo: the device never sets a stored Live parameter itself (it only enables and disables them)", () => {
  for (const l of patch.lines) {
    const dst = byId.get(l.patchline.destination[0]);
    assert.ok(!stored(dst) || dst.maxclass === "newobj", `a cord sets ${valueof(dst).parameter_longname}`);
  }
  const dev = session();
  let seen = 0;
  for (const b of boxes.filter((x) => stored(x) && x.maxclass.startsWith("live.") && x.varname)) {
    const fake = dev.ctx.patcher.getnamed(b.varname);
    for (const [selector] of fake.messages) assert.equal(selector, "active", `${b.varname} got '${selector}'`);
    seen += fake.messages.length;
  }
  assert.ok(seen > 9, "the lane modes and latents were enabled or disabled");
});

test("console: nothing is printed to the Max Console on load and in use", () => {
  const dev = session();
  assert.deepEqual(dev.posts, []);
});
