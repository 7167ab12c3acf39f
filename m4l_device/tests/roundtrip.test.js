// A full round trip: the device's messages go as OSC over UDP to a real `beatguide serve`, and its
// replies come back into the device as [udpreceive] would pass them.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const dgram = require("node:dgram");
const fs = require("node:fs");
const path = require("node:path");
const { spawn } = require("node:child_process");
const { FakeLive, loadDevice, encodeOSC, decodeOSC } = require("./helpers.js");
const { BG_MODELS } = require("../bg_core.js");

const ROOT = path.resolve(__dirname, "..", "..");
const BEATGUIDE = process.env.BG_BEATGUIDE || path.join(ROOT, ".venv", "bin", "beatguide");
const MODELS = process.env.BG_MODELS_DIR || path.join(ROOT, "models");
const SERVER_START_S = 60;

function skipReason() {
  if (!fs.existsSync(BEATGUIDE)) return `no ${BEATGUIDE} (set BG_BEATGUIDE)`;
  if (!fs.existsSync(MODELS) || fs.readdirSync(MODELS).filter((f) => !f.startsWith(".")).length === 0) {
    return `no models in ${MODELS} (train/export them, or set BG_MODELS_DIR)`;
  }
  return null;
}

function freePort() {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("round trip against beatguide serve over UDP", { skip: skipReason() || false, timeout: 120000 }, async (t) => {
  const serverPort = await freePort();
  const replyPort = await freePort();
  const server = spawn(BEATGUIDE, ["serve", "--port", String(serverPort), "--models", MODELS], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  server.stdout.on("data", (d) => { log += d; });
  server.stderr.on("data", (d) => { log += d; });
  let exited = null;
  server.on("exit", (code) => { exited = code; });
  const sock = dgram.createSocket("udp4");
  t.after(() => { server.kill(); sock.close(); });
  await new Promise((r) => sock.bind(replyPort, "127.0.0.1", r));

  const live = new FakeLive({ slots: 8 });
  const dev = loadDevice(live, (n, message) => {
    if (n === 0 && String(message[0]).startsWith("/")) {
      sock.send(encodeOSC(message[0], message.slice(1)), serverPort, "127.0.0.1");
    }
  });
  const replies = [];
  let pongModels = [];
  sock.on("message", (buf) => {
    const { address, args } = decodeOSC(buf);
    replies.push(address);
    if (address === "/bg/pong") pongModels = args.slice(3);
    dev.send(address, ...args);
  });
  dev.send("send_port", serverPort);
  dev.send("reply_port", replyPort);
  dev.send("bang");

  const deadline = Date.now() + SERVER_START_S * 1000;
  while (!replies.includes("/bg/pong")) {
    if (exited !== null) {
      t.skip(`beatguide serve is not available yet (exit ${exited}): ${log.trim().split("\n").pop()}`);
      return;
    }
    assert.ok(Date.now() < deadline, `no /bg/pong within ${SERVER_START_S} s:\n${log}`);
    await sleep(300);
    dev.tasks[0].fn();   // the heartbeat Task
  }
  assert.match(dev.status(), /connected/);
  const model = pongModels.includes("agvae2") ? "agvae2" : pongModels[0];
  dev.send("model", BG_MODELS.indexOf(model));

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
  dev.send("capture", "accents", 1);
  dev.send("variations", 2);
  dev.send("temperature", 0.9);
  dev.send("generate", 1);

  const until = Date.now() + 30000;
  while (!replies.includes("/bg/done") && !replies.includes("/bg/error")) {
    assert.ok(Date.now() < until, `no /bg/done within 30 s; got ${replies.join(" ")}\n${log}`);
    await sleep(50);
  }
  assert.ok(!replies.includes("/bg/error"), dev.status());
  assert.match(dev.status(), /2 variations written/);
  const slots = live.tracks[0].slots;
  assert.equal(slots[1].clip, existing);
  assert.equal(existing.notes.length, 1);
  const output = new Set([36, 38, 42, 46, 45, 48, 50, 49, 51]);
  for (const [i, v] of [[0, 1], [2, 2]]) {
    const clip = slots[i].clip;
    assert.equal(clip.name, `${model} v${v} t0.9`);
    assert.equal(clip.looping, 1);
    assert.ok(clip.notes.length > 0);
    for (const n of clip.notes) {
      assert.ok(output.has(n.pitch), `pitch ${n.pitch}`);
      assert.ok(n.start_time >= 0 && n.start_time < 8 && n.velocity >= 1 && n.velocity <= 127);
    }
  }
});
