// beatguide.js in a Max js sandbox against a Live Object Model stand-in.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { FakeLive, loadDevice } = require("./helpers.js");

const plain = (x) => JSON.parse(JSON.stringify(x));
const note = (pitch, start, velocity) => ({ pitch, start_time: start, velocity });

function started(options) {
  const live = new FakeLive(options);
  const dev = loadDevice(live);
  dev.send("bang");   // live.thisdevice: the device is loaded
  return { live, dev };
}

// Plays the server's side of the last generate request: `per` notes per variation, then done.
function reply(dev, { per = 3, total } = {}) {
  const req = dev.sent(0).filter((m) => m[0] === "/bg/generate").pop();
  const id = req[1];
  const variations = req[4];
  let count = 0;
  for (let v = 0; v < variations; v++) {
    const args = [id, v, 0];
    for (let k = 0; k < per; k++) args.push(k % 9, k * 0.5, 0.2, 100);
    count += per;
    dev.send("/bg/notes", ...args);
    dev.send("/bg/aux_score", id, v, 0x11111111, 0, 0, 0, 0, 0, 0, 0, 0);
    dev.send("/bg/aux_groove", id, v, 1, ...new Array(32).fill(0.5), ...new Array(32).fill(0));
  }
  dev.send("/bg/done", id, variations, total === undefined ? count : total, 10.5, 111, 222);
  return req;
}

test("LiveAPI is created only after the live.thisdevice bang; the heartbeat pings", () => {
  const live = new FakeLive();
  let created = 0;
  const Orig = live.liveAPIClass();
  live.liveAPIClass = () => function (cb, p) { created++; return new Orig(cb, p); };
  const dev = loadDevice(live);
  dev.send("generate", 1);
  dev.send("capture", "score", 1);
  assert.equal(created, 0);
  dev.send("bang");
  assert.ok(created > 0);
  assert.equal(dev.tasks.length, 1);
  assert.equal(dev.tasks[0].interval, 2000);
  assert.equal(dev.sent(0).filter((m) => m[0] === "/bg/ping").length, 1);
  assert.match(dev.status(), /server not running: start it with `beatguide serve`/);
});

test("a drawn clip is read into the score through the input map", () => {
  const { live, dev } = started();
  live.putClip(1, 0, [note(36, 0, 100), note(36, 2, 100), note(38, 1, 90), note(38, 3, 90), note(42, 0.5, 80)]);
  live.detail = [1, 0];
  dev.send("capture", "score", 1);
  const score = plain(dev.ctx.state.score);
  assert.deepEqual(score, [1 | (1 << 8), (1 << 4) | (1 << 12), 1 << 2, 0, 0, 0, 0, 0, 0]);
  const view = dev.sent(2).filter((m) => m[0] === "score").pop();
  assert.deepEqual(view.slice(1), score);
  assert.match(dev.status(), /captured the score of 'user clip'/);
  assert.equal(dev.sent(4).length > 0, true, "the state is saved");
});

test("a tapped clip is read into the groove (loudest note per step, any pitch)", () => {
  const { live, dev } = started();
  live.putClip(0, 2, [note(60, 0.03, 127), note(61, 0.0, 40), note(60, 1.02, 64), note(60, 7.95, 90)]);
  live.detail = [0, 2];
  dev.send("capture", "groove", 1);
  const g = dev.ctx.state.groove;
  assert.equal(g.mask, 1 | (1 << 4));
  assert.equal(g.velocities[0], 1);
  assert.ok(Math.abs(g.offsets[0] - 0.24) < 1e-9);
  assert.ok(Math.abs(g.offsets[4] - 0.16) < 1e-9);
});

test("capture without a selected clip says what to do", () => {
  const { dev } = started();
  dev.send("capture", "accents", 1);
  assert.match(dev.status(), /select a MIDI clip/);
});

test("generate sends the 93-argument request and writes variations into empty slots only", () => {
  const { live, dev } = started({ slots: 6 });
  const user = live.putClip(0, 2, [note(36, 0, 100)], { name: "mine" });
  live.highlighted = [0, 0];
  dev.send("cell", 0, 0, 1);
  dev.send("cell", 1, 4, 1);
  dev.send("model", 3);
  dev.send("lanemode", 2, 2);
  dev.send("temperature", 0.8);
  dev.send("generate", 1);
  const req = reply(dev);
  assert.equal(req[0], "/bg/generate");
  assert.equal(req.length - 1, 93);
  assert.deepEqual(req.slice(3, 10), ["agvae11", 4, 0.8, 0, -1, -1, 1]);
  assert.equal(req[10], 1);
  assert.equal(req[11], 1 << 4);
  assert.equal(req[19 + 2], 2);
  const slots = live.tracks[0].slots;
  assert.equal(slots[0].clip, null, "the selected slot itself is left alone");
  assert.deepEqual([1, 3, 4, 5].map((i) => slots[i].clip.name),
    ["agvae11 v1 t0.8", "agvae11 v2 t0.8", "agvae11 v3 t0.8", "agvae11 v4 t0.8"]);
  assert.equal(slots[1].clip.looping, 1);
  assert.equal(slots[1].clip.length, 8);
  assert.deepEqual(slots[1].clip.notes.map((n) => n.pitch), [36, 38, 42]);
  assert.equal(slots[2].clip, user);
  assert.deepEqual(user.notes.map((n) => n.pitch), [36]);
  assert.ok(!live.calls.some((c) => c[0].startsWith("live_set tracks 0 clip_slots 2")), "the user's clip is never touched");
  assert.match(dev.status(), /4 variations written/);
  assert.deepEqual(plain(dev.sent(2).filter((m) => m[0] === "ghost").pop().slice(1)), [0x11111111, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test("not enough empty slots: nothing is written, existing clips untouched, a clear message", () => {
  const { live, dev } = started({ slots: 4 });
  live.putClip(0, 1, [note(36, 0, 100)]);
  live.putClip(0, 3, [note(38, 0, 100)]);
  dev.send("variations", 3);
  dev.send("generate", 1);
  reply(dev);
  assert.equal(live.tracks[0].slots[0].clip, null);
  assert.equal(live.tracks[0].slots[2].clip, null);
  assert.equal(live.calls.filter((c) => c[1] !== "get_notes_extended").length, 0);
  assert.match(dev.status(), /not written: 3 clips need 3 empty slots below slot 0, only 2 free/);
});

test("no free slot at all", () => {
  const { live, dev } = started({ slots: 2 });
  live.putClip(0, 0, []);
  live.putClip(0, 1, []);
  dev.send("variations", 1);
  dev.send("generate", 1);
  reply(dev);
  assert.deepEqual(live.calls, []);
  assert.match(dev.status(), /only 0 free/);
});

test("a lost notes datagram is reported and nothing is written", () => {
  const { live, dev } = started();
  dev.send("variations", 2);
  dev.send("generate", 1);
  reply(dev, { total: 7 });
  assert.deepEqual(live.calls, []);
  assert.match(dev.status(), /lost notes: received 6 of 7/);
});

test("regenerate: new hit seed, locked latents keep the seeds from /bg/done", () => {
  const { dev } = started({ slots: 16 });
  dev.send("seed", 5);
  dev.send("variations", 2);
  dev.send("generate", 1);
  reply(dev);
  dev.send("lock_groove", 1);
  dev.send("regenerate", 1);
  const req = dev.sent(0).filter((m) => m[0] === "/bg/generate").pop();
  assert.deepEqual(req.slice(6, 9), [7, -1, 222]);
  dev.send("lock_score", 1);
  reply(dev);
  dev.send("regenerate", 1);
  assert.deepEqual(dev.sent(0).filter((m) => m[0] === "/bg/generate").pop().slice(6, 9), [9, 111, 222]);
});

test("aux reconstructions are written only on request", () => {
  const { live, dev } = started({ slots: 16 });
  dev.send("variations", 1);
  dev.send("generate", 1);
  reply(dev);
  assert.equal(live.tracks[0].slots.filter((s) => s.clip).length, 1);
  dev.send("write_aux", 1);
  const names = live.tracks[0].slots.filter((s) => s.clip).map((s) => s.clip.name);
  assert.deepEqual(names, ["agvae2 v1 t1.0", "agvae2 v1 t1.0 aux score", "agvae2 v1 t1.0 aux groove"]);
  assert.equal(live.tracks[0].slots[1].clip.notes.length, 8);
});

test("server replies: pong shows connection, error shows the text, stale replies are ignored", () => {
  const { live, dev } = started();
  const ping = dev.sent(0).find((m) => m[0] === "/bg/ping");
  dev.send("/bg/pong", ping[1], 1, 2, "agvae2", "baseline");
  assert.match(dev.status(), /connected \(\d+ ms round trip\), models: agvae2 baseline/);
  dev.send("generate", 1);
  const id = dev.sent(0).pop()[1];
  dev.send("/bg/error", id, "no_input", "agvae2 needs a score or a groove");
  assert.match(dev.status(), /server error no_input: agvae2 needs a score or a groove/);
  dev.send("/bg/done", id, 1, 0, 1, 0, 0);
  assert.deepEqual(live.calls, []);
});

test("state saved with the set restores on load; input map and output pitches editable", () => {
  const { live, dev } = started({ slots: 4 });
  dev.send("cell", 3, 31, 1);
  dev.send("accent", 2, 1);
  dev.send("inpitch", 60);
  dev.send("inclass", 0);
  const saved = dev.sent(4).pop();
  const fresh = loadDevice(new FakeLive()).ctx;
  fresh.restore(...saved);
  assert.equal(fresh.state.score[3], 1 << 31);
  assert.equal(fresh.state.accents, 4);
  assert.equal(fresh.state.inputMap[60], 0);
  dev.send("outpitch", 0, 37);
  live.putClip(0, 0, [note(60, 0, 100)]);
  live.detail = [0, 0];
  dev.send("capture", "score", 1);
  assert.equal(dev.ctx.state.score[0], 1);
  dev.send("variations", 1);
  dev.send("generate", 1);
  reply(dev, { per: 1 });
  assert.equal(live.tracks[0].slots[1].clip.notes[0].pitch, 37);
});

test("tap recording: 2 bars from the next bar line while the transport plays", () => {
  const { live, dev } = started();
  live.song.current_song_time = 2.5;
  dev.send("record_taps", 1);
  live.song.is_playing = 1;
  live.song.current_song_time = 3.9;   // just before the bar line: step 0, a bit early
  dev.send("tap", 36, 100);
  live.song.current_song_time = 5.0;
  dev.send("tap", 40, 0);             // note-off: ignored
  dev.send("tap", 40, 127);
  live.song.current_song_time = 12.2;   // past the 2 bars
  dev.tasks[0].fn();
  const g = dev.ctx.state.groove;
  assert.equal(g.mask, 1 | (1 << 4));
  assert.ok(Math.abs(g.offsets[0] + 0.8) < 1e-9);
  assert.equal(g.velocities[4], 1);
  assert.match(dev.status(), /recorded 2 taps/);
});
