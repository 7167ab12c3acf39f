// Beat Guide device: Max glue (classic `js` object, ES5). Talks to `beatguide serve` through
// [udpsend] / [udpreceive] (docs/osc-protocol.md), plays the Drum Rack after it, writes clips.
// Pure logic lives in bg_core.js and bg_kit.js, the Live Object Model side in bg_live.js.

inlets = 1;
outlets = 6;
var OUT_OSC = 0;       // -> udpsend: OSC messages, "port N"
var OUT_RECEIVE = 1;   // -> udpreceive: "port N"
var OUT_VIEW = 2;      // -> jsui bg_grid.js
var OUT_STATUS = 3;    // -> status comment: "set ..."
var OUT_SAVE = 4;      // -> pattr bg_state (a blob parameter: saved with the Live Set)
var OUT_LAUNCHER = 5;  // -> node.script bg_launcher.js, when the device has one: "port N", "command ...", "reply_port"

include("bg_spec.js");
include("bg_core.js");
include("bg_kit.js");
include("bg_live.js");

var HEARTBEAT_MS = 2000;
var SERVER_TIMEOUT_MS = 5000;
var GENERATE_TIMEOUT_MS = 20000;  // a request with no /bg/done by then is given up (said on the status line)
var MAX_SEED = 99999;           // the Seed box's range (patcher.MAX_SEED): Regenerate draws a hit seed in it
var AUTO_PORTS = [49152, 65535]; // the dynamic port range: an automatic reply port without the launcher
var TAPS_MS = 100;              // how often a tap recording checks the transport
var RESCAN_MS = 100;            // wait after a change in the Live Set before reading the kit again
var TICKS_PER_BEAT = 480;       // Max's transport resolution ([when] reports ticks)
var MONITOR_OFF = 2;            // Track.current_monitoring_state: 0 In, 1 Auto, 2 Off

var state = bgEmptyState();
var controls = { temperature: 1.0, variations: 4, seed: 0, lockScore: 0, lockGroove: 0 };
var started = false;            // live.thisdevice has banged: the Live API is usable
var where = null;               // bgWhere(): the track and device chain this device sits in
var rack = null;                // bgFindDrumRack(): the Drum Rack played, or null
var pads = null;                // its pads holding a chain, or null without a Drum Rack
var kit = bgKitMap(null, state.padOverride, state.inputOverride);
var watchers = [];
// The server as the device sees it: when it started waiting for an answer, the last answer, and
// whether the status line has said it is down (said once, so it does not hide later messages).
var server = { since: 0, lastPongMs: 0, rtt: -1, version: 0, models: [], down: true, told: false };
var launcherSaidMs = 0;         // when the launcher last reported (its report wins while it works)
var launcherText = "";          // what it last said
var nextId = 1 + Math.floor(Math.random() * 1000000);  // distinct ids for each device in a Set
var pending = null;             // {id, req, replies, t0}
var pings = {};                 // request id -> send time (ms)
var lastRequest = null;         // the last generate request sent (for Regenerate)
var lastResult = null;          // {req, replies, done}
var ghost = bgFilled(BG_CLASSES, 0);
var taps = null;                // tap recording: {startBeat, notes, rolling, countingIn, sawPlaying, ignored, watchers}
var replyPort = 0;              // the port [udpreceive] listens on: state.replyPort, or automatic (0 there)
var inPitch = BG_SPEC.pitches.output[0];
var storing = false;            // pattr echoes what it is sent: not a restore
var heartbeat = new Task(beat, this);
var tapClock = new Task(checkTaps, this);
var rescanTask = new Task(rescanKit, this);

function now() { return new Date().getTime(); }

function status(text) { outlet(OUT_STATUS, "set", text); }

// A box of the device patch by its scripting name.
var devicePatcher = this.patcher;
function box(name) { return devicePatcher.getnamed(name); }

function currentModel() {
    for (var i = 0; i < server.models.length; i++) if (server.models[i].name === state.model) return server.models[i];
    return null;
}

function currentCaps() {
    var m = currentModel();
    return m === null ? null : m.caps;
}

// ---------------------------------------------------------------- start and heartbeat

function bang() {
    started = true;
    server.since = now();
    outlet(OUT_OSC, "port", state.sendPort);
    if (state.replyPort !== 0) useReplyPort(state.replyPort);
    else if (replyPort === 0) useReplyPort(AUTO_PORTS[0] + Math.floor(Math.random() * (AUTO_PORTS[1] - AUTO_PORTS[0])));
    tellLauncher();
    if (state.replyPort === 0) outlet(OUT_LAUNCHER, "reply_port");   // a port the system says is free
    box("bg_inpitch").message("set", inPitch);
    var menu = box("bg_inclass");
    menu.message("clear");
    for (var c = 0; c < BG_CLASSES; c++) menu.message("append", bgLaneLabel(c));
    menu.message("append", "not read");
    menu.message("append", "automatic");
    rescanKit();
    refreshView();
    heartbeat.interval = HEARTBEAT_MS;
    heartbeat.repeat();
    beat();
}

function beat() {
    var id = nextId++;
    pings[id] = now();
    outlet(OUT_OSC, BG_ADDR.ping, id, replyPort);
    if (pending !== null && now() - pending.t0 > GENERATE_TIMEOUT_MS) {
        pending = null;
        status("no answer to Generate within " + GENERATE_TIMEOUT_MS / 1000 + " s (server port " + state.sendPort +
            ", replies to port " + replyPort + "): nothing written. Press Generate again.");
    }
    if (now() - Math.max(server.since, server.lastPongMs) <= SERVER_TIMEOUT_MS) return;
    server.down = true;
    if (server.told || launcherBusy()) return;
    server.told = true;
    status("no server answers on port " + state.sendPort + " (replies to port " + replyPort +
        "): start it with `beatguide serve`, or check Server / Reply port (another program may hold the reply port)");
}

// Whether the launcher reported lately: while it looks for or starts a server it says so every few
// seconds, and its word wins over "no server".
function launcherBusy() { return now() - launcherSaidMs <= SERVER_TIMEOUT_MS; }

// ---------------------------------------------------------------- the Drum Rack

// Reads where the device sits and the Drum Rack it plays, and watches both for changes.
function rescanKit() {
    if (!started) return;
    bgUnwatch(watchers);
    watchers = [];
    where = bgWhere();
    rack = bgFindDrumRack(where);   // an empty Drum Rack too: it is watched, and read once it holds samples
    pads = rack === null ? null : bgReadPads(rack.path);
    var chains = rack === null ? [where.chainPath] : rack.chains;
    for (var i = 0; i < chains.length; i++) watchers.push(bgWatch(chains[i], "devices", kitChanged));
    if (rack !== null) {
        watchers.push(bgWatch(rack.path, "chains", kitChanged));
        watchers.push(bgWatch(rack.path, "name", kitChanged));
        for (i = 0; i < pads.length; i++) {
            watchers.push(bgWatch(pads[i].path, "name", kitChanged));
            watchers.push(bgWatch(pads[i].path, "chains", kitChanged));
        }
    }
    remap();
    if (rack === null) {
        status("no Drum Rack after this device: lanes play and read General MIDI notes (kick C1 36, snare D1 38, ...)");
    } else if (pads.length === 0) {
        status("Drum Rack '" + rack.name + "' is empty: drop samples on its pads; until then lanes write General MIDI notes");
    } else {
        status(bgKitSummary(kit, rack.name));
    }
}

function kitChanged() { rescanTask.schedule(RESCAN_MS); }

// Recomputes the kit map from the pads and the producer's overrides; shows it in the pad menus.
function remap() {
    kit = bgKitMap(pads, state.padOverride, state.inputOverride);
    var auto = bgKitMap(pads, bgFilled(BG_CLASSES, -1), state.inputOverride);
    for (var c = 0; c < BG_CLASSES; c++) {
        var menu = bgPadMenu(kit, auto, pads, c);
        var m = box("bg_pad_" + c);
        m.message("clear");
        for (var i = 0; i < menu.items.length; i++) m.message("append", menu.items[i]);
        m.message("set", menu.selected);
    }
}

// pad <lane> <menu item>: the producer picks the pad a lane plays (item 0: automatic).
function pad(lane, item) {
    var auto = bgKitMap(pads, bgFilled(BG_CLASSES, -1), state.inputOverride);
    var menu = bgPadMenu(kit, auto, pads, lane);
    if (item < 0 || item >= menu.notes.length) return;
    state.padOverride[lane] = menu.notes[item];
    store();
    remap();
    var l = kit.lanes[lane];
    status(bgLaneLabel(lane) + " plays " + bgPadLabel(l.note, l.name, l.source) +
        (l.source === "override" ? " (your choice)" : " (automatic)"));
}

// ---------------------------------------------------------------- controls

function temperature(f) { controls.temperature = f; }
function variations(n) { controls.variations = n; }
function seed(n) { controls.seed = Math.max(0, Math.round(n)); }
function lock_score(b) { controls.lockScore = b ? 1 : 0; }
function lock_groove(b) { controls.lockGroove = b ? 1 : 0; }
function lanemode(lane, mode) { state.laneModes[lane] = mode; }

function latents(i) { state.latentSource = i; }

// ---------------------------------------------------------------- phrases and amounts
// Bars and Fill (live.menu items) and the Timing and Velocity boxes (percent): Live parameters,
// saved with the Set. Requests carry them as bgPhrase(); clips take their length from /bg/done.

var phraseControls = {
    bars: 0, fill: BG_SPEC.phrase.fill_modes.indexOf(BG_SPEC.phrase.default_fill),
    timing: BG_SPEC.phrase.amount[1], velocity: BG_SPEC.phrase.amount[1]
};
function bars(i) { phraseControls.bars = i; }
function fill(i) { phraseControls.fill = i; }
function timing(f) { phraseControls.timing = f; }
function velocity(f) { phraseControls.velocity = f; }

function currentPhrase() {
    return bgPhrase(phraseControls.bars, phraseControls.fill, phraseControls.timing, phraseControls.velocity);
}

// model <menu item>: the model menu lists what the server reported.
function model(i) {
    if (i < 0 || i >= server.models.length) return;
    state.model = server.models[i].name;
    store();
    showModel();
}

function validPort(n) { return n >= BG_SPEC.ports.reply_min && n <= BG_SPEC.ports.reply_max; }

// send_port N: the producer's Server port (saved with the Set).
function send_port(n) {
    if (!validPort(n)) {
        status("Server port must be " + BG_SPEC.ports.reply_min + "-" + BG_SPEC.ports.reply_max);
        box("bg_send_port").message("set", state.sendPort);
        return;
    }
    state.sendPort = n;
    store();
    useSendPort(n);
    outlet(OUT_LAUNCHER, "port", n);
}

function useSendPort(n) {
    state.sendPort = n;
    outlet(OUT_OSC, "port", n);
    box("bg_send_port").message("set", n);
    server.since = now();
    server.told = false;
}

// reply_port N: the producer's Reply port (saved with the Set), or 0: automatic, a free port chosen
// afresh each time the device loads (so duplicated devices never share one).
function reply_port(n) {
    if (n !== 0 && !validPort(n)) {
        status("Reply port must be " + BG_SPEC.ports.reply_min + "-" + BG_SPEC.ports.reply_max + " (0: automatic)");
        box("bg_reply_port").message("set", replyPort);
        return;
    }
    state.replyPort = n;
    store();
    if (n !== 0) useReplyPort(n);
    else outlet(OUT_LAUNCHER, "reply_port");
}

function useReplyPort(n) {
    replyPort = n;
    outlet(OUT_RECEIVE, "port", n);
    box("bg_reply_port").message("set", n);
    server.since = now();
    server.told = false;
}

// inpitch <pitch>: which pitch the input-map menu edits; the menu shows how it reads now.
function inpitch(p) {
    inPitch = p;
    var cls = kit.inputMap[p];
    box("bg_inclass").message("set", cls === BG_NOT_READ ? BG_CLASSES : cls);   // items: lanes, not read, automatic
    var how = state.inputOverride[p] !== BG_AUTO ? "your choice" : pads === null ? "General MIDI" : "Drum Rack and General MIDI";
    status("pitch " + bgNoteName(p) + " (" + p + ") reads as " + (cls === BG_NOT_READ ? "nothing" : bgLaneLabel(cls)) +
        " (" + how + ")");
}

// inclass <item>: a lane (0 to lanes - 1), then "not read", then "automatic" again.
function inclass(item) {
    state.inputOverride[inPitch] = item < BG_CLASSES ? item : item === BG_CLASSES ? BG_NOT_READ : BG_AUTO;
    store();
    remap();
    inpitch(inPitch);
}

// launcher <kind> ...: from the Node for Max launcher. "status <text...>" goes to the status
// line; "busy" says it is still looking (while it is, the device does not call the server missing);
// "port N" is the port of the server it found or started (used, not saved: loading a Set leaves it
// unmodified); "reply_port N" a free port for the replies; "ready" asks for the settings.
function launcher(kind) {
    var args = arrayfromargs(arguments).slice(1);
    if (kind === "status" || kind === "busy") launcherSaidMs = now();
    if (kind === "status") {
        launcherText = args.join(" ");
        status("server: " + launcherText);
    }
    else if (kind === "ready") {
        tellLauncher();
        if (state.replyPort === 0) outlet(OUT_LAUNCHER, "reply_port");
    }
    else if (kind === "port" && validPort(args[0]) && args[0] !== state.sendPort) useSendPort(args[0]);
    // not while a request is out: its replies come to the port it named
    else if (kind === "reply_port" && validPort(args[0]) && state.replyPort === 0 && pending === null) useReplyPort(args[0]);
}

// The launcher's settings: the server port and the server command (empty: it searches).
function tellLauncher() {
    outlet(OUT_LAUNCHER, "port", state.sendPort);
    outlet(OUT_LAUNCHER, ["command"].concat(state.command === BG_NONE ? [] : [state.command]));
}

// server_command [text] <text>: the server command typed in the launcher's text field.
function server_command() {
    var words = arrayfromargs(arguments);
    if (words[0] === "text") words = words.slice(1);
    var text = words.join(" ").replace(/^ +| +$/g, "");
    state.command = text === "" ? BG_NONE : text;
    store();
    tellLauncher();
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

// stroke 1 | 0: the grid's mouse went down | up. The cells painted in between are saved once, at
// the end, so a drag is one change of the Set (one undo step), not one per cell.
var inStroke = false, strokeChanged = false;
function stroke(on) {
    inStroke = on ? true : false;
    if (inStroke || !strokeChanged) return;
    strokeChanged = false;
    store();
}

function changed() {
    if (inStroke) strokeChanged = true;
    else store();
    refreshView();
}

// The state goes to the pattr blob parameter, which Live saves with the Set.
function store() {
    storing = true;
    outlet(OUT_SAVE, bgStateToList(state));
    storing = false;
}

// From pattr when the Live Set loads (and as its echo of store(), which is ignored).
function restore() {
    if (storing) return;
    var how = bgStateFromList(state, arrayfromargs(arguments));
    if (how === "other") status("the saved state is from another version of the device: not restored");
    if (how !== "ok") return;
    useSendPort(state.sendPort);
    if (state.replyPort !== 0) useReplyPort(state.replyPort);
    var command = box("bg_command");   // the launcher's text field, when the device has the launcher
    if (command !== null) command.message("set", state.command === BG_NONE ? "" : state.command);
    tellLauncher();
    if (started) remap();
    showModel();
    refreshView();
}

function refreshView() {
    outlet(OUT_VIEW, ["score"].concat(state.score));
    outlet(OUT_VIEW, ["ghost"].concat(ghost));
    outlet(OUT_VIEW, "accents", state.accents);
    outlet(OUT_VIEW, ["groove", state.groove.mask].concat(state.groove.velocities, state.groove.offsets));
}

// ---------------------------------------------------------------- the model menu and its controls

// Fills the model menu from the server's list, and enables the controls the model takes.
function showModel() {
    var menu = box("bg_model");
    menu.message("clear");
    for (var i = 0; i < server.models.length; i++) menu.message("append", server.models[i].name);
    var m = currentModel();
    if (m === null && state.model !== BG_NONE && server.models.length > 0) {
        menu.message("append", state.model + " (not loaded)");
        menu.message("set", server.models.length);
    } else if (m !== null) {
        menu.message("set", server.models.indexOf(m));
    }
    var use = bgControls(currentCaps());
    for (var c = 0; c < BG_CLASSES; c++) box("bg_lanemode_" + c).message("active", use.lanes ? 1 : 0);
    box("bg_capture_score").message("active", use.score ? 1 : 0);
    box("bg_capture_groove").message("active", use.groove ? 1 : 0);
    box("bg_record_taps").message("active", use.groove ? 1 : 0);
    box("bg_capture_accents").message("active", use.accents ? 1 : 0);
    box("bg_latents").message("active", use.latents ? 1 : 0);
    box("bg_write_aux").message("active", use.aux ? 1 : 0);
    outlet(OUT_VIEW, "enable", use.score ? 1 : 0, use.accents ? 1 : 0, use.groove ? 1 : 0);
}

// The model a new device starts with: the one taking the most gestures (the first when the server
// does not say).
function defaultModel(models) {
    var best = models[0];
    for (var i = 1; i < models.length; i++) {
        if (models[i].caps !== null && best.caps !== null && models[i].caps.gestures.length > best.caps.gestures.length) {
            best = models[i];
        }
    }
    return best.name;
}

// ---------------------------------------------------------------- reading clips

// capture score | groove | accents: from the MIDI clip shown in the detail view.
function capture(what, v) {
    if (!started || v === 0) return;
    var clip = bgDetailClip();
    if (clip === null) {
        status("select a MIDI clip (its first 2 bars) to capture the " + what + " from");
        return;
    }
    if (!clip.midi) {
        status("'" + clip.name + "' is an audio clip: select a MIDI clip to capture the " + what + " from");
        return;
    }
    var notes = bgClipNotes(clip.api);
    if (what === "score") state.score = bgScoreFromNotes(notes, kit.inputMap);
    else if (what === "groove") state.groove = bgGrooveFromNotes(notes, kit.inputMap);
    else if (what === "accents") state.accents = bgAccentsFromNotes(notes, kit.inputMap);
    else return;
    status("captured the " + what + " of '" + clip.name + "'");
    changed();
}

// ---------------------------------------------------------------- tap recording (one loop)

// What keeps pad taps from reaching the device ("" when they reach it): MIDI comes through a
// track that is armed with monitoring Auto, or whose monitoring is In.
function tapInputProblem() {
    var track = bgApi(bgWhere().trackPath);
    var monitoring = Number(track.get("current_monitoring_state")[0]);
    if (monitoring === MONITOR_OFF) return "set this track's monitoring to In or Auto (it is Off, so no taps reach Beat Guide)";
    if (monitoring !== 0 && !bgFlag(track, "arm")) return "arm this track (or set its monitoring to In) so your taps reach Beat Guide";
    return "";
}

// record_taps: 2 bars of taps from the next bar line, recorded while Live plays (or counts in).
function record_taps(v) {
    if (!started || v === 0) return;
    if (taps !== null) bgUnwatch(taps.watchers);
    var t = bgTransport();
    taps = { startBeat: Math.ceil(t.beat / t.bar) * t.bar, notes: [], rolling: false, countingIn: false,
        sawPlaying: false, ignored: 0, watchers: [] };
    noteTransport(t);   // armed during a count-in: its taps count from the start
    taps.watchers.push(bgWatch("live_set", "is_playing", transportChanged),
        bgWatch("live_set", "is_counting_in", transportChanged));
    var span = "2 bars of taps from beat " + taps.startBeat;
    var problem = tapInputProblem();
    status((problem !== "" ? problem + "; then " : "") +
        (t.playing ? "recording " + span + ": tap any pad" : "press play to record " + span + " (the next bar line)"));
    tapClock.interval = TAPS_MS;
    tapClock.repeat();
}

// From [midiparse] note-ons with the transport position [when] read as they arrived (deferred to
// the low-priority thread: this function makes no Live API call). A tap counts only while Live plays
// (transportChanged and checkTaps keep the transport's state) and lands at its song time; during a count-in only a
// tap up to half a step before the first beat counts (an early first step).
function tap(pitch, velocity, ticks) {
    if (taps === null || velocity === 0) return;
    if (!taps.rolling) {
        if (taps.ignored++ === 0) status("taps are recorded only while Live plays: press play (recording starts at beat " + taps.startBeat + ")");
        return;
    }
    var t = ticks / TICKS_PER_BEAT - taps.startBeat;
    var from = -BG_STEP_BEATS / 2;
    if (t >= from && t < (taps.countingIn ? 0 : BG_LOOP_BEATS)) {
        taps.notes.push({ pitch: pitch, start_time: t, velocity: velocity, mute: 0 });
    }
}

function stopTaps() {
    bgUnwatch(taps.watchers);
    taps = null;
    tapClock.cancel();
}

// The transport as tap() needs it: whether taps count now, and whether Live is counting in.
function noteTransport(t) {
    taps.rolling = t.playing || t.countingIn;
    taps.countingIn = t.countingIn && !t.playing;
    if (t.playing) taps.sawPlaying = true;
}

// Live reports the transport starting, stopping or counting in. Only notes it: a Live API
// notification may not change the Set (the groove is saved by checkTaps, from the Task).
function transportChanged() {
    if (taps !== null) noteTransport(bgTransport());
}

// Every TAPS_MS while recording: ends the recording after its 2 bars, or when the transport stops.
function checkTaps() {
    if (taps === null) {
        tapClock.cancel();
        return;
    }
    var t = bgTransport();
    noteTransport(t);
    if (taps.sawPlaying && t.beat >= taps.startBeat + BG_LOOP_BEATS) finishTaps();
    else if (taps.sawPlaying && !taps.rolling) {
        status("the transport stopped while recording taps: recording cancelled (" + taps.notes.length +
            " taps), the groove is unchanged. Press Record taps and play again.");
        stopTaps();
    }
}

function finishTaps() {
    var n = taps.notes.length;
    if (n === 0) {
        var problem = tapInputProblem();
        status("no taps arrived in the 2 bars from beat " + taps.startBeat + ": " +
            (problem !== "" ? problem : "tap the pads (or a MIDI controller routed to this track)") + "; the groove is unchanged");
        stopTaps();
        return;
    }
    state.groove = bgGrooveFromNotes(taps.notes, kit.inputMap);
    var steps = bgSteps(state.groove.mask).reduce(function (a, b) { return a + b; }, 0);
    status("recorded " + n + " taps from beat " + taps.startBeat + " into the groove: " + steps + " of " + BG_STEPS +
        " steps hit (the loudest tap per step)" + (taps.ignored ? "; " + taps.ignored + " taps while stopped ignored" : ""));
    stopTaps();
    changed();
}

// ---------------------------------------------------------------- generate

function makeRequest(seedValue) {
    var last = lastResult !== null ? lastResult.done : null;
    return {
        id: nextId++, replyPort: replyPort, model: state.model, caps: currentCaps(),
        variations: controls.variations, temperature: controls.temperature, seed: seedValue,
        scoreSeed: controls.lockScore && last ? last.scoreSeed : -1,
        grooveSeed: controls.lockGroove && last ? last.grooveSeed : -1,
        output: bgOutputPitches(kit),
        phrase: currentPhrase(),
        state: JSON.parse(JSON.stringify(state)),
        target: bgTarget()
    };
}

// Whether the server can take a request now; says why not on the status line.
function canSend() {
    if (server.down) {
        if (launcherBusy()) status("no server yet (" + launcherText + "): press Generate once this line says `server: ready`");
        else status("no server: start it with `beatguide serve` (the status line says when it answers)");
        return false;
    }
    if (server.version !== BG_SPEC.protocol_version) return false;
    if (currentModel() === null) {
        status("model " + state.model + " is not loaded by the server; pick one of: " + modelNames());
        return false;
    }
    return true;
}

function send(req) {
    var problem = bgRequestProblem(req.model, req.caps, req.state);
    if (problem !== "") {
        status(problem);
        return;
    }
    pending = { id: req.id, req: req, replies: new BgReplies(req.id, req.variations), t0: now() };
    lastRequest = req;
    outlet(OUT_OSC, [BG_ADDR.generate].concat(bgGenerateArgs(req)));
    status("generating " + req.variations + " x " + req.model + " (" + req.phrase.bars + " bars) ...");
}

function generate(v) {
    if (!started || v === 0 || !canSend()) return;
    send(makeRequest(controls.seed));
}

// The last request again with a new hit seed (a fresh draw, shown on the status line: type it into
// Seed to get this result from Generate); unlocked latents are new draws (derived from that seed),
// locked ones keep the seeds /bg/done reported.
function regenerate(v) {
    if (!started || v === 0) return;
    if (lastRequest === null) return generate(1);
    if (!canSend()) return;
    var req = JSON.parse(JSON.stringify(lastRequest));
    var last = lastResult !== null ? lastResult.done : null;
    req.id = nextId++;
    req.replyPort = replyPort;
    do {
        req.seed = Math.floor(Math.random() * (MAX_SEED + 1));
    } while (req.seed === lastRequest.seed);
    req.scoreSeed = controls.lockScore && last ? last.scoreSeed : -1;
    req.grooveSeed = controls.lockGroove && last ? last.grooveSeed : -1;
    req.caps = currentCaps();
    req.target = bgTarget();
    req.phrase = currentPhrase();
    send(req);
}

// ---------------------------------------------------------------- replies from udpreceive

function anything() {
    var args = arrayfromargs(arguments);
    var address = messagename;
    if (address === BG_ADDR.pong) return onPong(args);
    var r = bgParseReply(address, args);
    if (r === null) return;                                   // not a reply of this protocol
    if (address === BG_ADDR.error) return onError(r);
    if (pending === null || r.request_id !== pending.id) return;   // stale, or another device's
    if (address === BG_ADDR.done) onDone(r);
    else pending.replies.add(address, r);
}

function modelNames() {
    var names = [];
    for (var i = 0; i < server.models.length; i++) names.push(server.models[i].name);
    return names.join(" ");
}

function onPong(args) {
    var sent = pings[args[0]];
    delete pings[args[0]];
    if (sent === undefined || typeof args[1] !== "number") return;   // not our ping
    server.version = args[1];
    if (server.version !== BG_SPEC.protocol_version) {
        var news = server.down;
        server.lastPongMs = now();
        server.down = false;
        if (news) status("the server speaks protocol " + args[1] + ", this device " + BG_SPEC.protocol_version +
            ": install the same Beat Guide version for both (pip install -U beatguide, then rebuild the device)");
        return;
    }
    var pong = bgParseReply(BG_ADDR.pong, args);
    if (pong === null) return;
    var first = server.down;
    server.down = false;
    server.told = false;
    server.lastPongMs = now();
    server.rtt = server.lastPongMs - sent;
    var before = modelNames();
    server.models = bgModelsFromPong(pong).models;
    if (server.models.length > 0 && state.model === BG_NONE) {
        state.model = defaultModel(server.models);   // not stored: loading a Set leaves it unmodified
    }
    if (!first && modelNames() === before) return;   // nothing new to say
    showModel();
    if (server.models.length === 0) status("the server has no models loaded: see `beatguide serve --help`");
    else if (currentModel() === null) status("model " + state.model + " is not loaded by the server; pick one of: " + modelNames());
    else status("connected (" + server.rtt + " ms round trip), models: " + modelNames());
}

function onError(r) {
    if (pending !== null && (r.request_id === pending.id || r.request_id === -1)) pending = null;
    status("server error " + r.code + ": " + r.text);
}

function onDone(done) {
    var p = pending;
    pending = null;
    var res = p.replies.finish(done);
    if (!res.ok) {
        status(res.error);
        return;
    }
    lastResult = { req: p.req, replies: p.replies, done: res };
    var first = p.replies.variations[0];
    ghost = first.auxScore !== null ? first.auxScore : bgFilled(BG_CLASSES, 0);
    refreshView();
    var clips = [];
    for (var v = 0; v < p.replies.variations.length; v++) {
        clips.push({
            name: bgClipName(p.req.model, v, p.req.temperature),
            notes: bgLiveNotes(p.replies.variations[v].notes, p.req.output, res.beats),
            beats: res.beats
        });
    }
    if (writeClips(p.req.target, clips)) {
        status(clips.length + " variations written (" + res.bars + " bars, " + Math.round(now() - p.t0) + " ms, server " +
            Math.round(res.elapsedMs) + " ms; seed " + p.req.seed + ", latent seeds " + res.scoreSeed + "/" +
            res.grooveSeed + ")");
    }
}

// write_aux: the model's readings (aux score and groove) of the last result, as clips.
function write_aux(v) {
    if (!started || v === 0) return;
    if (lastResult === null || lastResult.replies.variations[0].auxScore === null) {
        status("no reconstruction to write: generate with a model that reads its inputs back first");
        return;
    }
    var r = lastResult;
    var clips = [];
    for (var i = 0; i < r.replies.variations.length; i++) {
        var a = r.replies.variations[i];
        if (a.auxScore === null) continue;  // lost datagram
        clips.push({ name: bgClipName(r.req.model, i, r.req.temperature, "aux score"),
            notes: bgScoreNotes(a.auxScore, r.req.output) });
        if (a.auxGroove === null) continue;  // lost datagram
        clips.push({ name: bgClipName(r.req.model, i, r.req.temperature, "aux groove"),
            notes: bgGrooveNotes(a.auxGroove, r.req.output[0]) });
    }
    if (writeClips(bgTarget(), clips)) status(clips.length + " reconstruction clips written");
}

// Writes clips where the target says (bgWriteClips); says on the status line why not.
function writeClips(target, clips) {
    var res = bgWriteClips(target, clips);
    if (res.ok) return true;
    if (res.gone === "track") status("not written: the track this request was for was deleted");
    else if (res.gone === "slot") status("not written: the selected clip slot was deleted (its scene removed); select a slot and Regenerate");
    else {
        status("not written: no empty slot: " + clips.length + " clips need " + clips.length + " empty slots below slot " +
            (res.start + 1) + ", only " + res.free + " free. Add scenes or pick a slot higher up.");
    }
    return false;
}
