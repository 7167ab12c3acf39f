// Beat Guide device: the kit map (pure logic, ES5). Which Drum Rack pad plays each lane, and which
// lane each MIDI pitch reads as. Pads are matched by name (kick / bd, snare / sd / clap, closed /
// open hat, toms low-mid-high, crash, ride); a lane no pad name matches falls back to its General
// MIDI note. Needs bg_core.js (BG_SPEC, BG_CLASSES, ...) loaded first.

if (typeof module !== "undefined") {
    var bgCore = require("./bg_core.js");
    var BG_SPEC = bgCore.BG_SPEC, BG_CLASSES = bgCore.BG_CLASSES, BG_AUTO = bgCore.BG_AUTO;
    var BG_MIDI_PITCHES = bgCore.BG_MIDI_PITCHES, bgDefaultInputMap = bgCore.bgDefaultInputMap;
}

var BG_NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
var BG_TOMS = ["low_tom", "mid_tom", "high_tom"];

// Live's note names: middle C (60) is C3, so the first Drum Rack pad (36) is C1.
function bgNoteName(pitch) {
    return BG_NOTE_NAMES[pitch % 12] + (Math.floor(pitch / 12) - 2);
}

// A lane label for the device ("closed_hihat" -> "closed HH").
function bgLaneLabel(cls) {
    return BG_SPEC.classes[cls].replace("hihat", "HH").replace("_", " ");
}

function bgWords(name) {
    return String(name).toLowerCase().replace(/[^a-z0-9]+/g, " ").replace(/^ +| +$/g, "").split(" ");
}

function bgAnyWord(words, list) {
    for (var i = 0; i < words.length; i++) if (list.indexOf(words[i]) >= 0) return true;
    return false;
}

function bgContains(words, part) {
    for (var i = 0; i < words.length; i++) if (words[i].indexOf(part) >= 0) return true;
    return false;
}

// The class name a pad's name says ("kick", "snare", ..., or "tom" for a tom of no stated height),
// or "" when the name says none (e.g. "Perc 2", "Cowbell", "C1").
function bgPadKind(name) {
    var w = bgWords(name);
    if (bgContains(w, "kick") || bgAnyWord(w, ["bd", "kik", "bassdrum"]) || /bass drum/.test(w.join(" "))) return "kick";
    if (bgContains(w, "snare") || bgContains(w, "clap") || bgAnyWord(w, ["sd", "snr", "clp", "rim", "rimshot"])) return "snare";
    if (bgContains(w, "ride")) return "ride";
    if (bgContains(w, "crash") || bgAnyWord(w, ["china", "splash", "cymbal", "cym"])) return "crash";
    if (bgContains(w, "tom") || bgAnyWord(w, ["floor"])) {
        if (bgAnyWord(w, ["low", "lo", "floor"])) return "low_tom";
        if (bgAnyWord(w, ["mid", "med", "middle"])) return "mid_tom";
        if (bgAnyWord(w, ["high", "hi"])) return "high_tom";
        return "tom";
    }
    if (bgContains(w, "hat") || bgAnyWord(w, ["hh", "hihat", "ch", "chh", "oh", "ohh"])) {
        return bgAnyWord(w, ["open", "opn", "oh", "ohh", "o"]) ? "open_hihat" : "closed_hihat";
    }
    return "";
}

// Pads -> the kit map: {lanes: [{note, name, source}], inputMap}.
// pads: [{note, name}] of the pads that hold a chain (null when there is no Drum Rack).
// source per lane: "pad" (a pad of that name), "gm" (the GM note: no Drum Rack, or a pad no name
// claims), "empty" (the GM note, whose pad is empty or named for another lane), "override" (the
// producer's choice).
// padOverride: per lane a note or -1; inputOverride: per pitch a class, BG_NOT_READ or BG_AUTO.
function bgKitMap(pads, padOverride, inputOverride) {
    var list = pads || [];
    var byKind = {}, byNote = {}, claimed = {}, i, c;
    var tomsUnsure = [];
    for (i = 0; i < list.length; i++) {
        var kind = bgPadKind(list[i].name);
        byNote[list[i].note] = list[i];
        if (kind !== "") claimed[list[i].note] = true;
        if (kind === "tom") tomsUnsure.push(list[i]);
        else if (kind !== "") (byKind[kind] = byKind[kind] || []).push(list[i]);
    }
    // Toms of no stated height fill the tom lanes left free, lowest note to the lowest tom.
    tomsUnsure.sort(function (a, b) { return a.note - b.note; });
    var freeToms = [];
    for (i = 0; i < BG_TOMS.length; i++) if (!byKind[BG_TOMS[i]]) freeToms.push(BG_TOMS[i]);
    for (i = 0; i < tomsUnsure.length; i++) {
        var lane = freeToms[Math.min(i, freeToms.length - 1)];
        if (lane === undefined) lane = BG_TOMS[BG_TOMS.length - 1];
        (byKind[lane] = byKind[lane] || []).push(tomsUnsure[i]);
    }
    var inputMap = bgDefaultInputMap();
    for (i = 0; i < list.length; i++) {
        var k = bgPadKind(list[i].name);
        if (k !== "" && k !== "tom") inputMap[list[i].note] = BG_SPEC.classes.indexOf(k);
    }
    var lanes = [];
    for (c = 0; c < BG_CLASSES; c++) {
        var named = byKind[BG_SPEC.classes[c]] || [];
        var gm = BG_SPEC.pitches.output[c];
        var entry;
        if (padOverride[c] >= 0) {
            var p = byNote[padOverride[c]];
            entry = { note: padOverride[c], name: p ? p.name : "", source: "override" };
        } else if (named.length > 0) {
            var best = named[0];
            for (i = 0; i < named.length; i++) {
                inputMap[named[i].note] = c;
                if (named[i].note === gm) best = named[i];
            }
            entry = { note: best.note, name: best.name, source: "pad" };
        } else if (pads === null || (byNote[gm] && !claimed[gm])) {
            entry = { note: gm, name: byNote[gm] ? byNote[gm].name : "", source: "gm" };
        } else {
            entry = { note: gm, name: "", source: "empty" };
        }
        lanes.push(entry);
    }
    for (c = 0; c < BG_CLASSES; c++) {   // what a lane writes reads back as that lane
        if (lanes[c].source !== "empty") inputMap[lanes[c].note] = c;
    }
    for (i = 0; i < inputOverride.length; i++) if (inputOverride[i] !== BG_AUTO) inputMap[i] = inputOverride[i];
    return { lanes: lanes, inputMap: inputMap };
}

// The output pitch of each lane.
function bgOutputPitches(kit) {
    var out = [];
    for (var c = 0; c < kit.lanes.length; c++) out.push(kit.lanes[c].note);
    return out;
}

// The text of a lane's pad menu entry: "C1 Kick 808", "D1 (GM)", "D1 (no pad)".
function bgPadLabel(note, name, source) {
    return bgNoteName(note) + " " + (name !== "" ? name : source === "empty" ? "(no pad)" : "(GM)");
}

// A lane's pad menu: item 0 "auto: <what auto gives>", then one item per pad (or per pitch without
// a Drum Rack). Returns {items, notes, selected}: notes[i] is the note of item i (-1 for auto).
function bgPadMenu(kit, autoKit, pads, c) {
    var items = ["auto: " + bgPadLabel(autoKit.lanes[c].note, autoKit.lanes[c].name, autoKit.lanes[c].source)];
    var notes = [-1];
    var i;
    if (pads) {
        for (i = 0; i < pads.length; i++) {
            items.push(bgPadLabel(pads[i].note, pads[i].name, "pad"));
            notes.push(pads[i].note);
        }
    } else {
        for (i = 0; i < BG_MIDI_PITCHES; i++) {
            items.push(bgNoteName(i) + " " + i);
            notes.push(i);
        }
    }
    var selected = 0;
    if (kit.lanes[c].source === "override") {
        selected = notes.indexOf(kit.lanes[c].note);
        if (selected < 0) {   // the chosen pad is empty now: keep the choice, show it
            items.push(bgPadLabel(kit.lanes[c].note, "", "empty"));
            notes.push(kit.lanes[c].note);
            selected = items.length - 1;
        }
    }
    return { items: items, notes: notes, selected: selected };
}

// One status line summing up the map: where each lane comes from.
function bgKitSummary(kit, rackName) {
    var byName = 0, gm = [], empty = [], c;
    for (c = 0; c < kit.lanes.length; c++) {
        var s = kit.lanes[c].source;
        if (s === "pad" || s === "override") byName++;
        else if (s === "gm") gm.push(bgLaneLabel(c));
        else empty.push(bgLaneLabel(c) + " " + bgNoteName(kit.lanes[c].note));
    }
    var text = "Drum Rack '" + rackName + "': " + byName + " lanes by pad name";
    if (gm.length) text += ", by GM note: " + gm.join(", ");
    if (empty.length) text += "; no pad for " + empty.join(", ");
    return text;
}

if (typeof module !== "undefined") {
    module.exports = {
        bgNoteName: bgNoteName, bgLaneLabel: bgLaneLabel, bgPadKind: bgPadKind, bgKitMap: bgKitMap,
        bgOutputPitches: bgOutputPitches, bgPadLabel: bgPadLabel, bgPadMenu: bgPadMenu, bgKitSummary: bgKitSummary
    };
}
