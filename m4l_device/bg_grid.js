// Beat Guide grid (jsui, ES5): the score lanes x steps with the model's reading of the score as
// ghost cells, an accent row and a groove strip. Clicks go out as "cell lane step on" /
// "accent step on"; beatguide.js owns the state and sends it back. Sizes come from the drawing
// area (mgraphics.size), so the grid fits whatever rectangle the box is shown at.

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
// Live-like colours
var BG = [0.16, 0.16, 0.16, 1];
var BEAT = [0.22, 0.22, 0.22, 1];
var ON = [1.0, 0.65, 0.18, 1];
var GHOST = [0.45, 0.7, 0.85, 1];
var ACCENT = [0.95, 0.85, 0.3, 1];
var TAP = [0.55, 0.85, 0.55, 1];
var OFF_ALPHA = 0.3;   // a part the current model does not take is drawn faded

var score = [];
var ghost = [];
var accents = 0;
var groove = { mask: 0, velocities: [], offsets: [] };
var enabled = { score: 1, accents: 1, groove: 1 };

function bit(mask, s) { return (mask >>> s) & 1; }

function colour(c, on) { return on ? c : [c[0], c[1], c[2], c[3] * OFF_ALPHA]; }

function geometry() {
    var size = mgraphics.size;
    var w = size[0], h = size[1];
    return { cw: w / STEPS, rh: (h - ACCENT_H - GROOVE_H) / LANES, w: w, h: h };
}

function paint() {
    var g = geometry();
    var s, c;
    mgraphics.set_source_rgba(BG);
    mgraphics.rectangle(0, 0, g.w, g.h);
    mgraphics.fill();
    for (s = 0; s < STEPS; s += BEAT_STEPS) {
        mgraphics.set_source_rgba(BEAT);
        mgraphics.rectangle(s * g.cw, 0, g.cw, LANES * g.rh);
        mgraphics.fill();
    }
    for (c = 0; c < LANES; c++) {
        for (s = 0; s < STEPS; s++) {
            var x = s * g.cw + 1, y = c * g.rh + 1;
            if (bit(score[c], s)) {
                mgraphics.set_source_rgba(colour(ON, enabled.score));
                mgraphics.rectangle(x, y, g.cw - 2, g.rh - 2);
                mgraphics.fill();
            }
            if (bit(ghost[c], s)) {
                mgraphics.set_source_rgba(GHOST);
                mgraphics.rectangle(x + 1, y + 1, g.cw - 4, g.rh - 4);
                mgraphics.stroke();
            }
        }
    }
    var ay = LANES * g.rh;
    for (s = 0; s < STEPS; s++) {
        if (!bit(accents, s)) continue;
        mgraphics.set_source_rgba(colour(ACCENT, enabled.accents));
        mgraphics.rectangle(s * g.cw + 1, ay + 1, g.cw - 2, ACCENT_H - 2);
        mgraphics.fill();
    }
    var gy = ay + ACCENT_H;
    for (s = 0; s < STEPS; s++) {
        if (!bit(groove.mask, s)) continue;
        var bh = Math.max(1, groove.velocities[s] * (GROOVE_H - 2));
        var bx = (s + 0.5 + groove.offsets[s] / 2) * g.cw;
        mgraphics.set_source_rgba(colour(TAP, enabled.groove));
        mgraphics.rectangle(bx - 1, gy + GROOVE_H - 1 - bh, 2, bh);
        mgraphics.fill();
    }
}

function onclick(x, y) {
    var g = geometry();
    var s = Math.floor(x / g.cw);
    if (s < 0 || s >= STEPS || y < 0) return;
    if (y < LANES * g.rh) {
        var c = Math.floor(y / g.rh);
        outlet(0, "cell", c, s, bit(score[c], s) ? 0 : 1);
    } else if (y < LANES * g.rh + ACCENT_H) {
        outlet(0, "accent", s, bit(accents, s) ? 0 : 1);
    }
}
onclick.local = 1;

function onresize() { mgraphics.redraw(); }
onresize.local = 1;

function anything() {
    var a = arrayfromargs(arguments);
    if (messagename === "score") score = a;
    else if (messagename === "ghost") ghost = a;
    else if (messagename === "accents") accents = a[0];
    else if (messagename === "groove") groove = { mask: a[0], velocities: a.slice(1, 1 + STEPS), offsets: a.slice(1 + STEPS) };
    else if (messagename === "enable") enabled = { score: a[0], accents: a[1], groove: a[2] };
    mgraphics.redraw();
}
