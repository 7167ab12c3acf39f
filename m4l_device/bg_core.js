// Beat Guide device: pure logic (no Max, no Live). ES5 only.
// Loaded in Max by include("bg_core.js") from beatguide.js, and in Node through module.exports.

var BG_STEPS = 32;
var BG_CLASSES = 9;
var BG_LOOP_BEATS = 8;
var BG_STEP_BEATS = 0.25;
var BG_MODELS = ["baseline", "factorized", "agvae2", "agvae11"];
// Lane modes (agvae11): 0 model decides, 1 given (the mask), 2 empty.
var BG_LANE_GIVEN = 1;
var BG_FLAG_SCORE = 1;
var BG_FLAG_GROOVE = 2;
var BG_FLAG_ACCENTS = 4;
// General MIDI / Drum Rack pitches read as each class (note_seq's default map).
var BG_GM_PITCHES = [
    [36, 35],
    [38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85],
    [42, 44, 54, 68, 69, 70, 71, 73, 78, 80],
    [46, 67, 72, 74, 79, 81],
    [45, 29, 41, 61, 64, 84],
    [48, 47, 60, 63, 77, 86, 87],
    [50, 30, 43, 62, 76, 83],
    [49, 55, 57, 58],
    [51, 52, 53, 59, 82]
];
var BG_DEFAULT_OUTPUT = [36, 38, 42, 46, 45, 48, 50, 49, 51];

function bgFilled(n, value) {
    var a = [];
    for (var i = 0; i < n; i++) a.push(value);
    return a;
}

// Input map: an array of 128 entries, pitch -> class 0-8, or -1 for a pitch that is not read.
function bgDefaultInputMap() {
    var map = bgFilled(128, -1);
    for (var c = 0; c < BG_CLASSES; c++) {
        for (var i = 0; i < BG_GM_PITCHES[c].length; i++) {
            var p = BG_GM_PITCHES[c][i];
            if (map[p] < 0) map[p] = c;
        }
    }
    return map;
}

// Steps (array of 32 truthy/falsy) -> int32 mask (bit s = step s; may be negative when bit 31 is set).
function bgMask(steps) {
    var m = 0;
    for (var s = 0; s < BG_STEPS; s++) if (steps[s]) m |= (1 << s);
    return m | 0;
}

// int32 (signed or unsigned) mask -> array of 32 0/1.
function bgSteps(mask) {
    var out = [];
    for (var s = 0; s < BG_STEPS; s++) out.push((mask >>> s) & 1);
    return out;
}

// Quantize one note onset (beats from the clip start) to {step, offset}, or null outside the loop.
// A note less than half a step before the loop end wraps to step 0 (loops), as the server does.
function bgQuantize(start) {
    if (!(start >= 0) || start >= BG_LOOP_BEATS) return null;
    var pos = start / BG_STEP_BEATS;
    var step = Math.floor(pos + 0.5);
    if (step >= BG_STEPS) {
        step -= BG_STEPS;
        pos -= BG_STEPS;
    }
    var offset = Math.max(-1, Math.min(1, (pos - step) * 2));
    return { step: step, offset: offset };
}

// Notes (LOM dictionaries) -> cells[class][step] = {velocity 0-1, offset} of the loudest note.
// classOf(pitch) gives the class or -1 to skip the note. Muted notes are skipped.
function bgCells(notes, classes, classOf) {
    var cells = [];
    for (var c = 0; c < classes; c++) cells.push(bgFilled(BG_STEPS, null));
    for (var i = 0; i < notes.length; i++) {
        var n = notes[i];
        if (n.mute) continue;
        var cls = classOf(n.pitch);
        var q = bgQuantize(n.start_time);
        if (cls < 0 || q === null) continue;
        var vel = n.velocity / 127;
        var old = cells[cls][q.step];
        if (old === null || vel > old.velocity) cells[cls][q.step] = { velocity: vel, offset: q.offset };
    }
    return cells;
}

// F1: the score, 9 int32 lane masks, through the input map.
function bgScoreFromNotes(notes, inputMap) {
    var cells = bgCells(notes, BG_CLASSES, function (p) { return inputMap[p]; });
    var masks = [];
    for (var c = 0; c < BG_CLASSES; c++) masks.push(bgMask(cells[c]));
    return masks;
}

// F2 ("squash"): per step the loudest note of any pitch -> {mask, velocities[32], offsets[32]}.
function bgGrooveFromNotes(notes) {
    var cells = bgCells(notes, 1, function () { return 0; })[0];
    var g = { mask: bgMask(cells), velocities: bgFilled(BG_STEPS, 0), offsets: bgFilled(BG_STEPS, 0) };
    for (var s = 0; s < BG_STEPS; s++) {
        if (cells[s] !== null) {
            g.velocities[s] = cells[s].velocity;
            g.offsets[s] = cells[s].offset;
        }
    }
    return g;
}

// Accents: steps holding a note louder than its drum's mean + 1 (population) std over the loop.
function bgAccentsFromNotes(notes, inputMap) {
    var cells = bgCells(notes, BG_CLASSES, function (p) { return inputMap[p]; });
    var accented = bgFilled(BG_STEPS, 0);
    for (var c = 0; c < BG_CLASSES; c++) {
        var vels = [];
        var s;
        for (s = 0; s < BG_STEPS; s++) if (cells[c][s] !== null) vels.push(cells[c][s].velocity);
        if (vels.length === 0) continue;
        var mean = 0, variance = 0, i;
        for (i = 0; i < vels.length; i++) mean += vels[i] / vels.length;
        for (i = 0; i < vels.length; i++) variance += (vels[i] - mean) * (vels[i] - mean) / vels.length;
        var threshold = mean + Math.sqrt(variance);
        for (s = 0; s < BG_STEPS; s++) if (cells[c][s] !== null && cells[c][s].velocity > threshold) accented[s] = 1;
    }
    return bgMask(accented);
}

// The state the device edits and saves: what a generate request is made of.
function bgEmptyState() {
    return {
        score: bgFilled(BG_CLASSES, 0),           // lane masks
        laneModes: bgFilled(BG_CLASSES, BG_LANE_GIVEN),
        groove: { mask: 0, velocities: bgFilled(BG_STEPS, 0), offsets: bgFilled(BG_STEPS, 0) },
        accents: 0,
        output: BG_DEFAULT_OUTPUT.slice(),
        inputMap: bgDefaultInputMap()
    };
}

// The saved form of the state (pattr blob, a flat list of numbers, version first). Lane modes
// and output pitches are live.* parameters of their own, so Live saves them.
var BG_STATE_VERSION = 1;
var BG_STATE_LENGTH = 1 + 9 + 1 + 32 + 32 + 1 + 128;
function bgStateToList(st) {
    return [BG_STATE_VERSION].concat(st.score, [st.groove.mask], st.groove.velocities, st.groove.offsets,
        [st.accents], st.inputMap);
}

// Restores the saved part of `st` from a list; false (and `st` untouched) for a list of another form.
function bgStateFromList(st, list) {
    if (list.length !== BG_STATE_LENGTH || list[0] !== BG_STATE_VERSION) return false;
    st.score = list.slice(1, 10);
    st.groove = { mask: list[10], velocities: list.slice(11, 43), offsets: list.slice(43, 75) };
    st.accents = list[75];
    st.inputMap = list.slice(76, 204);
    return true;
}

// The 93 arguments of /bg/generate (protocol version 1), in order.
// req: {id, replyPort, model, variations, temperature, seed, scoreSeed, grooveSeed,
//       useScore, useGroove, useAccents, state}
function bgGenerateArgs(req) {
    var st = req.state;
    var flags = (req.useScore ? BG_FLAG_SCORE : 0) | (req.useGroove ? BG_FLAG_GROOVE : 0) |
        (req.useAccents ? BG_FLAG_ACCENTS : 0);
    var args = [req.id, req.replyPort, req.model, req.variations, req.temperature, req.seed,
        req.scoreSeed, req.grooveSeed, flags];
    var c;
    for (c = 0; c < BG_CLASSES; c++) args.push(st.score[c] | 0);
    for (c = 0; c < BG_CLASSES; c++) args.push(st.laneModes[c]);
    args.push(st.groove.mask | 0);
    args = args.concat(st.groove.velocities, st.groove.offsets);
    args.push(st.accents | 0);
    return args;
}

// Collects the replies of one generate request; finish() checks them against /bg/done.
function BgReplies(id, variations) {
    this.id = id;
    this.variations = [];
    for (var v = 0; v < variations; v++) {
        this.variations.push({ notes: [], auxScore: null, auxGroove: null, auxAccents: null });
    }
}

// args of /bg/notes without the request id: variation, chunk, then (class start duration velocity)...
BgReplies.prototype.addNotes = function (args) {
    var v = this.variations[args[0]];
    if (!v) return;
    for (var i = 2; i + 3 < args.length; i += 4) {
        v.notes.push({ cls: args[i], start: args[i + 1], duration: args[i + 2], velocity: args[i + 3] });
    }
};

BgReplies.prototype.addAux = function (kind, args) {
    var v = this.variations[args[0]];
    if (!v) return;
    if (kind === "score") v.auxScore = args.slice(1, 10);
    if (kind === "groove") v.auxGroove = { mask: args[1], velocities: args.slice(2, 34), offsets: args.slice(34, 66) };
    if (kind === "accents") v.auxAccents = args[1];
};

// done args without the request id: variations, total_notes, elapsed_ms, score_seed, groove_seed.
// Returns {ok, error, elapsedMs, scoreSeed, grooveSeed}.
BgReplies.prototype.finish = function (args) {
    var got = 0;
    for (var v = 0; v < this.variations.length; v++) got += this.variations[v].notes.length;
    var res = { ok: true, error: "", elapsedMs: args[2], scoreSeed: args[3], grooveSeed: args[4] };
    if (args[0] !== this.variations.length) {
        res.ok = false;
        res.error = "server sent " + args[0] + " variations, asked " + this.variations.length;
    } else if (args[1] !== got) {
        res.ok = false;
        res.error = "lost notes: received " + got + " of " + args[1] + " (UDP); press Regenerate";
    }
    return res;
};

// Which clip slots to write `count` clips into: the first empty slots after `start`
// (the selected slot). All or nothing: null when fewer than `count` are empty.
function bgChooseSlots(hasClip, start, count) {
    var chosen = [];
    for (var i = start + 1; i < hasClip.length && chosen.length < count; i++) {
        if (!hasClip[i]) chosen.push(i);
    }
    return chosen.length === count ? chosen : null;
}

function bgClipName(model, variation, temperature, suffix) {
    var t = Math.round(temperature * 100) / 100;
    var ts = (t === Math.floor(t)) ? t.toFixed(1) : String(t);
    return model + " v" + (variation + 1) + " t" + ts + (suffix ? " " + suffix : "");
}

// Generated notes (class, start, duration, velocity) -> add_new_notes dictionary notes.
function bgLiveNotes(notes, output) {
    var out = [];
    for (var i = 0; i < notes.length; i++) {
        var n = notes[i];
        out.push({
            pitch: output[n.cls],
            start_time: Math.max(0, n.start),
            duration: Math.max(0.01, n.duration),
            velocity: Math.max(1, Math.min(127, Math.round(n.velocity)))
        });
    }
    return out;
}

// Aux score masks -> notes on the grid (velocity 100); aux groove -> notes of one pitch.
function bgScoreNotes(masks, output) {
    var notes = [];
    for (var c = 0; c < BG_CLASSES; c++) {
        var steps = bgSteps(masks[c]);
        for (var s = 0; s < BG_STEPS; s++) {
            if (steps[s]) notes.push({ pitch: output[c], start_time: s * BG_STEP_BEATS, duration: BG_STEP_BEATS, velocity: 100 });
        }
    }
    return notes;
}

function bgGrooveNotes(groove, pitch) {
    var notes = [];
    var steps = bgSteps(groove.mask);
    for (var s = 0; s < BG_STEPS; s++) {
        if (!steps[s]) continue;
        var t = (s + groove.offsets[s] / 2) * BG_STEP_BEATS;
        if (t < 0) t += BG_LOOP_BEATS;
        notes.push({
            pitch: pitch, start_time: t, duration: BG_STEP_BEATS / 2,
            velocity: Math.max(1, Math.min(127, Math.round(groove.velocities[s] * 127)))
        });
    }
    return notes;
}

if (typeof module !== "undefined") {
    module.exports = {
        BG_STEPS: BG_STEPS, BG_CLASSES: BG_CLASSES, BG_MODELS: BG_MODELS, BG_DEFAULT_OUTPUT: BG_DEFAULT_OUTPUT,
        bgDefaultInputMap: bgDefaultInputMap, bgMask: bgMask, bgSteps: bgSteps, bgQuantize: bgQuantize,
        bgScoreFromNotes: bgScoreFromNotes, bgGrooveFromNotes: bgGrooveFromNotes,
        bgAccentsFromNotes: bgAccentsFromNotes, bgEmptyState: bgEmptyState, bgStateToList: bgStateToList,
        bgStateFromList: bgStateFromList, bgGenerateArgs: bgGenerateArgs, BgReplies: BgReplies,
        bgChooseSlots: bgChooseSlots, bgClipName: bgClipName, bgLiveNotes: bgLiveNotes,
        bgScoreNotes: bgScoreNotes, bgGrooveNotes: bgGrooveNotes
    };
}
