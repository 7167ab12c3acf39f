// Beat Guide device: pure logic (no Max, no Live). ES5 only.
// In Max, beatguide.js runs include("bg_spec.js") then include("bg_core.js"); Node require()s both.
// Every fact shared with the server (steps, classes, lane modes, argument layouts, ports) comes from
// BG_SPEC, which build.py generates from the Python package.

var BG_SPEC = (typeof module !== "undefined") ? require("./bg_spec.js") : BG_SPEC;
var BG_STEPS = BG_SPEC.grid.steps;
var BG_CLASSES = BG_SPEC.classes.length;
var BG_LOOP_BEATS = BG_SPEC.grid.loop_beats;
var BG_STEP_BEATS = BG_SPEC.grid.step_beats;
var BG_ADDR = BG_SPEC.addresses;
var BG_MIDI_PITCHES = 128;
var BG_LANE_DEFAULT = BG_SPEC.lane_modes.indexOf(BG_SPEC.default_lane_mode);
var BG_NONE = "-";           // a saved name (model, server command) when there is none
var BG_AUTO = -2;            // input override: the pitch reads as the kit map says
var BG_NOT_READ = -1;        // input map / override: the pitch is not read

function bgFilled(n, value) {
    var a = [];
    for (var i = 0; i < n; i++) a.push(value);
    return a;
}

// ---------------------------------------------------------------- argument layouts

// A layout is a list of fields {name, type, count}: `count` arguments of OSC type "i", "f" or "s".
function bgLayoutLength(layout) {
    var n = 0;
    for (var i = 0; i < layout.length; i++) n += layout[i].count;
    return n;
}

function bgField(name, type, count) { return { name: name, type: type, count: count }; }

// values {name: value, or an array of `count` values} -> the flat argument list. Throws on a
// missing field or a run of the wrong length (a bug in the caller, never the user's input).
function bgPack(layout, values) {
    var args = [];
    for (var i = 0; i < layout.length; i++) {
        var name = layout[i].name, count = layout[i].count, v = values[name];
        if (v === undefined) throw new Error("bgPack: no value for " + name);
        if (count === 1) {
            args.push(v);
            continue;
        }
        if (v.length !== count) throw new Error("bgPack: " + name + " needs " + count + " values, got " + v.length);
        for (var k = 0; k < count; k++) args.push(v[k]);
    }
    return args;
}

function bgTypeOk(type, v) {
    if (type === "s") return typeof v === "string";
    return typeof v === "number" && isFinite(v);
}

// The inverse of bgPack from args[start]: {values, next}, or null when an argument is missing or
// of the wrong type.
function bgUnpack(layout, args, start) {
    var values = {}, pos = start;
    for (var i = 0; i < layout.length; i++) {
        var name = layout[i].name, type = layout[i].type, count = layout[i].count;
        if (pos + count > args.length) return null;
        var run = args.slice(pos, pos + count);
        for (var k = 0; k < count; k++) if (!bgTypeOk(type, run[k])) return null;
        values[name] = count === 1 ? run[0] : run;
        pos += count;
    }
    return { values: values, next: pos };
}

// A reply message -> its fields by name (repeated groups in .items), or null when it does not have
// the shape BG_SPEC.replies gives its address.
function bgParseReply(address, args) {
    var shape = BG_SPEC.replies[address];
    if (!shape) return null;
    var head = bgUnpack(shape.fields, args, 0);
    if (head === null) return null;
    var out = head.values;
    out.items = [];
    var repeat = shape.repeat || [];
    var pos = head.next;
    if (repeat.length === 0) return pos === args.length ? out : null;
    var size = bgLayoutLength(repeat);
    if ((args.length - pos) % size !== 0 || (args.length - pos) / size > shape.max_repeats) return null;
    while (pos < args.length) {
        var item = bgUnpack(repeat, args, pos);
        if (item === null) return null;
        out.items.push(item.values);
        pos = item.next;
    }
    return out;
}

// ---------------------------------------------------------------- models and what they take

function bgBitNames(mask, vocabulary) {
    var names = [];
    for (var i = 0; i < vocabulary.length; i++) if ((mask >>> i) & 1) names.push(vocabulary[i]);
    return names;
}

// A parsed /bg/pong -> {version, models: [{name, caps}]}. caps is null when the server does not
// describe its models (protocol 1); then every control stays enabled.
function bgModelsFromPong(pong) {
    var models = [];
    for (var i = 0; i < pong.items.length; i++) {
        var it = pong.items[i];
        var caps = null;
        if (it.gestures !== undefined) {
            caps = {
                gestures: bgBitNames(it.gestures, BG_SPEC.gestures),
                lane_modes: bgBitNames(it.lane_modes, BG_SPEC.lane_modes),
                latent_sources: bgBitNames(it.latent_sources, BG_SPEC.latent_sources),
                aux: bgBitNames(it.aux, BG_SPEC.gestures),
                needs: BG_SPEC.needs[it.needs]
            };
        }
        models.push({ name: it.name, caps: caps });
    }
    return { version: pong.protocol_version, models: models };
}

function bgHas(list, name) { return list.indexOf(name) >= 0; }

// Which controls a model uses: {score, lanes, groove, accents, latents (a choice of latent source), aux}.
function bgControls(caps) {
    if (caps === null) return { score: true, lanes: true, groove: true, accents: true, latents: false, aux: true };
    var g = caps.gestures;
    return {
        score: bgHas(g, "score") || bgHas(g, "lanes"),
        lanes: caps.lane_modes.length > 0,
        groove: bgHas(g, "groove"),
        accents: bgHas(g, "accents"),
        latents: caps.latent_sources.length > 1,
        aux: caps.aux.length > 0
    };
}

// ---------------------------------------------------------------- masks, notes, gestures

// Input map: an array of 128 entries, pitch -> class 0-8, or BG_NOT_READ.
function bgDefaultInputMap() {
    var map = bgFilled(BG_MIDI_PITCHES, BG_NOT_READ);
    for (var c = 0; c < BG_CLASSES; c++) {
        for (var i = 0; i < BG_SPEC.pitches.gm_input[c].length; i++) {
            var p = BG_SPEC.pitches.gm_input[c][i];
            if (map[p] === BG_NOT_READ) map[p] = c;
        }
    }
    return map;
}

// Steps (an array of truthy/falsy per step) -> int32 mask (bit s = step s; negative when bit 31 is set).
function bgMask(steps) {
    var m = 0;
    for (var s = 0; s < BG_STEPS; s++) if (steps[s]) m |= (1 << s);
    return m | 0;
}

// int32 (signed or unsigned) mask -> array of 0/1 per step.
function bgSteps(mask) {
    var out = [];
    for (var s = 0; s < BG_STEPS; s++) out.push((mask >>> s) & 1);
    return out;
}

// One note onset (beats from the clip start) -> {step, offset}, or null outside the loop.
// A note up to half a step before 0 is an early step 0; one less than half a step before the loop
// end wraps to step 0 (loops), as the server does (grid.notes_to_loop).
function bgQuantize(start) {
    if (!isFinite(start) || start >= BG_LOOP_BEATS) return null;
    var pos = start / BG_STEP_BEATS;
    var step = Math.floor(pos + 0.5);
    if (step < 0) return null;
    if (step >= BG_STEPS) {
        step -= BG_STEPS;
        pos -= BG_STEPS;
    }
    var offset = Math.max(-1, Math.min(1, (pos - step) * 2));
    return { step: step, offset: offset };
}

// A note's velocity as the reading uses it: its whole part, within 1-127 (gestures.midi_velocity).
function bgMidiVelocity(v) { return Math.max(1, Math.min(127, Math.floor(v))); }

// Whether cell note a wins over b: louder, then earlier (smaller offset), then lower pitch.
function bgWins(a, b) {
    if (a.velocity !== b.velocity) return a.velocity > b.velocity;
    if (a.offset !== b.offset) return a.offset < b.offset;
    return a.pitch < b.pitch;
}

// Notes (LOM dictionaries) -> cells[class][step] = {velocity (MIDI 1-127), offset, pitch} of the
// note that wins the cell (bgWins), whatever the notes' order. classOf(pitch) gives the class or
// BG_NOT_READ. Muted notes are skipped.
function bgCells(notes, classes, classOf) {
    var cells = [];
    for (var c = 0; c < classes; c++) cells.push(bgFilled(BG_STEPS, null));
    for (var i = 0; i < notes.length; i++) {
        var n = notes[i];
        if (n.mute) continue;
        var cls = classOf(n.pitch);
        var q = bgQuantize(n.start_time);
        if (cls < 0 || q === null) continue;
        var cell = { velocity: bgMidiVelocity(n.velocity), offset: q.offset, pitch: n.pitch };
        var old = cells[cls][q.step];
        if (old === null || bgWins(cell, old)) cells[cls][q.step] = cell;
    }
    return cells;
}

function bgReadClass(inputMap) { return function (p) { return inputMap[p]; }; }

// The score: one int32 lane mask per class, through the input map.
function bgScoreFromNotes(notes, inputMap) {
    var cells = bgCells(notes, BG_CLASSES, bgReadClass(inputMap));
    var masks = [];
    for (var c = 0; c < BG_CLASSES; c++) masks.push(bgMask(cells[c]));
    return masks;
}

// The groove ("squash"): per step the loudest note of any pitch -> {mask, velocities, offsets}.
// At equal velocity the lowest drum class wins; pitches the input map does not read rank after
// every class (gestures.read_notes).
function bgGrooveFromNotes(notes, inputMap) {
    var cells = bgCells(notes, BG_CLASSES + 1, function (p) { return inputMap[p] >= 0 ? inputMap[p] : BG_CLASSES; });
    var g = { mask: 0, velocities: bgFilled(BG_STEPS, 0), offsets: bgFilled(BG_STEPS, 0) };
    var hit = bgFilled(BG_STEPS, 0);
    for (var s = 0; s < BG_STEPS; s++) {
        var best = null;
        for (var c = 0; c <= BG_CLASSES; c++) {
            var cell = cells[c][s];
            if (cell !== null && (best === null || cell.velocity > best.velocity)) best = cell;
        }
        if (best === null) continue;
        hit[s] = 1;
        g.velocities[s] = best.velocity / 127;
        g.offsets[s] = best.offset;
    }
    g.mask = bgMask(hit);
    return g;
}

// Accents: steps holding a note louder than its drum's mean + 1 (population) std over the loop,
// decided on integer MIDI velocities (exact, as gestures.accents): with n notes, S = sum v,
// Q = sum v^2 and d = n v - S, an accent when d > 0 and d^2 > n Q - S^2.
function bgAccentsFromNotes(notes, inputMap) {
    var cells = bgCells(notes, BG_CLASSES, bgReadClass(inputMap));
    var accented = bgFilled(BG_STEPS, 0);
    for (var c = 0; c < BG_CLASSES; c++) {
        var n = 0, sum = 0, squares = 0, s;
        for (s = 0; s < BG_STEPS; s++) {
            if (cells[c][s] === null) continue;
            n++;
            sum += cells[c][s].velocity;
            squares += cells[c][s].velocity * cells[c][s].velocity;
        }
        for (s = 0; s < BG_STEPS; s++) {
            if (cells[c][s] === null) continue;
            var d = n * cells[c][s].velocity - sum;
            if (d > 0 && d * d > n * squares - sum * sum) accented[s] = 1;
        }
    }
    return bgMask(accented);
}

// ---------------------------------------------------------------- the device's state

// What the device edits and saves with the Set. Lane modes and the latent source are live.menu
// parameters of their own (Live saves them).
function bgEmptyState() {
    return {
        score: bgFilled(BG_CLASSES, 0),                 // lane masks
        laneModes: bgFilled(BG_CLASSES, BG_LANE_DEFAULT), // indices into BG_SPEC.lane_modes
        groove: { mask: 0, velocities: bgFilled(BG_STEPS, 0), offsets: bgFilled(BG_STEPS, 0) },
        accents: 0,
        padOverride: bgFilled(BG_CLASSES, -1),          // per lane: the pad note the producer chose, -1 auto
        inputOverride: bgFilled(BG_MIDI_PITCHES, BG_AUTO), // per pitch: class, BG_NOT_READ, or BG_AUTO
        model: BG_NONE,
        command: BG_NONE,                               // the launcher's server command; none: it searches
        latentSource: BG_SPEC.latent_sources.indexOf(BG_SPEC.default_latent_sources[0]), // a live.menu's index
        sendPort: BG_SPEC.ports.server,
        replyPort: 0                                    // 0: automatic, a free port each time the device loads
    };
}

// The saved form (a pattr blob parameter): a flat list, version first.
var BG_STATE_VERSION = 2;
var BG_STATE_LAYOUT = [
    bgField("version", "i", 1), bgField("send_port", "i", 1), bgField("reply_port", "i", 1), bgField("model", "s", 1),
    bgField("lane_masks", "i", BG_CLASSES), bgField("groove_mask", "i", 1),
    bgField("groove_velocities", "f", BG_STEPS), bgField("groove_offsets", "f", BG_STEPS),
    bgField("accent_mask", "i", 1), bgField("pad_override", "i", BG_CLASSES),
    bgField("input_override", "i", BG_MIDI_PITCHES), bgField("command", "s", 1)
];

function bgStateToList(st) {
    return bgPack(BG_STATE_LAYOUT, {
        version: BG_STATE_VERSION, send_port: st.sendPort, reply_port: st.replyPort, model: st.model,
        lane_masks: st.score, groove_mask: st.groove.mask,
        groove_velocities: st.groove.velocities, groove_offsets: st.groove.offsets, accent_mask: st.accents,
        pad_override: st.padOverride, input_override: st.inputOverride, command: st.command
    });
}

// Restores the saved part of `st` from a list: "ok", "empty" (a new device: nothing saved yet), or
// "other" (a list of another form or version; `st` is left untouched).
function bgStateFromList(st, list) {
    if (list.length <= 1) return "empty";
    var u = list.length === bgLayoutLength(BG_STATE_LAYOUT) ? bgUnpack(BG_STATE_LAYOUT, list, 0) : null;
    if (u === null || u.values.version !== BG_STATE_VERSION) return "other";
    var v = u.values;
    st.sendPort = v.send_port;
    st.replyPort = v.reply_port;
    st.model = v.model;
    st.score = v.lane_masks;
    st.groove = { mask: v.groove_mask, velocities: v.groove_velocities, offsets: v.groove_offsets };
    st.accents = v.accent_mask;
    st.padOverride = v.pad_override;
    st.inputOverride = v.input_override;
    st.command = v.command;
    return "ok";
}

// ---------------------------------------------------------------- requests

function bgAnyHit(masks) {
    for (var c = 0; c < masks.length; c++) if (masks[c] !== 0) return true;
    return false;
}

// What a request sends: {score, groove, accents} booleans, by what is drawn and what the model takes.
function bgGestures(st, caps) {
    var use = bgControls(caps);
    return {
        score: use.score && bgAnyHit(st.score),
        groove: use.groove && st.groove.mask !== 0,
        accents: use.accents && st.accents !== 0
    };
}

// Why a request cannot be sent to this model ("" when it can): checked before sending, so the
// status line says it in the producer's words. The server checks again.
function bgRequestProblem(model, caps, st) {
    if (caps === null) return "";
    var g = bgGestures(st, caps);
    if (caps.needs === "score" && !g.score) return model + " needs a score: draw one or capture a clip";
    if (caps.needs === "score_or_groove" && !g.score && !g.groove) {
        return model + " needs a score or a groove: draw, capture or tap one";
    }
    for (var c = 0; c < BG_CLASSES; c++) {
        var mode = BG_SPEC.lane_modes[st.laneModes[c]];
        if (!bgHas(caps.lane_modes, mode)) {
            return model + " does not take lane mode '" + mode + "' (" + BG_SPEC.classes[c] + "); it takes: " +
                caps.lane_modes.join(", ");
        }
    }
    return "";
}

// The latent source to send: the menu's choice where the model has it, else -1 (the model's default).
function bgLatentSource(caps, index) {
    if (caps === null || !bgHas(caps.latent_sources, BG_SPEC.latent_sources[index])) return -1;
    return index;
}

// The arguments of /bg/generate, laid out by BG_SPEC.generate.fields.
// req: {id, replyPort, model, caps, variations, temperature, seed, scoreSeed, grooveSeed, state, phrase}
// (phrase: bgPhrase(...); none: a 2-bar loop as played)
function bgGenerateArgs(req) {
    var phrase = req.phrase || bgPhrase(0, BG_SPEC.phrase.fill_modes.indexOf(BG_SPEC.phrase.default_fill),
        BG_SPEC.phrase.amount[1], BG_SPEC.phrase.amount[1]);
    var st = req.state;
    var g = bgGestures(st, req.caps);
    var flags = (g.score ? BG_SPEC.flags.score : 0) | (g.groove ? BG_SPEC.flags.groove : 0) |
        (g.accents ? BG_SPEC.flags.accents : 0);
    var masks = [];
    for (var c = 0; c < BG_CLASSES; c++) masks.push(st.score[c] | 0);
    return bgPack(BG_SPEC.generate.fields, {
        request_id: req.id, reply_port: req.replyPort, model: req.model, variations: req.variations,
        temperature: req.temperature, seed: req.seed, score_seed: req.scoreSeed, groove_seed: req.grooveSeed,
        flags: flags, latent_source: bgLatentSource(req.caps, st.latentSource),
        lane_masks: masks, lane_modes: st.laneModes, groove_mask: st.groove.mask | 0,
        groove_velocities: st.groove.velocities, groove_offsets: st.groove.offsets, accent_mask: st.accents | 0,
        bars: phrase.bars, fill: phrase.fill, timing: phrase.timing, velocity: phrase.velocity
    });
}

// ---------------------------------------------------------------- phrases and amounts

// The phrase a request asks for, from the Bars and Fill menus' items and the Timing and Velocity
// dials (percent, clamped to the spec's range): {bars, fill, timing, velocity}.
function bgPhrase(barsItem, fillItem, timing, velocity) {
    var bars = BG_SPEC.phrase.bars;
    var lo = BG_SPEC.phrase.amount[0], hi = BG_SPEC.phrase.amount[2];
    var clamp = function (x) { return Math.max(lo, Math.min(hi, Number(x))); };
    return {
        bars: bars[Math.max(0, Math.min(bars.length - 1, barsItem | 0))],
        fill: Math.max(0, Math.min(BG_SPEC.phrase.fill_modes.length - 1, fillItem | 0)),
        timing: clamp(timing), velocity: clamp(velocity)
    };
}

// A clip's length in beats for a phrase of `bars` bars.
function bgClipBeats(bars) { return bars * BG_SPEC.grid.beats_per_bar; }

// ---------------------------------------------------------------- replies

// Collects the replies of one generate request; finish() checks them against /bg/done.
function BgReplies(id, variations) {
    this.id = id;
    this.variations = [];
    for (var v = 0; v < variations; v++) {
        this.variations.push({ notes: [], auxScore: null, auxGroove: null, auxAccents: null });
    }
}

// One parsed reply of this request (bgParseReply). False for a reply of another shape.
BgReplies.prototype.add = function (address, r) {
    var v = this.variations[r.variation];
    if (!v) return false;
    if (address === BG_ADDR.notes) {
        for (var i = 0; i < r.items.length; i++) {
            var n = r.items[i];
            v.notes.push({ cls: n["class"], start: n.start, duration: n.duration, velocity: n.velocity });
        }
    } else if (address === BG_ADDR.aux_score) {
        v.auxScore = r.lane_masks;
    } else if (address === BG_ADDR.aux_groove) {
        v.auxGroove = { mask: r.mask, velocities: r.velocities, offsets: r.offsets };
    } else if (address === BG_ADDR.aux_accents) {
        v.auxAccents = r.mask;
    } else {
        return false;
    }
    return true;
};

// A parsed /bg/done -> {ok, error, elapsedMs, scoreSeed, grooveSeed, bars, beats (the clip length)}.
// A phrase of a length the device cannot write, or a note outside it, is refused.
BgReplies.prototype.finish = function (done) {
    var got = 0, outside = 0;
    var beats = bgClipBeats(done.bars);
    for (var v = 0; v < this.variations.length; v++) {
        var notes = this.variations[v].notes;
        got += notes.length;
        for (var i = 0; i < notes.length; i++) if (!(notes[i].start >= 0 && notes[i].start < beats)) outside++;
    }
    var res = { ok: true, error: "", elapsedMs: done.elapsed_ms, scoreSeed: done.score_seed, grooveSeed: done.groove_seed,
        bars: done.bars, beats: beats };
    if (BG_SPEC.phrase.bars.indexOf(done.bars) < 0) {
        res.ok = false;
        res.error = "server sent a phrase of " + done.bars + " bars; this device writes " + BG_SPEC.phrase.bars.join(", ");
    } else if (outside > 0) {
        res.ok = false;
        res.error = "server sent " + outside + " notes outside the " + done.bars + "-bar clip: not written";
    } else if (done.variations !== this.variations.length) {
        res.ok = false;
        res.error = "server sent " + done.variations + " variations, asked " + this.variations.length;
    } else if (done.total_notes !== got) {
        res.ok = false;
        res.error = "lost notes: received " + got + " of " + done.total_notes + " (UDP); press Regenerate";
    }
    return res;
};

// ---------------------------------------------------------------- clips

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

// A start in beats folded into the loop, [0, loop length); `beats`: the loop's length (default 2 bars).
function bgInLoop(t, beats) {
    var len = beats || BG_LOOP_BEATS;
    var x = t % len;
    if (x < 0) x += len;
    return x >= len ? 0 : x;
}

function bgVelocity(v) { return Math.max(1, Math.min(127, Math.round(v))); }

// Generated notes (class, start, duration, velocity) -> add_new_notes dictionary notes of a clip
// `beats` long (default 2 bars).
function bgLiveNotes(notes, output, beats) {
    var out = [];
    for (var i = 0; i < notes.length; i++) {
        var n = notes[i];
        out.push({
            pitch: output[n.cls], start_time: bgInLoop(n.start, beats),
            duration: Math.max(0.01, n.duration), velocity: bgVelocity(n.velocity)
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
        notes.push({
            pitch: pitch, start_time: bgInLoop((s + groove.offsets[s] / 2) * BG_STEP_BEATS),
            duration: BG_STEP_BEATS / 2, velocity: bgVelocity(groove.velocities[s] * 127)
        });
    }
    return notes;
}

if (typeof module !== "undefined") {
    module.exports = {
        BG_SPEC: BG_SPEC, BG_STEPS: BG_STEPS, BG_CLASSES: BG_CLASSES, BG_AUTO: BG_AUTO, BG_NOT_READ: BG_NOT_READ,
        BG_MIDI_PITCHES: BG_MIDI_PITCHES, BG_NONE: BG_NONE,
        BG_STATE_LAYOUT: BG_STATE_LAYOUT, bgLayoutLength: bgLayoutLength, bgPack: bgPack, bgUnpack: bgUnpack,
        bgParseReply: bgParseReply, bgModelsFromPong: bgModelsFromPong, bgControls: bgControls,
        bgDefaultInputMap: bgDefaultInputMap, bgMask: bgMask, bgSteps: bgSteps, bgQuantize: bgQuantize,
        bgMidiVelocity: bgMidiVelocity, bgScoreFromNotes: bgScoreFromNotes, bgGrooveFromNotes: bgGrooveFromNotes,
        bgAccentsFromNotes: bgAccentsFromNotes, bgEmptyState: bgEmptyState, bgStateToList: bgStateToList,
        bgStateFromList: bgStateFromList, bgGestures: bgGestures, bgRequestProblem: bgRequestProblem,
        bgGenerateArgs: bgGenerateArgs, BgReplies: BgReplies, bgChooseSlots: bgChooseSlots,
        bgClipName: bgClipName, bgInLoop: bgInLoop, bgLiveNotes: bgLiveNotes, bgScoreNotes: bgScoreNotes,
        bgGrooveNotes: bgGrooveNotes, bgPhrase: bgPhrase, bgClipBeats: bgClipBeats
    };
}
