// bg_grid.js (the jsui) in a sandbox: click and drag painting, and drawing in the Live theme's colours.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const { scriptsDir, load } = require("./helpers.js");

const SPEC = load("bg_spec.js");
const LANES = SPEC.classes.length;
const W = 320, ROW = 14, ACCENT_H = 9, GROOVE_H = 22;
const H = ROW * LANES + ACCENT_H + GROOVE_H;
const CW = W / SPEC.grid.steps;

// A distinct colour per theme name, so every drawn colour can be traced to the name it came from.
function themeColour(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 997;
  return [h / 997, (h * 7 % 997) / 997, (h * 13 % 997) / 997, 1];
}

// Loads the jsui script with a recording mgraphics; `getcolor` false: Max before 8.6 (no max.getcolor).
function loadGrid({ getcolor = true } = {}) {
  const out = [];
  const drawn = [];
  const asked = [];
  const mgraphics = {
    size: [W, H], init() {}, redraw() {}, rectangle() {}, fill() {}, stroke() {},
    set_source_rgba(...c) { drawn.push(c.length === 1 ? c[0] : c); },
  };
  const ctx = {
    inlets: 0, outlets: 0, jsarguments: ["bg_grid.js", ACCENT_H, GROOVE_H], mgraphics,
    outlet: (n, ...args) => out.push(args),
    arrayfromargs: (a) => Array.prototype.slice.call(a),
    Math,
  };
  if (getcolor) ctx.max = { getcolor: (name) => { asked.push(name); return themeColour(name); } };
  ctx.include = (name) => vm.runInContext(fs.readFileSync(path.join(scriptsDir(), name), "utf8"), ctx, { filename: name });
  vm.createContext(ctx);
  vm.runInContext(fs.readFileSync(path.join(scriptsDir(), "bg_grid.js"), "utf8"), ctx, { filename: "bg_grid.js" });
  const at = (lane, step) => [step * CW + CW / 2, lane * ROW + ROW / 2];
  const accentAt = (step) => [step * CW + CW / 2, LANES * ROW + ACCENT_H / 2];
  return { ctx, out, drawn, asked, at, accentAt };
}

test("a click toggles a cell; dragging paints the cells it crosses with the first cell's new value, once each", () => {
  const g = loadGrid();
  g.ctx.onclick(...g.at(0, 0));
  g.ctx.ondrag(...g.at(0, 0), 1);          // still on the first cell: nothing new
  g.ctx.ondrag(...g.at(0, 1), 1);
  g.ctx.ondrag(...g.at(1, 2), 1);          // across lanes too
  g.ctx.ondrag(...g.at(1, 2), 1);
  g.ctx.ondrag(...g.accentAt(3), 1);       // not into the accent row
  g.ctx.ondrag(...g.at(1, 3), 0);          // released
  g.ctx.ondrag(...g.at(1, 4), 1);          // a drag after release paints nothing
  assert.deepEqual(g.out, [["stroke", 1], ["cell", 0, 0, 1], ["cell", 0, 1, 1], ["cell", 1, 2, 1], ["stroke", 0]]);
});

test("starting on a hit erases: the drag clears hits and leaves empty cells alone", () => {
  const g = loadGrid();
  g.ctx.messagename = "score";
  g.ctx.anything(0b101, ...Array(LANES - 1).fill(0));   // kick on steps 0 and 2
  g.ctx.onclick(...g.at(0, 0));
  g.ctx.ondrag(...g.at(0, 1), 1);
  g.ctx.ondrag(...g.at(0, 2), 1);
  assert.deepEqual(g.out, [["stroke", 1], ["cell", 0, 0, 0], ["cell", 0, 2, 0]]);
});

test("accents paint along the accent row; the groove strip takes no clicks", () => {
  const g = loadGrid();
  g.ctx.onclick(...g.accentAt(4));
  g.ctx.ondrag(...g.accentAt(5), 1);
  g.ctx.ondrag(...g.at(2, 6), 1);
  g.ctx.onclick(W / 2, H - 2);
  g.ctx.ondrag(W / 2 + CW, H - 2, 1);
  assert.deepEqual(g.out, [["stroke", 1], ["accent", 4, 1], ["accent", 5, 1], ["stroke", 0]]);
});

// Every colour drawn, matched to the theme name it came from (alpha aside).
function names(g) {
  const all = Object.values({
    a: "live_lcd_bg", b: "live_lcd_control_fg", c: "live_lcd_control_fg_alt", d: "live_control_selection",
    e: "live_lcd_control_fg_zombie",
  });
  return g.drawn.map((c) => all.find((n) => themeColour(n).slice(0, 3).every((v, i) => Math.abs(v - c[i]) < 1e-9)) || `fixed ${c}`);
}

function drawAll(g) {
  g.ctx.messagename = "score"; g.ctx.anything(1, ...Array(LANES - 1).fill(0));
  g.ctx.messagename = "ghost"; g.ctx.anything(2, ...Array(LANES - 1).fill(0));
  g.ctx.messagename = "accents"; g.ctx.anything(1);
  const steps = SPEC.grid.steps;
  g.ctx.messagename = "groove"; g.ctx.anything(1, 0.8, ...Array(steps - 1).fill(0), 0.1, ...Array(steps - 1).fill(0));
  g.ctx.paint();
}

test("every colour drawn is a Live theme colour, asked of Max at each paint", () => {
  const g = loadGrid();
  drawAll(g);
  const used = names(g);
  assert.ok(!used.some((n) => n.startsWith("fixed")), used.join(" "));
  for (const n of ["live_lcd_bg", "live_lcd_control_fg", "live_lcd_control_fg_alt", "live_control_selection"]) {
    assert.ok(used.includes(n), n);
  }
  for (const n of g.asked) assert.match(n, /^live_[a-z_]+$/);
});

test("switched off, the device draws in the theme's disabled colour", () => {
  const g = loadGrid();
  g.ctx.active(0);
  drawAll(g);
  assert.deepEqual([...new Set(names(g))].sort(), ["live_lcd_bg", "live_lcd_control_fg_zombie"]);
});

test("without max.getcolor (Max before 8.6) the colours come from [live.colors]", () => {
  const g = loadGrid({ getcolor: false });
  for (const n of ["lcd_bg", "lcd_control_fg", "lcd_control_fg_alt", "control_selection", "lcd_control_fg_zombie"]) {
    g.ctx.theme(n, ...themeColour(`live_${n}`));
  }
  drawAll(g);
  const used = names(g);
  assert.ok(!used.some((n) => n.startsWith("fixed")), used.join(" "));
  assert.ok(used.includes("live_lcd_control_fg"));
});
