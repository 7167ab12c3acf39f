// Beat Guide device: Max glue (classic `js` object, ES5). Pure logic lives in bg_core.js.
// Talks to `beatguide serve` through [udpsend] / [udpreceive] (docs/osc-protocol.md).

autowatch = 1;
inlets = 1;
outlets = 6;
var OUT_OSC = 0;      // -> udpsend: OSC messages, "port N"
var OUT_RECEIVE = 1;  // -> udpreceive: "port N"
var OUT_VIEW = 2;     // -> jsui bg_grid.js
var OUT_STATUS = 3;   // -> status comment: "set ..."
var OUT_SAVE = 4;     // -> pattr (blob saved with the Live Set)
var OUT_INCLASS = 5;  // -> input-map class menu: "set N"

include("bg_core.js");

var HEARTBEAT_MS = 2000;
var SERVER_TIMEOUT_MS = 5000;
var NOT_RUNNING = "server not running: start it with `beatguide serve`";

var state = bgEmptyState();
var controls = {
    model: 2, temperature: 1.0, variations: 4, seed: 0, lockScore: 0, lockGroove: 0,
    sendPort: 9010, replyPort: 9011
};
var live = null;          // set once the device is loaded (live.thisdevice bang)
var nextId = 1;
var pending = null;       // {id, req, replies, t0}
var pings = {};           // request id -> send time (ms)
var lastPongMs = 0;
var lastRtt = -1;
var lastRequest = null;   // the last generate request sent (for Regenerate)
var lastResult = null;    // {req, replies, done}
var ghost = bgFilled(BG_CLASSES, 0);
var heartbeat = null;
var taps = null;          // {startBeat, notes} while recording
var inPitch = 36;

function now() { return new Date().getTime(); }

function status(text) { outlet(OUT_STATUS, "set", text); }

// ---------------------------------------------------------------- init and heartbeat

function bang() {
    if (heartbeat !== null) heartbeat.cancel();
    live = {
        song: new LiveAPI(null, "live_set"),
        track: new LiveAPI(null, "this_device canonical_parent")
    };
    outlet(OUT_OSC, "port", controls.sendPort);
    outlet(OUT_RECEIVE, "port", controls.replyPort);
    refreshView();
    heartbeat = new Task(beat, this);
    heartbeat.interval = HEARTBEAT_MS;
    heartbeat.repeat();
    beat();
}

function beat() {
    var id = nextId++;
    pings[id] = now();
    outlet(OUT_OSC, "/bg/ping", id, controls.replyPort);
    if (lastPongMs === 0 || now() - lastPongMs > SERVER_TIMEOUT_MS) status(NOT_RUNNING);
    if (taps !== null) checkTaps();
}

// ---------------------------------------------------------------- controls (live.* parameters)

function model(i) { controls.model = Math.max(0, Math.min(BG_MODELS.length - 1, i)); }
function temperature(f) { controls.temperature = Math.max(0.05, Math.min(3.0, f)); }
function variations(n) { controls.variations = Math.max(1, Math.min(8, n)); }
function seed(n) { controls.seed = Math.max(0, n); }
function lock_score(b) { controls.lockScore = b ? 1 : 0; }
function lock_groove(b) { controls.lockGroove = b ? 1 : 0; }
function send_port(n) {
    controls.sendPort = n;
    outlet(OUT_OSC, "port", n);
}
function reply_port(n) {
    controls.replyPort = n;
    outlet(OUT_RECEIVE, "port", n);
}
function lanemode(lane, mode) { state.laneModes[lane] = mode; }
function outpitch(cls, pitch) { state.output[cls] = pitch; }
function inpitch(p) {
    inPitch = p;
    outlet(OUT_INCLASS, "set", state.inputMap[p] < 0 ? BG_CLASSES : state.inputMap[p]);
}
// menu index 0-8 = class, 9 = not read
function inclass(c) {
    state.inputMap[inPitch] = c >= BG_CLASSES ? -1 : c;
    save();
}

// ---------------------------------------------------------------- edits from the grid (jsui)

function cell(lane, step, on) {
    if (on) state.score[lane] |= (1 << step);
    else state.score[lane] &= ~(1 << step);
    state.score[lane] |= 0;
    changed();
}

function accent(step, on) {
    if (on) state.accents |= (1 << step);
    else state.accents &= ~(1 << step);
    state.accents |= 0;
    changed();
}

function changed() {
    save();
    refreshView();
}

function save() { outlet(OUT_SAVE, bgStateToList(state)); }

// From pattr when the Live Set loads.
function restore() {
    if (bgStateFromList(state, arrayfromargs(arguments))) refreshView();
}

function refreshView() {
    outlet(OUT_VIEW, ["score"].concat(state.score));
    outlet(OUT_VIEW, ["ghost"].concat(ghost));
    outlet(OUT_VIEW, "accents", state.accents);
    outlet(OUT_VIEW, ["groove", state.groove.mask].concat(state.groove.velocities, state.groove.offsets));
}

// ---------------------------------------------------------------- reading clips

function detailClip() {
    var clip = new LiveAPI(null, "live_set view detail_clip");
    if (clip.id == 0) return null;
    return clip;
}

function clipNotes(clip) {
    var length = clip.get("length")[0];
    var res = clip.call("get_notes_extended", 0, 128, 0, length);
    if (typeof res === "string") res = JSON.parse(res);
    return res.notes;
}

// capture score | groove | accents: from the clip shown in the detail view.
function capture(what, v) {
    if (!live || v === 0) return;
    var clip = detailClip();
    if (clip === null) {
        status("select a MIDI clip to capture the " + what + " from");
        return;
    }
    var notes = clipNotes(clip);
    if (what === "score") state.score = bgScoreFromNotes(notes, state.inputMap);
    if (what === "groove") state.groove = bgGrooveFromNotes(notes);
    if (what === "accents") state.accents = bgAccentsFromNotes(notes, state.inputMap);
    status("captured the " + what + " of '" + clip.get("name") + "'");
    changed();
}

// ---------------------------------------------------------------- tap recording (2 bars)

function record_taps(v) {
    if (!live || v === 0) return;
    var t = live.song.get("current_song_time")[0];
    var bar = 4 * live.song.get("signature_numerator")[0] / live.song.get("signature_denominator")[0];
    taps = { startBeat: Math.ceil(t / bar) * bar, notes: [] };
    status("recording taps: 2 bars from beat " + taps.startBeat + " (press play)");
}

// From [midiparse]: pitch velocity (note-ons only).
function tap(pitch, velocity) {
    if (taps === null || velocity === 0) return;
    var t = live.song.get("current_song_time")[0] - taps.startBeat;
    if (t >= -BG_STEP_BEATS / 2 && t < BG_LOOP_BEATS) {
        taps.notes.push({ pitch: pitch, start_time: t < 0 ? t + BG_LOOP_BEATS : t, velocity: velocity, mute: 0 });
    }
    checkTaps();
}

function checkTaps() {
    var t = live.song.get("current_song_time")[0];
    if (live.song.get("is_playing")[0] && t < taps.startBeat + BG_LOOP_BEATS) return;
    if (!live.song.get("is_playing")[0] && taps.notes.length === 0) return;  // not started yet
    state.groove = bgGrooveFromNotes(taps.notes);
    status("recorded " + taps.notes.length + " taps into the groove");
    taps = null;
    changed();
}

// ---------------------------------------------------------------- generate

function makeRequest(seedValue) {
    var name = BG_MODELS[controls.model];
    var anyScore = false;
    for (var c = 0; c < BG_CLASSES; c++) if (state.score[c] !== 0) anyScore = true;
    var last = lastResult !== null ? lastResult.done : null;
    return {
        id: nextId++,
        replyPort: controls.replyPort,
        model: name,
        variations: controls.variations,
        temperature: controls.temperature,
        seed: seedValue,
        scoreSeed: controls.lockScore && last ? last.scoreSeed : -1,
        grooveSeed: controls.lockGroove && last ? last.grooveSeed : -1,
        useScore: anyScore,
        useGroove: state.groove.mask !== 0,
        useAccents: state.accents !== 0,
        state: JSON.parse(JSON.stringify(state))
    };
}

function send(req) {
    pending = { id: req.id, req: req, replies: new BgReplies(req.id, req.variations), t0: now() };
    lastRequest = req;
    outlet(OUT_OSC, ["/bg/generate"].concat(bgGenerateArgs(req)));
    status("generating " + req.variations + " x " + req.model + " ...");
}

function generate(v) {
    if (!live || v === 0) return;
    send(makeRequest(controls.seed));
}

// Same inputs, new hit seed; latents locked by the toggles keep the seeds /bg/done reported.
function regenerate(v) {
    if (!live || v === 0) return;
    if (lastRequest === null) {
        generate();
        return;
    }
    var req = JSON.parse(JSON.stringify(lastRequest));
    var last = lastResult !== null ? lastResult.done : null;
    req.id = nextId++;
    req.seed = lastRequest.seed + lastRequest.variations;
    req.scoreSeed = controls.lockScore && last ? last.scoreSeed : -1;
    req.grooveSeed = controls.lockGroove && last ? last.grooveSeed : -1;
    send(req);
}

// ---------------------------------------------------------------- replies from udpreceive

function anything() {
    var args = arrayfromargs(arguments);
    var address = messagename;
    if (address === "/bg/pong") return onPong(args);
    if (address === "/bg/error") return onError(args);
    if (pending === null || args[0] !== pending.id) return;  // stale or foreign reply
    var body = args.slice(1);
    if (address === "/bg/notes") pending.replies.addNotes(body);
    else if (address === "/bg/aux_score") pending.replies.addAux("score", body);
    else if (address === "/bg/aux_groove") pending.replies.addAux("groove", body);
    else if (address === "/bg/aux_accents") pending.replies.addAux("accents", body);
    else if (address === "/bg/done") onDone(body);
}

function onPong(args) {
    var sent = pings[args[0]];
    delete pings[args[0]];
    if (sent === undefined) return;
    var first = lastPongMs === 0 || now() - lastPongMs > SERVER_TIMEOUT_MS;
    lastPongMs = now();
    lastRtt = lastPongMs - sent;
    var models = args.slice(3);
    var wanted = BG_MODELS[controls.model];
    if (models.indexOf(wanted) < 0) status("connected (" + lastRtt + " ms), but model " + wanted + " is not loaded: " + models.join(" "));
    else if (first) status("connected (" + lastRtt + " ms round trip), models: " + models.join(" "));
}

function onError(args) {
    if (pending !== null && (args[0] === pending.id || args[0] === -1)) pending = null;
    status("server error " + args[1] + ": " + args[2]);
}

function onDone(args) {
    var p = pending;
    pending = null;
    var done = p.replies.finish(args);
    if (!done.ok) {
        status(done.error);
        return;
    }
    lastResult = { req: p.req, replies: p.replies, done: done };
    var first = p.replies.variations[0];
    ghost = first.auxScore !== null ? first.auxScore : bgFilled(BG_CLASSES, 0);
    refreshView();
    var clips = [];
    for (var v = 0; v < p.replies.variations.length; v++) {
        clips.push({
            name: bgClipName(p.req.model, v, p.req.temperature),
            notes: bgLiveNotes(p.replies.variations[v].notes, p.req.state.output)
        });
    }
    var written = writeClips(clips);
    if (written) {
        status(clips.length + " variations written (" + Math.round(now() - p.t0) + " ms, server " +
            Math.round(done.elapsedMs) + " ms, seeds " + done.scoreSeed + "/" + done.grooveSeed + ")");
    }
}

// write_aux: the model's readings (aux score and groove) of the last result, as clips.
function write_aux(v) {
    if (!live || v === 0) return;
    if (lastResult === null || lastResult.replies.variations[0].auxScore === null) {
        status("no reconstruction to write: generate with agvae2 or agvae11 first");
        return;
    }
    var r = lastResult;
    var clips = [];
    for (var i = 0; i < r.replies.variations.length; i++) {
        var a = r.replies.variations[i];
        if (a.auxScore === null) continue;  // lost datagram
        clips.push({ name: bgClipName(r.req.model, i, r.req.temperature, "aux score"),
            notes: bgScoreNotes(a.auxScore, r.req.state.output) });
        if (a.auxGroove === null) continue;  // lost datagram
        clips.push({ name: bgClipName(r.req.model, i, r.req.temperature, "aux groove"),
            notes: bgGrooveNotes(a.auxGroove, r.req.state.output[0]) });
    }
    if (writeClips(clips)) status(clips.length + " reconstruction clips written");
}

// ---------------------------------------------------------------- writing clips

// The index of the selected clip slot when it is on this device's track, else -1.
function selectedSlot(trackPath) {
    var slot = new LiveAPI(null, "live_set view highlighted_clip_slot");
    if (slot.id == 0) return -1;
    var path = String(slot.path).replace(/"/g, "");
    var prefix = trackPath + " clip_slots ";
    return path.indexOf(prefix) === 0 ? parseInt(path.slice(prefix.length), 10) : -1;
}

// Writes clips into the first empty slots below the selected one. Never touches a slot that
// holds a clip: when there are not enough empty slots, writes nothing and says so.
function writeClips(clips) {
    var trackPath = String(live.track.path).replace(/"/g, "");
    var count = live.track.getcount("clip_slots");
    var hasClip = [];
    for (var i = 0; i < count; i++) {
        hasClip.push(new LiveAPI(null, trackPath + " clip_slots " + i).get("has_clip")[0] ? 1 : 0);
    }
    var start = selectedSlot(trackPath);
    var slots = bgChooseSlots(hasClip, start, clips.length);
    if (slots === null) {
        var free = 0;
        for (i = start + 1; i < count; i++) if (!hasClip[i]) free++;
        status("not written: " + clips.length + " clips need " + clips.length + " empty slots below slot " +
            (start + 1) + ", only " + free + " free. Add scenes or pick a slot higher up.");
        return false;
    }
    for (i = 0; i < clips.length; i++) {
        var slotPath = trackPath + " clip_slots " + slots[i];
        new LiveAPI(null, slotPath).call("create_clip", BG_LOOP_BEATS);
        var clip = new LiveAPI(null, slotPath + " clip");
        clip.call("add_new_notes", { notes: clips[i].notes });
        clip.set("looping", 1);
        clip.set("name", clips[i].name);
    }
    return true;
}
