// Beat Guide grid (jsui, ES5): the score lanes x steps with the model's reading of the score as
// ghost cells, an accent row and a groove strip. A click toggles a cell; dragging paints the cells
// it crosses with the value of the first, as Live's own step editors do. Edits go out as
// "cell lane step on" / "accent step on"; beatguide.js owns the state and sends it back. Sizes
// come from the drawing area (mgraphics.size), so the grid fits whatever rectangle it is shown at.
// Colours are the Live theme's, read at every paint.

inlets = 1;
outlets = 1;
mgraphics.init();
mgraphics.relative_coords = 0;
mgraphics.autofill = 0;

include("bg_spec.js");

var STEPS = BG_SPEC.grid.steps;
var LANES = BG_SPEC.classes.length;
var BEAT_STEPS = BG_SPEC.grid.steps_per_beat;
var ACCENT_H = jsarguments[1];   // heights of the accent row and the groove strip (patcher.py)
var GROOVE_H = jsarguments[2];
var OFF_ALPHA = 0.3;             // a part the current model does not take is drawn faded
var BEAT_ALPHA = 0.08;           // the first beat of each group of steps, shaded with the hit colour

// What each part of the grid is drawn in: Live theme colour names (Max's `live_*` names; [live.colors]
// reports the same without the prefix).
var ROLES = {
    background: "live_lcd_bg",
    hit: "live_lcd_control_fg",
    ghost: "live_lcd_control_fg_alt",
    accent: "live_control_selection",
    tap: "live_lcd_control_fg_alt",
    off: "live_lcd_control_fg_zombie"
};
// The theme as [live.colors] reported it when the device loaded (Max before 8.6 cannot be asked).
var reported = {};

var score = [];
var ghost = [];
var accents = 0;
var groove = { mask: 0, velocities: [], offsets: [] };
var enabled = { score: 1, accents: 1, groove: 1 };
var deviceOn = 1;
var painting = null;             // while the mouse is down: {row: "lane" | "accent", on: 0 | 1}

function bit(mask, s) { return (mask >>> s) & 1; }

// The theme colour of a role: asked of Max where it can answer (it follows a theme change at once),
// else as [live.colors] reported it. Drawn in the disabled colour while the device is off.
function colour(role, on) {
    var name = ROLES[deviceOn || role === "background" ? role : "off"];
    var c = (typeof max !== "undefined" && typeof max.getcolor === "function") ? max.getcolor(name) : reported[name];
    if (!c || c.length < 3) c = reported[name] || [0.5, 0.5, 0.5, 1];
    var alpha = c.length > 3 ? c[3] : 1;
    return [c[0], c[1], c[2], on === undefined || on ? alpha : alpha * OFF_ALPHA];
}

function geometry() {
    var size = mgraphics.size;
    var w = size[0], h = size[1];
    return { cw: w / STEPS, rh: (h - ACCENT_H - GROOVE_H) / LANES, w: w, h: h };
}

function paint() {
    var g = geometry();
    var s, c;
    mgraphics.set_source_rgba(colour("background"));
    mgraphics.rectangle(0, 0, g.w, g.h);
    mgraphics.fill();
    var shade = colour("hit");
    mgraphics.set_source_rgba(shade[0], shade[1], shade[2], BEAT_ALPHA);
    for (s = 0; s < STEPS; s += 2 * BEAT_STEPS) {
        mgraphics.rectangle(s * g.cw, 0, BEAT_STEPS * g.cw, LANES * g.rh);
        mgraphics.fill();
    }
    for (c = 0; c < LANES; c++) {
        for (s = 0; s < STEPS; s++) {
            var x = s * g.cw + 1, y = c * g.rh + 1;
            if (bit(score[c], s)) {
                mgraphics.set_source_rgba(colour("hit", enabled.score));
                mgraphics.rectangle(x, y, g.cw - 2, g.rh - 2);
                mgraphics.fill();
            }
            if (bit(ghost[c], s)) {
                mgraphics.set_source_rgba(colour("ghost"));
                mgraphics.rectangle(x + 1, y + 1, g.cw - 4, g.rh - 4);
                mgraphics.stroke();
            }
        }
    }
    var ay = LANES * g.rh;
    for (s = 0; s < STEPS; s++) {
        if (!bit(accents, s)) continue;
        mgraphics.set_source_rgba(colour("accent", enabled.accents));
        mgraphics.rectangle(s * g.cw + 1, ay + 1, g.cw - 2, ACCENT_H - 2);
        mgraphics.fill();
    }
    var gy = ay + ACCENT_H;
    for (s = 0; s < STEPS; s++) {
        if (!bit(groove.mask, s)) continue;
        var bh = Math.max(1, groove.velocities[s] * (GROOVE_H - 2));
        var bx = (s + 0.5 + groove.offsets[s] / 2) * g.cw;
        mgraphics.set_source_rgba(colour("tap", enabled.groove));
        mgraphics.rectangle(bx - 1, gy + GROOVE_H - 1 - bh, 2, bh);
        mgraphics.fill();
    }
}

// The cell under (x, y): {row: "lane", lane, step}, {row: "accent", step}, or null (groove strip, outside).
function cellAt(x, y) {
    var g = geometry();
    var s = Math.floor(x / g.cw);
    if (s < 0 || s >= STEPS || y < 0) return null;
    if (y < LANES * g.rh) return { row: "lane", lane: Math.floor(y / g.rh), step: s };
    if (y < LANES * g.rh + ACCENT_H) return { row: "accent", step: s };
    return null;
}

function isOn(cell) { return cell.row === "lane" ? bit(score[cell.lane], cell.step) : bit(accents, cell.step); }

// Sets one cell here (so a drag does not send it twice) and tells beatguide.js.
function setCell(cell, on) {
    if (cell.row === "lane") {
        score[cell.lane] = on ? (score[cell.lane] | (1 << cell.step)) : (score[cell.lane] & ~(1 << cell.step));
        outlet(0, "cell", cell.lane, cell.step, on);
    } else {
        accents = on ? (accents | (1 << cell.step)) : (accents & ~(1 << cell.step));
        outlet(0, "accent", cell.step, on);
    }
    mgraphics.redraw();
}

function onclick(x, y) {
    var cell = cellAt(x, y);
    if (painting !== null) outlet(0, "stroke", 0);   // a press whose release never came: close it
    if (cell === null) { painting = null; return; }
    painting = { row: cell.row, on: isOn(cell) ? 0 : 1 };
    outlet(0, "stroke", 1);   // beatguide.js saves the stroke once, at release: one undo step
    setCell(cell, painting.on);
}
onclick.local = 1;

// Called while the mouse moves with the button down, and once with button 0 when it is released.
function ondrag(x, y, button) {
    if (!button) {
        if (painting !== null) outlet(0, "stroke", 0);
        painting = null;
        return;
    }
    if (painting === null) return;
    var cell = cellAt(x, y);
    if (cell === null || cell.row !== painting.row || isOn(cell) === painting.on) return;
    setCell(cell, painting.on);
}
ondrag.local = 1;

function onresize() { mgraphics.redraw(); }
onresize.local = 1;

// active 0 | 1: from [live.thisdevice], whether the device is switched on.
function active(on) {
    deviceOn = on ? 1 : 0;
    mgraphics.redraw();
}

// theme <name> r g b a: a colour of the Live theme from [live.colors].
function theme(name, r, g, b, a) {
    reported["live_" + name] = [r, g, b, a === undefined ? 1 : a];
    mgraphics.redraw();
}

function anything() {
    var a = arrayfromargs(arguments);
    if (messagename === "score") score = a;
    else if (messagename === "ghost") ghost = a;
    else if (messagename === "accents") accents = a[0];
    else if (messagename === "groove") groove = { mask: a[0], velocities: a.slice(1, 1 + STEPS), offsets: a.slice(1 + STEPS) };
    else if (messagename === "enable") enabled = { score: a[0], accents: a[1], groove: a[2] };
    mgraphics.redraw();
}
