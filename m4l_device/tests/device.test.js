// beatguide.js in a Max js sandbox against the strict Live Object Model stand-in.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, loadDevice, load, readPatch } = require("./helpers.js");

const SPEC = load("bg_spec.js");
const LANES = SPEC.classes.length;
const A = SPEC.addresses;
const plain = (x) => JSON.parse(JSON.stringify(x));
const note = (pitch, start, velocity) => ({ pitch, start_time: start, velocity });
const lane = (name) => SPEC.classes.indexOf(name);
const at = {};
for (const f of SPEC.generate.fields) at[f.name] = f.index + 1;   // +1: the address comes first in a sent message

const MODELS = {
  agvae11: { gestures: ["accents", "groove", "lanes"], lane_modes: SPEC.lane_modes, latent_sources: ["prior", "bank"],
    aux: ["lanes", "groove", "accents"], needs: "any" },
  agvae2: { gestures: ["groove", "score"], lane_modes: SPEC.lane_modes, latent_sources: ["prior"],
    aux: ["score", "groove"], needs: "score_or_groove" },
  baseline: { gestures: ["score"], lane_modes: ["decide", "given", "empty"], latent_sources: ["prior"], aux: [], needs: "score" },
};

function bits(names, vocabulary) { return names.reduce((m, n) => m | (1 << vocabulary.indexOf(n)), 0); }

// Answers the device's last ping with a /bg/pong listing `models` ({name: capabilities}).
function pong(dev, models = MODELS, version = SPEC.protocol_version) {
  const ping = dev.sent(0).filter((m) => m[0] === A.ping).pop();
  const args = [ping[1], version, Object.keys(models).length];
  for (const [name, c] of Object.entries(models)) {
    args.push(name, bits(c.gestures, SPEC.gestures), bits(c.lane_modes, SPEC.lane_modes),
      bits(c.latent_sources, SPEC.latent_sources), bits(c.aux, SPEC.gestures), SPEC.needs.indexOf(c.needs));
  }
  dev.send(A.pong, ...args);
}

function started(options, build = () => {}) {
  const live = new FakeLive(options);
  build(live);
  const dev = loadDevice(live);
  dev.send("bang");   // live.thisdevice: the device is loaded
  return { live, dev };
}

function connected(options, build, models = MODELS, model = "agvae2") {
  const { live, dev } = started(options, build);
  pong(dev, models);
  dev.send("model", Object.keys(models).indexOf(model));
  return { live, dev };
}

const lastGenerate = (dev) => dev.sent(0).filter((m) => m[0] === A.generate).pop();

// Plays the server's side of the last generate request: `per` notes per variation (every `step`
// beats), then done for a phrase of `bars` (default: the bars asked).
function reply(dev, { per = 3, total, step = 0.5, bars } = {}) {
  const req = lastGenerate(dev);
  const id = req[at.request_id];
  const variations = req[at.variations];
  let count = 0;
  for (let v = 0; v < variations; v++) {
    const args = [id, v, 0];
    for (let k = 0; k < per; k++) args.push(k % LANES, k * step, 0.25, 100);
    count += per;
    dev.send(A.notes, ...args);
    dev.send(A.aux_score, id, v, 0x11111111, 0, 0, 0, 0, 0, 0, 0, 0);
    dev.send(A.aux_groove, id, v, 1, ...new Array(32).fill(0.5), ...new Array(32).fill(0));
  }
  dev.send(A.done, id, variations, total === undefined ? count : total, 10.5, 111, 222,
    bars === undefined ? req[at.bars] : bars);
  return req;
}

// A Drum Rack whose pads were renamed and moved away from the GM notes.
const MOVED_KIT = { 37: "BD Deep", 40: "Clap", 44: "Closed Hat", 47: "Hat Open", 50: "Tom 1", 52: "Tom 2", 53: "Tom 3",
  60: "Crash", 61: "Ride", 36: "Perc 1" };

// ------------------------------------------------------------------ starting up, the server

test("LiveAPI is used only after the live.thisdevice bang; the heartbeat pings; 'no server' after the timeout", () => {
  const live = new FakeLive();
  let created = 0;
  const Orig = live.liveAPIClass();
  live.liveAPIClass = () => function (cb, p) { created++; return new Orig(cb, p); };
  const dev = loadDevice(live);
  dev.send("generate", 1);
  dev.send("capture", "score", 1);
  dev.send("record_taps", 1);
  assert.equal(created, 0);
  dev.send("bang");
  assert.ok(created > 0);
  assert.equal(dev.task("beat").interval, 2000);
  assert.equal(dev.sent(0).filter((m) => m[0] === A.ping).length, 1);
  assert.match(dev.status(), /no Drum Rack after this device: lanes play and read General MIDI notes/);
  dev.ctx.server.since -= 6000;   // five seconds without a pong
  dev.tick();
  assert.match(dev.status(), /no server answers on port 9010 \(replies to port \d+\): start it with `beatguide serve`, or check Server \/ Reply port/);
  dev.send("capture", "score", 1);
  dev.tick();
  assert.match(dev.status(), /select a MIDI clip/, "said once: the next heartbeat does not hide other messages");
  dev.send("generate", 1);
  assert.match(dev.status(), /^no server: start it with `beatguide serve`/);
  assert.equal(lastGenerate(dev), undefined);
});

test("while the launcher reports, the heartbeat leaves the status line to it", () => {
  const { dev } = started();
  dev.send("launcher", "status", "starting beatguide serve ...");
  dev.ctx.server.since -= 6000;
  dev.tick();
  assert.equal(dev.status(), "server: starting beatguide serve ...");
  dev.ctx.launcherSaidMs -= 6000;   // the launcher fell silent
  dev.tick();
  assert.match(dev.status(), /^no server answers/);
});

test("the model menu lists what /bg/pong reports; a new device picks the model taking the most", () => {
  const { dev } = started();
  pong(dev);
  assert.deepEqual(dev.ui("bg_model").items, ["agvae11", "agvae2", "baseline"]);
  assert.equal(dev.ui("bg_model").text, "agvae11");
  assert.match(dev.status(), /connected \(\d+ ms round trip\), models: agvae11 agvae2 baseline/);
  dev.tick();
  pong(dev, { ...MODELS, later: MODELS.baseline });   // a model added while Live runs
  assert.deepEqual(dev.ui("bg_model").items, ["agvae11", "agvae2", "baseline", "later"]);
});

test("the controls follow what the chosen model takes", () => {
  const { dev } = connected({}, undefined, MODELS, "baseline");
  const active = (name) => dev.ui(name).active;
  assert.equal(active("bg_capture_groove"), 0);
  assert.equal(active("bg_record_taps"), 0);
  assert.equal(active("bg_capture_accents"), 0);
  assert.equal(active("bg_latents"), 0);
  assert.equal(active("bg_write_aux"), 0);
  assert.equal(active("bg_capture_score"), 1);
  assert.equal(active("bg_lanemode_0"), 1);
  assert.deepEqual(dev.sent(2).filter((m) => m[0] === "enable").pop(), ["enable", 1, 0, 0]);
  dev.send("model", 0);   // agvae11
  for (const b of ["bg_capture_groove", "bg_record_taps", "bg_capture_accents", "bg_latents", "bg_write_aux"]) {
    assert.equal(active(b), 1, b);
  }
  // a groove and accents drawn for agvae11 are not sent to baseline, which does not take them
  dev.send("cell", 0, 0, 1);
  dev.send("accent", 4, 1);
  dev.ctx.state.groove.mask = 1;
  dev.send("model", 2);
  dev.send("generate", 1);
  assert.equal(lastGenerate(dev)[at.flags], SPEC.flags.score);
});

test("a server of another protocol version, a saved model the server lacks, a server with no models", () => {
  const { dev } = started();
  pong(dev, MODELS, SPEC.protocol_version - 1);
  assert.match(dev.status(), new RegExp(`the server speaks protocol ${SPEC.protocol_version - 1}, this device ${SPEC.protocol_version}: install the same Beat Guide version`));
  dev.send("generate", 1);
  assert.equal(lastGenerate(dev), undefined);

  const fresh = loadDevice(new FakeLive());
  const saved = dev.ctx.bgEmptyState();
  saved.model = "gone";
  fresh.send("restore", ...dev.ctx.bgStateToList(saved));
  fresh.send("bang");
  pong(fresh);
  assert.match(fresh.status(), /model gone is not loaded by the server; pick one of: agvae11 agvae2 baseline/);
  assert.deepEqual(fresh.ui("bg_model").items.slice(-1), ["gone (not loaded)"]);
  fresh.send("generate", 1);
  assert.match(fresh.status(), /model gone is not loaded/);
  assert.equal(lastGenerate(fresh), undefined);
  fresh.tick();   // the next heartbeat ping
  pong(fresh, {});
  assert.match(fresh.status(), /the server has no models loaded/);
});

test("ports: plain number boxes kept in the saved state (Live Int parameters stop at 255); a bad one is refused", () => {
  const { dev } = started();
  dev.send("send_port", 9100);
  assert.deepEqual(dev.sent(0).filter((m) => m[0] === "port").pop(), ["port", 9100]);
  dev.send("reply_port", 9111);
  assert.deepEqual(dev.sent(1).pop(), ["port", 9111]);
  dev.send("reply_port", 80);
  assert.match(dev.status(), /Reply port must be 1024-65535/);
  assert.equal(dev.ui("bg_reply_port").shown, 9111);
  const fresh = loadDevice(new FakeLive());
  fresh.send("restore", ...dev.sent(4).pop());
  assert.equal(fresh.ui("bg_send_port").shown, 9100);
  assert.deepEqual(fresh.sent(1).pop(), ["port", 9111]);
});

test("the launcher (Node for Max): settings out, status and the port it found in; the command saved with the Set", () => {
  const { dev } = started();
  assert.deepEqual(dev.sent(5), [["port", 9010], ["command"], ["reply_port"]]);
  dev.send("launcher", "status", "starting", "beatguide", "serve", "...");
  assert.equal(dev.status(), "server: starting beatguide serve ...");
  dev.send("launcher", "port", 9020);
  assert.deepEqual(dev.sent(0).filter((m) => m[0] === "port").pop(), ["port", 9020]);
  assert.equal(dev.ui("bg_send_port").shown, 9020);
  assert.equal(dev.ctx.state.sendPort, 9020);
  dev.send("server_command", "text", "/Users/me/Library/Application Support/pipx/beatguide");
  assert.deepEqual(dev.sent(5).pop(), ["command", "/Users/me/Library/Application Support/pipx/beatguide"]);
  dev.send("launcher", "ready");
  assert.deepEqual(dev.sent(5).slice(-3), [["port", 9020], ["command", "/Users/me/Library/Application Support/pipx/beatguide"],
    ["reply_port"]]);
  // a device built with the launcher shows the saved command in its text field
  const fresh = loadDevice(new FakeLive());
  const field = new (fresh.ui("bg_model").constructor)({ maxclass: "textedit", varname: "bg_command" });
  fresh.ctx.patcher.named.set("bg_command", field);
  fresh.send("restore", ...dev.sent(4).pop());
  assert.equal(field.shown, "/Users/me/Library/Application Support/pipx/beatguide");
  assert.deepEqual(fresh.sent(5).pop(), ["command", "/Users/me/Library/Application Support/pipx/beatguide"]);
  dev.send("server_command", "text");   // emptied: the launcher searches again
  assert.deepEqual(dev.sent(5).pop(), ["command"]);
});

// ------------------------------------------------------------------ the Drum Rack

test("a Drum Rack with renamed and moved pads: lanes play and read its pads by name", () => {
  const { live, dev } = connected({ slots: 4 }, (l) => l.addDrumRack(l.track(0), MOVED_KIT, "Moved Kit"));
  assert.match(plain(dev.sent(3)).map((m) => m.slice(1).join(" ")).join("\n"), /Drum Rack 'Moved Kit': 9 lanes by pad name/);
  assert.deepEqual(dev.ui("bg_pad_0").items.slice(0, 3), ["auto: C#1 BD Deep", "C1 Perc 1", "C#1 BD Deep"]);
  assert.equal(dev.ui("bg_pad_8").text, "auto: C#3 Ride");
  // reading: a clip drawn on the moved pads reads into the right lanes
  live.putClip(1, 0, [note(37, 0, 100), note(40, 1, 100), note(61, 2, 100), note(36, 3, 100)]);
  live.detail = [1, 0];
  dev.send("capture", "score", 1);
  const score = dev.ctx.state.score;
  assert.equal(score[lane("kick")], (1 << 0) | (1 << 12));   // "BD Deep", and "Perc 1" on GM 36
  assert.equal(score[lane("snare")], 1 << 4);
  assert.equal(score[lane("ride")], 1 << 8);
  // writing: generated lanes go to the pads
  dev.send("variations", 1);
  dev.send("generate", 1);
  reply(dev, { per: LANES });
  assert.deepEqual(live.track(0).children.clip_slots[0].children.clip.notes.map((n) => n.pitch),
    [37, 40, 44, 47, 50, 52, 53, 60, 61]);
});

test("a Drum Rack one level down, inside an Instrument Rack", () => {
  const { dev } = started({}, (l) => {
    const outer = l.addInstrumentRack(l.track(0), 2);
    l.addInstrument(outer.children.chains[0]);
    l.addDrumRack(outer.children.chains[1], { 36: "Kick", 38: "Snare", 42: "CH" }, "Inner Kit");
  });
  assert.equal(dev.ctx.rack.name, "Inner Kit");
  assert.match(dev.sent(3).map((m) => m.slice(1).join(" ")).join("\n"), /Drum Rack 'Inner Kit': 3 lanes by pad name/);
});

test("the first instrument after the device decides: MIDI effects between are skipped, a synth means no Drum Rack", () => {
  let r = started({}, (l) => { l.addMidiEffect(l.track(0)); l.addDrumRack(l.track(0), { 36: "Kick" }); });
  assert.notEqual(r.dev.ctx.rack, null);
  r = started({}, (l) => { l.addInstrument(l.track(0)); l.addDrumRack(l.track(0), { 36: "Kick" }); });
  assert.equal(r.dev.ctx.rack, null);
  assert.match(r.dev.status(), /no Drum Rack after this device/);
});

test("a device inside a rack chain writes clips on its track (a Chain has no clip slots)", () => {
  const live = new FakeLive({ slots: 3 });
  const rack = live.addInstrumentRack(live.track(0), 1);
  const chain = rack.children.chains[0];
  live.removeDevice(live.track(0), live.device);
  live.addDevice(chain, live.device);
  live.addDrumRack(chain, { 38: "Kick" }, "Chain Kit");
  const dev = loadDevice(live);
  dev.send("bang");
  assert.equal(dev.ctx.where.trackPath, "live_set tracks 0");
  assert.equal(dev.ctx.rack.name, "Chain Kit");
  pong(dev);
  dev.send("model", 1);
  dev.send("variations", 1);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  reply(dev, { per: 1 });
  assert.equal(live.track(0).children.clip_slots[0].children.clip.notes[0].pitch, 38);
});

test("the device follows the rack: renamed and moved pads, a rack removed and added", () => {
  let rack;
  const { live, dev } = started({}, (l) => { rack = l.addDrumRack(l.track(0), { 36: "Kick", 38: "Snare" }, "Kit"); });
  live.renamePad(rack, 38, "Ride");
  dev.settle();
  assert.equal(dev.ctx.kit.lanes[lane("ride")].note, 38);
  assert.equal(dev.ctx.kit.lanes[lane("snare")].source, "empty");
  live.movePad(rack, 36, 48);
  dev.settle();
  assert.equal(dev.ctx.kit.lanes[lane("kick")].note, 48);
  assert.equal(dev.ctx.kit.inputMap[48], lane("kick"));
  live.fillPad(rack, 40, "Snare 2");
  dev.settle();
  assert.equal(dev.ctx.kit.lanes[lane("snare")].note, 40);
  live.removeDevice(live.track(0), rack);
  dev.settle();
  assert.equal(dev.ctx.rack, null);
  assert.match(dev.status(), /no Drum Rack after this device/);
  live.addDrumRack(live.track(0), { 41: "Kick" }, "New Kit");
  dev.settle();
  assert.equal(dev.ctx.kit.lanes[lane("kick")].note, 41);
  // watching does not loop: with nothing changing, nothing is scheduled
  dev.settle();
  assert.ok(!dev.tasks.some((t) => t.due));
});

test("the producer's pad choice is shown, used, and saved with the Set", () => {
  const kitPads = { 36: "Kick A", 37: "Kick B", 38: "Snare" };
  const { live, dev } = connected({ slots: 4 }, (l) => l.addDrumRack(l.track(0), kitPads));
  const items = dev.ui("bg_pad_0").items;
  dev.send("pad", lane("kick"), items.indexOf("C#1 Kick B"));
  assert.equal(dev.ui("bg_pad_0").text, "C#1 Kick B");
  assert.match(dev.status(), /kick plays C#1 Kick B \(your choice\)/);
  dev.send("variations", 1);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  reply(dev, { per: 1 });
  assert.equal(live.track(0).children.clip_slots[0].children.clip.notes[0].pitch, 37);
  const fresh = started({}, (l) => l.addDrumRack(l.track(0), kitPads)).dev;
  fresh.send("restore", ...dev.sent(4).pop());
  assert.equal(fresh.ui("bg_pad_0").text, "C#1 Kick B");
  assert.equal(fresh.ctx.kit.lanes[0].note, 37);
  fresh.send("pad", lane("kick"), 0);   // back to automatic
  assert.equal(fresh.ctx.kit.lanes[0].note, 36);
});

test("the input map: pick a pitch, see how it reads, set its lane or not read, or back to automatic", () => {
  const { live, dev } = started({}, (l) => l.addDrumRack(l.track(0), { 60: "Conga" }));
  assert.deepEqual(dev.ui("bg_inclass").items.slice(-3), ["ride", "not read", "automatic"]);
  dev.send("inpitch", 60);
  assert.match(dev.status(), /pitch C3 \(60\) reads as mid tom \(Drum Rack and General MIDI\)/);
  dev.send("inclass", lane("snare"));
  assert.match(dev.status(), /pitch C3 \(60\) reads as snare \(your choice\)/);
  dev.send("inpitch", 38);
  dev.send("inclass", LANES);   // not read
  live.putClip(0, 1, [note(60, 0, 100), note(38, 1, 100)]);
  live.detail = [0, 1];
  dev.send("capture", "score", 1);
  assert.equal(dev.ctx.state.score[lane("snare")], 1);
  dev.send("inclass", LANES + 1);   // automatic again
  assert.equal(dev.ctx.kit.inputMap[38], lane("snare"));
});

// ------------------------------------------------------------------ reading clips and taps

test("capture: a drawn clip into the score, a tapped one into the groove; no clip or an audio clip says so", () => {
  const { live, dev } = started();
  dev.send("capture", "accents", 1);
  assert.match(dev.status(), /select a MIDI clip \(its first 2 bars\) to capture the accents from/);
  live.putClip(1, 3, [], { name: "Vocals", audio: true });
  live.detail = [1, 3];
  dev.send("capture", "score", 1);
  assert.match(dev.status(), /'Vocals' is an audio clip: select a MIDI clip to capture the score from/);
  live.putClip(1, 0, [note(36, 0, 100), note(36, 2, 100), note(38, 1, 90), note(38, 3, 90), note(42, 0.5, 80)]);
  live.detail = [1, 0];
  dev.send("capture", "score", 1);
  assert.deepEqual(plain(dev.ctx.state.score), [1 | (1 << 8), (1 << 4) | (1 << 12), 1 << 2, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(dev.sent(2).filter((m) => m[0] === "score").pop().slice(1), plain(dev.ctx.state.score));
  assert.match(dev.status(), /captured the score of 'user clip'/);
  live.putClip(0, 2, [note(60, 0.03, 127), note(61, 0.0, 40), note(60, 1.02, 64), note(60, 7.95, 90)]);
  live.detail = [0, 2];
  dev.send("capture", "groove", 1);
  const g = dev.ctx.state.groove;
  assert.equal(g.mask, 1 | (1 << 4));
  assert.equal(g.velocities[0], 1);
  assert.ok(Math.abs(g.offsets[0] - 0.24) < 1e-9);
});

test("tap recording: 2 bars from the next bar line, timed by [when] as the notes arrive", () => {
  const { live, dev } = started();
  live.song.props.current_song_time = 2.5;
  dev.send("record_taps", 1);
  assert.match(dev.status(), /^arm this track \(or set its monitoring to In\) so your taps reach Beat Guide; then press play to record 2 bars of taps from beat 4/);
  live.song.props.is_playing = 1;
  dev.tick();
  dev.send("tap", 36, 100, 3.9 * 480);     // just before the bar line: step 0, a bit early
  dev.send("tap", 40, 0, 5 * 480);         // note-off: ignored
  dev.send("tap", 40, 127, 5 * 480);
  dev.send("tap", 40, 127, 12.5 * 480);    // after the 2 bars
  live.song.props.current_song_time = 12.2;
  dev.tick();
  const g = dev.ctx.state.groove;
  assert.equal(g.mask, 1 | (1 << 4));
  assert.ok(Math.abs(g.offsets[0] + 0.8) < 1e-9);
  assert.equal(g.velocities[4], 1);
  assert.match(dev.status(), /recorded 2 taps from beat 4 into the groove: 2 of 32 steps hit/);
});

test("tap recording: the transport stopping before the 2 bars end cancels it and says so", () => {
  const { live, dev } = started();
  live.song.props.is_playing = 1;
  dev.send("record_taps", 1);
  assert.match(dev.status(), /recording 2 bars of taps from beat 0: tap any pad/);
  dev.send("tap", 36, 100, 0);
  live.song.props.is_playing = 0;
  live.song.props.current_song_time = 3;
  dev.tick();
  assert.match(dev.status(), /the transport stopped while recording taps: recording cancelled \(1 taps\), the groove is unchanged/);
  assert.equal(dev.ctx.state.groove.mask, 0);
  assert.equal(dev.ctx.taps, null);
});

// ------------------------------------------------------------------ generating and writing clips

test("generate sends the spec's arguments and writes variations into empty slots only", () => {
  const { live, dev } = connected({ slots: 6 });
  const user = live.putClip(0, 2, [note(36, 0, 100)], { name: "mine" });
  live.highlighted = [0, 0];
  dev.send("cell", 0, 0, 1);
  dev.send("cell", 1, 4, 1);
  dev.send("model", 0);   // agvae11
  dev.send("lanemode", 2, SPEC.lane_modes.indexOf("exact"));
  dev.send("latents", SPEC.latent_sources.indexOf("bank"));
  dev.send("temperature", 0.8);
  dev.send("generate", 1);
  const req = reply(dev);
  assert.equal(req.length - 1, SPEC.generate.argc);
  assert.deepEqual(req.slice(at.model, at.flags + 1), ["agvae11", 4, 0.8, 0, -1, -1, SPEC.flags.score]);
  assert.equal(req[at.latent_source], SPEC.latent_sources.indexOf("bank"));
  assert.equal(req[at.lane_masks], 1);
  assert.equal(req[at.lane_masks + 1], 1 << 4);
  assert.equal(req[at.lane_modes + 2], SPEC.lane_modes.indexOf("exact"));
  const slots = live.tracks[0].slots;
  assert.equal(slots[0].clip, null, "the selected slot itself is left alone");
  assert.deepEqual([1, 3, 4, 5].map((i) => slots[i].clip.props.name),
    ["agvae11 v1 t0.8", "agvae11 v2 t0.8", "agvae11 v3 t0.8", "agvae11 v4 t0.8"]);
  assert.equal(slots[1].clip.props.looping, 1);
  assert.equal(slots[1].clip.props.length, SPEC.grid.loop_beats);
  assert.deepEqual(slots[1].clip.notes.map((n) => n.pitch), [36, 38, 42]);
  assert.equal(slots[2].clip, user);
  assert.deepEqual(user.notes.map((n) => n.pitch), [36]);
  assert.ok(!live.calls.some((c) => c[0].startsWith("live_set tracks 0 clip_slots 2")), "the user's clip is never touched");
  assert.match(dev.status(), /4 variations written/);
  assert.deepEqual(dev.sent(2).filter((m) => m[0] === "ghost").pop().slice(1), [0x11111111, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test("a lane mode the model does not take, or a missing score, stops the request with the reason", () => {
  const { dev } = connected({}, undefined, MODELS, "baseline");
  dev.send("generate", 1);
  assert.match(dev.status(), /baseline needs a score: draw one or capture a clip/);
  dev.send("cell", 0, 0, 1);
  dev.send("lanemode", 1, SPEC.lane_modes.indexOf("exact"));
  dev.send("generate", 1);
  assert.match(dev.status(), /baseline does not take lane mode 'exact' \(snare\); it takes: decide, given, empty/);
  assert.equal(lastGenerate(dev), undefined);
});

test("no empty slot: nothing is written, existing clips untouched, a clear message", () => {
  const { live, dev } = connected({ slots: 4 });
  live.putClip(0, 1, [note(36, 0, 100)]);
  live.putClip(0, 3, [note(38, 0, 100)]);
  dev.send("variations", 3);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  reply(dev);
  assert.equal(live.tracks[0].slots[0].clip, null);
  assert.equal(live.tracks[0].slots[2].clip, null);
  assert.deepEqual(live.calls, []);
  assert.match(dev.status(), /not written: no empty slot: 3 clips need 3 empty slots below slot 0, only 2 free/);
});

// ------------------------------------------------------------------ phrases and amounts

test("Bars, Fill, Timing and Velocity go out with the request; 4- and 8-bar clips fill empty slots only", () => {
  const { live, dev } = connected({ slots: 8 });
  const user = live.putClip(0, 2, [note(36, 0, 100)], { name: "mine" });
  live.highlighted = [0, 0];
  dev.send("cell", 0, 0, 1);
  dev.send("variations", 2);
  dev.send("bars", SPEC.phrase.bars.indexOf(4));
  dev.send("fill", SPEC.phrase.fill_modes.indexOf("always"));
  dev.send("timing", 50);
  dev.send("velocity", 150);
  dev.send("generate", 1);
  let req = reply(dev, { per: 32, step: 0.5 });   // notes up to beat 15.5: inside a 4-bar clip only
  assert.deepEqual([req[at.bars], req[at.fill], req[at.timing], req[at.velocity]],
    [4, SPEC.phrase.fill_modes.indexOf("always"), 50, 150]);
  const slots = () => live.tracks[0].slots;   // a snapshot: read it after each write
  for (const i of [1, 3]) {
    assert.equal(slots()[i].clip.props.length, 16);
    assert.equal(slots()[i].clip.props.looping, 1);
    assert.equal(slots()[i].clip.notes.length, 32);
    assert.equal(Math.max(...slots()[i].clip.notes.map((n) => n.start_time)), 15.5);
  }
  assert.equal(slots()[2].clip, user, "the user's clip between them is never touched");
  assert.deepEqual(user.notes.map((n) => n.pitch), [36]);
  assert.ok(!live.calls.some((c) => c[0].startsWith("live_set tracks 0 clip_slots 2")));
  assert.match(dev.status(), /2 variations written \(4 bars/);

  dev.send("bars", SPEC.phrase.bars.indexOf(8));
  dev.send("regenerate", 1);
  req = reply(dev, { per: 60, step: 0.5 });   // up to beat 29.5: inside an 8-bar clip only
  assert.equal(req[at.bars], 8);
  for (const i of [4, 5]) {
    assert.equal(slots()[i].clip.props.length, 32);
    assert.equal(Math.max(...slots()[i].clip.notes.map((n) => n.start_time)), 29.5);
  }
  assert.equal(slots()[2].clip, user);

  live.calls.length = 0;
  dev.send("generate", 1);   // 2 clips, 2 empty slots left below slot 0: 6 and 7
  reply(dev, { per: 4 });
  assert.equal(slots()[6].clip.props.length, 32);
  dev.send("generate", 1);   // none left: nothing written, nothing touched
  live.calls.length = 0;
  reply(dev, { per: 4 });
  assert.deepEqual(live.calls, []);
  assert.match(dev.status(), /not written: no empty slot/);
});

test("a reply's phrase decides the clip length; one the device cannot write, or notes outside it, write nothing", () => {
  const { live, dev } = connected({ slots: 6 });
  dev.send("cell", 0, 0, 1);
  dev.send("variations", 1);
  dev.send("generate", 1);
  assert.equal(lastGenerate(dev)[at.bars], 2, "a new device asks for 2 bars");
  reply(dev, { per: 20, step: 0.5 });   // a note at beat 9.5 does not fit 2 bars
  assert.deepEqual(live.calls, []);
  assert.match(dev.status(), /notes outside the 2-bar clip: not written/);
  dev.send("generate", 1);
  reply(dev, { bars: 3 });
  assert.deepEqual(live.calls, []);
  assert.match(dev.status(), /phrase of 3 bars/);
  dev.send("generate", 1);
  reply(dev, { bars: 8, per: 2 });   // the reply's length wins over the menu's
  assert.equal(live.tracks[0].slots[0].clip.props.length, 32);
});

test("amounts: the dials are clamped to the spec's range; the phrase menus' items map to the spec", () => {
  const core = load("bg_core.js");
  const [lo, full, hi] = SPEC.phrase.amount;
  assert.deepEqual(plain(core.bgPhrase(0, 1, full, full)), { bars: 2, fill: 1, timing: full, velocity: full });
  assert.deepEqual(plain(core.bgPhrase(2, 9, hi + 50, lo - 1)), { bars: 8, fill: SPEC.phrase.fill_modes.length - 1,
    timing: hi, velocity: lo });
  assert.equal(core.bgClipBeats(4), 16);
  assert.equal(core.bgInLoop(-0.25, 16), 15.75);
  assert.equal(core.bgInLoop(16, 16), 0);
});

test("the stand-in is as strict as Live: an occupied slot, notes outside the clip, a misspelt name", () => {
  const live = new FakeLive({ slots: 2 });
  live.putClip(0, 0, []);
  const API = live.liveAPIClass();
  assert.throws(() => new API(null, "live_set tracks 0 clip_slots 0").call("create_clip", 8), /already holds a clip/);
  const slot = new API(null, "live_set tracks 0 clip_slots 1");
  slot.call("create_clip", 8);
  const clip = new API(null, "live_set tracks 0 clip_slots 1 clip");
  assert.throws(() => clip.call("add_new_notes", { notes: [{ pitch: 36, start_time: 8, duration: 0.25, velocity: 100 }] }),
    /outside the clip/);
  assert.throws(() => clip.call("add_new_notes", { notes: [{ pitch: 36, start_time: -0.01, duration: 0.25 }] }), /outside the clip/);
  assert.throws(() => new API(null, "live_set tracks 0 clipslots 0"), /Track has no child 'clipslots'/);
  assert.throws(() => clip.get("lenght"), /Clip has no property 'lenght'/);
  assert.throws(() => clip.set("length", 4), /Clip.length is read-only/);
  assert.throws(() => clip.call("add_notes", {}), /Clip has no function 'add_notes'/);
  assert.throws(() => { new API(null, "live_set tracks 0").property = "clip_slot"; }, /Track has no property 'clip_slot'/);
  assert.equal(new API(null, "live_set tracks 5").id, 0);
});

test("a lost notes datagram is reported and nothing is written; a server error is shown; stale replies are ignored", () => {
  const { live, dev } = connected();
  dev.send("variations", 2);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  reply(dev, { total: 7 });
  assert.deepEqual(live.calls, []);
  assert.match(dev.status(), /lost notes: received 6 of 7/);
  dev.send("generate", 1);
  const id = lastGenerate(dev)[at.request_id];
  dev.send(A.error, id, "no_input", "agvae2 needs a score or a groove");
  assert.match(dev.status(), /server error no_input: agvae2 needs a score or a groove/);
  dev.send(A.done, id, 1, 0, 1, 0, 0);
  dev.send(A.notes, id + 999, 0, 0, 0, 0, 0.25, 100);
  dev.send(A.done, 5, 1, "broken");   // malformed: dropped
  assert.deepEqual(live.calls, []);
});

test("regenerate: the last request with a new hit seed; unlocked latents new draws, locked ones the seeds from /bg/done", () => {
  const { dev } = connected({ slots: 32 });
  dev.send("seed", 5);
  dev.send("variations", 2);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  const first = reply(dev);
  assert.match(dev.status(), /seed 5, latent seeds 111\/222/);
  dev.send("cell", 1, 4, 1);   // drawn after: Regenerate repeats the last request, not the grid
  dev.send("lock_groove", 1);
  const seeds = new Set();
  for (let i = 0; i < 5; i++) {
    dev.send("regenerate", 1);
    const req = lastGenerate(dev);
    assert.deepEqual(req.slice(at.score_seed, at.groove_seed + 1), [-1, 222]);   // score: a new draw; groove: kept
    assert.deepEqual(req.slice(at.lane_masks, at.lane_masks + 2), first.slice(at.lane_masks, at.lane_masks + 2));
    assert.ok(req[at.seed] >= 0 && req[at.seed] <= 99999);
    seeds.add(req[at.seed]);
    reply(dev);
    assert.match(dev.status(), new RegExp(`seed ${req[at.seed]},`));
  }
  assert.ok(seeds.size >= 4 && !seeds.has(5), [...seeds].join(" "));
  const seedBox = readPatch().patch.boxes.map((b) => b.box).find((b) => b.varname === "Seed");
  assert.equal(seedBox.saved_attribute_attributes.valueof.parameter_mmax, dev.ctx.MAX_SEED, "seeds the Seed box can show");
  dev.send("lock_score", 1);
  dev.send("regenerate", 1);
  assert.deepEqual(lastGenerate(dev).slice(at.score_seed, at.groove_seed + 1), [111, 222]);
});

test("aux reconstructions are written only on request", () => {
  const { live, dev } = connected({ slots: 16 });
  dev.send("variations", 1);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  reply(dev);
  assert.equal(live.tracks[0].slots.filter((s) => s.clip).length, 1);
  dev.send("write_aux", 1);
  const names = live.tracks[0].slots.filter((s) => s.clip).map((s) => s.clip.props.name);
  assert.deepEqual(names, ["agvae2 v1 t1.0", "agvae2 v1 t1.0 aux score", "agvae2 v1 t1.0 aux groove"]);
  assert.equal(live.tracks[0].slots[1].clip.notes.length, 8);
});

test("state saved with the Set restores on load; pattr's echo of a save is not a restore", () => {
  const { dev } = started({ slots: 4 });
  dev.send("cell", 3, 31, 1);
  dev.send("accent", 2, 1);
  dev.send("inpitch", 60);
  dev.send("inclass", 0);
  const saved = dev.sent(4).pop();
  const fresh = loadDevice(new FakeLive());
  fresh.send("restore", ...saved);
  assert.equal(fresh.ctx.state.score[3], 1 << 31);
  assert.equal(fresh.ctx.state.accents, 4);
  assert.equal(fresh.ctx.state.inputOverride[60], 0);
  fresh.send("restore", 2, 1, 2, 3);
  assert.match(fresh.status(), /the saved state is from another version of the device: not restored/);
  assert.equal(fresh.ctx.state.accents, 4);
});

test("every Live Object Model member the device touched is one the LOM documents", () => {
  const { live, dev } = connected({ slots: 4 }, (l) => l.addDrumRack(l.track(0), MOVED_KIT));
  live.putClip(1, 0, [note(36, 0, 100)]);
  live.detail = [1, 0];
  live.highlighted = [0, 0];
  dev.send("capture", "score", 1);
  dev.send("record_taps", 1);
  dev.tick();
  dev.send("variations", 1);
  dev.send("generate", 1);
  reply(dev);
  const used = [...live.used].sort();
  for (const m of ["ClipSlot.create_clip", "Clip.add_new_notes", "Clip.get_notes_extended", "Clip.is_midi_clip",
    "DrumPad.chains", "DrumPad.name", "DrumPad.note", "RackDevice.drum_pads", "Track.current_monitoring_state",
    "RackDevice.can_have_drum_pads", "RackDevice.type", "Song.current_song_time", "Song.View.detail_clip"]) {
    assert.ok(used.includes(m), `${m} in ${used.join(" ")}`);
  }
});

// ------------------------------------------------------------------ scenarios: the Set changes while a request is out

const clipsOn = (live, track) => live.track(track).children.clip_slots.map((s) => (s.children.clip ? s.children.clip.props.name : null));

test("a track inserted to the left while a request is out: the clips still land on the device's track", () => {
  const { live, dev } = connected({ tracks: 2, slots: 4 });
  live.highlighted = [0, 0];
  dev.send("variations", 2);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  const device = live.track(0);
  live.insertTrack(0);   // "live_set tracks 0" is now the new track
  reply(dev);
  assert.equal(live.track(1), device);
  assert.deepEqual(clipsOn(live, 0), [null, null, null, null]);
  assert.deepEqual(clipsOn(live, 1), [null, "agvae2 v1 t1.0", "agvae2 v2 t1.0", null]);
  assert.match(dev.status(), /2 variations written/);
});

test("tracks moved and a scene inserted above the selected slot mid-request: by id, not by position", () => {
  const { live, dev } = connected({ tracks: 3, slots: 4 });
  live.putClip(1, 0, [note(36, 0, 100)], { name: "theirs" });
  live.highlighted = [0, 1];
  dev.send("variations", 1);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  const device = live.track(0);
  live.moveTrack(0, 2);
  live.insertScene(0);
  reply(dev);
  assert.equal(live.track(2), device);
  assert.deepEqual(clipsOn(live, 2), [null, null, null, "agvae2 v1 t1.0", null]);   // below the selected slot, now 2
  assert.deepEqual(clipsOn(live, 0), [null, "theirs", null, null, null]);
});

test("between Capture and Generate a track is inserted: the request targets the device's track as it is now", () => {
  const { live, dev } = connected({ tracks: 2, slots: 3 });
  live.putClip(1, 0, [note(36, 0, 100)]);
  live.detail = [1, 0];
  dev.send("capture", "score", 1);
  live.insertTrack(0);
  dev.send("variations", 1);
  dev.send("generate", 1);
  reply(dev);
  assert.deepEqual(clipsOn(live, 0), [null, null, null]);
  assert.deepEqual(clipsOn(live, 1), ["agvae2 v1 t1.0", null, null]);
  assert.deepEqual(clipsOn(live, 2), ["user clip", null, null], "the captured clip is untouched");
});

test("the target deleted while a request is out: nothing is written and the status says so", () => {
  let r = connected({ tracks: 2, slots: 4 });
  r.live.highlighted = [0, 1];
  r.dev.send("cell", 0, 0, 1);
  r.dev.send("generate", 1);
  r.live.deleteScene(1);
  reply(r.dev);
  assert.match(r.dev.status(), /not written: the selected clip slot was deleted/);
  assert.deepEqual(r.live.calls, []);

  r = connected({ tracks: 2, slots: 4 });
  r.dev.send("cell", 0, 0, 1);
  r.dev.send("generate", 1);
  r.live.deleteTrack(0);
  reply(r.dev);
  assert.match(r.dev.status(), /not written: the track this request was for was deleted/);
  assert.deepEqual(r.live.calls, []);
  assert.deepEqual(clipsOn(r.live, 0), [null, null, null, null]);
});

test("a clip the user puts in a chosen slot while a request is out is never overwritten", () => {
  const { live, dev } = connected({ tracks: 1, slots: 4 });
  dev.send("variations", 2);
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  const mine = live.putClip(0, 0, [note(38, 1, 90)], { name: "mine" });
  reply(dev);
  assert.equal(live.track(0).children.clip_slots[0].children.clip, mine);
  assert.deepEqual(clipsOn(live, 0), ["mine", "agvae2 v1 t1.0", "agvae2 v2 t1.0", null]);
});

// ------------------------------------------------------------------ scenarios: taps, waits, loading

test("taps while stopped are not recorded; the status says what is needed and what was captured", () => {
  const { live, dev } = started();
  live.song.props.current_song_time = 6;
  dev.send("record_taps", 1);
  assert.match(dev.status(), /^arm this track .*; then press play to record 2 bars of taps from beat 8/);
  dev.send("tap", 36, 100, 8 * 480);   // stopped: [when] reports the stopped position
  dev.send("tap", 38, 100, 8 * 480);
  assert.match(dev.status(), /taps are recorded only while Live plays: press play \(recording starts at beat 8\)/);
  live.track(0).props.arm = 1;
  live.setTransport({ is_playing: 1 });   // Live notifies the observer at once: no wait for the next check
  dev.send("tap", 36, 90, 8 * 480 + 12);
  dev.send("tap", 42, 127, 9 * 480);
  live.setTransport({ current_song_time: 16.1 });
  dev.tick();
  assert.equal(dev.ctx.state.groove.mask, 1 | (1 << 4));
  assert.match(dev.status(), /recorded 2 taps from beat 8 into the groove: 2 of 32 steps hit .*; 2 taps while stopped ignored/);
  assert.equal(dev.ctx.taps, null);
  assert.equal(live.observers.filter((o) => o.node === live.song).length, 0, "the transport is no longer observed");
});

test("taps: monitoring Off says so; a count-in counts only a tap just before the first beat; no taps leaves the groove", () => {
  const { live, dev } = started();
  live.track(0).props.current_monitoring_state = 2;
  dev.send("record_taps", 1);
  assert.match(dev.status(), /^set this track's monitoring to In or Auto \(it is Off/);
  live.track(0).props.current_monitoring_state = 0;   // In: no need to arm
  live.setTransport({ is_counting_in: 1 });
  dev.send("tap", 36, 100, -480);          // a beat before: counted in, not recorded
  dev.send("tap", 38, 110, -0.1 * 480);    // a hair early on the first beat: an early step 0
  live.setTransport({ is_counting_in: 0, is_playing: 1 });
  dev.send("tap", 42, 80, 2 * 480);
  live.setTransport({ current_song_time: 8.05 });
  dev.tick();
  const g = dev.ctx.state.groove;
  assert.equal(g.mask, 1 | (1 << 8));
  assert.ok(Math.abs(g.offsets[0] + 0.8) < 1e-9);
  assert.match(dev.status(), /recorded 2 taps from beat 0/);

  dev.send("record_taps", 1);   // again, from the next bar line (12), nothing tapped this time
  live.setTransport({ current_song_time: 20 });
  dev.tick();
  assert.match(dev.status(), /^no taps arrived in the 2 bars from beat 12: tap the pads .*; the groove is unchanged/);
  assert.equal(dev.ctx.state.groove.mask, g.mask);
});

test("taps: armed while Live counts in, a tap just before the first beat counts", () => {
  const { live, dev } = started();
  live.track(0).props.current_monitoring_state = 0;
  live.setTransport({ is_counting_in: 1 });
  dev.send("record_taps", 1);
  dev.send("tap", 38, 110, -0.1 * 480);    // a hair early on the first beat: an early step 0
  assert.doesNotMatch(dev.status(), /only while Live plays/);
  live.setTransport({ is_counting_in: 0, is_playing: 1 });
  live.setTransport({ current_song_time: 8.05 });
  dev.tick();
  assert.equal(dev.ctx.state.groove.mask, 1);
  assert.match(dev.status(), /recorded 1 taps from beat 0/);
});

test("a server that never answers Generate: the wait ends with a message, and later replies are ignored", () => {
  const { live, dev } = connected({ slots: 4 });
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  assert.match(dev.status(), /^generating/);
  dev.tick();
  assert.match(dev.status(), /^generating/, "not before the timeout");
  dev.ctx.pending.t0 -= 21000;
  dev.tick();
  assert.match(dev.status(), /^no answer to Generate within 20 s \(server port 9010, replies to port \d+\): nothing written\. Press Generate again\./);
  reply(dev);   // the late answer
  assert.deepEqual(live.calls, []);
});

test("while the launcher starts the server there is no 'no server'; Generate says to wait", () => {
  const { dev } = started();
  dev.send("launcher", "status", "starting beatguide serve on port 9010 ...");
  for (let s = 0; s < 10; s++) {   // 20 s of heartbeats, the launcher repeating its progress
    dev.ctx.server.since -= 2000;
    dev.ctx.launcherSaidMs -= 2000;
    dev.send("launcher", "status", `starting beatguide serve on port 9010 ... (${2 * s + 2} s)`);
    dev.tick();
    assert.match(dev.status(), /^server: starting/);
  }
  dev.send("generate", 1);
  assert.match(dev.status(), /^no server yet \(starting beatguide serve on port 9010 \.\.\. \(20 s\)\): press Generate once this line says `server: ready`/);
  dev.send("capture", "score", 1);   // a message of its own: "busy" keeps the launcher's word, not the line
  for (let s = 0; s < 5; s++) {
    dev.ctx.server.since -= 2000;
    dev.ctx.launcherSaidMs -= 2000;
    dev.send("launcher", "busy");
    dev.tick();
  }
  assert.match(dev.status(), /^select a MIDI clip/);
  dev.ctx.launcherSaidMs -= 6000;   // the launcher fell silent: now the device says it
  dev.tick();
  assert.match(dev.status(), /^no server answers/);
});

test("loading a Set leaves it unmodified: nothing is stored on load, the first pong or the launcher's port", () => {
  const live = new FakeLive();
  const dev = loadDevice(live);
  const saved = dev.ctx.bgEmptyState();
  saved.score[0] = 5;
  dev.send("restore", ...dev.ctx.bgStateToList(saved));
  dev.send("bang");
  pong(dev);
  dev.send("launcher", "port", 9020);
  dev.tick();
  pong(dev);
  assert.deepEqual(dev.sent(4), [], "no state stored");
  assert.equal(dev.ctx.state.model, "agvae11", "the default model is used");
  assert.deepEqual(dev.sent(0).filter((m) => m[0] === "port").pop(), ["port", 9020]);
  dev.send("model", 1);   // the producer's choice is stored
  assert.equal(dev.sent(4).length, 1);
});

test("the Read pitch box shows the pitch the input-map menu edits from the start", () => {
  const { dev } = started();
  assert.equal(dev.ui("bg_inpitch").shown, SPEC.pitches.output[0]);
});

test("an empty Drum Rack is the Drum Rack: it says so, is watched, and is read once it holds samples", () => {
  let rack;
  const { live, dev } = started({}, (l) => { rack = l.addDrumRack(l.track(0), {}, "New Kit"); });
  assert.equal(dev.ctx.rack.name, "New Kit");
  assert.match(dev.status(), /Drum Rack 'New Kit' is empty: drop samples on its pads/);
  live.fillPad(rack, 40, "Kick Big");
  dev.settle();
  assert.equal(dev.ctx.kit.lanes[lane("kick")].note, 40);
  assert.match(dev.status(), /Drum Rack 'New Kit': 1 lanes by pad name/);
});

test("each device has its own reply port, automatic unless typed, never saved as automatic", () => {
  const a = started().dev;
  const b = started().dev;
  const portOf = (dev) => dev.sent(1).pop()[1];
  assert.notEqual(portOf(a), portOf(b));
  assert.ok(portOf(a) >= 49152 && portOf(a) <= 65535);
  assert.deepEqual(a.sent(5).slice(-1), [["reply_port"]], "asks the launcher for a free port");
  a.send("launcher", "reply_port", 50123);
  assert.equal(portOf(a), 50123);
  assert.equal(a.ui("bg_reply_port").shown, 50123);
  a.send("cell", 0, 0, 1);   // saved: the reply port stays automatic (0) in the Set
  assert.equal(a.sent(4).pop()[a.ctx.BG_STATE_LAYOUT.findIndex((f) => f.name === "reply_port")], 0);
  const ping = a.sent(0).filter((m) => m[0] === A.ping).pop();
  a.tick();
  assert.equal(a.sent(0).filter((m) => m[0] === A.ping).pop()[2], 50123, "pings carry the port in use");
  assert.notEqual(ping, undefined);
  a.send("reply_port", 9111);   // typed: used and saved
  assert.equal(portOf(a), 9111);
  a.send("launcher", "reply_port", 50200);   // the launcher's port does not override a typed one
  assert.equal(portOf(a), 9111);
  a.send("reply_port", 0);   // automatic again
  assert.deepEqual(a.sent(5).pop(), ["reply_port"]);
});

test("a stroke on the grid is saved once, when the mouse is released: one undo step per drag", () => {
  const { dev } = started();
  const before = dev.sent(4).length;
  dev.send("stroke", 1);
  for (let s = 0; s < 16; s++) dev.send("cell", 0, s, 1);
  dev.send("accent", 3, 1);
  assert.equal(dev.sent(4).length, before, "nothing saved while painting");
  assert.equal(dev.ctx.state.score[0], 0xffff, "the drawing is shown at once");
  dev.send("stroke", 0);
  assert.equal(dev.sent(4).length, before + 1);
  dev.send("stroke", 1);
  dev.send("stroke", 0);   // a press that painted nothing saves nothing
  assert.equal(dev.sent(4).length, before + 1);
  dev.send("cell", 1, 0, 1);   // a cell outside a stroke (not from the mouse) is saved at once
  assert.equal(dev.sent(4).length, before + 2);
});

test("a free reply port from the launcher waits while a request is out (its replies come to the port it named)", () => {
  const { dev } = connected({ slots: 4 });
  const portOf = () => dev.sent(1).pop()[1];
  const before = portOf();
  dev.send("cell", 0, 0, 1);
  dev.send("generate", 1);
  dev.send("launcher", "reply_port", 50321);
  assert.equal(portOf(), before, "kept while Generate waits");
  dev.ctx.pending = null;
  dev.send("launcher", "reply_port", 50321);
  assert.equal(portOf(), 50321);
});
