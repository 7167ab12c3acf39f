// A full round trip: the device's messages go as OSC over UDP to a real `beatguide serve`, and its
// replies come back into the device as [udpreceive] would pass them. A server that exits or never
// answers fails the test: it is the device's only way to a model.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("node:dgram");
const { FakeLive, loadDevice, load, encodeOSC, decodeOSC, startServer } = require("./helpers.js");

const SPEC = load("bg_spec.js");
const A = SPEC.addresses;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function bound(sock) {
  return new Promise((resolve) => sock.bind(0, "127.0.0.1", () => resolve(sock.address().port)));
}

test("round trip against beatguide serve over UDP", { timeout: 120000 }, async (t) => {
  const { server, port, log } = await startServer(t);
  let exited = null;
  server.on("exit", (code) => { exited = code; });
  const sock = dgram.createSocket("udp4");
  t.after(() => sock.close());
  const replyPort = await bound(sock);

  const live = new FakeLive({ slots: 8 });
  live.addDrumRack(live.track(0), { 36: "Kick", 38: "Snare", 42: "Closed Hat", 46: "Open Hat", 49: "Crash", 51: "Ride" });
  const dev = loadDevice(live, (n, message) => {
    if (n === 0 && String(message[0]).startsWith("/")) sock.send(encodeOSC(message[0], message.slice(1)), port, "127.0.0.1");
  });
  const replies = [];
  sock.on("message", (buf) => {
    const { address, args } = decodeOSC(buf);
    replies.push(address);
    dev.send(address, ...args);
  });
  dev.send("restore", ...(() => {   // the Set saved these ports
    const st = dev.ctx.bgEmptyState();
    st.sendPort = port;
    st.replyPort = replyPort;
    return dev.ctx.bgStateToList(st);
  })());
  dev.send("bang");
  const until = Date.now() + 10000;
  while (!replies.includes(A.pong)) {
    assert.equal(exited, null, `beatguide serve exited (${exited}):\n${log()}`);
    assert.ok(Date.now() < until, `no ${A.pong} within 10 s:\n${log()}`);
    await sleep(100);
    dev.tick();   // the heartbeat
  }
  assert.match(dev.status(), /connected/);
  const models = dev.ctx.server.models;
  assert.ok(models.length > 0, "the server loaded models");
  // a model that takes a score and a groove, chosen by what it says it takes
  const pick = models.findIndex((m) => m.caps && m.caps.gestures.includes("groove") &&
    (m.caps.gestures.includes("score") || m.caps.gestures.includes("lanes")));
  assert.ok(pick >= 0, JSON.stringify(models));
  dev.send("model", pick);
  const model = models[pick].name;

  // A drawn beat for the score, a tapped clip for the groove.
  const beat = [];
  for (let s = 0; s < 32; s++) {
    if (s % 8 === 0) beat.push({ pitch: 36, start_time: s / 4, velocity: 100 });
    if (s % 8 === 4) beat.push({ pitch: 38, start_time: s / 4, velocity: 100 });
    if (s % 2 === 0) beat.push({ pitch: 42, start_time: s / 4, velocity: 80 });
  }
  live.putClip(1, 0, beat, { name: "drawn" });
  live.putClip(1, 1, Array.from({ length: 16 }, (_, k) => ({ pitch: 60, start_time: k / 2 + 0.02, velocity: k % 4 ? 70 : 120 })));
  const existing = live.putClip(0, 1, [{ pitch: 36, start_time: 0, velocity: 100 }], { name: "keep me" });
  live.detail = [1, 0];
  dev.send("capture", "score", 1);
  live.detail = [1, 1];
  dev.send("capture", "groove", 1);
  dev.send("lanemode", 3, SPEC.lane_modes.indexOf("empty"));   // no open hat
  dev.send("variations", 2);
  dev.send("temperature", 0.9);
  dev.send("generate", 1);
  assert.match(dev.status(), /generating 2 x/);

  const deadline = Date.now() + 30000;
  while (!replies.includes(A.done) && !replies.includes(A.error)) {
    assert.equal(exited, null, `beatguide serve exited (${exited}):\n${log()}`);
    assert.ok(Date.now() < deadline, `no ${A.done} within 30 s; got ${replies.join(" ")}\n${log()}`);
    await sleep(50);
  }
  assert.ok(!replies.includes(A.error), dev.status());
  assert.match(dev.status(), /2 variations written/);
  const slots = live.tracks[0].slots;
  assert.equal(slots[1].clip, existing);
  assert.equal(existing.notes.length, 1);
  const output = new Set(dev.ctx.bgOutputPitches(dev.ctx.kit));
  for (const [i, v] of [[0, 1], [2, 2]]) {
    const clip = slots[i].clip;
    assert.equal(clip.props.name, `${model} v${v} t0.9`);
    assert.equal(clip.props.looping, 1);
    assert.ok(clip.notes.length > 0);
    for (const n of clip.notes) {
      assert.ok(output.has(n.pitch), `pitch ${n.pitch}`);
      assert.notEqual(n.pitch, 46, "the open hat lane was set empty");
      assert.ok(n.start_time >= 0 && n.start_time < SPEC.grid.loop_beats && n.velocity >= 1 && n.velocity <= 127);
    }
  }
});
