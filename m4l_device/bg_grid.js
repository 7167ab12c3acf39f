// Beat Guide grid (jsui, ES5): 9 score lanes x 32 steps with the model's reading of the score
// as ghost cells, an accent row and a groove strip. Clicks go out as "cell lane step on" /
// "accent step on"; beatguide.js owns the state and sends it back.

inlets = 1;
outlets = 1;
mgraphics.init();
mgraphics.relative_coords = 0;
mgraphics.autofill = 0;

var score = [0, 0, 0, 0, 0, 0, 0, 0, 0];
var ghost = [0, 0, 0, 0, 0, 0, 0, 0, 0];
var accents = 0;
var groove = { mask: 0, velocities: [], offsets: [] };
var ACCENT_H = 9;
var GROOVE_H = 22;
// Live-like colours
var BG = [0.16, 0.16, 0.16, 1];
var BEAT = [0.22, 0.22, 0.22, 1];
var ON = [1.0, 0.65, 0.18, 1];
var GHOST = [0.45, 0.7, 0.85, 1];
var ACCENT = [0.95, 0.85, 0.3, 1];
var TAP = [0.55, 0.85, 0.55, 1];

function bit(mask, s) { return (mask >>> s) & 1; }

function geometry() {
    var w = box.rect[2] - box.rect[0];
    var h = box.rect[3] - box.rect[1];
    return { cw: w / 32, rh: (h - ACCENT_H - GROOVE_H) / 9, w: w, h: h };
}

function paint() {
    var g = geometry();
    var s, c;
    mgraphics.set_source_rgba(BG);
    mgraphics.rectangle(0, 0, g.w, g.h);
    mgraphics.fill();
    for (s = 0; s < 32; s += 4) {
        mgraphics.set_source_rgba(BEAT);
        mgraphics.rectangle(s * g.cw, 0, g.cw, 9 * g.rh);
        mgraphics.fill();
    }
    for (c = 0; c < 9; c++) {
        for (s = 0; s < 32; s++) {
            var x = s * g.cw + 1, y = c * g.rh + 1;
            if (bit(score[c], s)) {
                mgraphics.set_source_rgba(ON);
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
    var ay = 9 * g.rh;
    for (s = 0; s < 32; s++) {
        if (!bit(accents, s)) continue;
        mgraphics.set_source_rgba(ACCENT);
        mgraphics.rectangle(s * g.cw + 1, ay + 1, g.cw - 2, ACCENT_H - 2);
        mgraphics.fill();
    }
    var gy = ay + ACCENT_H;
    for (s = 0; s < 32; s++) {
        if (!bit(groove.mask, s)) continue;
        var bh = Math.max(1, groove.velocities[s] * (GROOVE_H - 2));
        var bx = (s + 0.5 + groove.offsets[s] / 2) * g.cw;
        mgraphics.set_source_rgba(TAP);
        mgraphics.rectangle(bx - 1, gy + GROOVE_H - 1 - bh, 2, bh);
        mgraphics.fill();
    }
}

function onclick(x, y) {
    var g = geometry();
    var s = Math.floor(x / g.cw);
    if (s < 0 || s > 31) return;
    if (y < 9 * g.rh) {
        var c = Math.floor(y / g.rh);
        outlet(0, "cell", c, s, bit(score[c], s) ? 0 : 1);
    } else if (y < 9 * g.rh + ACCENT_H) {
        outlet(0, "accent", s, bit(accents, s) ? 0 : 1);
    }
}
onclick.local = 1;

function anything() {
    var a = arrayfromargs(arguments);
    if (messagename === "score") score = a;
    else if (messagename === "ghost") ghost = a;
    else if (messagename === "accents") accents = a[0];
    else if (messagename === "groove") groove = { mask: a[0], velocities: a.slice(1, 33), offsets: a.slice(33, 65) };
    mgraphics.redraw();
}
